package ui

import (
	"context"
	"strings"
	"sync"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
	"github.com/fleetdeck/fleetdeck/ui/historypane"
	"github.com/fleetdeck/fleetdeck/ui/internal/fixture"
	"github.com/fleetdeck/fleetdeck/ui/internal/panetest"
	"github.com/fleetdeck/fleetdeck/ui/logpane"
	"github.com/fleetdeck/fleetdeck/ui/tree"
)

// fakeLogs records what the pane asked to follow and hands out a channel per Follow.
type fakeLogs struct {
	mu      sync.Mutex
	targets []LogTarget
	ctxs    []context.Context
	chans   []chan []logpane.Line
}

func (f *fakeLogs) Follow(ctx context.Context, t LogTarget) <-chan []logpane.Line {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan []logpane.Line, 4)
	f.targets, f.ctxs, f.chans = append(f.targets, t), append(f.ctxs, ctx), append(f.chans, ch)
	return ch
}

// moveToLevel moves the cursor down to the first row of the level, expanding on the way.
func moveToLevel(t *testing.T, m *model, lvl tree.Level) tree.Row {
	t.Helper()
	for range 40 {
		row, _ := m.selected()
		if row.Level == lvl {
			return row
		}
		if row.Level < lvl {
			press(m, "right")
		} else {
			press(m, "j")
		}
	}
	t.Fatalf("no row of level %v reached", lvl)
	return tree.Row{}
}

func TestLogPaneFollowsTheSelectedRow(t *testing.T) {
	fm := fixture.Sandbox()
	for _, tc := range []struct {
		level tree.Level
		check func(t *testing.T, row tree.Row, got LogTarget)
	}{
		{tree.LevelApp, func(t *testing.T, row tree.Row, got LogTarget) {
			if got != (LogTarget{App: row.Key.App}) {
				t.Errorf("app row follows %+v, want the app on every cluster", got)
			}
		}},
		{tree.LevelInstance, func(t *testing.T, row tree.Row, got LogTarget) {
			if got != (LogTarget{App: row.Key.App, Cluster: row.Key.Cluster}) || got.Cluster == "" {
				t.Errorf("instance row follows %+v, want %s on %s", got, row.Key.App, row.Key.Cluster)
			}
		}},
		{tree.LevelPod, func(t *testing.T, row tree.Row, got LogTarget) {
			if got.Pod == "" || got.Namespace == "" || got.Cluster != row.Key.Cluster || got.Namespace+"/"+got.Pod != row.Key.Pod {
				t.Errorf("pod row %q follows %+v, want that pod only", row.Key.Pod, got)
			}
		}},
	} {
		logs := &fakeLogs{}
		m := newTestModel(t, Options{Logs: logs}, 100, 30, &fm)
		row := moveToLevel(t, m, tc.level)
		press(m, "l")
		if m.pane == nil || len(logs.targets) != 1 {
			t.Fatalf("level %v: l opened no log pane (%d follows)", tc.level, len(logs.targets))
		}
		tc.check(t, row, logs.targets[0])
		if !strings.Contains(plain(m), logs.targets[0].String()) {
			t.Errorf("level %v: the pane's title %q is not on screen:\n%s", tc.level, logs.targets[0].String(), plain(m))
		}
	}
}

func TestLogPaneShowsBatchesAndClosesItsStreams(t *testing.T) {
	fm := fixture.Sandbox()
	logs := &fakeLogs{}
	m := newTestModel(t, Options{Logs: logs}, 100, 30, &fm)
	press(m, "l")
	if m.pane == nil {
		t.Fatal("no pane")
	}
	id := m.pane.id
	m.Update(logBatchMsg{id: id, ok: true, lines: []logpane.Line{{Cluster: scenario.ProdEU, Pod: "p-1", Container: "c", Text: "first line from the pod"}}})
	// A batch for a pane closed earlier (an older id) is dropped, never painted over this one.
	m.Update(logBatchMsg{id: id - 1, ok: true, lines: []logpane.Line{{Cluster: scenario.ProdEU, Pod: "p-0", Text: "stale line"}}})
	s := plain(m)
	if !strings.Contains(s, "first line from the pod") || strings.Contains(s, "stale line") {
		t.Fatalf("pane screen:\n%s", s)
	}
	// The tree keeps its models while the pane is open.
	m.Update(modelMsg{fixture.Recovered()})
	if !m.loaded || m.pane == nil {
		t.Fatal("a fleet update closed the pane")
	}
	_, cmd := m.Update(panetest.KeyMsg("esc"))
	if cmd == nil {
		t.Fatal("esc returned no command")
	}
	m.Update(cmd())
	if m.pane != nil {
		t.Fatal("esc did not close the pane")
	}
	if logs.ctxs[0].Err() == nil {
		t.Error("closing the pane did not end its streams' context")
	}
	if !strings.Contains(plain(m), scenario.AuthService) {
		t.Errorf("after closing, the tree is not back:\n%s", plain(m))
	}
}

func TestPanesUnavailable(t *testing.T) {
	fm := fixture.Sandbox()
	m := newTestModel(t, Options{}, 100, 30, &fm)
	press(m, "l")
	if m.pane != nil || !strings.Contains(plain(m), "logs are not available") {
		t.Errorf("l without a log source:\n%s", plain(m))
	}
	press(m, "H")
	if m.pane != nil || !strings.Contains(plain(m), "history is not available") {
		t.Errorf("H without a history backend:\n%s", plain(m))
	}
}

// fakeHistory is a Backend with one commit.
type fakeHistory struct{ apps []string }

func (f *fakeHistory) History(_ context.Context, app string, _ int) ([]historypane.Commit, error) {
	f.apps = append(f.apps, app)
	return []historypane.Commit{{SHA: strings.Repeat("b", 40), Short: "bbbbbbb", Author: "ci-bot", Subject: "bump image"}}, nil
}

func (f *fakeHistory) Preview(context.Context, string, string, historypane.Mode) (historypane.Preview, error) {
	return historypane.Preview{}, nil
}

func (f *fakeHistory) Apply(context.Context, string, string, historypane.Mode, string, bool) (historypane.Result, error) {
	return historypane.Result{}, nil
}

func TestHistoryPaneAndPushedRevertNote(t *testing.T) {
	fm := fixture.Sandbox()
	hist := &fakeHistory{}
	m := newTestModel(t, Options{History: hist}, 160, 48, &fm)
	row := moveToLevel(t, m, tree.LevelApp)
	app := row.Key.App
	_, cmd := m.Update(panetest.KeyMsg("H"))
	if m.pane == nil {
		t.Fatal("H opened no pane")
	}
	drain(m, cmd)
	if len(hist.apps) != 1 || hist.apps[0] != app {
		t.Fatalf("history asked for %v, want [%s]", hist.apps, app)
	}
	if !strings.Contains(plain(m), "bump image") {
		t.Fatalf("history pane:\n%s", plain(m))
	}

	const sha = "cccccccccccccccccccccccccccccccccccccccc"
	m.Update(historypane.RevertDoneMsg{App: app, Pushed: true, Result: historypane.Result{Commit: sha}})
	m.Update(historypane.ClosedMsg{App: app})
	if m.pane != nil {
		t.Fatal("ClosedMsg left the pane open")
	}
	const note = "revert pushed" // ", waiting for sync" follows where the column is wide enough
	if !strings.Contains(plain(m), note) {
		t.Fatalf("the app row lacks %q:\n%s", note, plain(m))
	}
	// An update where the instances still run the old revision keeps the note…
	m.Update(modelMsg{fixture.Sandbox()})
	if !strings.Contains(plain(m), note) {
		t.Fatalf("the note went before the revert was live:\n%s", plain(m))
	}
	// …and one where every instance runs the revert commit removes it.
	live := fixture.Sandbox()
	a, ok := live.App(app)
	if !ok {
		t.Fatalf("no app %s", app)
	}
	for i := range a.Instances {
		a.Instances[i].Revision.Head, a.Instances[i].Revision.Live, a.Instances[i].Revision.Behind = sha, sha, 0
	}
	m.Update(modelMsg{live})
	if strings.Contains(plain(m), note) {
		t.Fatalf("the note stayed after every instance ran the revert:\n%s", plain(m))
	}
}

// drain runs cmd and feeds what it yields back, following batches, a few levels deep.
func drain(m *model, cmd tea.Cmd) {
	for depth := 0; cmd != nil && depth < 5; depth++ {
		msg := cmd()
		if b, ok := msg.(tea.BatchMsg); ok {
			for _, c := range b {
				drain(m, c)
			}
			return
		}
		_, cmd = m.Update(msg)
	}
}
