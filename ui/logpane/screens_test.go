package logpane

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
	"github.com/fleetdeck/fleetdeck/ui/internal/panetest"
)

// host is the smallest parent: it gives the pane the whole terminal and passes it every
// message, as the ui's root model does while the pane is open.
type host struct{ pane *Model }

func (h *host) Init() tea.Cmd { return nil }

func (h *host) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		h.pane.SetSize(msg.Width, msg.Height)
	case ClosedMsg:
		return h, tea.Quit
	}
	return h, h.pane.Update(msg)
}

func (h *host) View() tea.View {
	v := tea.NewView(h.pane.View())
	v.AltScreen = true
	return v
}

// step is something sent to the program: lines or keys.
type step struct {
	lines []Line
	keys  string
}

// screen runs the pane in a Bubble Tea program at w×h, sends the steps in order and returns
// the final screen. The colour profile is fixed so that no machine downgrades it differently.
func screen(t *testing.T, mono bool, w, h int, steps ...step) string {
	t.Helper()
	opts := Options{Title: scenario.CatalogAPI + " on " + scenario.ProdUS, Now: fixedNow, SaveDir: t.TempDir()}
	if mono {
		opts.Theme = monoTheme(t)
	} else {
		opts.Theme = mustTheme(t, "dark")
	}
	tm := panetest.Start(t, &host{pane: New(opts)}, w, h, mono)
	// The first frame needs the size; only then lines and keys, as a user would see them.
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte("Waiting for log lines")) },
		teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(5*time.Millisecond))
	for _, s := range steps {
		if s.lines != nil {
			tm.Send(LinesMsg(s.lines))
		}
		for _, k := range keys(s.keys) {
			tm.Send(k)
		}
	}
	final := panetest.Stop(t, tm).(*host)
	if final.pane.width != w || final.pane.hgt != h {
		t.Fatalf("final size %dx%d, want %dx%d", final.pane.width, final.pane.hgt, w, h)
	}
	return final.pane.View()
}

// streamLines are the numbered lines with a notice and a long line among them.
func streamLines(first, n int) []Line {
	lines := numbered(first, n)
	if n > 10 {
		lines[n-4].Text = "ERROR checkout failed: upstream payments-api returned 503 Service Unavailable after 3 retries (order A-1093, cart 7 items, total 129.90 EUR)"
		lines[n-8] = Line{Cluster: scenario.ProdEU, Time: lines[n-8].Time, Notice: true,
			Text: "cluster prod-eu unreachable: dial tcp 10.20.0.1:6443: i/o timeout; retrying in 4s"}
	}
	return lines
}

func TestScreens(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
		want  []string // on the plain screen at every size
	}{
		{"follow", []step{{lines: streamLines(1, 60)}}, []string{"● following", "» prod-eu cluster prod-eu unreachable"}},
		{"paused", []step{{lines: streamLines(1, 40)}, {keys: "space"}, {lines: streamLines(41, 25)}},
			[]string{"⏸ paused · 25 new lines", "prod-us/catalog-api-7d9f8b6c5-x2x9k/api GET /api/products/3"}},
		{"search", []step{{lines: streamLines(1, 60)}, {keys: "/slow enter"}}, []string{"/slow  match 11/11"}},
		{"search_previous", []step{{lines: streamLines(1, 60)}, {keys: "/slow enter N N N N N"}}, []string{"/slow  match 6/11", "⏸ paused"}},
		{"filters", []step{{lines: streamLines(1, 60)}, {keys: "i GET|ERROR enter e 1[0-9]ms enter"}},
			[]string{"[+GET|ERROR", "» prod-eu cluster prod-eu unreachable", "ERROR checkout"}},
		{"wrap_on", []step{{lines: streamLines(1, 60)}, {keys: "w t"}}, []string{"timestamps · wrap"}},
		{"wrap_off", []step{{lines: streamLines(1, 60)}, {keys: "t right"}}, []string{"…"}},
		{"json_pretty", []step{{lines: streamLines(1, 60)}, {keys: "J p"}}, []string{"INFO  cache refreshed  items="}},
		{"include_typing", []step{{lines: streamLines(1, 60)}, {keys: "i ("}, {keys: "enter"}}, []string{"include: (▏  invalid regex: missing closing )"}},
	}
	for _, tt := range tests {
		for _, sz := range [][2]int{{80, 24}, {60, 20}} {
			name := fmt.Sprintf("%s_%dx%d", tt.name, sz[0], sz[1])
			t.Run(name, func(t *testing.T) {
				got := screen(t, true, sz[0], sz[1], tt.steps...)
				panetest.CheckGeometry(t, got, sz[0], sz[1])
				text := stripped(got)
				for _, w := range tt.want {
					if !strings.Contains(text, w) {
						t.Errorf("screen lacks %q:\n%s", w, text)
					}
				}
				panetest.Golden(t, name+".golden", got)
			})
		}
	}
}

// TestScreensColour keeps the colour screens: source colours, levels, highlight.
func TestScreensColour(t *testing.T) {
	for _, tt := range []struct {
		name  string
		steps []step
	}{
		{"follow", []step{{lines: streamLines(1, 60)}}},
		{"search", []step{{lines: streamLines(1, 60)}, {keys: "/slow enter J"}}},
	} {
		for _, sz := range [][2]int{{80, 24}, {60, 20}} {
			name := fmt.Sprintf("%s_%dx%d_colour", tt.name, sz[0], sz[1])
			t.Run(name, func(t *testing.T) {
				got := screen(t, false, sz[0], sz[1], tt.steps...)
				panetest.CheckGeometry(t, got, sz[0], sz[1])
				panetest.Golden(t, name+".golden", got)
			})
		}
	}
}

func TestScreenClose(t *testing.T) {
	// q in a prompt types; esc leaves the prompt; q then closes the pane and the host quits.
	th := monoTheme(t)
	tm := teatest.NewTestModel(t, &host{pane: New(Options{Theme: th, SaveDir: t.TempDir()})}, teatest.WithInitialTermSize(60, 10))
	for _, k := range keys("/ q esc q") {
		tm.Send(k)
	}
	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*host)
	if final.pane.Capturing() {
		t.Error("the prompt is still open")
	}
}
