// Package integration runs `fleetdeck logs` against the real sandbox fleet: three control
// planes whose kwok nodes serve the pod logs the sandbox's agent writes, the restricted
// viewer user that may list pods but not read pods/log, and pods that come and go.
package integration

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fleetdeck/fleetdeck/internal/sandbox"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/controlplane"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/sandboxtest"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

func TestMain(m *testing.M) { sandboxtest.Main(m) }

// fleetdeck is the built command: follow mode is stopped with SIGINT, the way a user stops it,
// so it runs as its own process.
func fleetdeck(t testing.TB) string { return sandboxtest.Binary(t) }

// configAs writes a copy of the sandbox's config that reaches the given clusters through their
// restricted viewer context.
func configAs(t testing.TB, f *sandbox.Fleet, viewers ...string) string {
	t.Helper()
	data, err := os.ReadFile(f.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(data), "kubeconfig: kubeconfig", "kubeconfig: "+f.Kubeconfig)
	for _, c := range viewers {
		s = strings.Replace(s, "context: "+c+"\n", "context: "+c+"-viewer\n", 1)
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// run is a running `fleetdeck logs`.
type run struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	lines  []string
	stderr []string
	done   chan struct{}
}

func start(t *testing.T, args ...string) *run {
	t.Helper()
	cache := t.TempDir()
	cmd := exec.Command(fleetdeck(t), append([]string{"logs"}, args...)...)
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+cache, "NO_COLOR=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &run{cmd: cmd, done: make(chan struct{})}
	var wg sync.WaitGroup
	read := func(rd io.Reader, into *[]string) {
		defer wg.Done()
		sc := bufio.NewScanner(rd)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			r.mu.Lock()
			*into = append(*into, sc.Text())
			r.mu.Unlock()
		}
	}
	wg.Add(2)
	go read(stdout, &r.lines)
	go read(stderr, &r.stderr)
	go func() { wg.Wait(); close(r.done) }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return r
}

func (r *run) snapshot() (lines, stderr []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lines...), append([]string(nil), r.stderr...)
}

// waitUntil polls cond over the output until it holds, failing after d.
func (r *run) waitUntil(t *testing.T, d time.Duration, what string, cond func(lines, stderr []string) bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		lines, stderr := r.snapshot()
		if cond(lines, stderr) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s; %d lines, stderr:\n%s\nlast lines:\n%s", what, d, len(lines),
				strings.Join(stderr, "\n"), strings.Join(lines[max(0, len(lines)-10):], "\n"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop interrupts the run and returns its exit code.
func (r *run) stop(t *testing.T) int {
	t.Helper()
	_ = r.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-r.done:
	case <-time.After(15 * time.Second):
		t.Error("fleetdeck logs did not stop within 15s of SIGINT")
		_ = r.cmd.Process.Kill()
	}
	return r.wait()
}

func (r *run) wait() int {
	<-r.done
	_ = r.cmd.Wait()
	return r.cmd.ProcessState.ExitCode()
}

// podsOf lists the running pods of an app on a cluster, by name.
func podsOf(t testing.TB, f *sandbox.Fleet, app scenario.App, cluster string) []string {
	t.Helper()
	cs, err := f.Clientset(cluster)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	list, err := cs.CoreV1().Pods(app.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range list.Items {
		if strings.HasPrefix(p.Name, app.Name+"-") && p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
			out = append(out, p.Name)
		}
	}
	return out
}

// lineRe is a line of `logs --timestamps`: cluster, pod, container, time, text.
var lineRe = regexp.MustCompile(`^(\S+) (\S+) (\S+) (\S+) (.*)$`)

type parsed struct {
	cluster, pod, container string
	ts                      time.Time
	text                    string
}

func parse(lines []string) []parsed {
	var out []parsed
	for _, l := range lines {
		m := lineRe.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		ts, err := time.Parse("2006-01-02T15:04:05.000Z", m[4])
		if err != nil {
			continue
		}
		out = append(out, parsed{m[1], m[2], m[3], ts, m[5]})
	}
	return out
}

// healthyOnAll is an app that runs healthy on every cluster of the sandbox.
func healthyOnAll(t *testing.T) scenario.App {
	app, ok := scenario.AppByName(scenario.HealthyApp)
	if !ok || len(app.Instances) != len(scenario.Clusters) {
		t.Fatalf("the scenario's healthy app %s should run on every cluster", scenario.HealthyApp)
	}
	return app
}

// TestFollowAcrossTheFleet follows an application on all three clusters: every pod of every
// cluster prints lines with its prefix, new lines keep coming, a deleted pod ends cleanly and
// its replacement is picked up, and SIGINT ends the run with exit 0.
func TestFollowAcrossTheFleet(t *testing.T) {
	f := sandboxtest.Fleet(t)
	app := healthyOnAll(t)
	cfg := configAs(t, f)
	want := map[string][]string{}
	for _, c := range scenario.Clusters {
		want[c] = podsOf(t, f, app, c)
		if len(want[c]) == 0 {
			t.Fatalf("no running pod of %s on %s", app.Name, c)
		}
	}
	began := time.Now()
	r := start(t, app.Name, "--config", cfg, "-f", "--timestamps", "--since", "5m")
	every := func(after time.Time) func(lines, _ []string) bool {
		return func(lines, _ []string) bool {
			seen := map[string]bool{}
			for _, p := range parse(lines) {
				if p.ts.After(after) && p.container == app.Name {
					seen[p.cluster+" "+p.pod] = true
				}
			}
			for c, pods := range want {
				for _, pod := range pods {
					if !seen[c+" "+pod] {
						return false
					}
				}
			}
			return true
		}
	}
	r.waitUntil(t, 60*time.Second, "lines from every pod of every cluster", every(time.Time{}))
	// Following: lines written after the run began arrive from every pod too.
	r.waitUntil(t, 30*time.Second, "new lines from every pod", every(began.Add(time.Second)))

	// A deleted pod ends; the pod its ReplicaSet creates instead is followed.
	victim := want[scenario.ProdUS][0]
	cs, err := f.Clientset(scenario.ProdUS)
	if err != nil {
		t.Fatal(err)
	}
	zero := int64(0)
	if err := cs.CoreV1().Pods(app.Namespace).Delete(context.Background(), victim, metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	deleted := time.Now()
	r.waitUntil(t, 30*time.Second, "the deleted pod's end", func(_, stderr []string) bool {
		return containsLine(stderr, "- "+scenario.ProdUS+" "+victim+" ")
	})
	var replacement string
	r.waitUntil(t, 30*time.Second, "lines from the replacement pod", func(lines, stderr []string) bool {
		for _, l := range stderr {
			if strings.HasPrefix(l, "+ "+scenario.ProdUS+" ") && !strings.Contains(l, victim) {
				pod := strings.Fields(l)[2]
				if !contains(want[scenario.ProdUS], pod) {
					replacement = pod
				}
			}
		}
		for _, p := range parse(lines) {
			if p.pod == replacement && replacement != "" {
				return true
			}
		}
		return false
	})
	t.Logf("replacement %s streaming %.1fs after the delete", replacement, time.Since(deleted).Seconds())

	if code := r.stop(t); code != 0 {
		_, stderr := r.snapshot()
		t.Errorf("exit %d after SIGINT, want 0; stderr:\n%s", code, strings.Join(stderr, "\n"))
	}
	_, stderr := r.snapshot()
	for _, l := range stderr {
		if strings.HasPrefix(l, "fleetdeck:") {
			t.Errorf("unexpected notice: %s", l)
		}
	}
}

// TestForbiddenClusterDoesNotBlock reaches prod-us as the viewer, who may list pods but not
// read their logs: that is said once, the other clusters stream, and the exit status is 1.
func TestForbiddenClusterDoesNotBlock(t *testing.T) {
	f := sandboxtest.Fleet(t)
	app := healthyOnAll(t)
	cfg := configAs(t, f, scenario.ProdUS)
	r := start(t, app.Name, "--config", cfg, "--since", "5m", "--no-follow")
	code := r.wait()
	lines, stderr := r.snapshot()
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	n := 0
	for _, l := range stderr {
		if strings.Contains(l, "cluster "+scenario.ProdUS+": may not read pod logs") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d notices about %s, want 1; stderr:\n%s", n, scenario.ProdUS, strings.Join(stderr, "\n"))
	}
	byCluster := map[string]int{}
	for _, l := range lines {
		byCluster[strings.Fields(l)[0]]++
	}
	for _, c := range []string{scenario.ProdEU, scenario.Staging} {
		if byCluster[c] == 0 {
			t.Errorf("no lines from %s while %s is forbidden: %v", c, scenario.ProdUS, byCluster)
		}
	}
	if byCluster[scenario.ProdUS] != 0 {
		t.Errorf("%d lines from the forbidden cluster", byCluster[scenario.ProdUS])
	}
}

// TestOnePodOnce reads one pod's log once, as JSON, and exits 0.
func TestOnePodOnce(t *testing.T) {
	f := sandboxtest.Fleet(t)
	app := healthyOnAll(t)
	pod := podsOf(t, f, app, scenario.Staging)[0]
	r := start(t, app.Name, "--config", configAs(t, f), "--cluster", scenario.Staging, "--pod", "^"+regexp.QuoteMeta(pod)+"$", "-o", "json", "--tail", "5", "--no-follow")
	if code := r.wait(); code != 0 {
		_, stderr := r.snapshot()
		t.Fatalf("exit %d; stderr:\n%s", code, strings.Join(stderr, "\n"))
	}
	lines, _ := r.snapshot()
	if len(lines) != 5 {
		t.Fatalf("%d lines with --tail 5:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	for _, l := range lines {
		if !strings.Contains(l, `"cluster":"`+scenario.Staging+`"`) || !strings.Contains(l, `"pod":"`+pod+`"`) {
			t.Errorf("line from elsewhere: %s", l)
		}
	}
}

func containsLine(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// TestScaleUpIsFollowedWithin3s scales the app up on one cluster while following it: the new
// pod's lines arrive within 3 s of the pod running.
func TestScaleUpIsFollowedWithin3s(t *testing.T) {
	f := sandboxtest.Fleet(t)
	app := healthyOnAll(t)
	cluster := scenario.Staging
	before := podsOf(t, f, app, cluster)
	r := start(t, app.Name, "--config", configAs(t, f), "-f", "--timestamps", "--since", "1m")
	r.waitUntil(t, 60*time.Second, "lines from every pod on "+cluster, func(lines, _ []string) bool {
		seen := map[string]bool{}
		for _, p := range parse(lines) {
			if p.cluster == cluster {
				seen[p.pod] = true
			}
		}
		for _, pod := range before {
			if !seen[pod] {
				return false
			}
		}
		return true
	})

	cs, err := f.Clientset(cluster)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	deployments := cs.AppsV1().Deployments(app.Namespace)
	scale, err := deployments.GetScale(ctx, app.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	replicas := scale.Spec.Replicas
	t.Cleanup(func() {
		s, err := deployments.GetScale(context.Background(), app.Name, metav1.GetOptions{})
		if err == nil {
			s.Spec.Replicas = replicas
			_, err = deployments.UpdateScale(context.Background(), app.Name, s, metav1.UpdateOptions{})
		}
		if err != nil {
			t.Errorf("scale %s back to %d: %v", app.Name, replicas, err)
		}
	})
	scale.Spec.Replicas = replicas + 1
	scaled := time.Now()
	if _, err := deployments.UpdateScale(ctx, app.Name, scale, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	var added string
	deadline := time.Now().Add(30 * time.Second)
	for added == "" {
		for _, p := range podsOf(t, f, app, cluster) {
			if !contains(before, p) {
				added = p
			}
		}
		if added == "" {
			if time.Now().After(deadline) {
				t.Fatalf("no new running pod of %s on %s within 30s of scaling to %d", app.Name, cluster, replicas+1)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	running := time.Now()
	r.waitUntil(t, 3*time.Second, "line from the new pod "+added+" within 3s of it running", func(lines, _ []string) bool {
		for _, p := range parse(lines) {
			if p.cluster == cluster && p.pod == added {
				return true
			}
		}
		return false
	})
	t.Logf("new pod %s: running %.2fs after the scale, first line %.2fs after running",
		added, running.Sub(scaled).Seconds(), time.Since(running).Seconds())
	if code := r.stop(t); code != 0 {
		t.Errorf("exit %d after SIGINT, want 0", code)
	}
}

// TestStoppedAPIServerKeepsOthersStreaming kills one cluster's kube-apiserver while following an
// app on every cluster: the other clusters keep streaming, the lost cluster is reported in one
// clear notice, and the run goes on. The apiserver is started again afterwards.
func TestStoppedAPIServerKeepsOthersStreaming(t *testing.T) {
	f := sandboxtest.Fleet(t)
	app := healthyOnAll(t)
	victim := scenario.ProdUS
	r := start(t, app.Name, "--config", configAs(t, f), "-f", "--timestamps", "--since", "1m")
	fromEvery := func(after time.Time, clusters ...string) func(lines, _ []string) bool {
		return func(lines, _ []string) bool {
			seen := map[string]bool{}
			for _, p := range parse(lines) {
				if p.ts.After(after) {
					seen[p.cluster] = true
				}
			}
			for _, c := range clusters {
				if !seen[c] {
					return false
				}
			}
			return true
		}
	}
	r.waitUntil(t, 60*time.Second, "lines from every cluster", fromEvery(time.Time{}, scenario.Clusters...))

	name := controlplane.APIServerProcess(victim)
	t.Cleanup(func() { sandboxtest.RestartAPIServer(t, f, victim) })
	if err := f.CP.Kill(name); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	unreachable := func(stderr []string) []string {
		var out []string
		for _, l := range stderr {
			if strings.Contains(l, victim) && strings.Contains(l, "unreachable") {
				out = append(out, l)
			}
		}
		return out
	}
	r.waitUntil(t, 30*time.Second, "a notice that "+victim+" is unreachable", func(_, stderr []string) bool {
		return len(unreachable(stderr)) > 0
	})
	t.Logf("notice %.1fs after the kill", time.Since(killed).Seconds())
	others := []string{scenario.ProdEU, scenario.Staging}
	r.waitUntil(t, 15*time.Second, "new lines from the other clusters", fromEvery(time.Now().Add(time.Second), others...))
	// Let any second notice show before counting.
	time.Sleep(3 * time.Second)
	_, stderr := r.snapshot()
	if n := unreachable(stderr); len(n) != 1 {
		t.Errorf("%d notices about %s, want 1:\n%s", len(n), victim, strings.Join(stderr, "\n"))
	} else {
		t.Logf("notice: %s", n[0])
	}
	if code := r.stop(t); code != 0 && code != 1 {
		t.Errorf("exit %d after SIGINT, want 0 or 1", code)
	}
}
