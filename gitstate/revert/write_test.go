package revert

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

// bumpWorld is a remote with an app whose newest commit is a bad image bump.
func bumpWorld(t *testing.T) (w *world, good, bad string) {
	t.Helper()
	w = newWorld(t)
	w.write("k8s/auth/values.yaml", "replicas: 2\nimage:\n  tag: v1.4.2\n")
	w.write("k8s/other/values.yaml", "image:\n  tag: o1\n")
	good = w.commit("auth: v1.4.2")
	w.write("k8s/auth/values.yaml", "replicas: 2\nimage:\n  tag: v1.5.0\n")
	bad = w.commit("ci: bump auth to v1.5.0")
	w.open()
	return w, good, bad
}

func TestCommitAndPush(t *testing.T) {
	w, good, bad := bumpWorld(t)
	v := w.reverter(false)
	ctx := context.Background()
	plan, err := v.Plan(ctx, Request{App: "auth", Clusters: []string{"staging"}, Paths: []string{"k8s/auth"},
		Commit: plumbing.NewHash(bad), Reason: "crashloop after the bump", Summary: []string{"auth: v1.5.0 → v1.4.2"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--- a/k8s/auth/values.yaml", "+++ b/k8s/auth/values.yaml", "-  tag: v1.5.0", "+  tag: v1.4.2"} {
		if !strings.Contains(plan.Diff, want) {
			t.Errorf("diff lacks %q:\n%s", want, plan.Diff)
		}
	}
	if strings.Contains(plan.Diff, "\x1b[") || !strings.Contains(plan.ColorDiff(), "\x1b[") {
		t.Error("Diff must be plain and ColorDiff coloured")
	}
	if plan.Target.String() != good || plan.Parent.String() != bad {
		t.Errorf("Target %s Parent %s, want %s and %s", plan.Target, plan.Parent, good, bad)
	}
	res, err := v.Commit(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	// Nothing left the machine yet.
	if got := w.git(w.remote, "rev-parse", "main"); got != bad {
		t.Fatalf("remote moved to %s before the push", got)
	}
	if err := v.Push(ctx, res); err != nil {
		t.Fatal(err)
	}
	if res.Pushed != "main" || w.clone.Head() != res.Commit {
		t.Errorf("Pushed %q, clone head %s, want main and %s", res.Pushed, w.clone.Head(), res.Commit)
	}
	// The git CLI as oracle: one new commit on the remote, parent the old
	// head, tree the one `git revert` makes, a sound repository.
	if got := w.git(w.remote, "rev-parse", "main"); got != res.Commit.String() {
		t.Fatalf("remote main = %s, want %s", got, res.Commit)
	}
	if got := w.git(w.remote, "rev-list", "--count", bad+"..main"); got != "1" {
		t.Errorf("remote gained %s commits, want 1", got)
	}
	if got := w.git(w.remote, "rev-parse", "main^"); got != bad {
		t.Errorf("parent = %s, want %s", got, bad)
	}
	w.git(w.remote, "fsck", "--strict", "--no-dangling")
	w.git(w.work, "pull", "-q", "--ff-only", "origin", "main")
	w.git(w.work, "checkout", "-q", "--detach", bad)
	w.git(w.work, "revert", "--no-edit", bad)
	if got, want := w.git(w.work, "rev-parse", "HEAD^{tree}"), w.git(w.remote, "rev-parse", "main^{tree}"); got != want {
		t.Errorf("tree %s, git revert --no-edit makes %s", want, got)
	}
	w.git(w.work, "checkout", "-q", "main")
	msg := w.git(w.remote, "log", "-1", "--format=%B", "main")
	for _, want := range []string{
		`Revert "ci: bump auth to v1.5.0"`, "This reverts commit " + bad + ".", "auth: v1.5.0 → v1.4.2",
		"Reason: crashloop after the bump", "Reverts: " + bad, "Fleetdeck-App: auth", "Fleetdeck-Clusters: staging",
		"Fleetdeck-From: " + bad, "Fleetdeck-To: " + good, "Fleetdeck-By: Ada Ops <ada@example.com>",
		"Fleetdeck-At: 2026-03-01T12:00:00Z", "Fleetdeck-Version: v0.0.0-test",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	// git reads the trailers as trailers.
	trailers := w.git(w.remote, "log", "-1", "--format=%(trailers:key=Reverts,valueonly)", "main")
	if trailers != bad {
		t.Errorf("git reads Reverts trailer %q, want %s", trailers, bad)
	}
	if got := w.git(w.remote, "log", "-1", "--format=%an <%ae>", "main"); got != "Ada Ops <ada@example.com>" {
		t.Errorf("author %q", got)
	}
}

func TestConcurrentPushIsRefused(t *testing.T) {
	w, _, bad := bumpWorld(t)
	v := w.reverter(false)
	ctx := context.Background()
	plan, err := v.Plan(ctx, Request{App: "auth", Paths: []string{"k8s/auth"}, Commit: plumbing.NewHash(bad)})
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Commit(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	// Someone else pushes between the commit and the push.
	w.write("k8s/other/values.yaml", "image:\n  tag: o2\n")
	theirs := w.commit("other: o2")
	err = v.Push(ctx, res)
	var moved *MovedError
	if !errors.As(err, &moved) || moved.Where != "remote" || moved.Now.String() != theirs || moved.Planned.String() != bad {
		t.Fatalf("Push after a concurrent push = %v, want a MovedError naming %s", err, theirs)
	}
	if got := w.git(w.remote, "rev-parse", "main"); got != theirs {
		t.Fatalf("remote main = %s, want the other push %s untouched", got, theirs)
	}
	w.git(w.remote, "fsck", "--no-dangling")
	// The clone, fetched, refuses to commit the stale plan; a new plan works.
	if _, err := w.clone.Fetch(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Commit(ctx, plan); !errors.As(err, &moved) || moved.Where != "clone" {
		t.Fatalf("Commit of a stale plan = %v, want MovedError in the clone", err)
	}
	plan2, err := v.Plan(ctx, plan.Request)
	if err != nil {
		t.Fatal(err)
	}
	res2, err := v.Commit(ctx, plan2)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Push(ctx, res2); err != nil {
		t.Fatal(err)
	}
	if got := w.git(w.remote, "rev-parse", "main^"); got != theirs {
		t.Errorf("the replanned revert's parent is %s, want %s", got, theirs)
	}
}

func TestHookRejectionKeepsTheCommitOnABranch(t *testing.T) {
	w, _, bad := bumpWorld(t)
	hook := filepath.Join(w.remote, "hooks", "pre-receive")
	script := "#!/bin/sh\nwhile read old new ref; do\n  if [ \"$ref\" = refs/heads/main ]; then echo 'main is protected: open a pull request' >&2; exit 1; fi\ndone\nexit 0\n"
	if err := os.WriteFile(hook, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	v := w.reverter(false)
	ctx := context.Background()
	plan, err := v.Plan(ctx, Request{App: "auth", Paths: []string{"k8s/auth"}, Commit: plumbing.NewHash(bad)})
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Commit(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	err = v.Push(ctx, res)
	var rejected *RejectedError
	if !errors.As(err, &rejected) || rejected.Branch != "main" {
		t.Fatalf("Push to a protected branch = %v, want RejectedError", err)
	}
	if got := w.git(w.remote, "rev-parse", "main"); got != bad {
		t.Fatalf("remote main moved to %s", got)
	}
	if res.LocalBranch != "fleetdeck/revert-auth-"+bad[:7] {
		t.Errorf("LocalBranch = %q", res.LocalBranch)
	}
	if err := v.PushBranch(ctx, res); err != nil {
		t.Fatal(err)
	}
	if got := w.git(w.remote, "rev-parse", "refs/heads/"+res.LocalBranch); got != res.Commit.String() {
		t.Errorf("remote %s = %s, want %s", res.LocalBranch, got, res.Commit)
	}
	// A second fallback push never overwrites the branch.
	if err := v.PushBranch(ctx, res); err != nil && !errors.As(err, &rejected) {
		t.Fatalf("second PushBranch = %v", err)
	}
}

func TestReadOnlyRefusesEveryWrite(t *testing.T) {
	w, _, bad := bumpWorld(t)
	ctx := context.Background()
	plan, err := w.reverter(true).Plan(ctx, Request{App: "auth", Paths: []string{"k8s/auth"}, Commit: plumbing.NewHash(bad)})
	if err != nil {
		t.Fatal(err) // planning writes nothing and stays allowed: it is the preview
	}
	ro := w.reverter(true)
	if _, err := ro.Commit(ctx, plan); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("Commit in read-only mode = %v", err)
	}
	res, err := w.reverter(false).Commit(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if err := ro.Push(ctx, res); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("Push in read-only mode = %v", err)
	}
	if err := ro.PushBranch(ctx, res); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("PushBranch in read-only mode = %v", err)
	}
	if got := w.git(w.remote, "rev-parse", "main"); got != bad {
		t.Fatalf("remote moved in read-only mode")
	}
}

// TestUserWorkTreeUntouched: a user's checkout with uncommitted work stays
// as it was, whether fleetdeck pushes to the shared remote or is pointed at
// the user's checkout itself (which refuses pushes to its checked-out branch).
func TestUserWorkTreeUntouched(t *testing.T) {
	w, _, bad := bumpWorld(t)
	user := filepath.Join(t.TempDir(), "user")
	w.git(w.work, "clone", "-q", w.remote, user)
	dirty := filepath.Join(user, "k8s", "auth", "values.yaml")
	if err := os.WriteFile(dirty, []byte("replicas: 3 # work in progress\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(user, "notes.txt"), []byte("untracked\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	status := w.git(user, "status", "--porcelain")

	v := w.reverter(false)
	ctx := context.Background()
	plan, err := v.Plan(ctx, Request{App: "auth", Paths: []string{"k8s/auth"}, Commit: plumbing.NewHash(bad)})
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Commit(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Push(ctx, res); err != nil {
		t.Fatal(err)
	}
	if got := w.git(user, "status", "--porcelain"); got != status {
		t.Errorf("user's status changed:\n%s\nwas:\n%s", got, status)
	}
	if b, _ := os.ReadFile(dirty); string(b) != "replicas: 3 # work in progress\n" {
		t.Errorf("user's file changed: %q", b)
	}
	if got := w.git(user, "rev-parse", "HEAD"); got != bad {
		t.Errorf("user's HEAD moved to %s", got)
	}

	// Pointed at the user's checkout: the push is refused, nothing changes there.
	w2 := &world{t: t, home: w.home, remote: user, work: w.work, cache: filepath.Join(t.TempDir(), "cache2")}
	w2.open()
	v2 := w2.reverter(false)
	plan2, err := v2.Plan(ctx, Request{App: "auth", Paths: []string{"k8s/auth"}, Commit: plumbing.NewHash(bad)})
	if err != nil {
		t.Fatal(err)
	}
	res2, err := v2.Commit(ctx, plan2)
	if err != nil {
		t.Fatal(err)
	}
	var rejected *RejectedError
	if err := v2.Push(ctx, res2); !errors.As(err, &rejected) {
		t.Fatalf("push into a checked-out branch = %v, want RejectedError", err)
	}
	if got := w.git(user, "status", "--porcelain"); got != status {
		t.Errorf("user's status changed:\n%s\nwas:\n%s", got, status)
	}
	if got := w.git(user, "rev-parse", "HEAD"); got != bad {
		t.Errorf("user's HEAD moved to %s", got)
	}
}

func TestPlanRefusals(t *testing.T) {
	w := newWorld(t)
	w.write("k8s/auth/values.yaml", "tag: a\nx: 1\n")
	base := w.commit("base")
	w.write("k8s/auth/values.yaml", "tag: b\nx: 1\n")
	bump := w.commit("bump")
	w.write("k8s/auth/values.yaml", "tag: c\nx: 1\n")
	w.commit("bump again")
	w.git(w.work, "checkout", "-q", "-b", "side", base)
	w.write("side.txt", "side\n")
	w.commitLocal("side")
	w.git(w.work, "checkout", "-q", "main")
	w.git(w.work, "merge", "-q", "--no-ff", "--no-edit", "side")
	merge := w.git(w.work, "rev-parse", "HEAD")
	w.git(w.work, "push", "-q", "origin", "main")
	w.open()
	v := w.reverter(false)
	ctx := context.Background()
	tests := []struct {
		name string
		q    Request
		want string
	}{
		{"conflict names the path", Request{App: "auth", Commit: plumbing.NewHash(bump)}, "conflicts in k8s/auth/values.yaml"},
		{"merge commit", Request{App: "auth", Commit: plumbing.NewHash(merge)}, "is a merge"},
		{"unknown commit", Request{App: "auth", Commit: plumbing.NewHash(strings.Repeat("ab", 20))}, "not in branch main's history"},
		{"both commit and to", Request{App: "auth", Commit: plumbing.NewHash(bump), To: plumbing.NewHash(base)}, "either a commit"},
		{"neither", Request{App: "auth"}, "either a commit"},
		{"no app", Request{Commit: plumbing.NewHash(bump)}, "no application"},
		{"rollback without paths", Request{App: "auth", To: plumbing.NewHash(base)}, "has no paths"},
		{"nothing to do", Request{App: "auth", Paths: []string{"side.txt"}, To: plumbing.NewHash(merge)}, "nothing to revert"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Plan(ctx, tt.q)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Plan = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	var ce *ConflictError
	if _, err := v.Plan(ctx, Request{App: "auth", Commit: plumbing.NewHash(bump)}); !errors.As(err, &ce) || len(ce.Paths) != 1 {
		t.Errorf("conflict error = %#v", err)
	}
}

func TestDefaultIdentity(t *testing.T) {
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, ".gitconfig"), []byte("[user]\n\tname = Grace Hopper\n\temail = grace@example.com\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"git config", map[string]string{"HOME": home, "USER": "ghopper"}, "Grace Hopper <grace@example.com>"},
		{"environment wins", map[string]string{"HOME": home, "GIT_AUTHOR_NAME": "CI Bot", "GIT_AUTHOR_EMAIL": "ci@example.com"}, "CI Bot <ci@example.com>"},
		{"user only", map[string]string{"HOME": t.TempDir(), "USER": "ops"}, "ops <ops@"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := DefaultIdentity(func(k string) string { return tt.env[k] })
			if err != nil || !strings.HasPrefix(id.String(), tt.want) {
				t.Fatalf("DefaultIdentity = %q, %v; want %q", id, err, tt.want)
			}
		})
	}
	if _, err := DefaultIdentity(func(string) string { return "" }); err == nil {
		t.Error("no identity at all was accepted")
	}
}
