package revert

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

// The push-race tests: another push lands between fleetdeck's revert commit
// and its push (or during the push itself). The git CLI is the oracle for
// what the remote holds.

// racingHook makes every push to main, up to times pushes, lose a race: the
// remote's pre-receive hook commits a change to k8s/other/race.txt on top of
// main first, so the pushed update fails to lock the ref ("failed to update
// ref"), as when two pushes reach the server together.
func racingHook(t *testing.T, w *world, times int) {
	t.Helper()
	script := `#!/bin/sh
while read old new ref; do
  [ "$ref" = refs/heads/main ] || continue
  n=$(cat race-count 2>/dev/null || echo 0)
  [ "$n" -ge ` + strconv.Itoa(times) + ` ] && continue
  n=$((n+1)); echo $n > race-count
  # Outside the push's quarantine, as another push would be.
  unset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES
  idx=$(mktemp); rm -f "$idx"
  GIT_INDEX_FILE=$idx git read-tree "$old"
  blob=$(echo "race $n" | git hash-object -w --stdin)
  GIT_INDEX_FILE=$idx git update-index --add --cacheinfo 100644,$blob,k8s/other/race.txt
  tree=$(GIT_INDEX_FILE=$idx git write-tree); rm -f "$idx"
  c=$(echo "other: race $n" | git commit-tree "$tree" -p "$old")
  git update-ref refs/heads/main "$c" "$old" || exit 1
done
exit 0
`
	if err := os.WriteFile(filepath.Join(w.remote, "hooks", "pre-receive"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

// revertCommitted plans and commits the revert of bad for auth.
func revertCommitted(t *testing.T, w *world, v *Reverter, bad string) *Result {
	t.Helper()
	ctx := context.Background()
	plan, err := v.Plan(ctx, Request{App: "auth", Clusters: []string{"staging"}, Paths: []string{"k8s/auth"},
		Commit: plumbing.NewHash(bad), Reason: "crashloop", Summary: []string{"auth: v1.5.0 → v1.4.2"}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Commit(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// gitRevertTreeAt is the tree `git revert --no-edit commit` makes on a fresh
// clone of the remote detached at head.
func gitRevertTreeAt(t *testing.T, w *world, head, commit string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "oracle")
	w.git(w.work, "clone", "-q", w.remote, dir)
	w.git(dir, "checkout", "-q", "--detach", head)
	w.git(dir, "revert", "--no-edit", commit)
	return w.git(dir, "rev-parse", "HEAD^{tree}")
}

// checkRetried checks the remote after a retried push: theirs, then exactly
// one revert commit on it with git revert's tree, nothing forced.
func checkRetried(t *testing.T, w *world, out, first *Result, oldHead, theirs, bad string) {
	t.Helper()
	if got := w.git(w.remote, "rev-parse", "main"); got != out.Commit.String() {
		t.Fatalf("remote main = %s, want the retried revert %s", got, out.Commit)
	}
	if got := w.git(w.remote, "rev-parse", "main^"); got != theirs {
		t.Errorf("the revert's parent is %s, want the concurrent commit %s", got, theirs)
	}
	if got := w.git(w.remote, "rev-list", "--count", theirs+"..main"); got != "1" {
		t.Errorf("%s commits on top of the concurrent one, want 1", got)
	}
	// Nothing forced: the old head and the concurrent commit are both in main's history.
	for _, c := range []string{oldHead, theirs} {
		if _, err := w.tryGit(w.remote, "merge-base", "--is-ancestor", c, "main"); err != nil {
			t.Errorf("%s is no longer in main's history", c[:7])
		}
	}
	// The first commit, planned on the old head, is on no remote branch (a
	// push that lost the race inside the server may leave its objects).
	if slices.Contains(strings.Fields(w.git(w.remote, "rev-list", "--all")), first.Commit.String()) {
		t.Errorf("the superseded commit %s is on the remote", first.Commit)
	}
	if out.Superseded != first || out.Plan.Parent.String() != theirs || out.Pushed != "main" {
		t.Errorf("Superseded %p (want %p), parent %s, pushed %q", out.Superseded, first, out.Plan.Parent, out.Pushed)
	}
	if got, want := w.git(w.remote, "rev-parse", "main^{tree}"), gitRevertTreeAt(t, w, theirs, bad); got != want {
		t.Errorf("tree %s, git revert --no-edit on %s makes %s", got, theirs[:7], want)
	}
	msg := w.git(w.remote, "log", "-1", "--format=%B", "main")
	for _, want := range []string{`Revert "ci: bump auth to v1.5.0"`, "Reason: crashloop", "auth: v1.5.0 → v1.4.2",
		"Reverts: " + bad, "Fleetdeck-App: auth", "Fleetdeck-Clusters: staging", "Fleetdeck-From: " + theirs} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if w.clone.Head() != out.Commit {
		t.Errorf("clone head %s, want %s", w.clone.Head(), out.Commit)
	}
	w.git(w.remote, "fsck", "--strict", "--no-dangling")
}

// checkNothingPushed checks that the remote is at want with none of the
// revert commits in it.
func checkNothingPushed(t *testing.T, w *world, want string, ours ...*Result) {
	t.Helper()
	if got := w.git(w.remote, "rev-parse", "main"); got != want {
		t.Fatalf("remote main = %s, want %s untouched", got, want)
	}
	history := strings.Fields(w.git(w.remote, "rev-list", "--all"))
	for _, r := range ours {
		if slices.Contains(history, r.Commit.String()) {
			t.Errorf("revert commit %s reached the remote", r.Commit)
		}
	}
	w.git(w.remote, "fsck", "--no-dangling")
}

// TestPushRetryAfterConcurrentPush: another app's change lands between the
// commit and the push; the retry plans the revert on it and pushes.
func TestPushRetryAfterConcurrentPush(t *testing.T) {
	for _, sameDiff := range []bool{true, false} {
		t.Run(map[bool]string{true: "same-diff", false: "any-clean"}[sameDiff], func(t *testing.T) {
			w, _, bad := bumpWorld(t)
			v := w.reverter(false)
			res := revertCommitted(t, w, v, bad)
			w.write("k8s/other/values.yaml", "image:\n  tag: o2\n")
			theirs := w.commit("other: o2")
			out, err := v.PushRetrying(context.Background(), res, RetryOptions{SameDiff: sameDiff})
			if err != nil {
				t.Fatal(err)
			}
			checkRetried(t, w, out, res, bad, theirs, bad)
			if out.Plan.Diff != res.Plan.Diff {
				t.Errorf("the retried diff differs:\n%s\nfrom:\n%s", out.Plan.Diff, res.Plan.Diff)
			}
		})
	}
}

// TestPushRetryAfterRaceInsideThePush: the other push reaches the server
// during fleetdeck's (the ref fails to lock), not before it.
func TestPushRetryAfterRaceInsideThePush(t *testing.T) {
	w, _, bad := bumpWorld(t)
	racingHook(t, w, 1)
	v := w.reverter(false)
	res := revertCommitted(t, w, v, bad)
	out, err := v.PushRetrying(context.Background(), res, RetryOptions{SameDiff: true})
	if err != nil {
		t.Fatal(err)
	}
	theirs := w.git(w.remote, "rev-parse", "main^")
	if w.git(w.remote, "log", "-1", "--format=%s", theirs) != "other: race 1" {
		t.Fatalf("the revert is not on the racing commit:\n%s", w.git(w.remote, "log", "--oneline", "-3", "main"))
	}
	checkRetried(t, w, out, res, bad, theirs, bad)
}

// TestPushRetryStopsWhenAlreadyReverted: the concurrent push is someone
// else's revert of the same commit.
func TestPushRetryStopsWhenAlreadyReverted(t *testing.T) {
	w, _, bad := bumpWorld(t)
	v := w.reverter(false)
	res := revertCommitted(t, w, v, bad)
	w.git(w.work, "revert", "--no-edit", bad)
	w.git(w.work, "push", "-q", "origin", "main")
	theirs := w.git(w.work, "rev-parse", "HEAD")
	out, err := v.PushRetrying(context.Background(), res, RetryOptions{SameDiff: true})
	var rerr *RetryError
	if !errors.As(err, &rerr) || !errors.Is(err, ErrNothingToRevert) {
		t.Fatalf("PushRetrying = %v, want a RetryError for nothing to revert", err)
	}
	for _, want := range []string{"moved on the remote", "someone pushed " + theirs[:7], "already reverted", "nothing was pushed",
		"kept on local branch " + res.LocalBranch} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q: %v", want, err)
		}
	}
	if out != res || rerr.Theirs.String() != theirs || rerr.Planned.String() != bad {
		t.Errorf("result %p (want %p), Theirs %s, Planned %s", out, res, rerr.Theirs, rerr.Planned)
	}
	checkNothingPushed(t, w, theirs, res)
	// The local commit is not lost.
	if got := w.git(w.clone.Dir(), "rev-parse", res.LocalBranch); got != res.Commit.String() {
		t.Errorf("local branch %s = %s, want %s", res.LocalBranch, got, res.Commit)
	}
}

// TestPushRetryStopsOnConflict: the concurrent push changed the same line.
func TestPushRetryStopsOnConflict(t *testing.T) {
	w, _, bad := bumpWorld(t)
	v := w.reverter(false)
	res := revertCommitted(t, w, v, bad)
	w.write("k8s/auth/values.yaml", "replicas: 2\nimage:\n  tag: v1.6.0\n")
	theirs := w.commit("ci: bump auth to v1.6.0")
	_, err := v.PushRetrying(context.Background(), res, RetryOptions{})
	var conflict *ConflictError
	if !errors.As(err, &conflict) || !slices.Equal(conflict.Paths, []string{"k8s/auth/values.yaml"}) {
		t.Fatalf("PushRetrying = %v, want a conflict in k8s/auth/values.yaml", err)
	}
	for _, want := range []string{"someone pushed " + theirs[:7], "no longer applies cleanly", "conflicts in k8s/auth/values.yaml", "Nothing was pushed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q: %v", want, err)
		}
	}
	checkNothingPushed(t, w, theirs, res)
}

// TestPushRetryStopsWhenTheDiffChanged: the concurrent push changed another
// line of the reverted file. The revert still applies, and is retried unless
// the caller insists on the diff the user confirmed.
func TestPushRetryStopsWhenTheDiffChanged(t *testing.T) {
	for _, sameDiff := range []bool{true, false} {
		t.Run(map[bool]string{true: "same-diff", false: "any-clean"}[sameDiff], func(t *testing.T) {
			w, _, bad := bumpWorld(t)
			v := w.reverter(false)
			res := revertCommitted(t, w, v, bad)
			w.write("k8s/auth/values.yaml", "replicas: 3\nimage:\n  tag: v1.5.0\n")
			theirs := w.commit("auth: 3 replicas")
			out, err := v.PushRetrying(context.Background(), res, RetryOptions{SameDiff: sameDiff})
			if !sameDiff {
				if err != nil {
					t.Fatal(err)
				}
				checkRetried(t, w, out, res, bad, theirs, bad)
				return
			}
			var changed *DiffChangedError
			if !errors.As(err, &changed) || !slices.Equal(changed.Paths, []string{"k8s/auth/values.yaml"}) || changed.Plan == nil {
				t.Fatalf("PushRetrying = %v, want a DiffChangedError naming k8s/auth/values.yaml", err)
			}
			if !strings.Contains(err.Error(), "review the revert again") || !strings.Contains(changed.Plan.Diff, " replicas: 3") {
				t.Errorf("message %v; new diff:\n%s", err, changed.Plan.Diff)
			}
			checkNothingPushed(t, w, theirs, res)
		})
	}
}

// TestPushRetryStopsAfterOneRetry: the branch moves again while the retry
// is pushed. fleetdeck stops; nothing is lost on the remote or in the clone.
func TestPushRetryStopsAfterOneRetry(t *testing.T) {
	w, _, bad := bumpWorld(t)
	racingHook(t, w, 2)
	v := w.reverter(false)
	res := revertCommitted(t, w, v, bad)
	out, err := v.PushRetrying(context.Background(), res, RetryOptions{SameDiff: true})
	var rerr *RetryError
	if !errors.As(err, &rerr) || rerr.Again == nil {
		t.Fatalf("PushRetrying = %v, want a RetryError for a second lost race", err)
	}
	race1, race2 := w.git(w.remote, "rev-parse", "main^"), w.git(w.remote, "rev-parse", "main")
	if w.git(w.remote, "rev-parse", race1+"^") != bad || w.git(w.remote, "log", "-1", "--format=%s", race2) != "other: race 2" {
		t.Fatalf("remote history:\n%s", w.git(w.remote, "log", "--oneline", "-4", "main"))
	}
	for _, want := range []string{"someone pushed " + race1[:7], "moved again (to " + race2[:7] + ")", "nothing was pushed after one retry",
		"kept on local branch " + out.LocalBranch, "run the revert again"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q: %v", want, err)
		}
	}
	checkNothingPushed(t, w, race2, res, out)
	if out.Superseded != res || out.Plan.Parent.String() != race1 {
		t.Errorf("the retry was planned on %s, want %s", out.Plan.Parent, race1)
	}
	if got := w.git(w.clone.Dir(), "rev-parse", out.LocalBranch); got != out.Commit.String() {
		t.Errorf("local branch %s = %s, want the retried commit %s", out.LocalBranch, got, out.Commit)
	}
	if n, _ := os.ReadFile(filepath.Join(w.remote, "race-count")); strings.TrimSpace(string(n)) != "2" {
		t.Errorf("%q pushes reached the remote, want 2 (one retry)", n)
	}
}

// TestPushRetryStopsOnRewrittenHistory: someone force-pushed main without
// the old head; fleetdeck does not build on the rewritten branch.
func TestPushRetryStopsOnRewrittenHistory(t *testing.T) {
	w, good, bad := bumpWorld(t)
	v := w.reverter(false)
	res := revertCommitted(t, w, v, bad)
	w.git(w.work, "reset", "-q", "--hard", good)
	w.write("k8s/other/values.yaml", "image:\n  tag: o3\n")
	w.commitLocal("other: o3")
	w.git(w.work, "push", "-q", "-f", "origin", "main")
	theirs := w.git(w.work, "rev-parse", "HEAD")
	_, err := v.PushRetrying(context.Background(), res, RetryOptions{SameDiff: true})
	if !errors.Is(err, ErrRewritten) || !strings.Contains(err.Error(), "history was rewritten") {
		t.Fatalf("PushRetrying = %v, want ErrRewritten", err)
	}
	checkNothingPushed(t, w, theirs, res)
}

// TestPushRetryKeepsHookRejections: a refusal other than a lost race is
// not retried; the caller pushes the commit to a branch of its own.
func TestPushRetryKeepsHookRejections(t *testing.T) {
	w, _, bad := bumpWorld(t)
	script := "#!/bin/sh\nwhile read old new ref; do [ \"$ref\" = refs/heads/main ] && { echo 'main is protected' >&2; exit 1; }; done; exit 0\n"
	if err := os.WriteFile(filepath.Join(w.remote, "hooks", "pre-receive"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	v := w.reverter(false)
	res := revertCommitted(t, w, v, bad)
	out, err := v.PushRetrying(context.Background(), res, RetryOptions{SameDiff: true})
	var rejected *RejectedError
	if !errors.As(err, &rejected) || out != res {
		t.Fatalf("PushRetrying = %v, want the RejectedError with the commit", err)
	}
	if err := v.PushBranch(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	if got := w.git(w.remote, "rev-parse", "refs/heads/"+res.LocalBranch); got != res.Commit.String() {
		t.Errorf("remote %s = %s, want %s", res.LocalBranch, got, res.Commit)
	}
	checkNothingPushed(t, w, bad)
}
