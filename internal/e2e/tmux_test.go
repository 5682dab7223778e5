package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// terminal is one tmux pane on a private tmux server, running one command.
type terminal struct {
	t      *testing.T
	tmux   string
	socket string // private socket: the test never touches the user's tmux sessions
	target string
}

// startTerminal starts argv in a new width×height tmux pane with env added to its environment.
// The pane stays after the command exits, so its exit status can be read. The tmux server is
// killed when the test ends.
func startTerminal(t *testing.T, width, height int, env []string, argv ...string) *terminal {
	t.Helper()
	tmuxPath, err := exec.LookPath("tmux")
	if err != nil {
		t.Skip("tmux is not installed (Debian package tmux: apt-get install tmux); the terminal end-to-end test needs it")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "tmux.conf")
	// remain-on-exit keeps a dead pane readable; escape-time 0 sends Escape at once; the status
	// line is off so the pane is the whole window.
	confText := "set -g remain-on-exit on\nset -s escape-time 0\nset -g status off\nset -g default-terminal tmux-256color\n"
	if err := os.WriteFile(conf, []byte(confText), 0o600); err != nil {
		t.Fatal(err)
	}
	term := &terminal{t: t, tmux: tmuxPath, socket: filepath.Join(dir, "tmux.sock"), target: "e2e"}
	args := []string{"-f", conf, "new-session", "-d", "-s", term.target,
		"-x", strconv.Itoa(width), "-y", strconv.Itoa(height)}
	for _, e := range env {
		args = append(args, "-e", e)
	}
	args = append(args, "--")
	args = append(args, argv...)
	term.run(args...)
	t.Cleanup(func() {
		// Ignore the error: the server may already have gone with its last session.
		_ = exec.Command(term.tmux, "-S", term.socket, "kill-server").Run()
	})
	return term
}

// run runs one tmux command on the private server and returns its output.
func (term *terminal) run(args ...string) string {
	term.t.Helper()
	out, err := exec.Command(term.tmux, append([]string{"-S", term.socket}, args...)...).CombinedOutput()
	if err != nil {
		term.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// keys sends tmux key names (Enter, Escape, q, C-c).
func (term *terminal) keys(keys ...string) {
	term.t.Helper()
	term.run(append([]string{"send-keys", "-t", term.target}, keys...)...)
}

// typeText sends text literally, one key per character.
func (term *terminal) typeText(text string) {
	term.t.Helper()
	term.run("send-keys", "-t", term.target, "-l", text)
}

// screen is the pane's text as a user sees it, one string per line, without escape sequences.
func (term *terminal) screen() []string {
	term.t.Helper()
	return strings.Split(strings.TrimRight(term.run("capture-pane", "-p", "-t", term.target), "\n"), "\n")
}

// waitFor polls the screen until ok accepts it and returns that screen. It fails the test
// with the last screen seen after timeout.
func (term *terminal) waitFor(what string, timeout time.Duration, ok func([]string) bool) []string {
	term.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := term.screen()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			term.t.Fatalf("after %s the screen still does not show %s:\n%s", timeout, what, strings.Join(s, "\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// pane reports the pane's process id, whether the command has exited and its exit status, -1
// while not known: tmux marks the pane dead when its terminal closes and learns the status
// when it reaps the process, which can come a moment later.
func (term *terminal) pane() (pid int, dead bool, status int) {
	term.t.Helper()
	out := strings.Fields(term.run("display-message", "-p", "-t", term.target, "#{pane_pid} #{pane_dead} #{pane_dead_status}"))
	if len(out) < 2 {
		term.t.Fatalf("tmux pane state: unexpected %q", out)
	}
	pid, _ = strconv.Atoi(out[0])
	dead = out[1] == "1"
	status = -1
	if dead && len(out) > 2 {
		if n, err := strconv.Atoi(out[2]); err == nil {
			status = n
		}
	}
	return pid, dead, status
}

// size is the pane's width and height in cells.
func (term *terminal) size() (width, height int) {
	term.t.Helper()
	out := strings.Fields(term.run("display-message", "-p", "-t", term.target, "#{pane_width} #{pane_height}"))
	if len(out) != 2 {
		term.t.Fatalf("tmux pane size: unexpected %q", out)
	}
	width, _ = strconv.Atoi(out[0])
	height, _ = strconv.Atoi(out[1])
	return width, height
}

// processesOf lists the running processes whose executable is exe (Linux /proc).
func processesOf(exe string) ([]string, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	var pids []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		link, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil {
			continue // gone meanwhile, or not ours to read
		}
		if link == exe {
			pids = append(pids, e.Name())
		}
	}
	return pids, nil
}
