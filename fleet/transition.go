package fleet

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Aspect is what a transition is about: one of an instance's drift, sync or health, or a
// cluster's reachability.
type Aspect string

// Aspects, in the order transitions of one instance are listed.
const (
	AspectReachability Aspect = "reachability"
	AspectDrift        Aspect = "drift"
	AspectSync         Aspect = "sync"
	AspectHealth       Aspect = "health"
)

func aspectRank(a Aspect) int {
	switch a {
	case AspectReachability:
		return 0
	case AspectDrift:
		return 1
	case AspectSync:
		return 2
	}
	return 3
}

// TransitionKind names a change of state worth telling someone about. Each aspect has a
// problem kind (the state went bad) and a good kind (it came back).
type TransitionKind string

// Transition kinds.
const (
	TransitionDriftAppeared TransitionKind = "drift-appeared" // an image or field differs from git, or `latest` is used
	TransitionDriftCleared  TransitionKind = "drift-cleared"
	TransitionOutOfSync     TransitionKind = "out-of-sync"
	TransitionSynced        TransitionKind = "synced"
	TransitionDegraded      TransitionKind = "degraded" // Degraded or Missing, the instance's or a workload's
	TransitionRecovered     TransitionKind = "recovered"
	TransitionUnreachable   TransitionKind = "unreachable" // the cluster does not answer
	TransitionReachable     TransitionKind = "reachable"
)

// Aspect is the aspect the kind belongs to.
func (k TransitionKind) Aspect() Aspect {
	switch k {
	case TransitionDriftAppeared, TransitionDriftCleared:
		return AspectDrift
	case TransitionOutOfSync, TransitionSynced:
		return AspectSync
	case TransitionDegraded, TransitionRecovered:
		return AspectHealth
	}
	return AspectReachability
}

// Problem reports whether the kind is a state going bad (drift appeared, out of sync,
// degraded, unreachable) rather than coming back.
func (k TransitionKind) Problem() bool {
	switch k {
	case TransitionDriftAppeared, TransitionOutOfSync, TransitionDegraded, TransitionUnreachable:
		return true
	}
	return false
}

// transitionKinds maps an aspect to its (good, bad) kinds.
var transitionKinds = map[Aspect][2]TransitionKind{
	AspectReachability: {TransitionReachable, TransitionUnreachable},
	AspectDrift:        {TransitionDriftCleared, TransitionDriftAppeared},
	AspectSync:         {TransitionSynced, TransitionOutOfSync},
	AspectHealth:       {TransitionRecovered, TransitionDegraded},
}

// KindOf is the kind of a transition of aspect a into a bad (true) or good state.
func KindOf(a Aspect, bad bool) TransitionKind {
	if bad {
		return transitionKinds[a][1]
	}
	return transitionKinds[a][0]
}

// StateKey names one aspect of one instance, or a cluster's reachability (App empty).
type StateKey struct {
	App     string
	Cluster string
	Aspect  Aspect
}

func (k StateKey) String() string {
	if k.App == "" {
		return k.Cluster + " " + string(k.Aspect)
	}
	return k.App + " on " + k.Cluster + " " + string(k.Aspect)
}

// AspectState is the known state of one aspect: whether it is a problem, how it reads, and
// what explains it.
type AspectState struct {
	Bad bool
	// Label is how the state reads: "Synced", "OutOfSync", "Healthy", "Degraded", "synced",
	// "unreachable"; for drift the drifting tags ("1.4.0→hotfix-1", "latest", "2 fields") or
	// "none".
	Label string
	// Reason says why: the sync reason, the health message or worst failing workload, the
	// cluster's error.
	Reason    string
	Namespace string
	Severity  Severity
	// Images are the images that drift or use `latest` (drift only); Fields the other fields
	// that differ from git.
	Images []ImageState
	Fields []FieldDiff
}

// States is what a model says for certain about every aspect it can judge. An aspect that
// cannot be judged (the cluster is unreachable or still connecting, sync or health Unknown,
// git not read yet) has no entry: it is neither a problem nor fine.
type States map[StateKey]AspectState

// StatesOf reads the states of every instance and cluster of m.
func StatesOf(m Model) States {
	s := States{}
	for _, c := range m.Clusters {
		switch {
		case c.Live():
			s[StateKey{Cluster: c.Name, Aspect: AspectReachability}] = AspectState{Label: string(c.State), Severity: ClusterSeverity(c)}
		case c.State == ConnUnreachable:
			s[StateKey{Cluster: c.Name, Aspect: AspectReachability}] = AspectState{Bad: true, Label: string(c.State),
				Reason: c.Err, Severity: ClusterSeverity(c)}
		}
	}
	for _, a := range m.Apps {
		for i := range a.Instances {
			in := &a.Instances[i]
			if in.ClusterState.Name != "" && !in.ClusterState.Live() {
				continue
			}
			key := func(asp Aspect) StateKey { return StateKey{App: in.App, Cluster: in.Cluster, Aspect: asp} }
			base := AspectState{Namespace: in.Namespace, Severity: in.Severity}
			if st, ok := driftState(in, base); ok {
				s.put(key(AspectDrift), st)
			}
			if in.Sync.Status == Synced || in.Sync.Status == OutOfSync {
				st := base
				st.Bad, st.Label, st.Reason = in.Sync.Status == OutOfSync, string(in.Sync.Status), in.Sync.Reason
				s.put(key(AspectSync), st)
			}
			if st, ok := healthState(in, base); ok {
				s.put(key(AspectHealth), st)
			}
		}
	}
	return s
}

// put keeps the worse of two instances of one app on one cluster (Argo CD and Flux both
// applying it is itself a problem, shown elsewhere).
func (s States) put(k StateKey, st AspectState) {
	if old, ok := s[k]; ok && (old.Bad || !st.Bad) {
		return
	}
	s[k] = st
}

// driftState: images that differ from git or use `latest`, and other fields that differ.
// Unknown until git has been read for the instance.
func driftState(in *Instance, st AspectState) (AspectState, bool) {
	if in.Revision.Head == "" || in.RenderError != "" {
		return st, false
	}
	var parts []string
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			parts = append(parts, p)
		}
	}
	for _, im := range in.Images {
		switch {
		case im.Drift:
			st.Images = append(st.Images, im)
			add(tagOrImage(im.GitTag, im.GitImage) + "→" + tagOrImage(im.LiveTag, im.LiveImage))
		case im.Latest:
			st.Images = append(st.Images, im)
			add("latest")
		}
	}
	for _, f := range in.Sync.Fields {
		if !strings.HasSuffix(f.Field, ".image") {
			st.Fields = append(st.Fields, f)
		}
	}
	switch n := len(st.Fields); {
	case n == 1:
		add("1 field")
	case n > 1:
		add(fmt.Sprintf("%d fields", n))
	}
	st.Bad = len(parts) > 0
	st.Label = "none"
	if st.Bad {
		st.Label = strings.Join(parts, ", ")
	}
	return st, true
}

// healthState: the worse of the instance's health and its workloads' (which fold in their
// pods), so a crash loop counts even while the operator still reports Progressing. Degraded
// and Missing are bad; Healthy, Progressing and Suspended fine; Unknown cannot be judged.
func healthState(in *Instance, st AspectState) (AspectState, bool) {
	h := in.Health
	if h.Status == "" || h.Status == Unknown {
		return st, false
	}
	for _, w := range in.Workloads {
		if w.Health.Status != Unknown {
			h = Worst(h, w.Health)
		}
	}
	st.Bad = h.Status == Degraded || h.Status == Missing
	st.Label, st.Reason = string(h.Status), h.Message
	if st.Bad {
		// The worst problem names the failing workload and its pods' reason.
		for _, p := range in.Problems {
			if p.Severity >= SeverityError {
				st.Reason = p.Text
				break
			}
		}
	}
	return st, true
}

// Merge returns the states of s updated by next: an aspect next cannot judge keeps its last
// known state, so an outage or a reconnect in between does not hide what changed across it.
func (s States) Merge(next States) States {
	out := make(States, max(len(s), len(next)))
	for k, v := range s {
		out[k] = v
	}
	for k, v := range next {
		out[k] = v
	}
	return out
}

// Transition is one aspect of an instance, or a cluster's reachability, turning bad or
// coming back.
type Transition struct {
	Kind TransitionKind
	// App is empty for a cluster's transitions.
	App     string
	Cluster string
	// From and To are the states' labels (see AspectState.Label); From is empty when the
	// aspect was not known before (a new instance).
	From, To string
	// State is the state after the transition.
	State AspectState
	// Before is the state before it (zero when From is empty).
	Before AspectState
}

// Key names what the transition is about.
func (t Transition) Key() StateKey {
	return StateKey{App: t.App, Cluster: t.Cluster, Aspect: t.Kind.Aspect()}
}

// DiffStates lists the transitions from prev to next: every aspect known in both whose
// state turned bad or good, and every aspect known only in next that is bad. Aspects only
// prev knows are not judged (see Merge). Cluster transitions come first, then by app,
// cluster and aspect.
func DiffStates(prev, next States) []Transition {
	var out []Transition
	for k, st := range next {
		old, known := prev[k]
		switch {
		case known && old.Bad == st.Bad:
			continue
		case !known && !st.Bad:
			continue
		}
		t := Transition{Kind: KindOf(k.Aspect, st.Bad), App: k.App, Cluster: k.Cluster, To: st.Label, State: st}
		if known {
			t.From, t.Before = old.Label, old
		}
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b Transition) int { return CompareStateKeys(a.Key(), b.Key()) })
	return out
}

// CompareStateKeys orders keys: clusters' reachability first, then by app, cluster and aspect.
func CompareStateKeys(a, b StateKey) int {
	return cmp.Or(
		strings.Compare(a.App, b.App),
		strings.Compare(a.Cluster, b.Cluster),
		cmp.Compare(aspectRank(a.Aspect), aspectRank(b.Aspect)),
	)
}

// Diff lists the transitions between two models of the fleet (see DiffStates). A long-running
// watcher should rather keep prev's States merged with each new model's (States.Merge), so
// that an aspect that could not be judged for a while is compared with its last known state.
func Diff(prev, next Model) []Transition {
	return DiffStates(StatesOf(prev), StatesOf(next))
}
