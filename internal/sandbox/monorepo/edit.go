package monorepo

import (
	"fmt"
	"strings"
)

// The edits below change YAML as text, one line at a time, the way a CI job
// running `sed` or a person in an editor would: every other byte of the file
// stays identical, so diffs in the generated history stay one or two lines.
// They understand only the block-style YAML this package writes itself.

// lineIndent is the number of leading spaces of a line.
func lineIndent(line string) int {
	return len(line) - len(strings.TrimLeft(line, " "))
}

// isBlank reports whether a line carries no YAML content (empty or comment).
func isBlank(line string) bool {
	t := strings.TrimSpace(line)
	return t == "" || strings.HasPrefix(t, "#")
}

// keyOf returns the mapping key a line starts with (also inside a list item,
// "- key: v"), the column where the key starts, and whether the line is a
// key at all.
func keyOf(line string) (key string, col int, ok bool) {
	col = lineIndent(line)
	rest := line[col:]
	if strings.HasPrefix(rest, "- ") {
		rest = rest[2:]
		col += 2
	}
	i := strings.Index(rest, ":")
	if i <= 0 || strings.ContainsAny(rest[:i], " \"'") {
		return "", 0, false
	}
	if i+1 < len(rest) && rest[i+1] != ' ' {
		return "", 0, false
	}
	return rest[:i], col, true
}

// blockEnd returns the index of the first line after line i that is not
// blank and not indented deeper than col: the end of the block opened at i.
func blockEnd(lines []string, i, col int) int {
	for j := i + 1; j < len(lines); j++ {
		if !isBlank(lines[j]) && lineIndent(lines[j]) <= col {
			return j
		}
	}
	return len(lines)
}

// findKey returns the line index of the key path: each component is the
// first key found at any depth inside the block of the previous one (the
// first component anywhere), so a path may skip levels that are unique
// anyway. A component may also match a key that opens a list item ("- key:").
func findKey(lines []string, path []string) (int, error) {
	start, end, parentCol := 0, len(lines), -1
	found := -1
	for _, comp := range path {
		found = -1
		for i := start; i < end; i++ {
			if isBlank(lines[i]) {
				continue
			}
			k, col, ok := keyOf(lines[i])
			if ok && k == comp && col > parentCol {
				found = i
				parentCol = col
				break
			}
		}
		if found < 0 {
			return -1, fmt.Errorf("key %q not found", strings.Join(path, "."))
		}
		start, end = found+1, blockEnd(lines, found, parentCol)
	}
	return found, nil
}

// splitLines splits text into lines without their newline; the text must end
// with one newline (as every file written here does).
func splitLines(text string) []string {
	return strings.Split(strings.TrimSuffix(text, "\n"), "\n")
}

func joinLines(lines []string) string { return strings.Join(lines, "\n") + "\n" }

// getScalar returns the scalar value of a key path, unquoted.
func getScalar(text string, path ...string) (string, error) {
	lines := splitLines(text)
	i, err := findKey(lines, path)
	if err != nil {
		return "", err
	}
	_, col, _ := keyOf(lines[i])
	v := strings.TrimSpace(lines[i][col+len(path[len(path)-1])+1:])
	return strings.Trim(v, `"`), nil
}

// setScalar replaces the value of a key path, keeping the line's indentation
// and key; value is written as given (quote it yourself if YAML needs it).
func setScalar(text, value string, path ...string) (string, error) {
	lines := splitLines(text)
	i, err := findKey(lines, path)
	if err != nil {
		return "", err
	}
	_, col, _ := keyOf(lines[i])
	lines[i] = lines[i][:col+len(path[len(path)-1])+1] + " " + value
	return joinLines(lines), nil
}

// envItem finds the "- name: NAME" line of an env list and its "value:" line.
func envItem(lines []string, name string) (nameLine, valueLine int, err error) {
	for i, l := range lines {
		if strings.TrimSpace(l) != "- name: "+name {
			continue
		}
		want := lineIndent(l) + 2
		for j := i + 1; j < len(lines) && lineIndent(lines[j]) >= want; j++ {
			if lineIndent(lines[j]) == want && strings.HasPrefix(strings.TrimSpace(lines[j]), "value:") {
				return i, j, nil
			}
		}
		return i, -1, fmt.Errorf("env %s has no value line", name)
	}
	return -1, -1, fmt.Errorf("env %s not found", name)
}

// hasEnv reports whether an env list item with that name exists.
func hasEnv(text, name string) bool {
	_, _, err := envItem(splitLines(text), name)
	return err == nil
}

// getEnv returns the value of an env list item, unquoted.
func getEnv(text, name string) (string, error) {
	lines := splitLines(text)
	_, j, err := envItem(lines, name)
	if err != nil {
		return "", err
	}
	v := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(lines[j]), "value:"))
	return strings.Trim(v, `"`), nil
}

// setEnv replaces the value of an env list item.
func setEnv(text, name, value string) (string, error) {
	lines := splitLines(text)
	_, j, err := envItem(lines, name)
	if err != nil {
		return "", err
	}
	lines[j] = strings.Repeat(" ", lineIndent(lines[j])) + "value: " + value
	return joinLines(lines), nil
}

// appendEnv adds "- name/value" at the end of the list under the key path.
// The list must have at least one item, whose indentation is copied.
func appendEnv(text, name, value string, path ...string) (string, error) {
	lines := splitLines(text)
	i, err := findKey(lines, path)
	if err != nil {
		return "", err
	}
	_, col, _ := keyOf(lines[i])
	end := blockEnd(lines, i, col)
	// Trailing blank lines belong to what follows, not to the list.
	for end > i+1 && isBlank(lines[end-1]) {
		end--
	}
	if end == i+1 {
		return "", fmt.Errorf("list %q is empty", strings.Join(path, "."))
	}
	ind := strings.Repeat(" ", lineIndent(lines[i+1]))
	item := []string{ind + "- name: " + name, ind + "  value: " + value}
	lines = append(lines[:end], append(item, lines[end:]...)...)
	return joinLines(lines), nil
}

// addMapKey adds "key: value" as the last entry of the mapping under the key
// path, copying the indentation of its first entry.
func addMapKey(text, key, value string, path ...string) (string, error) {
	lines := splitLines(text)
	i, err := findKey(lines, path)
	if err != nil {
		return "", err
	}
	_, col, _ := keyOf(lines[i])
	end := blockEnd(lines, i, col)
	for end > i+1 && isBlank(lines[end-1]) {
		end--
	}
	if end == i+1 {
		return "", fmt.Errorf("mapping %q is empty", strings.Join(path, "."))
	}
	if _, err := findKey(lines[i:end], []string{path[len(path)-1], key}); err == nil {
		return "", fmt.Errorf("key %q already in %q", key, strings.Join(path, "."))
	}
	ind := strings.Repeat(" ", lineIndent(lines[i+1]))
	lines = append(lines[:end], append([]string{ind + key + ": " + value}, lines[end:]...)...)
	return joinLines(lines), nil
}
