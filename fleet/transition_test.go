package fleet_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/fleet/fleettest"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

// edit returns the sandbox model after fn changed its snapshot.
func edit(fn func(s *fleet.Snapshot)) fleet.Model {
	s := fleettest.SandboxSnapshot()
	if fn != nil {
		fn(&s)
	}
	return fleet.Build(s)
}

func setLiveImage(s *fleet.Snapshot, app, cluster, tag string) {
	a, _ := scenario.AppByName(app)
	for i := range s.Workloads {
		w := &s.Workloads[i]
		if w.Cluster == cluster && w.Name == app {
			w.Containers[0].Image = a.Image() + ":" + tag
		}
	}
	for i := range s.Pods {
		p := &s.Pods[i]
		if p.Cluster == cluster && p.Namespace == a.Namespace {
			p.Containers[0].Image = a.Image() + ":" + tag
		}
	}
}

func setArgoSync(s *fleet.Snapshot, app, cluster, status string) {
	for i := range s.ArgoApps {
		if s.ArgoApps[i].Name == scenario.ArgoAppName(app, cluster) {
			s.ArgoApps[i].SyncStatus = status
		}
	}
}

func setCluster(s *fleet.Snapshot, cluster string, state fleet.ConnState, err string) {
	for i := range s.Clusters {
		if s.Clusters[i].Name == cluster {
			s.Clusters[i].State, s.Clusters[i].Err = state, err
		}
	}
}

func crashPods(s *fleet.Snapshot, app, cluster string) {
	a, _ := scenario.AppByName(app)
	for i := range s.Pods {
		p := &s.Pods[i]
		if p.Cluster == cluster && p.Namespace == a.Namespace {
			p.Ready = false
			p.Containers[0] = fleet.ContainerStatus{Name: p.Containers[0].Name, Image: p.Containers[0].Image, RestartCount: 3,
				WaitingReason: "CrashLoopBackOff", LastTerminated: true, LastTerminatedReason: "Error", LastTerminatedExitCode: 1}
		}
	}
}

// describeTransitions renders transitions one a line: "kind app@cluster from → to".
func describeTransitions(ts []fleet.Transition) string {
	var lines []string
	for _, t := range ts {
		lines = append(lines, fmt.Sprintf("%s %s@%s %s → %s", t.Kind, t.App, t.Cluster, t.From, t.To))
	}
	return strings.Join(lines, "\n")
}

func TestDiff(t *testing.T) {
	healthy, patched := scenario.HealthyApp, scenario.ProdEU
	var hand scenario.Problem
	for _, p := range scenario.Problems {
		if p.Kind == scenario.HandPatch {
			hand = p
		}
	}
	tests := []struct {
		name       string
		prev, next func(s *fleet.Snapshot)
		want       []string
	}{
		{name: "nothing changed"},
		{
			name: "hand patch: drift appears with git and live tags",
			next: func(s *fleet.Snapshot) { setLiveImage(s, healthy, patched, "hotfix-7") },
			want: []string{"drift-appeared " + healthy + "@" + patched + " none → 1.4.0→hotfix-7"},
		},
		{
			name: "hand patch reported OutOfSync by Argo CD",
			next: func(s *fleet.Snapshot) {
				setLiveImage(s, healthy, patched, "hotfix-7")
				setArgoSync(s, healthy, patched, "OutOfSync")
			},
			want: []string{
				"drift-appeared " + healthy + "@" + patched + " none → 1.4.0→hotfix-7",
				"out-of-sync " + healthy + "@" + patched + " Synced → OutOfSync",
			},
		},
		{
			name: "the scenario's hand patch is reverted to git",
			next: func(s *fleet.Snapshot) {
				setLiveImage(s, hand.App, hand.Cluster, fleettest.GitTags[0])
				setArgoSync(s, hand.App, hand.Cluster, "Synced")
			},
			want: []string{
				"drift-cleared " + hand.App + "@" + hand.Cluster + " 1.4.0→" + scenario.HandPatchTag + " → none",
				"synced " + hand.App + "@" + hand.Cluster + " OutOfSync → Synced",
			},
		},
		{
			name: "a crash loop degrades the instance while Argo CD still says Healthy",
			next: func(s *fleet.Snapshot) { crashPods(s, healthy, patched) },
			want: []string{"degraded " + healthy + "@" + patched + " Healthy → Degraded"},
		},
		{
			name: "crash loop over",
			prev: func(s *fleet.Snapshot) { crashPods(s, healthy, patched) },
			want: []string{"recovered " + healthy + "@" + patched + " Degraded → Healthy"},
		},
		{
			name: "an unreachable cluster is one transition; its instances cannot be judged",
			next: func(s *fleet.Snapshot) { setCluster(s, scenario.ProdUS, fleet.ConnUnreachable, "connection refused") },
			want: []string{"unreachable @" + scenario.ProdUS + " synced → unreachable"},
		},
		{
			// Without the states known before the outage (see TestMergeAcrossOutage), the
			// cluster's problems are judged for the first time: they count as new.
			name: "the cluster answers again",
			prev: func(s *fleet.Snapshot) { setCluster(s, scenario.ProdUS, fleet.ConnUnreachable, "connection refused") },
			want: []string{
				"reachable @" + scenario.ProdUS + " unreachable → synced",
				"degraded " + scenario.NotificationWorker + "@" + scenario.ProdUS + "  → Degraded",
				"drift-appeared " + hand.App + "@" + hand.Cluster + "  → 1.4.0→" + scenario.HandPatchTag,
				"out-of-sync " + hand.App + "@" + hand.Cluster + "  → OutOfSync",
			},
		},
		{
			name: "slow is still reachable",
			next: func(s *fleet.Snapshot) { setCluster(s, scenario.ProdUS, fleet.ConnSlow, "") },
		},
		{
			name: "a cluster reconnecting says nothing yet",
			next: func(s *fleet.Snapshot) { setCluster(s, scenario.ProdUS, fleet.ConnConnecting, "") },
		},
		{
			name: "a new instance counts when it is bad",
			prev: func(s *fleet.Snapshot) { s.Declared = nil },
			next: func(s *fleet.Snapshot) { crashPods(s, scenario.Ledger, scenario.Staging) },
			want: []string{"degraded " + scenario.Ledger + "@" + scenario.Staging + "  → Degraded"},
		},
		{
			name: "drift cannot be judged before git is read: once it is, drift counts as new",
			prev: func(s *fleet.Snapshot) { s.Git = nil },
			want: []string{
				"drift-appeared " + scenario.CheckoutWeb + "@" + scenario.ProdEU + "  → 1.4.0→1.2.0",
				"drift-appeared " + hand.App + "@" + hand.Cluster + "  → 1.4.0→" + scenario.HandPatchTag,
				"drift-appeared " + scenario.SearchIndexer + "@" + scenario.Staging + "  → latest",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := describeTransitions(fleet.Diff(edit(tt.prev), edit(tt.next)))
			if want := strings.Join(tt.want, "\n"); got != want {
				t.Errorf("transitions:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// TestTransitionDetails checks what a message is built from: the drifting image with both
// tags, the failing workload, the cluster's error.
func TestTransitionDetails(t *testing.T) {
	healthy := scenario.HealthyApp
	ts := fleet.Diff(edit(nil), edit(func(s *fleet.Snapshot) {
		setLiveImage(s, healthy, scenario.ProdEU, "hotfix-7")
		crashPods(s, healthy, scenario.ProdEU)
		setCluster(s, scenario.Staging, fleet.ConnUnreachable, "dial tcp: connection refused")
	}))
	if len(ts) != 3 {
		t.Fatalf("want 3 transitions, got:\n%s", describeTransitions(ts))
	}
	if c := ts[0]; c.Kind != fleet.TransitionUnreachable || c.State.Reason != "dial tcp: connection refused" || c.State.Severity != fleet.SeverityWarning {
		t.Errorf("cluster transition = %+v", c)
	}
	d := ts[1]
	if d.Kind != fleet.TransitionDriftAppeared || len(d.State.Images) != 1 {
		t.Fatalf("drift transition = %+v", d)
	}
	if im := d.State.Images[0]; im.GitTag != "1.4.0" || im.LiveTag != "hotfix-7" || im.Workload.Name != healthy {
		t.Errorf("drifting image = %+v", im)
	}
	if d.State.Namespace == "" || d.State.Severity < fleet.SeverityWarning {
		t.Errorf("drift state namespace %q severity %s", d.State.Namespace, d.State.Severity)
	}
	h := ts[2]
	if h.Kind != fleet.TransitionDegraded || !strings.Contains(h.State.Reason, "CrashLoopBackOff") {
		t.Errorf("health transition = %+v, want a reason naming CrashLoopBackOff", h)
	}
}

// TestMergeAcrossOutage: a drift cleared while the cluster was unreachable is reported when
// it answers again, compared with the state known before the outage.
func TestMergeAcrossOutage(t *testing.T) {
	var hand scenario.Problem
	for _, p := range scenario.Problems {
		if p.Kind == scenario.HandPatch {
			hand = p
		}
	}
	models := []fleet.Model{
		edit(nil),
		edit(func(s *fleet.Snapshot) { setCluster(s, hand.Cluster, fleet.ConnUnreachable, "timeout") }),
		edit(func(s *fleet.Snapshot) { setCluster(s, hand.Cluster, fleet.ConnConnecting, "") }),
		edit(func(s *fleet.Snapshot) { setLiveImage(s, hand.App, hand.Cluster, fleettest.GitTags[0]) }),
	}
	known := fleet.StatesOf(models[0])
	var got []string
	for _, m := range models[1:] {
		next := fleet.StatesOf(m)
		if d := describeTransitions(fleet.DiffStates(known, next)); d != "" {
			got = append(got, d)
		}
		known = known.Merge(next)
	}
	want := []string{
		"unreachable @" + hand.Cluster + " synced → unreachable",
		"reachable @" + hand.Cluster + " unreachable → synced\ndrift-cleared " + hand.App + "@" + hand.Cluster + " 1.4.0→" + scenario.HandPatchTag + " → none",
	}
	if strings.Join(got, "\n--\n") != strings.Join(want, "\n--\n") {
		t.Errorf("transitions per model:\n%s\nwant:\n%s", strings.Join(got, "\n--\n"), strings.Join(want, "\n--\n"))
	}
}

func TestTransitionKinds(t *testing.T) {
	for _, a := range []fleet.Aspect{fleet.AspectReachability, fleet.AspectDrift, fleet.AspectSync, fleet.AspectHealth} {
		bad, good := fleet.KindOf(a, true), fleet.KindOf(a, false)
		if !bad.Problem() || good.Problem() || bad.Aspect() != a || good.Aspect() != a || bad == good {
			t.Errorf("aspect %s: bad %q (problem %v, aspect %s), good %q (problem %v, aspect %s)",
				a, bad, bad.Problem(), bad.Aspect(), good, good.Problem(), good.Aspect())
		}
	}
}
