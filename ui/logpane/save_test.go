package logpane

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// saveNow presses s and runs the save command as the program would.
func saveNow(t *testing.T, m *Model) SavedMsg {
	t.Helper()
	cmd := press(m, "s")
	if cmd == nil {
		t.Fatal("s returned no command")
	}
	msg, ok := cmd().(SavedMsg)
	if !ok {
		t.Fatalf("save command yields %T", cmd())
	}
	m.Update(msg)
	return msg
}

func TestSave(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "logs") // created on first save
	m := newPane(t, 120, 10, Options{SaveDir: dir, Title: "catalog-api on prod-us/../x"})
	m.Append([]Line{
		from(srcUS, 0, "GET /a 200"),
		from(srcEU, 1, "ERROR boom"),
		{Cluster: srcEU.Cluster, Text: "cluster prod-eu unreachable", Notice: true},
		from(srcUS, 2, `{"level":"warn","msg":"slow","ms":900}`),
		from(srcUS, 3, "GET /b 200"),
	})
	press(m, "e /b enter t J")
	msg := saveNow(t, m)
	if msg.Err != nil {
		t.Fatal(msg.Err)
	}
	want := filepath.Join(dir, "fleetdeck-logs-catalog-api-on-prod-us-..-x-20260314T092653Z.log")
	if msg.Path != want || msg.Lines != 4 {
		t.Errorf("saved %d lines to %s, want 4 to %s", msg.Lines, msg.Path, want)
	}
	fi, err := os.Stat(msg.Path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", fi.Mode().Perm())
	}
	if di, _ := os.Stat(dir); di.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v, want 0700", di.Mode().Perm())
	}
	got, _ := os.ReadFile(msg.Path)
	wantText := strings.Join([]string{
		"prod-us/catalog-api-7d9f8b6c5-x2x9k/api 2026-03-14T09:26:53.000Z GET /a 200",
		"prod-eu/catalog-api-7d9f8b6c5-q8w4n/api 2026-03-14T09:26:54.000Z ERROR boom",
		"» prod-eu ------------------------ cluster prod-eu unreachable",
		"prod-us/catalog-api-7d9f8b6c5-x2x9k/api 2026-03-14T09:26:55.000Z WARN  slow  ms=900",
		"",
	}, "\n")
	if string(got) != wantText {
		t.Errorf("file content:\n%s\nwant\n%s", got, wantText)
	}
	if strings.ContainsRune(string(got), 0x1b) {
		t.Error("the file holds escape sequences")
	}
	if s := lastLine(plain(m)); !strings.Contains(s, "saved 4 lines to "+want) {
		t.Errorf("status %q", s)
	}
	// A second save in the same second does not overwrite the first.
	again := saveNow(t, m)
	if again.Err != nil || again.Path == msg.Path || !strings.HasSuffix(again.Path, "Z-2.log") {
		t.Errorf("second save: %s, %v", again.Path, again.Err)
	}
}

func TestSaveError(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	m := newPane(t, 160, 6, Options{SaveDir: file})
	m.Append(numbered(1, 3))
	msg := saveNow(t, m)
	if msg.Err == nil {
		t.Fatal("saving into a file succeeded")
	}
	s := lastLine(plain(m))
	if !strings.Contains(s, "save logs: create directory "+file) {
		t.Errorf("status %q does not show the error", s)
	}
	if m.View() == "" || !strings.Contains(m.View(), sgrOf(m.th.Error).open) {
		t.Error("the error is not drawn in the error style")
	}
}

func TestFileSafe(t *testing.T) {
	for in, want := range map[string]string{
		"catalog-api":                  "catalog-api",
		"catalog-api on prod-us":       "catalog-api-on-prod-us",
		"../../etc/passwd":             "etc-passwd",
		"":                             "pane",
		"日本":                           "pane",
		"a\x1b]52;c;x\x07b":            "a-52-c-x-b",
		strings.Repeat("abcdefgh", 20): strings.Repeat("abcdefgh", 8),
	} {
		if got := fileSafe(in); got != want {
			t.Errorf("fileSafe(%q) = %q, want %q", in, got, want)
		}
	}
}
