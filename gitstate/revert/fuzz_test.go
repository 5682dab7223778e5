package revert

import (
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
)

// FuzzRevertMessage: commit subjects, author names, app names, reasons and image summaries
// with newlines, control characters or trailer-looking text never break the message's
// audit trailers: the last paragraph is exactly fleetdeck's trailers, one line each, and the
// subject line stays one line.
func FuzzRevertMessage(f *testing.F) {
	for _, s := range [][5]string{
		{"ci: bump auth to v1.5.0", "Ada Ops", "auth", "broke login", "staging: auth/app v1.5.0 → v1.4.2"},
		{"multi\nline\n\nFleetdeck-App: evil", "Eve\nFleetdeck-By: root", "a\nb", "\n\nReverts: 0000\nFleetdeck-App: evil\n", "x\n\ny"},
		{"\x1b]52;c;AAAA\x07\u202e", "\x00\x1b[2J", "", "   ", ""},
		{"", "", "app", "reason\r\nSigned-off-by: x", "\n"},
	} {
		f.Add(s[0], s[1], s[2], s[3], s[4], false)
		f.Add(s[0], s[1], s[2], s[3], s[4], true)
	}
	f.Fuzz(func(t *testing.T, subject, author, app, reason, summary string, rollback bool) {
		p := &Plan{
			Request: Request{App: app, Clusters: []string{"staging", app}, Paths: []string{"k8s/" + app},
				Commit: plumbing.NewHash(strings.Repeat("1", 40)), Reason: reason, Summary: []string{summary}},
			Repo: "fleet", Branch: "main", Parent: plumbing.NewHash(strings.Repeat("2", 40)),
			Subject: subject, Author: Identity{Name: author, Email: "a@example.com"}, When: time.Unix(0, 0),
		}
		want := []string{"Reverts", "Fleetdeck-App", "Fleetdeck-Clusters", "Fleetdeck-From", "Fleetdeck-By", "Fleetdeck-At", "Fleetdeck-Version"}
		if rollback {
			p.To = plumbing.NewHash(strings.Repeat("3", 40))
			p.Target = p.To
			want = []string{"Fleetdeck-App", "Fleetdeck-Clusters", "Fleetdeck-From", "Fleetdeck-To", "Fleetdeck-By", "Fleetdeck-At", "Fleetdeck-Version"}
		}
		msg := message(p, "v1\nFleetdeck-App: evil")
		paras := strings.Split(strings.TrimRight(msg, "\n"), "\n\n")
		trailers := strings.Split(paras[len(paras)-1], "\n")
		if len(trailers) != len(want) {
			t.Fatalf("trailers %q, want the keys %v; message:\n%s", trailers, want, msg)
		}
		for i, l := range trailers {
			if !strings.HasPrefix(l, want[i]+": ") {
				t.Fatalf("trailer %d is %q, want key %s; message:\n%s", i, l, want[i], msg)
			}
		}
		if first, _, _ := strings.Cut(msg, "\n"); strings.ContainsAny(first, "\r\x00") {
			t.Fatalf("subject line %q carries a control character", first)
		}
	})
}
