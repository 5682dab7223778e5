package fleet

import (
	"fmt"
	"strings"
)

// Revision compares the head of the tracked branch with the revision live.
type Revision struct {
	Head string // sha of the tracked branch head ("" when git is unknown)
	Live string // sha (or sha prefix) the operator applied, or the commit live matches
	// Behind is the number of commits touching the app's path between Live and Head:
	// 0 up to date, -1 unknown.
	Behind int
}

// ShortSHA cuts a sha to 7 characters.
func ShortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// Short renders the revision for a table cell: "1a2b3c4" when up to date,
// "1a2b3c4 → 5d6e7f8 (2 commits behind)" when behind, "? → 5d6e7f8" when live is unknown.
func (r Revision) Short() string {
	live, head := ShortSHA(r.Live), ShortSHA(r.Head)
	switch {
	case live == "" && head == "":
		return "-"
	case live == "":
		return "? → " + head
	case r.Behind == 0 || head == "":
		return live
	case r.Behind > 0:
		return fmt.Sprintf("%s → %s (%s)", live, head, commitsBehind(r.Behind))
	}
	return live + " → " + head
}

// BehindText is "" when up to date or unknown, else "N commit(s) behind".
func (r Revision) BehindText() string {
	if r.Behind <= 0 {
		return ""
	}
	return commitsBehind(r.Behind)
}

func commitsBehind(n int) string {
	if n == 1 {
		return "1 commit behind"
	}
	return fmt.Sprintf("%d commits behind", n)
}

// FluxRevision parses a Flux revision: "main@sha1:<hex>" (source-controller v1),
// "sha1:<hex>" (commit ref), "main/<hex>" (v1beta2), a bare sha, or a Helm chart version with
// the source revision appended ("1.2.0+<hex>"). It returns the branch (or tag) when present
// and the sha, or sha prefix, when one is recognised.
func FluxRevision(rev string) (branch, sha string) {
	rev = strings.TrimSpace(rev)
	if b, rest, ok := strings.Cut(rev, "@"); ok {
		_, hex, _ := strings.Cut(rest, ":")
		if isHex(hex) {
			return b, hex
		}
		return b, ""
	}
	if algo, hex, ok := strings.Cut(rev, ":"); ok && (algo == "sha1" || algo == "sha256") && isHex(hex) {
		return "", hex
	}
	if i := strings.LastIndex(rev, "+"); i >= 0 && isHex(rev[i+1:]) {
		return "", rev[i+1:]
	}
	if i := strings.LastIndex(rev, "/"); i >= 0 && isHex(rev[i+1:]) && len(rev)-i-1 >= 7 {
		return rev[:i], rev[i+1:]
	}
	if isHex(rev) && len(rev) >= 7 {
		return "", rev
	}
	return "", ""
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// sameSHA matches a full sha with a prefix of at least 7 characters (Flux's Helm chart
// versions carry 12).
func sameSHA(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	if len(a) > len(b) {
		a, b = b, a
	}
	return (len(a) >= 7 || len(a) == len(b)) && strings.EqualFold(a, b[:len(a)])
}

func prefix7(sha string) string { return strings.ToLower(ShortSHA(sha)) }

func indexSHA(list []string, sha string) int {
	for i, s := range list {
		if sameSHA(s, sha) {
			return i
		}
	}
	return -1
}

// BehindBy counts the commits touching the app's path that came after live:
//   - live found in pathCommits (newest first) → its index;
//   - else live found in history (the branch's first-parent history, newest first) → the
//     number of pathCommits placed before it in history (a whole-repo revision that did not
//     touch the path, as Argo CD and Flux report);
//   - else live equals head → 0;
//   - else -1 (unknown: empty, or older than the bounded lists).
func BehindBy(live, head string, pathCommits, history []string) int {
	if live == "" {
		return -1
	}
	if i := indexSHA(pathCommits, live); i >= 0 {
		return i
	}
	if pos := indexSHA(history, live); pos >= 0 {
		// Keyed by 7-character prefix so a full sha and a prefix meet.
		touched := make(map[string]bool, len(pathCommits))
		for _, pc := range pathCommits {
			touched[prefix7(pc)] = true
		}
		n := 0
		for _, h := range history[:pos] {
			if touched[prefix7(h)] {
				n++
			}
		}
		return n
	}
	if sameSHA(live, head) {
		return 0
	}
	return -1
}

// NewRevision builds the Revision of an instance from the live sha and its git facts.
func NewRevision(live string, g *GitFacts) Revision {
	if g == nil {
		return Revision{Live: live, Behind: -1}
	}
	return Revision{Head: g.Head, Live: live, Behind: BehindBy(live, g.Head, g.PathCommits, g.History)}
}

// DeclaredLiveRevision finds, for an app nobody applies, the newest of the path commits whose
// rendered workloads match live (no FieldDiff): commits are tried newest first, with Desired
// standing for PathCommits[0] when DesiredAt lacks it. It returns the sha and how many path
// commits it is behind, or ("", -1) when live matches none of them (changed by hand, or older
// than the commits rendered).
//
// trackedBy names the Argo CD Application whose label tracking applied the objects, if any
// (see AsApplied).
func DeclaredLiveRevision(g GitFacts, live map[ObjectRef]*Workload, trackedBy string) (string, int) {
	for i, sha := range g.PathCommits {
		objs, ok := g.DesiredAt[sha]
		if !ok && i == 0 && g.RenderError == "" {
			objs, ok = g.Desired, true
		}
		if !ok {
			continue
		}
		if len(CompareObjects(AsApplied(objs, live, trackedBy), live)) == 0 {
			return sha, i
		}
	}
	return "", -1
}
