// Package panetest holds the test helpers the ui and its panes share: key presses by name,
// golden screens, screen geometry, hostile text, and panes run in a program under teatest.
package panetest

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"
)

// The -update flag rewrites golden files under testdata/. teatest's golden package defines a
// flag of that name already (defining it twice panics), so it is defined here only when no
// imported package did; imported packages' init functions run before this one, and this
// package imports teatest.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files under testdata/")
	}
}

// Updating is true when the tests run with -update.
func Updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// Golden compares got with testdata/name, or with -update writes it there.
func Golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if Updating() {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatalf("write golden %s: %v", p, err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("read golden %s (run with -update to create it): %v", p, err)
	}
	if string(want) != got {
		t.Errorf("screen differs from %s (run with -update if the change is intended):\n--- got\n%s\n--- want\n%s", p, got, want)
	}
}

// CheckGeometry asserts h lines of exactly w cells.
func CheckGeometry(t *testing.T, screen string, w, h int) {
	t.Helper()
	lines := strings.Split(screen, "\n")
	if len(lines) != h {
		t.Errorf("screen has %d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if n := ansi.StringWidth(l); n != w {
			t.Errorf("line %d is %d cells wide, want %d: %q", i, n, w, ansi.Strip(l))
		}
	}
}

// KeyMsg is the key press of a key name ("enter", "pgdown", "ctrl+u") or, for anything else,
// of its first rune with the name as text.
func KeyMsg(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "left":
		return tea.KeyPressMsg{Code: tea.KeyLeft}
	case "right":
		return tea.KeyPressMsg{Code: tea.KeyRight}
	case "pgup":
		return tea.KeyPressMsg{Code: tea.KeyPgUp}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "home":
		return tea.KeyPressMsg{Code: tea.KeyHome}
	case "end":
		return tea.KeyPressMsg{Code: tea.KeyEnd}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	case "ctrl+u":
		return tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}
	}
	r := []rune(k)[0]
	return tea.KeyPressMsg{Code: r, Text: k}
}

// Flat is text with every run of spaces and newlines made one space, to find a sentence a
// pane wrapped.
func Flat(s string) string { return strings.Join(strings.Fields(s), " ") }

// Evil is what a hostile object, commit or cluster could carry to take over the terminal: a
// clipboard write (OSC 52), a screen clear and cursor move (CSI), a link (OSC 8), a title, C1
// controls, a bare CR, a bidi override and invalid UTF-8.
const Evil = "\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\x1b[H\x1b]8;;https://evil.test\x1b\\x\x1b]8;;\x1b\\\x1b]0;pwned\x07\u009b31m\r\u202eevil\u202c\u2066\xff"

// sgrOnly matches the styling the theme itself writes: Select Graphic Rendition sequences.
var sgrOnly = regexp.MustCompile(`\x1b\[[0-9;:]*m`)

// AssertSafe fails when s holds anything a terminal would act on besides SGR styling and
// newlines: another escape sequence, a C0 or C1 control, DEL, a bidi control, invalid UTF-8.
func AssertSafe(t *testing.T, what, s string) {
	t.Helper()
	rest := sgrOnly.ReplaceAllString(s, "")
	if !utf8.ValidString(rest) {
		t.Errorf("%s: invalid UTF-8", what)
	}
	for i, r := range rest {
		switch {
		case r == '\n':
		case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f,
			r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
			t.Errorf("%s: control %U at byte %d: %q", what, r, i, rest[max(0, i-20):min(len(rest), i+20)])
			return
		}
	}
}

// Start runs m in a program (teatest) at w×h. The colour profile is fixed, plain text when
// mono, so that no machine downgrades the styles differently.
func Start(t *testing.T, m tea.Model, w, h int, mono bool) *teatest.TestModel {
	t.Helper()
	profile := colorprofile.TrueColor
	if mono {
		profile = colorprofile.Ascii
	}
	return teatest.NewTestModel(t, m, teatest.WithInitialTermSize(w, h),
		teatest.WithProgramOptions(tea.WithColorProfile(profile)))
}

// Stop quits the program and returns its final model, failing when it does not end within
// 5 s.
func Stop(t *testing.T, tm *teatest.TestModel) tea.Model {
	t.Helper()
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	return tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second))
}

// Poll checks cond every 5 ms for up to 5 s and says whether it became true.
func Poll(cond func() bool) bool {
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}
