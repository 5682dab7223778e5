package syncpane

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
	"github.com/fleetdeck/fleetdeck/ui/internal/panetest"
)

// TestConfirm: the dialog names the application, each cluster and its operator object, lists
// declared instances as having no operator, and offers y only when something can be synced.
func TestConfirm(t *testing.T) {
	tests := []struct {
		name    string
		plan    Plan
		cluster string
		want    []string
		syncs   []string // clusters requested after y
	}{
		{name: "every cluster", plan: catalogPlan(),
			want: []string{
				"Sync · catalog-api", "Ask the GitOps operators to sync catalog-api with git now, on 3 clusters:",
				"prod-eu  Argo CD Application argocd/catalog-api-prod-eu on prod-eu",
				"prod-us  Argo CD Application argocd/catalog-api-prod-us on prod-eu",
				"staging  Flux Kustomization flux-system/catalog-api on staging",
				"Argo CD runs a sync operation of the tracked revision; Flux reconciles the source, then the object. fleetdeck applies nothing itself.",
				"y sync 3 clusters · esc cancel",
			},
			syncs: []string{scenario.ProdEU, scenario.ProdUS, scenario.Staging}},
		{name: "one instance", cluster: scenario.ProdUS, plan: Plan{App: app, Targets: []Target{argo(app, scenario.ProdUS)}},
			want:  []string{"Sync · catalog-api on prod-us", "on 1 cluster:", "y sync 1 cluster · esc cancel"},
			syncs: []string{scenario.ProdUS}},
		{name: "declared instance", plan: mixedPlan(),
			want: []string{"on 2 clusters:", "staging  no operator: fleetdeck never applies manifests", "y sync 2 clusters"},
			// The declared instance is never requested.
			syncs: []string{scenario.ProdEU, scenario.ProdUS}},
		{name: "declared only", plan: ledgerPlan(),
			want: []string{"prod-eu  no operator: fleetdeck never applies manifests",
				"✗ nothing to sync: no GitOps operator applies ledger on prod-eu, prod-us, staging", "esc back"}},
		{name: "no instance", plan: Plan{App: app}, want: []string{"catalog-api has no instance to sync here", "esc back"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := newFake(tt.plan)
			d := open(t, be, tt.plan.App, tt.cluster, false, 100, 30)
			s := panetest.Flat(d.screen())
			for _, w := range tt.want {
				if !strings.Contains(s, panetest.Flat(w)) {
					t.Errorf("screen lacks %q:\n%s", w, d.screen())
				}
			}
			if len(be.planCalls) != 1 || be.planCalls[0] != tt.plan.App+"/"+tt.cluster {
				t.Errorf("plan calls %v, want one for %s/%s", be.planCalls, tt.plan.App, tt.cluster)
			}
			if len(be.syncedClusters()) > 0 {
				t.Fatalf("requested before y: %v", be.syncedClusters())
			}
			d.press("y")
			if got := be.syncedClusters(); !slices.Equal(got, tt.syncs) {
				t.Errorf("y requested %v, want %v", got, tt.syncs)
			}
			if tt.syncs == nil {
				if !strings.Contains(d.screen(), "nothing to sync") || len(d.out) != 0 {
					t.Errorf("y with nothing to sync:\n%s", d.screen())
				}
			}
		})
	}
}

// TestCancel: esc, n and q leave the dialog without asking anything, before and after the
// plan arrived.
func TestCancel(t *testing.T) {
	for _, k := range []string{"esc", "n", "q"} {
		be := newFake(catalogPlan())
		d := open(t, be, app, "", false, 80, 24)
		d.press(k)
		if len(d.out) != 1 || len(be.syncedClusters()) != 0 {
			t.Errorf("%s: parent got %v, requests %v", k, d.out, be.syncedClusters())
		}
		if d.m.Update(panetest.KeyMsg("y")) != nil || len(be.syncedClusters()) != 0 {
			t.Errorf("%s: a closed dialog requested a sync", k)
		}
	}
	be := newFake(catalogPlan())
	be.planBlock = make(chan struct{})
	m := newPane(t, be, app, "", false, true)
	m.SetSize(80, 24)
	d := &driver{m: m}
	cmd := m.Init()
	if !strings.Contains(d.screen(), "Finding the operator objects of catalog-api…") {
		t.Errorf("while planning:\n%s", d.screen())
	}
	d.press("y", "esc")
	if len(d.out) != 1 {
		t.Fatalf("esc while planning: %v", d.out)
	}
	m.Update(cmd()) // the plan call ends with the pane's context; its reply is dropped
	if len(be.syncedClusters()) != 0 {
		t.Error("requested after cancelling")
	}
}

// TestReadOnly: the dialog says sync is disabled, plans nothing and requests nothing.
func TestReadOnly(t *testing.T) {
	be := newFake(catalogPlan())
	d := open(t, be, app, "", true, 80, 24)
	s := panetest.Flat(d.screen())
	for _, w := range []string{"READ-ONLY", "✗ " + ReadOnlyMessage, "Nothing was asked of any operator."} {
		if !strings.Contains(s, w) {
			t.Errorf("screen lacks %q:\n%s", w, d.screen())
		}
	}
	lines := strings.Split(d.screen(), "\n")
	if footer := strings.TrimSpace(lines[len(lines)-1]); footer != "esc back" {
		t.Errorf("read-only footer %q, want only esc back", footer)
	}
	d.press("y", "enter")
	if len(be.planCalls) != 0 || len(be.syncedClusters()) != 0 {
		t.Errorf("read-only: plan calls %v, requests %v", be.planCalls, be.syncedClusters())
	}
	if len(d.out) != 1 {
		t.Errorf("enter did not leave the read-only dialog: %v", d.out)
	}
}

func TestPlanError(t *testing.T) {
	be := newFake(Plan{})
	be.planErr = errors.New(`no application "catalog-api"`)
	d := open(t, be, app, "", false, 80, 24)
	if !strings.Contains(panetest.Flat(d.screen()), `✗ could not plan the sync of catalog-api: no application "catalog-api"`) {
		t.Errorf("plan error:\n%s", d.screen())
	}
	d.press("y")
	if len(be.syncedClusters()) != 0 {
		t.Error("y after a failed plan requested a sync")
	}
	d.press("esc")
	if len(d.out) != 1 {
		t.Error("esc did not leave")
	}
}

// TestProgressToTheEnd: after y every phase shows, per cluster and in the log, until each
// request has its outcome; then the outcome is summed up and esc goes back.
func TestProgressToTheEnd(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(*fakeSync)
		want   []string
		absent []string
	}{
		{name: "one fails", want: []string{
			"Sync · catalog-api · finished",
			"prod-eu  ✓ Succeeded  sync operation: successfully synced (all tasks run) (Synced, Healthy, at 1a2b3c4)",
			"staging  ✗ Failed     Kustomization flux-system/catalog-api: Deployment/catalog/catalog-api dry-run failed",
			"✗ 1 of 3 syncs did not succeed",
			"0.0s prod-eu Requested Application argocd/catalog-api-prod-eu on prod-eu",
			"1.2s prod-eu Running sync operation: one or more tasks are running",
			"3.5s staging Failed",
			"esc back",
		}},
		{name: "all succeed", setup: func(f *fakeSync) { f.phases[scenario.Staging] = f.phases[scenario.ProdEU] },
			want: []string{"✓ synced on prod-eu, prod-us, staging"}, absent: []string{"did not succeed"}},
		{name: "refused", setup: func(f *fakeSync) {
			f.phases[scenario.ProdUS] = []Phase{{State: StateRefused, Text: "sync catalog-api on prod-us: Application argocd/catalog-api-prod-us on prod-eu: another operation is already in progress", At: at(0)}}
		}, want: []string{"prod-us  ✗ Refused", "another operation is already in progress", "✗ 2 of 3 syncs did not succeed"}},
		{name: "stream ends early", setup: func(f *fakeSync) { f.phases[scenario.ProdUS] = f.phases[scenario.ProdUS][:2] },
			want: []string{"prod-us  ? Unfinished the progress stopped before the operator reported an outcome; last: sync operation: waiting"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := newFake(catalogPlan())
			if tt.setup != nil {
				tt.setup(be)
			}
			d := open(t, be, app, "", false, 140, 40)
			d.press("y")
			s := panetest.Flat(d.screen())
			for _, w := range tt.want {
				if !strings.Contains(s, panetest.Flat(w)) {
					t.Errorf("screen lacks %q:\n%s", w, d.screen())
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(s, panetest.Flat(a)) {
					t.Errorf("screen has %q:\n%s", a, d.screen())
				}
			}
			d.press("y")
			if n := len(be.syncedClusters()); n != 3 {
				t.Errorf("%d requests, want 3 (y after the end asks nothing)", n)
			}
			d.press("enter")
			if len(d.out) != 1 {
				t.Errorf("enter after the end: %v", d.out)
			}
		})
	}
}

// TestWaitEnds: a request still running when Wait passes is reported unfinished; following
// stops, the operator carries on.
func TestWaitEnds(t *testing.T) {
	be := newFake(Plan{App: app, Targets: []Target{argo(app, scenario.ProdEU)}})
	be.hold[scenario.ProdEU] = 3
	m := New(Options{App: app, Backend: be, Theme: testTheme(t, true), Now: func() time.Time { return fixture0() }, Wait: 50 * time.Millisecond})
	t.Cleanup(m.Close)
	m.SetSize(120, 30)
	d := &driver{m: m}
	d.run(m.Init())
	d.press("y")
	if !strings.Contains(panetest.Flat(d.screen()), "? Unfinished did not finish within 50ms; the operator carries on; last: sync operation: one or more tasks are running") {
		t.Errorf("after Wait:\n%s", d.screen())
	}
	if !be.ended[scenario.ProdEU] {
		t.Error("the request was still followed after Wait")
	}
}

func fixture0() time.Time { return at(0) }

// TestStalePhases: a phase for another pane or an earlier run is dropped.
func TestStalePhases(t *testing.T) {
	be := newFake(catalogPlan())
	d := open(t, be, app, "", false, 140, 40)
	d.press("y")
	before := d.screen()
	for _, msg := range []phaseMsg{
		{pane: d.m.id + 1000, seq: d.m.seq, i: 0, ok: true, phase: Phase{State: StateError, Text: "stale"}},
		{pane: d.m.id, seq: d.m.seq - 1, i: 0, ok: true, phase: Phase{State: StateError, Text: "stale"}},
		{pane: d.m.id, seq: d.m.seq, i: 99, ok: true, phase: Phase{State: StateError, Text: "stale"}},
	} {
		if d.m.Update(msg) != nil || d.screen() != before {
			t.Errorf("a stale phase changed the screen: %+v\n%s", msg, d.screen())
		}
	}
}

// TestGeometry: every stage draws exactly the pane's size.
func TestGeometry(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {60, 20}, {40, 8}, {24, 4}, {200, 60}} {
		for _, mono := range []bool{true, false} {
			for _, keys := range [][]string{nil, {"y"}} {
				for _, p := range []Plan{catalogPlan(), mixedPlan(), ledgerPlan()} {
					m := newPane(t, newFake(p), p.App, "", false, mono)
					m.SetSize(sz[0], sz[1])
					d := &driver{m: m}
					d.run(m.Init())
					d.press(keys...)
					panetest.CheckGeometry(t, m.View(), sz[0], sz[1])
				}
			}
			m := newPane(t, newFake(catalogPlan()), app, "", true, mono)
			m.SetSize(sz[0], sz[1])
			m.Init()
			panetest.CheckGeometry(t, m.View(), sz[0], sz[1])
		}
	}
}
