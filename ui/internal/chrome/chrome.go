// Package chrome draws what the full-screen panes share around their content: the footer of
// key hints, the title line, and text wrapped, cut and padded to the pane's size.
package chrome

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/fleetdeck/fleetdeck/internal/sanitize"
	"github.com/fleetdeck/fleetdeck/ui/theme"
)

// Help is the footer of key hints in the theme's styles, its entries separated by sep. It
// fits them to the width SetWidth gives it.
func Help(th theme.Theme, sep string) help.Model {
	h := help.New()
	h.Styles = help.Styles{
		ShortKey: th.Key, ShortDesc: th.KeyDesc, ShortSeparator: th.Dim, Ellipsis: th.Dim,
		FullKey: th.Key, FullDesc: th.KeyDesc, FullSeparator: th.Dim,
	}
	h.ShortSeparator = sep
	return h
}

// Binding is a key binding on keys, shown in the footer as help and desc.
func Binding(keys []string, help, desc string) key.Binding {
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
}

// Title is the start of a pane's title line: its name, then what it shows, cleaned.
func Title(th theme.Theme, name, what string) string {
	return th.Title.Render(name) + th.Dim.Render(" · ") + th.Text.Render(sanitize.Line(what))
}

// Screen joins a pane's lines into its screen of w×h: when there are too many it keeps the
// first h-1 and the last (the keys), and every line is cut or padded to w cells.
func Screen(lines []string, w, h int) string {
	if len(lines) > h {
		lines = append(lines[:h-1], lines[len(lines)-1])
	}
	for i := range lines {
		lines[i] = Fit(lines[i], w, "")
	}
	return strings.Join(lines, "\n")
}

// Wrap breaks plain text into lines of width w, each in style st.
func Wrap(text string, w int, st lipgloss.Style) []string {
	lines := WrapText(text, max(1, w))
	for i, l := range lines {
		lines[i] = st.Render(l)
	}
	return lines
}

// WrapText breaks plain text at spaces only (names such as prod-eu and values-staging.yaml
// stay whole), and cuts a word wider than the line.
func WrapText(text string, w int) []string {
	w = max(1, w)
	var out []string
	line, lw := "", 0
	for _, word := range strings.Fields(text) {
		ww := ansi.StringWidth(word)
		switch {
		case lw == 0:
		case lw+1+ww <= w:
			line, lw = line+" "+word, lw+1+ww
			continue
		default:
			out = append(out, line)
		}
		for ww > w { // a word wider than the line: cut it
			out = append(out, ansi.Truncate(word, w, ""))
			word = ansi.TruncateLeft(word, w, "")
			ww = ansi.StringWidth(word)
		}
		line, lw = word, ww
	}
	if lw > 0 || len(out) == 0 {
		out = append(out, line)
	}
	return out
}

// Fit cuts s (styled or not) to w cells, ending with tail when cut, and pads it to w.
func Fit(s string, w int, tail string) string {
	n := ansi.StringWidth(s)
	if n > w {
		return ansi.Truncate(s, w, tail)
	}
	return s + strings.Repeat(" ", w-n)
}

// Pad pads plain s to w cells without cutting it.
func Pad(s string, w int) string {
	if n := ansi.StringWidth(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}

// Fill makes lines exactly height long.
func Fill(lines []string, height int) []string {
	if len(lines) > height {
		return lines[:height]
	}
	for len(lines) < height {
		lines = append(lines, "")
	}
	return lines
}

// Spread puts left at the start of a line of width w and right at its end, dropping right when
// both do not fit.
func Spread(left, right string, w int) string {
	lw, rw := ansi.StringWidth(left), ansi.StringWidth(right)
	if right == "" || lw+1+rw > w {
		return left
	}
	return left + strings.Repeat(" ", w-lw-rw) + right
}

// Plural is n and word, with an s when n is not 1.
func Plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// Start is how every dialog pane begins: its theme (the default one when th is unset) and a
// context of its own under parent (Background when nil), which the pane's Close cancels.
func Start(th theme.Theme, parent context.Context) (theme.Theme, context.Context, context.CancelFunc) {
	if th.Name == "" {
		th, _ = theme.New("", true) // the default theme always exists
	}
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithCancel(parent)
	return th, ctx, cancel
}

// Movement are the scrolling keys every pane shares, written once.
type Movement struct {
	Up, Down, Top, Bottom, PageUp, PageDown key.Binding
}

// DefaultMovement is the panes' scrolling keys.
func DefaultMovement() Movement {
	return Movement{
		Up:       Binding([]string{"up", "k"}, "↑/k", "up"),
		Down:     Binding([]string{"down", "j"}, "↓/j", "down"),
		Top:      Binding([]string{"g", "home"}, "g", "top"),
		Bottom:   Binding([]string{"G", "end"}, "G", "bottom"),
		PageUp:   Binding([]string{"pgup", "ctrl+b", "ctrl+u"}, "pgup", "page up"),
		PageDown: Binding([]string{"pgdown", "ctrl+f", "ctrl+d", "space"}, "pgdn", "page down"),
	}
}
