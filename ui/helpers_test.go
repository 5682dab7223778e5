package ui

import (
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/ui/internal/fixture"
	"github.com/fleetdeck/fleetdeck/ui/internal/panetest"
	"github.com/fleetdeck/fleetdeck/ui/theme"
)

func fixedClock() time.Time { return fixture.Now }

// newTestModel is the root model with a fixed clock, sized, with the model delivered.
func newTestModel(t testing.TB, opts Options, w, h int, fm *fleet.Model) *model {
	t.Helper()
	th, err := theme.New(opts.Theme, opts.NoColor)
	if err != nil {
		t.Fatal(err)
	}
	m := newModel(opts, th, fixedClock, nil)
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	if fm != nil {
		m.Update(modelMsg{*fm})
	}
	return m
}

// press sends key presses given as key names ("j", "enter", "tab", ":") or, for text, runes.
func press(m *model, keys ...string) {
	for _, k := range keys {
		m.Update(panetest.KeyMsg(k))
	}
}

// typeText sends each rune of s as a key press.
func typeText(m *model, s string) {
	for _, r := range s {
		m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// plain is the screen without styling, for assertions on text.
func plain(m *model) string { return ansi.Strip(m.View().Content) }

func stripANSI(s string) string { return ansi.Strip(s) }

func displayWidth(s string) int { return ansi.StringWidth(s) }
