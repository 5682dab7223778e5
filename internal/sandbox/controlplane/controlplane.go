// Package controlplane runs the sandbox's real local Kubernetes control
// planes: one etcd, and per cluster a kube-apiserver, controller-manager,
// scheduler and kwok (fake kubelet with one node), all on 127.0.0.1.
//
// Every process is recorded by PID (DIR/pids, DIR/state.json) and is stopped
// by PID: on Stop, on a failed Start, and, with Options.StopOnSignal, when
// the owning process gets SIGINT/SIGTERM/SIGHUP.
package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fleetdeck/fleetdeck/internal/sandbox/binaries"
)

// Options configure Start.
type Options struct {
	// Dir receives everything: state.json, kubeconfig, etcd data, certs,
	// pids/, logs/. Created with mode 0700.
	Dir string
	// Clusters are the cluster names; each becomes a kubeconfig context
	// (admin) and a "<name>-viewer" context (restricted user).
	Clusters []string
	Bins     binaries.Paths
	Kwok     KwokOptions
	// Log receives a line per start-up step; nil discards.
	Log io.Writer
	// StopOnSignal stops every process of the fleet when this process gets
	// SIGINT, SIGTERM or SIGHUP, then lets the signal take its usual effect.
	// Signals this process ignored from its start are left ignored.
	// For foreground use and tests; leave it off to leave the fleet running
	// after this process exits.
	StopOnSignal bool
}

// Cluster is one control plane of the fleet.
type Cluster struct {
	Name string `json:"name"`
	// Server is the apiserver URL, https://127.0.0.1:<port>.
	Server        string `json:"server"`
	APIServerPort int    `json:"apiserverPort"`
	// KwokPort serves the fake kubelet API (logs) of the cluster's node.
	KwokPort int    `json:"kwokPort"`
	NodeName string `json:"nodeName"`
	// Context and ViewerContext name the admin and restricted contexts in
	// the fleet's kubeconfig.
	Context       string `json:"context"`
	ViewerContext string `json:"viewerContext"`
}

// Fleet is a started (or loaded) set of control planes.
type Fleet struct {
	Dir        string     `json:"dir"`
	Kubeconfig string     `json:"kubeconfig"`
	EtcdURL    string     `json:"etcdURL"`
	Clusters   []Cluster  `json:"clusters"`
	Processes  []*Process `json:"processes"`
	StartedAt  time.Time  `json:"startedAt"`
	// ReadyAfter is how long Start took, from its call to every cluster
	// answering with its node Ready and default service account present.
	ReadyAfter time.Duration `json:"readyAfter"`

	mu       sync.Mutex
	stopping bool
	log      io.Writer
	unsignal func()
}

// ViewerUser is the restricted user of every cluster (token auth).
const ViewerUser = "viewer"

// Node annotation kwok manages nodes by.
const kwokNodeAnnotation = "kwok.x-k8s.io/node"

const stateFile = "state.json"

// NodeName is the fake node of a cluster.
func NodeName(cluster string) string { return "kwok-" + cluster + "-node-0" }

// ViewerContext is the kubeconfig context of the restricted user.
func ViewerContext(cluster string) string { return cluster + "-" + ViewerUser }

// Start starts etcd and a control plane per cluster in o.Dir and returns
// when every apiserver is ready, every node is Ready and every cluster's
// default service account exists (so pods can be created at once).
//
// If o.Dir records a fleet with live processes, Start refuses; a record
// whose processes are all gone is cleaned up first. On any failure every
// process Start started is stopped before it returns.
func Start(ctx context.Context, o Options) (_ *Fleet, err error) {
	begin := time.Now()
	if err := validate(o); err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("controlplane: dir %s: %w", o.Dir, err)
	}
	if err := prepareDir(dir); err != nil {
		return nil, err
	}
	f := &Fleet{Dir: dir, Kubeconfig: filepath.Join(dir, "kubeconfig"), StartedAt: begin, log: o.Log}
	if o.StopOnSignal {
		f.stopOnSignal()
	}
	defer func() {
		if err != nil {
			if serr := f.Stop(30 * time.Second); serr != nil {
				err = errors.Join(err, fmt.Errorf("controlplane: cleaning up after the failed start: %w", serr))
			}
		}
	}()
	if _, hasDeadline := ctx.Deadline(); !hasDeadline {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
	}
	if err := prepareLogFiles(o.Kwok.LogTargets); err != nil {
		return nil, fmt.Errorf("controlplane: %w", err)
	}
	authority, err := newCA()
	if err != nil {
		return nil, fmt.Errorf("controlplane: %w", err)
	}
	if err := writeFiles(filepath.Join(dir, "pki"), map[string][]byte{"ca.crt": authority.certPEM}); err != nil {
		return nil, fmt.Errorf("controlplane: %w", err)
	}

	etcd, err := f.startEtcd(ctx, o.Bins.Etcd)
	if err != nil {
		return nil, fmt.Errorf("controlplane: etcd: %w", err)
	}
	f.logf("etcd ready at %s (%s)", f.EtcdURL, since(begin))

	clusters := make([]*clusterRun, len(o.Clusters))
	errs := make([]error, len(o.Clusters))
	var wg sync.WaitGroup
	for i, name := range o.Clusters {
		clusters[i] = &clusterRun{f: f, name: name, index: i, ca: authority, bins: o.Bins, kwok: o.Kwok, etcd: etcd}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := clusters[i].start(ctx); err != nil {
				errs[i] = fmt.Errorf("controlplane: cluster %s: %w", name, err)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	f.mu.Lock()
	for _, c := range clusters {
		f.Clusters = append(f.Clusters, c.info)
	}
	f.mu.Unlock()
	if err := writeKubeconfig(f.Kubeconfig, authority.certPEM, clusters); err != nil {
		return nil, fmt.Errorf("controlplane: %w", err)
	}
	for _, p := range f.processes() {
		if !p.Alive() {
			return nil, fmt.Errorf("controlplane: %w", p.exitedErr())
		}
	}
	f.mu.Lock()
	f.ReadyAfter = time.Since(begin)
	err = f.saveLocked()
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	f.logf("%d clusters ready (%s); kubeconfig %s", len(f.Clusters), since(begin), f.Kubeconfig)
	return f, nil
}

func validate(o Options) error {
	if o.Dir == "" {
		return errors.New("controlplane: no directory given")
	}
	if len(o.Clusters) == 0 {
		return errors.New("controlplane: no clusters given")
	}
	seen := map[string]bool{}
	for _, c := range o.Clusters {
		if c == "" || dnsName(c) != c || len(c) > 40 {
			return fmt.Errorf("controlplane: cluster name %q must be a short DNS label (a-z, 0-9, -)", c)
		}
		if seen[c] {
			return fmt.Errorf("controlplane: cluster %q listed twice", c)
		}
		seen[c] = true
	}
	for name, path := range map[string]string{
		"etcd": o.Bins.Etcd, "kube-apiserver": o.Bins.KubeAPIServer, "kube-controller-manager": o.Bins.KubeControllerManager,
		"kube-scheduler": o.Bins.KubeScheduler, "kwok": o.Bins.Kwok,
	} {
		if path == "" {
			return fmt.Errorf("controlplane: no path for %s (use binaries.Ensure)", name)
		}
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("controlplane: %s: %w", name, err)
		}
	}
	return validateImages(o.Kwok)
}

// prepareDir creates dir, refuses when it records a live fleet, and clears
// what a dead fleet left behind.
func prepareDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("controlplane: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("controlplane: %w", err)
	}
	old, err := Load(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("controlplane: %s holds an unreadable %s (%v); remove it or choose another directory", dir, stateFile, err)
	default:
		if live := old.livePIDs(); len(live) > 0 {
			return fmt.Errorf("controlplane: fleet already running in %s (pids %s); run `fleetdeck demo down --dir %s`",
				dir, strings.Trim(fmt.Sprint(live), "[]"), dir)
		}
		for _, p := range old.Processes {
			_ = os.Remove(old.pidFile(p.Name))
		}
	}
	for _, stale := range []string{stateFile, "kubeconfig", "etcd", "clusters", "pki"} {
		if err := os.RemoveAll(filepath.Join(dir, stale)); err != nil {
			return fmt.Errorf("controlplane: clean %s: %w", dir, err)
		}
	}
	for _, sub := range []string{"logs", "pids", "clusters"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return fmt.Errorf("controlplane: %w", err)
		}
	}
	return nil
}

// Load reads the fleet recorded in dir (DIR/state.json). The error wraps
// os.ErrNotExist when there is none.
func Load(dir string) (*Fleet, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return nil, fmt.Errorf("controlplane: %w", err)
	}
	f := &Fleet{}
	if err := json.Unmarshal(data, f); err != nil {
		return nil, fmt.Errorf("controlplane: parse %s: %w", filepath.Join(dir, stateFile), err)
	}
	f.Dir = dir
	return f, nil
}

// Stop stops the fleet recorded in dir; no record means nothing to stop.
func Stop(dir string, timeout time.Duration) error {
	f, err := Load(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Stop(timeout)
}

// Stop stops every process of the fleet: SIGTERM, then SIGKILL for those
// still running after timeout. etcd goes last so the apiservers can shut
// down cleanly. It is safe to call more than once.
func (f *Fleet) Stop(timeout time.Duration) error {
	f.mu.Lock()
	f.stopping = true
	unsignal := f.unsignal
	f.unsignal = nil
	f.mu.Unlock()
	err := f.stopAll(timeout)
	if unsignal != nil {
		unsignal()
	}
	return err
}

func (f *Fleet) stopAll(timeout time.Duration) error {
	f.mu.Lock()
	f.stopping = true
	f.mu.Unlock()
	var first, last []*Process
	for _, p := range f.processes() {
		if p.Name == "etcd" {
			last = append(last, p)
		} else {
			first = append(first, p)
		}
	}
	err := errors.Join(stopProcesses(first, timeout), stopProcesses(last, timeout))
	for _, p := range f.processes() {
		if !p.Alive() {
			_ = os.Remove(f.pidFile(p.Name))
		}
	}
	if err != nil {
		return fmt.Errorf("controlplane: stop fleet in %s: %w", f.Dir, err)
	}
	return nil
}

func (f *Fleet) processes() []*Process {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*Process(nil), f.Processes...)
}

// PIDs lists the PIDs of every process of the fleet.
func (f *Fleet) PIDs() []int {
	var out []int
	for _, p := range f.processes() {
		out = append(out, p.PID)
	}
	return out
}

func (f *Fleet) livePIDs() []int {
	var out []int
	for _, p := range f.processes() {
		if p.Alive() {
			out = append(out, p.PID)
		}
	}
	return out
}

// Running reports whether any process of the fleet is alive.
func (f *Fleet) Running() bool { return len(f.livePIDs()) > 0 }

// Cluster returns the named cluster of the fleet.
func (f *Fleet) Cluster(name string) (Cluster, bool) {
	for _, c := range f.Clusters {
		if c.Name == name {
			return c, true
		}
	}
	return Cluster{}, false
}

// Usage is the resident memory of one process.
type Usage struct {
	Name     string
	PID      int
	RSSBytes int64
}

// Usage reads each live process's resident set size from /proc (Linux).
func (f *Fleet) Usage() []Usage {
	var out []Usage
	for _, p := range f.processes() {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.PID))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				var kb int64
				if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err == nil {
					out = append(out, Usage{Name: p.Name, PID: p.PID, RSSBytes: kb * 1024})
				}
			}
		}
	}
	return out
}

// saveLocked writes state.json; f.mu must be held.
func (f *Fleet) saveLocked() error {
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("controlplane: encode state: %w", err)
	}
	tmp := filepath.Join(f.Dir, stateFile+".tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("controlplane: write state: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(f.Dir, stateFile)); err != nil {
		return fmt.Errorf("controlplane: write state: %w", err)
	}
	return nil
}

func (f *Fleet) logf(format string, args ...any) {
	if f.log == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	fmt.Fprintf(f.log, "controlplane: "+format+"\n", args...)
}

func since(t time.Time) string { return time.Since(t).Round(100 * time.Millisecond).String() }

// stopOnSignal stops the fleet when this process is told to end, then
// re-delivers the signal so the process ends as it would have.
func (f *Fleet) stopOnSignal() {
	ch := make(chan os.Signal, 1)
	for _, sig := range []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		// A signal ignored when this process started (a background job's
		// SIGINT, nohup's SIGHUP) was not meant to end it: leave it ignored
		// and the fleet running.
		if !signal.Ignored(sig) {
			signal.Notify(ch, sig)
		}
	}
	quit := make(chan struct{})
	var once sync.Once
	f.unsignal = func() {
		once.Do(func() {
			signal.Stop(ch)
			close(quit)
		})
	}
	go func() {
		select {
		case sig := <-ch:
			f.logf("%s received: stopping the fleet", sig)
			if err := f.stopAll(15 * time.Second); err != nil {
				f.logf("%v", err)
			}
			signal.Stop(ch)
			// With no other handler registered, the default action applies
			// again (the process ends); a program that handles the signal
			// itself still gets it.
			if s, ok := sig.(syscall.Signal); ok {
				_ = syscall.Kill(os.Getpid(), s)
			}
		case <-quit:
		}
	}()
}
