package diffpane

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/fleetdeck/fleetdeck/fleet/fleettest"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
	"github.com/fleetdeck/fleetdeck/ui/theme"
)

// The -update flag rewrites golden files under testdata/. teatest's golden package defines a
// flag of that name already (defining it twice panics), so it is defined here only when no
// imported package did.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files under testdata/")
	}
}

func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if updating() {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatalf("write golden %s: %v", p, err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("read golden %s (run with -update to create it): %v", p, err)
	}
	if string(want) != got {
		t.Errorf("screen differs from %s (run with -update if the change is intended):\n--- got\n%s\n--- want\n%s", p, got, want)
	}
}

func checkGeometry(t *testing.T, screen string, w, h int) {
	t.Helper()
	lines := strings.Split(screen, "\n")
	if len(lines) != h {
		t.Errorf("screen has %d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if n := ansi.StringWidth(l); n != w {
			t.Errorf("line %d is %d cells wide, want %d: %q", i, n, w, ansi.Strip(l))
		}
	}
}

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
		d.run(d.m.Update(keyMsg(k)))
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

func keyMsg(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "pgup":
		return tea.KeyPressMsg{Code: tea.KeyPgUp}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	}
	r := []rune(k)[0]
	return tea.KeyPressMsg{Code: r, Text: k}
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
	profile := colorprofile.TrueColor
	if hs.pane.th.Mono {
		profile = colorprofile.Ascii
	}
	tm := teatest.NewTestModel(t, hs, teatest.WithInitialTermSize(w, h),
		teatest.WithProgramOptions(tea.WithColorProfile(profile)))
	waitScreen(t, hs, first)
	for _, s := range steps {
		tm.Send(keyMsg(s.key))
		waitScreen(t, hs, s.wait)
	}
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*host)
	if final.pane.width != w || final.pane.height != h {
		t.Fatalf("final size %dx%d, want %dx%d", final.pane.width, final.pane.height, w, h)
	}
	return final
}

func waitScreen(t *testing.T, hs *host, text string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(hs.plain(), text) {
		if time.Now().After(deadline) {
			t.Fatalf("screen never showed %q; last screen:\n%s", text, hs.plain())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
