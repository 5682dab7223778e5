package syncpane

import (
	"charm.land/bubbles/v2/key"

	"github.com/fleetdeck/fleetdeck/ui/internal/chrome"
)

// KeyMap holds the pane's bindings; its footers are made from them, so each binding is written
// once.
type KeyMap struct {
	// The confirmation.
	Confirm, Cancel key.Binding
	// While the operators work: stop following (the operators carry on).
	Stop key.Binding
	// When everything finished, or nothing can be done.
	Back key.Binding
}

// DefaultKeyMap is the pane's key map.
func DefaultKeyMap() KeyMap {
	b := chrome.Binding
	return KeyMap{
		Confirm: b([]string{"y"}, "y", "sync"),
		Cancel:  b([]string{"esc", "n", "q"}, "esc", "cancel"),
		Stop:    b([]string{"esc", "q"}, "esc", "stop following (the operators carry on)"),
		Back:    b([]string{"esc", "enter", "q"}, "esc", "back"),
	}
}

// Help are the pane's bindings, for a help screen.
func (k KeyMap) Help() []key.Binding { return []key.Binding{k.Confirm, k.Cancel, k.Stop, k.Back} }
