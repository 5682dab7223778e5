package historypane

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/fleetdeck/fleetdeck/internal/sanitize"
	"github.com/fleetdeck/fleetdeck/ui/internal/chrome"
	"github.com/fleetdeck/fleetdeck/ui/theme"
)

// Time limits per call, set here where the calls are made: reading history renders the app at
// each commit; a write may push over a slow network and cannot be interrupted from the pane.
const (
	historyTimeout = time.Minute
	previewTimeout = time.Minute
	applyTimeout   = 3 * time.Minute
)

// DefaultLimit is how many commits the pane lists when Options.Limit is 0.
const DefaultLimit = 50

// maxReason bounds the reason typed into the dialog: it goes into a commit message.
const maxReason = 300

// ReadOnlyMessage is what r, a and b say when writes are disabled.
const ReadOnlyMessage = "read-only: reverts are disabled (--readonly or readOnly: true in the config)"

// Options configure a pane.
type Options struct {
	// App is the application whose history is shown.
	App string
	// Backend reads the history and writes reverts.
	Backend Backend
	// ReadOnly refuses every revert before anything is planned or written.
	ReadOnly bool
	// Theme styles the pane; the zero value means monochrome.
	Theme theme.Theme
	// Now is the clock ages are measured with; nil is time.Now.
	Now func() time.Time
	// Limit is how many commits to list; 0 means DefaultLimit.
	Limit int
	// Context is the parent of every call's context; nil means context.Background().
	Context context.Context
}

// paneIDs numbers panes, so that a reply meant for a pane the user closed is never taken by
// the next one.
var paneIDs atomic.Uint64

// Messages the pane sends itself. Each carries the pane and the request it answers; replies to
// a request the user has since moved away from are dropped, never drawn over the new screen.
type (
	historyMsg struct {
		pane, seq uint64
		commits   []Commit
		err       error
	}
	previewMsg struct {
		pane, seq uint64
		preview   Preview
		err       error
	}
	applyMsg struct {
		pane, seq uint64
		push      bool
		result    Result
		err       error
	}
)

// stage is where the confirmation dialog is.
type stage int

const (
	stagePlanning stage = iota // waiting for the preview
	stageConfirm               // showing the preview, waiting for y, p or esc
	stageApplying              // waiting for the write
	stageDone                  // showing the result
	stageFailed                // showing why the write failed
)

// dialog is the revert being prepared, confirmed or written.
type dialog struct {
	stage   stage
	commit  Commit
	mode    Mode
	seq     uint64
	cancel  context.CancelFunc // ends the preview request
	preview Preview
	diff    []string // the preview's diff, sanitised, one line each
	scroll  int
	push    bool
	result  Result
	err     string
}

// Model is the history pane. Create it with New; the parent calls Init once, passes it the
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

	seq       uint64 // the last request number given out
	histSeq   uint64 // the history request whose reply is awaited; 0 when none
	loaded    bool
	histErr   string
	commits   []Commit
	asOf      time.Time // the time ages are measured from: when the history arrived
	cursor    int
	offset    int
	status    string
	statusErr bool

	dlg *dialog // nil while the list is shown

	reason  string
	editing bool
	saved   string // the reason before the edit began, restored by esc
}

// New makes a pane for opts.App. Nothing is read until Init's command runs.
func New(opts Options) *Model {
	if opts.Limit <= 0 {
		opts.Limit = DefaultLimit
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	th, ctx, cancel := chrome.Start(opts.Theme, opts.Context)
	return &Model{opts: opts, th: th, keys: DefaultKeyMap(), help: chrome.Help(th, " · "), id: paneIDs.Add(1), ctx: ctx, cancel: cancel}
}

// Init starts reading the history.
func (m *Model) Init() tea.Cmd { return m.loadHistory() }

// App is the application the pane shows.
func (m *Model) App() string { return m.opts.App }

// Keys is the pane's key map, for the parent's help screen.
func (m *Model) Keys() KeyMap { return m.keys }

// SetSize gives the pane its size in cells; View draws exactly that.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = max(0, w), max(0, h)
	m.help.SetWidth(m.width)
	m.clamp()
}

// Capturing is true while the reason is edited: every printable key is text then, so the
// parent must not treat any of them (q, ?, :) as its own.
func (m *Model) Capturing() bool { return m.editing }

// Close ends every call the pane started. The pane sends ClosedMsg and closes itself when the
// user leaves it; the parent calls Close when it drops the pane any other way (quitting).
func (m *Model) Close() {
	m.closed = true
	m.cancel()
	if m.dlg != nil && m.dlg.cancel != nil {
		m.dlg.cancel()
	}
}

// Update handles a message and returns the command to run next.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	if m.closed {
		return nil
	}
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case historyMsg:
		cmd = m.gotHistory(msg)
	case previewMsg:
		m.gotPreview(msg)
	case applyMsg:
		cmd = m.gotResult(msg)
	case tea.KeyPressMsg:
		cmd = m.key(msg)
	case tea.PasteMsg:
		if m.editing {
			m.typeReason(msg.Content)
		}
	}
	m.clamp()
	return cmd
}

func (m *Model) nextSeq() uint64 {
	m.seq++
	return m.seq
}

// loadHistory asks for the history; the list keeps showing the old one until it arrives.
func (m *Model) loadHistory() tea.Cmd {
	be := m.opts.Backend
	if be == nil {
		m.histErr = "no repository is configured for the history"
		return nil
	}
	seq := m.nextSeq()
	m.histSeq = seq
	ctx, app, limit, id := m.ctx, m.opts.App, m.opts.Limit, m.id
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, historyTimeout)
		defer cancel()
		commits, err := be.History(ctx, app, limit)
		return historyMsg{pane: id, seq: seq, commits: commits, err: err}
	}
}

func (m *Model) gotHistory(msg historyMsg) tea.Cmd {
	if msg.pane != m.id || msg.seq != m.histSeq {
		return nil
	}
	m.histSeq = 0
	if msg.err != nil {
		m.histErr = errText("read the history of "+m.opts.App, msg.err)
		return nil
	}
	// Keep the cursor on the commit it was on: after a revert the list gains a commit on top.
	var sel string
	if m.loaded && m.cursor < len(m.commits) {
		sel = m.commits[m.cursor].SHA
	}
	m.histErr = ""
	m.loaded = true
	m.commits = msg.commits
	m.asOf = m.opts.Now()
	m.cursor = 0
	for i, c := range m.commits {
		if sel != "" && c.SHA == sel {
			m.cursor = i
		}
	}
	return nil
}

func (m *Model) key(msg tea.KeyPressMsg) tea.Cmd {
	if m.editing {
		m.reasonKey(msg)
		return nil
	}
	m.status, m.statusErr = "", false
	if m.dlg != nil {
		return m.dialogKey(msg)
	}
	return m.listKey(msg)
}

func (m *Model) listKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	page := max(1, m.rowsVisible()-1)
	switch {
	case key.Matches(msg, k.Close):
		m.Close()
		app := m.opts.App
		return func() tea.Msg { return ClosedMsg{App: app} }
	case key.Matches(msg, k.Up):
		m.cursor--
	case key.Matches(msg, k.Down):
		m.cursor++
	case key.Matches(msg, k.Top):
		m.cursor = 0
	case key.Matches(msg, k.Bottom):
		m.cursor = len(m.commits) - 1
	case key.Matches(msg, k.PageUp):
		m.cursor -= page
	case key.Matches(msg, k.PageDown):
		m.cursor += page
	case key.Matches(msg, k.Revert):
		return m.plan(Revert)
	case key.Matches(msg, k.AppOnly):
		return m.plan(AppOnly)
	case key.Matches(msg, k.Rollback):
		return m.plan(Rollback)
	}
	return nil
}

// plan opens the dialog for the selected commit and asks for its preview.
func (m *Model) plan(mode Mode) tea.Cmd {
	switch {
	case m.opts.ReadOnly:
		m.status, m.statusErr = ReadOnlyMessage, true
		return nil
	case !m.loaded && m.histErr == "":
		m.status = "the history is still loading"
		return nil
	case len(m.commits) == 0:
		m.status, m.statusErr = "no commit to revert", true
		return nil
	}
	m.cursor = max(0, min(m.cursor, len(m.commits)-1))
	d := &dialog{commit: m.commits[m.cursor]}
	m.dlg = d
	return m.replan(mode)
}

// replan asks for a new preview of the dialog's commit in mode; the reason typed so far stays.
func (m *Model) replan(mode Mode) tea.Cmd {
	d := m.dlg
	if d.cancel != nil {
		d.cancel()
	}
	d.stage, d.mode, d.preview, d.diff, d.scroll, d.err = stagePlanning, mode, Preview{}, nil, 0, ""
	d.seq = m.nextSeq()
	ctx, cancel := context.WithTimeout(m.ctx, previewTimeout)
	d.cancel = cancel
	be, app, sha, seq, id := m.opts.Backend, m.opts.App, d.commit.SHA, d.seq, m.id
	if be == nil {
		cancel()
		d.stage, d.err = stageFailed, "no repository is configured for reverts"
		return nil
	}
	return func() tea.Msg {
		defer cancel()
		p, err := be.Preview(ctx, app, sha, mode)
		return previewMsg{pane: id, seq: seq, preview: p, err: err}
	}
}

func (m *Model) gotPreview(msg previewMsg) {
	d := m.dlg
	if d == nil || msg.pane != m.id || msg.seq != d.seq || d.stage != stagePlanning {
		return
	}
	d.cancel = nil
	d.stage = stageConfirm
	d.preview = msg.preview
	if msg.err != nil {
		d.preview = Preview{Err: errText("plan the "+d.mode.String()+" of "+shortSHA(d.commit), msg.err)}
	}
	d.diff = diffLines(d.preview.Diff)
}

// refused is true when the preview cannot be confirmed.
func (d *dialog) refused() bool {
	return len(d.preview.Conflicts) > 0 || d.preview.Err != ""
}

func (m *Model) dialogKey(msg tea.KeyPressMsg) tea.Cmd {
	d, k := m.dlg, m.keys
	switch d.stage {
	case stageApplying:
		return nil // the write cannot be taken back half-way: wait for its result
	case stageDone:
		if key.Matches(msg, k.Back) {
			m.dlg = nil
		}
		return nil
	case stageFailed:
		switch {
		case key.Matches(msg, k.Back):
			m.dlg = nil
		case key.Matches(msg, k.Replan):
			return m.replan(d.mode)
		}
		return nil
	case stagePlanning:
		switch {
		case key.Matches(msg, k.Cancel):
			m.closeDialog()
		case key.Matches(msg, k.Commit, k.Push):
			m.status = "the preview is still being prepared"
		}
		return nil
	}
	// stageConfirm
	page := max(1, m.diffHeight()-1)
	switch {
	case key.Matches(msg, k.Cancel):
		m.closeDialog()
	case key.Matches(msg, k.Up):
		d.scroll--
	case key.Matches(msg, k.Down):
		d.scroll++
	case key.Matches(msg, k.Top):
		d.scroll = 0
	case key.Matches(msg, k.Bottom):
		d.scroll = len(d.diff)
	case key.Matches(msg, k.PageUp):
		d.scroll -= page
	case key.Matches(msg, k.PageDown):
		d.scroll += page
	case key.Matches(msg, k.AppOnly) && d.mode == Revert && len(d.preview.OtherApps) > 0:
		// Offered even when the whole commit conflicts: the app's part may apply cleanly.
		return m.replan(AppOnly)
	case d.refused():
		// Nothing else is possible: esc is the way out.
	case key.Matches(msg, k.Reason):
		m.editing, m.saved = true, m.reason
	case key.Matches(msg, k.Commit):
		return m.apply(false)
	case key.Matches(msg, k.Push):
		return m.apply(true)
	}
	return nil
}

func (m *Model) closeDialog() {
	if m.dlg != nil && m.dlg.cancel != nil {
		m.dlg.cancel()
	}
	m.dlg = nil
}

func (m *Model) reasonKey(msg tea.KeyPressMsg) {
	k := m.keys
	switch {
	case key.Matches(msg, k.ReasonDone):
		m.editing = false
		m.reason = strings.TrimSpace(m.reason)
	case key.Matches(msg, k.ReasonDiscard):
		m.editing, m.reason = false, m.saved
	case msg.String() == "backspace":
		if r := []rune(m.reason); len(r) > 0 {
			m.reason = string(r[:len(r)-1])
		}
	case msg.String() == "ctrl+u":
		m.reason = ""
	case msg.Text != "":
		m.typeReason(msg.Text)
	}
}

// typeReason appends typed or pasted text as one clean line, up to maxReason runes.
func (m *Model) typeReason(s string) {
	s = sanitize.Line(s)
	r := []rune(m.reason + s)
	if len(r) > maxReason {
		r = r[:maxReason]
	}
	m.reason = string(r)
}

// apply writes the previewed revert, pushing it when push is true.
func (m *Model) apply(push bool) tea.Cmd {
	d := m.dlg
	if m.opts.ReadOnly { // plan refuses already; a second guard costs nothing
		m.status, m.statusErr = ReadOnlyMessage, true
		return nil
	}
	d.stage, d.push = stageApplying, push
	d.seq = m.nextSeq()
	be, app, sha, mode, reason, seq, id := m.opts.Backend, m.opts.App, d.commit.SHA, d.mode, m.reason, d.seq, m.id
	ctx := m.ctx
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, applyTimeout)
		defer cancel()
		res, err := be.Apply(ctx, app, sha, mode, reason, push)
		return applyMsg{pane: id, seq: seq, push: push, result: res, err: err}
	}
}

func (m *Model) gotResult(msg applyMsg) tea.Cmd {
	d := m.dlg
	if d == nil || msg.pane != m.id || msg.seq != d.seq || d.stage != stageApplying {
		return nil
	}
	if msg.err != nil {
		d.stage = stageFailed
		d.err = errText("write the "+d.mode.String()+" of "+shortSHA(d.commit), msg.err)
		return nil
	}
	d.stage, d.result = stageDone, msg.result
	m.reason = "" // the next revert gets its own reason
	done := RevertDoneMsg{App: m.opts.App, Result: msg.result, Pushed: msg.push && msg.result.Pushed != ""}
	return tea.Batch(func() tea.Msg { return done }, m.loadHistory())
}

// errText is an error for the screen: what failed, and why in the backend's words.
func errText(what string, err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "could not " + what + ": it took too long (" + err.Error() + ")"
	}
	return "could not " + what + ": " + err.Error()
}

// shortSHA is the commit's short sha, made from the full one when the backend gave none.
func shortSHA(c Commit) string {
	if c.Short != "" {
		return c.Short
	}
	if len(c.SHA) > 7 {
		return c.SHA[:7]
	}
	return c.SHA
}
