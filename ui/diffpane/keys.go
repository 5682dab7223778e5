package diffpane

import (
	"charm.land/bubbles/v2/key"

	"github.com/fleetdeck/fleetdeck/ui/internal/chrome"
)

// KeyMap holds the pane's bindings; its footer is made from them, so each binding is written
// once.
type KeyMap struct {
	chrome.Movement
	Next, Prev    key.Binding
	Reload, Close key.Binding
}

// DefaultKeyMap is the pane's key map.
func DefaultKeyMap() KeyMap {
	b := chrome.Binding
	return KeyMap{
		Movement: chrome.DefaultMovement(),
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
