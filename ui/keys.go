package ui

import (
	"charm.land/bubbles/v2/key"

	"github.com/fleetdeck/fleetdeck/ui/internal/chrome"
)

// Each pane has its own key map; the help screen and the footer are generated from them, so a
// binding is written once. A new pane (logs, history) adds its map here and to helpGroups.

type globalKeys struct {
	Quit, Help, Palette, Filter, Problems, Focus, Clear, Logs, History, Diff, Sync key.Binding
}

type treeKeys struct {
	Up, Down, Expand, Collapse, Toggle, Top, Bottom, PageUp, PageDown key.Binding
}

type detailsKeys struct {
	Up, Down, Top, Bottom, PageUp, PageDown, Back key.Binding
}

type helpKeys struct {
	Up, Down, Close key.Binding
}

type inputKeys struct {
	Submit, Cancel, Complete key.Binding
}

type keyMap struct {
	Global  globalKeys
	Tree    treeKeys
	Details detailsKeys
	Help    helpKeys
	Input   inputKeys
}

func defaultKeys() keyMap {
	b := chrome.Binding
	return keyMap{
		Global: globalKeys{
			Quit:     b([]string{"q", "ctrl+c"}, "q", "quit"),
			Help:     b([]string{"?"}, "?", "help"),
			Palette:  b([]string{":"}, ":", "command"),
			Filter:   b([]string{"/"}, "/", "filter"),
			Problems: b([]string{"p"}, "p", "problems only"),
			Focus:    b([]string{"tab"}, "tab", "details/tree"),
			Clear:    b([]string{"esc"}, "esc", "clear filters"),
			Logs:     b([]string{"l"}, "l", "logs"),
			History:  b([]string{"H"}, "H", "history/revert"),
			Diff:     b([]string{"d"}, "d", "diff git/live"),
			Sync:     b([]string{"S"}, "S", "sync now"),
		},
		Tree: treeKeys{
			Up:       b([]string{"up", "k"}, "↑/k", "up"),
			Down:     b([]string{"down", "j"}, "↓/j", "down"),
			Expand:   b([]string{"right"}, "→", "expand"),
			Collapse: b([]string{"left", "h"}, "←/h", "collapse/parent"),
			Toggle:   b([]string{"enter", "space"}, "enter", "expand/collapse"),
			Top:      b([]string{"g", "home"}, "g", "top"),
			Bottom:   b([]string{"G", "end"}, "G", "bottom"),
			PageUp:   b([]string{"pgup", "ctrl+b", "ctrl+u"}, "pgup", "page up"),
			PageDown: b([]string{"pgdown", "ctrl+f", "ctrl+d"}, "pgdn", "page down"),
		},
		Details: detailsKeys{
			Up:       b([]string{"up", "k"}, "↑/k", "scroll up"),
			Down:     b([]string{"down", "j"}, "↓/j", "scroll down"),
			Top:      b([]string{"g", "home"}, "g", "top"),
			Bottom:   b([]string{"G", "end"}, "G", "bottom"),
			PageUp:   b([]string{"pgup", "ctrl+b", "ctrl+u"}, "pgup", "page up"),
			PageDown: b([]string{"pgdown", "ctrl+f", "ctrl+d", "space"}, "pgdn", "page down"),
			Back:     b([]string{"esc", "h", "left"}, "esc", "back to tree"),
		},
		Help: helpKeys{
			Up:    b([]string{"up", "k"}, "↑/k", "scroll up"),
			Down:  b([]string{"down", "j"}, "↓/j", "scroll down"),
			Close: b([]string{"esc", "?", "q"}, "esc", "close help"),
		},
		Input: inputKeys{
			Submit:   b([]string{"enter"}, "enter", "apply"),
			Cancel:   b([]string{"esc"}, "esc", "cancel"),
			Complete: b([]string{"tab"}, "tab", "complete"),
		},
	}
}

// helpGroup is one titled section of the help screen.
type helpGroup struct {
	Title    string
	Bindings []key.Binding
}

func (k keyMap) helpGroups() []helpGroup {
	g, t, d, in := k.Global, k.Tree, k.Details, k.Input
	return []helpGroup{
		{"Everywhere", []key.Binding{g.Help, g.Filter, g.Palette, g.Problems, g.Logs, g.History, g.Diff, g.Sync, g.Focus, g.Clear, g.Quit}},
		{"Tree", []key.Binding{t.Up, t.Down, t.Expand, t.Collapse, t.Toggle, t.Top, t.Bottom, t.PageUp, t.PageDown}},
		{"Details", []key.Binding{d.Up, d.Down, d.Top, d.Bottom, d.PageUp, d.PageDown, d.Back}},
		{"Filter and command line", []key.Binding{in.Submit, in.Complete, in.Cancel}},
	}
}

// shortHelp is the footer of each pane: the keys most used there.
func (k keyMap) shortHelp(f focus) []key.Binding {
	g := k.Global
	switch f {
	case focusDetails:
		d := k.Details
		return []key.Binding{d.Back, d.Down, d.Up, d.PageDown, g.Filter, g.Palette, g.Help, g.Quit}
	}
	t := k.Tree
	return []key.Binding{t.Toggle, g.Logs, g.History, g.Diff, g.Sync, g.Focus, g.Filter, g.Problems, g.Palette, g.Help, g.Quit, t.Down, t.Up}
}
