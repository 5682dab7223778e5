package ui

import (
	"context"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/ui/diffpane"
	"github.com/fleetdeck/fleetdeck/ui/historypane"
	"github.com/fleetdeck/fleetdeck/ui/logpane"
	"github.com/fleetdeck/fleetdeck/ui/syncpane"
	"github.com/fleetdeck/fleetdeck/ui/tree"
)

// LogTarget names whose logs the log pane follows: an application on every cluster, one
// instance (App and Cluster), or one pod (and Namespace and Pod).
type LogTarget struct {
	App       string
	Cluster   string
	Namespace string
	Pod       string
}

// String names the target the way the pane's title shows it.
func (t LogTarget) String() string {
	switch {
	case t.Pod != "":
		return t.Cluster + "/" + t.Pod
	case t.Cluster != "":
		return t.App + " on " + t.Cluster
	}
	return t.App + " on every cluster"
}

// Logs follows logs for the log pane. Follow returns batches of lines (already sanitised, in
// order of arrival) on a channel it closes when ctx ends or the streams end for good; it must
// never block the caller. The command line implements it with kube/logs on the engine's model.
type Logs interface {
	Follow(ctx context.Context, t LogTarget) <-chan []logpane.Line
}

// pane is a full-screen view the tree hands the keys to: the log, history or diff pane, or the
// sync dialog.
type pane interface {
	Update(tea.Msg) tea.Cmd
	View() string
	SetSize(w, h int)
	Capturing() bool
}

// openPane is the pane on screen, with what ends its background work.
type openPane struct {
	pane   pane
	id     int
	cancel context.CancelFunc
	logs   <-chan []logpane.Line // nil for panes that do not follow logs
}

// logBatchMsg carries the next batch of lines of the log pane id; ok is false once the
// stream's channel is closed.
type logBatchMsg struct {
	id    int
	lines []logpane.Line
	ok    bool
}

// waitLogs reads the next batch for pane id. One read is outstanding at a time, so a pane
// that draws slowly makes the streams wait in their own buffers, not in the ui's queue.
func waitLogs(id int, ch <-chan []logpane.Line) tea.Cmd {
	return func() tea.Msg {
		lines, ok := <-ch
		return logBatchMsg{id: id, lines: lines, ok: ok}
	}
}

// logTargetOf is what `l` follows for a row: the application, the instance, or the pod; a
// workload's logs are its instance's.
func logTargetOf(r tree.Row) LogTarget {
	t := LogTarget{App: r.Key.App, Cluster: r.Key.Cluster}
	if r.Key.Pod != "" {
		ns, name, ok := strings.Cut(r.Key.Pod, "/")
		if !ok {
			ns, name = "", r.Key.Pod
		}
		t.Namespace, t.Pod = ns, name
	}
	return t
}

// openLogs opens the log pane on the selected row.
func (m *model) openLogs(r tree.Row) tea.Cmd {
	if m.opts.Logs == nil {
		m.status, m.statusErr = "logs are not available here", true
		return nil
	}
	t := logTargetOf(r)
	ctx, cancel := context.WithCancel(m.ctx())
	lp := logpane.New(logpane.Options{
		Title: t.String(), Ring: m.opts.LogRing, Theme: m.th, SaveDir: m.opts.LogSaveDir, Now: m.clock,
	})
	m.paneSeq++
	m.pane = &openPane{pane: lp, id: m.paneSeq, cancel: cancel, logs: m.opts.Logs.Follow(ctx, t)}
	m.sizePane()
	return waitLogs(m.pane.id, m.pane.logs)
}

// openHistory opens the history pane on the selected row's application.
func (m *model) openHistory(r tree.Row) tea.Cmd {
	if m.opts.History == nil {
		m.status, m.statusErr = "history is not available here", true
		return nil
	}
	ctx, cancel := context.WithCancel(m.ctx())
	hp := historypane.New(historypane.Options{
		App: r.Key.App, Backend: m.opts.History, ReadOnly: m.opts.ReadOnly, Theme: m.th, Now: m.clock, Context: ctx,
	})
	m.paneSeq++
	m.pane = &openPane{pane: hp, id: m.paneSeq, cancel: cancel}
	m.sizePane()
	return hp.Init()
}

// diffTargetOf is what `d` compares for a row: every instance of an application, or one
// instance; a workload's (or a pod's) diff is its instance's, opened on the workload's object.
func diffTargetOf(r tree.Row) diffpane.Target {
	return diffpane.Target{App: r.Key.App, Cluster: r.Key.Cluster, Object: r.Key.Workload}
}

// openDiff opens the diff pane on the selected row.
func (m *model) openDiff(r tree.Row) tea.Cmd {
	if m.opts.Diffs == nil {
		m.status, m.statusErr = "diffs are not available here", true
		return nil
	}
	ctx, cancel := context.WithCancel(m.ctx())
	dp := diffpane.New(diffpane.Options{Target: diffTargetOf(r), Backend: m.opts.Diffs, Theme: m.th, Context: ctx})
	m.paneSeq++
	m.pane = &openPane{pane: dp, id: m.paneSeq, cancel: cancel}
	m.sizePane()
	return dp.Init()
}

// openSync opens the sync dialog on the selected row: the application on every cluster, or
// one instance (a workload's or a pod's sync is its instance's: operators sync instances).
func (m *model) openSync(r tree.Row) tea.Cmd {
	if m.opts.Sync == nil {
		m.status, m.statusErr = "sync is not available here", true
		return nil
	}
	ctx, cancel := context.WithCancel(m.ctx())
	sp := syncpane.New(syncpane.Options{
		App: r.Key.App, Cluster: r.Key.Cluster, Backend: m.opts.Sync, ReadOnly: m.opts.ReadOnly, Theme: m.th, Now: m.clock, Context: ctx,
	})
	m.paneSeq++
	m.pane = &openPane{pane: sp, id: m.paneSeq, cancel: cancel}
	m.sizePane()
	return sp.Init()
}

// closePane ends the pane's background work and returns to the tree.
func (m *model) closePane() {
	if m.pane == nil {
		return
	}
	m.pane.cancel()
	m.pane = nil
}

func (m *model) sizePane() {
	if m.pane != nil {
		m.pane.pane.SetSize(m.width, max(0, m.height-headerHeight))
	}
}

// paneMsg handles a message while a pane is open; handled is false for messages the tree
// handles as usual (fleet models, window sizes).
func (m *model) paneMsg(msg tea.Msg) (cmd tea.Cmd, handled bool) {
	switch msg := msg.(type) {
	case logBatchMsg:
		if m.pane == nil || msg.id != m.pane.id {
			return nil, true // a batch for a pane the user closed
		}
		if !msg.ok {
			return nil, true
		}
		return tea.Batch(m.pane.pane.Update(logpane.LinesMsg(msg.lines)), waitLogs(m.pane.id, m.pane.logs)), true
	case logpane.ClosedMsg, historypane.ClosedMsg, diffpane.ClosedMsg, syncpane.ClosedMsg:
		m.closePane()
		return nil, true
	case historypane.RevertDoneMsg:
		if msg.Pushed {
			a, ok := m.fleet.App(msg.App)
			m.pendingReverts[msg.App] = newPendingRevert(a, ok, msg.Result.Commit)
			m.rebuild()
		}
		if m.pane != nil {
			return m.pane.pane.Update(msg), true
		}
		return nil, true
	case tea.KeyPressMsg:
		if m.pane == nil {
			return nil, false
		}
		if msg.String() == "ctrl+c" {
			return tea.Quit, true
		}
		return m.pane.pane.Update(msg), true
	case tea.WindowSizeMsg, modelMsg, sourceClosedMsg, ageTickMsg:
		return nil, false
	}
	if m.pane == nil {
		return nil, true
	}
	return m.pane.pane.Update(msg), true
}

// pendingRevert is a revert the user pushed from the history pane: its commit and each
// instance's branch head when it was pushed.
type pendingRevert struct {
	sha   string
	heads map[string]string
}

func newPendingRevert(a *fleet.Application, ok bool, sha string) pendingRevert {
	p := pendingRevert{sha: sha, heads: map[string]string{}}
	if ok {
		for _, in := range a.Instances {
			p.heads[in.Cluster] = in.Revision.Head
		}
	}
	return p
}

// settleReverts forgets pushed reverts once every instance of their application has caught
// up: the row's note then goes.
func (m *model) settleReverts() {
	for app, p := range m.pendingReverts {
		a, ok := m.fleet.App(app)
		if !ok || p.live(a) {
			delete(m.pendingReverts, app)
		}
	}
}

// live says whether every instance with a known revision runs the revert: its live revision
// is the revert commit, or a newer head than the one at the push, with nothing behind.
func (p pendingRevert) live(a *fleet.Application) bool {
	same := func(x, y string) bool {
		return x != "" && y != "" && (strings.HasPrefix(x, y) || strings.HasPrefix(y, x))
	}
	known := 0
	for _, in := range a.Instances {
		r := in.Revision
		if r.Live == "" {
			continue
		}
		known++
		newer := r.Head != "" && !same(r.Head, p.heads[in.Cluster]) && !same(r.Head, p.sha) && r.Behind == 0 && same(r.Live, r.Head)
		if !same(r.Live, p.sha) && !newer {
			return false
		}
	}
	return known > 0
}
