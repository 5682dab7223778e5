package diffpane

import (
	"context"
	"strings"
	"sync"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/fleetdeck/fleetdeck/fleet/fleettest"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
	"github.com/fleetdeck/fleetdeck/ui/internal/panetest"
	"github.com/fleetdeck/fleetdeck/ui/theme"
)

// The fixture: the sandbox's hand-patched app on the cluster where it was patched, with an
// object only in git and one only live besides the changed Deployment.
var (
	app      = scenario.PaymentsAPI
	cluster  = scenario.ProdUS
	gitRev   = fleettest.FakeSHA(app, "bump", "1.4.0")
	liveRev  = gitRev
	deployNS = "payments"
)

const deployDiff = `--- live/prod-us/apps.Deployment.payments.payments-api
+++ git/prod-us/apps.Deployment.payments.payments-api
@@ -8,7 +8,7 @@
   template:
     spec:
       containers:
-      - image: registry.fleetdeck.test/shop/payments-api:hotfix-manual-1
+      - image: registry.fleetdeck.test/shop/payments-api:1.4.0
         name: payments-api
         ports:
         - containerPort: 8080
`

const flagsDiff = `--- /dev/null
+++ git/prod-us/ConfigMap.payments.payments-flags
@@ -0,0 +1,7 @@
+apiVersion: v1
+data:
+  checkout: "on"
+kind: ConfigMap
+metadata:
+  name: payments-flags
+  namespace: payments
`

const legacyDiff = `--- live/prod-us/ConfigMap.payments.payments-legacy
+++ /dev/null
@@ -1,7 +0,0 @@
-apiVersion: v1
-data:
-	mode: legacy
-kind: ConfigMap
-metadata:
-  name: payments-legacy
-  namespace: payments
`

func changedInstance() Instance {
	return Instance{App: app, Cluster: cluster, Branch: scenario.Branch, Revision: gitRev, LiveRevision: liveRev,
		Objects: []Object{
			{Kind: "ConfigMap", Namespace: deployNS, Name: "payments-flags", Status: OnlyInGit, Diff: flagsDiff},
			{Kind: "ConfigMap", Namespace: deployNS, Name: "payments-legacy", Status: OnlyLive, Diff: legacyDiff},
			{Group: "apps", Kind: "Deployment", Namespace: deployNS, Name: "payments-api", Status: Changed, Diff: deployDiff},
			{Kind: "Service", Namespace: deployNS, Name: "payments-api", Status: Same},
		}}
}

func sameInstance(c string) Instance {
	return Instance{App: app, Cluster: c, Branch: scenario.Branch, Revision: gitRev, LiveRevision: gitRev,
		Objects: []Object{
			{Group: "apps", Kind: "Deployment", Namespace: deployNS, Name: "payments-api", Status: Same},
			{Kind: "Service", Namespace: deployNS, Name: "payments-api", Status: Same},
		}}
}

// fakeBackend answers from a fixed result, or an error, and records each call. Calls run in
// tea.Cmds, on the program's goroutines under teatest: the fields are guarded.
type fakeBackend struct {
	mu     sync.Mutex
	result Result
	err    error
	block  chan struct{} // when set, Diff waits for it or for its context
	calls  []string      // app/cluster asked, in order
	ctxs   []context.Context
	ended  []error // the context errors blocked calls ended with
}

func (f *fakeBackend) Diff(ctx context.Context, a, c string) (Result, error) {
	f.mu.Lock()
	f.calls = append(f.calls, a+"/"+c)
	f.ctxs = append(f.ctxs, ctx)
	block, res, err := f.block, f.result, f.err
	f.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			f.mu.Lock()
			f.ended = append(f.ended, ctx.Err())
			f.mu.Unlock()
			return Result{}, ctx.Err()
		}
	}
	return res, err
}

func (f *fakeBackend) callList() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func testTheme(t testing.TB, mono bool) theme.Theme {
	t.Helper()
	th, err := theme.New("", mono)
	if err != nil {
		t.Fatal(err)
	}
	return th
}

func newPane(t testing.TB, be Backend, target Target, mono bool) *Model {
	t.Helper()
	m := New(Options{Target: target, Backend: be, Theme: testTheme(t, mono)})
	t.Cleanup(m.Close)
	return m
}

// driver runs a pane without a program: each command runs at once and its messages go back
// to the pane, except those meant for the parent, which are kept.
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

// open is a mono pane of size w×h with its comparison done.
func open(t testing.TB, be Backend, target Target, w, h int) *driver {
	t.Helper()
	m := newPane(t, be, target, true)
	m.SetSize(w, h)
	d := &driver{m: m}
	d.run(m.Init())
	return d
}

// host runs the pane in a Bubble Tea program as the parent does: it sizes it and passes it
// every message. The plain screen after each message is kept for the test to wait on.
type host struct {
	pane *Model

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

// step is a key to press, then the text to wait for before the next one.
type step struct{ key, wait string }

// runHost starts the pane in a program at w×h, waits for first, plays the steps and returns
// the host after the program ended.
func runHost(t *testing.T, hs *host, w, h int, first string, steps ...step) *host {
	t.Helper()
	tm := panetest.Start(t, hs, w, h, hs.pane.th.Mono)
	waitScreen(t, hs, first)
	for _, s := range steps {
		tm.Send(panetest.KeyMsg(s.key))
		waitScreen(t, hs, s.wait)
	}
	final := panetest.Stop(t, tm).(*host)
	if final.pane.width != w || final.pane.height != h {
		t.Fatalf("final size %dx%d, want %dx%d", final.pane.width, final.pane.height, w, h)
	}
	return final
}

func waitScreen(t *testing.T, hs *host, text string) {
	t.Helper()
	if !panetest.Poll(func() bool { return strings.Contains(hs.plain(), text) }) {
		t.Fatalf("screen never showed %q; last screen:\n%s", text, hs.plain())
	}
}
