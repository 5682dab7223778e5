package notify

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fleetdeck/fleetdeck/fleet"
)

// SchemaVersion is the version of the JSON event schema (Message). Fields are only ever added
// within a version; a removed or changed field bumps it.
const SchemaVersion = 1

// Message types.
const (
	TypeChange = "change" // one instance's (or one cluster's) aspects changed
	TypeDigest = "digest" // the problems that exist when watching starts
)

// Message is one notification: the generic JSON event ("format: json") as posted, and what the
// Slack payload is rendered from.
//
// A change message is about one application instance (App and Cluster) or one cluster (App
// empty) and lists the aspects that changed together (Changes). A digest lists the problems
// found when watching started (Problems), instead of one message per existing problem.
// Enumerations are strings: severity ok|info|warning|error|critical; change kinds
// drift-appeared|drift-cleared|out-of-sync|synced|degraded|recovered|unreachable|reachable.
// Times are RFC 3339.
type Message struct {
	SchemaVersion int    `json:"schemaVersion"`
	Type          string `json:"type"`
	// Time is when the message was made (the end of the debounce window).
	Time      time.Time `json:"time"`
	App       string    `json:"app,omitempty"`
	Cluster   string    `json:"cluster,omitempty"`
	Namespace string    `json:"namespace,omitempty"`
	// Severity is the instance's (or cluster's) severity now: ok after a recovery.
	Severity fleet.Severity `json:"severity"`
	// Problem is true when at least one change is a state going bad.
	Problem bool `json:"problem"`
	// Summary is one line for humans.
	Summary string `json:"summary"`
	// Command is a fleetdeck command line to investigate.
	Command string   `json:"command"`
	Changes []Change `json:"changes,omitempty"`
	// Problems (digest only) are the instances with problems, worst first, then the clusters
	// that do not answer.
	Problems []DigestEntry `json:"problems,omitempty"`
	// Instances and Clusters (digest only) count what is watched.
	Instances int `json:"instances,omitempty"`
	Clusters  int `json:"clusters,omitempty"`
}

// Change is one aspect that changed.
type Change struct {
	Kind fleet.TransitionKind `json:"kind"`
	// Problem is true for a state going bad (drift-appeared, out-of-sync, degraded,
	// unreachable), false for one coming back.
	Problem bool `json:"problem"`
	// From and To read like the status columns: Synced, OutOfSync, Healthy, Degraded, synced,
	// unreachable; for drift the drifting tags ("1.4.0→hotfix-1", "latest", "2 fields") or
	// "none". From is empty for an instance seen for the first time.
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason,omitempty"`
	// Images are the images that differ from git or use latest (drift-appeared), or that did
	// (drift-cleared).
	Images []Image `json:"images,omitempty"`
	// Fields are the other fields that differ from git (drift-appeared).
	Fields []Field `json:"fields,omitempty"`
	// Flaps is how many times the aspect changed within the debounce window when it flapped
	// (collapsed into this one change); absent otherwise.
	Flaps int `json:"flaps,omitempty"`
	// Since is when the first change was seen.
	Since time.Time `json:"since"`
}

// Image is one container's image in git against the one live.
type Image struct {
	Workload  string `json:"workload"` // Kind/namespace/name
	Container string `json:"container"`
	GitImage  string `json:"gitImage"`
	LiveImage string `json:"liveImage"`
	GitTag    string `json:"gitTag"`
	LiveTag   string `json:"liveTag"`
	Drift     bool   `json:"drift"`
	Latest    bool   `json:"latest"`
}

// Field is one other field that differs from git.
type Field struct {
	Object string `json:"object"` // Kind/namespace/name
	Field  string `json:"field"`
	Git    string `json:"git"`
	Live   string `json:"live"`
}

// DigestEntry is one existing problem.
type DigestEntry struct {
	App       string         `json:"app,omitempty"` // empty for a cluster
	Cluster   string         `json:"cluster"`
	Namespace string         `json:"namespace,omitempty"`
	Severity  fleet.Severity `json:"severity"`
	Sync      string         `json:"sync,omitempty"`
	Health    string         `json:"health,omitempty"`
	Drift     string         `json:"drift,omitempty"`
	// Text is the worst problem, as status -o wide shows it.
	Text string `json:"text"`
}

// Messages groups events ended at the same time into messages: one per instance (its aspects
// that settled together) and one per cluster, in key order. binary names fleetdeck in the
// commands.
func Messages(events []Event, binary string) []Message {
	var out []Message
	index := map[[2]string]int{}
	for _, ev := range events {
		t := ev.Transition
		id := [2]string{t.App, t.Cluster}
		i, ok := index[id]
		if !ok {
			i = len(out)
			index[id] = i
			out = append(out, Message{SchemaVersion: SchemaVersion, Type: TypeChange, Time: ev.At,
				App: t.App, Cluster: t.Cluster, Namespace: t.State.Namespace})
		}
		m := &out[i]
		m.Changes = append(m.Changes, changeOf(ev))
		m.Severity = max(m.Severity, t.State.Severity)
		m.Problem = m.Problem || t.Kind.Problem()
	}
	for i := range out {
		m := &out[i]
		m.Summary = changeSummary(m)
		m.Command = command(binary, m)
	}
	return out
}

func changeOf(ev Event) Change {
	t := ev.Transition
	c := Change{Kind: t.Kind, Problem: t.Kind.Problem(), From: t.From, To: t.To, Reason: t.State.Reason, Since: ev.First}
	if ev.Flapping() {
		c.Flaps = ev.Changes
	}
	if t.Kind.Aspect() == fleet.AspectDrift {
		src := t.State
		if !t.State.Bad {
			src = t.Before // what drifted, now back to git
		}
		for _, im := range src.Images {
			c.Images = append(c.Images, Image{Workload: ref(im.Workload), Container: im.Container, GitImage: im.GitImage,
				LiveImage: im.LiveImage, GitTag: im.GitTag, LiveTag: im.LiveTag, Drift: im.Drift, Latest: im.Latest})
		}
		if t.State.Bad {
			for _, f := range t.State.Fields {
				c.Fields = append(c.Fields, Field{Object: ref(f.Object), Field: f.Field, Git: f.Git, Live: f.Live})
			}
		}
	}
	return c
}

func ref(r fleet.ObjectRef) string {
	if r.Namespace == "" {
		return r.Kind + "/" + r.Name
	}
	return r.Kind + "/" + r.Namespace + "/" + r.Name
}

// Subject is what a message is about: "payments-api on prod-us" or "cluster prod-us".
func (m *Message) Subject() string {
	if m.App == "" {
		return "cluster " + m.Cluster
	}
	return m.App + " on " + m.Cluster
}

func changeSummary(m *Message) string {
	var parts []string
	for _, c := range m.Changes {
		parts = append(parts, c.Phrase())
	}
	return m.Subject() + ": " + strings.Join(parts, "; ")
}

// Phrase says what changed in a few words: "image drift: git 1.4.0, live hotfix-1",
// "Degraded (was Healthy): …", "unreachable: connection refused".
func (c Change) Phrase() string {
	var s string
	switch c.Kind {
	case fleet.TransitionDriftAppeared:
		s = "drift appeared: " + c.driftText()
	case fleet.TransitionDriftCleared:
		s = "drift cleared: live matches git again"
		if d := c.driftText(); d != "" {
			s = "drift cleared (was " + d + ")"
		}
	case fleet.TransitionOutOfSync, fleet.TransitionDegraded:
		s = c.To + was(c.From)
		if c.Reason != "" {
			s += ": " + c.Reason
		}
	case fleet.TransitionSynced:
		s = "Synced again" + was(c.From)
	case fleet.TransitionRecovered:
		s = "recovered: " + c.To + was(c.From)
	case fleet.TransitionUnreachable:
		s = "unreachable"
		if c.Reason != "" {
			s += ": " + c.Reason
		}
	case fleet.TransitionReachable:
		s = "reachable again"
	default:
		s = string(c.Kind)
	}
	if c.Flaps > 1 {
		s = fmt.Sprintf("flapping (%d changes in the window), now %s", c.Flaps, s)
	}
	return s
}

func was(from string) string {
	if from == "" {
		return ""
	}
	return " (was " + from + ")"
}

// driftText: "git 1.4.0, live hotfix-1" for one drifting image, the tags git→live for more,
// "latest" and the count of other fields.
func (c Change) driftText() string {
	var parts []string
	var drifting []Image
	for _, im := range c.Images {
		if im.Drift {
			drifting = append(drifting, im)
		}
	}
	switch {
	case len(drifting) == 1:
		parts = append(parts, "git "+tagOf(drifting[0].GitTag, drifting[0].GitImage)+", live "+tagOf(drifting[0].LiveTag, drifting[0].LiveImage))
	default:
		for _, im := range drifting {
			parts = append(parts, im.Container+" "+tagOf(im.GitTag, im.GitImage)+"→"+tagOf(im.LiveTag, im.LiveImage))
		}
	}
	for _, im := range c.Images {
		if im.Latest && !im.Drift {
			parts = append(parts, im.Container+" uses latest")
		}
	}
	switch n := len(c.Fields); {
	case n == 1:
		f := c.Fields[0]
		parts = append(parts, fmt.Sprintf("%s git %s, live %s", f.Field, f.Git, f.Live))
	case n > 1:
		parts = append(parts, fmt.Sprintf("%d fields differ from git", n))
	}
	if len(parts) == 0 {
		return strings.TrimSpace(c.To)
	}
	return strings.Join(parts, "; ")
}

func tagOf(tag, image string) string {
	if tag != "" {
		return tag
	}
	if i := strings.LastIndex(image, "@"); i >= 0 {
		return image[i+1:]
	}
	if image == "" {
		return "?"
	}
	return image
}

// command is the fleetdeck command line that shows more: the logs of a degraded instance,
// the status of anything else.
func command(binary string, m *Message) string {
	if m.App == "" {
		return binary + " status --cluster " + m.Cluster
	}
	for _, c := range m.Changes {
		if c.Kind == fleet.TransitionDegraded {
			return fmt.Sprintf("%s logs %s --cluster %s --previous --tail 50", binary, m.App, m.Cluster)
		}
	}
	return fmt.Sprintf("%s status --app %s --cluster %s -o wide", binary, m.App, m.Cluster)
}

// Digest lists the problems of m: the clusters that do not answer, then the instances with
// severity warning or worse on the others, worst first.
func Digest(m fleet.Model, at time.Time, binary string) Message {
	d := Message{SchemaVersion: SchemaVersion, Type: TypeDigest, Time: at, Clusters: len(m.Clusters),
		Command: binary + " status --problems", Problems: []DigestEntry{}}
	for _, c := range m.Clusters {
		if c.State == fleet.ConnUnreachable {
			d.Problems = append(d.Problems, DigestEntry{Cluster: c.Name, Severity: fleet.ClusterSeverity(c),
				Text: strings.TrimSuffix("unreachable: "+c.Err, ": ")})
		}
		d.Severity = max(d.Severity, fleet.ClusterSeverity(c))
	}
	states := fleet.StatesOf(m)
	var entries []DigestEntry
	for _, a := range m.Apps {
		for i := range a.Instances {
			in := &a.Instances[i]
			d.Instances++
			// The cluster's own entry covers instances it cannot report on.
			if in.Severity < fleet.SeverityWarning || in.ClusterState.State == fleet.ConnUnreachable {
				continue
			}
			e := DigestEntry{App: in.App, Cluster: in.Cluster, Namespace: in.Namespace, Severity: in.Severity,
				Sync: string(in.Sync.Status), Health: string(in.Health.Status)}
			if st, ok := states[fleet.StateKey{App: in.App, Cluster: in.Cluster, Aspect: fleet.AspectDrift}]; ok && st.Bad {
				e.Drift = st.Label
			}
			if len(in.Problems) > 0 {
				e.Text = in.Problems[0].Text
			}
			entries = append(entries, e)
			d.Severity = max(d.Severity, in.Severity)
		}
	}
	slices.SortStableFunc(entries, func(a, b DigestEntry) int {
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), strings.Compare(a.App, b.App), strings.Compare(a.Cluster, b.Cluster))
	})
	d.Problems = append(d.Problems, entries...)
	d.Problem = len(d.Problems) > 0
	switch n := len(d.Problems); n {
	case 0:
		d.Summary = fmt.Sprintf("fleetdeck is watching %s on %s: no problems", counted(d.Instances, "instance"), counted(d.Clusters, "cluster"))
	default:
		d.Summary = fmt.Sprintf("fleetdeck is watching %s on %s: %s", counted(d.Instances, "instance"), counted(d.Clusters, "cluster"), counted(n, "problem"))
	}
	return d
}

func counted(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
