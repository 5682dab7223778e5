package integration

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/fleetdeck/fleetdeck/internal/sandbox"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/podlogs"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/sandboxtest"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

// stern v1.33.0 is the newest release whose go.mod asks for Go ≤ 1.26 (v1.35.0 needs 1.27).
const (
	sternModule  = "github.com/stern/stern"
	sternVersion = "v1.33.0"
)

// ensureStern builds stern from the module proxy into the tool cache once, the way
// internal/oracles builds helm and kustomize.
func ensureStern(b *testing.B) string {
	b.Helper()
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" || !filepath.IsAbs(base) {
		home, err := os.UserHomeDir()
		if err != nil {
			b.Fatal(err)
		}
		base = filepath.Join(home, ".cache")
	}
	final := filepath.Join(base, "fleetdeck", "tools", "stern-"+sternVersion)
	bin := filepath.Join(final, "stern")
	if fi, err := os.Stat(bin); err == nil && fi.Mode()&0o111 != 0 {
		return bin
	}
	tmp, err := os.MkdirTemp(filepath.Dir(final), "stern-build-")
	if err != nil {
		if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
			b.Fatal(err)
		}
		if tmp, err = os.MkdirTemp(filepath.Dir(final), "stern-build-"); err != nil {
			b.Fatal(err)
		}
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command("go", "install", sternModule+"@"+sternVersion)
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOBIN="+filepath.Join(tmp, "bin"), "GOFLAGS=", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go install %s@%s: %v\n%s", sternModule, sternVersion, err, out)
	}
	if err := os.MkdirAll(filepath.Join(tmp, "final"), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(filepath.Join(tmp, "bin", "stern"), filepath.Join(tmp, "final", "stern")); err != nil {
		b.Fatal(err)
	}
	_ = os.RemoveAll(final)
	if err := os.Rename(filepath.Join(tmp, "final"), final); err != nil {
		b.Fatal(err)
	}
	return bin
}

// measured is one run of a tool writing logs to a file.
type measured struct {
	lines int
	wall  time.Duration
	cpu   time.Duration
}

func measure(b *testing.B, name string, argv []string, env []string) measured {
	b.Helper()
	out, err := os.CreateTemp(b.TempDir(), name+"-*.log")
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	var stderr bytes.Buffer
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = out, &stderr
	begin := time.Now()
	err = cmd.Run()
	wall := time.Since(begin)
	if err != nil {
		b.Fatalf("%s: %v\n%s", name, err, stderr.String())
	}
	if _, err := out.Seek(0, 0); err != nil {
		b.Fatal(err)
	}
	n := 0
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		n++
	}
	if n == 0 {
		b.Fatalf("%s printed no line; stderr:\n%s", name, stderr.String())
	}
	ps := cmd.ProcessState
	return measured{lines: n, wall: wall, cpu: ps.UserTime() + ps.SystemTime()}
}

// BenchmarkLinesVsStern appends benchLines lines to the log every pod of one app on one
// cluster serves, then reads all of it to a file with fleetdeck logs, stern and kubectl logs,
// and prints lines per second and CPU seconds of each. It needs the sandbox, builds stern from
// the module proxy, and runs only with -bench (never under make test):
//
//	go test ./kube/logs/integration -run '^$' -bench LinesVsStern -benchtime 3x
func BenchmarkLinesVsStern(b *testing.B) {
	f := sandboxtest.Fleet(b)
	stern := ensureStern(b)
	app, ok := scenario.AppByName(scenario.HealthyApp)
	if !ok {
		b.Fatal("no healthy app in the scenario")
	}
	cluster := scenario.ProdEU
	pods := podsOf(b, f, app, cluster)
	if len(pods) == 0 {
		b.Fatalf("no pods of %s on %s", app.Name, cluster)
	}
	// Every pod of the container on the cluster serves this file (see sandbox.logPlan).
	file := filepath.Join(f.Dir, "logs", "pods", cluster, app.Namespace, app.Name+".log")
	const benchLines = 100_000
	appendLines(b, file, benchLines)

	giveContainerIDs(b, f, app.Namespace, pods, cluster)

	cfg := configAs(b, f)
	bin := fleetdeck(b)
	cache := b.TempDir()
	tools := []struct {
		name string
		argv []string
		env  []string
	}{
		{"fleetdeck", []string{bin, "logs", app.Name, "--config", cfg, "--cluster", cluster, "--since", "1h", "--no-follow"},
			[]string{"XDG_CACHE_HOME=" + cache, "NO_COLOR=1"}},
		{"stern", []string{stern, "--kubeconfig", f.Kubeconfig, "--context", cluster, "-n", app.Namespace,
			"^" + app.Name + "-", "--no-follow", "--since", "1h", "--color", "never", "--max-log-requests", "50"}, nil},
	}
	if sel := selectorOf(b, f, app.Namespace, pods[0], cluster); sel != "" {
		tools = append(tools, struct {
			name string
			argv []string
			env  []string
		}{"kubectl", []string{f.Bins.Kubectl, "--kubeconfig", f.Kubeconfig, "--context", cluster, "-n", app.Namespace,
			"logs", "-l", sel, "--prefix", "--since", "1h", "--max-log-requests", "50", "--tail", "-1"}, nil})
	}
	results := map[string]measured{}
	b.ResetTimer()
	for b.Loop() {
		for _, tool := range tools {
			m := measure(b, tool.name, tool.argv, tool.env)
			r := results[tool.name]
			r.lines += m.lines
			r.wall += m.wall
			r.cpu += m.cpu
			results[tool.name] = r
		}
	}
	b.StopTimer()
	var sb strings.Builder
	fmt.Fprintf(&sb, "\n%d pods of %s on %s, %d lines appended to their log; totals over %d runs\n", len(pods), app.Name, cluster, benchLines, b.N)
	fmt.Fprintf(&sb, "%-10s %12s %10s %10s %12s\n", "tool", "lines/run", "wall s", "CPU s", "lines/s")
	for _, tool := range tools {
		r := results[tool.name]
		perSec := float64(r.lines) / r.wall.Seconds()
		fmt.Fprintf(&sb, "%-10s %12d %10.2f %10.2f %12.0f\n", tool.name, r.lines/b.N, r.wall.Seconds()/float64(b.N), r.cpu.Seconds()/float64(b.N), perSec)
		b.ReportMetric(perSec, tool.name+"-lines/s")
		b.ReportMetric(r.cpu.Seconds()/float64(b.N), tool.name+"-cpu-s/op")
	}
	fmt.Print(sb.String())
}

// appendLines adds n CRI lines of a realistic length, dated within the last minute, to a
// kwok-served log file (the agent keeps appending its own lines meanwhile).
func appendLines(b *testing.B, file string, n int) {
	b.Helper()
	fh, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer fh.Close()
	w := bufio.NewWriterSize(fh, 1<<20)
	base := time.Now().Add(-time.Minute)
	for i := range n {
		msg := fmt.Sprintf(`INFO bench request_id=%08x method=GET path=/api/v1/items/%d status=200 latency=%dms user_agent="curl/8.5"`, i, i%997, i%250)
		if _, err := w.WriteString(podlogs.Line(base.Add(time.Duration(i)*time.Microsecond), msg)); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
}

// selectorOf is a label selector for the app's pods, from one pod's labels ("" if none fits).
func selectorOf(b *testing.B, f *sandbox.Fleet, ns, pod, cluster string) string {
	b.Helper()
	cs, err := f.Clientset(cluster)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := cs.CoreV1().Pods(ns).Get(ctx, pod, metav1.GetOptions{})
	if err != nil {
		b.Fatal(err)
	}
	for _, k := range []string{"app.kubernetes.io/name", "app", "app.kubernetes.io/instance"} {
		if v, ok := p.Labels[k]; ok {
			return k + "=" + v
		}
	}
	return ""
}

// giveContainerIDs sets a container ID on the pods' container statuses where kwok left none:
// stern follows only containers with an ID (as the kubelet reports them), fleetdeck and
// kubectl do not need one.
func giveContainerIDs(b *testing.B, f *sandbox.Fleet, ns string, pods []string, cluster string) {
	b.Helper()
	cs, err := f.Clientset(cluster)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, name := range pods {
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			p, err := cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			changed := false
			for i := range p.Status.ContainerStatuses {
				if p.Status.ContainerStatuses[i].ContainerID == "" {
					p.Status.ContainerStatuses[i].ContainerID = "containerd://" + string(p.UID)[:8] + "-" + p.Status.ContainerStatuses[i].Name
					changed = true
				}
			}
			if !changed {
				return nil
			}
			_, err = cs.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			b.Fatalf("pod %s/%s: set container IDs: %v", ns, name, err)
		}
	}
}
