// Package integration reverts the sandbox fleet's bad image bump with the
// real verbs: history shows it live on its cluster, revert --push writes one
// commit on the monorepo's remote, and the stand-in operator's sync makes the
// crash loop go away.
package integration

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/fleetdeck/fleetdeck/cli"
	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/sandboxtest"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

func TestMain(m *testing.M) { sandboxtest.Main(m) }

// fleetdeck runs a verb in this process with a private git cache.
func fleetdeck(t *testing.T, cache string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	getenv := func(k string) string {
		switch k {
		case "XDG_CACHE_HOME":
			return cache
		case "GIT_AUTHOR_NAME":
			return "On Call"
		case "GIT_AUTHOR_EMAIL":
			return "oncall@example.com"
		}
		return os.Getenv(k)
	}
	var out, errOut bytes.Buffer
	streams := &cli.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, Getenv: getenv}
	code = cli.Main(streams, args)
	return out.String(), errOut.String(), code
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func badBump(t *testing.T) scenario.Problem {
	for _, p := range scenario.Problems {
		if p.Kind == scenario.BadBump {
			return p
		}
	}
	t.Fatal("the scenario has no bad bump")
	return scenario.Problem{}
}

func TestRevertBadBumpHealsTheApp(t *testing.T) {
	f := sandboxtest.Fleet(t)
	p := badBump(t)
	cache := t.TempDir()
	oldHead := git(t, f.RemoteDir, "rev-parse", scenario.Branch)

	// history: the bad bump is the newest commit, live on its cluster, and
	// it set the bad tag.
	out, errOut, code := fleetdeck(t, cache, "history", p.App, "--cluster", p.Cluster, "-o", "json", "-n", "5", "--config", f.ConfigPath)
	if code != cli.ExitOK {
		t.Fatalf("history exit %d: %s", code, errOut)
	}
	var h cli.HistoryReport
	if err := json.Unmarshal([]byte(out), &h); err != nil {
		t.Fatalf("history -o json: %v\n%s", err, out)
	}
	if len(h.Commits) == 0 || h.Commits[0].SHA != f.Repo.BadBumpCommit || !h.Commits[0].Head {
		t.Fatalf("history does not start with the bad bump %s at HEAD: %+v", f.Repo.BadBumpCommit, h.Commits)
	}
	first := h.Commits[0]
	found := false
	for _, im := range first.Images {
		if im.Cluster == p.Cluster && im.FromTag == f.Repo.GoodTagBeforeBad && im.ToTag == f.Repo.BadTag {
			found = true
		}
	}
	if !found {
		t.Errorf("the bad bump's image change %s → %s is not listed: %+v", f.Repo.GoodTagBeforeBad, f.Repo.BadTag, first.Images)
	}
	if len(first.LiveOn) == 0 || first.LiveOn[0] != p.Cluster {
		t.Errorf("the bad bump is not marked live on %s: %+v", p.Cluster, first.LiveOn)
	}

	// revert --push: exactly one commit on the remote, on the old head.
	start := time.Now()
	out, errOut, code = fleetdeck(t, cache, "revert", p.App, "--cluster", p.Cluster, "--push", "--yes",
		"--reason", "crash loop after the bump", "--config", f.ConfigPath)
	if code != cli.ExitOK {
		t.Fatalf("revert exit %d:\n%s\n%s", code, out, errOut)
	}
	newHead := git(t, f.RemoteDir, "rev-parse", scenario.Branch)
	// stdout is the diff, then the pushed commit.
	if lines := strings.Split(strings.TrimSpace(out), "\n"); lines[len(lines)-1] != newHead {
		t.Errorf("revert printed %q last, remote head is %s", lines[len(lines)-1], newHead)
	}
	if got := git(t, f.RemoteDir, "rev-list", "--count", oldHead+".."+scenario.Branch); got != "1" {
		t.Fatalf("the remote gained %s commits, want 1", got)
	}
	if got := git(t, f.RemoteDir, "rev-parse", scenario.Branch+"^"); got != oldHead {
		t.Fatalf("the revert's parent is %s, want the old head %s", got, oldHead)
	}
	if got := git(t, f.RemoteDir, "log", "-1", "--format=%(trailers:key=Reverts,valueonly)"); got != f.Repo.BadBumpCommit {
		t.Errorf("Reverts trailer %q, want %s", got, f.Repo.BadBumpCommit)
	}
	git(t, f.RemoteDir, "fsck", "--no-dangling")

	// The stand-in operator syncs the pushed revert: the app turns Healthy.
	deadline := time.Now().Add(30 * time.Second)
	var last string
	for {
		out, _, _ = fleetdeck(t, cache, "status", "--app", p.App, "--cluster", p.Cluster, "-o", "json", "--config", f.ConfigPath)
		var rep cli.StatusReport
		if err := json.Unmarshal([]byte(out), &rep); err == nil && len(rep.Apps) == 1 && len(rep.Apps[0].Instances) == 1 {
			in := rep.Apps[0].Instances[0]
			last = string(in.Health.Status) + " " + string(in.Sync.Status) + " live " + in.Revision.Live
			if in.Health.Status == fleet.Healthy && strings.HasPrefix(newHead, in.Revision.Live) && in.Revision.Live != "" {
				t.Logf("Healthy at the revert %s %.1fs after the revert started", newHead[:7], time.Since(start).Seconds())
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/%s not Healthy at the revert within 30s: %s", p.App, p.Cluster, last)
		}
		time.Sleep(time.Second)
	}
}
