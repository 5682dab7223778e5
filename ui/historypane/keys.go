package historypane

import (
	"charm.land/bubbles/v2/key"

	"github.com/fleetdeck/fleetdeck/ui/internal/chrome"
)

// KeyMap holds the pane's bindings; its footers and the parent's help screen are made from
// them, so each binding is written once.
type KeyMap struct {
	// The commit list.
	chrome.Movement
	Revert, AppOnly, Rollback, Close key.Binding
	// The confirmation dialog. Scrolling the diff uses the list's movement keys.
	Commit, Push, Reason, Cancel key.Binding
	// While the reason is edited.
	ReasonDone, ReasonDiscard key.Binding
	// After a write or a failure.
	Back, Replan key.Binding
}

// DefaultKeyMap is the pane's key map.
func DefaultKeyMap() KeyMap {
	b := chrome.Binding
	return KeyMap{
		Movement: chrome.DefaultMovement(),
		Revert:   b([]string{"r"}, "r", "revert"),
		AppOnly:  b([]string{"a"}, "a", "app-only revert"),
		Rollback: b([]string{"b", "R"}, "b", "roll back to"),
		Close:    b([]string{"esc", "q"}, "esc", "close"),

		Commit: b([]string{"y"}, "y", "commit"),
		Push:   b([]string{"p"}, "p", "commit and push"),
		Reason: b([]string{"e", "tab"}, "e", "reason"),
		Cancel: b([]string{"esc"}, "esc", "cancel"),

		ReasonDone:    b([]string{"enter", "tab"}, "enter", "done"),
		ReasonDiscard: b([]string{"esc"}, "esc", "discard the edit"),

		Back:   b([]string{"esc", "enter", "q"}, "esc", "back to history"),
		Replan: b([]string{"r"}, "r", "plan again"),
	}
}

// ListHelp are the bindings of the commit list, for a help screen.
func (k KeyMap) ListHelp() []key.Binding {
	return []key.Binding{k.Revert, k.AppOnly, k.Rollback, k.Up, k.Down, k.Top, k.Bottom, k.PageUp, k.PageDown, k.Close}
}

// DialogHelp are the bindings of the confirmation dialog, for a help screen.
func (k KeyMap) DialogHelp() []key.Binding {
	return []key.Binding{k.Commit, k.Push, k.Reason, k.AppOnly, k.Down, k.Up, k.PageDown, k.PageUp, k.Cancel}
}
