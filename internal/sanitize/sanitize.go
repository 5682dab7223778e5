// Package sanitize neutralises text that came from a cluster or a git repository before a
// terminal draws it: escape sequences, control characters and bidi overrides are removed.
//
// Names, messages, events and image references are attacker-controlled in the worst case (anyone
// who can create a pod or push a commit). Written verbatim, an OSC 52 sequence could set the
// user's clipboard, an OSC 8 could hide a link, a CSI could move the cursor and repaint another
// row, and a bare carriage return or a right-to-left override could make one string look like
// another. Everything drawn by the ui packages goes through Line or Lines.
package sanitize

import (
	"strings"
	"unicode/utf8"
)

const (
	esc = 0x1b
	bel = 0x07
)

// Line returns s as one printable line: escape sequences (CSI, OSC, DCS, SOS, PM, APC, and
// two-character ESC sequences, in their 7-bit and 8-bit C1 forms) are removed with their
// payload; tabs, newlines and carriage returns become a single space each; other C0 and C1
// controls, DEL, bidi embedding/override/isolate controls and invalid UTF-8 are removed.
func Line(s string) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	clean(&b, s, false)
	return b.String()
}

// Lines is Line for multi-line text: it splits on newlines (\n, \r\n, and a bare \r, which
// would otherwise return the cursor and overwrite the start of the line) and cleans each line.
// Empty trailing lines are dropped.
func Lines(s string) []string {
	var b strings.Builder
	clean(&b, s, true)
	out := strings.Split(b.String(), "\n")
	for len(out) > 0 && strings.TrimSpace(out[len(out)-1]) == "" {
		out = out[:len(out)-1]
	}
	return out
}

// isPlain reports whether s is printable ASCII, the common case, which needs no copy.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// clean writes the printable part of s to b. With keepNewlines, line breaks are written as
// "\n" (a CRLF pair as one); otherwise as a space.
func clean(b *strings.Builder, s string, keepNewlines bool) {
	newline := func() {
		if keepNewlines {
			b.WriteByte('\n')
		} else {
			b.WriteByte(' ')
		}
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			i++ // invalid UTF-8: drop the byte
		case r == esc:
			i = skipEscape(s, i+1)
		case r == 0x9b: // C1 CSI
			i = skipCSI(s, i+size)
		case r == 0x9d, r == 0x90, r == 0x98, r == 0x9e, r == 0x9f: // C1 OSC, DCS, SOS, PM, APC
			i = skipString(s, i+size)
		case r == '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
			newline()
			i++
		case r == '\n':
			newline()
			i++
		case r == '\t':
			b.WriteByte(' ')
			i++
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			i += size // other C0 (backspace, bell, ...), DEL and C1 controls
		case isBidiControl(r):
			i += size
		default:
			b.WriteString(s[i : i+size])
			i += size
		}
	}
}

// isBidiControl reports the explicit directional formatting characters that can make text
// display in an order different from the one it is read in (Trojan Source, CVE-2021-42574).
func isBidiControl(r rune) bool {
	switch {
	case r >= 0x202a && r <= 0x202e: // LRE, RLE, PDF, LRO, RLO
		return true
	case r >= 0x2066 && r <= 0x2069: // LRI, RLI, FSI, PDI
		return true
	case r == 0x200e || r == 0x200f || r == 0x061c: // LRM, RLM, ALM
		return true
	}
	return false
}

// skipEscape skips the sequence whose ESC was at i-1 and returns the index after it.
func skipEscape(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '[':
		return skipCSI(s, i+1)
	case ']', 'P', 'X', '^', '_': // OSC, DCS, SOS, PM, APC: strings terminated by ST (or BEL)
		return skipString(s, i+1)
	}
	// nF sequences: intermediates 0x20–0x2F, then one final byte (ESC ( B, ESC # 8, ...).
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
		i++
	}
	if i < len(s) && s[i] >= 0x30 && s[i] <= 0x7e {
		i++ // the final byte: ESC c (reset), ESC 7, ESC M, ...
	}
	return i
}

// skipCSI skips parameter (0x30–0x3F) and intermediate (0x20–0x2F) bytes and the final byte
// (0x40–0x7E). A sequence cut short by another control stops there, so that control is seen.
func skipCSI(s string, i int) int {
	for i < len(s) {
		c := s[i]
		switch {
		case c >= 0x20 && c <= 0x3f:
			i++
		case c >= 0x40 && c <= 0x7e:
			return i + 1
		default:
			return i
		}
	}
	return i
}

// skipString skips a control string up to and including its terminator: BEL, ESC \ or the C1
// ST (U+009C). An unterminated string runs to the end: its payload must not be shown either.
func skipString(s string, i int) int {
	for i < len(s) {
		switch {
		case s[i] == bel:
			return i + 1
		case s[i] == esc:
			if i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
			// A new escape sequence starts: the string was cut short.
			return i
		case s[i] == 0xc2 && i+1 < len(s) && s[i+1] == 0x9c:
			return i + 2
		}
		i++
	}
	return i
}
