package ui

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
	"github.com/fleetdeck/fleetdeck/ui/internal/fixture"
)

var sgr = regexp.MustCompile(`\x1b\[([0-9;:]*)m`)

// unsafeRunes lists what a screen must never contain once its style sequences (SGR) are
// removed: escape and other C0 controls but the newline, DEL, C1 controls, and the bidi
// controls that make one string look like another.
func unsafeRunes(screen string) []string {
	var bad []string
	for i, r := range sgr.ReplaceAllString(screen, "") {
		switch {
		case r == '\n':
		case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f,
			r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
			bad = append(bad, fmt.Sprintf("%U at byte %d", r, i))
		}
	}
	return bad
}

// sgrParams lists the parameters of every style sequence: "1", "7", "38", ... (sub-parameters
// of a colour, after a ':' or as the following ';' fields, are reported too but never matter
// for the checks below, which look for the colour selectors).
func sgrParams(screen string) []int {
	var out []int
	for _, m := range sgr.FindAllStringSubmatch(screen, -1) {
		fields := strings.Split(m[1], ";")
		for i := 0; i < len(fields); i++ {
			f, _, _ := strings.Cut(fields[i], ":")
			n, err := strconv.Atoi(f)
			if err != nil {
				n = 0 // "" is a reset
			}
			out = append(out, n)
			if (n == 38 || n == 48 || n == 58) && !strings.Contains(fields[i], ":") {
				// Skip the colour's own fields: 5;N or 2;R;G;B.
				if i+1 < len(fields) && fields[i+1] == "5" {
					i += 2
				} else if i+1 < len(fields) && fields[i+1] == "2" {
					i += 4
				}
			}
		}
	}
	return out
}

// colourParams are the SGR parameters that select a colour.
func colourParams(screen string) []int {
	var out []int
	for _, n := range sgrParams(screen) {
		if (n >= 30 && n <= 49) || (n >= 90 && n <= 107) || n == 58 || n == 59 {
			out = append(out, n)
		}
	}
	return out
}

// hostileNames plants escape sequences in the names a cluster controls, on top of the hostile
// messages and events of fixture.Hostile.
func hostileNames(fm fleet.Model) fleet.Model {
	evil := func(s string) string { return s + "\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\r\u202e" }
	for i := range fm.Clusters {
		fm.Clusters[i].Name = evil(fm.Clusters[i].Name)
		fm.Clusters[i].Forbidden = []string{evil("secrets")}
	}
	for ai := range fm.Apps {
		a := &fm.Apps[ai]
		a.Name = evil(a.Name)
		for ii := range a.Instances {
			in := &a.Instances[ii]
			in.App, in.Cluster, in.Namespace, in.Path = a.Name, evil(in.Cluster), evil(in.Namespace), evil(in.Path)
			in.Message = evil(in.Message)
			for wi := range in.Workloads {
				w := &in.Workloads[wi]
				w.Ref.Name = evil(w.Ref.Name)
				for pi := range w.Pods {
					w.Pods[pi].Name = evil(w.Pods[pi].Name)
					w.Pods[pi].Reason = evil(w.Pods[pi].Reason)
				}
			}
			for k := range in.Images {
				in.Images[k].LiveImage = evil(in.Images[k].LiveImage)
			}
		}
	}
	return fm
}

// screenWalks are key sequences that between them draw every part of the ui.
var screenWalks = [][]string{
	nil,
	{"tab", "G"},
	{"right", "right", "right", "right", "right", "right", "right", "right"},
	{"right", "right", "tab", "pgdown"},
	{"j", "right", "right", "right", "right", "right", "right"},
	{"?"},
	{"G", "right", "j", "right", "j"},
}

// TestHostileTextNeverReachesTheScreen: escape sequences and controls in names, messages and
// events, and in text typed or pasted at the prompts, are removed before drawing.
func TestHostileTextNeverReachesTheScreen(t *testing.T) {
	fm := hostileNames(fixture.Hostile())
	shown := ""
	for _, sz := range sizes {
		for _, noColor := range []bool{false, true} {
			for _, walk := range screenWalks {
				m := newTestModel(t, Options{NoColor: noColor}, sz[0], sz[1], &fm)
				press(m, walk...)
				screen := m.View().Content
				if bad := unsafeRunes(screen); len(bad) > 0 {
					t.Errorf("%dx%d no-colour=%v after %v: %v\n%q", sz[0], sz[1], noColor, walk, bad, screen)
				}
				if strings.Contains(screen, "cm0gLXJmIH4=") {
					t.Errorf("%dx%d after %v: an OSC 52 payload is on screen", sz[0], sz[1], walk)
				}
				shown += ansi.Strip(screen)
			}
		}
	}
	// The walks did draw the hostile strings' printable parts: the test looked at them.
	for _, want := range []string{"Back-off", "for rollout", scenario.NotificationWorker, "prod-us"} {
		if !strings.Contains(shown, want) {
			t.Errorf("no screen showed %q: the walks miss the hostile text", want)
		}
	}

	// Typed or pasted at the prompts.
	paste := tea.KeyPressMsg{Code: 'x', Text: "\x1b]8;;https://evil.test\x1b\\x\r\u202e"}
	for _, prompt := range []string{"/", ":"} {
		m := newTestModel(t, Options{}, 80, 24, &fm)
		press(m, prompt)
		m.Update(paste)
		if bad := unsafeRunes(m.View().Content); len(bad) > 0 {
			t.Errorf("typing at %s: %v", prompt, bad)
		}
		press(m, "enter")
		if bad := unsafeRunes(m.View().Content); len(bad) > 0 {
			t.Errorf("after enter at %s: %v", prompt, bad)
		}
		if strings.Contains(m.View().Content, "evil.test") {
			t.Errorf("after enter at %s: the link target is on screen", prompt)
		}
	}
}

// TestHostileTextThroughTheTerminal: the bytes Run writes carry no planted sequence.
func TestHostileTextThroughTheTerminal(t *testing.T) {
	r := startRun(t, Options{NoColor: true}, 160, 48)
	r.send(hostileNames(fixture.Hostile()))
	r.waitOutput("Back-off")
	const right = "\x1b[C" // the right-arrow key as a terminal sends it
	for range 6 {
		if _, err := r.keys.Write([]byte(right)); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(200 * time.Millisecond)
	out := r.out.String()
	for _, bad := range []string{"\x1b]52", "\x1b]8;", "cm0gLXJmIH4=", "evil.test", "\u202e", "\x1b[31m"} {
		if strings.Contains(out, bad) {
			t.Errorf("the terminal received %q", bad)
		}
	}
	r.cancel()
	if err := r.wait(); err != nil {
		t.Fatal(err)
	}
}

// TestNoColor: NO_COLOR screens carry no colour, only bold, dim and reverse; the words and
// symbols are the same as in colour, so no state is told by colour alone.
func TestNoColor(t *testing.T) {
	for _, fm := range []fleet.Model{fixture.Sandbox(), fixture.Unreachable(scenario.Staging, 3*time.Minute)} {
		for _, sz := range sizes {
			for _, walk := range screenWalks {
				mono := newTestModel(t, Options{NoColor: true}, sz[0], sz[1], &fm)
				press(mono, walk...)
				colour := newTestModel(t, Options{}, sz[0], sz[1], &fm)
				press(colour, walk...)
				ms, cs := mono.View().Content, colour.View().Content
				if c := colourParams(ms); len(c) > 0 {
					t.Errorf("%dx%d after %v: NO_COLOR screen selects colours %v", sz[0], sz[1], walk, c)
				}
				if len(colourParams(cs)) == 0 {
					t.Errorf("%dx%d after %v: the colour screen has no colour: the check is blind", sz[0], sz[1], walk)
				}
				if ansi.Strip(ms) != ansi.Strip(cs) {
					t.Errorf("%dx%d after %v: the monochrome text differs from the colour text:\n--- mono\n%s\n--- colour\n%s",
						sz[0], sz[1], walk, ansi.Strip(ms), ansi.Strip(cs))
				}
			}
		}
	}
}

// TestANSI16Theme: the ansi16 theme uses only the terminal's own 16 colours, so it follows the
// user's palette and works on terminals without 256 colours.
func TestANSI16Theme(t *testing.T) {
	fm := fixture.Sandbox()
	for _, walk := range screenWalks {
		m := newTestModel(t, Options{Theme: "ansi16"}, 160, 48, &fm)
		press(m, walk...)
		for _, n := range colourParams(m.View().Content) {
			if n == 38 || n == 48 || n == 58 {
				t.Fatalf("after %v: the ansi16 theme uses an extended colour (SGR %d)", walk, n)
			}
		}
	}
}

// TestRunNoColor: with NoColor the bytes written to the terminal select no colour either.
func TestRunNoColor(t *testing.T) {
	r := startRun(t, Options{NoColor: true}, 160, 48)
	r.send(fixture.Sandbox())
	r.waitOutput(scenario.NotificationWorker)
	if _, err := r.keys.Write([]byte("?")); err != nil {
		t.Fatal(err)
	}
	r.waitOutput("close help")
	if c := colourParams(r.out.String()); len(c) > 0 {
		t.Errorf("NoColor output selects colours %v", c)
	}
	r.cancel()
	if err := r.wait(); err != nil {
		t.Fatal(err)
	}
}

func TestSGRParams(t *testing.T) {
	got := colourParams("\x1b[1;38;5;196mA\x1b[38:2::1:2:3mB\x1b[7;91mC\x1b[mD\x1b[2;22m")
	want := []int{38, 38, 91}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("colourParams = %v, want %v", got, want)
	}
	if bad := unsafeRunes("ok\x1b[1mbold\x1b[m\n"); len(bad) != 0 {
		t.Errorf("unsafeRunes flags a plain styled screen: %v", bad)
	}
	if bad := unsafeRunes("a\x1b]52;c;x\x07b\rc\u202ed"); len(bad) != 4 {
		t.Errorf("unsafeRunes = %v, want 4 findings (ESC, BEL, CR, RLO)", bad)
	}
}
