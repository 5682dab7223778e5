// Package sandbox runs the real local fleet used by `fleetdeck demo` and by
// the integration tests: three real control planes, a generated GitOps
// monorepo, a stand-in GitOps operator, and the seed's problems injected.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/fleetdeck/fleetdeck/internal/sandbox/binaries"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/controlplane"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/monorepo"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/podlogs"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/standin"
)

// Options configure Up.
type Options struct {
	// Dir holds everything the fleet writes: kubeconfig, config.yaml, the git
	// remote, logs, PID files. Created with mode 0700.
	Dir string
	// Seed makes the monorepo (and so every commit hash) deterministic.
	Seed int64
	// Pods adds this many filler pods per cluster (for benchmarks).
	Pods int
	// Progress receives one line per step; nil discards.
	Progress io.Writer
	// StopOnSignal stops every process of the fleet when this process gets
	// SIGINT/SIGTERM (foreground `demo` and tests). `demo up` leaves it off.
	StopOnSignal bool
	// Agent says how the stand-in operator's loop and the pod log writers run:
	// in this process (tests, foreground demo) or as a detached process
	// (`demo up`), started with AgentCommand.
	Agent AgentMode
	// AgentCommand is the argv that runs `fleetdeck demo agent --dir DIR` when
	// Agent is AgentDetached.
	AgentCommand []string
	// Getenv reads the environment (XDG_CACHE_HOME, KUBEBUILDER_ASSETS).
	Getenv func(string) string
}

// AgentMode selects where the agent runs.
type AgentMode int

const (
	AgentInProcess AgentMode = iota
	AgentDetached
)

// Fleet is a running sandbox.
type Fleet struct {
	Dir        string
	Kubeconfig string
	ConfigPath string
	RemoteDir  string
	RepoURL    string
	Clusters   []string
	Repo       *monorepo.Result
	Bins       binaries.Paths
	CP         *controlplane.Fleet

	seedValue   int64
	cancelAgent context.CancelFunc
	agentDone   chan error
}

// Paths inside Dir.
func kubeconfigPath(dir string) string { return filepath.Join(dir, "kubeconfig") }
func configPath(dir string) string     { return filepath.Join(dir, "config.yaml") }
func remoteDir(dir string) string      { return filepath.Join(dir, "git", scenario.RepoName+".git") }
func agentPIDPath(dir string) string   { return filepath.Join(dir, "pids", "agent.pid") }
func logsDir(dir string) string        { return filepath.Join(dir, "logs") }

func progressf(w io.Writer, start time.Time, format string, args ...any) {
	if w == nil {
		return
	}
	fmt.Fprintf(w, "[%5.1fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
}

// Up starts the fleet in o.Dir. If a fleet is already running there it
// refuses with an error that says how to stop it.
func Up(ctx context.Context, o Options) (f *Fleet, err error) {
	if o.Dir == "" {
		return nil, errors.New("sandbox: no directory given")
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, err
	}
	if running, pids := Running(dir); running {
		return nil, fmt.Errorf("a fleet is already running in %s (pids %v); use it, or stop it with `fleetdeck demo down --dir %s`", dir, pids, dir)
	}
	// A stopped fleet may have left files behind; start from a clean directory
	// but never delete a directory that is not ours.
	if err := cleanDir(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, markerFile), []byte("fleetdeck sandbox\n"), 0o600); err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	start := time.Now()
	pw := o.Progress

	progressf(pw, start, "checking control-plane binaries (built once into the cache)")
	bins, err := binaries.Ensure(ctx, binaries.Options{Progress: pw, Getenv: o.Getenv})
	if err != nil {
		return nil, fmt.Errorf("sandbox: binaries: %w", err)
	}

	progressf(pw, start, "generating the git monorepo")
	rd := remoteDir(dir)
	repo, err := monorepo.Generate(rd, monorepo.Options{Seed: o.Seed})
	if err != nil {
		return nil, fmt.Errorf("sandbox: monorepo: %w", err)
	}
	progressf(pw, start, "monorepo: %d commits, HEAD %s", repo.Commits, repo.Head[:12])

	logTargets, writers := logPlan(dir, repo)
	progressf(pw, start, "starting etcd and %d control planes", len(scenario.Clusters))
	cp, err := controlplane.Start(ctx, controlplane.Options{
		Dir:          dir,
		Clusters:     scenario.Clusters,
		Bins:         bins,
		StopOnSignal: o.StopOnSignal,
		Kwok: controlplane.KwokOptions{
			CrashImages:    crashImages(repo),
			PullFailImages: pullFailImages(repo),
			LogTargets:     logTargets,
		},
		Log: pw,
	})
	if err != nil {
		return nil, fmt.Errorf("sandbox: control plane: %w", err)
	}
	f = &Fleet{Dir: dir, Kubeconfig: kubeconfigPath(dir), ConfigPath: configPath(dir),
		RemoteDir: rd, RepoURL: "file://" + rd, Clusters: scenario.Clusters, Repo: repo, Bins: bins, CP: cp,
		seedValue: o.Seed}
	defer func() {
		if err != nil {
			_ = f.Down(30 * time.Second)
			f = nil
		}
	}()

	if err := writeState(dir, state{Seed: o.Seed, Repo: repo}); err != nil {
		return nil, err
	}
	if err := writeConfig(f); err != nil {
		return nil, err
	}
	sopts := f.standinOptions(pw)
	progressf(pw, start, "stand-in operator: applying the monorepo and writing Argo CD / Flux objects")
	if err := standin.Install(ctx, sopts); err != nil {
		return nil, fmt.Errorf("sandbox: stand-in operator: %w", err)
	}
	if o.Pods > 0 {
		progressf(pw, start, "adding %d filler pods per cluster", o.Pods)
		if err := addFillerPods(ctx, f, o.Pods); err != nil {
			return nil, err
		}
	}

	switch o.Agent {
	case AgentInProcess:
		actx, cancel := context.WithCancel(context.Background())
		f.cancelAgent = cancel
		f.agentDone = make(chan error, 1)
		go func() { f.agentDone <- runAgent(actx, f, writers, o.Seed) }()
	case AgentDetached:
		if err := startDetachedAgent(dir, o.AgentCommand); err != nil {
			return nil, err
		}
	}
	progressf(pw, start, "fleet ready")
	return f, nil
}

func (f *Fleet) standinOptions(log io.Writer) standin.Options {
	return standin.Options{
		Kubeconfig: f.Kubeconfig,
		Clusters:   f.Clusters,
		RemoteDir:  f.RemoteDir,
		RepoURL:    f.RepoURL,
		Repo:       f.Repo,
		Log:        log,
	}
}

// runAgent is the long-running part of the sandbox: the stand-in operator's
// reconcile loop and the pod log writers.
func runAgent(ctx context.Context, f *Fleet, writers []podlogs.Target, seed int64) error {
	errc := make(chan error, 2)
	go func() { errc <- podlogs.Run(ctx, writers, seed) }()
	go func() { errc <- standin.Run(ctx, f.standinOptions(io.Discard)) }()
	var first error
	for i := 0; i < 2; i++ {
		if err := <-errc; err != nil && first == nil && !errors.Is(err, context.Canceled) {
			first = err
		}
	}
	return first
}

// RunAgent runs the agent of the fleet in dir until ctx ends; it is what
// `fleetdeck demo agent` runs when the fleet was started by `demo up`.
func RunAgent(ctx context.Context, dir string) error {
	f, err := Load(dir)
	if err != nil {
		return err
	}
	_, writers := logPlan(f.Dir, f.Repo)
	return runAgent(ctx, f, writers, f.seed())
}

func (f *Fleet) seed() int64 { return f.seedValue }

// Down stops the agent and every process of the fleet.
func (f *Fleet) Down(timeout time.Duration) error {
	var errs []error
	if f.cancelAgent != nil {
		f.cancelAgent()
		select {
		case <-f.agentDone:
		case <-time.After(timeout):
			errs = append(errs, errors.New("sandbox: agent did not stop"))
		}
	}
	if err := stopPIDFile(agentPIDPath(f.Dir), timeout); err != nil {
		errs = append(errs, err)
	}
	if f.CP != nil {
		if err := f.CP.Stop(timeout); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Down stops the fleet recorded in dir (by its PID files).
func Down(dir string, timeout time.Duration) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	var errs []error
	if err := stopPIDFile(agentPIDPath(dir), timeout); err != nil {
		errs = append(errs, err)
	}
	if err := controlplane.Stop(dir, timeout); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Running reports whether a fleet recorded in dir has live processes.
func Running(dir string) (bool, []int) {
	var live []int
	entries, _ := os.ReadDir(filepath.Join(dir, "pids"))
	for _, e := range entries {
		if pid, ok := readPID(filepath.Join(dir, "pids", e.Name())); ok && alive(pid) {
			live = append(live, pid)
		}
	}
	return len(live) > 0, live
}

// Load describes the fleet recorded in dir.
func Load(dir string) (*Fleet, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	cp, err := controlplane.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("sandbox: no fleet in %s: %w", dir, err)
	}
	rd := remoteDir(dir)
	st, err := readState(dir)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	return &Fleet{Dir: dir, Kubeconfig: kubeconfigPath(dir), ConfigPath: configPath(dir), RemoteDir: rd,
		RepoURL: "file://" + rd, Clusters: scenario.Clusters, Repo: st.Repo, CP: cp, seedValue: st.Seed}, nil
}

const markerFile = ".fleetdeck-sandbox"

// cleanDir removes what an earlier, stopped fleet left in dir. It refuses to
// touch a non-empty directory that fleetdeck did not create.
func cleanDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) || (err == nil && len(entries) == 0) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, markerFile)); err != nil {
		return fmt.Errorf("sandbox: %s is not empty and was not made by fleetdeck; choose another --dir", dir)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("sandbox: clean %s: %w", dir, err)
		}
	}
	return nil
}

func startDetachedAgent(dir string, argv []string) error {
	if len(argv) == 0 {
		return errors.New("sandbox: no agent command")
	}
	logf, err := os.OpenFile(filepath.Join(logsDir(dir), "agent.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("sandbox: agent log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("sandbox: start agent: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(agentPIDPath(dir)), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(agentPIDPath(dir), []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o600); err != nil {
		return err
	}
	return cmd.Process.Release()
}

func readPID(path string) (int, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid, err == nil && pid > 0
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

func stopPIDFile(path string, timeout time.Duration) error {
	pid, ok := readPID(path)
	if !ok {
		return nil
	}
	defer os.Remove(path)
	if !alive(pid) {
		return nil
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if !alive(pid) {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	return nil
}
