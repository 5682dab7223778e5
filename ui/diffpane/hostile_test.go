package diffpane

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/fleetdeck/fleetdeck/fleet"
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

func hostileResult() Result {
	in := changedInstance()
	in.Cluster += evil
	in.Branch = "main" + evil
	in.Revision = "\x1b]52;c;AAAA\x07" + gitRev
	in.LiveRevision = "\u202e\u009b" + gitRev
	in.Warnings = []string{"not compared: " + evil}
	in.Objects = append(in.Objects, Object{Kind: "ConfigMap" + evil, Namespace: "ns" + evil, Name: "name" + evil, Status: Changed,
		Diff: "--- live/" + evil + "\n+++ git/x\n@@ -1 +1 @@\n-data: " + evil + "\n+data: \x1b[31mred\x1b[0m \x1b[10;10H\u202e\n \tcontext\x1b]52;c;QQ==\x1b\\\r\n"})
	bad := Instance{App: app, Cluster: "staging" + evil, Revision: gitRev, Err: "render: " + evil}
	return Result{Instances: []Instance{in, bad}}
}

// TestHostileText: escape sequences in object diffs, names, revisions, warnings and errors
// never reach View, whatever the theme, size or scroll position.
func TestHostileText(t *testing.T) {
	plainTheme := theme.Theme{Name: "plain", Mono: true} // no styles at all: any ESC is a leak
	for _, th := range []theme.Theme{plainTheme, testTheme(t, true), testTheme(t, false)} {
		for _, keys := range [][]string{nil, {"n", "n", "n"}, {"G"}} {
			m := New(Options{Target: Target{App: app + evil, Object: fleet.ObjectRef{Kind: "ConfigMap" + evil, Name: evil}},
				Backend: &fakeBackend{result: hostileResult()}, Theme: th})
			m.SetSize(90, 40)
			d := &driver{m: m}
			d.run(m.Init())
			d.press(keys...)
			s := m.View()
			if th.Name == "plain" && strings.Contains(s, "\x1b") {
				t.Errorf("unstyled theme, keys %v: an escape reached the screen: %q", keys, s)
			}
			assertSafe(t, th.Name+" "+strings.Join(keys, ""), s)
			if !strings.Contains(s, "data:") {
				t.Errorf("the hostile diff is not shown at all:\n%s", s)
			}
			m.Close()
		}
	}
	// The error screen too.
	m := New(Options{Target: Target{App: app + evil, Cluster: evil}, Backend: &fakeBackend{err: errorString(evil)}})
	m.SetSize(60, 20)
	d := &driver{m: m}
	d.run(m.Init())
	assertSafe(t, "error", m.View())
	m.Close()
}

type errorString string

func (e errorString) Error() string { return string(e) }
