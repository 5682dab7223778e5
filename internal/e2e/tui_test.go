package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fleetdeck/fleetdeck/internal/sandbox/sandboxtest"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

// Terminal size of the test: wide enough for the tree and the details pane side by side.
const (
	termWidth  = 160
	termHeight = 48
)

// buildFleetdeck builds the fleetdeck binary into a temporary directory, so the test runs what
// a user runs.
func buildFleetdeck(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build fleetdeck: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "fleetdeck")
	cmd := exec.Command(goBin, "build", "-o", bin, "github.com/fleetdeck/fleetdeck")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build fleetdeck: %v\n%s", err, out)
	}
	return bin
}

var rowName = regexp.MustCompile(`^\s*\S?\s*\S?\s*[▸▾]\s+(\S+)`)

// treeLeft is the tree's part of a screen line: the details pane, when shown, starts at the
// first vertical bar.
func treeLeft(line string) string {
	if i := strings.Index(line, "│"); i >= 0 {
		return line[:i]
	}
	return line
}

// treeApps lists the applications of the tree in screen order. Lines 0 and 1 are the header
// and the clusters' states; the last line is the key help.
func treeApps(screen []string) []string {
	var apps []string
	for i := 2; i < len(screen)-1; i++ {
		m := rowName.FindStringSubmatch(treeLeft(screen[i]))
		if m == nil {
			continue
		}
		if _, ok := scenario.AppByName(m[1]); ok && !slices.Contains(apps, m[1]) {
			apps = append(apps, m[1])
		}
	}
	return apps
}

// allApps says whether the tree shows every application of the scenario.
func allApps(screen []string) bool {
	shown := treeApps(screen)
	for _, a := range scenario.Apps {
		if !slices.Contains(shown, a.Name) {
			return false
		}
	}
	return true
}

// clustersSynced says whether the header shows every cluster synced.
func clustersSynced(screen []string) bool {
	if len(screen) < 2 {
		return false
	}
	for _, c := range scenario.Clusters {
		if !strings.Contains(screen[1], c+" synced") {
			return false
		}
	}
	return true
}

// problemsFirst says whether every application with an injected problem is above every
// application without one.
func problemsFirst(screen []string) bool {
	return problemOrderError(treeApps(screen)) == ""
}

func problemOrderError(apps []string) string {
	lastProblem, firstHealthy := -1, len(apps)
	for i, a := range apps {
		if hasProblem(a) {
			lastProblem = max(lastProblem, i)
		} else {
			firstHealthy = min(firstHealthy, i)
		}
	}
	if lastProblem > firstHealthy {
		return apps[firstHealthy] + " (no problem) is above " + apps[lastProblem] + " (has a problem)"
	}
	return ""
}

func hasProblem(app string) bool {
	return slices.ContainsFunc(scenario.Problems, func(p scenario.Problem) bool { return p.App == app })
}

func contains(screen []string, s string) bool {
	return strings.Contains(strings.Join(screen, "\n"), s)
}

// TestTUIInTerminal runs `fleetdeck` in tmux against the sandbox fleet, as a user would: the
// first screen, the tree's order, the crashlooping instance, help, filter and quitting.
func TestTUIInTerminal(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (Debian package tmux: apt-get install tmux); the terminal end-to-end test needs it")
	}
	f := sandboxtest.Fleet(t)
	bin := buildFleetdeck(t)

	env := []string{
		"TERM=tmux-256color",
		"XDG_CACHE_HOME=" + t.TempDir(), // a private git cache: the first screen includes the clone
		"FLEETDECK_CONFIG=" + f.ConfigPath,
		"NO_COLOR=",
	}
	start := time.Now()
	term := startTerminal(t, termWidth, termHeight, env, bin)

	// The first frame: every cluster is listed (connecting at first) before any answer.
	term.waitFor("the header with every cluster", 30*time.Second, func(s []string) bool {
		for _, c := range scenario.Clusters {
			if !contains(s, c) {
				return false
			}
		}
		return true
	})
	firstFrame := time.Since(start)
	term.waitFor("every cluster synced and every application", 2*time.Minute, func(s []string) bool {
		return clustersSynced(s) && allApps(s)
	})
	allShown := time.Since(start)
	screen := term.waitFor("the applications with problems above the others", time.Minute, problemsFirst)
	complete := time.Since(start)
	t.Logf("start to first frame %s, to every cluster synced and every app shown %s, to the first complete screen (problems first) %s",
		firstFrame.Round(time.Millisecond), allShown.Round(time.Millisecond), complete.Round(time.Millisecond))

	t.Run("tree", func(t *testing.T) {
		apps := treeApps(screen)
		if len(apps) != len(scenario.Apps) {
			t.Errorf("tree shows %d applications %v, want the scenario's %d", len(apps), apps, len(scenario.Apps))
		}
		if msg := problemOrderError(apps); msg != "" {
			t.Errorf("not worst first: %s; order %v", msg, apps)
		}
		if !hasProblem(apps[0]) {
			t.Errorf("the first row, %s, has no injected problem", apps[0])
		}
	})

	t.Run("worst app's details from launch", func(t *testing.T) {
		// Side by side, the selection's details are on the first screen: no key is needed.
		reachWorstDetails(t, term, screen, "", func(s []string, app string) bool {
			d := detailsRight(s)
			return len(d) > 0 && strings.HasPrefix(d[0], app) && contains(d, "(worst instance)")
		})
	})

	t.Run("crashlooping instance degraded", func(t *testing.T) {
		var bad scenario.Problem
		for _, p := range scenario.Problems {
			if p.Kind == scenario.BadBump {
				bad = p
			}
		}
		// Filter to the app, keep the filter, expand it: one row per cluster.
		term.keys("/")
		term.typeText(bad.App)
		term.keys("Enter")
		term.waitFor("only "+bad.App, 10*time.Second, func(s []string) bool {
			apps := treeApps(s)
			return len(apps) == 1 && apps[0] == bad.App
		})
		term.keys("Right")
		term.waitFor("the instance on "+bad.Cluster, 10*time.Second, func(s []string) bool {
			return instanceRow(s, bad.Cluster) != ""
		})
		// The operator reports Degraded once the Deployment passes its progress deadline (60s
		// in the monorepo) with the new pod crashlooping; before that it reads Progressing. The
		// screen must turn without a key pressed.
		s := term.waitFor(bad.App+" on "+bad.Cluster+" marked Degraded", 3*time.Minute, func(s []string) bool {
			return strings.Contains(instanceRow(s, bad.Cluster), "Degraded")
		})
		for _, c := range scenario.Clusters {
			if c == bad.Cluster || !slices.Contains(mapKeys(bad.App), c) {
				continue
			}
			if row := instanceRow(s, c); strings.Contains(row, "Degraded") {
				t.Errorf("%s on %s has no injected problem but is marked Degraded: %s", bad.App, c, row)
			}
		}
		term.keys("Escape")
		term.waitFor("every application again", 10*time.Second, allApps)
	})

	t.Run("problems only", func(t *testing.T) {
		var problems, healthy []string
		for _, a := range scenario.Apps {
			if hasProblem(a.Name) {
				problems = append(problems, a.Name)
			} else {
				healthy = append(healthy, a.Name)
			}
		}
		term.keys("p")
		s := term.waitFor("only the applications with problems", 10*time.Second, func(s []string) bool {
			apps := treeApps(s)
			slices.Sort(apps)
			return slices.Equal(apps, slices.Sorted(slices.Values(problems)))
		})
		if !strings.Contains(s[len(s)-1], "problems only") {
			t.Errorf("the footer does not say problems only: %q", s[len(s)-1])
		}
		t.Logf("problems only hides %v", healthy)
		term.keys("p")
		s = term.waitFor("every application after problems only is off", 10*time.Second, allApps)
		if strings.Contains(s[len(s)-1], "[problems only]") {
			t.Errorf("the footer still says problems only: %q", s[len(s)-1])
		}
	})

	t.Run("live on "+scenario.ProdUS, func(t *testing.T) {
		app, _ := scenario.AppByName(scenario.HealthyApp)
		testLive(t, f, term, app, scenario.ProdUS)
	})

	t.Run("help", func(t *testing.T) {
		term.keys("?")
		s := term.waitFor("the help screen", 10*time.Second, func(s []string) bool {
			return contains(s, "close help") && contains(s, "Symbols")
		})
		for _, want := range []string{"quit", "filter", "problems only", "Degraded", "DRIFT"} {
			if !contains(s, want) {
				t.Errorf("help lacks %q:\n%s", want, strings.Join(s, "\n"))
			}
		}
		term.keys("Escape")
		term.waitFor("the tree after closing help", 10*time.Second, func(s []string) bool {
			return !contains(s, "close help") && allApps(s)
		})
	})

	t.Run("filter", func(t *testing.T) {
		term.keys("/")
		term.typeText("notif")
		s := term.waitFor("the filtered tree", 10*time.Second, func(s []string) bool {
			apps := treeApps(s)
			return len(apps) == 1 && apps[0] == scenario.NotificationWorker
		})
		if !contains(s, "/notif") {
			t.Errorf("the filter line does not show what was typed:\n%s", strings.Join(s, "\n"))
		}
		term.keys("Escape")
		term.waitFor("every application after clearing the filter", 10*time.Second, allApps)
	})

	t.Run("quit", func(t *testing.T) {
		quit(t, term)
		left, err := processesOf(bin)
		if err != nil {
			t.Fatal(err)
		}
		if len(left) > 0 {
			t.Errorf("processes of %s left after quitting: %v", bin, left)
		}
	})
}

// detailsRight is the details pane of a side-by-side screen: the body lines right of the
// divider, without the space after it.
func detailsRight(screen []string) []string {
	var out []string
	for _, line := range screen[2 : len(screen)-1] {
		_, right, ok := strings.Cut(line, "│")
		if !ok {
			return nil
		}
		out = append(out, strings.TrimPrefix(right, " "))
	}
	return out
}

// instanceRow is the tree row of the expanded app's instance on cluster ("" when not shown).
func instanceRow(screen []string, cluster string) string {
	re := regexp.MustCompile(`[▸▾]\s+` + regexp.QuoteMeta(cluster) + `\s`)
	for _, line := range screen[2 : len(screen)-1] {
		if left := treeLeft(line); re.MatchString(left) {
			return strings.TrimRight(left, " ")
		}
	}
	return ""
}

// mapKeys lists the clusters app runs on.
func mapKeys(app string) []string {
	a, _ := scenario.AppByName(app)
	var cs []string
	for c := range a.Instances {
		cs = append(cs, c)
	}
	return cs
}

// TestTUIWorstDetailsCompact checks, in the single-pane layout of a 60-column terminal where
// the details are not on the first screen, that the worst application's details are at most
// two key presses from launch.
func TestTUIWorstDetailsCompact(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (Debian package tmux: apt-get install tmux); the terminal end-to-end test needs it")
	}
	f := sandboxtest.Fleet(t)
	bin := buildFleetdeck(t)
	env := []string{"TERM=tmux-256color", "XDG_CACHE_HOME=" + t.TempDir(), "FLEETDECK_CONFIG=" + f.ConfigPath, "NO_COLOR="}
	start := time.Now()
	term := startTerminal(t, 60, 20, env, bin)
	s := term.waitFor("every application, problems first", 2*time.Minute, func(s []string) bool {
		return allApps(s) && problemsFirst(s)
	})
	t.Logf("start to the first complete screen at 60x20: %s", time.Since(start).Round(time.Millisecond))
	// tab shows the details pane of the selection in place of the tree.
	reachWorstDetails(t, term, s, "Tab", func(s []string, app string) bool {
		return strings.HasPrefix(strings.TrimSpace(s[2]), app) && contains(s, "(worst instance)")
	})
	quit(t, term)
}

// reachWorstDetails checks that the first screen selects the worst application, the first of
// the tree, and that its details are shown (detailsShown) after pressing detailsKey, if any:
// at most two key presses from launch, as a user in an incident needs. When the selection is
// elsewhere the test fails, and goes on with g (top) to count what a user would press.
func reachWorstDetails(t *testing.T, term *terminal, first []string, detailsKey string, detailsShown func(s []string, app string) bool) {
	t.Helper()
	apps := treeApps(first)
	if len(apps) == 0 {
		t.Fatalf("no application on the first screen:\n%s", strings.Join(first, "\n"))
	}
	worst := apps[0]
	var presses []string
	if m := rowName.FindStringSubmatch(cursorRow(first)); m == nil || m[1] != worst {
		t.Errorf("the first screen selects %q, want the worst application %s (the first row)", cursorRow(first), worst)
		presses = append(presses, "g")
		term.keys("g")
		term.waitFor(worst+" selected", 10*time.Second, func(s []string) bool {
			m := rowName.FindStringSubmatch(cursorRow(s))
			return m != nil && m[1] == worst
		})
	}
	if detailsKey != "" {
		presses = append(presses, detailsKey)
		term.keys(detailsKey)
	}
	term.waitFor(worst+"'s details after "+strconv.Itoa(len(presses))+" key presses", 10*time.Second, func(s []string) bool {
		return detailsShown(s, worst)
	})
	w, h := term.size()
	t.Logf("from launch at %dx%d, %s's details take %d key presses %v", w, h, worst, len(presses), presses)
	if len(presses) > 2 {
		t.Errorf("%d key presses %v from launch to %s's details, want ≤ 2", len(presses), presses, worst)
	}
}

// quit presses q and waits until fleetdeck has exited with status 0 and its process is gone.
func quit(t *testing.T, term *terminal) {
	t.Helper()
	pid, _, _ := term.pane()
	term.keys("q")
	deadline := time.Now().Add(15 * time.Second)
	for {
		// The pane is dead when the terminal closes; its status is known once tmux has reaped
		// the process, which may be a moment later.
		_, dead, status := term.pane()
		if dead && status >= 0 {
			if status != 0 {
				t.Errorf("fleetdeck exited with status %d, want 0", status)
			}
			break
		}
		if dead && exited(pid) {
			// tmux 3.3 sometimes leaves a pane's exited process unreaped for a long while (seen
			// after a push from the history pane; a shell reaps it at once): the process has
			// ended, only its status is not known.
			t.Logf("fleetdeck (pid %d) exited; tmux has not reaped it yet, so its status is unknown", pid)
			return
		}
		if time.Now().After(deadline) {
			// Ask the Go runtime where it is stuck: SIGQUIT prints every goroutine.
			_ = syscall.Kill(pid, syscall.SIGQUIT)
			time.Sleep(time.Second)
			dump := term.run("capture-pane", "-p", "-J", "-S", "-2000", "-t", term.target)
			ps, _ := exec.Command("ps", "-eo", "pid,ppid,stat,tty,args").CombinedOutput()
			t.Fatalf("fleetdeck (pid %d) still runs 15s after q; its goroutines:\n%s\nprocesses:\n%s", pid, dump, ps)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join("/proc", strconv.Itoa(pid))); err == nil {
		t.Errorf("the pane's process %d still exists after quitting", pid)
	}
}

// exited says whether process pid has ended: gone, or a zombie waiting to be reaped.
func exited(pid int) bool {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return true
	}
	// The state follows the command name in parentheses: "1234 (fleetdeck) Z …".
	_, rest, ok := strings.Cut(string(stat), ") ")
	return ok && strings.HasPrefix(rest, "Z")
}

// TestTUIRevertBadBump: from launch, the crashlooping app's bad image bump is reverted and
// pushed from the history pane in at most six key presses, confirmation included; the remote
// branch gains exactly that one commit on the old head, the app row says the revert is
// waiting for sync, and the stand-in operator rolls the app back to Healthy.
//
// It changes the fleet (the bad bump is undone), so it is the last test of the package.
func TestTUIRevertBadBump(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (Debian package tmux: apt-get install tmux); the terminal end-to-end test needs it")
	}
	f := sandboxtest.Fleet(t)
	bin := buildFleetdeck(t)
	var bad scenario.Problem
	for _, p := range scenario.Problems {
		if p.Kind == scenario.BadBump {
			bad = p
		}
	}
	git := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("git", append([]string{"-C", f.RemoteDir}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	before := git("rev-parse", scenario.Branch)

	env := []string{"TERM=tmux-256color", "XDG_CACHE_HOME=" + t.TempDir(), "FLEETDECK_CONFIG=" + f.ConfigPath, "NO_COLOR=",
		"GIT_AUTHOR_NAME=On Call", "GIT_AUTHOR_EMAIL=oncall@example.com", "GIT_COMMITTER_NAME=On Call", "GIT_COMMITTER_EMAIL=oncall@example.com"}
	term := startTerminal(t, termWidth, termHeight, env, bin)
	s := term.waitFor("every application, problems first", 2*time.Minute, func(s []string) bool {
		return clustersSynced(s) && allApps(s) && problemsFirst(s)
	})

	var presses []string
	press := func(k string) {
		presses = append(presses, k)
		term.keys(k)
	}
	// Down to the crashlooping app: the user reads the tree and presses j as often as needed.
	apps := treeApps(s)
	at := slices.Index(apps, bad.App)
	if at < 0 {
		t.Fatalf("%s is not in the tree %v", bad.App, apps)
	}
	selected := func(s []string) bool {
		m := rowName.FindStringSubmatch(cursorRow(s))
		return m != nil && m[1] == bad.App
	}
	for i := 0; !selected(term.screen()) && i < at; i++ {
		press("j")
		time.Sleep(100 * time.Millisecond)
	}
	term.waitFor(bad.App+" selected", 10*time.Second, selected)
	press("H")
	short := f.Repo.BadBumpCommit[:7]
	term.waitFor("the history pane with the bad bump newest and selected", 30*time.Second, func(s []string) bool {
		for _, l := range s {
			if strings.Contains(l, "▸ "+short) {
				return true
			}
		}
		return false
	})
	press("r")
	term.waitFor("the revert dialog with its diff", 30*time.Second, func(s []string) bool {
		return contains(s, "Revert "+short) && contains(s, "tag: "+f.Repo.BadTag) && contains(s, "commit and push")
	})
	press("p")
	done := term.waitFor("the revert pushed", 60*time.Second, func(s []string) bool {
		return contains(s, "and pushed it to "+scenario.Branch)
	})
	t.Logf("from launch, %d key presses %v revert %s on %s and push it", len(presses), presses, short, bad.Cluster)
	if len(presses) > 6 {
		t.Errorf("%d key presses %v from launch to the pushed revert, want ≤ 6", len(presses), presses)
	}

	// Exactly one new commit on the remote, on the old head, saying what it reverts.
	after := git("rev-parse", scenario.Branch)
	if parent := git("rev-parse", after+"^"); parent != before {
		t.Errorf("the remote's new head %s has parent %s, want the old head %s (one commit, nothing forced)", after, parent, before)
	}
	msg := git("log", "-1", "--format=%B", after)
	for _, want := range []string{"Reverts: " + f.Repo.BadBumpCommit, "Fleetdeck-App: " + bad.App} {
		if !strings.Contains(msg, want) {
			t.Errorf("the revert's message lacks %q:\n%s", want, msg)
		}
	}
	if !slices.ContainsFunc(done, func(l string) bool { return strings.Contains(l, after[:7]) }) {
		t.Errorf("the pane does not name the pushed commit %s:\n%s", after[:7], strings.Join(done, "\n"))
	}

	// Back in the tree (esc to the history list, esc to the tree), the row waits for the
	// operator, which then rolls the app back.
	term.keys("Escape")
	term.waitFor("the history list after the result", 10*time.Second, func(s []string) bool {
		return contains(s, "r revert")
	})
	term.keys("Escape")
	term.waitFor(bad.App+" marked as waiting for its revert", 15*time.Second, func(s []string) bool {
		return strings.Contains(treeRowWith(s, bad.App), "revert pushed")
	})
	healed := term.waitFor(bad.App+" healthy again with the note gone", 3*time.Minute, func(s []string) bool {
		row := treeRowWith(s, bad.App)
		return row != "" && !strings.Contains(row, "revert pushed") && !hasProblemMarker(row)
	})
	t.Logf("after the push: %s", strings.TrimSpace(treeRowWith(healed, bad.App)))
	quit(t, term)
}

// hasProblemMarker says whether a tree row carries a severity marker (‼ ! ⚠).
func hasProblemMarker(row string) bool {
	left := treeLeft(row)
	return strings.ContainsAny(left[:min(len(left), 8)], "‼!⚠")
}
