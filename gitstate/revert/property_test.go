package revert

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/fleetdeck/fleetdeck/internal/sandbox/monorepo"
)

// TestRevertMatchesGit reverts every commit of random histories and checks,
// with `git revert --no-edit` on the work clone as the oracle, that the tree
// is the one git makes and that fleetdeck refuses exactly when git stops on
// a conflict.
func TestRevertMatchesGit(t *testing.T) {
	seeds := []int64{1, 2, 3}
	if testing.Short() {
		seeds = seeds[:1]
	}
	clean, conflicts := 0, 0
	for _, seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			w := newWorld(t)
			commits := w.randomHistory(seed, 25)
			w.open()
			v := w.reverter(false)
			head := commits[len(commits)-1]
			w.git(w.work, "checkout", "-q", "--detach", head)
			defer w.git(w.work, "checkout", "-q", "main")
			for _, c := range commits[1:] { // the root commit's revert empties the tree
				switch w.checkRevertLikeGit(t, v, head, c, Request{App: "a", Paths: []string{"apps/a"}, Commit: plumbing.NewHash(c)}) {
				case revertClean:
					clean++
				case revertConflict:
					conflicts++
				}
			}
		})
	}
	t.Logf("%d clean reverts and %d conflicts compared with git", clean, conflicts)
	if clean == 0 || conflicts == 0 {
		t.Errorf("the histories exercised %d clean reverts and %d conflicts; want both", clean, conflicts)
	}
}

// TestRevertMatchesGitOnSandboxRepo does the same on the sandbox's
// monorepo (internal/sandbox/monorepo, the demo's repository: Helm,
// kustomize and plain YAML, bot bumps, human edits, a feature branch and its
// merge): random commits of its history, the merge and the bad bump among
// them, reverted on its head; and, since old bumps reverted on the head
// mostly conflict with the newer bumps of the same line, recent commits
// reverted on a few older heads (the remote's branch moved back there).
func TestRevertMatchesGitOnSandboxRepo(t *testing.T) {
	n, heads := 40, 3
	if testing.Short() {
		n, heads = 8, 1
	}
	w, gen := sandboxWorld(t)
	v := w.reverter(false)
	rng := rand.New(rand.NewSource(1))
	// pick adds up to k random commits of from to out.
	pick := func(out []string, from []string, k int) []string {
		for _, i := range rng.Perm(len(from)) {
			if k == 0 {
				break
			}
			if !slices.Contains(out, from[i]) {
				out, k = append(out, from[i]), k-1
			}
		}
		return out
	}
	perHead := n / (heads + 1)
	type round struct {
		head    string
		commits []string
	}
	all := strings.Fields(w.git(w.work, "rev-list", gen.Head))
	all = all[:len(all)-1] // the root commit's revert empties the tree
	rounds := []round{{gen.Head, pick([]string{gen.MergeCommit, gen.BadBumpCommit}, all, n-heads*perHead-2)}}
	firstParents := strings.Fields(w.git(w.work, "rev-list", "--first-parent", gen.Head))
	for range heads {
		h := firstParents[1+rng.Intn(len(firstParents)-40)] // 30 commits before it are not the root
		recent := strings.Fields(w.git(w.work, "rev-list", "-n", "30", h))
		rounds = append(rounds, round{h, pick(nil, recent, perHead)})
	}
	counts := map[revertOutcome]int{}
	total := 0
	for _, r := range rounds {
		if r.head != w.clone.Head().String() {
			w.git(w.remote, "update-ref", "refs/heads/main", r.head)
			if _, err := w.clone.Fetch(context.Background()); err != nil || w.clone.Head().String() != r.head {
				t.Fatalf("fetch of %s: head %s, %v", r.head[:7], w.clone.Head(), err)
			}
		}
		w.git(w.work, "checkout", "-q", "--detach", r.head)
		for _, c := range r.commits {
			counts[w.checkRevertLikeGit(t, v, r.head, c, Request{App: "sandbox", Paths: []string{"k8s"}, Commit: plumbing.NewHash(c)})]++
			total++
		}
	}
	t.Logf("%d commits on %d heads: %d clean reverts, %d conflicts, %d with nothing to revert, %d merges refused, compared with git",
		total, len(rounds), counts[revertClean], counts[revertConflict], counts[revertEmpty], counts[revertMerge])
	if counts[revertClean] == 0 || counts[revertMerge] == 0 || !testing.Short() && counts[revertConflict] == 0 {
		t.Errorf("exercised %v; want clean reverts, conflicts and the merge", counts)
	}
}

// sandboxWorld is a world whose remote is the sandbox's generated monorepo.
func sandboxWorld(t *testing.T) (*world, *monorepo.Result) {
	t.Helper()
	if _, err := os.Stat(gitBin); err != nil {
		t.Skipf("git CLI not available: %v", err)
	}
	base := t.TempDir()
	w := &world{t: t, home: filepath.Join(base, "home"), remote: filepath.Join(base, "fleet-gitops.git"),
		work: filepath.Join(base, "work"), cache: filepath.Join(base, "cache")}
	if err := os.MkdirAll(w.home, 0o755); err != nil {
		t.Fatal(err)
	}
	gen, err := monorepo.Generate(w.remote, monorepo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if gen.MergeCommit == "" {
		t.Fatal("the sandbox repository has no merge commit")
	}
	w.git(base, "clone", "-q", w.remote, w.work)
	w.open()
	return w, gen
}

// revertOutcome is what one comparison with git found.
type revertOutcome int

const (
	revertClean revertOutcome = iota
	revertConflict
	revertEmpty
	revertMerge
)

// checkRevertLikeGit plans q (the revert of c) with v on head and compares
// it with `git revert --no-edit c` in the work clone, detached at head: the
// same tree when git reverts cleanly, a conflict on the same paths when git
// stops on one, nothing to revert when git has nothing to commit, and a
// refusal of merges, which git refuses too without -m.
func (w *world) checkRevertLikeGit(t *testing.T, v *Reverter, head, c string, q Request) revertOutcome {
	t.Helper()
	plan, err := v.Plan(context.Background(), q)
	gitTree, gitConflicts, gitErr := w.gitRevert(head, c)
	var ce *ConflictError
	switch {
	case gitErr == errGitMerge:
		if err == nil || !strings.Contains(err.Error(), "is a merge") {
			t.Errorf("revert %s: git refuses a merge without -m, fleetdeck gave %v", c[:7], err)
		}
		return revertMerge
	case gitErr == errGitConflict:
		if !errors.As(err, &ce) {
			t.Errorf("revert %s: git conflicts in %v, fleetdeck gave %v", c[:7], gitConflicts, err)
		} else if !slices.Equal(ce.Paths, gitConflicts) {
			t.Errorf("revert %s: fleetdeck conflicts in %v, git in %v", c[:7], ce.Paths, gitConflicts)
		}
		return revertConflict
	case gitErr == errGitEmpty:
		if !errors.Is(err, ErrNothingToRevert) {
			t.Errorf("revert %s: git has nothing to commit, fleetdeck gave %v", c[:7], err)
		}
		return revertEmpty
	case gitErr != nil:
		t.Fatal(gitErr)
	case err != nil:
		t.Errorf("revert %s: git reverts cleanly, fleetdeck: %v", c[:7], err)
	case plan.Tree.String() != gitTree:
		t.Errorf("revert %s: tree %s, git revert's %s\nfleetdeck diff:\n%s\ngit diff:\n%s", c[:7], plan.Tree, gitTree, plan.Diff,
			w.git(w.work, "diff", head, gitTree))
	}
	return revertClean
}

var (
	errGitConflict = errors.New("git revert conflicts")
	errGitEmpty    = errors.New("git revert has nothing to commit")
	errGitMerge    = errors.New("git revert refuses a merge without -m")
)

// gitRevert runs `git revert --no-edit commit` in the work clone, detached
// at head, returns the tree it made (or the paths it left unmerged) and
// leaves the clone at head again.
func (w *world) gitRevert(head, commit string) (tree string, conflicts []string, err error) {
	w.t.Helper()
	out, err := w.tryGit(w.work, "revert", "--no-edit", commit)
	if err != nil {
		switch {
		case strings.Contains(out, "is a merge but no -m option"):
			return "", nil, errGitMerge
		case strings.Contains(out, "CONFLICT") || strings.Contains(out, "could not revert"):
			conflicts = strings.Fields(w.git(w.work, "diff", "--name-only", "--diff-filter=U"))
			_, _ = w.tryGit(w.work, "revert", "--abort")
			return "", conflicts, errGitConflict
		case strings.Contains(out, "nothing to commit"):
			_, _ = w.tryGit(w.work, "revert", "--abort")
			w.git(w.work, "reset", "-q", "--hard", head)
			return "", nil, errGitEmpty
		}
		_, _ = w.tryGit(w.work, "revert", "--abort")
		return "", nil, fmt.Errorf("git revert %s: %v\n%s", commit, err, out)
	}
	tree = w.git(w.work, "rev-parse", "HEAD^{tree}")
	w.git(w.work, "reset", "-q", "--hard", head)
	return tree, nil, nil
}

// TestRollbackMatchesGitCheckout restores an app's paths to every commit of
// a random history and compares with `git checkout --no-overlay C -- PATHS`.
func TestRollbackMatchesGitCheckout(t *testing.T) {
	w := newWorld(t)
	commits := w.randomHistory(7, 20)
	w.open()
	v := w.reverter(false)
	head := commits[len(commits)-1]
	paths := []string{"apps/a", "shared"}
	headTree := w.git(w.work, "rev-parse", head+"^{tree}")
	index := []string{"GIT_INDEX_FILE=" + filepath.Join(t.TempDir(), "index")}
	for i, c := range commits[:len(commits)-1] {
		if testing.Short() && i%3 != 0 {
			continue
		}
		plan, err := v.Plan(context.Background(), Request{App: "a", Paths: paths, To: plumbing.NewHash(c)})
		// restore is checkout's no-overlay form; --ignore-unmatch covers a
		// path the commit does not have (it is removed).
		w.gitEnv(index, "read-tree", head)
		present := strings.Fields(w.git(w.work, append([]string{"ls-tree", "--name-only", c, "--"}, paths...)...))
		if len(present) > 0 {
			w.gitEnv(index, append([]string{"restore", "--source=" + c, "--staged", "--"}, present...)...)
		}
		for _, p := range paths {
			if !slices.Contains(present, p) {
				w.gitEnv(index, "rm", "-r", "-q", "--cached", "--ignore-unmatch", p)
			}
		}
		want := w.gitEnv(index, "write-tree")
		if want == headTree {
			if !errors.Is(err, ErrNothingToRevert) {
				t.Errorf("roll back to %s: paths already equal, fleetdeck gave %v", c[:7], err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("roll back to %s: %v", c[:7], err)
		}
		if plan.Tree.String() != want {
			t.Errorf("roll back to %s: tree %s, git checkout gives %s", c[:7], plan.Tree, want)
		}
		if plan.Target.String() != c {
			t.Errorf("Target = %s, want %s", plan.Target, c)
		}
	}
}

// TestAppOnlyRevert: a commit touching two apps reverted for one of them
// leaves the other's change, and says which files it left.
func TestAppOnlyRevert(t *testing.T) {
	w := newWorld(t)
	w.write("apps/a/values.yaml", "image:\n  tag: v1\n")
	w.write("apps/b/values.yaml", "image:\n  tag: b1\n")
	w.commit("initial")
	w.write("apps/a/values.yaml", "image:\n  tag: v2\n")
	w.write("apps/b/values.yaml", "image:\n  tag: b2\n")
	bump := w.commit("bump a and b")
	w.open()
	v := w.reverter(false)

	full, err := v.Plan(context.Background(), Request{App: "a", Paths: []string{"apps/a"}, Commit: plumbing.NewHash(bump)})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(full.OtherPaths, ","); got != "apps/b/values.yaml" {
		t.Errorf("OtherPaths = %q, want apps/b/values.yaml", got)
	}
	if len(full.Changes) != 2 {
		t.Errorf("full revert changes %v, want both files", full.Changes)
	}
	only, err := v.Plan(context.Background(), Request{App: "a", Paths: []string{"apps/a"}, Commit: plumbing.NewHash(bump), AppOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(only.Changes) != 1 || only.Changes[0] != (FileChange{Path: "apps/a/values.yaml", Action: "modify"}) {
		t.Errorf("app-only changes = %v, want only apps/a/values.yaml modified", only.Changes)
	}
	for name, want := range map[string]string{"apps/a/values.yaml": "image:\n  tag: v1\n", "apps/b/values.yaml": "image:\n  tag: b2\n"} {
		e, err := findEntry(only.objects, only.Tree, name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := readBlob(only.objects, e.hash)
		if err != nil || string(got) != want {
			t.Errorf("%s after the app-only revert = %q, %v; want %q", name, got, err, want)
		}
	}
	for _, want := range []string{"Revert \"bump a and b\" for a", "Only the changes to a (apps/a) are reverted; the commit's changes to apps/b/values.yaml stay."} {
		if !strings.Contains(only.Message, want) {
			t.Errorf("message lacks %q:\n%s", want, only.Message)
		}
	}
}
