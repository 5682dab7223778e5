package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/internal/sanitize"
	"github.com/fleetdeck/fleetdeck/ui/theme"
	"github.com/fleetdeck/fleetdeck/ui/tree"
)

// layoutMode is how the panes share the screen.
type layoutMode int

const (
	layoutSide    layoutMode = iota // tree and details side by side (≥ 120 columns)
	layoutStacked                   // tree above details (80x24)
	layoutCompact                   // one pane at a time (60 columns, or too short to stack)
)

const (
	headerHeight = 2
	footerHeight = 1
)

func (m *model) layout() layoutMode {
	switch {
	case m.width >= 120 && m.height >= 12:
		return layoutSide
	case m.width >= 80 && m.height >= 20:
		return layoutStacked
	}
	return layoutCompact
}

func (m *model) bodyHeight() int { return max(0, m.height-headerHeight-footerHeight) }

// treeWidth and treeHeight are the tree pane's size; detailsWidth and detailsHeight the
// details pane's (the stacked layout spends one line on the divider between them).
func (m *model) treeWidth() int {
	if m.layout() == layoutSide {
		return m.width * 55 / 100
	}
	return m.width
}

func (m *model) treeHeight() int {
	if m.layout() == layoutStacked {
		// The tree takes what its rows need, up to half: the rest shows the details.
		return min(max(len(m.rows), 3), (m.bodyHeight()-1)/2)
	}
	return m.bodyHeight()
}

func (m *model) detailsWidth() int {
	if m.layout() == layoutSide {
		return m.width - m.treeWidth() - 2
	}
	return m.width
}

func (m *model) detailsHeight() int {
	if m.layout() == layoutStacked {
		return m.bodyHeight() - 1 - m.treeHeight()
	}
	return m.bodyHeight()
}

func (m *model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "fleetdeck"
	return v
}

// render draws the whole screen: exactly height lines of exactly width cells.
func (m *model) render() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	lines := make([]string, 0, m.height)
	lines = append(lines, m.headerLines()...)
	body := m.bodyHeight()
	switch {
	case m.overlay == overlayHelp:
		lines = append(lines, m.helpLines(body)...)
	case m.pane != nil:
		pl := strings.Split(m.pane.pane.View(), "\n")
		for len(pl) < m.height-headerHeight {
			pl = append(pl, "")
		}
		lines = append(lines, pl[:m.height-headerHeight]...)
		for i := range lines {
			lines[i] = m.pad(lines[i], m.width)
		}
		return strings.Join(lines[:min(len(lines), m.height)], "\n")
	case !m.loaded:
		lines = append(lines, m.message(body, "Waiting for the first update from the clusters…")...)
	case len(m.rows) == 0 && m.filter.Active():
		lines = append(lines, m.message(body, "Nothing matches the filters — esc clears them.")...)
	case len(m.rows) == 0:
		lines = append(lines, m.message(body, "No applications found on the configured clusters.")...)
	default:
		lines = append(lines, m.bodyLines()...)
	}
	lines = append(lines, m.footer())
	for i := range lines {
		lines[i] = m.pad(lines[i], m.width)
	}
	return strings.Join(lines[:min(len(lines), m.height)], "\n")
}

// pad cuts or pads a styled line to exactly w cells.
func (m *model) pad(s string, w int) string {
	n := ansi.StringWidth(s)
	if n > w {
		return ansi.Truncate(s, w, "")
	}
	return s + strings.Repeat(" ", w-n)
}

func (m *model) message(height int, text string) []string {
	out := make([]string, height)
	if height > 1 {
		out[1] = "  " + m.th.Dim.Render(text)
	}
	return out
}

func (m *model) bodyLines() []string {
	body := m.bodyHeight()
	switch m.layout() {
	case layoutSide:
		tl := m.treeLines(m.treeWidth(), body)
		dl := m.detailsPane(m.detailsWidth(), body)
		div := m.th.Divider.Render("│")
		out := make([]string, body)
		for i := range out {
			out[i] = m.pad(tl[i], m.treeWidth()) + div + " " + dl[i]
		}
		return out
	case layoutStacked:
		out := m.treeLines(m.width, m.treeHeight())
		out = append(out, m.divider())
		return append(out, m.detailsPane(m.width, m.detailsHeight())...)
	}
	if m.focus == focusDetails {
		return m.detailsPane(m.width, body)
	}
	return m.treeLines(m.width, body)
}

// divider separates the stacked panes and says what the details are about.
func (m *model) divider() string {
	title := "details"
	if row, ok := m.selected(); ok {
		title += ": " + rowTitle(row)
	}
	if m.focus == focusDetails {
		title += " (focused)"
	}
	text := "── " + sanitize.Line(title) + " "
	return m.th.Divider.Render(text + strings.Repeat("─", max(0, m.width-ansi.StringWidth(text))))
}

func rowTitle(r tree.Row) string {
	switch r.Level {
	case tree.LevelApp:
		return r.App.Name
	case tree.LevelInstance:
		return r.Instance.App + " on " + r.Instance.Cluster
	case tree.LevelWorkload:
		return r.Workload.Ref.Name + " on " + r.Instance.Cluster
	}
	return r.Pod.Name
}

func (m *model) treeLines(width, height int) []string {
	cols := tree.Layout(width)
	out := make([]string, height)
	for i := 0; i < height && m.offset+i < len(m.rows); i++ {
		idx := m.offset + i
		out[i] = tree.Render(m.rows[idx], cols, m.th, idx == m.cursor, m.asOf)
	}
	return out
}

func (m *model) detailsPane(width, height int) []string {
	lines := m.detailLines()
	out := make([]string, height)
	start := min(m.detailsOffset, max(0, len(lines)-1))
	for i := 0; i < height && start+i < len(lines); i++ {
		out[i] = lines[start+i]
	}
	if len(lines) > start+height && height > 0 {
		out[height-1] = m.th.Dim.Render(fmt.Sprintf("  ↓ %d more lines (tab, then j/k)", len(lines)-start-height+1))
	}
	_ = width
	return out
}

// headerLines are the title with app counts and the read-only badge, then one badge per
// cluster.
func (m *model) headerLines() []string {
	right := ""
	if m.opts.ReadOnly {
		right = m.th.ReadOnly.Render(" READ-ONLY ")
	}
	title := m.th.Title.Render("fleetdeck")
	if m.opts.Version != "" {
		title += m.th.Dim.Render(" " + sanitize.Line(m.opts.Version))
	}
	parts := []string{title}
	if m.loaded {
		parts = append(parts, m.th.Text.Render(fmt.Sprintf("%d apps", len(m.fleet.Apps))))
		parts = append(parts, m.healthCounts()...)
		parts = append(parts, m.severityCounts()...)
	}
	if m.stopped {
		parts = append(parts, m.th.Error.Render("updates stopped"))
	}
	room := m.width - ansi.StringWidth(right) - 1
	line := ""
	for i, p := range parts {
		next := line
		if i > 0 {
			next += "  "
		}
		next += p
		if ansi.StringWidth(next) > room {
			break
		}
		line = next
	}
	if right != "" {
		line = m.pad(line, m.width-ansi.StringWidth(right)) + right
	}
	return []string{line, m.clusterBadges()}
}

var healthOrder = []fleet.HealthStatus{fleet.Degraded, fleet.Missing, fleet.Unknown, fleet.Progressing, fleet.Suspended, fleet.Healthy}

func (m *model) healthCounts() []string {
	counts := map[fleet.HealthStatus]int{}
	for _, a := range m.fleet.Apps {
		counts[a.Health]++
	}
	var out []string
	for _, h := range healthOrder {
		if n := counts[h]; n > 0 {
			out = append(out, m.th.Health(h).Render(fmt.Sprintf("%s %d %s", theme.HealthSymbol(h), n, h)))
		}
	}
	return out
}

func (m *model) severityCounts() []string {
	counts := map[fleet.Severity]int{}
	for _, a := range m.fleet.Apps {
		counts[a.Severity]++
	}
	var out []string
	for s := fleet.SeverityCritical; s > fleet.SeverityOK; s-- {
		if n := counts[s]; n > 0 {
			out = append(out, m.th.Severity(s).Render(fmt.Sprintf("%s %d %s", theme.SeveritySymbol(s), n, s)))
		}
	}
	return out
}

// clusterBadges shows each cluster's connection state. A live cluster shows no age: its watch
// is running, so what is shown is current, and an age growing while nothing changes would
// repaint the screen for no information. Slow, unreachable and connecting clusters show how long
// ago their last event arrived.
func (m *model) clusterBadges() string {
	var parts []string
	for _, c := range m.fleet.Clusters {
		st := c.State
		if st == "" {
			st = fleet.ConnConnecting
		}
		text := theme.ConnSymbol(st) + " " + sanitize.Line(c.Name) + " " + string(st)
		if st != fleet.ConnSynced && !c.LastEvent.IsZero() {
			text += " " + tree.Age(c.Age(m.asOf)) + " ago"
		}
		if len(c.Forbidden) > 0 {
			text += " ⊘ forbidden: " + sanitize.Line(strings.Join(c.Forbidden, ","))
		}
		parts = append(parts, m.th.Conn(st).Render(text))
	}
	line := ""
	for i, p := range parts {
		next := line
		if i > 0 {
			next += m.th.Dim.Render(" │ ")
		}
		next += p
		if ansi.StringWidth(next) > m.width && line != "" {
			line += m.th.Dim.Render(fmt.Sprintf(" │ +%d", len(parts)-i))
			break
		}
		line = next
	}
	return line
}

// footer is the ':' or '/' line while typing, else the status and the active filters, then
// the most useful keys of the focused pane.
func (m *model) footer() string {
	switch m.overlay {
	case overlayPalette:
		return m.th.Accent.Render(":") + m.th.Text.Render(sanitize.Line(m.input)) + m.th.Accent.Render("▏") +
			m.th.Dim.Render("  "+m.paletteHint())
	case overlayFilter:
		return m.th.Accent.Render("/") + m.th.Text.Render(sanitize.Line(m.input)) + m.th.Accent.Render("▏") +
			m.th.Dim.Render("  app, cluster, namespace or image · enter keep · esc clear")
	case overlayHelp:
		return m.help.ShortHelpView([]key.Binding{m.keys.Help.Close, m.keys.Help.Down, m.keys.Help.Up})
	}
	var parts []string
	if m.status != "" {
		st := m.th.Notice
		if m.statusErr {
			st = m.th.Error
		}
		parts = append(parts, st.Render(m.status))
	}
	if f := m.filterSummary(); f != "" {
		parts = append(parts, m.th.Accent.Render(f))
	}
	left := strings.Join(parts, "  ")
	room := m.width - ansi.StringWidth(left)
	if left != "" {
		room -= 2
	}
	h := m.help
	h.SetWidth(max(0, room))
	keys := h.ShortHelpView(m.keys.shortHelp(m.focus))
	if left == "" {
		return keys
	}
	return left + "  " + keys
}

func (m *model) filterSummary() string {
	var parts []string
	if m.filter.Query != "" {
		parts = append(parts, "/"+sanitize.Line(m.filter.Query))
	}
	if m.filter.Cluster != "" {
		parts = append(parts, "cluster="+sanitize.Line(m.filter.Cluster))
	}
	if m.filter.ProblemsOnly {
		parts = append(parts, "problems only")
	}
	if len(parts) == 0 {
		return ""
	}
	return "[" + strings.Join(parts, " · ") + "]"
}

func (m *model) paletteHint() string {
	verb, _, _ := strings.Cut(m.input, " ")
	var hints []string
	for _, c := range paletteCommands {
		if strings.HasPrefix(c.Name, verb) || verb == "" {
			h := c.Name
			if c.Args != "" {
				h += " " + c.Args
			}
			hints = append(hints, h)
		}
	}
	return strings.Join(hints, " · ")
}

// helpLines is the help screen, generated from the key maps, with the symbol legend and the
// ':' commands, laid out in as many columns as fit.
func (m *model) helpLines(height int) []string {
	type block struct{ lines []string }
	var blocks []block
	for _, g := range m.keys.helpGroups() {
		b := block{lines: []string{m.th.Accent.Render(g.Title)}}
		for _, k := range g.Bindings {
			h := k.Help()
			b.lines = append(b.lines, "  "+m.th.Key.Render(fitText(h.Key, 7))+" "+m.th.KeyDesc.Render(h.Desc))
		}
		blocks = append(blocks, b)
	}
	cmds := block{lines: []string{m.th.Accent.Render("Commands (:)")}}
	for _, c := range paletteCommands {
		cmds.lines = append(cmds.lines, "  "+m.th.Key.Render(fitText(strings.TrimSpace(c.Name+" "+c.Args), 17))+" "+m.th.KeyDesc.Render(c.Help))
	}
	legend := block{lines: []string{m.th.Accent.Render("Symbols")}}
	var syncs, healths, sevs []string
	for _, s := range []fleet.SyncStatus{fleet.Synced, fleet.OutOfSync, fleet.SyncUnknown} {
		syncs = append(syncs, m.th.Sync(s).Render(theme.SyncText(s)))
	}
	for _, h := range []fleet.HealthStatus{fleet.Healthy, fleet.Progressing, fleet.Degraded, fleet.Suspended, fleet.Missing, fleet.Unknown} {
		healths = append(healths, m.th.Health(h).Render(theme.HealthText(h)))
	}
	for s := fleet.SeverityCritical; s > fleet.SeverityOK; s-- {
		sevs = append(sevs, m.th.Severity(s).Render(theme.SeverityText(s)))
	}
	legend.lines = append(legend.lines, "  "+strings.Join(syncs, "  "))
	legend.lines = append(legend.lines, "  "+strings.Join(healths[:3], "  "), "  "+strings.Join(healths[3:], "  "))
	legend.lines = append(legend.lines, "  "+strings.Join(sevs[:2], "  "), "  "+strings.Join(sevs[2:], "  "))
	legend.lines = append(legend.lines, "  "+m.th.Drift.Render("DRIFT")+m.th.Text.Render(" git ≠ live  ")+m.th.Latest.Render("LATEST")+m.th.Text.Render(" floating tag"))
	// The global and tree keys first, then what a new user needs to read the screen.
	blocks = append(blocks[:2], append([]block{legend, cmds}, blocks[2:]...)...)

	// Flow the blocks into columns, top to bottom, left to right. A column is as wide as its
	// widest line, so that no description is cut.
	colWidth := 38
	for _, b := range blocks {
		for _, l := range b.lines {
			colWidth = max(colWidth, ansi.StringWidth(l)+1)
		}
	}
	ncols := max(1, m.width/colWidth)
	var cols [][]string
	var cur []string
	for _, b := range blocks {
		need := len(b.lines)
		if len(cur) > 0 {
			need++
		}
		if len(cur) > 0 && len(cur)+need > height && len(cols)+1 < ncols {
			cols = append(cols, cur)
			cur = nil
		}
		if len(cur) > 0 {
			cur = append(cur, "")
		}
		cur = append(cur, b.lines...)
	}
	cols = append(cols, cur)
	var all []string
	rows := 0
	for _, c := range cols {
		rows = max(rows, len(c))
	}
	for i := 0; i < rows; i++ {
		var b strings.Builder
		for ci, c := range cols {
			cell := ""
			if i < len(c) {
				cell = c[i]
			}
			if ci < len(cols)-1 {
				cell = m.pad(cell, colWidth)
			}
			b.WriteString(cell)
		}
		all = append(all, b.String())
	}
	offset := min(m.helpOffset, max(0, len(all)-height))
	out := make([]string, height)
	copy(out, all[offset:])
	if height > 0 && len(all)-offset > height {
		out[height-1] = m.th.Dim.Render(fmt.Sprintf("  ↓ %d more lines (j/k)", len(all)-offset-height+1))
	}
	return out
}

func fitText(s string, w int) string {
	if n := ansi.StringWidth(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}
