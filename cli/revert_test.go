package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetdeck/fleetdeck/ui/historypane"
)

func (g *gitFleet) revert(t *testing.T, src appSource, gopts GlobalOptions, opts revertOptions, in string, terminal bool) (string, int) {
	t.Helper()
	old := stdinIsTerminal
	stdinIsTerminal = func(*IOStreams) bool { return terminal }
	defer func() { stdinIsTerminal = old }()
	return g.run(func(s *IOStreams, o *GlobalOptions) error {
		o.ReadOnly = gopts.ReadOnly
		return runRevert(context.Background(), s, o, &opts, "auth", src)
	}, in)
}

func (g *gitFleet) remoteHead() string { return g.git(g.remote, "rev-parse", "main") }

func TestRevertRefusals(t *testing.T) {
	g := newGitFleet(t, "")
	head := g.remoteHead()
	tests := []struct {
		name     string
		gopts    GlobalOptions
		opts     revertOptions
		terminal bool
		code     int
		want     string
	}{
		{"not a terminal", GlobalOptions{}, revertOptions{Push: true}, false, ExitError, "the input is not a terminal: pass --yes"},
		{"read-only flag", GlobalOptions{ReadOnly: true}, revertOptions{Yes: true, Push: true}, false, ExitError, "read-only mode"},
		{"commit and to", GlobalOptions{}, revertOptions{Yes: true, Commit: "abc1234", To: "abc1234"}, false, ExitError, "exclude each other"},
		{"dry run and push", GlobalOptions{}, revertOptions{DryRun: true, Push: true}, false, ExitError, "cannot --push"},
		{"unknown commit", GlobalOptions{}, revertOptions{Yes: true, Commit: "0000000"}, false, ExitError, "not a commit of branch main"},
		{"cancelled", GlobalOptions{}, revertOptions{Push: true}, true, ExitProblems, "cancelled: nothing was written"},
		{"conflict", GlobalOptions{}, revertOptions{Yes: true, Commit: g.shas["ci: bump auth to v1.4.2"]}, false, ExitProblems, "conflicts in k8s/auth/deployment.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, code := g.revert(t, g.source(nil), tt.gopts, tt.opts, "n\n", tt.terminal)
			if code != tt.code || !strings.Contains(got, tt.want) {
				t.Fatalf("exit %d:\n%s\nwant exit %d and %q", code, got, tt.code, tt.want)
			}
			if g.remoteHead() != head {
				t.Fatal("the remote moved")
			}
		})
	}
}

func TestRevertReadOnlyConfig(t *testing.T) {
	g := newGitFleet(t, "readOnly: true\n")
	got, code := g.revert(t, g.source(nil), GlobalOptions{}, revertOptions{Yes: true, Push: true}, "", false)
	if code != ExitError || !strings.Contains(got, "read-only mode") {
		t.Fatalf("exit %d:\n%s", code, got)
	}
	// A dry run writes nothing, so it stays allowed.
	got, code = g.revert(t, g.source(nil), GlobalOptions{}, revertOptions{DryRun: true}, "", false)
	if code != ExitOK || !strings.Contains(got, "+          image: registry.example/shop/auth:v1.4.2") {
		t.Fatalf("dry run in read-only mode: exit %d:\n%s", code, got)
	}
}

func TestRevertDryRun(t *testing.T) {
	g := newGitFleet(t, "")
	head := g.remoteHead()
	got, code := g.revert(t, g.source(nil), GlobalOptions{}, revertOptions{DryRun: true, Cluster: "staging"}, "", false)
	if code != ExitOK {
		t.Fatalf("exit %d:\n%s", code, got)
	}
	checkGoldenIn(t, "revert", "dry-run", got)
	if g.remoteHead() != head {
		t.Fatal("a dry run moved the remote")
	}
}

func TestRevertPush(t *testing.T) {
	g := newGitFleet(t, "")
	bad := g.shas["ci: bump auth to v1.5.0"]
	got, code := g.revert(t, g.source(nil), GlobalOptions{}, revertOptions{Yes: true, Push: true, Cluster: "staging", Reason: "crashloop"}, "", false)
	if code != ExitOK {
		t.Fatalf("exit %d:\n%s", code, got)
	}
	head := g.remoteHead()
	if !strings.Contains(got, head) || g.git(g.remote, "rev-parse", "main^") != bad {
		t.Fatalf("remote head %s, output:\n%s", head, got)
	}
	g.git(g.remote, "fsck", "--strict", "--no-dangling")
	msg := g.git(g.remote, "log", "-1", "--format=%B")
	for _, want := range []string{`Revert "ci: bump auth to v1.5.0"`, "staging: auth/app v1.5.0 → v1.4.2", "Reason: crashloop",
		"Reverts: " + bad, "Fleetdeck-App: auth", "Fleetdeck-Clusters: staging", "Fleetdeck-By: Ada Ops <ada@example.com>",
		"Fleetdeck-From: " + bad, "Fleetdeck-To: " + g.shas["docs: readme"]} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	// The tree is git revert's.
	g.git(g.work, "checkout", "-q", "--detach", bad)
	g.git(g.work, "revert", "--no-edit", bad)
	if a, b := g.git(g.work, "rev-parse", "HEAD^{tree}"), g.git(g.remote, "rev-parse", "main^{tree}"); a != b {
		t.Errorf("tree %s, git revert makes %s", b, a)
	}
}

func TestRevertInteractiveRollback(t *testing.T) {
	g := newGitFleet(t, "")
	to := g.shas["initial: auth v1.4.1, ledger l1"]
	got, code := g.revert(t, g.source(nil), GlobalOptions{}, revertOptions{To: to[:8], Push: true}, "y\n", true)
	if code != ExitOK {
		t.Fatalf("exit %d:\n%s", code, got)
	}
	if !strings.Contains(got, "Commit this revert and push it to main? [y/N]") {
		t.Errorf("no confirmation asked:\n%s", got)
	}
	if got := g.git(g.remote, "show", "main:k8s/auth/deployment.yaml"); got != sprintfDeploy("auth", "v1.4.1") {
		t.Errorf("auth not rolled back:\n%s", got)
	}
	if !strings.Contains(g.git(g.remote, "log", "-1", "--format=%s"), "Roll back auth to") {
		t.Errorf("subject %q", g.git(g.remote, "log", "-1", "--format=%s"))
	}
}

func sprintfDeploy(app, tag string) string {
	return strings.TrimSpace(strings.NewReplacer("%[1]s", app, "%[2]s", tag).Replace(deployment))
}

// TestRevertConcurrentPush: another push lands between the commit and the
// push. fleetdeck fetches, finds the revert still applies with the same diff
// on the new head, commits it there and pushes once more, without asking
// again; nothing is forced.
func TestRevertConcurrentPush(t *testing.T) {
	for _, interactive := range []bool{false, true} {
		t.Run(map[bool]string{false: "yes", true: "terminal"}[interactive], func(t *testing.T) {
			g := newGitFleet(t, "")
			bad := g.shas["ci: bump auth to v1.5.0"]
			var theirs string
			testHookBeforePush = func() {
				if theirs == "" {
					g.deploy("ledger", "l2")
					theirs = g.commit("ci: bump ledger to l2")
				}
			}
			defer func() { testHookBeforePush = nil }()
			opts := revertOptions{Push: true, Commit: bad}
			if !interactive {
				opts.Yes = true
			}
			got, code := g.revert(t, g.source(nil), GlobalOptions{}, opts, "y\n", interactive)
			if code != ExitOK {
				t.Fatalf("exit %d:\n%s", code, got)
			}
			head := g.remoteHead()
			for _, want := range []string{"the branch moved (someone pushed <ci: bump ledger to l2>); the revert still applies on the new head: pushed " + head[:7],
				"pushed " + head[:7] + " to main", head} {
				if !strings.Contains(got, want) {
					t.Errorf("output lacks %q:\n%s", want, got)
				}
			}
			if n := strings.Count(got, "Commit this revert and push it to main?"); n != map[bool]int{false: 0, true: 1}[interactive] {
				t.Errorf("asked %d times:\n%s", n, got)
			}
			if g.git(g.remote, "rev-parse", "main^") != theirs || g.git(g.remote, "rev-list", "--count", theirs+"..main") != "1" {
				t.Fatalf("the revert is not one commit on top of the other push:\n%s", g.git(g.remote, "log", "--oneline", "-3"))
			}
			if !strings.Contains(g.git(g.remote, "log", "-1", "--format=%B"), "Fleetdeck-From: "+theirs) {
				t.Errorf("message does not name the new head")
			}
			g.git(g.remote, "merge-base", "--is-ancestor", bad, "main")
			g.git(g.remote, "fsck", "--no-dangling")
		})
	}
}

// TestRevertConcurrentPushRefusals: the retry is not made when the other
// push conflicts with the revert or already reverted it; when it changed the
// reverted file elsewhere, a terminal is shown the new diff and asked again,
// and --yes stops. Nothing is pushed that the user did not confirm.
func TestRevertConcurrentPushRefusals(t *testing.T) {
	tests := []struct {
		name        string
		interactive bool
		other       func(g *gitFleet) string
		code        int
		want        []string
	}{
		{"conflict", false, func(g *gitFleet) string {
			g.deploy("auth", "v1.6.0")
			return g.commit("ci: bump auth to v1.6.0")
		}, ExitProblems, []string{"someone pushed <ci: bump auth to v1.6.0>", "no longer applies cleanly", "conflicts in k8s/auth/deployment.yaml", "Nothing was pushed"}},
		{"already reverted", false, func(g *gitFleet) string {
			g.deploy("auth", "v1.4.2")
			return g.commit("revert auth to v1.4.2 by hand")
		}, ExitProblems, []string{"someone pushed <revert auth to v1.4.2 by hand>", "already reverted", "nothing was pushed"}},
		{"diff changed, --yes", false, replicas3, ExitProblems, []string{"someone pushed <auth: 3 replicas>", "also changed k8s/auth/deployment.yaml", "review the revert again"}},
		{"diff changed, terminal", true, replicas3, ExitOK, []string{"also changed k8s/auth/deployment.yaml", "planning again on <auth: 3 replicas>", "pushed "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGitFleet(t, "")
			bad := g.shas["ci: bump auth to v1.5.0"]
			var theirs string
			testHookBeforePush = func() {
				if theirs == "" {
					theirs = tt.other(g)
				}
			}
			defer func() { testHookBeforePush = nil }()
			opts := revertOptions{Push: true, Commit: bad, Yes: !tt.interactive}
			got, code := g.revert(t, g.source(nil), GlobalOptions{}, opts, "y\ny\n", tt.interactive)
			if code != tt.code {
				t.Fatalf("exit %d, want %d:\n%s", code, tt.code, got)
			}
			for _, want := range tt.want {
				if !strings.Contains(got, want) {
					t.Errorf("output lacks %q:\n%s", want, got)
				}
			}
			g.git(g.remote, "fsck", "--no-dangling")
			if tt.code != ExitOK {
				if g.remoteHead() != theirs {
					t.Fatalf("remote main %s, want the other push %s untouched", g.remoteHead(), theirs)
				}
				return
			}
			// Asked again with the new diff, then pushed on the other commit.
			if n := strings.Count(got, "Commit this revert and push it to main?"); n != 2 {
				t.Errorf("asked %d times, want 2:\n%s", n, got)
			}
			if !strings.Contains(got, "on branch main at <auth: 3 replicas>") {
				t.Errorf("the revert on the new head was not shown:\n%s", got)
			}
			if g.git(g.remote, "rev-parse", "main^") != theirs {
				t.Fatalf("the revert is not on top of the other push")
			}
			if show := g.git(g.remote, "show", "main:k8s/auth/deployment.yaml"); !strings.Contains(show, "replicas: 3") || !strings.Contains(show, ":v1.4.2") {
				t.Errorf("deployment after the revert:\n%s", show)
			}
		})
	}
}

// replicas3 is another push changing the reverted file on another line.
func replicas3(g *gitFleet) string {
	g.t.Helper()
	p := filepath.Join(g.work, "k8s", "auth", "deployment.yaml")
	b, err := os.ReadFile(p)
	if err != nil {
		g.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(b), "replicas: 2", "replicas: 3", 1)), 0o644); err != nil {
		g.t.Fatal(err)
	}
	return g.commit("auth: 3 replicas")
}

// TestRevertBranchMovedBeforeCommit: the remote moves while the user reads
// the diff. The same diff on the new head is committed there without asking
// again.
func TestRevertBranchMovedBeforeCommit(t *testing.T) {
	g := newGitFleet(t, "")
	bad := g.shas["ci: bump auth to v1.5.0"]
	var theirs string
	testHookBeforeCommit = func() {
		if theirs == "" {
			g.deploy("ledger", "l2")
			theirs = g.commit("ci: bump ledger to l2")
		}
	}
	defer func() { testHookBeforeCommit = nil }()
	got, code := g.revert(t, g.source(nil), GlobalOptions{}, revertOptions{Push: true, Commit: bad}, "y\n", true)
	if code != ExitOK {
		t.Fatalf("exit %d:\n%s", code, got)
	}
	if !strings.Contains(got, "the branch moved (someone pushed <ci: bump ledger to l2>); the revert still applies on the new head, with the same diff") ||
		strings.Count(got, "Commit this revert and push it to main?") != 1 {
		t.Errorf("output:\n%s", got)
	}
	if g.git(g.remote, "rev-parse", "main^") != theirs {
		t.Fatalf("the revert is not on top of the other push")
	}
}

func TestRevertOtherApps(t *testing.T) {
	g := newGitFleet(t, "")
	g.deploy("auth", "v1.6.0")
	g.deploy("ledger", "l3")
	both := g.commit("ci: bump auth and ledger")
	head := g.remoteHead()
	got, code := g.revert(t, g.source(nil), GlobalOptions{}, revertOptions{Yes: true, Push: true, Commit: both}, "", false)
	if code != ExitProblems || !strings.Contains(got, "also changed k8s/ledger/deployment.yaml") || g.remoteHead() != head {
		t.Fatalf("exit %d:\n%s", code, got)
	}
	got, code = g.revert(t, g.source(nil), GlobalOptions{}, revertOptions{Yes: true, Push: true, Commit: both, AppOnly: true}, "", false)
	if code != ExitOK {
		t.Fatalf("exit %d:\n%s", code, got)
	}
	if files := g.git(g.remote, "diff", "--name-only", head, "main"); files != "k8s/auth/deployment.yaml" {
		t.Fatalf("app-only revert changed %q", files)
	}
}

func TestRevertRejectedPushUsesABranch(t *testing.T) {
	g := newGitFleet(t, "")
	hook := "#!/bin/sh\nwhile read old new ref; do [ \"$ref\" = refs/heads/main ] && { echo 'main is protected' >&2; exit 1; }; done; exit 0\n"
	if err := os.WriteFile(filepath.Join(g.remote, "hooks", "pre-receive"), []byte(hook), 0o755); err != nil {
		t.Fatal(err)
	}
	head := g.remoteHead()
	got, code := g.revert(t, g.source(nil), GlobalOptions{}, revertOptions{Yes: true, Push: true}, "", false)
	if code != ExitProblems || !strings.Contains(got, "open a pull (merge) request from fleetdeck/revert-auth-") {
		t.Fatalf("exit %d:\n%s", code, got)
	}
	if g.remoteHead() != head {
		t.Fatal("main moved despite the hook")
	}
	branch := "fleetdeck/revert-auth-" + g.shas["ci: bump auth to v1.5.0"][:7]
	if g.git(g.remote, "rev-parse", branch+"^") != head {
		t.Fatalf("branch %s is not one commit on main", branch)
	}
}

// TestTUIHistoryApplyAfterTheBranchMoved: the history pane's backend
// follows the same rules as the verb. A move since the preview that leaves
// the diff alone, and another push winning the race inside the push, both
// end with the revert on the new head; a move that changed the reverted file
// asks for a new review, nothing written.
func TestTUIHistoryApplyAfterTheBranchMoved(t *testing.T) {
	getenv := func(k string) string {
		return map[string]string{"GIT_AUTHOR_NAME": "Ada Ops", "GIT_AUTHOR_EMAIL": "ada@example.com"}[k]
	}
	ctx := context.Background()
	tests := []struct {
		name    string
		move    func(g *gitFleet) // between the preview and Apply
		race    bool              // another push lands during fleetdeck's
		want    string
		refused bool
	}{
		{"moved since the preview", func(g *gitFleet) {
			g.deploy("ledger", "l2")
			g.commit("ci: bump ledger to l2")
		}, false, "the branch moved (someone pushed <ci: bump ledger to l2>); the revert still applies on the new head; pushed", false},
		{"race inside the push", nil, true, "the revert still applies on the new head: pushed", false},
		{"diff changed since the preview", func(g *gitFleet) { replicas3(g) }, false, "review the revert again", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGitFleet(t, "")
			bad := g.shas["ci: bump auth to v1.5.0"]
			h := newTUIHistory(g.source(nil), false, getenv)
			if pv, err := h.Preview(ctx, "auth", bad, historypane.Revert); err != nil || pv.Err != "" {
				t.Fatalf("Preview = %+v, %v", pv, err)
			}
			if tt.move != nil {
				tt.move(g)
			}
			if tt.race {
				// The remote's hook commits on main first, once: the pushed update fails to lock the ref.
				hook := "#!/bin/sh\nwhile read old new ref; do\n  [ \"$ref\" = refs/heads/main ] && [ ! -e raced ] || continue\n  touch raced\n" +
					"  unset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES\n" +
					"  c=$(echo 'other: race' | git commit-tree \"$old^{tree}\" -p \"$old\")\n  git update-ref refs/heads/main \"$c\" \"$old\"\ndone\nexit 0\n"
				if err := os.WriteFile(filepath.Join(g.remote, "hooks", "pre-receive"), []byte(hook), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			before := g.remoteHead()
			res, err := h.Apply(ctx, "auth", bad, historypane.Revert, "crashloop", true)
			if tt.refused {
				if err == nil || !strings.Contains(g.anonymise(err.Error()), tt.want) {
					t.Fatalf("Apply = %+v, %v; want an error containing %q", res, err, tt.want)
				}
				if g.remoteHead() != before {
					t.Fatal("the remote moved")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if msg := g.anonymise(res.Message); !strings.Contains(msg, tt.want) || res.Pushed != "main" {
				t.Errorf("Apply = %+v; want a message containing %q", res, tt.want)
			}
			head := g.remoteHead()
			theirs := g.git(g.remote, "rev-parse", "main^")
			if head != res.Commit || theirs == bad || g.git(g.remote, "rev-list", "--count", bad+"..main") != "2" {
				t.Fatalf("remote history:\n%s\nresult %+v", g.git(g.remote, "log", "--oneline", "-3"), res)
			}
			if !strings.Contains(g.git(g.remote, "log", "-1", "--format=%B"), "Fleetdeck-From: "+theirs) {
				t.Errorf("the revert does not name its new parent")
			}
			g.git(g.remote, "fsck", "--no-dangling")
		})
	}
}
