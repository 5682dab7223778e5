package syncpane

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/fleetdeck/fleetdeck/ui/internal/chrome"
	"github.com/fleetdeck/fleetdeck/ui/theme"
)

// Time limits, set here where the calls are made: planning reads the fleet model the engine
// already has; following lasts as long as `fleetdeck sync --wait` does by default.
const (
	planTimeout = 30 * time.Second
	// DefaultWait is how long the pane follows the operators when Options.Wait is 0.
	DefaultWait = 5 * time.Minute
)

// ReadOnlyMessage is what the dialog says in read-only mode, where it offers nothing.
const ReadOnlyMessage = "sync is disabled in read-only mode (--readonly or readOnly: true in the config): it asks operators to apply git"

// Options configure a pane.
type Options struct {
	// App is the application to sync; Cluster its one instance to sync, or "" for every one.
	App, Cluster string
	// Backend plans and requests the syncs.
	Backend Backend
	// ReadOnly refuses the sync before anything is planned or requested.
	ReadOnly bool
	// Theme styles the pane; the zero value means monochrome.
	Theme theme.Theme
	// Now is the clock progress times are measured with; nil is time.Now.
	Now func() time.Time
	// Wait bounds how long the pane follows the operators; 0 means DefaultWait.
	Wait time.Duration
	// Context is the parent of every call's context; nil means context.Background().
	Context context.Context
}

// paneIDs numbers panes, so that a reply meant for a pane the user closed is never taken by
// the next one.
var paneIDs atomic.Uint64

// Messages the pane sends itself, each tagged with the pane and the request it answers.
type (
	planMsg struct {
		pane, seq uint64
		plan      Plan
		err       error
	}
	// phaseMsg is the next phase of target i; ok is false once its channel is closed.
	phaseMsg struct {
		pane, seq uint64
		i         int
		ch        <-chan Phase
		phase     Phase
		ok        bool
	}
)

type stage int

const (
	stageReadOnly   stage = iota // read-only mode: nothing is offered
	stagePlanning                // waiting for the plan
	stagePlanFailed              // the plan could not be made
	stageConfirm                 // showing the plan, waiting for y or esc
	stageRunning                 // following the requests
	stageDone                    // every request has its outcome
)

// progress is one target's request as far as it went.
type progress struct {
	target Target
	last   Phase
	seen   bool // the request was answered (its first phase arrived)
	ended  bool // its channel is closed
	// unfinished says why following ended without an outcome.
	unfinished string
}

func (p *progress) done() bool { return (p.seen && p.last.State.Done()) || p.ended }

// logEntry is one phase as it arrived, for the progress log.
type logEntry struct {
	cluster string
	phase   Phase
}

// Model is the sync dialog. Create it with New; the parent calls Init once, passes it the
// messages (every key but its own quit key while the pane is open), sizes it with SetSize and
// draws View. The zero value is not usable.
type Model struct {
	opts   Options
	th     theme.Theme
	keys   KeyMap
	help   help.Model
	id     uint64
	ctx    context.Context
	cancel context.CancelFunc
	closed bool

	width, height int

	stage     stage
	seq       uint64 // the request (plan or run) whose replies are taken
	plan      Plan
	err       string
	status    string
	statusErr bool

	follow   context.Context // the run's context, with the Wait deadline
	stopRun  context.CancelFunc
	started  time.Time
	progress []*progress
	log      []logEntry
}

// New makes a pane for opts.App. Nothing is read until Init's command runs.
func New(opts Options) *Model {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Wait <= 0 {
		opts.Wait = DefaultWait
	}
	th, ctx, cancel := chrome.Start(opts.Theme, opts.Context)
	return &Model{opts: opts, th: th, keys: DefaultKeyMap(), help: chrome.Help(th, " · "), id: paneIDs.Add(1), ctx: ctx, cancel: cancel}
}

// Init plans the sync, or in read-only mode does nothing at all.
func (m *Model) Init() tea.Cmd {
	if m.opts.ReadOnly {
		m.stage = stageReadOnly
		return nil
	}
	return m.loadPlan()
}

// App is the application the pane syncs.
func (m *Model) App() string { return m.opts.App }

// Keys is the pane's key map, for the parent's help screen.
func (m *Model) Keys() KeyMap { return m.keys }

// SetSize gives the pane its size in cells; View draws exactly that.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = max(0, w), max(0, h)
	m.help.SetWidth(m.width)
}

// Capturing is always false: the pane has no text input.
func (m *Model) Capturing() bool { return false }

// Close ends every call the pane started. Following stops; the operators carry on with what
// was requested.
func (m *Model) Close() {
	m.closed = true
	m.cancel()
}

// Update handles a message and returns the command to run next.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	if m.closed {
		return nil
	}
	switch msg := msg.(type) {
	case planMsg:
		m.gotPlan(msg)
	case phaseMsg:
		return m.gotPhase(msg)
	case tea.KeyPressMsg:
		return m.key(msg)
	}
	return nil
}

func (m *Model) loadPlan() tea.Cmd {
	m.stage = stagePlanning
	be := m.opts.Backend
	if be == nil {
		m.stage, m.err = stagePlanFailed, "sync is not available here"
		return nil
	}
	m.seq++
	seq, id, ctx, app, cluster := m.seq, m.id, m.ctx, m.opts.App, m.opts.Cluster
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, planTimeout)
		defer cancel()
		p, err := be.Plan(ctx, app, cluster)
		return planMsg{pane: id, seq: seq, plan: p, err: err}
	}
}

func (m *Model) gotPlan(msg planMsg) {
	if msg.pane != m.id || msg.seq != m.seq || m.stage != stagePlanning {
		return
	}
	if msg.err != nil {
		m.stage, m.err = stagePlanFailed, errText("plan the sync of "+m.opts.App, msg.err)
		return
	}
	m.stage, m.plan = stageConfirm, msg.plan
}

func (m *Model) key(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	m.status, m.statusErr = "", false
	switch m.stage {
	case stageReadOnly, stagePlanFailed, stageDone:
		if key.Matches(msg, k.Back) {
			return m.leave()
		}
	case stagePlanning:
		if key.Matches(msg, k.Cancel) {
			return m.leave()
		}
	case stageConfirm:
		switch {
		case key.Matches(msg, k.Cancel):
			return m.leave()
		case key.Matches(msg, k.Confirm):
			if len(m.plan.Syncable()) == 0 {
				m.status, m.statusErr = "nothing to sync: no GitOps operator applies "+m.opts.App+" here", true
				return nil
			}
			return m.start()
		}
	case stageRunning:
		if key.Matches(msg, k.Stop) {
			for _, p := range m.progress {
				if !p.seen {
					// A request being written cannot be taken back half-way: wait for its answer.
					m.status = "the requests are being written: esc stops following once each is answered"
					return nil
				}
			}
			return m.leave()
		}
	}
	return nil
}

// leave closes the pane and tells the parent.
func (m *Model) leave() tea.Cmd {
	m.Close()
	app := m.opts.App
	return func() tea.Msg { return ClosedMsg{App: app} }
}

// start requests every syncable target and follows each until it finishes or Wait passes.
func (m *Model) start() tea.Cmd {
	if m.opts.ReadOnly { // Init refuses already; a second guard costs nothing
		m.stage = stageReadOnly
		return nil
	}
	m.stage = stageRunning
	m.seq++
	m.follow, m.stopRun = context.WithTimeout(m.ctx, m.opts.Wait)
	m.started = m.opts.Now()
	m.progress, m.log = nil, nil
	be, ctx, seq, id := m.opts.Backend, m.follow, m.seq, m.id
	var cmds []tea.Cmd
	for i, t := range m.plan.Syncable() {
		m.progress = append(m.progress, &progress{target: t})
		cmds = append(cmds, func() tea.Msg {
			ch := be.Sync(ctx, t)
			p, ok := <-ch
			return phaseMsg{pane: id, seq: seq, i: i, ch: ch, phase: p, ok: ok}
		})
	}
	return tea.Batch(cmds...)
}

// next reads the next phase of target i. One read per target is outstanding at a time.
func (m *Model) next(i int, ch <-chan Phase) tea.Cmd {
	seq, id := m.seq, m.id
	return func() tea.Msg {
		p, ok := <-ch
		return phaseMsg{pane: id, seq: seq, i: i, ch: ch, phase: p, ok: ok}
	}
}

func (m *Model) gotPhase(msg phaseMsg) tea.Cmd {
	if msg.pane != m.id || msg.seq != m.seq || msg.i < 0 || msg.i >= len(m.progress) {
		return nil
	}
	p := m.progress[msg.i]
	if !msg.ok {
		p.ended = true
		if !(p.seen && p.last.State.Done()) && p.unfinished == "" {
			p.unfinished = "the progress stopped before the operator reported an outcome"
			if m.follow != nil && errors.Is(m.follow.Err(), context.DeadlineExceeded) {
				p.unfinished = fmt.Sprintf("did not finish within %s; the operator carries on", m.opts.Wait)
			}
		}
		m.settle()
		return nil
	}
	p.last, p.seen = msg.phase, true
	m.addLog(logEntry{cluster: p.target.Cluster, phase: msg.phase})
	m.settle()
	return m.next(msg.i, msg.ch)
}

// addLog keeps the log in the order the operators reported the phases (their times), not the
// order the clusters' answers happened to arrive in; phases without a time go last.
func (m *Model) addLog(e logEntry) {
	i := len(m.log)
	if !e.phase.At.IsZero() {
		for i > 0 && (m.log[i-1].phase.At.IsZero() || m.log[i-1].phase.At.After(e.phase.At)) {
			i--
		}
	}
	m.log = slices.Insert(m.log, i, e)
}

// settle moves to the outcome once every target has one, and stops following.
func (m *Model) settle() {
	if m.stage != stageRunning {
		return
	}
	for _, p := range m.progress {
		if !p.done() {
			return
		}
	}
	m.stage = stageDone
	if m.stopRun != nil {
		m.stopRun()
	}
}

// errText is an error for the screen: what failed, and why in the backend's words.
func errText(what string, err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "could not " + what + ": it took too long (" + err.Error() + ")"
	}
	return "could not " + what + ": " + err.Error()
}
