package logpane

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
	"github.com/fleetdeck/fleetdeck/ui/internal/panetest"
	"github.com/fleetdeck/fleetdeck/ui/theme"
)

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

// keys turns "j j /error enter" into key messages: a word of several characters that is not
// a key name is typed one rune at a time.
func keys(spec string) []tea.KeyPressMsg {
	var out []tea.KeyPressMsg
	for _, w := range strings.Fields(spec) {
		switch w {
		case "enter", "esc", "backspace", "up", "down", "left", "right", "pgup", "pgdown", "home", "end", "space", "ctrl+u":
			out = append(out, panetest.KeyMsg(w))
			continue
		}
		for _, r := range w {
			out = append(out, panetest.KeyMsg(string(r)))
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

func pasteMsg(s string) tea.PasteMsg { return tea.PasteMsg{Content: s} }

// stripped is s without styles.
func stripped(s string) string { return ansi.Strip(s) }

func readFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	return string(b), err
}
