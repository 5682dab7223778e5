package logpane

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
)

// save starts writing the lines passing the filters, as they are shown but never cut and
// without colour, to a new file in SaveDir. The lines are copied here (they are immutable
// values, so the copy is cheap) and formatted and written by the command, off the UI loop.
func (m *Model) save() tea.Cmd {
	lines := make([]Line, 0, len(m.shown))
	for _, seq := range m.shown {
		if l, ok := m.ring.get(seq); ok {
			lines = append(lines, *l)
		}
	}
	f, dir, title, now, pane := m.fmt, m.opts.SaveDir, m.opts.Title, m.opts.Now(), m
	m.status = "saving " + plural(len(lines), "line") + "…"
	return func() tea.Msg {
		path, err := writeLines(dir, title, now, lines, f)
		return SavedMsg{Path: path, Lines: len(lines), Err: err, pane: pane}
	}
}

// writeLines creates fleetdeck-logs-<title>-<time>.log in dir (and dir, private, if it does
// not exist) with mode 0600: logs may hold secrets. It never overwrites a file: a name taken
// gets a numbered suffix.
func writeLines(dir, title string, now time.Time, lines []Line, f format) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("save logs: create directory %s: %w", dir, err)
	}
	base := "fleetdeck-logs-" + fileSafe(title) + "-" + now.UTC().Format("20060102T150405Z")
	var file *os.File
	var path string
	for n := 1; ; n++ {
		path = filepath.Join(dir, base+".log")
		if n > 1 {
			path = filepath.Join(dir, fmt.Sprintf("%s-%d.log", base, n))
		}
		var err error
		file, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) || n >= 100 {
			return "", fmt.Errorf("save logs: create %s: %w", path, err)
		}
	}
	var b strings.Builder
	for i := range lines {
		b.WriteString(plainLine(&lines[i], f))
		b.WriteByte('\n')
	}
	_, err := file.WriteString(b.String())
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path) // a partial file would pass for the whole buffer
		return "", fmt.Errorf("save logs: write %s: %w", path, err)
	}
	return path, nil
}

// fileSafe turns a title into a file name part: letters, digits, '.', '_' and '-' only.
func fileSafe(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range title {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
		switch {
		case ok:
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 64 {
			break
		}
	}
	s := strings.Trim(b.String(), "-.")
	if s == "" {
		return "pane"
	}
	return s
}
