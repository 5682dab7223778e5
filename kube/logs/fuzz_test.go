package logs

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzLogLine feeds a container's raw output through the path every log line takes: the
// bounded line reader, the kubelet timestamp split and the cleaning. No line is longer than
// the limit plus the cut marker, none carries a control, escape or bidi character, and the
// bytes dropped are accounted for.
func FuzzLogLine(f *testing.F) {
	for _, s := range []string{
		"2026-11-25T12:00:00.123456789Z INFO started\n",
		"2026-11-25T12:00:00Z \x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\rERROR\n",
		"no timestamp here\r\nsecond\n",
		"2026-13-45T99:99:99Z bad time\n",
		"\u202eevil\u202c\n\u009b2J\n\x9b\xff\n",
		strings.Repeat("x", 300) + "\n" + strings.Repeat("\u4e16", 100),
		"unterminated last line",
		"\n\n\n",
	} {
		f.Add([]byte(s), uint16(64))
	}
	f.Fuzz(func(t *testing.T, data []byte, limit uint16) {
		lim := int(limit)%512 + 1
		lr := newLineReader(bytes.NewReader(data), lim+tsRoom)
		for n := 0; n <= len(data); n++ {
			line, dropped, _, err := lr.next()
			if dropped < 0 {
				t.Fatalf("negative dropped count %d", dropped)
			}
			if len(line) > lim+tsRoom {
				t.Fatalf("line of %d bytes through a %d byte limit", len(line), lim+tsRoom)
			}
			_, msg := splitTimestamp(line)
			text, _ := cleanText(msg, lim, dropped)
			body, _, _ := strings.Cut(text, " …[")
			if len(body) > lim {
				t.Fatalf("text of %d bytes over the %d byte limit: %q", len(body), lim, text)
			}
			for i, r := range text {
				if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
					t.Fatalf("%U at %d in %q", r, i, text)
				}
				if r == utf8.RuneError && !strings.HasPrefix(text[i:], "\uFFFD") {
					t.Fatalf("invalid UTF-8 at %d in %q", i, text)
				}
			}
			if err != nil {
				return
			}
		}
		t.Fatalf("the reader never ended on %d bytes", len(data))
	})
}
