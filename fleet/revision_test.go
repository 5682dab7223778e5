package fleet

import (
	"strings"
	"testing"
)

// sha makes a 40-hex sha from a short tag, so tests read like git logs.
func sha(tag string) string { return (tag + strings.Repeat("0", 40))[:40] }

func TestFluxRevision(t *testing.T) {
	full := "5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f80"
	tests := []struct{ in, branch, sha string }{
		{"main@sha1:" + full, "main", full},
		{"v1.2.0@sha1:" + full, "v1.2.0", full},
		{"sha1:" + full, "", full},
		{"main/" + full, "main", full},
		{full, "", full},
		{"0.1.0+5d6e7f8091a2", "", "5d6e7f8091a2"},
		{"0.1.0", "", ""},
		{"main@sha256:" + full + full[:24], "main", full + full[:24]},
		{"", "", ""},
		{"garbage@nothing", "garbage", ""},
	}
	for _, tt := range tests {
		b, s := FluxRevision(tt.in)
		if b != tt.branch || s != tt.sha {
			t.Errorf("FluxRevision(%q) = (%q, %q), want (%q, %q)", tt.in, b, s, tt.branch, tt.sha)
		}
	}
}

func TestBehindBy(t *testing.T) {
	// History newest first: c7 (touches the path), c6, c5 (touches), c4, c3 (touches), c2, c1.
	history := []string{sha("c7"), sha("c6"), sha("c5"), sha("c4"), sha("c3"), sha("c2"), sha("c1")}
	path := []string{sha("c7"), sha("c5"), sha("c3")}
	tests := []struct {
		name string
		live string
		head string
		want int
	}{
		{"live is newest path commit", sha("c7"), sha("c7"), 0},
		{"two path commits behind", sha("c3"), sha("c7"), 2},
		{"short sha prefix", sha("c5")[:12], sha("c7"), 1},
		{"whole-repo revision between path commits", sha("c4"), sha("c7"), 2},
		{"whole-repo revision after the newest path commit", sha("c6"), sha("c6"), 1},
		{"live equals head, not in lists", sha("d9"), sha("d9"), 0},
		{"older than the bounded lists", sha("b0"), sha("c7"), -1},
		{"unknown live", "", sha("c7"), -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := BehindBy(tt.live, tt.head, path, history); got != tt.want {
				t.Errorf("BehindBy = %d, want %d", got, tt.want)
			}
		})
	}
	// Without history, the wall of path commits still decides.
	if got := BehindBy(sha("c3"), sha("c7"), path, nil); got != 2 {
		t.Errorf("without history: %d, want 2", got)
	}
	if got := BehindBy("abc", "abc1234", path, nil); got != -1 {
		t.Errorf("a 3-character prefix must not match: %d", got)
	}
}

func TestRevisionShort(t *testing.T) {
	tests := []struct {
		r    Revision
		want string
	}{
		{Revision{Head: sha("aaaaaaa1"), Live: sha("aaaaaaa1"), Behind: 0}, "aaaaaaa"},
		{Revision{Head: sha("bbbbbbb2"), Live: sha("aaaaaaa1"), Behind: 2}, "aaaaaaa → bbbbbbb (2 commits behind)"},
		{Revision{Head: sha("bbbbbbb2"), Live: sha("aaaaaaa1"), Behind: 1}, "aaaaaaa → bbbbbbb (1 commit behind)"},
		{Revision{Head: sha("bbbbbbb2"), Live: sha("aaaaaaa1"), Behind: -1}, "aaaaaaa → bbbbbbb"},
		{Revision{Head: sha("bbbbbbb2"), Behind: -1}, "? → bbbbbbb"},
		{Revision{Live: sha("aaaaaaa1"), Behind: -1}, "aaaaaaa"},
		{Revision{Behind: -1}, "-"},
	}
	for _, tt := range tests {
		if got := tt.r.Short(); got != tt.want {
			t.Errorf("%+v.Short() = %q, want %q", tt.r, got, tt.want)
		}
	}
}

func TestDeclaredLiveRevision(t *testing.T) {
	ref := ObjectRef{Kind: "Deployment", Namespace: "ledger", Name: "ledger"}
	at := func(tag string) []DesiredObject {
		return []DesiredObject{{Kind: "Deployment", Namespace: "ledger", Name: "ledger",
			Containers: []Container{{Name: "ledger", Image: "reg/ledger:" + tag}}}}
	}
	live := func(tag string) map[ObjectRef]*Workload {
		return map[ObjectRef]*Workload{ref: {Kind: "Deployment", Namespace: "ledger", Name: "ledger",
			Containers: []Container{{Name: "ledger", Image: "reg/ledger:" + tag}}}}
	}
	g := GitFacts{Head: sha("h3"), PathCommits: []string{sha("h3"), sha("h2"), sha("h1")}, Desired: at("3"),
		DesiredAt: map[string][]DesiredObject{sha("h2"): at("2"), sha("h1"): at("1")}}
	tests := []struct {
		name     string
		liveTag  string
		wantSHA  string
		wantBack int
	}{
		{"matches head (Desired stands for the newest)", "3", sha("h3"), 0},
		{"matches an older commit", "1", sha("h1"), 2},
		{"matches nothing: changed by hand", "hotfix", "", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, n := DeclaredLiveRevision(g, live(tt.liveTag), "")
			if s != tt.wantSHA || n != tt.wantBack {
				t.Errorf("got (%s, %d), want (%s, %d)", s, n, tt.wantSHA, tt.wantBack)
			}
		})
	}
}
