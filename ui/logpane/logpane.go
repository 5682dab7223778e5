// Package logpane is the log pane of the terminal UI: the lines of the containers under a tree
// row, followed live, with pause, search, include/exclude filters, JSON pretty-printing and save.
//
// The pane is a sub-model: the ui's root model owns one while it is open, sizes it, passes it
// messages and draws its View in the body of the screen. Memory is bounded by a ring of lines
// (Options.Ring, default 10,000, each line at most Options.MaxLineBytes); everything drawn is
// sanitised here again, whoever fed the pane.
package logpane

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/fleetdeck/fleetdeck/internal/sanitize"
	"github.com/fleetdeck/fleetdeck/ui/internal/chrome"
	"github.com/fleetdeck/fleetdeck/ui/theme"
)

// Line is one line of a container's log, or a notice of the streamer's own.
type Line struct {
	Cluster, Namespace, Pod, Container string
	// Time is when the container runtime recorded the line (zero when unknown).
	Time time.Time
	Text string
	// Notice marks the streamer's own messages (a source started or ended, a cluster
	// unreachable): they are drawn apart and pass every filter.
	Notice bool
}

// Defaults of Options.
const (
	DefaultRing         = 10_000
	DefaultMaxLineBytes = 16 << 10
)

// Options configure a pane.
type Options struct {
	// Title names what the pane shows ("catalog-api on prod-us"); it is in the header and in
	// the names of saved files.
	Title string
	// Ring is how many lines the pane keeps; older lines are dropped and counted. Default
	// DefaultRing.
	Ring int
	// MaxLineBytes bounds the text of one line; the rest is dropped and the line marked.
	// Default DefaultMaxLineBytes (the streamer's own limit).
	MaxLineBytes int
	// Theme is the ui's theme; the zero value means theme.New("", false).
	Theme theme.Theme
	// SaveDir is where s writes files. Default DefaultSaveDir().
	SaveDir string
	// Now is the clock of saved files' names; nil means time.Now.
	Now func() time.Time
}

// DefaultSaveDir is $XDG_STATE_HOME/fleetdeck/logs, or ~/.local/state/fleetdeck/logs, or the
// temporary directory when there is no home. The state directory is private to the user and
// survives a reboot, unlike /tmp, and saved logs may hold secrets.
func DefaultSaveDir() string {
	if d := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "fleetdeck", "logs")
	}
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		return filepath.Join(home, ".local", "state", "fleetdeck", "logs")
	}
	return os.TempDir()
}

// Messages.
type (
	// LinesMsg is a batch of lines for the pane. Send lines in batches (one per frame, say):
	// each message costs one redraw.
	LinesMsg []Line
	// ClosedMsg says the user closed the pane (esc or q); the parent drops the pane.
	ClosedMsg struct{}
	// SavedMsg reports a save started with s; the parent passes it back to Update.
	SavedMsg struct {
		Path  string
		Lines int
		Err   error
		pane  *Model
	}
)

// inputMode is the prompt that has the keys, if any.
type inputMode int

const (
	inputNone inputMode = iota
	inputSearch
	inputInclude
	inputExclude
)

// maxInput bounds what may be typed or pasted into a prompt.
const maxInput = 1024

// Model is the pane's state. Create it with New; it is not safe for concurrent use (the
// Bubble Tea program calls it from one goroutine).
type Model struct {
	opts  Options
	th    theme.Theme
	st    styles
	keys  KeyMap
	in    inputKeys
	help  help.Model
	width int
	hgt   int

	ring    ring
	dropped uint64  // lines dropped from the ring since the pane opened
	shown   seqList // lines passing the filters

	include, exclude *regexp.Regexp
	search           *regexp.Regexp
	searchText       string
	matches          seqList // shown lines whose message search matches
	current          uint64  // the current match; 0 when none

	follow      bool
	top         uint64 // first line on screen while paused
	topRow      int    // first row of that line on screen (when it wraps)
	pausedAfter uint64 // newest line when the pane was paused: later ones are "new"
	hscroll     int
	fmt         format
	wrap        bool

	mode     inputMode
	input    string
	inputErr string

	status    string
	statusErr bool
}

// New returns an empty pane, following.
func New(opts Options) *Model {
	if opts.Ring <= 0 {
		opts.Ring = DefaultRing
	}
	if opts.MaxLineBytes <= 0 {
		opts.MaxLineBytes = DefaultMaxLineBytes
	}
	if opts.Theme.Name == "" {
		opts.Theme, _ = theme.New("", false) // the default theme always exists
	}
	if opts.SaveDir == "" {
		opts.SaveDir = DefaultSaveDir()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	th := opts.Theme
	h := chrome.Help(th, "  ")
	return &Model{
		opts: opts, th: th, st: newStyles(th), keys: DefaultKeys(), in: defaultInputKeys(), help: h,
		ring: newRing(opts.Ring), follow: true, fmt: format{prefix: true},
	}
}

// Keys is the pane's key map, for the parent's help screen.
func (m *Model) Keys() KeyMap { return m.keys }

// SetSize sets the cells the pane draws in: View returns h lines of w cells.
func (m *Model) SetSize(w, h int) { m.width, m.hgt = max(0, w), max(0, h) }

// Capturing reports whether a prompt (search, include, exclude) has the keys: the parent must
// then pass every key to the pane, including its own global ones.
func (m *Model) Capturing() bool { return m.mode != inputNone }

// Following reports whether the pane sticks to the newest line.
func (m *Model) Following() bool { return m.follow }

// Update handles key presses, pastes into a prompt, LinesMsg and SavedMsg; other messages are
// ignored. The command it returns yields ClosedMsg when the user closes the pane, SavedMsg
// after a save.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case LinesMsg:
		m.Append(msg)
	case SavedMsg:
		if msg.pane != m {
			return nil // a save of a pane that was closed since
		}
		if msg.Err != nil {
			m.status, m.statusErr = sanitize.Line(msg.Err.Error()), true
		} else {
			m.status, m.statusErr = fmt.Sprintf("saved %s to %s", plural(msg.Lines, "line"), sanitize.Line(msg.Path)), false
		}
	case tea.PasteMsg:
		if m.Capturing() {
			m.typeText(msg.Content)
		}
	case tea.KeyPressMsg:
		return m.key(msg)
	}
	return nil
}

// Append adds lines, sanitised and cut to MaxLineBytes, dropping the oldest beyond Ring.
func (m *Model) Append(lines []Line) {
	if len(lines) == 0 {
		return
	}
	for _, l := range lines {
		l.Cluster = sanitize.Line(l.Cluster)
		l.Namespace = sanitize.Line(l.Namespace)
		l.Pod = sanitize.Line(l.Pod)
		l.Container = sanitize.Line(l.Container)
		l.Text = m.clean(l.Text)
		if m.ring.push(l) {
			m.dropped++
		}
		seq := m.ring.last()
		if !m.passes(&l) {
			continue
		}
		m.shown = append(m.shown, seq)
		if m.search != nil && m.matchesSearch(&l) {
			m.matches = append(m.matches, seq)
		}
	}
	first := m.ring.first
	m.shown = m.shown.trim(first)
	m.matches = m.matches.trim(first)
	if m.current != 0 && m.current < first {
		m.current = 0
	}
}

// clean cuts a line's text to MaxLineBytes at a rune boundary, then sanitises it; a cut line
// says how much was dropped.
func (m *Model) clean(s string) string {
	limit := m.opts.MaxLineBytes
	if len(s) <= limit {
		return sanitize.Line(s)
	}
	cut := limit
	for cut > 0 && cut > limit-utf8.UTFMax && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return sanitize.Line(s[:cut]) + fmt.Sprintf(" …[%d bytes cut]", len(s)-cut)
}

// passes applies the include and exclude filters to a line's source and text. Notices always
// pass: they explain why lines are missing.
func (m *Model) passes(l *Line) bool {
	if l.Notice {
		return true
	}
	if m.include != nil && !m.include.MatchString(l.Text) && !m.include.MatchString(filterSource(l)) {
		return false
	}
	if m.exclude != nil && (m.exclude.MatchString(l.Text) || m.exclude.MatchString(filterSource(l))) {
		return false
	}
	return true
}

// filterSource is what filters match a line's source against.
func filterSource(l *Line) string {
	return l.Cluster + "/" + l.Namespace + "/" + l.Pod + "/" + l.Container
}

func (m *Model) matchesSearch(l *Line) bool {
	msg, _, _ := message(l, m.fmt)
	return m.search.MatchString(msg)
}

// refilter recomputes the lines passing the filters, then the matches.
func (m *Model) refilter() {
	m.shown = m.shown[:0]
	for seq := m.ring.first; seq < m.ring.next(); seq++ {
		if l, _ := m.ring.get(seq); m.passes(l) {
			m.shown = append(m.shown, seq)
		}
	}
	m.rematch()
}

// rematch recomputes the search matches among the shown lines.
func (m *Model) rematch() {
	m.matches = m.matches[:0]
	if m.search == nil {
		m.current = 0
		return
	}
	for _, seq := range m.shown {
		if l, _ := m.ring.get(seq); m.matchesSearch(l) {
			m.matches = append(m.matches, seq)
		}
	}
	if m.current != 0 {
		if i := m.matches.search(m.current); i < len(m.matches) && m.matches[i] == m.current {
			return
		}
		m.current = 0
	}
}

func (m *Model) key(msg tea.KeyPressMsg) tea.Cmd {
	if m.Capturing() {
		m.inputKey(msg)
		return nil
	}
	m.status, m.statusErr = "", false
	k := m.keys
	switch {
	case key.Matches(msg, k.Close):
		return func() tea.Msg { return ClosedMsg{} }
	case key.Matches(msg, k.Follow):
		if m.follow {
			m.pause()
		} else {
			m.follow = true
		}
	case key.Matches(msg, k.Bottom):
		m.follow = true
	case key.Matches(msg, k.Up):
		m.scroll(-1)
	case key.Matches(msg, k.Down):
		m.scroll(1)
	case key.Matches(msg, k.PageUp):
		m.scroll(-max(1, m.bodyHeight()-1))
	case key.Matches(msg, k.PageDown):
		m.scroll(max(1, m.bodyHeight()-1))
	case key.Matches(msg, k.Top):
		m.pause()
		if len(m.shown) > 0 {
			m.top, m.topRow = m.shown[0], 0
		}
	case key.Matches(msg, k.Left):
		m.hscroll = max(0, m.hscroll-max(1, m.width/2))
	case key.Matches(msg, k.Right):
		if !m.wrap {
			m.hscroll += max(1, m.width/2)
		}
	case key.Matches(msg, k.Search):
		m.mode, m.input, m.inputErr = inputSearch, "", ""
	case key.Matches(msg, k.Include):
		m.mode, m.input, m.inputErr = inputInclude, regexText(m.include), ""
	case key.Matches(msg, k.Exclude):
		m.mode, m.input, m.inputErr = inputExclude, regexText(m.exclude), ""
	case key.Matches(msg, k.Next):
		m.jump(1)
	case key.Matches(msg, k.Prev):
		m.jump(-1)
	case key.Matches(msg, k.Clear):
		m.include, m.exclude, m.search, m.searchText, m.current = nil, nil, nil, "", 0
		m.refilter()
	case key.Matches(msg, k.Timestamps):
		m.fmt.timestamps = !m.fmt.timestamps
	case key.Matches(msg, k.Wrap):
		m.wrap = !m.wrap
		m.hscroll, m.topRow = 0, 0
	case key.Matches(msg, k.JSON):
		m.fmt.pretty = !m.fmt.pretty
		m.topRow = 0
		m.rematch() // search looks at the message as shown
	case key.Matches(msg, k.Prefix):
		m.fmt.prefix = !m.fmt.prefix
		m.topRow = 0
	case key.Matches(msg, k.Save):
		return m.save()
	}
	return nil
}

func regexText(re *regexp.Regexp) string {
	if re == nil {
		return ""
	}
	return re.String()
}

func (m *Model) inputKey(msg tea.KeyPressMsg) {
	in := m.in
	switch {
	case key.Matches(msg, in.Cancel):
		m.mode, m.input, m.inputErr = inputNone, "", ""
	case key.Matches(msg, in.Submit):
		m.submit()
	case key.Matches(msg, in.Backspace):
		m.inputErr = ""
		if _, size := utf8.DecodeLastRuneInString(m.input); size > 0 {
			m.input = m.input[:len(m.input)-size]
		} else {
			m.mode = inputNone // backspace on an empty prompt leaves it, as in vim
		}
	case key.Matches(msg, in.Erase):
		m.input, m.inputErr = "", ""
	case msg.Text != "":
		m.typeText(msg.Text)
	}
}

func (m *Model) typeText(s string) {
	m.inputErr = ""
	s = sanitize.Line(s)
	if room := maxInput - len(m.input); len(s) > room {
		s = s[:max(0, room)]
		for s != "" && !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	m.input += s
}

// submit applies the prompt. An invalid filter keeps the prompt open with the error beside
// it; a search that is not a valid regular expression is taken as plain text.
func (m *Model) submit() {
	text := m.input
	switch m.mode {
	case inputSearch:
		m.mode, m.input = inputNone, ""
		m.setSearch(text)
		return
	case inputInclude, inputExclude:
		var re *regexp.Regexp
		if text != "" {
			var err error
			re, err = regexp.Compile(text)
			if err != nil {
				m.inputErr = "invalid regex: " + strings.TrimPrefix(err.Error(), "error parsing regexp: ")
				return
			}
		}
		if m.mode == inputInclude {
			m.include = re
		} else {
			m.exclude = re
		}
		m.mode, m.input = inputNone, ""
		m.refilter()
	}
}

// setSearch starts a search for text, or ends it when text is empty, and makes the match
// nearest the bottom of the screen (the newest one seen) the current one.
func (m *Model) setSearch(text string) {
	m.searchText, m.current = text, 0
	if text == "" {
		m.search = nil
		m.matches = m.matches[:0]
		return
	}
	re, err := regexp.Compile("(?i)" + text)
	if err != nil {
		re = regexp.MustCompile("(?i)" + regexp.QuoteMeta(text))
	}
	m.search = re
	m.rematch()
	if len(m.matches) == 0 {
		return
	}
	w := m.window()
	last := m.ring.last()
	if w.last >= 0 {
		last = m.shown[w.last]
	}
	i := m.matches.search(last + 1)
	if i == 0 {
		i = len(m.matches) // none at or above the screen's bottom: wrap to the newest
	}
	m.current = m.matches[i-1]
	m.reveal(m.current)
}

// jump moves the current match to the next (dir 1, newer) or previous one, wrapping around.
func (m *Model) jump(dir int) {
	if len(m.matches) == 0 {
		if m.search != nil {
			m.status = "no match for /" + m.searchText
		}
		return
	}
	var i int
	switch {
	case m.current == 0 && dir > 0:
		i = 0
	case m.current == 0:
		i = len(m.matches) - 1
	default:
		i = m.matches.search(m.current) + dir
	}
	i = (i + len(m.matches)) % len(m.matches)
	m.current = m.matches[i]
	m.reveal(m.current)
}

// reveal scrolls so that line seq is on screen: nothing moves when it is already, otherwise
// the pane pauses with the line a third of the way down.
func (m *Model) reveal(seq uint64) {
	idx := m.shown.search(seq)
	if idx >= len(m.shown) {
		return
	}
	w := m.window()
	if w.first >= 0 && idx >= w.first && idx <= w.last && (idx < w.last || w.lastWhole) && (idx > w.first || w.startRow == 0) {
		return
	}
	m.pause()
	p := m.up(pos{idx: idx}, m.bodyHeight()/3)
	m.top, m.topRow = m.shown[p.idx], p.row
}

// pause stops following and freezes the screen where it is.
func (m *Model) pause() {
	if !m.follow {
		return
	}
	s := m.start()
	m.follow = false
	m.pausedAfter = m.ring.last()
	if s.idx < len(m.shown) {
		m.top, m.topRow = m.shown[s.idx], s.row
	} else {
		m.top, m.topRow = m.ring.next(), 0
	}
}

// scroll moves the screen by n rows (negative: up), pausing when it moves up.
func (m *Model) scroll(n int) {
	if n < 0 {
		m.pause()
	}
	if m.follow {
		return // down while following: already at the bottom
	}
	p := m.start()
	if n < 0 {
		p = m.up(p, -n)
	} else {
		p = m.down(p, n)
	}
	if p.idx < len(m.shown) {
		m.top, m.topRow = m.shown[p.idx], p.row
	}
}

// up is p moved n rows up, stopping at the first row.
func (m *Model) up(p pos, n int) pos {
	for ; n > 0 && (p.idx > 0 || p.row > 0); n-- {
		if p.row > 0 {
			p.row--
			continue
		}
		p.idx--
		p.row = m.rowCount(p.idx) - 1
	}
	return p
}

// down is p moved n rows down, stopping where the newest line's last row is at the bottom.
func (m *Model) down(p pos, n int) pos {
	limit := m.bottomStart()
	for ; n > 0 && p.less(limit); n-- {
		if p.row+1 < m.rowCount(p.idx) {
			p.row++
			continue
		}
		p.idx, p.row = p.idx+1, 0
	}
	return p
}

// pos is a place in the shown lines: a line and a row of it.
type pos struct{ idx, row int }

func (p pos) less(q pos) bool { return p.idx < q.idx || p.idx == q.idx && p.row < q.row }

// bodyHeight is the rows for lines: the pane less its header and status line.
func (m *Model) bodyHeight() int {
	switch {
	case m.hgt >= 3:
		return m.hgt - 2
	case m.hgt == 2:
		return 1
	}
	return 0
}

// rowCount is how many screen rows shown line i takes.
func (m *Model) rowCount(i int) int {
	if !m.wrap || m.width <= 0 {
		return 1
	}
	l, ok := m.ring.get(m.shown[i])
	if !ok {
		return 1
	}
	r := compose(l, m.fmt, &m.st, tsLayout)
	return len(r.wrapBounds(m.width)) - 1
}

// bottomStart is where the screen starts when its last row is the last row of the newest line.
func (m *Model) bottomStart() pos {
	h := m.bodyHeight()
	for i := len(m.shown) - 1; i >= 0; i-- {
		n := m.rowCount(i)
		if n >= h {
			return pos{i, n - h}
		}
		h -= n
	}
	return pos{}
}

// start is the first line and row on screen.
func (m *Model) start() pos {
	if m.follow || len(m.shown) == 0 {
		return m.bottomStart()
	}
	idx := m.shown.search(m.top)
	p := pos{idx: idx}
	if idx < len(m.shown) && m.shown[idx] == m.top {
		p.row = m.topRow
	}
	if len(m.shown)-idx < m.bodyHeight() {
		// Few lines below (after a filter change, say): never leave the bottom of the
		// screen empty. Lines take a row at least, so with h lines left the screen is full.
		if b := m.bottomStart(); b.less(p) {
			return b
		}
	}
	if p.idx < len(m.shown) {
		p.row = min(p.row, m.rowCount(p.idx)-1)
	}
	return p
}

// window is what the screen shows: its rows and which shown lines they come from.
type window struct {
	rows        []string
	first, last int  // indices in shown of the first and last line on screen; -1 when none
	startRow    int  // the first row of line first on screen
	lastWhole   bool // line last ends on screen
}

func (m *Model) window() window {
	h := m.bodyHeight()
	w := window{first: -1, last: -1}
	if h == 0 || m.width <= 0 {
		return w
	}
	p := m.start()
	w.startRow = p.row
	w.rows = make([]string, 0, h)
	for i := p.idx; i < len(m.shown) && len(w.rows) < h; i++ {
		l, ok := m.ring.get(m.shown[i])
		if !ok {
			continue
		}
		r := compose(l, m.fmt, &m.st, tsLayout)
		if m.search != nil {
			st := stMatch
			if m.shown[i] == m.current {
				st = stCurrent
			}
			r.highlight(m.search, st)
		}
		if w.first < 0 {
			w.first = i
		}
		w.last = i
		if !m.wrap {
			w.rows = append(w.rows, r.cut(&m.st, m.width, m.hscroll))
			w.lastWhole = true
			continue
		}
		bounds := r.wrapBounds(m.width)
		from := 0
		if i == p.idx {
			from = min(p.row, len(bounds)-2)
		}
		to := min(len(bounds)-1, from+h-len(w.rows))
		w.rows = append(w.rows, r.wrapped(&m.st, bounds, m.width, from, to)...)
		w.lastWhole = to == len(bounds)-1
	}
	return w
}

// waiting is how many lines passing the filters arrived since the pane paused and are below
// the screen.
func (m *Model) waiting(w window) int {
	if m.follow {
		return 0
	}
	after := m.pausedAfter
	if w.last >= 0 && m.shown[w.last] > after && w.lastWhole {
		after = m.shown[w.last]
	}
	return len(m.shown) - m.shown.search(after+1)
}

// View draws the pane: a header, the lines, and a status line (or the prompt), in exactly the
// size given to SetSize.
func (m *Model) View() string {
	if m.width <= 0 || m.hgt <= 0 {
		return ""
	}
	w := m.window()
	lines := make([]string, 0, m.hgt)
	if m.hgt >= 3 {
		lines = append(lines, m.fit(m.header()))
	}
	body := m.bodyHeight()
	switch {
	case len(w.rows) > 0:
		lines = append(lines, w.rows...)
	case m.ring.n == 0:
		lines = append(lines, m.message(body, "Waiting for log lines…")...)
	default:
		lines = append(lines, m.message(body, fmt.Sprintf("No line passes the filters (%s hidden) — x clears them.",
			count(m.ring.n)))...)
	}
	for len(lines) < m.hgt-1 {
		lines = append(lines, strings.Repeat(" ", m.width))
	}
	lines = append(lines, m.fit(m.statusLine(w)))
	return strings.Join(lines[len(lines)-m.hgt:], "\n")
}

// fit cuts or pads a styled line to exactly the pane's width.
func (m *Model) fit(s string) string {
	n := ansi.StringWidth(s)
	if n > m.width {
		return ansi.Truncate(s, m.width, "")
	}
	return s + strings.Repeat(" ", m.width-n)
}

func (m *Model) message(h int, text string) []string {
	out := make([]string, h)
	for i := range out {
		out[i] = strings.Repeat(" ", m.width)
	}
	if h > 1 {
		out[1] = m.fit("  " + m.th.Dim.Render(text))
	} else if h == 1 {
		out[0] = m.fit("  " + m.th.Dim.Render(text))
	}
	return out
}

// header is the title, the line count and the filters, with the display toggles that are on
// at the right.
func (m *Model) header() string {
	title := "logs"
	if m.opts.Title != "" {
		title += ": " + sanitize.Line(m.opts.Title)
	}
	left := m.th.Title.Render(title) + m.th.Dim.Render("  "+plural(len(m.shown), "line"))
	if f := m.filterSummary(); f != "" {
		left += "  " + m.th.Accent.Render(f)
	}
	var on []string
	if m.fmt.timestamps {
		on = append(on, "timestamps")
	}
	if m.wrap {
		on = append(on, "wrap")
	}
	if m.fmt.pretty {
		on = append(on, "json")
	}
	if !m.fmt.prefix {
		on = append(on, "no prefix")
	}
	if len(on) == 0 {
		return left
	}
	right := m.th.Dim.Render(strings.Join(on, " · "))
	room := m.width - ansi.StringWidth(right) - 2
	if room < 10 {
		return left
	}
	if ansi.StringWidth(left) > room {
		left = ansi.Truncate(left, room, "…")
	}
	return left + strings.Repeat(" ", m.width-ansi.StringWidth(left)-ansi.StringWidth(right)) + right
}

func (m *Model) filterSummary() string {
	var parts []string
	if m.include != nil {
		parts = append(parts, "+"+sanitize.Line(m.include.String()))
	}
	if m.exclude != nil {
		parts = append(parts, "−"+sanitize.Line(m.exclude.String()))
	}
	if len(parts) == 0 {
		return ""
	}
	return "[" + strings.Join(parts, " · ") + "]"
}

// statusLine is the prompt while one is open; otherwise the last message, follow or pause
// with the lines waiting, the search, the dropped lines, then the keys that fit.
func (m *Model) statusLine(w window) string {
	if m.mode != inputNone {
		prompt := map[inputMode]string{inputSearch: "/", inputInclude: "include: ", inputExclude: "exclude: "}[m.mode]
		s := m.th.Accent.Render(prompt) + m.th.Text.Render(m.input) + m.th.Accent.Render("▏")
		if m.inputErr != "" {
			return s + "  " + m.th.Error.Render(sanitize.Line(m.inputErr))
		}
		hint := "enter search · esc cancel"
		if m.mode != inputSearch {
			hint = "regex · enter apply (empty removes) · esc cancel"
		}
		return s + m.th.Dim.Render("  "+hint)
	}
	var parts []string
	if m.status != "" {
		st := m.th.Notice
		if m.statusErr {
			st = m.th.Error
		}
		parts = append(parts, st.Render(m.status))
	}
	if m.follow {
		parts = append(parts, m.th.Accent.Render("● following"))
	} else {
		p := "⏸ paused"
		if n := m.waiting(w); n > 0 {
			p += " · " + plural(n, "new line")
		}
		parts = append(parts, m.th.Drift.Render(p))
	}
	if m.search != nil {
		s := "/" + sanitize.Line(m.searchText) + "  "
		switch {
		case len(m.matches) == 0:
			s += "no match"
		case m.current == 0:
			s += plural(len(m.matches), "match")
		default:
			s += fmt.Sprintf("match %s/%s", count(m.matches.search(m.current)+1), count(len(m.matches)))
		}
		parts = append(parts, m.th.Accent.Render(s))
	}
	if m.dropped > 0 {
		parts = append(parts, m.th.Dim.Render(fmt.Sprintf("%s dropped (keeps %s)", count(int(m.dropped)), count(m.opts.Ring))))
	}
	left := strings.Join(parts, "  ")
	room := m.width - ansi.StringWidth(left) - 2
	if room < 12 {
		return left
	}
	h := m.help
	h.SetWidth(room)
	return left + "  " + h.ShortHelpView(m.keys.ShortHelp())
}

// count writes n with thousands separators: 10,000.
func count(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	if strings.HasSuffix(word, "ch") {
		return count(n) + " " + word + "es"
	}
	return count(n) + " " + word + "s"
}
