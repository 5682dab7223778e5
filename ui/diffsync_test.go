package ui

import (
	"context"
	"strings"
	"sync"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/ui/diffpane"
	"github.com/fleetdeck/fleetdeck/ui/internal/fixture"
	"github.com/fleetdeck/fleetdeck/ui/internal/panetest"
	"github.com/fleetdeck/fleetdeck/ui/syncpane"
	"github.com/fleetdeck/fleetdeck/ui/tree"
)

// call is one backend call: what it was asked and the context it got.
type call struct {
	app, cluster string
	ctx          context.Context
}

// fakeDiffs answers every comparison with one changed object.
type fakeDiffs struct {
	mu    sync.Mutex
	calls []call
}

func (f *fakeDiffs) Diff(ctx context.Context, app, cluster string) (diffpane.Result, error) {
	f.mu.Lock()
	f.calls = append(f.calls, call{app, cluster, ctx})
	f.mu.Unlock()
	return diffpane.Result{Instances: []diffpane.Instance{{App: app, Cluster: cluster, Revision: strings.Repeat("a", 40),
		Objects: []diffpane.Object{{Kind: "ConfigMap", Namespace: "ns", Name: "cm-of-" + app, Status: diffpane.Changed,
			Diff: "--- live/x\n+++ git/x\n@@ -1 +1 @@\n-a: 1\n+a: 2\n"}}}}}, nil
}

// fakeSyncs plans one Argo CD target per call and records Plan and Sync calls.
type fakeSyncs struct {
	mu    sync.Mutex
	plans []call
	syncs []syncpane.Target
}

func (f *fakeSyncs) Plan(ctx context.Context, app, cluster string) (syncpane.Plan, error) {
	f.mu.Lock()
	f.plans = append(f.plans, call{app, cluster, ctx})
	f.mu.Unlock()
	c := cluster
	if c == "" {
		c = "every-cluster"
	}
	return syncpane.Plan{App: app, Targets: []syncpane.Target{{App: app, Cluster: c, Operator: fleet.OperatorArgoCD,
		Kind: "Application", ObjectCluster: "hub", Namespace: "argocd", Name: app + "-" + c}}}, nil
}

func (f *fakeSyncs) Sync(ctx context.Context, t syncpane.Target) <-chan syncpane.Phase {
	f.mu.Lock()
	f.syncs = append(f.syncs, t)
	f.mu.Unlock()
	ch := make(chan syncpane.Phase, 1)
	ch <- syncpane.Phase{State: syncpane.StateSucceeded, Text: "sync operation: successfully synced"}
	close(ch)
	return ch
}

// TestDiffAndSyncOpenOnTheSelectedRow: d and S open their pane on the selected row's
// application and cluster (an app row: every cluster; a workload row: its instance, opened on
// the workload), and closing the pane ends the context of its calls.
func TestDiffAndSyncOpenOnTheSelectedRow(t *testing.T) {
	fm := fixture.Sandbox()
	for _, lvl := range []tree.Level{tree.LevelApp, tree.LevelInstance, tree.LevelWorkload, tree.LevelPod} {
		diffs, syncs := &fakeDiffs{}, &fakeSyncs{}
		m := newTestModel(t, Options{Diffs: diffs, Sync: syncs}, 100, 30, &fm)
		row := moveToLevel(t, m, lvl)
		wantCluster := ""
		if lvl > tree.LevelApp {
			wantCluster = row.Key.Cluster
		}

		// d
		_, cmd := m.Update(panetest.KeyMsg("d"))
		dp, ok := paneOf[*diffpane.Model](m)
		if !ok {
			t.Fatalf("level %v: d opened no diff pane", lvl)
		}
		drain(m, cmd)
		if len(diffs.calls) != 1 || diffs.calls[0].app != row.Key.App || diffs.calls[0].cluster != wantCluster {
			t.Fatalf("level %v: d compared %+v, want %s on %q", lvl, diffs.calls, row.Key.App, wantCluster)
		}
		if got := dp.Target().Object; got != row.Key.Workload {
			t.Errorf("level %v: the diff opens on %+v, want the row's workload %+v", lvl, got, row.Key.Workload)
		}
		if s := plain(m); !strings.Contains(s, "Diff · "+dp.Target().String()) || !strings.Contains(s, "cm-of-"+row.Key.App) {
			t.Errorf("level %v: diff pane screen:\n%s", lvl, s)
		}
		closeWith(t, m, "esc")
		if diffs.calls[0].ctx.Err() == nil {
			t.Errorf("level %v: closing the diff pane did not end its context", lvl)
		}

		// S
		_, cmd = m.Update(panetest.KeyMsg("S"))
		if _, ok := paneOf[*syncpane.Model](m); !ok {
			t.Fatalf("level %v: S opened no sync dialog", lvl)
		}
		drain(m, cmd)
		if len(syncs.plans) != 1 || syncs.plans[0].app != row.Key.App || syncs.plans[0].cluster != wantCluster {
			t.Fatalf("level %v: S planned %+v, want %s on %q", lvl, syncs.plans, row.Key.App, wantCluster)
		}
		if s := plain(m); !strings.Contains(s, "Argo CD Application argocd/"+row.Key.App+"-") || !strings.Contains(s, "y sync 1 cluster") {
			t.Errorf("level %v: sync dialog:\n%s", lvl, s)
		}
		if len(syncs.syncs) != 0 {
			t.Fatalf("level %v: S requested a sync before y", lvl)
		}
		closeWith(t, m, "esc")
		if syncs.plans[0].ctx.Err() == nil {
			t.Errorf("level %v: closing the sync dialog did not end its context", lvl)
		}
		if len(syncs.syncs) != 0 {
			t.Errorf("level %v: esc requested a sync", lvl)
		}
	}
}

// TestSyncConfirmedFromTheTree: y in the dialog requests the planned targets and shows the
// outcome; esc then returns to the tree.
func TestSyncConfirmedFromTheTree(t *testing.T) {
	fm := fixture.Sandbox()
	syncs := &fakeSyncs{}
	m := newTestModel(t, Options{Sync: syncs}, 100, 30, &fm)
	row := moveToLevel(t, m, tree.LevelInstance)
	_, cmd := m.Update(panetest.KeyMsg("S"))
	drain(m, cmd)
	_, cmd = m.Update(panetest.KeyMsg("y"))
	drain(m, cmd)
	if len(syncs.syncs) != 1 || syncs.syncs[0].App != row.Key.App || syncs.syncs[0].Cluster != row.Key.Cluster {
		t.Fatalf("y requested %+v, want %s on %s", syncs.syncs, row.Key.App, row.Key.Cluster)
	}
	if s := plain(m); !strings.Contains(s, "✓ synced on "+row.Key.Cluster) {
		t.Errorf("after y:\n%s", s)
	}
	closeWith(t, m, "esc")
	if !strings.Contains(plain(m), row.Key.App) {
		t.Errorf("the tree is not back:\n%s", plain(m))
	}
}

// TestSyncReadOnly: in read-only mode S says sync is disabled and asks the backend nothing.
func TestSyncReadOnly(t *testing.T) {
	fm := fixture.Sandbox()
	syncs := &fakeSyncs{}
	m := newTestModel(t, Options{Sync: syncs, ReadOnly: true}, 100, 30, &fm)
	_, cmd := m.Update(panetest.KeyMsg("S"))
	drain(m, cmd)
	press(m, "y")
	if !strings.Contains(plain(m), "sync is disabled in read-only mode") || len(syncs.plans) != 0 || len(syncs.syncs) != 0 {
		t.Errorf("read-only S: plans %v, syncs %v:\n%s", syncs.plans, syncs.syncs, plain(m))
	}
}

// TestStaleDiffReplyDropped: the answer to a diff pane the user closed never reaches the next
// one, even of the same kind.
func TestStaleDiffReplyDropped(t *testing.T) {
	fm := fixture.Sandbox()
	diffs := &fakeDiffs{}
	m := newTestModel(t, Options{Diffs: diffs}, 100, 30, &fm)
	first := moveToLevel(t, m, tree.LevelApp)
	_, stale := m.Update(panetest.KeyMsg("d")) // its comparison is not run yet
	closeWith(t, m, "esc")
	press(m, "j")
	second, _ := m.selected()
	_, cmd := m.Update(panetest.KeyMsg("d"))
	m.Update(stale()) // the first pane's answer arrives late
	if s := plain(m); strings.Contains(s, "cm-of-"+first.Key.App) || !strings.Contains(s, "Loading…") {
		t.Fatalf("a reply to the closed pane was drawn on %s's:\n%s", second.Key.App, s)
	}
	drain(m, cmd)
	if !strings.Contains(plain(m), "cm-of-"+second.Key.App) {
		t.Errorf("the second pane's own answer is not shown:\n%s", plain(m))
	}
}

func TestDiffAndSyncUnavailable(t *testing.T) {
	fm := fixture.Sandbox()
	m := newTestModel(t, Options{}, 100, 30, &fm)
	press(m, "d")
	if m.pane != nil || !strings.Contains(plain(m), "diffs are not available here") {
		t.Errorf("d without a diff backend:\n%s", plain(m))
	}
	press(m, "S")
	if m.pane != nil || !strings.Contains(plain(m), "sync is not available here") {
		t.Errorf("S without a sync backend:\n%s", plain(m))
	}
}

// TestDiffAndSyncKeysListed: the help screen and the tree's footer name d and S.
func TestDiffAndSyncKeysListed(t *testing.T) {
	fm := fixture.Sandbox()
	m := newTestModel(t, Options{}, 160, 48, &fm)
	if s := plain(m); !strings.Contains(s, "d diff git/live") || !strings.Contains(s, "S sync now") {
		t.Errorf("the footer lacks d and S:\n%s", s)
	}
	press(m, "?")
	for _, want := range []string{"d       diff git/live", "S       sync now"} {
		if !strings.Contains(plain(m), want) {
			t.Errorf("the help screen lacks %q:\n%s", want, plain(m))
		}
	}
}

// paneOf is the open pane as a P.
func paneOf[P any](m *model) (P, bool) {
	var zero P
	if m.pane == nil {
		return zero, false
	}
	p, ok := m.pane.pane.(P)
	return p, ok
}

// closeWith presses key in the open pane and runs what it returns until the pane is closed.
func closeWith(t *testing.T, m *model, key string) {
	t.Helper()
	_, cmd := m.Update(panetest.KeyMsg(key))
	drain(m, cmd)
	if m.pane != nil {
		t.Fatalf("%s did not close the pane:\n%s", key, plain(m))
	}
}

var _ tea.Model = (*model)(nil)
