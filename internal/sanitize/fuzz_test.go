package sanitize

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// unsafeRune reports what must never leave Line or Lines: C0 controls (Lines keeps '\n'
// between lines, never inside one), DEL, C1 controls, bidi controls and invalid UTF-8.
func unsafeRune(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || isBidiControl(r) || r == utf8.RuneError
}

// FuzzLines checks Line and Lines together: nothing unsafe in any line, no newline inside a
// line, Line never grows its input and is idempotent.
func FuzzLines(f *testing.F) {
	for _, s := range []string{
		"", "plain ascii", "tab\tnew\nline\r\nCR\rend",
		"\x1b[31mred\x1b[0m", "\x1b]52;c;cm0gLXJmIH4=\x07after", "\x1b]8;;https://evil\x1b\\link\x1b]8;;\x1b\\",
		"\x1bP1;2|payload\x1b\\", "\x1b", "\x1b[", "\x1b]unterminated", "\u009b31m", "\u009d0;title\u009c",
		"\x9b31m", "\xff\xfe", "a\u202eb\u2066c\u200fd\u061ce", "\x1b(B\x1b#8\x1bc", "\x1b[1;2\x07m", "ok \u00e9\u4e16\U0001f600",
		strings.Repeat("\x1b[", 1000),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		line := Line(s)
		for i, r := range line {
			if unsafeRune(r) && !(r == utf8.RuneError && strings.HasPrefix(line[i:], "\uFFFD")) {
				t.Fatalf("Line(%q) = %q: %U at %d", s, line, r, i)
			}
		}
		if len(line) > len(s) {
			t.Fatalf("Line(%q) = %q grew", s, line)
		}
		if again := Line(line); again != line {
			t.Fatalf("Line is not idempotent on %q: %q then %q", s, line, again)
		}
		for _, l := range Lines(s) {
			if strings.ContainsRune(l, '\n') {
				t.Fatalf("Lines(%q) has a line with a newline: %q", s, l)
			}
			for i, r := range l {
				if unsafeRune(r) && !(r == utf8.RuneError && strings.HasPrefix(l[i:], "\uFFFD")) {
					t.Fatalf("Lines(%q) line %q: %U at %d", s, l, r, i)
				}
			}
		}
	})
}
