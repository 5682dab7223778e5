package logpane

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
	"github.com/fleetdeck/fleetdeck/ui/theme"
)

// The -update flag rewrites golden files under testdata/. teatest's golden package defines a
// flag of that name already (defining it twice panics), so it is defined here only when no
// imported package did.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files under testdata/")
	}
}

func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// t0 is the fixed clock of the tests and the time of their first line.
var t0 = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

func fixedNow() time.Time { return t0 }

func monoTheme(t testing.TB) theme.Theme {
	t.Helper()
	th, err := theme.New("", true)
	if err != nil {
		t.Fatal(err)
	}
	return th
}

// newPane is a monochrome pane of w×h saving into a test directory.
func newPane(t testing.TB, w, h int, opts Options) *Model {
	t.Helper()
	if opts.Theme.Name == "" {
		opts.Theme = monoTheme(t)
	}
	if opts.SaveDir == "" {
		opts.SaveDir = t.TempDir()
	}
	if opts.Now == nil {
		opts.Now = fixedNow
	}
	if opts.Title == "" {
		opts.Title = scenario.CatalogAPI
	}
	m := New(opts)
	m.SetSize(w, h)
	return m
}

// Sources of the test lines: one app's pods on two clusters.
var (
	srcUS = Line{Cluster: scenario.ProdUS, Namespace: "catalog", Pod: scenario.CatalogAPI + "-7d9f8b6c5-x2x9k", Container: "api"}
	srcEU = Line{Cluster: scenario.ProdEU, Namespace: "catalog", Pod: scenario.CatalogAPI + "-7d9f8b6c5-q8w4n", Container: "api"}
)

// from is a line of src with text, i seconds after t0.
func from(src Line, i int, text string) Line {
	l := src
	l.Time = t0.Add(time.Duration(i) * time.Second)
	l.Text = text
	return l
}

// numbered are n lines "request <i> ..." alternating between the two sources, every fifth a
// warning and every seventh a JSON line.
func numbered(first, n int) []Line {
	out := make([]Line, 0, n)
	for i := first; i < first+n; i++ {
		src := srcUS
		if i%2 == 1 {
			src = srcEU
		}
		text := fmt.Sprintf("GET /api/products/%d 200 %dms", i, 3+i%17)
		switch {
		case i%7 == 0:
			text = fmt.Sprintf(`{"level":"info","msg":"cache refreshed","items":%d,"took":"%dms"}`, 100+i, i%9)
		case i%5 == 0:
			text = fmt.Sprintf("WARN slow query on products (%dms) for request %d", 200+i, i)
		}
		out = append(out, from(src, i, text))
	}
	return out
}

func texts(m *Model) []string {
	var out []string
	for _, seq := range m.shown {
		l, _ := m.ring.get(seq)
		out = append(out, l.Text)
	}
	return out
}

func keyMsg(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
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
	case "ctrl+u":
		return tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}
	}
	r := []rune(k)[0]
	return tea.KeyPressMsg{Code: r, Text: k}
}

// keys turns "j j /error enter" into key messages: a word of several characters that is not
// a key name is typed one rune at a time.
func keys(spec string) []tea.KeyPressMsg {
	var out []tea.KeyPressMsg
	for _, w := range strings.Fields(spec) {
		switch w {
		case "enter", "esc", "backspace", "up", "down", "left", "right", "pgup", "pgdown", "home", "end", "space", "ctrl+u":
			out = append(out, keyMsg(w))
			continue
		}
		for _, r := range w {
			out = append(out, keyMsg(string(r)))
		}
	}
	return out
}

// press sends keys to the pane and returns the last command.
func press(m *Model, spec string) tea.Cmd {
	var cmd tea.Cmd
	for _, k := range keys(spec) {
		cmd = m.Update(k)
	}
	return cmd
}

func plain(m *Model) string { return ansi.Strip(m.View()) }

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if updating() {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatalf("write golden %s: %v", path, err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden %s (run with -update to create it): %v", path, err)
	}
	if string(want) != got {
		t.Errorf("screen differs from %s (run with -update if the change is intended):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// checkGeometry asserts h lines of exactly w cells.
func checkGeometry(t *testing.T, screen string, w, h int) {
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

func pasteMsg(s string) tea.PasteMsg { return tea.PasteMsg{Content: s} }

// stripped is s without styles.
func stripped(s string) string { return ansi.Strip(s) }

func readFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	return string(b), err
}
