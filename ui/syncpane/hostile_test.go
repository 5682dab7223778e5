package syncpane

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
	"github.com/fleetdeck/fleetdeck/ui/theme"
)

// evil is what a hostile object, commit or cluster could carry to take over the terminal: a
// clipboard write (OSC 52), a screen clear and cursor move (CSI), a link (OSC 8), a title, C1
// controls, a bare CR, a bidi override and invalid UTF-8.
const evil = "\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\x1b[H\x1b]8;;https://evil.test\x1b\\x\x1b]8;;\x1b\\\x1b]0;pwned\x07\u009b31m\r\u202eevil\u202c\u2066\xff"

var sgrOnly = regexp.MustCompile(`\x1b\[[0-9;:]*m`)

// assertSafe fails when s holds anything a terminal would act on besides the theme's own SGR
// styling and newlines.
func assertSafe(t *testing.T, what, s string) {
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

// TestHostileText: escape sequences in cluster and object names and in the operators' words
// never reach View, in any stage and theme.
func TestHostileText(t *testing.T) {
	hostile := func(tg Target) Target {
		tg.Cluster += evil
		tg.Namespace += evil
		tg.Name += evil
		tg.ObjectCluster += evil
		return tg
	}
	plan := Plan{App: app + evil, Targets: []Target{hostile(argo(app, scenario.ProdEU)), hostile(flux(app, scenario.Staging)), hostile(declared(app, scenario.ProdUS))}}
	plainTheme := theme.Theme{Name: "plain", Mono: true} // no styles at all: any ESC is a leak
	for _, th := range []theme.Theme{plainTheme, testTheme(t, true), testTheme(t, false)} {
		for _, keys := range [][]string{nil, {"y"}} {
			be := newFake(plan)
			for c, ps := range be.phases {
				for i := range ps {
					ps[i].Text += " " + evil
				}
				be.phases[c+evil] = ps
			}
			m := New(Options{App: app + evil, Cluster: evil, Backend: be, Theme: th, Now: fixture0})
			m.SetSize(90, 40)
			d := &driver{m: m}
			d.run(m.Init())
			d.press(keys...)
			s := m.View()
			if th.Name == "plain" && strings.Contains(s, "\x1b") {
				t.Errorf("unstyled theme, keys %v: an escape reached the screen: %q", keys, s)
			}
			assertSafe(t, th.Name+" "+strings.Join(keys, ""), s)
			if len(keys) > 0 && !strings.Contains(s, "Succeeded") {
				t.Errorf("the hostile progress is not shown:\n%s", s)
			}
			m.Close()
		}
	}
	m := New(Options{App: app + evil, Backend: &fakeSync{planErr: errorString(evil)}})
	m.SetSize(60, 20)
	d := &driver{m: m}
	d.run(m.Init())
	assertSafe(t, "plan error", m.View())
	m.Close()
}

type errorString string

func (e errorString) Error() string { return string(e) }
