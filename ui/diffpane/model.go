package diffpane

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/fleetdeck/fleetdeck/ui/internal/chrome"
	"github.com/fleetdeck/fleetdeck/ui/theme"
)

// diffTimeout bounds one comparison: it renders the app from git and reads every object live,
// on each cluster when the target is the whole application.
const diffTimeout = 2 * time.Minute

// Options configure a pane.
type Options struct {
	// Target is what is compared.
	Target Target
	// Backend computes the diffs.
	Backend Backend
	// Theme styles the pane; the zero value means monochrome.
	Theme theme.Theme
	// Context is the parent of the comparison's context; nil means context.Background().
	Context context.Context
}

// paneIDs numbers panes, so that a reply meant for a pane the user closed is never taken by
// the next one.
var paneIDs atomic.Uint64

// resultMsg is the answer to request seq of pane.
type resultMsg struct {
	pane, seq uint64
	result    Result
	err       error
}

// Model is the diff pane. Create it with New; the parent calls Init once, passes it the
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

	seq     uint64 // the last request number given out
	waiting uint64 // the request whose reply is awaited; 0 when none
	loaded  bool
	err     string
	result  Result

	// lines are the result laid out for the pane's width; heads are the indices of the
	// objects' header lines in it.
	lines  []line
	heads  []int
	scroll int
	cur    int  // the object n and N move from
	placed bool // the view was put on Target.Object once
}

// New makes a pane for opts.Target. Nothing is compared until Init's command runs.
func New(opts Options) *Model {
	th, ctx, cancel := chrome.Start(opts.Theme, opts.Context)
	return &Model{opts: opts, th: th, keys: DefaultKeyMap(), help: chrome.Help(th, " · "), id: paneIDs.Add(1), ctx: ctx, cancel: cancel}
}

// Init starts the comparison.
func (m *Model) Init() tea.Cmd { return m.load() }

// Target is what the pane compares.
func (m *Model) Target() Target { return m.opts.Target }

// Keys is the pane's key map, for the parent's help screen.
func (m *Model) Keys() KeyMap { return m.keys }

// SetSize gives the pane its size in cells; View draws exactly that.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = max(0, w), max(0, h)
	m.help.SetWidth(m.width)
	m.layout()
}

// Capturing is always false: the pane has no text input.
func (m *Model) Capturing() bool { return false }

// Close ends the comparison the pane started. The pane sends ClosedMsg and closes itself when
// the user leaves it; the parent calls Close when it drops the pane any other way.
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
	case resultMsg:
		m.gotResult(msg)
	case tea.KeyPressMsg:
		return m.key(msg)
	}
	return nil
}

// load asks for the comparison; the screen says Loading… until it arrives.
func (m *Model) load() tea.Cmd {
	m.loaded, m.err, m.result, m.scroll, m.cur, m.placed = false, "", Result{}, 0, 0, false
	m.layout()
	be := m.opts.Backend
	if be == nil {
		m.err = "no diff is available here"
		return nil
	}
	m.seq++
	seq, id, ctx, t := m.seq, m.id, m.ctx, m.opts.Target
	m.waiting = seq
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, diffTimeout)
		defer cancel()
		res, err := be.Diff(ctx, t.App, t.Cluster)
		return resultMsg{pane: id, seq: seq, result: res, err: err}
	}
}

func (m *Model) gotResult(msg resultMsg) {
	if msg.pane != m.id || msg.seq != m.waiting {
		return // a reply to a pane or a request the user has left
	}
	m.waiting = 0
	if msg.err != nil {
		m.err = errText("compare "+m.opts.Target.String()+" with git", msg.err)
		return
	}
	m.loaded, m.result = true, msg.result
	m.layout()
}

func (m *Model) key(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	page := max(1, m.bodyHeight()-1)
	switch {
	case key.Matches(msg, k.Close):
		m.Close()
		app := m.opts.Target.App
		return func() tea.Msg { return ClosedMsg{App: app} }
	case key.Matches(msg, k.Reload):
		if m.waiting != 0 {
			return nil // the comparison asked for is still running
		}
		return m.load()
	case key.Matches(msg, k.Up):
		m.scrollTo(m.scroll - 1)
	case key.Matches(msg, k.Down):
		m.scrollTo(m.scroll + 1)
	case key.Matches(msg, k.PageUp):
		m.scrollTo(m.scroll - page)
	case key.Matches(msg, k.PageDown):
		m.scrollTo(m.scroll + page)
	case key.Matches(msg, k.Top):
		m.scrollTo(0)
	case key.Matches(msg, k.Bottom):
		m.scrollTo(len(m.lines))
	case key.Matches(msg, k.Next):
		if m.cur+1 < len(m.heads) {
			m.jump(m.cur + 1)
		}
	case key.Matches(msg, k.Prev):
		switch {
		case len(m.heads) == 0:
		case m.scroll > m.heads[m.cur] && m.scroll < m.maxScroll():
			m.jump(m.cur) // back to the start of the object being read
		case m.cur > 0:
			m.jump(m.cur - 1)
		}
	}
	return nil
}

// scrollTo moves the view and makes the object at its top the current one.
func (m *Model) scrollTo(i int) {
	m.scroll = max(0, min(i, m.maxScroll()))
	m.cur = 0
	for j, h := range m.heads {
		if h <= m.scroll {
			m.cur = j
		}
	}
}

// jump puts object i at the top of the view (or as high as the end of the text allows).
func (m *Model) jump(i int) {
	m.cur = i
	m.scroll = max(0, min(m.heads[i], m.maxScroll()))
}

func (m *Model) maxScroll() int { return max(0, len(m.lines)-m.bodyHeight()) }

// bodyHeight is what is left between the title and the keys.
func (m *Model) bodyHeight() int { return max(0, m.height-2) }

// errText is an error for the screen: what failed, and why in the backend's words.
func errText(what string, err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "could not " + what + ": it took too long (" + err.Error() + ")"
	}
	return "could not " + what + ": " + err.Error()
}
