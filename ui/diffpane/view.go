package diffpane

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/internal/sanitize"
	"github.com/fleetdeck/fleetdeck/ui/internal/chrome"
)

// kind says how a line of the text is drawn.
type kind int

const (
	kindText     kind = iota // a diff's context line
	kindInstance             // an instance: cluster and revisions
	kindObject               // an object's header: what it is and how it differs
	kindFile                 // a diff's ---/+++ lines
	kindHunk                 // @@ … @@
	kindAdd                  // + what git wants
	kindDel                  // - what is live
	kindSame                 // no differences
	kindError                // the instance could not be compared
	kindWarning              // something was left out of the comparison
	kindNote                 // the pane's own words
)

// line is one line of the text, already clean: every string from the cluster or git went
// through sanitize before it became a line.
type line struct {
	text string
	kind kind
}

// statusText says what an object's status means.
func statusText(s Status) string {
	switch s {
	case OnlyInGit:
		return "only in git (not live: a sync creates it)"
	case OnlyLive:
		return "only live (no longer in git: a sync with pruning deletes it)"
	}
	return "changed"
}

func differs(o Object) bool { return o.Status != Same && o.Status != "" }

// layout turns the result into lines for the pane's width. It runs when the result or the
// width changes, never from View.
func (m *Model) layout() {
	m.lines, m.heads = nil, nil
	if !m.loaded || m.width <= 0 {
		return
	}
	add := func(text string, k kind) {
		for _, l := range chrome.WrapText(text, m.width) {
			m.lines = append(m.lines, line{l, k})
		}
	}
	t := m.opts.Target
	focus := -1 // the head of Target.Object, when it differs
	if len(m.result.Instances) == 0 {
		add("no instance of "+sanitize.Line(t.App)+" to compare on the selected clusters", kindError)
	}
	for i, in := range m.result.Instances {
		if i > 0 {
			m.lines = append(m.lines, line{})
		}
		var objs []Object
		for _, o := range in.Objects {
			if differs(o) {
				objs = append(objs, o)
			}
		}
		head := sanitize.Line(in.Cluster) + " · git " + orDash(shortRev(in.Revision))
		if in.Branch != "" {
			head += " (" + sanitize.Line(in.Branch) + ")"
		}
		head += " · live " + orDash(shortRev(in.LiveRevision))
		if len(objs) > 0 {
			head += " · " + chrome.Plural(len(objs), "object") + " differ"
			if len(objs) == 1 {
				head += "s"
			}
		}
		add(head, kindInstance)
		if in.Err != "" {
			add("✗ not compared: "+sanitize.Line(in.Err), kindError)
		}
		for _, w := range in.Warnings {
			add("! "+sanitize.Line(w), kindWarning)
		}
		if in.Err == "" && len(objs) == 0 {
			add("no differences: live matches git at "+orDash(shortRev(in.Revision)), kindSame)
		}
		if ref := t.Object; ref != (fleet.ObjectRef{}) && in.Cluster == t.Cluster && in.Err == "" && len(objs) > 0 {
			found := false
			for _, o := range objs {
				found = found || sameObject(o, ref)
			}
			if !found {
				add(sanitize.Line(ref.String())+": no differences; the instance's other objects follow", kindNote)
			}
		}
		for _, o := range objs {
			if focus < 0 && t.Object != (fleet.ObjectRef{}) && in.Cluster == t.Cluster && sameObject(o, t.Object) {
				focus = len(m.heads)
			}
			m.heads = append(m.heads, len(m.lines))
			add(sanitize.Line(o.Ref())+" · "+statusText(o.Status), kindObject)
			inHunk := false
			for _, l := range diffLines(o.Diff) {
				k := kindText
				switch {
				case strings.HasPrefix(l, "@@"):
					k, inHunk = kindHunk, true
				case !inHunk && (strings.HasPrefix(l, "--- ") || strings.HasPrefix(l, "+++ ")):
					k = kindFile
				case strings.HasPrefix(l, "+"):
					k = kindAdd
				case strings.HasPrefix(l, "-"):
					k = kindDel
				}
				for _, part := range wrapDiff(l, m.width) {
					m.lines = append(m.lines, line{part, k})
				}
			}
		}
	}
	if !m.placed && focus >= 0 {
		m.placed = true
		m.jump(focus)
		return
	}
	m.cur = max(0, min(m.cur, len(m.heads)-1))
	m.scroll = max(0, min(m.scroll, m.maxScroll()))
}

// sameObject tells whether o is the workload ref names (workloads carry no API group).
func sameObject(o Object, ref fleet.ObjectRef) bool {
	return o.Kind == ref.Kind && o.Namespace == ref.Namespace && o.Name == ref.Name
}

// wrapDiff breaks a diff line wider than w: each continuation starts with the line's own
// prefix (+, - or a space) and ↪, so that without colour it still reads as an addition or a
// removal, and the end of a long line (an image tag) is never cut off.
func wrapDiff(l string, w int) []string {
	if ansi.StringWidth(l) <= w || w < 8 {
		return []string{l}
	}
	mark := string([]rune(l)[:1]) + "↪"
	out := []string{ansi.Truncate(l, w, "")}
	rest := ansi.TruncateLeft(l, w, "")
	for rest != "" {
		part := ansi.Truncate(rest, w-2, "")
		out = append(out, mark+part)
		rest = ansi.TruncateLeft(rest, w-2, "")
	}
	return out
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

// View draws the pane: exactly the size SetSize gave, every line as wide as the pane. It is a
// pure function of the model.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	lines := make([]string, 0, m.height)
	lines = append(lines, m.titleLine())
	body := m.bodyHeight()
	switch {
	case m.err != "":
		out := []string{""}
		out = append(out, m.wrap("✗ "+sanitize.Line(m.err), m.th.Error)...)
		out = append(out, "", m.th.Dim.Render("r compares again; esc goes back."))
		lines = append(lines, chrome.Fill(out, body)...)
	case !m.loaded:
		msg := "Loading… rendering " + sanitize.Line(m.opts.Target.App) + " from git and reading its live objects"
		lines = append(lines, chrome.Fill(append([]string{""}, m.wrap(msg, m.th.Dim)...), body)...)
	default:
		for i := m.scroll; i < min(len(m.lines), m.scroll+body); i++ {
			lines = append(lines, m.render(m.lines[i]))
		}
		lines = chrome.Fill(lines, body+1)
	}
	lines = append(lines, m.footer())
	return chrome.Screen(lines, m.width, m.height)
}

func (m *Model) titleLine() string {
	left := chrome.Title(m.th, "Diff", m.opts.Target.String()) +
		m.th.Dim.Render(" · git → live")
	right := ""
	switch {
	case m.loaded && len(m.heads) > 0:
		right = m.th.Dim.Render(fmt.Sprintf("object %d of %d", m.cur+1, len(m.heads)))
	case m.loaded && m.compared():
		right = m.th.Dim.Render("no differences")
	}
	return chrome.Spread(left, right, m.width)
}

// compared is true when every instance of the target was compared.
func (m *Model) compared() bool {
	for _, in := range m.result.Instances {
		if in.Err != "" {
			return false
		}
	}
	return len(m.result.Instances) > 0
}

// render draws one line of the text: additions green, removals red, hunks cyan, headers
// bold. Without colour the +, - and @@ prefixes tell the lines apart.
func (m *Model) render(l line) string {
	st := m.th.Text
	switch l.kind {
	case kindInstance:
		st = m.th.Accent
	case kindObject, kindFile:
		st = m.th.Title
	case kindHunk:
		st = m.th.Notice
	case kindAdd:
		st = m.th.Health(fleet.Healthy)
	case kindDel:
		st = m.th.Error.UnsetBold()
	case kindSame:
		st = m.th.Severity(fleet.SeverityOK)
	case kindError:
		st = m.th.Error
	case kindWarning:
		st = m.th.Drift.UnsetBold()
	case kindNote:
		st = m.th.Dim
	}
	text := l.text
	if ansi.StringWidth(text) > m.width {
		text = ansi.Truncate(text, m.width, "…")
	}
	return st.Render(text)
}

func (m *Model) footer() string {
	k := m.keys
	var b []key.Binding
	switch {
	case m.err != "":
		b = []key.Binding{k.Reload, k.Close}
	case !m.loaded:
		b = []key.Binding{k.Close}
	case len(m.heads) > 0:
		b = []key.Binding{objectBinding(k), scrollBinding(k), shortReload(k), k.Close}
	case len(m.lines) > m.bodyHeight():
		b = []key.Binding{scrollBinding(k), k.Reload, k.Close}
	default:
		b = []key.Binding{k.Reload, k.Close}
	}
	return m.help.ShortHelpView(b)
}

// objectBinding is n and N shown as one entry, so that the footer fits 60 columns.
func objectBinding(k KeyMap) key.Binding {
	return key.NewBinding(key.WithKeys(append(k.Next.Keys(), k.Prev.Keys()...)...), key.WithHelp("n/N", "next/previous object"))
}

func shortReload(k KeyMap) key.Binding {
	return key.NewBinding(key.WithKeys(k.Reload.Keys()...), key.WithHelp("r", "refresh"))
}

// scrollBinding is the scroll keys shown as one entry.
func scrollBinding(k KeyMap) key.Binding {
	return key.NewBinding(key.WithKeys(append(k.Down.Keys(), k.Up.Keys()...)...), key.WithHelp("j/k", "scroll"))
}

// wrap breaks plain text into lines of the pane's width, each in style st.
func (m *Model) wrap(text string, st lipgloss.Style) []string { return chrome.Wrap(text, m.width, st) }

// shortRev is a revision as the cli prints it, clean and cut to seven characters (runes, so a
// hostile revision never becomes invalid UTF-8).
func shortRev(s string) string {
	r := []rune(sanitize.Line(s))
	if len(r) > 7 {
		r = r[:7]
	}
	return string(r)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
