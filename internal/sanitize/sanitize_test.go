package sanitize

import (
	"reflect"
	"strings"
	"testing"
)

func TestLine(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "payments-api", "payments-api"},
		{"unicode kept", "café ✓ 日本", "café ✓ 日本"},
		{"CSI colour", "\x1b[31mred\x1b[0m text", "red text"},
		{"CSI cursor move", "a\x1b[2;5Hb\x1b[2Kc", "abc"},
		{"CSI private mode", "x\x1b[?1049hy", "xy"},
		{"OSC title BEL", "\x1b]0;pwned\x07name", "name"},
		{"OSC 52 clipboard ST", "ok\x1b]52;c;ZWNobyBoaQ==\x1b\\done", "okdone"},
		{"OSC 8 hyperlink", "\x1b]8;;https://evil.test\x1b\\click\x1b]8;;\x1b\\", "click"},
		{"DCS", "a\x1bP1$r0m\x1b\\b", "ab"},
		{"APC PM SOS", "a\x1b_x\x1b\\b\x1b^y\x1b\\c\x1bXz\x1b\\d", "abcd"},
		{"unterminated OSC hides payload", "name\x1b]52;c;AAAA", "name"},
		{"OSC cut by new CSI", "a\x1b]0;t\x1b[31mb", "ab"},
		{"C1 CSI", "a\u009b31mb", "ab"},
		{"C1 OSC with C1 ST", "a\u009d52;c;AAAA\u009cb", "ab"},
		{"C1 DCS", "a\u0090q\u009cb", "ab"},
		{"bare C1 control", "a\u0085b", "ab"},
		{"ESC reset", "a\x1bcb", "ab"},
		{"ESC charset", "a\x1b(Bb", "ab"},
		{"lone ESC at end", "a\x1b", "a"},
		{"bare CR", "safe\rEVIL", "safe EVIL"},
		{"CRLF is one space", "a\r\nb", "a b"},
		{"newline", "line1\nline2", "line1 line2"},
		{"tab", "a\tb", "a b"},
		{"backspace", "abc\b\b\bxyz", "abcxyz"},
		{"bell and NUL", "a\x07\x00b", "ab"},
		{"DEL", "a\x7fb", "ab"},
		{"bidi override", "user\u202Egnp.exe", "usergnp.exe"},
		{"bidi isolate", "a\u2066b\u2069c", "abc"},
		{"RLM", "a\u200fb", "ab"},
		{"invalid utf8", "a\xffb\xc3", "ab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Line(tt.in)
			if got != tt.want {
				t.Errorf("Line(%q) = %q, want %q", tt.in, got, tt.want)
			}
			for _, r := range got {
				if r < 0x20 || (r >= 0x7f && r <= 0x9f) || isBidiControl(r) {
					t.Errorf("Line(%q) kept control %U", tt.in, r)
				}
			}
		})
	}
}

func TestLines(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"one", "a", []string{"a"}},
		{"split", "a\nb\r\nc\rd", []string{"a", "b", "c", "d"}},
		{"trailing dropped", "a\n\n", []string{"a"}},
		{"escapes in lines", "\x1b[1mbold\x1b[0m\n\x1b]52;c;x\x07two", []string{"bold", "two"}},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Lines(tt.in)
			if len(got) == 0 && len(tt.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Lines(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// FuzzLine checks that no input, however hostile, yields a control character or ESC.
func FuzzLine(f *testing.F) {
	for _, s := range []string{"\x1b]52;c;AAAA\x07", "\u009b2J", "a\rb", "\x1b[", "\x1bP"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Line(s)
		if strings.ContainsAny(got, "\x1b\r\n\b\x07") {
			t.Fatalf("Line(%q) = %q keeps a control", s, got)
		}
		for _, r := range got {
			if r < 0x20 || (r >= 0x7f && r <= 0x9f) || isBidiControl(r) {
				t.Fatalf("Line(%q) = %q keeps %U", s, got, r)
			}
		}
	})
}

func BenchmarkLinePlain(b *testing.B) {
	for b.Loop() {
		Line("registry.fleetdeck.test/shop/payments-api:1.4.0")
	}
}
