package diffpane

import (
	"charm.land/bubbles/v2/key"

	"github.com/fleetdeck/fleetdeck/ui/internal/chrome"
)

// KeyMap holds the pane's bindings; its footer is made from them, so each binding is written
// once.
type KeyMap struct {
	Up, Down, Top, Bottom, PageUp, PageDown key.Binding
	Next, Prev                              key.Binding
	Reload, Close                           key.Binding
}

// DefaultKeyMap is the pane's key map.
func DefaultKeyMap() KeyMap {
	b := chrome.Binding
	return KeyMap{
		Up:       b([]string{"up", "k"}, "↑/k", "up"),
		Down:     b([]string{"down", "j"}, "↓/j", "down"),
		Top:      b([]string{"g", "home"}, "g", "top"),
		Bottom:   b([]string{"G", "end"}, "G", "bottom"),
		PageUp:   b([]string{"pgup", "ctrl+b", "ctrl+u"}, "pgup", "page up"),
		PageDown: b([]string{"pgdown", "ctrl+f", "ctrl+d", "space"}, "pgdn", "page down"),
		Next:     b([]string{"n"}, "n", "next object"),
		Prev:     b([]string{"N"}, "N", "previous object"),
		Reload:   b([]string{"r"}, "r", "compare again"),
		Close:    b([]string{"esc", "q"}, "esc", "back"),
	}
}

// Help are the pane's bindings, for a help screen.
func (k KeyMap) Help() []key.Binding {
	return []key.Binding{k.Next, k.Prev, k.Down, k.Up, k.PageDown, k.PageUp, k.Top, k.Bottom, k.Reload, k.Close}
}
