package repo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
)

// openRemote clones remote (a local path) into a fresh cache directory.
func openRemote(t testing.TB, remote string) *Repo {
	t.Helper()
	r, err := Open(context.Background(), repoCfg(remote), t.TempDir(), nil)
	if err != nil {
		t.Fatalf("Open(%s): %v", remote, err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func hexes(hs []plumbing.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.String()
	}
	return out
}

// gitLog is the oracle: git log --format=%H [-n limit] from -- paths.
func gitLog(t testing.TB, dir string, from plumbing.Hash, paths []string, limit int) []string {
	t.Helper()
	args := []string{"log", "--format=%H"}
	if limit > 0 {
		args = append(args, fmt.Sprintf("-n%d", limit))
	}
	args = append(args, from.String(), "--")
	for _, p := range paths {
		if p == "" {
			p = "."
		}
		args = append(args, p)
	}
	return lines(gitCLI(t, dir, gitEnv(t.TempDir()), args...))
}

// checkAgainstGit compares PathCommitHashes with git log, through the path
// index (when the clone has one) and through the tree walk alone.
func checkAgainstGit(t *testing.T, r *Repo, from plumbing.Hash, pathSets [][]string) {
	t.Helper()
	for _, paths := range pathSets {
		for _, limit := range []int{0, 1, 5} {
			want := gitLog(t, r.Dir(), from, paths, limit)
			for _, mode := range []string{"index", "walk"} {
				var got []plumbing.Hash
				var err error
				if mode == "walk" {
					withoutIndex(r, func() { got, err = r.PathCommitHashes(from, paths, limit) })
				} else {
					got, err = r.PathCommitHashes(from, paths, limit)
				}
				if err != nil {
					t.Fatalf("%s: PathCommitHashes(%v, %d): %v", mode, paths, limit, err)
				}
				if !slices.Equal(hexes(got), want) {
					t.Errorf("%s: paths %q limit %d:\n got %d %v\nwant %d %v", mode, paths, limit, len(got), short(hexes(got)), len(want), short(want))
				}
			}
		}
	}
}

// withoutIndex runs fn with the path index set aside, so history walks the
// trees.
func withoutIndex(r *Repo, fn func()) {
	r.mu.Lock()
	ix, disk := r.ix, r.ixDisk
	r.ix, r.ixDisk = nil, false
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.ix, r.ixDisk = ix, disk
		r.mu.Unlock()
	}()
	fn()
}

func short(hs []string) []string {
	out := make([]string, 0, len(hs))
	for i, h := range hs {
		if i == 12 {
			out = append(out, "…")
			break
		}
		out = append(out, h[:7])
	}
	return out
}

var genPathSets = [][]string{
	{"k8s/auth"}, {"k8s/auth/values-prod.yaml"}, {"k8s/pay/templates"}, {"k8s/pay/templates/deploy.yaml"},
	{"k8s/web/"}, {"./k8s/search"}, {"k8s/web/extra-1.yaml"}, {"docs"}, {"docs/x1.md"}, {"README.md"},
	{"k8s"}, {""}, {"no/such/path"}, {"k8s/search", "docs/x2.md"}, {"k8s/auth", "k8s/auth/values-stage.yaml"},
}

// TestPathCommitsMatchGitLogOnGeneratedHistories compares with the git CLI on
// random histories with merges of every shape, with and without a
// commit-graph file.
func TestPathCommitsMatchGitLogOnGeneratedHistories(t *testing.T) {
	needGit(t)
	for seed := int64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			remote, head := generated(t, seed, 400)
			r := openRemote(t, remote)
			if got := r.Head(); got != head {
				t.Fatalf("Head = %s, want %s", got, head)
			}
			merges := lines(gitCLI(t, r.Dir(), gitEnv(t.TempDir()), "rev-list", "--merges", head.String()))
			if len(merges) < 5 {
				t.Fatalf("generated history has %d merges, want some", len(merges))
			}
			checkAgainstGit(t, r, head, genPathSets)
			// From an older commit too.
			old := lines(gitCLI(t, r.Dir(), gitEnv(t.TempDir()), "rev-list", "--first-parent", "--skip=40", "-n1", head.String()))[0]
			checkAgainstGit(t, r, plumbing.NewHash(old), genPathSets[:4])

			// With a commit-graph written by git, read through it.
			gitCLI(t, r.Dir(), gitEnv(t.TempDir()), "commit-graph", "write", "--reachable")
			r2, err := Open(context.Background(), repoCfg(remote), filepath.Dir(r.Dir()), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer r2.Close()
			if r2.graph == nil {
				t.Fatal("commit-graph file not used")
			}
			checkAgainstGit(t, r2, head, genPathSets)
		})
	}
}

// cliRepo builds a history with the git CLI, so the cases read as git commands.
type cliRepo struct {
	t    *testing.T
	dir  string
	env  []string
	when time.Time
}

func newCLIRepo(t *testing.T) *cliRepo {
	needGit(t)
	c := &cliRepo{t: t, dir: t.TempDir(), env: gitEnv(t.TempDir()), when: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)}
	c.git("init", "-q", "-b", "main")
	return c
}

func (c *cliRepo) git(args ...string) string {
	c.t.Helper()
	d := c.when.Format(time.RFC3339)
	return gitCLI(c.t, c.dir, append(c.env, "GIT_AUTHOR_DATE="+d, "GIT_COMMITTER_DATE="+d), args...)
}

func (c *cliRepo) write(p, content string) {
	c.t.Helper()
	full := filepath.Join(c.dir, p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		c.t.Fatal(err)
	}
}

// commit stages everything and commits one minute after the previous commit.
func (c *cliRepo) commit(msg string) string {
	c.t.Helper()
	c.when = c.when.Add(time.Minute)
	c.git("add", "-A")
	c.git("commit", "-q", "--allow-empty", "-m", msg)
	return strings.TrimSpace(c.git("rev-parse", "HEAD"))
}

func (c *cliRepo) merge(args ...string) string {
	c.t.Helper()
	c.when = c.when.Add(time.Minute)
	c.git(append([]string{"merge", "-q", "--no-ff", "--no-edit"}, args...)...)
	return strings.TrimSpace(c.git("rev-parse", "HEAD"))
}

func TestPathCommitsCases(t *testing.T) {
	const app = "k8s/app"
	tests := []struct {
		name  string
		build func(c *cliRepo) (want []string) // the commits touching app, newest first (asserted against git too)
	}{
		{"linear", func(c *cliRepo) []string {
			c.write(app+"/values.yaml", "v1")
			c.write("other/a.txt", "a")
			c1 := c.commit("add app")
			c.write("other/a.txt", "b")
			c.commit("other")
			c.write(app+"/values.yaml", "v2")
			c3 := c.commit("bump")
			c.write(app+"/templates/d.yaml", "d")
			c4 := c.commit("template")
			c.write("other/a.txt", "c")
			c.commit("other again")
			return []string{c4, c3, c1}
		}},
		{"merge treesame to first parent (side did not touch app)", func(c *cliRepo) []string {
			c.write(app+"/values.yaml", "v1")
			c1 := c.commit("add app")
			c.git("checkout", "-q", "-b", "side")
			c.write("other/b.txt", "side")
			c.commit("side other")
			c.git("checkout", "-q", "main")
			c.write(app+"/values.yaml", "v2")
			c3 := c.commit("bump on main")
			c.merge("side")
			return []string{c3, c1}
		}},
		{"merge treesame to second parent (main did not touch app)", func(c *cliRepo) []string {
			c.write(app+"/values.yaml", "v1")
			c1 := c.commit("add app")
			c.git("checkout", "-q", "-b", "side")
			c.write(app+"/values.yaml", "side")
			s1 := c.commit("bump on side")
			c.git("checkout", "-q", "main")
			c.write("other/a.txt", "main")
			c.commit("other on main")
			c.merge("side")
			return []string{s1, c1}
		}},
		{"merge differing from both parents", func(c *cliRepo) []string {
			c.write(app+"/values.yaml", "v1")
			c.write(app+"/b.yaml", "b1")
			c1 := c.commit("add app")
			c.git("checkout", "-q", "-b", "side")
			c.write(app+"/b.yaml", "b2")
			s1 := c.commit("side edits b")
			c.git("checkout", "-q", "main")
			c.write(app+"/values.yaml", "v2")
			m1 := c.commit("main edits values")
			m := c.merge("side")
			// Both sides are followed and listed by date.
			return []string{m, m1, s1, c1}
		}},
		{"ours merge drops the side branch", func(c *cliRepo) []string {
			c.write(app+"/values.yaml", "v1")
			c1 := c.commit("add app")
			c.git("checkout", "-q", "-b", "side")
			c.write(app+"/values.yaml", "discarded")
			c.commit("side bump")
			c.git("checkout", "-q", "main")
			c.merge("-s", "ours", "side")
			return []string{c1}
		}},
		{"rename of unrelated files", func(c *cliRepo) []string {
			c.write(app+"/values.yaml", "v1")
			c.write("docs/a.md", "a")
			c1 := c.commit("add")
			c.git("mv", "docs/a.md", "docs/b.md")
			c.commit("rename docs")
			c.git("mv", "docs", "manual")
			c.commit("rename dir")
			return []string{c1}
		}},
		{"renamed into the path", func(c *cliRepo) []string {
			c.write("staging/app/values.yaml", "v1")
			c.commit("add staging")
			c.git("mv", "staging", "k8s")
			c2 := c.commit("move into k8s")
			return []string{c2}
		}},
		{"deleted and recreated", func(c *cliRepo) []string {
			c.write(app+"/values.yaml", "v1")
			c1 := c.commit("add")
			c.git("rm", "-q", "-r", app)
			c2 := c.commit("delete app")
			c.write("other.txt", "x")
			c.commit("unrelated")
			c.write(app+"/values.yaml", "v1") // same content as before
			c4 := c.commit("recreate")
			return []string{c4, c2, c1}
		}},
		{"directory replaced by a file", func(c *cliRepo) []string {
			c.write(app+"/values.yaml", "v1")
			c1 := c.commit("add")
			c.git("rm", "-q", "-r", "k8s")
			c.write("k8s", "now a file")
			c2 := c.commit("k8s becomes a file")
			c.write("k8s", "still a file")
			c.commit("edit the file")
			return []string{c2, c1}
		}},
		{"mode change only", func(c *cliRepo) []string {
			c.write(app+"/run.sh", "echo")
			c1 := c.commit("add")
			c.git("update-index", "--chmod=+x", app+"/run.sh")
			c.when = c.when.Add(time.Minute)
			c.git("commit", "-q", "-m", "chmod")
			c2 := strings.TrimSpace(c.git("rev-parse", "HEAD"))
			return []string{c2, c1}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLIRepo(t)
			want := tt.build(c)
			r := openRemote(t, c.dir)
			got, err := r.PathCommitHashes(plumbing.ZeroHash, []string{app}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(hexes(got), want) {
				t.Errorf("PathCommitHashes = %v, want %v", short(hexes(got)), short(want))
			}
			if oracle := gitLog(t, r.Dir(), r.Head(), []string{app}, 0); !slices.Equal(oracle, want) {
				t.Errorf("git log disagrees with the case: %v, want %v", short(oracle), short(want))
			}
			commits, err := r.PathCommits(plumbing.ZeroHash, []string{app}, 1)
			if err != nil {
				t.Fatal(err)
			}
			if len(want) > 0 && (len(commits) != 1 || commits[0].Hash.String() != want[0] || commits[0].Subject == "" ||
				commits[0].Author != "Test" || commits[0].Email != "test@example.com" || commits[0].When.IsZero()) {
				t.Errorf("PathCommits(limit 1) = %+v, want %s with author and subject", commits, want[0])
			}
		})
	}
}

func TestFirstParents(t *testing.T) {
	c := newCLIRepo(t)
	c.write("a", "1")
	c1 := c.commit("one")
	c.git("checkout", "-q", "-b", "side")
	c.write("b", "1")
	c.commit("side")
	c.git("checkout", "-q", "main")
	c.write("a", "2")
	c2 := c.commit("two")
	m := c.merge("side")
	r := openRemote(t, c.dir)
	got, err := r.FirstParents(plumbing.ZeroHash, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{m, c2, c1}; !slices.Equal(hexes(got), want) {
		t.Errorf("FirstParents = %v, want %v", short(hexes(got)), short(want))
	}
	if got, _ := r.FirstParents(plumbing.ZeroHash, 2); len(got) != 2 {
		t.Errorf("FirstParents(limit 2) = %d commits", len(got))
	}
	if _, err := r.PathCommits(plumbing.NewHash(strings.Repeat("ab", 20)), []string{"a"}, 5); err == nil ||
		!strings.Contains(err.Error(), "repository fleet-gitops") {
		t.Errorf("PathCommits from an unknown commit: err = %v, want an error naming the repository", err)
	}
	if r.corrupt != nil {
		t.Errorf("an unknown revision marked the clone corrupt: %v", r.corrupt)
	}
}
