package logpane

import (
	"charm.land/bubbles/v2/key"

	"github.com/fleetdeck/fleetdeck/ui/internal/chrome"
)

// KeyMap is the pane's keys, after less and k9s. The parent's help screen shows Help(); its
// footer may show ShortHelp().
type KeyMap struct {
	// Follow toggles following the newest lines; pausing keeps buffering.
	Follow key.Binding
	// Up, Down, PageUp, PageDown, Top scroll (and pause); Bottom jumps to the end and follows.
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	// Left and Right scroll sideways when wrapping is off.
	Left, Right key.Binding
	// Search asks for a regular expression (or plain text when it is not one), matched
	// without regard to case; Next and Prev move between matching lines.
	Search, Next, Prev key.Binding
	// Include and Exclude ask for a regular expression that lines must match (or must not);
	// an empty one removes the filter. Clear removes the filters and the search.
	Include, Exclude, Clear key.Binding
	// Timestamps, Wrap, JSON and Prefix toggle how lines are shown.
	Timestamps, Wrap, JSON, Prefix key.Binding
	// Save writes the lines passing the filters to a file.
	Save key.Binding
	// Close leaves the pane: Update returns a command that yields ClosedMsg.
	Close key.Binding
}

// inputKeys are the keys of the search and filter prompts; any other key with text types it.
type inputKeys struct {
	Submit, Cancel, Erase, Backspace key.Binding
}

// DefaultKeys is the pane's key map.
func DefaultKeys() KeyMap {
	b := chrome.Binding
	return KeyMap{
		Follow:     b([]string{"f", "space"}, "f/space", "follow/pause"),
		Up:         b([]string{"up", "k"}, "↑/k", "up"),
		Down:       b([]string{"down", "j"}, "↓/j", "down"),
		PageUp:     b([]string{"pgup", "ctrl+b", "ctrl+u"}, "pgup", "page up"),
		PageDown:   b([]string{"pgdown", "ctrl+f", "ctrl+d"}, "pgdn", "page down"),
		Top:        b([]string{"g", "home"}, "g", "oldest line"),
		Bottom:     b([]string{"G", "end"}, "G", "newest line, follow"),
		Left:       b([]string{"left", "h"}, "←/h", "scroll left"),
		Right:      b([]string{"right", "l"}, "→/l", "scroll right"),
		Search:     b([]string{"/"}, "/", "search"),
		Next:       b([]string{"n"}, "n", "next match"),
		Prev:       b([]string{"N"}, "N", "previous match"),
		Include:    b([]string{"i"}, "i", "include regex"),
		Exclude:    b([]string{"e"}, "e", "exclude regex"),
		Clear:      b([]string{"x"}, "x", "clear filters, search"),
		Timestamps: b([]string{"t"}, "t", "timestamps"),
		Wrap:       b([]string{"w"}, "w", "wrap"),
		JSON:       b([]string{"J"}, "J", "JSON pretty"),
		Prefix:     b([]string{"p"}, "p", "source prefix"),
		Save:       b([]string{"s"}, "s", "save to file"),
		Close:      b([]string{"esc", "q"}, "esc/q", "close logs"),
	}
}

// Help lists every binding, in the order a help screen shows them.
func (k KeyMap) Help() []key.Binding {
	return []key.Binding{
		k.Follow, k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom, k.Left, k.Right,
		k.Search, k.Next, k.Prev, k.Include, k.Exclude, k.Clear,
		k.Timestamps, k.Wrap, k.JSON, k.Prefix, k.Save, k.Close,
	}
}

// ShortHelp is the few keys worth a footer.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Follow, k.Search, k.Include, k.Exclude, k.Wrap, k.Save, k.Close}
}

func defaultInputKeys() inputKeys {
	b := chrome.Binding
	return inputKeys{
		Submit:    b([]string{"enter"}, "enter", "apply"),
		Cancel:    b([]string{"esc"}, "esc", "cancel"),
		Erase:     b([]string{"ctrl+u"}, "ctrl+u", "erase"),
		Backspace: b([]string{"backspace"}, "backspace", "delete"),
	}
}
