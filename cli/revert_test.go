package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
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

// TestRevertConcurrentPush: the remote moves between the commit and the
// push. With --yes, nothing is pushed and the verb says why; on a terminal,
// fleetdeck plans again on the new head and asks again.
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
			got, code := g.revert(t, g.source(nil), GlobalOptions{}, opts, "y\ny\n", interactive)
			if !interactive {
				if code != ExitProblems || !strings.Contains(got, "moved on the remote") || !strings.Contains(got, "nothing was pushed") {
					t.Fatalf("exit %d:\n%s", code, got)
				}
				if g.remoteHead() != theirs {
					t.Fatalf("remote main %s, want the other push %s", g.remoteHead(), theirs)
				}
				return
			}
			if code != ExitOK || strings.Count(got, "Commit this revert and push it to main?") != 2 {
				t.Fatalf("exit %d (want 0 after asking twice):\n%s", code, got)
			}
			if g.git(g.remote, "rev-parse", "main^") != theirs {
				t.Fatalf("the revert is not on top of the other push")
			}
			g.git(g.remote, "fsck", "--no-dangling")
		})
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
