package controlplane

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Process is one program of the fleet.
type Process struct {
	// Name is the component: "etcd" or "<cluster>-<program>".
	Name string `json:"name"`
	PID  int    `json:"pid"`
	// Path is the program that was started; liveness checks compare it with
	// the running process's command line so a reused PID is not mistaken
	// for the fleet's.
	Path string `json:"path"`
	// Args are the arguments it was started with, so Restart can start it
	// again exactly as before (same ports, same data directory).
	Args []string `json:"args,omitempty"`
	Log  string   `json:"log"`

	cmd  *exec.Cmd
	done chan struct{} // closed when a child of this process has been reaped
	// logOffset is the log file's size when this instance started, so error
	// reports show only its own output.
	logOffset int64
}

// Alive reports whether the process is still running (and is the program
// that was started, not a reused PID).
func (p *Process) Alive() bool {
	if p.done != nil {
		select {
		case <-p.done:
			return false
		default:
			return true
		}
	}
	return pidAlive(p.PID, p.Path)
}

// pidAlive reports whether pid runs the program path. Zombies count as dead.
func pidAlive(pid int, path string) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		// No procfs (not Linux): the signal check is all there is.
		return true
	}
	if i := bytes.LastIndexByte(stat, ')'); i > 0 && i+2 < len(stat) && (stat[i+2] == 'Z' || stat[i+2] == 'X') {
		return false
	}
	if path == "" {
		return true
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return true
	}
	argv0, _, _ := bytes.Cut(cmdline, []byte{0})
	return string(argv0) == path
}

// spawn starts a program with its output appended to DIR/logs/<name>.log
// and its PID in DIR/pids/<name>.pid. The child gets its own process group:
// a Ctrl-C typed at the terminal goes to the foreground group only, so the
// fleet is stopped by its owner (in order, by PID), never half-killed by
// the terminal.
func (f *Fleet) spawn(name, path string, args ...string) (*Process, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopping {
		return nil, fmt.Errorf("start %s: the fleet is being stopped", name)
	}
	logPath := filepath.Join(f.Dir, "logs", name+".log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	defer logf.Close()
	var offset int64
	if fi, err := logf.Stat(); err == nil {
		offset = fi.Size()
	}
	fmt.Fprintf(logf, "=== %s starting: %s %s\n", time.Now().Format(time.RFC3339), path, strings.Join(args, " "))
	cmd := exec.Command(path, args...)
	cmd.Dir = f.Dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (%s): %w", name, path, err)
	}
	p := &Process{Name: name, PID: cmd.Process.Pid, Path: path, Args: args, Log: logPath, cmd: cmd,
		done: make(chan struct{}), logOffset: offset}
	// Reap the child as soon as it exits, so a stopped process does not
	// linger as a zombie that still answers kill(pid, 0).
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	f.Processes = append(f.Processes, p)
	if err := os.WriteFile(f.pidFile(name), []byte(strconv.Itoa(p.PID)+"\n"), 0o600); err != nil {
		return p, fmt.Errorf("start %s: write pid file: %w", name, err)
	}
	if err := f.saveLocked(); err != nil {
		return p, err
	}
	return p, nil
}

func (f *Fleet) pidFile(name string) string { return filepath.Join(f.Dir, "pids", name+".pid") }

// forget removes a process that failed to start (and is already dead) from
// the fleet's records.
func (f *Fleet) forget(p *Process) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, q := range f.Processes {
		if q == p {
			f.Processes = append(f.Processes[:i], f.Processes[i+1:]...)
			break
		}
	}
	_ = os.Remove(f.pidFile(p.Name))
	_ = f.saveLocked()
}

// logTail returns the last lines this instance of p wrote to its log.
func (p *Process) logTail(n int) string {
	data, err := os.ReadFile(p.Log)
	if err != nil {
		return ""
	}
	if p.logOffset > 0 && p.logOffset <= int64(len(data)) {
		data = data[p.logOffset:]
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// exitedErr describes a process that ended while the fleet waited for it.
func (p *Process) exitedErr() error {
	return fmt.Errorf("%s (pid %d) exited; last lines of %s:\n%s", p.Name, p.PID, p.Log, p.logTail(15))
}

// addrInUse reports whether a process that exited did so because its port
// was taken between choosing it and binding it.
func (p *Process) addrInUse() bool {
	return !p.Alive() && strings.Contains(p.logTail(40), "address already in use")
}

// stopProcesses sends SIGTERM to every live process, waits up to timeout,
// then sends SIGKILL to what is left and waits for it to go. It reports
// any process that survived even that.
func stopProcesses(procs []*Process, timeout time.Duration) error {
	var live []*Process
	for _, p := range procs {
		if p.Alive() {
			live = append(live, p)
			signalProcess(p, syscall.SIGTERM)
		}
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && anyAlive(live) {
		time.Sleep(50 * time.Millisecond)
	}
	for _, p := range live {
		if p.Alive() {
			signalProcess(p, syscall.SIGKILL)
		}
	}
	deadline = time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && anyAlive(live) {
		time.Sleep(20 * time.Millisecond)
	}
	var survivors []string
	for _, p := range live {
		if p.Alive() {
			survivors = append(survivors, fmt.Sprintf("%s (pid %d)", p.Name, p.PID))
		}
	}
	if len(survivors) > 0 {
		return fmt.Errorf("still running after SIGKILL: %s", strings.Join(survivors, ", "))
	}
	return nil
}

// signalProcess signals the process group the child leads (it has no
// children of its own, but a group signal also reaches any it might start),
// falling back to the PID.
func signalProcess(p *Process, sig syscall.Signal) {
	if err := syscall.Kill(-p.PID, sig); err != nil {
		_ = syscall.Kill(p.PID, sig)
	}
}

func anyAlive(procs []*Process) bool {
	for _, p := range procs {
		if p.Alive() {
			return true
		}
	}
	return false
}

// freePorts returns n distinct free TCP ports on 127.0.0.1. Another process
// may take one before the program binds it; callers retry on
// "address already in use".
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port on 127.0.0.1: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// portFree reports whether nothing listens on 127.0.0.1:port.
func portFree(port int) bool {
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}
