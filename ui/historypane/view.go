package historypane

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/internal/sanitize"
	"github.com/fleetdeck/fleetdeck/ui/internal/chrome"
	"github.com/fleetdeck/fleetdeck/ui/tree"
)

// Columns of a commit's first line: cursor, short sha, age, then the subject.
const (
	cursorWidth = 2
	shaWidth    = 7
	ageWidth    = 4
	gap         = 2
	// detailIndent puts a commit's second line under its age.
	detailIndent = cursorWidth + shaWidth + gap
	minSubject   = 12
)

// View draws the pane: exactly the size SetSize gave, every line as wide as the pane. It is a
// pure function of the model: ages are measured from the time the history arrived.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	status := m.statusLines()
	body := m.bodyHeight()
	lines := make([]string, 0, m.height)
	lines = append(lines, m.titleLine())
	if m.dlg != nil {
		lines = append(lines, m.dialogLines(body)...)
	} else {
		lines = append(lines, m.listLines(body)...)
	}
	lines = append(lines, status...)
	lines = append(lines, m.footer())
	return chrome.Screen(lines, m.width, m.height)
}

// bodyHeight is what is left for the list or the dialog under the title and above the status
// and the keys.
func (m *Model) bodyHeight() int {
	return max(0, m.height-2-len(m.statusLines()))
}

// rowsVisible is how many commits fit: two lines each.
func (m *Model) rowsVisible() int { return m.bodyHeight() / 2 }

// clamp keeps the cursor on a commit and in the window, and the diff scroll in range.
func (m *Model) clamp() {
	n := len(m.commits)
	m.cursor = max(0, min(m.cursor, n-1))
	if rows := m.rowsVisible(); rows > 0 {
		if m.cursor < m.offset {
			m.offset = m.cursor
		}
		if m.cursor >= m.offset+rows {
			m.offset = m.cursor - rows + 1
		}
		m.offset = max(0, min(m.offset, n-rows))
	}
	if d := m.dlg; d != nil {
		d.scroll = max(0, min(d.scroll, len(d.diff)-m.diffHeight()))
	}
}

func (m *Model) titleLine() string {
	left := chrome.Title(m.th, "History", m.opts.App)
	if m.loaded {
		left += m.th.Dim.Render(" · " + chrome.Plural(len(m.commits), "commit") + ", newest first")
	}
	var right []string
	if m.loaded && m.histSeq != 0 {
		right = append(right, m.th.Dim.Render("refreshing…"))
	}
	if m.opts.ReadOnly {
		right = append(right, m.th.ReadOnly.Render(" READ-ONLY "))
	}
	return chrome.Spread(left, strings.Join(right, " "), m.width)
}

// statusLines are the last key's message, and a failed refresh of a list already shown.
func (m *Model) statusLines() []string {
	if m.width <= 0 {
		return nil
	}
	var out []string
	switch {
	case m.status != "" && m.statusErr:
		out = m.wrap("✗ "+m.status, m.th.Error)
	case m.status != "":
		out = m.wrap(m.status, m.th.Notice)
	}
	if m.loaded && m.histErr != "" && m.dlg == nil {
		out = append(out, m.wrap("✗ "+m.histErr, m.th.Error)...)
	}
	return out
}

func (m *Model) footer() string {
	k := m.keys
	var b []key.Binding
	switch d := m.dlg; {
	case m.editing:
		b = []key.Binding{k.ReasonDone, k.ReasonDiscard}
	case d == nil && !m.loaded:
		b = []key.Binding{k.Close}
	case d == nil && m.opts.ReadOnly:
		b = []key.Binding{k.Down, k.Up, k.Close}
	case d == nil:
		b = []key.Binding{k.Revert, k.AppOnly, k.Rollback, k.Down, k.Up, k.Close}
	case d.stage == stagePlanning:
		b = []key.Binding{k.Cancel}
	case d.stage == stageConfirm && d.refused():
		b = []key.Binding{withHelp(k.Cancel, "esc", "back")}
		if d.mode == Revert && len(d.preview.OtherApps) > 0 {
			b = append(b, k.AppOnly)
		}
		if len(d.diff) > 0 {
			b = append(b, scrollBinding(k))
		}
	case d.stage == stageConfirm:
		b = []key.Binding{k.Commit, k.Push, k.Reason, k.Cancel}
		if d.mode == Revert && len(d.preview.OtherApps) > 0 {
			b = append(b, k.AppOnly)
		}
		b = append(b, scrollBinding(k))
	case d.stage == stageApplying:
		return m.th.Dim.Render("writing… the keys come back when the write has finished")
	case d.stage == stageDone:
		b = []key.Binding{k.Back}
	case d.stage == stageFailed:
		b = []key.Binding{k.Replan, k.Back}
	}
	return m.help.ShortHelpView(b)
}

func withHelp(b key.Binding, keys, desc string) key.Binding {
	b.SetHelp(keys, desc)
	return b
}

// scrollBinding is the diff's scroll keys shown as one entry.
func scrollBinding(k KeyMap) key.Binding {
	return key.NewBinding(key.WithKeys(append(k.Down.Keys(), k.Up.Keys()...)...), key.WithHelp("j/k", "scroll"))
}

// ---- the commit list ----

func (m *Model) listLines(height int) []string {
	out := make([]string, 0, height)
	switch {
	case !m.loaded && m.histErr != "":
		out = append(out, "")
		out = append(out, m.wrap("✗ "+m.histErr, m.th.Error)...)
		out = append(out, "", m.th.Dim.Render("esc closes the pane; open it again to retry."))
	case !m.loaded:
		out = append(out, "", "  "+m.th.Dim.Render("loading history…"))
	case len(m.commits) == 0:
		out = append(out, "", "  "+m.th.Dim.Render("No commit touched the paths of "+sanitize.Line(m.opts.App)+"."))
	default:
		end := min(len(m.commits), m.offset+m.rowsVisible())
		for i := m.offset; i < end; i++ {
			out = append(out, m.commitLines(m.commits[i], i == m.cursor)...)
		}
	}
	return chrome.Fill(out, height)
}

// seg is a piece of a line and its style.
type seg struct {
	text string
	st   lipgloss.Style
}

// join renders segments as one line of width w; the selected row is drawn in the selection
// style from edge to edge.
func (m *Model) join(segs []seg, selected bool, w int) string {
	var b strings.Builder
	for _, s := range segs {
		st := s.st
		if selected {
			st = m.th.Selected(st)
		}
		b.WriteString(st.Render(s.text))
	}
	line := b.String()
	n := ansi.StringWidth(line)
	switch {
	case n > w:
		line = ansi.Truncate(line, w, "…")
	case n < w && selected:
		line += m.th.Selected(m.th.Text).Render(strings.Repeat(" ", w-n))
	}
	return line
}

// commitLines are a commit's two lines: sha, age, subject and the clusters it is live on; then
// author, image changes and the other applications it touched.
func (m *Model) commitLines(c Commit, selected bool) []string {
	w := m.width
	cursor := "  "
	if selected {
		cursor = "▸ "
	}
	age := "?"
	if !c.When.IsZero() {
		age = tree.Age(m.asOf.Sub(c.When))
	}
	var markers []string
	for _, cl := range c.LiveOn {
		markers = append(markers, "◀ "+sanitize.Line(cl))
	}
	live := strings.Join(markers, " ")
	avail := w - cursorWidth - shaWidth - gap - ageWidth - gap
	subjW := avail
	if live != "" {
		subjW = max(minSubject, avail-ansi.StringWidth(live)-1)
	}
	first := []seg{
		{cursor, m.th.Accent},
		{chrome.Pad(shortSHA(c), shaWidth), m.th.Accent},
		{strings.Repeat(" ", gap), m.th.Text},
		{fmt.Sprintf("%*s", ageWidth, age), m.th.Dim},
		{strings.Repeat(" ", gap), m.th.Text},
		{chrome.Pad(chrome.Fit(sanitize.Line(c.Subject), subjW, "…"), subjW), m.th.Text},
	}
	if live != "" {
		first = append(first, seg{" ", m.th.Text}, seg{live, m.th.Accent})
	}

	second := []seg{{strings.Repeat(" ", detailIndent), m.th.Text}, {sanitize.Line(c.Author), m.th.Text}}
	if c.Author == "" {
		second[1].text = "unknown author"
	}
	for _, im := range imageSummary(c.Images) {
		second = append(second, seg{" · ", m.th.Dim}, seg{im, m.th.Dim})
	}
	if len(c.OtherApps) > 0 {
		second = append(second, seg{" · ", m.th.Dim}, seg{"also changed " + cleanList(c.OtherApps), m.th.Drift})
	}
	return []string{m.join(first, selected, w), m.join(second, selected, w)}
}

// imageSummary groups identical image changes across clusters:
// "auth-service 1.4.2 → 1.5.0 on prod-eu, staging". The change comes first: a narrow line
// cuts the clusters, not the tags.
func imageSummary(ims []ImageChange) []string {
	type change struct{ container, from, to string }
	var order []change
	clusters := map[change][]string{}
	for _, im := range ims {
		ch := change{sanitize.Line(im.Container), sanitize.Line(im.From), sanitize.Line(im.To)}
		if _, ok := clusters[ch]; !ok {
			order = append(order, ch)
		}
		clusters[ch] = append(clusters[ch], sanitize.Line(im.Cluster))
	}
	out := make([]string, 0, len(order))
	for _, ch := range order {
		from, to := ch.from, ch.to
		if from == "" {
			from = "(none)"
		}
		if to == "" {
			to = "(removed)"
		}
		out = append(out, fmt.Sprintf("%s %s → %s on %s", ch.container, from, to, strings.Join(clusters[ch], ", ")))
	}
	return out
}

// ---- the confirmation dialog ----

// title says what the dialog writes, in the backend's words when it gave them.
func (d *dialog) title(app string) string {
	if d.preview.Title != "" {
		return sanitize.Line(d.preview.Title)
	}
	c := shortSHA(d.commit) + " “" + sanitize.Line(d.commit.Subject) + "”"
	switch d.mode {
	case AppOnly:
		return "Revert " + c + " in " + sanitize.Line(app) + " only"
	case Rollback:
		return "Roll " + sanitize.Line(app) + " back to " + c
	}
	return "Revert " + c
}

// dialogHeader is everything above the diff.
func (m *Model) dialogHeader() []string {
	d := m.dlg
	var out []string
	add := func(text string, st lipgloss.Style) { out = append(out, m.wrap(text, st)...) }
	switch d.stage {
	case stagePlanning:
		add(d.title(m.opts.App), m.th.Title)
		add("preparing the "+d.mode.String()+"…", m.th.Dim)
		return out
	case stageDone:
		return m.resultLines()
	case stageFailed:
		add(d.title(m.opts.App), m.th.Title)
		out = append(out, "")
		add("✗ "+sanitize.Line(d.err), m.th.Error)
		out = append(out, "")
		add("r plans the "+d.mode.String()+" again on the branch as it is now, keeping the reason.", m.th.Dim)
		return out
	}
	p := d.preview
	add(d.title(m.opts.App), m.th.Title)
	if len(p.Clusters) > 0 {
		add("clusters: "+cleanList(p.Clusters), m.th.Text)
	}
	if len(p.OtherApps) > 0 {
		if d.mode == Revert {
			add("this commit also changed: "+cleanList(p.OtherApps)+" — press a for an app-only revert", m.th.Drift)
		} else {
			add("the changes to "+cleanList(p.OtherApps)+" stay as they are", m.th.Dim)
		}
	}
	if len(p.Conflicts) > 0 {
		add("✗ conflicts in "+cleanList(p.Conflicts)+": later commits changed the same lines, so nothing can be written. "+
			"Revert those commits first, or roll back (b) to an older commit of the list.", m.th.Error)
	}
	if p.Err != "" {
		add("✗ "+sanitize.Line(p.Err), m.th.Error)
	}
	switch {
	case d.stage == stageApplying && d.push:
		add("committing and pushing…", m.th.Notice)
	case d.stage == stageApplying:
		add("committing…", m.th.Notice)
	case d.refused():
	case m.editing:
		// The end of a long reason stays in view: that is where the typing happens.
		reason := m.reason
		if avail, n := m.width-len("reason: ")-1, ansi.StringWidth(reason); n > avail && avail > 1 {
			reason = "…" + ansi.TruncateLeft(reason, n-avail+1, "")
		}
		out = append(out, chrome.Fit(m.th.Dim.Render("reason: ")+m.th.Text.Render(reason)+m.th.Accent.Render("▏"), m.width, ""))
	case m.reason == "":
		add("reason: none (optional: e adds one)", m.th.Dim)
	default:
		out = append(out, chrome.Fit(m.th.Dim.Render("reason: ")+m.th.Text.Render(m.reason), m.width, "…"))
	}
	return out
}

// resultLines say what was written and where it went.
func (m *Model) resultLines() []string {
	d := m.dlg
	r := d.result
	var out []string
	add := func(text string, st lipgloss.Style) { out = append(out, m.wrap(text, st)...) }
	commit := sanitize.Line(r.Commit)
	if len(commit) > 7 {
		commit = commit[:7]
	}
	if commit == "" {
		commit = "a new commit"
	}
	if r.Pushed != "" {
		add("✓ committed "+commit+" and pushed it to "+sanitize.Line(r.Pushed), m.th.Severity(fleet.SeverityOK).Bold(true))
	} else {
		where := "fleetdeck's clone"
		if r.Branch != "" {
			where = "local branch " + sanitize.Line(r.Branch)
		}
		add("✓ committed "+commit+" on "+where+"; not pushed", m.th.Drift)
	}
	add(d.title(m.opts.App), m.th.Dim)
	if r.Message != "" {
		out = append(out, "")
		for _, l := range sanitize.Lines(r.Message) {
			add(l, m.th.Text)
		}
	}
	return out
}

// diffHeight is how many diff lines the dialog shows.
func (m *Model) diffHeight() int {
	if m.dlg == nil || m.dlg.stage == stagePlanning || m.dlg.stage == stageDone || m.dlg.stage == stageFailed {
		return 0
	}
	return max(0, m.bodyHeight()-len(m.dialogHeader())-1)
}

func (m *Model) dialogLines(height int) []string {
	d := m.dlg
	out := m.dialogHeader()
	h := m.diffHeight()
	if h <= 0 || (len(d.diff) == 0 && d.refused()) {
		return chrome.Fill(out, height)
	}
	label := " no changes "
	if n := len(d.diff); n > 0 {
		last := min(n, d.scroll+h)
		label = fmt.Sprintf(" diff · lines %d–%d of %d ", d.scroll+1, last, n)
	}
	out = append(out, m.th.Divider.Render(chrome.Fit("──"+label+strings.Repeat("─", m.width), m.width, "")))
	for i := d.scroll; i < min(len(d.diff), d.scroll+h); i++ {
		out = append(out, m.diffLine(d.diff[i]))
	}
	return chrome.Fill(out, height)
}

// diffLines splits a unified diff into clean lines: tabs expanded, escapes removed.
func diffLines(diff string) []string {
	if diff == "" {
		return nil
	}
	raw := strings.Split(strings.TrimRight(diff, "\n"), "\n")
	out := make([]string, len(raw))
	for i, l := range raw {
		out[i] = sanitize.Line(strings.ReplaceAll(strings.TrimSuffix(l, "\r"), "\t", "    "))
	}
	return out
}

// diffLine colours one diff line as git does: additions green, removals red, hunks cyan. The
// monochrome theme has no colours, and +, - and @@ already say it all.
func (m *Model) diffLine(l string) string {
	st := m.th.Text
	switch {
	case strings.HasPrefix(l, "diff "), strings.HasPrefix(l, "+++ "), strings.HasPrefix(l, "--- "):
		st = m.th.Title
	case strings.HasPrefix(l, "index "), strings.HasPrefix(l, "new file"), strings.HasPrefix(l, "deleted file"):
		st = m.th.Dim
	case strings.HasPrefix(l, "@@"):
		st = m.th.Notice
	case strings.HasPrefix(l, "+"):
		st = m.th.Health(fleet.Healthy)
	case strings.HasPrefix(l, "-"):
		st = m.th.Error.UnsetBold()
	}
	if ansi.StringWidth(l) > m.width {
		l = ansi.Truncate(l, m.width, "…")
	}
	return st.Render(l)
}

// ---- helpers ----

// wrap breaks plain text into lines of the pane's width, each in style st.
func (m *Model) wrap(text string, st lipgloss.Style) []string { return chrome.Wrap(text, m.width, st) }

func cleanList(items []string) string {
	out := make([]string, len(items))
	for i, s := range items {
		out[i] = sanitize.Line(s)
	}
	return strings.Join(out, ", ")
}
