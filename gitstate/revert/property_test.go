package revert

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
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
				plan, err := v.Plan(context.Background(), Request{App: "a", Paths: []string{"apps/a"}, Commit: plumbing.NewHash(c)})
				gitTree, gitErr := w.gitRevert(head, c)
				var ce *ConflictError
				switch {
				case gitErr == errGitConflict:
					conflicts++
					if !errors.As(err, &ce) {
						t.Errorf("revert %s: git conflicts, fleetdeck gave %v", c[:7], err)
					}
				case gitErr == errGitEmpty:
					if !errors.Is(err, ErrNothingToRevert) {
						t.Errorf("revert %s: git has nothing to commit, fleetdeck gave %v", c[:7], err)
					}
				case gitErr != nil:
					t.Fatal(gitErr)
				case err != nil:
					t.Errorf("revert %s: git reverts cleanly, fleetdeck: %v", c[:7], err)
				default:
					clean++
					if plan.Tree.String() != gitTree {
						t.Errorf("revert %s: tree %s, git revert's %s\nfleetdeck diff:\n%s\ngit diff:\n%s", c[:7], plan.Tree, gitTree, plan.Diff,
							w.git(w.work, "diff", head, gitTree))
					}
				}
			}
		})
	}
	t.Logf("%d clean reverts and %d conflicts compared with git", clean, conflicts)
	if clean == 0 || conflicts == 0 {
		t.Errorf("the histories exercised %d clean reverts and %d conflicts; want both", clean, conflicts)
	}
}

var (
	errGitConflict = errors.New("git revert conflicts")
	errGitEmpty    = errors.New("git revert has nothing to commit")
)

// gitRevert runs `git revert --no-edit commit` in the work clone, detached
// at head, returns the tree it made and leaves the clone at head again.
func (w *world) gitRevert(head, commit string) (string, error) {
	w.t.Helper()
	out, err := w.tryGit(w.work, "revert", "--no-edit", commit)
	if err != nil {
		_, _ = w.tryGit(w.work, "revert", "--abort")
		switch {
		case strings.Contains(out, "CONFLICT") || strings.Contains(out, "could not revert"):
			return "", errGitConflict
		case strings.Contains(out, "nothing to commit"):
			w.git(w.work, "reset", "-q", "--hard", head)
			return "", errGitEmpty
		}
		return "", fmt.Errorf("git revert %s: %v\n%s", commit, err, out)
	}
	tree := w.git(w.work, "rev-parse", "HEAD^{tree}")
	w.git(w.work, "reset", "-q", "--hard", head)
	return tree, nil
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
