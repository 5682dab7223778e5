package historypane

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
	"github.com/fleetdeck/fleetdeck/ui/internal/panetest"
)

func TestLoadingThenList(t *testing.T) {
	be := newFake()
	m := newPane(t, be, false, true)
	m.SetSize(80, 24)
	d := &driver{t: t, m: m}
	cmd := m.Init()
	if got := d.screen(); !strings.Contains(got, "loading history…") {
		t.Fatalf("before the history arrives the pane should say it is loading:\n%s", got)
	}
	d.run(cmd)
	got := d.screen()
	for _, want := range []string{
		"History · auth-service · 5 commits, newest first",
		fleet.ShortSHA(badBump) + "    2h  ci(auth-service): bump staging image to 1.5.0",
		"◀ " + badProblem.Cluster,
		"CI Bot · auth-service 1.4.0 → 1.5.0 on staging",
		"◀ prod-eu ◀ prod-us",
		"Ada Lovelace · also changed payments-api",
		"auth-service 1.3.0 → 1.4.0 on prod-eu, prod-us, staging",
		"(none) → 1.2.0",
		"40d",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("list lacks %q:\n%s", want, got)
		}
	}
	// Newest first, as the backend gave them.
	if strings.Index(got, fleet.ShortSHA(badBump)) > strings.Index(got, fleet.ShortSHA(initial)) {
		t.Errorf("commits are not newest first:\n%s", got)
	}
	if h, _, _ := be.calls(); h != 1 {
		t.Errorf("History called %d times, want 1", h)
	}
}

// TestKeys drives the pane from its opening and checks the calls it makes and what it shows.
func TestKeys(t *testing.T) {
	type step struct {
		keys []string
		text string // typed rune by rune after keys
	}
	tests := []struct {
		name     string
		setup    func(*fakeBackend)
		readOnly bool
		steps    []step
		previews []previewCall
		applies  []applyCall
		done     []RevertDoneMsg
		closed   bool
		want     []string // on the final screen
		wantNot  []string
	}{
		{
			name:     "r then p reverts the newest commit and pushes it",
			steps:    []step{{keys: []string{"r", "p"}}},
			previews: []previewCall{{badBump, Revert}},
			applies:  []applyCall{{badBump, Revert, "", true}},
			done: []RevertDoneMsg{{App: app, Pushed: true, Result: Result{Commit: revertSHA,
				Branch: "fleetdeck/revert-auth-service-" + fleet.ShortSHA(badBump), Pushed: scenario.Branch,
				Message: "The operator rolls auth-service back on staging at its next sync."}}},
			want: []string{"committed " + fleet.ShortSHA(revertSHA) + " and pushed it to main", "at its next sync", "esc back to history"},
		},
		{
			name:     "y commits without pushing and says what to do next",
			steps:    []step{{keys: []string{"r", "y"}}},
			previews: []previewCall{{badBump, Revert}},
			applies:  []applyCall{{badBump, Revert, "", false}},
			done: []RevertDoneMsg{{App: app, Pushed: false, Result: Result{Commit: revertSHA,
				Branch:  "fleetdeck/revert-auth-service-" + fleet.ShortSHA(badBump),
				Message: "The commit is on local branch fleetdeck/revert-auth-service-" + fleet.ShortSHA(badBump) + " in fleetdeck's clone. Push it with: fleetdeck revert auth-service " + fleet.ShortSHA(badBump) + " --push"}}},
			want: []string{"on local branch fleetdeck/revert-auth-service-" + fleet.ShortSHA(badBump) + "; not pushed", "--push"},
		},
		{
			name: "the reason is typed after e, takes y and p as text, and ends with enter",
			steps: []step{
				{keys: []string{"r", "e"}, text: "crashloop, rolled back by yp"},
				{keys: []string{"enter", "p"}},
			},
			previews: []previewCall{{badBump, Revert}},
			applies:  []applyCall{{badBump, Revert, "crashloop, rolled back by yp", true}},
			want:     []string{"pushed it to main"},
		},
		{
			name: "tab also edits the reason; backspace and ctrl+u edit it",
			steps: []step{
				{keys: []string{"r", "tab"}, text: "bad"},
				{keys: []string{"backspace", "backspace"}, text: "oot loop"},
				{keys: []string{"tab", "y"}},
			},
			previews: []previewCall{{badBump, Revert}},
			applies:  []applyCall{{badBump, Revert, "boot loop", false}},
		},
		{
			name: "esc while editing restores the reason, esc again cancels without writing",
			steps: []step{
				{keys: []string{"r", "e"}, text: "first"},
				{keys: []string{"enter", "e"}, text: " second"},
				{keys: []string{"esc"}},
			},
			previews: []previewCall{{badBump, Revert}},
			want:     []string{"reason: first", "y commit · p commit and push · e reason · esc cancel"},
			wantNot:  []string{"second"},
		},
		{
			name:     "esc cancels the dialog without calling Apply",
			steps:    []step{{keys: []string{"r", "esc"}}},
			previews: []previewCall{{badBump, Revert}},
			want:     []string{"r revert · a app-only revert · b roll back to"},
		},
		{
			name:     "read-only refuses r, a, b and R before planning anything",
			readOnly: true,
			steps:    []step{{keys: []string{"y", "p", "r", "a", "b", "R"}}},
			want:     []string{ReadOnlyMessage, "READ-ONLY"},
		},
		{
			name:     "a conflict refuses y and p; only esc leaves",
			steps:    []step{{keys: []string{"j", "j", "r", "y", "p", "e"}}},
			previews: []previewCall{{goodBump, Revert}},
			want:     []string{"✗ conflicts in " + valuesPath(badProblem.Cluster), "nothing can be written", "esc back"},
			wantNot:  []string{"y commit", "reason:"},
		},
		{
			name:     "a commit that touched another app offers an app-only revert, and a takes it",
			steps:    []step{{keys: []string{"j", "r", "a", "p"}}},
			previews: []previewCall{{sharedEdit, Revert}, {sharedEdit, AppOnly}},
			applies:  []applyCall{{sharedEdit, AppOnly, "", true}},
		},
		{
			name: "a conflicting commit that touched another app still offers the app-only revert",
			setup: func(f *fakeBackend) {
				p := f.previews[previewKey(sharedEdit, Revert)]
				p.Conflicts, p.Diff = []string{"k8s/payments-api/values.yaml"}, ""
				f.previews[previewKey(sharedEdit, Revert)] = p
			},
			steps:    []step{{keys: []string{"j", "r", "y", "a", "y"}}},
			previews: []previewCall{{sharedEdit, Revert}, {sharedEdit, AppOnly}},
			applies:  []applyCall{{sharedEdit, AppOnly, "", false}},
		},
		{
			name:     "a in the list plans an app-only revert at once",
			steps:    []step{{keys: []string{"j", "a"}}},
			previews: []previewCall{{sharedEdit, AppOnly}},
			want:     []string{"in auth-service only", "the changes to payments-api stay as they are", "- memory: 512Mi"},
			wantNot:  []string{"payments-api/values.yaml"},
		},
		{
			name:     "b rolls back to the selected commit",
			steps:    []step{{keys: []string{"G", "k", "k", "b", "y"}}},
			previews: []previewCall{{goodBump, Rollback}},
			applies:  []applyCall{{goodBump, Rollback, "", false}},
		},
		{
			name:     "a preview that cannot be written refuses y",
			steps:    []step{{keys: []string{"G", "r", "y"}}},
			previews: []previewCall{{initial, Revert}},
			want:     []string{"✗ nothing to revert"},
		},
		{
			name:     "a failed preview is shown and refuses p",
			setup:    func(f *fakeBackend) { f.previewErr = errors.New("repository fleet-gitops: fetch: connection refused") },
			steps:    []step{{keys: []string{"r", "p"}}},
			previews: []previewCall{{badBump, Revert}},
			want:     []string{"could not plan the revert of " + fleet.ShortSHA(badBump) + ": repository fleet-gitops: fetch:", "esc back"},
		},
		{
			name:     "a refused push is shown with the way out",
			setup:    func(f *fakeBackend) { f.applyErrs = []error{errMoved} },
			steps:    []step{{keys: []string{"r", "p", "y", "p"}}},
			previews: []previewCall{{badBump, Revert}},
			applies:  []applyCall{{badBump, Revert, "", true}},
			want:     []string{"✗ could not write the revert of " + fleet.ShortSHA(badBump) + ": branch main moved", "r plan again · esc back to history"},
		},
		{
			name:     "a refused push is shown; r plans again and p pushes",
			setup:    func(f *fakeBackend) { f.applyErrs = []error{errMoved} },
			steps:    []step{{keys: []string{"r", "p"}}, {keys: []string{"r", "p"}}},
			previews: []previewCall{{badBump, Revert}, {badBump, Revert}},
			applies:  []applyCall{{badBump, Revert, "", true}, {badBump, Revert, "", true}},
			want:     []string{"pushed it to main"},
		},
		{
			name:  "a history that cannot be read is shown, and r has nothing to revert",
			setup: func(f *fakeBackend) { f.historyErr = errors.New("repository fleet-gitops: not cloned yet") },
			steps: []step{{keys: []string{"r"}}},
			want:  []string{"could not read the history of auth-service: repository fleet-gitops: not cloned yet", "no commit to revert"},
		},
		{
			name:   "esc in the list closes the pane",
			steps:  []step{{keys: []string{"esc", "r", "p"}}},
			closed: true,
		},
		{
			name:   "q in the list closes the pane",
			steps:  []step{{keys: []string{"q"}}},
			closed: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := newFake()
			if tt.setup != nil {
				tt.setup(be)
			}
			d := open(t, be, tt.readOnly, 80, 24)
			for _, s := range tt.steps {
				d.press(s.keys...)
				d.typeText(s.text)
			}
			_, previews, applies := be.calls()
			if !reflect.DeepEqual(previews, tt.previews) {
				t.Errorf("Preview calls = %v, want %v", previews, tt.previews)
			}
			if !reflect.DeepEqual(applies, tt.applies) {
				t.Errorf("Apply calls = %+v, want %+v", applies, tt.applies)
			}
			var done []RevertDoneMsg
			closed := false
			for _, msg := range d.out {
				switch msg := msg.(type) {
				case RevertDoneMsg:
					done = append(done, msg)
				case ClosedMsg:
					closed = true
					if msg.App != app {
						t.Errorf("ClosedMsg for %q, want %q", msg.App, app)
					}
				}
			}
			if tt.done != nil && !reflect.DeepEqual(done, tt.done) {
				t.Errorf("RevertDoneMsg = %+v, want %+v", done, tt.done)
			}
			if len(done) != len(tt.applies)-countErrs(tt.setup) {
				t.Errorf("%d RevertDoneMsg for %d successful writes", len(done), len(tt.applies)-countErrs(tt.setup))
			}
			if closed != tt.closed {
				t.Errorf("closed = %v, want %v", closed, tt.closed)
			}
			got := d.screen()
			panetest.CheckGeometry(t, d.m.View(), 80, 24)
			for _, w := range tt.want {
				if !strings.Contains(panetest.Flat(got), w) {
					t.Errorf("screen lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(got, w) {
					t.Errorf("screen has %q:\n%s", w, got)
				}
			}
		})
	}
}

// countErrs is how many Apply calls of a test's setup fail.
func countErrs(setup func(*fakeBackend)) int {
	if setup == nil {
		return 0
	}
	f := newFake()
	setup(f)
	return len(f.applyErrs)
}

// TestRevertRefreshesHistory: after a write the history is read again, the new commit is on
// top and the cursor stays on the commit it was on.
func TestRevertRefreshesHistory(t *testing.T) {
	be := newFake()
	d := open(t, be, false, 80, 24)
	d.press("r", "p")
	if h, _, _ := be.calls(); h != 2 {
		t.Fatalf("History called %d times, want 2 (open, after the write)", h)
	}
	d.press("esc")
	got := d.screen()
	if !strings.Contains(got, "6 commits") || !strings.Contains(got, `Revert "ci(auth-service): bump staging image to 1.5.0"`) {
		t.Errorf("the revert commit is not listed after the write:\n%s", got)
	}
	if c := d.m.commits[d.m.cursor]; c.SHA != badBump {
		t.Errorf("cursor on %s, want it to stay on the reverted commit %s", c.Short, fleet.ShortSHA(badBump))
	}
}

// TestCapturing: the parent must not take keys while the reason is edited.
func TestCapturing(t *testing.T) {
	d := open(t, newFake(), false, 80, 24)
	if d.m.Capturing() {
		t.Fatal("capturing in the list")
	}
	d.press("r")
	if d.m.Capturing() {
		t.Fatal("capturing before e")
	}
	d.press("e")
	if !d.m.Capturing() {
		t.Fatal("not capturing while the reason is edited")
	}
	d.typeText("q?:")
	d.run(d.m.Update(tea.PasteMsg{Content: " pasted\x1b]52;c;ZXZpbA==\x07 text\n"}))
	if !strings.Contains(d.screen(), "reason: q?: pasted text ▏") {
		t.Errorf("typed and pasted text not in the reason (escapes must be removed):\n%s", d.screen())
	}
	d.press("enter")
	if d.m.Capturing() {
		t.Fatal("still capturing after enter")
	}
}

// TestConfirmBeforePreview: y or p pressed before the preview arrives write nothing: the user
// confirms what they saw.
func TestConfirmBeforePreview(t *testing.T) {
	be := newFake()
	d := open(t, be, false, 80, 24)
	preview := d.m.Update(panetest.KeyMsg("r"))
	if !strings.Contains(d.screen(), "preparing the revert…") {
		t.Errorf("no sign of the preview being prepared:\n%s", d.screen())
	}
	d.press("p", "y")
	if _, _, applies := be.calls(); len(applies) != 0 {
		t.Fatalf("Apply called before the preview was shown: %v", applies)
	}
	if !strings.Contains(d.screen(), "the preview is still being prepared") {
		t.Errorf("p before the preview says nothing:\n%s", d.screen())
	}
	d.run(preview)
	d.press("p")
	if _, _, applies := be.calls(); len(applies) != 1 || !applies[0].Push {
		t.Fatalf("Apply calls after the preview = %v, want one push", applies)
	}
}

// TestStaleReplies: replies to requests the user moved away from are dropped.
func TestStaleReplies(t *testing.T) {
	be := newFake()
	d := open(t, be, false, 80, 24)

	// A preview that arrives after esc does not reopen the dialog.
	late := d.m.Update(panetest.KeyMsg("r"))
	d.press("esc")
	d.run(late)
	if d.m.dlg != nil {
		t.Fatal("a preview that arrived after esc reopened the dialog")
	}
	// A preview for the first mode arriving after a switch to app-only is dropped.
	d.press("j", "r")
	first := d.m.dlg.seq
	appOnly := d.m.Update(panetest.KeyMsg("a"))
	d.m.Update(previewMsg{pane: d.m.id, seq: first, preview: Preview{Title: "stale"}})
	if d.m.dlg.stage != stagePlanning {
		t.Fatal("a stale preview was taken")
	}
	d.run(appOnly)
	if d.m.dlg.mode != AppOnly || d.m.dlg.stage != stageConfirm {
		t.Fatalf("dialog in mode %v stage %v, want the app-only preview", d.m.dlg.mode, d.m.dlg.stage)
	}
	// Another pane's history does not replace this one's.
	d.m.Update(historyMsg{pane: d.m.id + 1000, seq: d.m.seq, commits: nil})
	if len(d.m.commits) != 5 {
		t.Fatalf("another pane's history replaced this one's: %d commits", len(d.m.commits))
	}
}

// TestCloseCancelsCalls: closing the pane ends the calls it started.
func TestCloseCancelsCalls(t *testing.T) {
	be := newFake()
	be.block = make(chan struct{})
	m := newPane(t, be, false, true)
	m.SetSize(80, 24)
	cmd := m.Init()
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	d := &driver{t: t, m: m}
	d.press("esc")
	select {
	case msg := <-done:
		if hm, ok := msg.(historyMsg); !ok || !errors.Is(hm.err, context.Canceled) {
			t.Errorf("history call ended with %#v, want context.Canceled", msg)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("closing the pane did not end the history call")
	}
	if m.Update(panetest.KeyMsg("r")) != nil || m.dlg != nil {
		t.Error("a closed pane still acts on keys")
	}
}

func TestDiffScroll(t *testing.T) {
	be := newFake()
	var long strings.Builder
	long.WriteString("--- a/values.yaml\n+++ b/values.yaml\n@@ -1,40 +1,40 @@\n")
	for i := range 40 {
		fmt.Fprintf(&long, "-line %d old\n+line %d new\n", i, i)
	}
	p := be.previews[previewKey(badBump, Revert)]
	p.Diff = long.String()
	be.previews[previewKey(badBump, Revert)] = p
	d := open(t, be, false, 60, 20)
	d.press("r")
	if !strings.Contains(d.screen(), "lines 1–") || !strings.Contains(d.screen(), "-line 0 old") {
		t.Fatalf("diff not shown from its first line:\n%s", d.screen())
	}
	d.press("j", "j")
	if !strings.Contains(d.screen(), "lines 3–") || strings.Contains(d.screen(), "+++ b/values.yaml") {
		t.Errorf("j does not scroll the diff:\n%s", d.screen())
	}
	d.press("G")
	if !strings.Contains(d.screen(), "+line 39 new") || !strings.Contains(d.screen(), "of 83 ") {
		t.Errorf("G does not show the end of the diff:\n%s", d.screen())
	}
	d.press("pgdown", "j")
	if !strings.Contains(d.screen(), "+line 39 new") {
		t.Errorf("scrolling past the end lost the last line:\n%s", d.screen())
	}
	d.press("g")
	if !strings.Contains(d.screen(), "lines 1–") {
		t.Errorf("g does not go back to the top:\n%s", d.screen())
	}
	panetest.CheckGeometry(t, d.m.View(), 60, 20)
}

func TestListScroll(t *testing.T) {
	be := newFake()
	for i := range 30 {
		be.commits = append(be.commits, Commit{SHA: fmt.Sprintf("%040d", i), Subject: fmt.Sprintf("commit number %d", i), Author: "Ada"})
	}
	d := open(t, be, false, 60, 20)
	d.press("G")
	if !strings.Contains(d.screen(), "commit number 29") || strings.Contains(d.screen(), fleet.ShortSHA(badBump)) {
		t.Errorf("G does not show the oldest commit:\n%s", d.screen())
	}
	if !strings.Contains(d.screen(), "▸ "+fmt.Sprintf("%07d", 0)) {
		t.Errorf("cursor not on the last commit:\n%s", d.screen())
	}
	d.press("g")
	if !strings.Contains(d.screen(), "▸ "+fleet.ShortSHA(badBump)) {
		t.Errorf("g does not go back to the newest commit:\n%s", d.screen())
	}
	panetest.CheckGeometry(t, d.m.View(), 60, 20)
}

// TestHostileText: text from the repository cannot drive the terminal.
func TestHostileText(t *testing.T) {
	be := newFake()
	be.commits[0].Subject = "innocent\x1b]52;c;ZXZpbA==\x07 \x1b[2J\u202eevil"
	be.commits[0].Author = "Mallory\r\x1b[1A"
	p := be.previews[previewKey(badBump, Revert)]
	p.Diff += "+\x1b]8;;http://evil.example\x07link\x1b]8;;\x07\n"
	be.previews[previewKey(badBump, Revert)] = p
	d := open(t, be, false, 80, 24)
	for _, screen := range []string{d.m.View(), func() string { d.press("r"); return d.m.View() }()} {
		for _, bad := range []string{"\x1b]", "\x1b[2J", "\x1b[1A", "\r", "\u202e"} {
			if strings.Contains(screen, bad) {
				t.Errorf("screen contains %q", bad)
			}
		}
	}
	if !strings.Contains(d.screen(), "+link") {
		t.Errorf("the diff line lost its text:\n%s", d.screen())
	}
}

// TestSizes: every state fits any size, down to a few cells, without panicking.
func TestSizes(t *testing.T) {
	for _, keys := range [][]string{nil, {"r"}, {"j", "j", "r"}, {"r", "e"}, {"r", "p"}} {
		for _, sz := range [][2]int{{1, 1}, {10, 3}, {20, 5}, {40, 10}, {200, 60}} {
			t.Run(fmt.Sprintf("%v_%dx%d", keys, sz[0], sz[1]), func(t *testing.T) {
				d := open(t, newFake(), false, sz[0], sz[1])
				d.press(keys...)
				panetest.CheckGeometry(t, d.m.View(), sz[0], sz[1])
			})
		}
	}
	d := open(t, newFake(), false, 0, 0)
	if d.m.View() != "" {
		t.Error("a pane without a size draws something")
	}
}

func TestNoBackend(t *testing.T) {
	m := New(Options{App: app})
	m.SetSize(60, 20)
	if cmd := m.Init(); cmd != nil {
		t.Error("Init without a backend returned a command")
	}
	if got := ansi.Strip(m.View()); !strings.Contains(got, "no repository is configured") {
		t.Errorf("no explanation without a backend:\n%s", got)
	}
	m.Update(panetest.KeyMsg("r"))
	m.Update(panetest.KeyMsg("p"))
}

func TestModeString(t *testing.T) {
	for m, want := range map[Mode]string{Revert: "revert", AppOnly: "app-only revert", Rollback: "rollback", Mode(9): "unknown mode"} {
		if got := m.String(); got != want {
			t.Errorf("Mode(%d) = %q, want %q", int(m), got, want)
		}
	}
}
