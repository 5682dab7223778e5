package syncpane

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/internal/sanitize"
	"github.com/fleetdeck/fleetdeck/ui/internal/chrome"
)

// View draws the pane: exactly the size SetSize gave, every line as wide as the pane. It is a
// pure function of the model: progress times are measured from the moment y was pressed.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	status := m.statusLines()
	body := max(0, m.height-2-len(status))
	lines := make([]string, 0, m.height)
	lines = append(lines, m.titleLine())
	lines = append(lines, chrome.Fill(m.body(body), body)...)
	lines = append(lines, status...)
	lines = append(lines, m.footer())
	return chrome.Screen(lines, m.width, m.height)
}

func (m *Model) titleLine() string {
	what := m.opts.App
	if m.opts.Cluster != "" {
		what += " on " + m.opts.Cluster
	}
	left := chrome.Title(m.th, "Sync", what)
	switch m.stage {
	case stageRunning:
		n := 0
		for _, p := range m.progress {
			if p.done() {
				n++
			}
		}
		left += m.th.Dim.Render(fmt.Sprintf(" · %d of %d finished", n, len(m.progress)))
	case stageDone:
		left += m.th.Dim.Render(" · finished")
	}
	right := ""
	if m.opts.ReadOnly {
		right = m.th.ReadOnly.Render(" READ-ONLY ")
	}
	return chrome.Spread(left, right, m.width)
}

func (m *Model) statusLines() []string {
	switch {
	case m.status == "" || m.width <= 0:
		return nil
	case m.statusErr:
		return m.wrap("✗ "+sanitize.Line(m.status), m.th.Error)
	}
	return m.wrap(sanitize.Line(m.status), m.th.Notice)
}

func (m *Model) footer() string {
	k := m.keys
	var b []key.Binding
	switch m.stage {
	case stageReadOnly, stagePlanFailed, stageDone:
		b = []key.Binding{k.Back}
	case stagePlanning:
		b = []key.Binding{k.Cancel}
	case stageConfirm:
		n := len(m.plan.Syncable())
		if n == 0 {
			b = []key.Binding{withHelp(k.Cancel, "esc", "back")}
			break
		}
		b = []key.Binding{withHelp(k.Confirm, "y", "sync "+chrome.Plural(n, "cluster")), k.Cancel}
	case stageRunning:
		for _, p := range m.progress {
			if !p.seen {
				return m.th.Dim.Render("writing the requests… the keys come back when each is answered")
			}
		}
		b = []key.Binding{k.Stop}
	}
	return m.help.ShortHelpView(b)
}

func withHelp(b key.Binding, keys, desc string) key.Binding {
	b.SetHelp(keys, desc)
	return b
}

// body is everything between the title and the status.
func (m *Model) body(height int) []string {
	out := []string{""}
	add := func(text string, st lipgloss.Style) { out = append(out, m.wrap(text, st)...) }
	app := sanitize.Line(m.opts.App)
	switch m.stage {
	case stageReadOnly:
		add("✗ "+ReadOnlyMessage, m.th.Error)
		out = append(out, "")
		add("Nothing was asked of any operator.", m.th.Dim)
	case stagePlanning:
		add("Finding the operator objects of "+app+"…", m.th.Dim)
	case stagePlanFailed:
		add("✗ "+sanitize.Line(m.err), m.th.Error)
		out = append(out, "")
		add("Nothing was asked of any operator. esc goes back; S tries again.", m.th.Dim)
	case stageConfirm:
		out = append(out, m.confirmLines()...)
	case stageRunning, stageDone:
		out = append(out, m.progressLines(height-1)...)
	}
	return out
}

func (m *Model) confirmLines() []string {
	var out []string
	add := func(text string, st lipgloss.Style) { out = append(out, m.wrap(text, st)...) }
	app := sanitize.Line(m.opts.App)
	syncable := m.plan.Syncable()
	if len(m.plan.Targets) == 0 {
		add("✗ "+app+" has no instance to sync here.", m.th.Error)
		return out
	}
	if len(syncable) > 0 {
		add("Ask the GitOps operators to sync "+app+" with git now, on "+chrome.Plural(len(syncable), "cluster")+":", m.th.Title)
	} else {
		add(app+":", m.th.Title)
	}
	width := m.clusterWidth(m.plan.Targets)
	for _, t := range m.plan.Targets {
		st := m.th.Text
		if t.Declared() {
			st = m.th.Dim
		}
		out = append(out, m.row(chrome.Pad(sanitize.Line(t.Cluster), width), "", sanitize.Line(t.Object()), st)...)
	}
	out = append(out, "")
	if len(syncable) == 0 {
		var clusters []string
		for _, t := range m.plan.Targets {
			clusters = append(clusters, sanitize.Line(t.Cluster))
		}
		add("✗ nothing to sync: no GitOps operator applies "+app+" on "+strings.Join(clusters, ", ")+
			", and fleetdeck never applies manifests itself. Apply it the way your team does, or let Argo CD or Flux manage it.", m.th.Error)
		return out
	}
	var how []string
	if slices.ContainsFunc(syncable, func(t Target) bool { return t.Operator == fleet.OperatorArgoCD }) {
		how = append(how, "Argo CD runs a sync operation of the tracked revision")
	}
	if slices.ContainsFunc(syncable, func(t Target) bool { return t.Operator == fleet.OperatorFlux }) {
		how = append(how, "Flux reconciles the source, then the object")
	}
	if len(how) > 0 {
		add(strings.Join(how, "; ")+". fleetdeck applies nothing itself.", m.th.Dim)
	}
	return out
}

// progressLines are one line per cluster with where its request stands, the outcome once
// every one finished, then the newest phases as they arrived.
func (m *Model) progressLines(height int) []string {
	var out []string
	add := func(text string, st lipgloss.Style) { out = append(out, m.wrap(text, st)...) }
	width := m.clusterWidth(m.plan.Targets)
	i := 0
	for _, t := range m.plan.Targets {
		cluster := chrome.Pad(sanitize.Line(t.Cluster), width)
		if t.Declared() {
			out = append(out, m.row(cluster, "– skipped    ", sanitize.Line(t.Object()), m.th.Dim)...)
			continue
		}
		p := m.progress[i]
		i++
		state, text, st := m.stateCell(p)
		out = append(out, m.row(cluster, state, text, st)...)
	}
	if m.stage == stageDone {
		out = append(out, "")
		failed := 0
		var ok []string
		for _, p := range m.progress {
			if p.last.State == StateSucceeded && p.unfinished == "" {
				ok = append(ok, sanitize.Line(p.target.Cluster))
			} else {
				failed++
			}
		}
		if failed == 0 {
			add("✓ synced on "+strings.Join(ok, ", "), m.th.Severity(fleet.SeverityOK).Bold(true))
		} else {
			add(fmt.Sprintf("✗ %d of %s did not succeed", failed, chrome.Plural(len(m.progress), "sync")), m.th.Error)
		}
	}
	// The log needs a blank line, its divider and room for a phase or two.
	if len(m.log) == 0 || height-len(out) < 4 {
		return out
	}
	out = append(out, "", m.th.Divider.Render(chrome.Fit("── progress "+strings.Repeat("─", m.width), m.width, "")))
	room := height - len(out)
	// The newest phases stay in view, each whole: older ones give way.
	var logLines []string
	for i := len(m.log) - 1; i >= 0; i-- {
		e := m.logLine(m.log[i], width)
		if len(logLines)+len(e) > room {
			if len(logLines) == 0 {
				logLines = e[:room]
			}
			break
		}
		logLines = append(e, logLines...)
	}
	return append(out, logLines...)
}

// stateCell is a target's state (symbol and word, padded), its text and its style.
func (m *Model) stateCell(p *progress) (string, string, lipgloss.Style) {
	if !p.seen && !p.ended {
		return "… requesting", "", m.th.Dim
	}
	text := sanitize.Line(p.last.Text)
	if p.unfinished != "" {
		if text != "" {
			text = sanitize.Line(p.unfinished) + "; last: " + text
		} else {
			text = sanitize.Line(p.unfinished)
		}
		return stateWord("?", "Unfinished"), text, m.th.Error
	}
	s := p.last.State
	return stateWord(symbol(s), string(s)), text, m.stateStyle(s)
}

func stateWord(sym, word string) string { return chrome.Pad(sym+" "+word, 12) }

func symbol(s State) string {
	switch s {
	case StateSucceeded:
		return "✓"
	case StateFailed, StateError, StateRefused:
		return "✗"
	case StateRequested:
		return "→"
	}
	return "…"
}

func (m *Model) stateStyle(s State) lipgloss.Style {
	switch s {
	case StateSucceeded:
		return m.th.Severity(fleet.SeverityOK)
	case StateFailed, StateError, StateRefused:
		return m.th.Error
	case StateRunning:
		return m.th.Notice
	}
	return m.th.Text
}

// logLine is one phase: seconds since y, cluster, state and the operator's words.
func (m *Model) logLine(e logEntry, width int) []string {
	at := "     -"
	if !e.phase.At.IsZero() {
		at = fmt.Sprintf("%5.1fs", e.phase.At.Sub(m.started).Seconds())
	}
	prefix := at + "  " + chrome.Pad(sanitize.Line(e.cluster), width) + "  " + chrome.Pad(string(e.phase.State), 9) + "  "
	text := sanitize.Line(e.phase.Text)
	lines := chrome.WrapText(text, max(1, m.width-ansi.StringWidth(prefix)))
	out := make([]string, len(lines))
	for i, l := range lines {
		if i == 0 {
			out[i] = m.th.Dim.Render(prefix) + m.th.Text.Render(l)
			continue
		}
		out[i] = strings.Repeat(" ", ansi.StringWidth(prefix)) + m.th.Text.Render(l)
	}
	return out
}

// row is "  cluster  state  text", the text wrapped under itself (under the cluster when the
// pane is too narrow for that).
func (m *Model) row(cluster, state, text string, st lipgloss.Style) []string {
	prefix := "  " + cluster + "  "
	if state != "" {
		prefix += state + " "
	}
	if text == "" {
		return []string{st.Render(prefix)}
	}
	indent := ansi.StringWidth(prefix)
	var out []string
	first := prefix
	if m.width-indent < 16 {
		out, first, indent = append(out, st.Render(prefix)), "", 4
	}
	for i, l := range chrome.WrapText(text, m.width-indent) {
		if i == 0 && first != "" {
			out = append(out, st.Render(first+l))
			continue
		}
		out = append(out, st.Render(strings.Repeat(" ", indent)+l))
	}
	return out
}

func (m *Model) clusterWidth(ts []Target) int {
	w := 0
	for _, t := range ts {
		w = max(w, ansi.StringWidth(sanitize.Line(t.Cluster)))
	}
	return w
}

// wrap breaks plain text into lines of the pane's width, each in style st.
func (m *Model) wrap(text string, st lipgloss.Style) []string { return chrome.Wrap(text, m.width, st) }
