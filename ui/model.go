package ui

import (
	"context"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/ui/details"
	"github.com/fleetdeck/fleetdeck/ui/internal/chrome"
	"github.com/fleetdeck/fleetdeck/ui/theme"
	"github.com/fleetdeck/fleetdeck/ui/tree"
)

// focus is the pane that receives the keys. Logs and history panes will be added here, each
// with its key map in keys.go and its view in view.go.
type focus int

const (
	focusTree focus = iota
	focusDetails
)

// overlay is a mode that takes the keys before any pane.
type overlay int

const (
	overlayNone overlay = iota
	overlayHelp
	overlayPalette
	overlayFilter
)

// Messages.
type (
	// modelMsg carries a new fleet model from the engine.
	modelMsg struct{ m fleet.Model }
	// sourceClosedMsg says the engine stopped sending updates.
	sourceClosedMsg struct{}
	// ageTickMsg refreshes the ages shown for clusters that are not live; gen drops ticks
	// scheduled for an older model.
	ageTickMsg struct{ gen int }
)

// model is the root Bubble Tea model: it owns the fleet model, the tree state and the overlays.
// Update changes state; View is a pure function of it.
type model struct {
	opts  Options
	th    theme.Theme
	keys  keyMap
	help  help.Model
	clock func() time.Time
	done  <-chan struct{} // closed when Run's context ends: stops timers

	fleet   fleet.Model
	loaded  bool
	stopped bool
	asOf    time.Time // the time ages are measured from; changes only on a message

	filter tree.Filter
	rows   []tree.Row
	sel    tree.Key
	// chosen is set once the user picks a row (a move, an expansion, a jump); until then the
	// cursor stays on the top row, the worst app, however the sort changes while loading.
	chosen bool
	cursor int
	offset int

	detailsOffset int
	focus         focus
	overlay       overlay
	helpOffset    int
	input         string // text typed after ':' or '/'
	status        string
	statusErr     bool

	width, height int
	tickGen       int

	// baseCtx is Run's context: panes' background work (log streams, git calls) ends with it.
	baseCtx context.Context
	// pane is the log, history or diff pane or the sync dialog when one is open; it takes the
	// keys and the body.
	pane    *openPane
	paneSeq int
	// pendingReverts are the applications whose revert the user pushed, until their instances
	// run it.
	pendingReverts map[string]pendingRevert
}

func newModel(opts Options, th theme.Theme, clock func() time.Time, done <-chan struct{}) *model {
	h := chrome.Help(th, "  ")
	if clock == nil {
		clock = time.Now
	}
	return &model{
		opts: opts, th: th, keys: defaultKeys(), help: h, clock: clock, done: done,
		filter:         tree.Filter{Expanded: map[tree.Key]bool{}},
		pendingReverts: map[string]pendingRevert{},
	}
}

func (m *model) ctx() context.Context {
	if m.baseCtx != nil {
		return m.baseCtx
	}
	return context.Background()
}

func (m *model) Init() tea.Cmd { return nil }

func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if cmd, handled := m.paneMsg(msg); handled {
		return m, cmd
	}
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.sizePane()
	case modelMsg:
		m.fleet = msg.m
		m.loaded = true
		m.asOf = m.clock()
		m.settleReverts()
		m.rebuild()
		cmd = m.scheduleAgeTick()
	case sourceClosedMsg:
		m.stopped = true
	case ageTickMsg:
		if msg.gen == m.tickGen {
			m.asOf = m.clock()
			cmd = m.scheduleAgeTick()
		}
	case tea.KeyPressMsg:
		cmd = m.key(msg)
	}
	m.clampScroll()
	return m, cmd
}

// scheduleAgeTick arranges for the screen to be refreshed when the age shown for a cluster that
// is not live (slow, unreachable, connecting) changes its coarse value. A fleet whose clusters
// are all live needs no timer: nothing is drawn until the engine sends something.
func (m *model) scheduleAgeTick() tea.Cmd {
	m.tickGen++
	var next time.Duration
	for _, c := range m.fleet.Clusters {
		if c.State == fleet.ConnSynced || c.LastEvent.IsZero() {
			continue
		}
		d := untilAgeChanges(m.asOf.Sub(c.LastEvent))
		if next == 0 || d < next {
			next = d
		}
	}
	if next == 0 {
		return nil
	}
	gen, done := m.tickGen, m.done
	return func() tea.Msg {
		t := time.NewTimer(next)
		defer t.Stop()
		select {
		case <-t.C:
			return ageTickMsg{gen: gen}
		case <-done:
			return nil
		}
	}
}

// untilAgeChanges is how long until tree.Age(age) shows a different value.
func untilAgeChanges(age time.Duration) time.Duration {
	unit := time.Minute
	switch {
	case age >= 48*time.Hour:
		unit = 24 * time.Hour
	case age >= time.Hour:
		unit = time.Hour
	}
	if age < 0 {
		return -age + time.Second
	}
	return unit - age%unit + 10*time.Millisecond
}

// rebuild recomputes the visible rows and puts the cursor back on the selected key (or its
// nearest visible ancestor), never on the same index by accident.
func (m *model) rebuild() {
	m.rows = tree.Flatten(&m.fleet, m.filter)
	for i := range m.rows {
		if _, ok := m.pendingReverts[m.rows[i].Key.App]; ok && m.rows[i].Level == tree.LevelApp {
			m.rows[i].Note = "revert pushed, waiting for sync"
		}
	}
	if len(m.rows) == 0 {
		m.cursor = 0
		return
	}
	if m.sel == (tree.Key{}) || !m.chosen {
		m.cursor = 0 // the worst app: the model sorts worst first
	} else if i := tree.Locate(m.rows, m.sel); i >= 0 {
		if m.rows[i].Key != m.sel {
			m.detailsOffset = 0
		}
		m.cursor = i
	} else {
		m.cursor = min(m.cursor, len(m.rows)-1)
		m.detailsOffset = 0
	}
	m.sel = m.rows[m.cursor].Key
}

// selected is the row under the cursor.
func (m *model) selected() (tree.Row, bool) {
	if m.cursor < 0 || m.cursor >= len(m.rows) {
		return tree.Row{}, false
	}
	return m.rows[m.cursor], true
}

func (m *model) moveTo(i int) {
	if len(m.rows) == 0 {
		return
	}
	i = max(0, min(i, len(m.rows)-1))
	m.chosen = true
	if i != m.cursor {
		m.detailsOffset = 0
	}
	m.cursor = i
	m.sel = m.rows[i].Key
}

func (m *model) setExpanded(k tree.Key, open bool) {
	m.chosen = true
	if open {
		m.filter.Expanded[k] = true
	} else {
		delete(m.filter.Expanded, k)
	}
	m.rebuild()
}

func (m *model) key(msg tea.KeyPressMsg) tea.Cmd {
	if msg.String() == "ctrl+c" {
		return tea.Quit
	}
	m.status, m.statusErr = "", false
	switch m.overlay {
	case overlayHelp:
		return m.helpKey(msg)
	case overlayPalette, overlayFilter:
		return m.inputKey(msg)
	}
	g := m.keys.Global
	switch {
	case key.Matches(msg, g.Quit):
		return tea.Quit
	case key.Matches(msg, g.Help):
		m.overlay, m.helpOffset = overlayHelp, 0
		return nil
	case key.Matches(msg, g.Palette):
		m.overlay, m.input = overlayPalette, ""
		return nil
	case key.Matches(msg, g.Filter):
		m.overlay, m.input = overlayFilter, m.filter.Query
		return nil
	case key.Matches(msg, g.Problems):
		m.filter.ProblemsOnly = !m.filter.ProblemsOnly
		m.rebuild()
		return nil
	case key.Matches(msg, g.Logs, g.History, g.Diff, g.Sync):
		row, ok := m.selected()
		if !ok || !m.loaded {
			return nil
		}
		switch {
		case key.Matches(msg, g.Logs):
			return m.openLogs(row)
		case key.Matches(msg, g.History):
			return m.openHistory(row)
		case key.Matches(msg, g.Diff):
			return m.openDiff(row)
		}
		return m.openSync(row)
	case key.Matches(msg, g.Focus):
		if m.focus == focusTree {
			m.focus = focusDetails
		} else {
			m.focus = focusTree
		}
		return nil
	}
	if m.focus == focusDetails {
		return m.detailsKey(msg)
	}
	return m.treeKey(msg)
}

func (m *model) treeKey(msg tea.KeyPressMsg) tea.Cmd {
	t := m.keys.Tree
	row, ok := m.selected()
	switch {
	case key.Matches(msg, m.keys.Global.Clear):
		m.clearFilters()
	case !ok:
	case key.Matches(msg, t.Up):
		m.moveTo(m.cursor - 1)
	case key.Matches(msg, t.Down):
		m.moveTo(m.cursor + 1)
	case key.Matches(msg, t.Top):
		m.moveTo(0)
	case key.Matches(msg, t.Bottom):
		m.moveTo(len(m.rows) - 1)
	case key.Matches(msg, t.PageUp):
		m.moveTo(m.cursor - max(1, m.treeHeight()-1))
	case key.Matches(msg, t.PageDown):
		m.moveTo(m.cursor + max(1, m.treeHeight()-1))
	case key.Matches(msg, t.Expand):
		switch {
		case row.Expandable && !row.Expanded:
			m.setExpanded(row.Key, true)
		case row.Expanded:
			m.moveTo(m.cursor + 1)
		}
	case key.Matches(msg, t.Collapse):
		if row.Expanded {
			m.setExpanded(row.Key, false)
		} else if row.Level > tree.LevelApp {
			m.moveTo(tree.Index(m.rows, row.Key.Parent()))
		}
	case key.Matches(msg, t.Toggle):
		switch {
		case row.Expandable:
			m.setExpanded(row.Key, !row.Expanded)
		case m.layout() == layoutCompact:
			m.focus = focusDetails // a leaf has nothing to expand: show what there is to know
		}
	}
	return nil
}

func (m *model) detailsKey(msg tea.KeyPressMsg) tea.Cmd {
	d := m.keys.Details
	page := max(1, m.detailsHeight()-1)
	switch {
	case key.Matches(msg, d.Back):
		m.focus = focusTree
	case key.Matches(msg, d.Up):
		m.detailsOffset--
	case key.Matches(msg, d.Down):
		m.detailsOffset++
	case key.Matches(msg, d.Top):
		m.detailsOffset = 0
	case key.Matches(msg, d.Bottom):
		m.detailsOffset = len(m.detailLines()) // clamped below
	case key.Matches(msg, d.PageUp):
		m.detailsOffset -= page
	case key.Matches(msg, d.PageDown):
		m.detailsOffset += page
	}
	return nil
}

func (m *model) helpKey(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(msg, m.keys.Help.Down):
		m.helpOffset++
	case key.Matches(msg, m.keys.Help.Up):
		m.helpOffset = max(0, m.helpOffset-1)
	case key.Matches(msg, m.keys.Help.Close):
		m.overlay = overlayNone
	}
	return nil
}

func (m *model) inputKey(msg tea.KeyPressMsg) tea.Cmd {
	in := m.keys.Input
	switch {
	case key.Matches(msg, in.Cancel):
		if m.overlay == overlayFilter {
			m.filter.Query = ""
			m.rebuild()
		}
		m.overlay, m.input = overlayNone, ""
		return nil
	case key.Matches(msg, in.Submit):
		o := m.overlay
		m.overlay = overlayNone
		if o == overlayPalette {
			cmd := m.runCommand(m.input)
			m.input = ""
			return cmd
		}
		m.input = ""
		return nil
	case key.Matches(msg, in.Complete):
		if m.overlay == overlayPalette {
			m.input = m.complete(m.input)
		}
		return nil
	case msg.String() == "backspace":
		if r := []rune(m.input); len(r) > 0 {
			m.input = string(r[:len(r)-1])
		} else {
			m.overlay = overlayNone // backspace on an empty line leaves it, as in vim
		}
	case msg.String() == "ctrl+u":
		m.input = ""
	case msg.Text != "":
		m.input += msg.Text
	default:
		return nil
	}
	if m.overlay == overlayFilter {
		m.filter.Query = m.input
		m.rebuild()
	}
	return nil
}

func (m *model) clearFilters() {
	if !m.filter.Active() {
		return
	}
	m.filter.Query, m.filter.Cluster, m.filter.ProblemsOnly = "", "", false
	m.rebuild()
}

// detailLines renders the details of the selection at the current details width.
func (m *model) detailLines() []string {
	row, ok := m.selected()
	if !ok {
		return nil
	}
	return details.Render(row, m.th, m.detailsWidth(), m.asOf)
}

// clampScroll keeps the cursor inside the tree window and the details offset in range.
func (m *model) clampScroll() {
	h := m.treeHeight()
	if h <= 0 {
		return
	}
	if m.cursor < m.offset {
		m.offset = m.cursor
	}
	if m.cursor >= m.offset+h {
		m.offset = m.cursor - h + 1
	}
	m.offset = max(0, min(m.offset, len(m.rows)-h))
	if m.detailsOffset != 0 {
		n := len(m.detailLines())
		m.detailsOffset = max(0, min(m.detailsOffset, n-m.detailsHeight()))
	}
}
