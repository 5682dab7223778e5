package controlplane

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/fleetdeck/fleetdeck/internal/sandbox/binaries"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/podlogs"
)

var (
	binsOnce sync.Once
	bins     binaries.Paths
	binsErr  error
)

// needBins skips in -short mode and otherwise returns the real programs,
// building them into the user cache the first time (minutes).
func needBins(t *testing.T) binaries.Paths {
	t.Helper()
	if testing.Short() {
		t.Skip("starts real control planes")
	}
	binsOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		defer cancel()
		bins, binsErr = binaries.Ensure(ctx, binaries.Options{Progress: os.Stderr})
	})
	if binsErr != nil {
		t.Fatal(binsErr)
	}
	return bins
}

const (
	crashImage    = "registry.fleetdeck.test/shop/auth-service:2.0.0-bad"
	pullFailImage = "registry.fleetdeck.test/shop/notification-worker:9.9.9-missing"
	okImage       = "registry.fleetdeck.test/shop/catalog-api:1.2.3"
)

// startFleet starts a fleet in a fresh directory and stops it when the
// test ends, whatever happens.
func startFleet(t *testing.T, dir string, clusters ...string) *Fleet {
	t.Helper()
	b := needBins(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	f, err := Start(ctx, Options{
		Dir: dir, Clusters: clusters, Bins: b, Log: testLog{t},
		Kwok: KwokOptions{
			CrashImages:    []string{crashImage},
			PullFailImages: []string{pullFailImage},
			LogTargets: []LogTarget{
				{Namespace: "catalog", Container: "catalog-api", File: filepath.Join(dir, "logs", "pods", "catalog", "catalog-api.log")},
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.Stop(30 * time.Second); err != nil {
			t.Error(err)
		}
	})
	return f
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func clientset(t *testing.T, f *Fleet, context string) *kubernetes.Clientset {
	t.Helper()
	cfg, err := f.RESTConfig(context)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("%s: not reached in %s; last state: %s", what, timeout, last)
}

func deployment(name, ns, image string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app.kubernetes.io/name": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: name, Image: image}}},
			},
		},
	}
}

func podsOf(t *testing.T, cs kubernetes.Interface, ns, name string) []corev1.Pod {
	t.Helper()
	list, err := cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=" + name})
	if err != nil {
		t.Fatal(err)
	}
	return list.Items
}

func describe(pods []corev1.Pod) string {
	var parts []string
	for _, p := range pods {
		s := fmt.Sprintf("%s node=%s phase=%s", p.Name, p.Spec.NodeName, p.Status.Phase)
		for _, cs := range p.Status.ContainerStatuses {
			s += fmt.Sprintf(" [%s ready=%v restarts=%d", cs.Name, cs.Ready, cs.RestartCount)
			if w := cs.State.Waiting; w != nil {
				s += " waiting=" + w.Reason
			}
			if cs.State.Running != nil {
				s += " running"
			}
			if lt := cs.LastTerminationState.Terminated; lt != nil {
				s += fmt.Sprintf(" last=exit%d", lt.ExitCode)
			}
			s += "]"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// TestFleet starts a real three-cluster fleet and checks what the rest of
// fleetdeck relies on: workloads run on the kwok node, crash loops and
// pull failures look real, logs follow, RBAC restricts the viewer, and Stop
// leaves no process and no port behind.
func TestFleet(t *testing.T) {
	dir := t.TempDir()
	begin := time.Now()
	f := startFleet(t, dir, "c1", "c2", "c3")
	t.Logf("fleet of %d clusters ready in %s (Start says %s)", len(f.Clusters), time.Since(begin).Round(100*time.Millisecond), f.ReadyAfter.Round(100*time.Millisecond))
	var total int64
	for _, u := range f.Usage() {
		t.Logf("RSS %-28s %4d MiB", u.Name, u.RSSBytes>>20)
		total += u.RSSBytes
	}
	t.Logf("RSS total %d MiB", total>>20)
	cs := clientset(t, f, "c1")
	ctx := context.Background()

	t.Run("files", func(t *testing.T) {
		for path, want := range map[string]os.FileMode{dir: 0o700, f.Kubeconfig: 0o600} {
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != want {
				t.Errorf("%s has mode %v, want %v", path, fi.Mode().Perm(), want)
			}
		}
		loaded, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(loaded.Clusters) != 3 || loaded.Clusters[1].Name != "c2" || len(loaded.Processes) != 1+4*3 {
			t.Errorf("state.json: %d clusters, %d processes", len(loaded.Clusters), len(loaded.Processes))
		}
		for _, p := range loaded.Processes {
			if !p.Alive() {
				t.Errorf("%s (pid %d) not alive according to state.json", p.Name, p.PID)
			}
			if _, err := os.Stat(filepath.Join(dir, "pids", p.Name+".pid")); err != nil {
				t.Error(err)
			}
		}
	})

	t.Run("clusters are separate", func(t *testing.T) {
		cs2 := clientset(t, f, "c2")
		nodes, err := cs2.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(nodes.Items) != 1 || nodes.Items[0].Name != NodeName("c2") {
			t.Errorf("c2 nodes: %v", nodes.Items)
		}
		if got := nodes.Items[0].Status.Allocatable.Pods().Value(); got != 2000 {
			t.Errorf("node allocatable pods = %d", got)
		}
		if got := nodes.Items[0].Status.NodeInfo.KubeletVersion; got != binaries.KubernetesVersion {
			t.Errorf("node kubelet version = %q", got)
		}
	})

	t.Run("deployment runs on the kwok node", func(t *testing.T) {
		if _, err := cs.AppsV1().Deployments("catalog").Create(ctx, deployment("catalog-api", "catalog", okImage, 2), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, 60*time.Second, "2 pods Running and Ready", func() (bool, string) {
			pods := podsOf(t, cs, "catalog", "catalog-api")
			ready := 0
			for _, p := range pods {
				if p.Status.Phase == corev1.PodRunning && p.Spec.NodeName == NodeName("c1") && len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].Ready {
					ready++
				}
			}
			return ready == 2, describe(pods)
		})
	})

	t.Run("crash loop", func(t *testing.T) {
		if _, err := cs.AppsV1().Deployments("auth").Create(ctx, deployment("auth-service", "auth", crashImage, 1), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		var first int32 = -1
		sawBackOff := false
		eventually(t, 90*time.Second, "restartCount grows in CrashLoopBackOff", func() (bool, string) {
			pods := podsOf(t, cs, "auth", "auth-service")
			if len(pods) != 1 || len(pods[0].Status.ContainerStatuses) != 1 {
				return false, describe(pods)
			}
			st := pods[0].Status.ContainerStatuses[0]
			if pods[0].Status.Phase != corev1.PodRunning || st.Ready {
				return false, describe(pods)
			}
			if w := st.State.Waiting; w != nil && w.Reason == "CrashLoopBackOff" {
				lt := st.LastTerminationState.Terminated
				if lt == nil || lt.ExitCode != 1 {
					t.Errorf("CrashLoopBackOff without lastState terminated exit 1: %s", describe(pods))
				}
				sawBackOff = true
				if first < 0 {
					first = st.RestartCount
				}
			}
			return sawBackOff && first >= 1 && st.RestartCount >= first+2, describe(pods)
		})
	})

	t.Run("image pull failure", func(t *testing.T) {
		if _, err := cs.AppsV1().Deployments("notifications").Create(ctx, deployment("notification-worker", "notifications", pullFailImage, 1), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, 60*time.Second, "ImagePullBackOff", func() (bool, string) {
			pods := podsOf(t, cs, "notifications", "notification-worker")
			if len(pods) != 1 || len(pods[0].Status.ContainerStatuses) != 1 {
				return false, describe(pods)
			}
			st := pods[0].Status.ContainerStatuses[0]
			if pods[0].Status.Phase == corev1.PodRunning || st.State.Running != nil {
				t.Errorf("pull-failure pod runs: %s", describe(pods))
			}
			return st.State.Waiting != nil && st.State.Waiting.Reason == "ImagePullBackOff", describe(pods)
		})
	})

	t.Run("logs follow", func(t *testing.T) {
		file := filepath.Join(dir, "logs", "pods", "catalog", "catalog-api.log")
		pods := podsOf(t, cs, "catalog", "catalog-api")
		if len(pods) == 0 {
			t.Fatal("no catalog-api pod (the deployment subtest failed)")
		}
		if err := appendLine(file, podlogs.Line(time.Now(), "before follow")); err != nil {
			t.Fatal(err)
		}
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		stream, err := cs.CoreV1().Pods("catalog").GetLogs(pods[0].Name, &corev1.PodLogOptions{Follow: true}).Stream(sctx)
		if err != nil {
			t.Fatal(err)
		}
		defer stream.Close()
		lines := make(chan string)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(stream)
			for sc.Scan() {
				select {
				case lines <- sc.Text():
				case <-sctx.Done():
					return
				}
			}
		}()
		waitLine := func(want string) {
			t.Helper()
			timeout := time.After(10 * time.Second)
			for {
				select {
				case l, ok := <-lines:
					if !ok {
						t.Fatalf("log stream ended before %q", want)
					}
					if l == want {
						return
					}
				case <-timeout:
					t.Fatalf("%q not streamed within 10s", want)
				}
			}
		}
		waitLine("before follow")
		for i := 0; i < 3; i++ {
			msg := fmt.Sprintf("appended while following %d", i)
			written := time.Now()
			if err := appendLine(file, podlogs.Line(time.Now(), msg)); err != nil {
				t.Fatal(err)
			}
			waitLine(msg)
			t.Logf("line %d streamed after %s", i, time.Since(written).Round(time.Millisecond))
		}
	})

	t.Run("viewer", func(t *testing.T) {
		viewer := clientset(t, f, ViewerContext("c1"))
		allowed := func(verb, group, resource, ns string) bool {
			t.Helper()
			r, err := viewer.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
				Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
					Verb: verb, Group: group, Resource: resource, Namespace: ns}},
			}, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return r.Status.Allowed
		}
		tests := []struct {
			verb, group, resource, ns string
			want                      bool
		}{
			{"list", "", "pods", "catalog", true},
			{"list", "apps", "deployments", "auth", true},
			{"watch", "apps", "replicasets", "checkout", true},
			{"list", "", "namespaces", "", true},
			{"delete", "", "pods", "catalog", false},
			{"patch", "apps", "deployments", "catalog", false},
			{"list", "", "secrets", "catalog", false},
			{"get", "", "pods/log", "catalog", false},
			{"list", "", "pods", ViewerDeniedNamespace(), false},
			{"list", "apps", "deployments", ViewerDeniedNamespace(), false},
		}
		for _, tt := range tests {
			if got := allowed(tt.verb, tt.group, tt.resource, tt.ns); got != tt.want {
				t.Errorf("viewer %s %s.%s in %q: allowed=%v, want %v", tt.verb, tt.resource, tt.group, tt.ns, got, tt.want)
			}
		}
		if _, err := viewer.CoreV1().Pods("catalog").List(ctx, metav1.ListOptions{}); err != nil {
			t.Errorf("viewer list pods: %v", err)
		}
		err := viewer.CoreV1().Pods("catalog").DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
		if !apierrors.IsForbidden(err) {
			t.Errorf("viewer delete pods: err = %v, want forbidden", err)
		}
	})

	t.Run("a killed apiserver restarts on its port with its data", func(t *testing.T) {
		cs3 := clientset(t, f, "c3")
		name := APIServerProcess("c3")
		before, _ := f.Process(name)
		if err := f.Kill(name); err != nil {
			t.Fatal(err)
		}
		if _, err := cs3.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); err == nil {
			t.Fatal("the killed apiserver still answers")
		}
		after, err := f.Restart(name)
		if err != nil {
			t.Fatal(err)
		}
		if after.PID == before.PID || !after.Alive() || before.Alive() {
			t.Fatalf("restart: old pid %d alive=%v, new pid %d alive=%v", before.PID, before.Alive(), after.PID, after.Alive())
		}
		var nodes *corev1.NodeList
		deadline := time.Now().Add(60 * time.Second)
		for nodes == nil {
			if nodes, err = cs3.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); err != nil {
				nodes = nil
				if time.Now().After(deadline) {
					t.Fatalf("the restarted apiserver does not answer: %v", err)
				}
				time.Sleep(200 * time.Millisecond)
			}
		}
		if len(nodes.Items) != 1 || nodes.Items[0].Name != NodeName("c3") {
			t.Errorf("after restart c3 nodes: %v", nodes.Items)
		}
		if n := len(f.Processes); n != 1+4*3 {
			t.Errorf("%d processes recorded after the restart, want %d", n, 1+4*3)
		}
	})

	t.Run("second start refuses", func(t *testing.T) {
		_, err := Start(ctx, Options{Dir: dir, Clusters: []string{"c1"}, Bins: needBins(t)})
		if err == nil || !strings.Contains(err.Error(), "fleet already running in "+dir) || !strings.Contains(err.Error(), "demo down --dir") {
			t.Fatalf("second Start: err = %v", err)
		}
		if !f.Running() {
			t.Fatal("the refused Start disturbed the running fleet")
		}
	})

	t.Run("stop", func(t *testing.T) {
		loaded, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		stopBegin := time.Now()
		if err := Stop(dir, 30*time.Second); err != nil {
			t.Fatal(err)
		}
		t.Logf("stopped in %s", time.Since(stopBegin).Round(10*time.Millisecond))
		assertGone(t, loaded)
	})

	// A dead fleet's record is cleaned up by the next Start.
	t.Run("restart after stop", func(t *testing.T) {
		begin := time.Now()
		f2 := startFleet(t, dir, "c4")
		t.Logf("restarted one cluster in %s", time.Since(begin).Round(100*time.Millisecond))
		if _, err := clientset(t, f2, "c4").CoreV1().Nodes().Get(ctx, NodeName("c4"), metav1.GetOptions{}); err != nil {
			t.Error(err)
		}
		if _, err := f2.RESTConfig("c1"); err == nil {
			t.Error("the old fleet's contexts are still in the kubeconfig")
		}
		if err := f2.Stop(30 * time.Second); err != nil {
			t.Fatal(err)
		}
		assertGone(t, f2)
	})
}

func appendLine(path, line string) error {
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	if _, err := fh.WriteString(line); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

// assertGone checks no process of f runs and its ports are free.
func assertGone(t *testing.T, f *Fleet) {
	t.Helper()
	for _, p := range f.Processes {
		// A stopped child of this test process may be a zombie for the
		// moment its reaper goroutine needs to collect it; give it that.
		err := syscall.Kill(p.PID, 0)
		for deadline := time.Now().Add(3 * time.Second); err == nil && time.Now().Before(deadline); err = syscall.Kill(p.PID, 0) {
			time.Sleep(20 * time.Millisecond)
		}
		if !errors.Is(err, syscall.ESRCH) {
			t.Errorf("%s (pid %d) still exists after Stop: kill(pid, 0) = %v", p.Name, p.PID, err)
		}
		if _, err := os.Stat(filepath.Join(f.Dir, "pids", p.Name+".pid")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("pid file of %s left: %v", p.Name, err)
		}
	}
	for _, c := range f.Clusters {
		for _, port := range []int{c.APIServerPort, c.KwokPort} {
			if !portFree(port) {
				t.Errorf("cluster %s: port %d still in use after Stop", c.Name, port)
			}
		}
	}
}

const helperEnv = "FLEETDECK_CONTROLPLANE_HELPER_DIR"

// TestHelperFleetOwner is not a test: TestSignalStopsFleet runs the test
// binary again with only this function, and it starts a fleet with
// StopOnSignal and waits to be interrupted.
func TestHelperFleetOwner(t *testing.T) {
	dir := os.Getenv(helperEnv)
	if dir == "" {
		t.Skip("helper process for TestSignalStopsFleet")
	}
	b := needBins(t)
	_, err := Start(context.Background(), Options{Dir: dir, Clusters: []string{"s1"}, Bins: b, StopOnSignal: true})
	if err != nil {
		fmt.Println("START FAILED:", err)
		os.Exit(3)
	}
	fmt.Println("FLEET READY")
	time.Sleep(5 * time.Minute)
	fmt.Println("NOT INTERRUPTED")
	os.Exit(4)
}

// TestSignalStopsFleet interrupts a process that owns a fleet (as Ctrl-C
// on `go test` or on the foreground demo does) and checks the fleet died
// with it.
func TestSignalStopsFleet(t *testing.T) {
	needBins(t)
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperFleetOwner$", "-test.v")
	cmd.Env = append(os.Environ(), helperEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Whatever happens, leave nothing behind.
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = Stop(dir, 10*time.Second)
	})
	ready := make(chan bool, 1)
	var outLines []string
	var mu sync.Mutex
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			mu.Lock()
			outLines = append(outLines, sc.Text())
			mu.Unlock()
			if strings.Contains(sc.Text(), "FLEET READY") {
				ready <- true
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			_ = cmd.Wait()
			mu.Lock()
			defer mu.Unlock()
			t.Fatalf("helper ended before its fleet was ready:\n%s", strings.Join(outLines, "\n"))
		}
	case <-time.After(3 * time.Minute):
		t.Fatal("helper's fleet not ready in 3 minutes")
	}
	f, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Processes) != 5 || !f.Running() {
		t.Fatalf("helper's fleet: %d processes, running=%v", len(f.Processes), f.Running())
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGINT {
			t.Errorf("helper should die of SIGINT, got %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("helper did not exit within 60s of SIGINT")
	}
	// Its children were reparented when it died; give init a moment to
	// reap them.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && f.Running() {
		time.Sleep(100 * time.Millisecond)
	}
	assertGone(t, f)
}
