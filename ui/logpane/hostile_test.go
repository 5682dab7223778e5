package logpane

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/fleetdeck/fleetdeck/ui/internal/panetest"
	"github.com/fleetdeck/fleetdeck/ui/theme"
)

// hostile are lines a pod (or whoever feeds the pane) could write to take over the terminal.
var hostile = []string{
	"\x1b[31mred\x1b[0m \x1b[2J\x1b[H cleared the screen",
	"cursor \x1b[10;10H moved \x1b[?1049h alt screen \x1b[?25l hidden",
	"clipboard \x1b]52;c;ZWNobyBwd25lZA==\x07 set",
	"clipboard ST \x1b]52;c;ZWNobyBwd25lZA==\x1b\\ set",
	"link \x1b]8;;https://evil.test\x1b\\click\x1b]8;;\x1b\\",
	"title \x1b]0;pwned\x07 DCS \x1bP+q544e\x1b\\ APC \x1b_payload\x1b\\",
	"C1 CSI \u009b31m OSC \u009d52;c;AAAA\u009c end",
	"bidi \u202eevil\u202c \u2066isolate\u2069 \u200fmark",
	"bell \x07 backspace \x08\x08 nul \x00 del \x7f cr \r overwritten",
	"invalid utf-8 \xff\xfe\xc3 end",
	"unterminated OSC \x1b]52;c;AAAA",
	`{"level":"error","msg":"json \u001b[31mescape\u001b]52;c;QQ==\u0007","k":"\u202e\u009bx"}`,
	"ESC at the end \x1b",
}

// hostileLines are the hostile texts, from hostile sources too.
func hostileLines() []Line {
	var lines []Line
	for i, h := range hostile {
		l := from(srcUS, i, h)
		if i%3 == 0 {
			l.Pod = "pod\x1b]52;c;AAAA\x07\u202e-x"
			l.Container = "c\x1b[2J"
		}
		lines = append(lines, l)
	}
	lines = append(lines, Line{Cluster: "prod\x1b[31m", Text: "notice \x1b]52;c;AAAA\x07 from a hostile cluster", Notice: true})
	return lines
}

func TestHostileLines(t *testing.T) {
	plainTheme := theme.Theme{Name: "plain", Mono: true} // no styles at all: any ESC is a leak
	for _, tc := range []struct {
		name string
		th   theme.Theme
		keys string
		sgr  bool // whether the theme's own SGR may appear
	}{
		{"no styles", plainTheme, "", false},
		{"no styles, toggles", plainTheme, "t J w", false},
		{"mono search", monoTheme(t), "/e enter t J", true},
		{"colour search wrap", mustTheme(t, "dark"), "/[a-z] enter w J", true},
		{"ansi16 filters", mustTheme(t, "ansi16"), "i . enter e zzz enter p", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newPane(t, 80, 24, Options{Theme: tc.th, Title: "app\x1b]52;c;AAAA\x07\u202e"})
			m.Append(hostileLines())
			m.Update(LinesMsg(hostileLines()))
			press(m, tc.keys)
			view := m.View()
			panetest.CheckGeometry(t, view, 80, 24)
			if !tc.sgr {
				// Without theme styles the only sequences are the pane's own (italic notices).
				rest := view
				for _, g := range m.st.s {
					if g.open != "" {
						rest = strings.ReplaceAll(rest, g.open, "")
						rest = strings.ReplaceAll(rest, g.close, "")
					}
				}
				if strings.ContainsRune(rest, 0x1b) {
					t.Fatalf("ESC in a view drawn without theme styles:\n%q", rest)
				}
			}
			panetest.AssertSafe(t, "view", view)
			for _, want := range []string{"cleared the screen", "clipboard  set", "click"} {
				if !tc.sgr && !strings.Contains(view, want) {
					t.Errorf("the readable part %q is lost:\n%s", want, view)
				}
			}
		})
	}
}

func mustTheme(t testing.TB, name string) theme.Theme {
	t.Helper()
	th, err := theme.New(name, false)
	if err != nil {
		t.Fatal(err)
	}
	return th
}

func TestHostilePromptAndSave(t *testing.T) {
	m := newPane(t, 120, 10, Options{})
	m.Append(hostileLines())
	press(m, "/")
	m.Update(pasteMsg("x\x1b]52;c;AAAA\x07\u202e\x1b[2J"))
	panetest.AssertSafe(t, "prompt", m.View())
	press(m, "enter")
	panetest.AssertSafe(t, "status", m.View())
	msg := saveNow(t, m)
	if msg.Err != nil {
		t.Fatal(msg.Err)
	}
	data, err := readFile(msg.Path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsRune(data, 0x1b) {
		t.Errorf("the saved file holds ESC:\n%q", data)
	}
	panetest.AssertSafe(t, "saved file", data)
}

func TestLongLine(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	m := newPane(t, 80, 24, Options{})
	m.Append([]Line{from(srcUS, 0, big+"\x1b]52;c;AAAA\x07"), from(srcUS, 1, "after")})
	l, _ := m.ring.get(m.shown[0])
	if len(l.Text) > DefaultMaxLineBytes+64 || !strings.HasSuffix(l.Text, " …[1032204 bytes cut]") {
		t.Errorf("a 1 MiB line is kept as %d bytes ending %q", len(l.Text), l.Text[max(0, len(l.Text)-30):])
	}
	for _, keys := range []string{"", "w", "w k", "J t", "/f enter", "right right"} {
		press(m, keys)
		v := m.View()
		panetest.CheckGeometry(t, v, 80, 24)
		panetest.AssertSafe(t, keys, v)
	}
	// Multi-byte text is cut at a rune boundary.
	m2 := newPane(t, 80, 5, Options{MaxLineBytes: 10})
	m2.Append([]Line{{Text: "ééééééé"}}) // 14 bytes
	l, _ = m2.ring.get(m2.shown[0])
	if !utf8.ValidString(l.Text) || !strings.HasPrefix(l.Text, "ééééé …[4 bytes cut]") {
		t.Errorf("cut multi-byte line: %q", l.Text)
	}
}
