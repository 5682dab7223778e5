package historypane

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/ui/internal/panetest"
)

// host runs the pane in a Bubble Tea program as the parent does: it sizes it, passes it every
// message and keeps what the pane sends the parent. The plain screen after each message is
// kept for the test to wait on: the terminal output is a stream of cell updates, not screens.
type host struct {
	pane *Model
	// wantDone is how many RevertDoneMsg to wait for before the program is stopped.
	wantDone int

	mu     sync.Mutex
	screen string
	done   []RevertDoneMsg
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
	case RevertDoneMsg:
		h.done = append(h.done, msg)
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

// step is a key to press, then the text to wait for before the next one, as a user reads the
// screen before pressing the next key.
type step struct {
	key, wait string
}

// run starts the pane in a program at w×h, waits for first, plays the steps and returns the
// host after the program ended.
func run(t *testing.T, be Backend, readOnly, mono bool, w, h int, first string, steps ...step) *host {
	t.Helper()
	return runHost(t, &host{pane: newPane(t, be, readOnly, mono)}, w, h, first, steps...)
}

func runHost(t *testing.T, hs *host, w, h int, first string, steps ...step) *host {
	t.Helper()
	tm := panetest.Start(t, hs, w, h, hs.pane.th.Mono)
	waitScreen(t, hs, first)
	for _, s := range steps {
		tm.Send(panetest.KeyMsg(s.key))
		waitScreen(t, hs, s.wait)
	}
	waitUntil(t, "RevertDoneMsg", func() bool {
		hs.mu.Lock()
		defer hs.mu.Unlock()
		return len(hs.done) >= hs.wantDone
	})
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

// waitUntil polls cond for up to 5 s and fails the test naming what when it stays false.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !panetest.Poll(cond) {
		t.Fatalf("no %s after 5 s", what)
	}
}

var sizes = [][2]int{{80, 24}, {60, 20}}

// TestScreens compares the pane's screens with golden files: the history list, the
// confirmation dialog with its diff, a conflict refusal, the result after a push, read-only
// mode, the app-only offer and the reason being typed, at 80x24 and 60x20, without colour
// (readable goldens) and, for the list and the dialog, in colour.
func TestScreens(t *testing.T) {
	loaded := "newest first"
	tests := []struct {
		name     string
		readOnly bool
		colour   bool
		setup    func(*fakeBackend)
		first    string
		steps    []step
		want     []string
	}{
		{name: "list", colour: true, first: loaded,
			want: []string{"◀ staging", "CI Bot · auth-service 1.4.0 → 1.5.0 on staging", "r revert"}},
		{name: "confirm", colour: true, first: loaded, steps: []step{{"r", "y commit"}},
			want: []string{"Revert " + fleet.ShortSHA(badBump), "clusters: staging", "-  tag: 1.5.0", "+  tag: 1.4.0",
				"y commit · p commit and push · e reason · esc cancel"}},
		{name: "app_only_offer", first: loaded, steps: []step{{"j", "▸ " + fleet.ShortSHA(sharedEdit)}, {"r", "y commit"}},
			want: []string{"this commit also changed: payments-api — press a for an app-only revert"}},
		{name: "reason", first: loaded, steps: []step{{"r", "y commit"}, {"e", "enter done"}, {"c", "reason: c"}, {"r", "reason: cr"}},
			want: []string{"reason: cr▏", "enter done · esc discard the edit"}},
		{name: "conflict", first: loaded, steps: []step{{"j", "▸ " + fleet.ShortSHA(sharedEdit)}, {"j", "▸ " + fleet.ShortSHA(goodBump)}, {"r", "esc back"}},
			want: []string{"✗ conflicts in"}},
		{name: "pushed", first: loaded, steps: []step{{"r", "y commit"}, {"p", "6 commits"}},
			want: []string{"✓ committed " + fleet.ShortSHA(revertSHA) + " and pushed it to main", "Revert " + fleet.ShortSHA(badBump), "at its next sync"}},
		{name: "push_refused", first: loaded, setup: func(f *fakeBackend) { f.applyErrs = []error{errMoved} },
			steps: []step{{"r", "y commit"}, {"p", "plan again"}}, want: []string{"nothing was pushed"}},
		{name: "readonly", readOnly: true, first: loaded, steps: []step{{"r", "read-only: reverts are disabled"}},
			want: []string{"READ-ONLY", ReadOnlyMessage}},
		{name: "history_error", first: "could not read", setup: func(f *fakeBackend) { f.historyErr = fmt.Errorf("repository fleet-gitops: not cloned yet") },
			want: []string{"could not read the history of auth-service: repository fleet-gitops: not cloned yet"}},
		{name: "loading", first: "loading history…", setup: func(f *fakeBackend) { f.block = make(chan struct{}) },
			want: []string{"loading history…"}},
	}
	for _, tt := range tests {
		for _, sz := range sizes {
			for _, mono := range []bool{true, false} {
				if !mono && (!tt.colour || sz != sizes[0]) {
					continue
				}
				name := fmt.Sprintf("%s_%dx%d_%s", tt.name, sz[0], sz[1], map[bool]string{true: "mono", false: "colour"}[mono])
				t.Run(name, func(t *testing.T) {
					be := newFake()
					if tt.setup != nil {
						tt.setup(be)
					}
					h := run(t, be, tt.readOnly, mono, sz[0], sz[1], tt.first, tt.steps...)
					got := h.pane.View()
					panetest.CheckGeometry(t, got, sz[0], sz[1])
					for _, w := range tt.want {
						if plain := ansi.Strip(got); !strings.Contains(plain, w) && !strings.Contains(panetest.Flat(plain), w) {
							t.Errorf("screen lacks %q:\n%s", w, ansi.Strip(got))
						}
					}
					panetest.Golden(t, name+".golden", got)
				})
			}
		}
	}
}

// TestRevertKeyCount: with the pane open on the crashlooping app, whose newest commit is the
// bad bump, two keys revert it and push the revert: r, then p once the diff is on screen.
func TestRevertKeyCount(t *testing.T) {
	be := newFake()
	hs := &host{pane: newPane(t, be, false, true), wantDone: 1}
	h := runHost(t, hs, 80, 24, "newest first", step{"r", "y commit"}, step{"p", "pushed it to main"})
	_, _, applies := be.calls()
	want := applyCall{SHA: badBump, Mode: Revert, Push: true}
	if len(applies) != 1 || applies[0] != want {
		t.Fatalf("Apply calls = %+v, want one: %+v", applies, want)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.done) != 1 || !h.done[0].Pushed || h.done[0].App != app || h.done[0].Result.Commit != revertSHA {
		t.Errorf("the parent got %+v, want one pushed RevertDoneMsg for %s", h.done, app)
	}
}

// TestClosedMsg: esc in the list tells the parent to close the pane.
func TestClosedMsg(t *testing.T) {
	hs := &host{pane: newPane(t, newFake(), false, true)}
	tm := teatest.NewTestModel(t, hs, teatest.WithInitialTermSize(60, 20))
	waitScreen(t, hs, "newest first")
	tm.Send(panetest.KeyMsg("esc"))
	waitUntil(t, "ClosedMsg after esc", func() bool {
		hs.mu.Lock()
		defer hs.mu.Unlock()
		return hs.closed
	})
	panetest.Stop(t, tm)
}
