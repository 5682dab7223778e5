package revert

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMerge3 pins the cases where git's merge decides by position: changes
// that touch (no unchanged line between them) conflict, separated ones merge,
// identical ones merge, and ambiguous hunks slide down as xdiff places them.
func TestMerge3(t *testing.T) {
	lines := func(s ...string) []byte {
		if len(s) == 0 {
			return nil
		}
		return []byte(strings.Join(s, "\n") + "\n")
	}
	tests := []struct {
		name               string
		base, ours, theirs []byte
		want               []byte
		ok                 bool
	}{
		{"one side", lines("a", "b", "c"), lines("a", "B", "c"), lines("a", "b", "c"), lines("a", "B", "c"), true},
		{"separated changes", lines("a", "b", "c", "d", "e"), lines("A", "b", "c", "d", "e"), lines("a", "b", "c", "d", "E"), lines("A", "b", "c", "d", "E"), true},
		{"one line apart", lines("a", "b", "c"), lines("A", "b", "c"), lines("a", "b", "C"), lines("A", "b", "C"), true},
		{"adjacent changes conflict", lines("a", "b", "c"), lines("A", "b", "c"), lines("a", "B", "c"), nil, false},
		{"same line differently", lines("a", "b"), lines("a", "X"), lines("a", "Y"), nil, false},
		{"identical changes", lines("a", "b", "c"), lines("a", "X", "c"), lines("a", "X", "c"), lines("a", "X", "c"), true},
		{"insert at the same place", lines("a", "b"), lines("a", "x", "b"), lines("a", "y", "b"), nil, false},
		{"insert next to a change", lines("a", "b", "c"), lines("a", "x", "b", "c"), lines("a", "b", "C"), lines("a", "x", "b", "C"), true},
		{"delete and change elsewhere", lines("a", "b", "c", "d"), lines("b", "c", "d"), lines("a", "b", "c", "D"), lines("b", "c", "D"), true},
		{"add/add different", nil, lines("a"), lines("b"), nil, false},
		{"no final newline", []byte("a\nb\nc"), []byte("a\nb\nC"), []byte("A\nb\nc"), []byte("A\nb\nC"), true},
		{"binary", []byte("a\x00b\nc\n"), []byte("a\x00b\nC\n"), []byte("A\x00b\nc\n"), nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := merge3(tt.base, tt.ours, tt.theirs)
			if ok != tt.ok || (ok && string(got) != string(tt.want)) {
				t.Fatalf("merge3 = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
			// git merge-file agrees.
			if _, err := os.Stat(gitBin); err != nil {
				return
			}
			dir := t.TempDir()
			files := []string{"ours", "base", "theirs"}
			for i, data := range [][]byte{tt.ours, tt.base, tt.theirs} {
				if err := os.WriteFile(filepath.Join(dir, files[i]), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			cmd := exec.Command(gitBin, "merge-file", "-p", "ours", "base", "theirs")
			cmd.Dir = dir
			out, err := cmd.Output()
			if gitOK := err == nil; gitOK != ok || (ok && string(out) != string(got)) {
				t.Errorf("git merge-file: %q, clean %v; fleetdeck %q, clean %v", out, gitOK, got, ok)
			}
		})
	}
}

func TestDiffLinesSlidesDown(t *testing.T) {
	// Inserting one "x" into "a x b": git reports the second x as added.
	h := diffLines(splitLines([]byte("a\nx\nb\n")), splitLines([]byte("a\nx\nx\nb\n")))
	if len(h) != 1 || h[0].start != 2 || h[0].sStart != 2 || h[0].sEnd != 3 {
		t.Fatalf("hunks = %+v, want one insertion before base line 2", h)
	}
}
