package syncpane

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
	"github.com/fleetdeck/fleetdeck/ui/internal/fixture"
	"github.com/fleetdeck/fleetdeck/ui/internal/panetest"
	"github.com/fleetdeck/fleetdeck/ui/theme"
)

// The fixture: the sandbox's catalog-api, synced by Argo CD on the production clusters and
// by Flux on staging, and ledger, which no operator applies.
var app = scenario.CatalogAPI

func argo(a, c string) Target {
	return Target{App: a, Cluster: c, Operator: fleet.OperatorArgoCD, Kind: "Application", ObjectCluster: scenario.ArgoHub,
		Namespace: scenario.ArgoNamespace, Name: a + "-" + c}
}

func flux(a, c string) Target {
	return Target{App: a, Cluster: c, Operator: fleet.OperatorFlux, Kind: "Kustomization", ObjectCluster: c,
		Namespace: scenario.FluxNamespace, Name: a}
}

func declared(a, c string) Target {
	return Target{App: a, Cluster: c, Operator: fleet.OperatorDeclared, ObjectCluster: c}
}

func catalogPlan() Plan {
	return Plan{App: app, Targets: []Target{argo(app, scenario.ProdEU), argo(app, scenario.ProdUS), flux(app, scenario.Staging)}}
}

// mixedPlan is search-indexer with its staging instance declared only.
func mixedPlan() Plan {
	a := scenario.SearchIndexer
	return Plan{App: a, Targets: []Target{argo(a, scenario.ProdEU), argo(a, scenario.ProdUS), declared(a, scenario.Staging)}}
}

func ledgerPlan() Plan {
	a := scenario.Ledger
	return Plan{App: a, Targets: []Target{declared(a, scenario.ProdEU), declared(a, scenario.ProdUS), declared(a, scenario.Staging)}}
}

func at(d time.Duration) time.Time { return fixture.Now.Add(d) }

const fluxRev = "main@sha1:9f8e7d6"

// phases are what each cluster's operator reports for catalog-api: Argo CD succeeds on both
// production clusters, Flux fails on staging.
func phases() map[string][]Phase {
	argoOK := func(c string, start time.Duration) []Phase {
		return []Phase{
			{State: StateRequested, Text: "Application argocd/catalog-api-" + c + " on prod-eu", At: at(start)},
			{State: StatePending, Text: "sync operation: waiting for Argo CD's application controller to start the operation", At: at(start + 100*time.Millisecond)},
			{State: StateRunning, Text: "sync operation: one or more tasks are running", At: at(start + 1200*time.Millisecond)},
			{State: StateSucceeded, Text: "sync operation: successfully synced (all tasks run) (Synced, Healthy, at 1a2b3c4)",
				Sync: "Synced", Health: "Healthy", Revision: "1a2b3c4", At: at(start + 2300*time.Millisecond)},
		}
	}
	return map[string][]Phase{
		scenario.ProdEU: argoOK(scenario.ProdEU, 0),
		scenario.ProdUS: argoOK(scenario.ProdUS, 200*time.Millisecond),
		scenario.Staging: {
			{State: StateRequested, Text: "Kustomization flux-system/catalog-api on staging", At: at(300 * time.Millisecond)},
			{State: StatePending, Text: "source GitRepository flux-system/fleet-gitops: waiting for source-controller to fetch", At: at(400 * time.Millisecond)},
			{State: StatePending, Text: "Kustomization flux-system/catalog-api: source at " + fluxRev + "; reconcile requested", Revision: fluxRev, At: at(2 * time.Second)},
			{State: StateFailed, Text: "Kustomization flux-system/catalog-api: Deployment/catalog/catalog-api dry-run failed: spec.replicas: Invalid value: -1 (NotReady, at " + fluxRev + ")",
				Health: "NotReady", Revision: fluxRev, At: at(3500 * time.Millisecond)},
		},
	}
}

// fakeSync plans from a fixed plan and plays each cluster's phases. Calls run in tea.Cmds, on
// the program's goroutines under teatest: the fields are guarded.
type fakeSync struct {
	mu        sync.Mutex
	plan      Plan
	planErr   error
	planBlock chan struct{} // when set, Plan waits for it or for its context
	phases    map[string][]Phase
	hold      map[string]int  // cluster → phases sent before waiting for the context's end
	planCalls []string        // app/cluster
	synced    []Target        // Sync calls, in order
	ended     map[string]bool // clusters whose Sync goroutine saw its context end
}

func newFake(p Plan) *fakeSync {
	return &fakeSync{plan: p, phases: phases(), hold: map[string]int{}, ended: map[string]bool{}}
}

func (f *fakeSync) Plan(ctx context.Context, a, c string) (Plan, error) {
	f.mu.Lock()
	f.planCalls = append(f.planCalls, a+"/"+c)
	block, p, err := f.planBlock, f.plan, f.planErr
	f.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return Plan{}, ctx.Err()
		}
	}
	return p, err
}

func (f *fakeSync) Sync(ctx context.Context, t Target) <-chan Phase {
	f.mu.Lock()
	f.synced = append(f.synced, t)
	ps := f.phases[t.Cluster]
	hold, held := f.hold[t.Cluster]
	f.mu.Unlock()
	ch := make(chan Phase)
	go func() {
		defer close(ch)
		wait := func() {
			<-ctx.Done()
			f.mu.Lock()
			f.ended[t.Cluster] = true
			f.mu.Unlock()
		}
		for i, p := range ps {
			if held && i == hold {
				wait()
				return
			}
			select {
			case ch <- p:
			case <-ctx.Done():
				wait()
				return
			}
		}
		if held && hold >= len(ps) {
			wait()
		}
	}()
	return ch
}

func (f *fakeSync) syncedClusters() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, t := range f.synced {
		out = append(out, t.Cluster)
	}
	return out
}

func testTheme(t testing.TB, mono bool) theme.Theme {
	t.Helper()
	th, err := theme.New("", mono)
	if err != nil {
		t.Fatal(err)
	}
	return th
}

func newPane(t testing.TB, be Backend, a, cluster string, readOnly, mono bool) *Model {
	t.Helper()
	m := New(Options{App: a, Cluster: cluster, Backend: be, ReadOnly: readOnly, Theme: testTheme(t, mono),
		Now: func() time.Time { return fixture.Now }})
	t.Cleanup(m.Close)
	return m
}

// driver runs a pane without a program: each command runs at once and its messages go back
// to the pane, except those meant for the parent, which are kept. It suits backends that
// never hold a phase back.
type driver struct {
	m   *Model
	out []tea.Msg
}

func (d *driver) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	switch msg := cmd().(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range msg {
			d.run(c)
		}
	case ClosedMsg:
		d.out = append(d.out, msg)
	default:
		d.run(d.m.Update(msg))
	}
}

func (d *driver) press(keys ...string) {
	for _, k := range keys {
		d.run(d.m.Update(panetest.KeyMsg(k)))
	}
}

func (d *driver) screen() string { return ansi.Strip(d.m.View()) }

// open is a mono pane of size w×h with its plan loaded.
func open(t testing.TB, be Backend, a, cluster string, readOnly bool, w, h int) *driver {
	t.Helper()
	m := newPane(t, be, a, cluster, readOnly, true)
	m.SetSize(w, h)
	d := &driver{m: m}
	d.run(m.Init())
	return d
}

// host runs the pane in a Bubble Tea program as the parent does.
type host struct {
	pane *Model
	// wantLogs is how many phases to wait for before the program is stopped.
	wantLogs int

	mu     sync.Mutex
	screen string
	closed bool
}

func (h *host) Init() tea.Cmd { return h.pane.Init() }

func (h *host) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	h.mu.Lock()
	defer h.mu.Unlock()
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		h.pane.SetSize(msg.Width, msg.Height)
	case ClosedMsg:
		h.closed = true
	default:
		cmd = h.pane.Update(msg)
	}
	h.screen = ansi.Strip(h.pane.View())
	return h, cmd
}

func (h *host) View() tea.View { return tea.NewView(h.pane.View()) }

func (h *host) plain() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.screen
}

type step struct{ key, wait string }

// startHost starts the pane in a program at w×h.
func startHost(t *testing.T, hs *host, w, h int) *teatest.TestModel {
	t.Helper()
	return panetest.Start(t, hs, w, h, hs.pane.th.Mono)
}

func stopHost(t *testing.T, tm *teatest.TestModel) {
	t.Helper()
	panetest.Stop(t, tm)
}

// runHost starts the pane in a program at w×h, waits for first, plays the steps, waits for
// wantLogs phases and returns the host after the program ended.
func runHost(t *testing.T, hs *host, w, h int, first string, steps ...step) *host {
	t.Helper()
	tm := startHost(t, hs, w, h)
	waitScreen(t, hs, first)
	for _, s := range steps {
		tm.Send(panetest.KeyMsg(s.key))
		waitScreen(t, hs, s.wait)
	}
	n := 0
	if !panetest.Poll(func() bool {
		hs.mu.Lock()
		n = len(hs.pane.log)
		hs.mu.Unlock()
		return n >= hs.wantLogs
	}) {
		t.Fatalf("%d phases after 5 s, want %d; last screen:\n%s", n, hs.wantLogs, hs.plain())
	}
	final := panetest.Stop(t, tm).(*host)
	if final.pane.width != w || final.pane.height != h {
		t.Fatalf("final size %dx%d, want %dx%d", final.pane.width, final.pane.height, w, h)
	}
	return final
}

func waitScreen(t *testing.T, hs *host, text string) {
	t.Helper()
	if !panetest.Poll(func() bool { return strings.Contains(panetest.Flat(hs.plain()), text) }) {
		t.Fatalf("screen never showed %q; last screen:\n%s", text, hs.plain())
	}
}
