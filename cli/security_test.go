package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/fleetdeck/fleetdeck/fleet"
)

// hostile is text a cluster or a repository can carry: an OSC 52 (sets the clipboard), a
// screen clear, a bare carriage return, a right-to-left override, C1 CSI in both encodings,
// a bell and a backspace.
const hostile = "\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\rX\u202eY\u009b31m\x9b1m\a\b"

var sgrSeq = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// unsafeBytes lists what a terminal must never receive from a verb once fleetdeck's own style
// sequences (SGR) are removed: escape and other C0 controls but newline, DEL, C1 controls,
// bidi controls and invalid UTF-8.
func unsafeBytes(out string) []string {
	var bad []string
	s := sgrSeq.ReplaceAllString(out, "")
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			bad = append(bad, fmt.Sprintf("invalid byte %#x at %d", s[i], i))
		case r == '\n':
		case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f,
			r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
			bad = append(bad, fmt.Sprintf("%U at %d", r, i))
		}
		i += size
	}
	return bad
}

func assertSafe(t *testing.T, what, out string) {
	t.Helper()
	if bad := unsafeBytes(out); len(bad) > 0 {
		t.Errorf("%s: unsafe bytes reach the terminal: %v\n%q", what, bad, out)
	}
}

// hostileStatusModel plants hostile text in everything a cluster controls that the status
// table prints: names, images, problem texts, field diffs and the cluster's error.
func hostileStatusModel() fleet.Model {
	m := statusModel()
	for i := range m.Clusters {
		m.Clusters[i].Name += hostile
		m.Clusters[i].Err += hostile
		m.Clusters[i].Forbidden = append(m.Clusters[i].Forbidden, "pods"+hostile)
	}
	for a := range m.Apps {
		m.Apps[a].Name += hostile
		for i := range m.Apps[a].Instances {
			in := &m.Apps[a].Instances[i]
			in.App += hostile
			in.Cluster += hostile
			in.Namespace += hostile
			in.Health.Message += hostile
			in.Sync.Reason += hostile
			in.ClusterState.Err += hostile
			for p := range in.Problems {
				in.Problems[p].Text += hostile
			}
			for k := range in.Images {
				in.Images[k].GitImage += hostile
				in.Images[k].LiveImage += hostile
				in.Images[k].GitTag += hostile
				in.Images[k].LiveTag += hostile
			}
			for k := range in.Sync.Fields {
				in.Sync.Fields[k].Live += hostile
			}
		}
	}
	return m
}

// TestStatusTableHostileText: every table layout, with and without colour, prints cluster
// text cleaned.
func TestStatusTableHostileText(t *testing.T) {
	for _, output := range []string{"table", "wide"} {
		for _, colour := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s-colour=%v", output, colour), func(t *testing.T) {
				var buf bytes.Buffer
				if err := writeStatus(&buf, newPalette(colour), output, NewStatusReport(hostileStatusModel(), statusFilter{})); err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(buf.String(), "notification-worker") {
					t.Fatalf("the table lost the app names:\n%s", buf.String())
				}
				assertSafe(t, output, buf.String())
			})
		}
	}
}

// TestStatusJSONEscapesControls: JSON carries values verbatim, but encoded: no raw C0
// control or escape byte is written.
func TestStatusJSONEscapesControls(t *testing.T) {
	var buf bytes.Buffer
	if err := writeStatus(&buf, newPalette(false), "json", NewStatusReport(hostileStatusModel(), statusFilter{})); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < buf.Len(); i++ {
		if c := buf.Bytes()[i]; c < 0x20 && c != '\n' {
			t.Fatalf("raw control byte %#x at %d in the JSON output", c, i)
		}
	}
}

// TestHistoryAndRevertHostileCommit: a commit whose subject, author name, file name and
// file contents carry escape sequences is shown cleaned by history and by revert's preview.
func TestHistoryAndRevertHostileCommit(t *testing.T) {
	g := newGitFleet(t, "")
	g.deploy("auth", "v1.6.0")
	extra := filepath.Join(g.work, "k8s", "auth", "notes\u202etxt.sh")
	if err := os.WriteFile(extra, []byte("line one "+hostile+"\nline two\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	g.tick++
	g.git(g.work, "add", "-A")
	subject := "ci: bump auth " + hostile + " to v1.6.0"
	g.git(g.work, "commit", "-q", "--author", "Mallory "+hostile+"Ops <m@example.com>", "-m", subject)
	g.git(g.work, "push", "-q", "origin", "main")
	g.shas["hostile"] = g.git(g.work, "rev-parse", "HEAD")

	src := g.source(map[string]string{"staging": g.shas["hostile"], "prod-eu": g.shas["hostile"]})
	got, code := g.run(func(s *IOStreams, o *GlobalOptions) error {
		return runHistory(t.Context(), s, o, &historyOptions{Limit: 20, Output: "text"}, "auth", src)
	}, "")
	if code != ExitOK || !strings.Contains(got, "Mallory") || !strings.Contains(got, "to v1.6.0") {
		t.Fatalf("history: exit %d:\n%s", code, got)
	}
	assertSafe(t, "history", got)

	for _, colour := range []bool{false, true} {
		t.Run(fmt.Sprintf("revert-colour=%v", colour), func(t *testing.T) {
			old := stdinIsTerminal
			stdinIsTerminal = func(*IOStreams) bool { return false }
			defer func() { stdinIsTerminal = old }()
			var out, errOut bytes.Buffer
			streams := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, OutIsTerminal: colour, Getenv: func(k string) string {
				return map[string]string{"GIT_AUTHOR_NAME": "Ada Ops", "GIT_AUTHOR_EMAIL": "ada@example.com", "HOME": g.dir}[k]
			}}
			gopts := &GlobalOptions{ConfigPath: g.cfgPath}
			err := runRevert(t.Context(), streams, gopts, &revertOptions{DryRun: true, Commit: g.shas["hostile"], WholeCommit: true}, "auth", g.source(nil))
			if err != nil {
				t.Fatalf("revert: %v\n%s%s", err, errOut.String(), out.String())
			}
			if colour != strings.Contains(out.String(), "\x1b[32m") {
				t.Errorf("colour %v, but the diff's colour is the opposite:\n%q", colour, out.String())
			}
			if !strings.Contains(out.String(), "line two") || !strings.Contains(errOut.String(), "to v1.6.0") {
				t.Fatalf("revert preview lost the change:\n%s\n---\n%s", errOut.String(), out.String())
			}
			assertSafe(t, "revert stdout", out.String())
			assertSafe(t, "revert stderr", errOut.String())
		})
	}
}
