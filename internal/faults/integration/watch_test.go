package integration

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fleetdeck/fleetdeck/cli"
	"github.com/fleetdeck/fleetdeck/fleet"
)

// report is one JSON document `status --watch -o json` printed, with when the test read it.
type report struct {
	at  time.Time
	rep cli.StatusReport
}

// state is the state of a cluster in the report ("" when the report does not name it).
func (r report) state(cluster string) fleet.ConnState {
	for _, c := range r.rep.Clusters {
		if c.Name == cluster {
			return c.State
		}
	}
	return ""
}

// states is "prod-eu=synced prod-us=unreachable …", for logs.
func (r report) states() string {
	parts := make([]string, 0, len(r.rep.Clusters))
	for _, c := range r.rep.Clusters {
		s := c.Name + "=" + string(c.State)
		if c.State != fleet.ConnSynced && c.Error != "" {
			s += fmt.Sprintf(" (%s)", truncate(c.Error, 120))
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// watchProcess is `fleetdeck status --watch -o json` running as its own process. A reader
// decodes its stdout, one report per change, as the reports come.
type watchProcess struct {
	cmd    *exec.Cmd
	start  time.Time
	stderr *syncBuffer
	done   chan struct{} // closed when the process has exited and waitErr is set

	mu        sync.Mutex
	reports   []report
	decodeErr error
	changed   chan struct{} // closed and replaced on every new report and at exit
	waitErr   error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startWatch runs the binary's `status --watch -o json` on the config with a private git cache.
func startWatch(t *testing.T, bin, configPath string) *watchProcess {
	t.Helper()
	cmd := exec.Command(bin, "status", "--watch", "-o", "json", "--config", configPath)
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+t.TempDir())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	w := &watchProcess{cmd: cmd, stderr: &syncBuffer{}, done: make(chan struct{}), changed: make(chan struct{})}
	cmd.Stderr = w.stderr
	w.start = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go w.read(stdout)
	return w
}

// read decodes reports until stdout ends, then waits for the process (stdout is read to its
// end first, as exec requires).
func (w *watchProcess) read(stdout io.Reader) {
	dec := json.NewDecoder(stdout)
	for {
		var rep cli.StatusReport
		err := dec.Decode(&rep)
		at := time.Now()
		w.mu.Lock()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				w.decodeErr = err
			}
			w.mu.Unlock()
			break
		}
		w.reports = append(w.reports, report{at: at, rep: rep})
		close(w.changed)
		w.changed = make(chan struct{})
		w.mu.Unlock()
	}
	_, _ = io.Copy(io.Discard, stdout)
	err := w.cmd.Wait()
	w.mu.Lock()
	w.waitErr = err
	close(w.changed)
	w.changed = make(chan struct{})
	w.mu.Unlock()
	close(w.done)
}

// running reports whether the process has not exited.
func (w *watchProcess) running() bool {
	select {
	case <-w.done:
		return false
	default:
		return true
	}
}

// snapshot returns the reports so far and a channel closed at the next one.
func (w *watchProcess) snapshot() ([]report, <-chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]report(nil), w.reports...), w.changed
}

// since returns the reports read at or after t.
func (w *watchProcess) since(t time.Time) []report {
	all, _ := w.snapshot()
	var out []report
	for _, r := range all {
		if !r.at.Before(t) {
			out = append(out, r)
		}
	}
	return out
}

// last is the newest report: what the watch shows now.
func (w *watchProcess) last() (report, bool) {
	all, _ := w.snapshot()
	if len(all) == 0 {
		return report{}, false
	}
	return all[len(all)-1], true
}

// waitView waits until the watch's view satisfies ok at some moment from since on: the report
// showing at since (the newest one read before it) or any later one. It returns that report and
// the moment the view satisfied ok (since for a report read before). It fails the test when the
// process exits or within passes.
func (w *watchProcess) waitView(t *testing.T, what string, since time.Time, within time.Duration, ok func(report) bool) (report, time.Time) {
	t.Helper()
	deadline := time.NewTimer(time.Until(since.Add(within)))
	defer deadline.Stop()
	for {
		all, changed := w.snapshot()
		var showing *report
		for i := range all {
			r := &all[i]
			if r.at.Before(since) {
				showing = r
				continue
			}
			if ok(*r) {
				return *r, r.at
			}
		}
		if showing != nil && ok(*showing) {
			return *showing, since
		}
		if !w.running() {
			t.Fatalf("%s: the watch process exited (%v); reports since then:\n%s\nits stderr:\n%s",
				what, w.exitErr(), w.dump(since), w.stderr.String())
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("%s: not seen within %s; reports since then:\n%s", what, within, w.dump(since))
		}
	}
}

func (w *watchProcess) exitErr() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.waitErr
}

// dump lists the reports from since on (and the one showing at since), one line each.
func (w *watchProcess) dump(since time.Time) string {
	all, _ := w.snapshot()
	var b strings.Builder
	for i, r := range all {
		if r.at.Before(since) && (i+1 < len(all) && all[i+1].at.Before(since)) {
			continue
		}
		fmt.Fprintf(&b, "  %+6.1fs #%d %s\n", r.at.Sub(since).Seconds(), i, r.states())
	}
	if b.Len() == 0 {
		return "  (none)\n"
	}
	return b.String()
}

// stop sends SIGTERM and waits, bounded, for the exit; it returns the exit code.
func (w *watchProcess) stop(within time.Duration) (int, error) {
	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return -1, err
	}
	select {
	case <-w.done:
	case <-time.After(within):
		return -1, fmt.Errorf("still running %s after SIGTERM", within)
	}
	err := w.exitErr()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &exit) && exit.Exited():
		return exit.ExitCode(), nil
	default:
		return -1, err // killed by a signal, or Wait failed
	}
}

// kill ends the process if it still runs (for a test that failed before stopping it).
func (w *watchProcess) kill() {
	if w.running() {
		_ = w.cmd.Process.Kill()
		<-w.done
	}
}
