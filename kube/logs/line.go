package logs

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"time"
	"unicode/utf8"

	"github.com/fleetdeck/fleetdeck/internal/sanitize"
)

// tsRoom is what a kubelet timestamp prefix takes at most ("2006-01-02T15:04:05.999999999Z07:00 ").
const tsRoom = 36

// lineReader reads newline-terminated lines, keeping at most max bytes of each: the rest of a
// longer line is read and dropped, so a container writing one endless line costs max bytes
// of memory, not the line.
type lineReader struct {
	r   *bufio.Reader
	max int
	buf []byte
}

func newLineReader(r io.Reader, limit int) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, max(min(limit, 32<<10), 4096)), max: limit}
}

// next returns the next line without its newline and how many bytes of it were dropped.
// complete is false when the stream ended (or failed) before the line's newline. The returned
// slice is valid until the next call. err is io.EOF at a clean end.
func (lr *lineReader) next() (line []byte, dropped int, complete bool, err error) {
	lr.buf = lr.buf[:0]
	for {
		chunk, err := lr.r.ReadSlice('\n')
		if room := lr.max - len(lr.buf); room > 0 {
			keep := chunk
			if len(keep) > room {
				keep = keep[:room]
			}
			lr.buf = append(lr.buf, keep...)
			dropped += len(chunk) - len(keep)
		} else {
			dropped += len(chunk)
		}
		switch {
		case err == nil:
			// The newline itself is neither kept nor counted as dropped.
			if n := len(lr.buf); n > 0 && lr.buf[n-1] == '\n' && dropped == 0 {
				lr.buf = lr.buf[:n-1]
			} else {
				dropped--
			}
			return lr.buf, dropped, true, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return lr.buf, dropped, false, err
		}
	}
}

// splitTimestamp separates the timestamp the kubelet puts before each line when asked for
// timestamps. A line without one is returned whole with a zero time.
func splitTimestamp(line []byte) (time.Time, []byte) {
	sp := bytes.IndexByte(line[:min(len(line), tsRoom)], ' ')
	if sp < 20 { // shorter than "2006-01-02T15:04:05Z"
		return time.Time{}, line
	}
	t, err := time.Parse(time.RFC3339Nano, string(line[:sp]))
	if err != nil {
		return time.Time{}, line
	}
	return t, line[sp+1:]
}

// cleanText makes the message of a line safe to print: cut at a rune boundary within max
// bytes (invalid UTF-8 is otherwise left to the sanitiser), then sanitised, then marked if cut.
func cleanText(msg []byte, limit, dropped int) (string, int) {
	if len(msg) > limit {
		cut := limit
		for cut > 0 && cut > limit-utf8.UTFMax && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		dropped += len(msg) - cut
		msg = msg[:cut]
	}
	text := sanitize.Line(string(msg))
	if dropped > 0 {
		text += CutMarker(dropped)
	}
	return text, dropped
}
