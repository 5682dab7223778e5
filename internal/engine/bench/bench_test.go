// Package bench measures `fleetdeck status` on the sandbox fleet with thousands of pods per
// cluster against kubectl listing the same pods: time to a complete model and memory.
package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fleetdeck/fleetdeck/internal/sandbox"
)

var (
	once     sync.Once
	shared   *sandbox.Fleet
	startErr error
	dir      string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		if err := shared.Down(30 * time.Second); err != nil {
			fmt.Fprintln(os.Stderr, "bench: stop fleet:", err)
			code = 1
		}
	}
	if dir != "" {
		_ = os.RemoveAll(dir)
	}
	os.Exit(code)
}

// podsPerCluster is 2000 unless FLEETDECK_BENCH_PODS says otherwise.
func podsPerCluster() int {
	if n, err := strconv.Atoi(os.Getenv("FLEETDECK_BENCH_PODS")); err == nil && n > 0 {
		return n
	}
	return 2000
}

// fleetWithPods starts the sandbox once, with the filler pods, for every benchmark here.
func fleetWithPods(b *testing.B) *sandbox.Fleet {
	b.Helper()
	once.Do(func() {
		dir, startErr = os.MkdirTemp("", "fleetdeck-bench-")
		if startErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		defer cancel()
		shared, startErr = sandbox.Up(ctx, sandbox.Options{Dir: dir, Pods: podsPerCluster(), StopOnSignal: true,
			Agent: sandbox.AgentInProcess})
	})
	if startErr != nil {
		b.Fatalf("sandbox fleet: %v", startErr)
	}
	return shared
}

// run runs a command and returns its wall time and peak RSS in MB.
func run(b *testing.B, env []string, name string, args ...string) (time.Duration, float64) {
	b.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout = nil
	begin := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(begin)
	// status exits 1 when it finds problems, which the sandbox has by design.
	if err != nil && cmd.ProcessState != nil && cmd.ProcessState.ExitCode() != 1 {
		b.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	rss := 0.0
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = float64(ru.Maxrss) / 1024
	}
	return took, rss
}

// BenchmarkStatusVersusKubectl compares, in the same run, the slowest single-cluster
// `kubectl get pods -A -o json` with `fleetdeck status -o json` over all three clusters (a
// complete model: every list, the git facts, the build), and reports the resident memory of
// a fleetdeck process holding the live model after sync (and the peak of the one-shot status).
// The goal: status ≤ 1.2 × the slowest kubectl, RSS after sync ≤ 150 MB.
func BenchmarkStatusVersusKubectl(b *testing.B) {
	f := fleetWithPods(b)
	bin := filepath.Join(b.TempDir(), "fleetdeck")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/fleetdeck/fleetdeck").CombinedOutput(); err != nil {
		b.Fatalf("build fleetdeck: %v\n%s", err, out)
	}
	if f.Bins.Kubectl == "" {
		b.Fatal("the sandbox has no kubectl binary")
	}
	// A warm clone cache, as on every run after the first.
	env := []string{"XDG_CACHE_HOME=" + b.TempDir(), "NO_COLOR=1"}
	status := []string{"status", "--config", f.ConfigPath, "-o", "json", "--timeout", "120s"}
	run(b, env, bin, status...)

	var kubectlTotal, statusTotal time.Duration
	var rssMax float64
	n := 0
	for b.Loop() {
		var slowest time.Duration
		for _, c := range f.CP.Clusters {
			d, _ := run(b, nil, f.Bins.Kubectl, "--kubeconfig", f.Kubeconfig, "--context", c.Context, "get", "pods", "-A", "-o", "json")
			slowest = max(slowest, d)
		}
		d, rss := run(b, env, bin, status...)
		kubectlTotal += slowest
		statusTotal += d
		rssMax = max(rssMax, rss)
		n++
	}
	kubectl := kubectlTotal.Seconds() / float64(n)
	st := statusTotal.Seconds() / float64(n)
	b.StopTimer()
	synced := rssAfterSync(b, env, bin, f.ConfigPath)
	b.ReportMetric(kubectl, "kubectl-s")
	b.ReportMetric(st, "status-s")
	b.ReportMetric(st/kubectl, "ratio")
	b.ReportMetric(rssMax, "peak-rss-MB")
	b.ReportMetric(synced, "rss-MB")
	b.Logf("%d clusters × %d pods: slowest kubectl get pods -A -o json %.2fs, fleetdeck status (complete model) %.2fs (%.2f×, goal ≤ 1.2×); "+
		"RSS after sync %.0f MB (goal ≤ 150 MB), peak RSS of status %.0f MB",
		len(f.CP.Clusters), podsPerCluster(), kubectl, st, st/kubectl, synced, rssMax)
}

// rssAfterSync starts `fleetdeck status --watch -o json`, which stays running on the live
// model after printing its first, complete report, and returns its resident set (VmRSS) in MB
// once that report is out and the model has been live for a moment.
func rssAfterSync(b *testing.B, env []string, bin, configPath string) float64 {
	b.Helper()
	cmd := exec.Command(bin, "status", "--config", configPath, "-o", "json", "--watch", "--timeout", "120s")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatalf("start %s: %v", bin, err)
	}
	drained := make(chan struct{})
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		<-drained // reads end before Wait closes the pipe
		_ = cmd.Wait()
	}()
	dec := json.NewDecoder(out)
	var first map[string]any
	err = dec.Decode(&first)
	// Later reports must not block the process; they are read until it exits.
	go func() {
		defer close(drained)
		_, _ = io.Copy(io.Discard, io.MultiReader(dec.Buffered(), out))
	}()
	if err != nil {
		b.Fatalf("status --watch: first report: %v", err)
	}
	time.Sleep(3 * time.Second)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		b.Fatalf("read the RSS of status --watch: %v", err)
	}
	mb := map[string]float64{}
	for _, line := range strings.Split(string(status), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "VmRSS" && k != "RssAnon" && k != "RssFile") {
			continue
		}
		kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
		if err != nil {
			b.Fatalf("%s %q: %v", k, v, err)
		}
		mb[k] = float64(kb) / 1024
	}
	rss, ok := mb["VmRSS"]
	if !ok {
		b.Fatalf("no VmRSS in /proc/%d/status", cmd.Process.Pid)
	}
	// File-backed pages are the executable's own (shared, reclaimable); anonymous ones are
	// the caches and the model.
	b.Logf("RSS after sync %.0f MB: %.0f MB anonymous (heap, stacks), %.0f MB file-backed (the executable)", rss, mb["RssAnon"], mb["RssFile"])
	return rss
}
