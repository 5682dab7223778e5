package watch

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/fleetdeck/fleetdeck/internal/sandbox/binaries"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/controlplane"
)

// TestRealFleet runs the watcher against two real control planes: it syncs workloads, pods and
// a GitOps CRD installed while it runs, marks a restricted user's cluster-wide lists
// forbidden, and when one API server is killed marks that cluster unreachable within 5 s
// while the other stays synced and keeps receiving changes; once the API server runs again
// the cluster is synced again and follows changes.
func TestRealFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real control planes; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	bins, err := binaries.Ensure(ctx, binaries.Options{})
	if err != nil {
		t.Skipf("control-plane binaries unavailable: %v", err)
	}
	cp, err := controlplane.Start(ctx, controlplane.Options{Dir: filepath.Join(t.TempDir(), "fleet"),
		Clusters: []string{"a", "b"}, Bins: bins})
	if err != nil {
		t.Fatalf("start control planes: %v", err)
	}
	t.Cleanup(func() {
		if err := cp.Stop(30 * time.Second); err != nil {
			t.Errorf("stop control planes: %v", err)
		}
	})
	t.Logf("control planes ready in %s", cp.ReadyAfter.Round(100*time.Millisecond))

	// The test's own clients share one transport per cluster, closed before the leak check.
	var transports []http.RoundTripper
	testClient := func(name string) (*rest.Config, *http.Client) {
		cfg, err := cp.RESTConfig(name)
		if err != nil {
			t.Fatal(err)
		}
		hc, err := rest.HTTPClientFor(cfg)
		if err != nil {
			t.Fatal(err)
		}
		transports = append(transports, hc.Transport)
		return cfg, hc
	}
	kube := map[string]kubernetes.Interface{}
	for _, name := range []string{"a", "b"} {
		cfg, hc := testClient(name)
		if kube[name], err = kubernetes.NewForConfigAndClient(cfg, hc); err != nil {
			t.Fatal(err)
		}
		if _, err := kube[name].AppsV1().Deployments("catalog").Create(ctx, deployment("web", 3), metav1.CreateOptions{}); err != nil {
			t.Fatalf("cluster %s: create deployment: %v", name, err)
		}
	}
	// One Warning event where the viewer may read and one where it may not.
	denied := controlplane.ViewerDeniedNamespace()
	for _, ns := range []string{"catalog", denied} {
		if _, err := kube["a"].CoreV1().Events(ns).Create(ctx, warningEvent(ns, "probe-"+ns), metav1.CreateOptions{}); err != nil {
			t.Fatalf("create event in %s: %v", ns, err)
		}
	}

	// Goroutines of the control planes (process reapers) are not the watcher's.
	ignore := goleak.IgnoreCurrent()
	// ForbiddenRetry is short so that a namespace granted to the viewer is read within the test.
	opts := Options{ProbeInterval: time.Second, ProbeTimeout: time.Second, DiscoveryInterval: time.Second,
		ForbiddenRetry: 2 * time.Second}
	var clusters []*Cluster
	for _, name := range []string{"a", "b"} {
		cfg, err := cp.RESTConfig(name)
		if err != nil {
			t.Fatal(err)
		}
		clusters = append(clusters, New(name, cfg, opts))
	}
	viewerCfg, err := cp.RESTConfig(controlplane.ViewerContext("a"))
	if err != nil {
		t.Fatal(err)
	}
	viewerWide := New("a-viewer", viewerCfg, opts)
	nsOpts := opts
	nsOpts.Namespaces = append(controlplane.ViewerNamespaces(), controlplane.ViewerDeniedNamespace())
	viewerNS := New("a-viewer-ns", viewerCfg, nsOpts)

	fl := NewFleet(append(clusters, viewerWide, viewerNS)...)
	runCtx, stopRun := context.WithCancel(ctx)
	runDone := make(chan struct{})
	go func() { defer close(runDone); fl.Run(runCtx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		stopRun()
		select {
		case <-runDone:
		case <-time.After(15 * time.Second):
			t.Fatal("Fleet.Run did not return 15s after its context ended")
		}
	}
	defer stop()

	begin := time.Now()
	// WaitSynced also returns when a cluster is unreachable; on a loaded machine one probe may
	// time out for a moment, which is not what this wait is about: wait again until 20s passed.
	complete := fl.WaitSynced(ctx, 20*time.Second)
	for !complete && time.Since(begin) < 20*time.Second {
		time.Sleep(100 * time.Millisecond)
		complete = fl.WaitSynced(ctx, 20*time.Second-time.Since(begin))
	}
	if !complete {
		for _, c := range fl.Clusters() {
			t.Logf("%s: %+v", c.Name(), c.State())
		}
		t.Fatal("fleet not complete after 20s")
	}
	t.Logf("4 watchers settled in %s", time.Since(begin).Round(time.Millisecond))

	for _, c := range clusters {
		eventuallyT(t, 60*time.Second, c.Name()+": 3 running pods of web", func() (bool, string) {
			s := c.Snapshot()
			running := 0
			for _, p := range s.Pods {
				if p.Namespace == "catalog" && strings.HasPrefix(p.Name, "web-") && p.Status.Phase == corev1.PodRunning {
					running++
				}
			}
			return running == 3 && len(s.Deployments) == 1 && s.State.Phase == Synced,
				fmt.Sprintf("phase %s, %d deployments, %d running web pods of %d", s.State.Phase, len(s.Deployments), running, len(s.Pods))
		})
		s := c.Snapshot()
		for _, p := range s.Pods {
			if p.ManagedFields != nil || p.Spec.Volumes != nil {
				t.Fatalf("%s: pod %s not trimmed", c.Name(), p.Name)
			}
		}
		if !slices.Contains(s.State.Missing, ResApplications) {
			t.Errorf("%s: Missing = %v, want %s listed before Argo CD's CRD exists", c.Name(), s.State.Missing, ResApplications)
		}
	}

	t.Run("restricted user", func(t *testing.T) {
		// Cluster-wide lists are forbidden: the viewer reads each namespace it may read.
		st := viewerWide.State()
		if st.Phase != Forbidden || !st.Complete() {
			t.Fatalf("cluster-wide viewer: phase %s complete %v, want forbidden and complete: %+v", st.Phase, st.Complete(), st)
		}
		for _, res := range []string{ResPods, ResDeployments, ResEvents} {
			r := resourceState(st, res)
			if !slices.Contains(st.Forbidden, res) || !slices.Contains(st.ForbiddenIn[res], denied) {
				t.Errorf("cluster-wide viewer: %s forbidden %v in %v, want forbidden in %s", res, st.Forbidden, st.ForbiddenIn[res], denied)
			}
			for _, ns := range controlplane.ViewerNamespaces() {
				if !slices.Contains(r.Namespaces, ns) || st.ForbiddenAt(res, ns) {
					t.Errorf("cluster-wide viewer: %s read in %v, forbidden in %v; want it read in %s", res, r.Namespaces, r.ForbiddenNamespaces, ns)
				}
			}
		}
		if !strings.Contains(st.Err, "pods") || !strings.Contains(st.Err, "forbidden in") || !strings.Contains(st.Err, denied) {
			t.Errorf("cluster-wide viewer: Err %q, want pods forbidden in %s", st.Err, denied)
		}
		t.Logf("cluster-wide viewer: %s", st.Err)
		st = viewerNS.State()
		if st.Phase != Forbidden || !slices.Contains(st.Forbidden, ResPods) || !slices.Equal(st.ForbiddenIn[ResPods], []string{denied}) {
			t.Fatalf("namespaced viewer: phase %s forbidden %v in %v, want pods forbidden in %s only",
				st.Phase, st.Forbidden, st.ForbiddenIn[ResPods], denied)
		}
		for _, v := range []*Cluster{viewerWide, viewerNS} {
			eventuallyT(t, 30*time.Second, v.Name()+" sees the web pods of catalog", func() (bool, string) {
				n := 0
				for _, p := range v.Snapshot().Pods {
					if p.Namespace == "catalog" {
						n++
					}
				}
				return n >= 3, fmt.Sprintf("%d catalog pods", n)
			})
		}
		if got := eventNamespaces(viewerWide.Snapshot().Events); !slices.Contains(got, "catalog") || slices.Contains(got, denied) {
			t.Errorf("cluster-wide viewer: events in %v, want catalog and not %s", got, denied)
		}
		eventuallyT(t, 10*time.Second, "admin sees both events", func() (bool, string) {
			got := eventNamespaces(clusters[0].Snapshot().Events)
			return slices.Contains(got, "catalog") && slices.Contains(got, denied), fmt.Sprint(got)
		})
	})

	t.Run("restricted user reads a namespace granted later", func(t *testing.T) {
		const late = "late"
		if _, err := kube["a"].CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: late}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		// The viewer's grant in a namespace it reads, copied to the new one.
		bindings, err := kube["a"].RbacV1().RoleBindings("catalog").List(ctx, metav1.ListOptions{})
		if err != nil || len(bindings.Items) == 0 {
			t.Fatalf("viewer's role binding in catalog: %v (%d found)", err, len(bindings.Items))
		}
		rb := bindings.Items[0].DeepCopy()
		rb.ObjectMeta = metav1.ObjectMeta{Name: rb.Name, Namespace: late}
		if _, err := kube["a"].RbacV1().RoleBindings(late).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := kube["a"].CoreV1().Events(late).Create(ctx, warningEvent(late, "probe-late"), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		eventuallyT(t, 15*time.Second, "viewer reads the new namespace", func() (bool, string) {
			st := viewerWide.State()
			got := eventNamespaces(viewerWide.Snapshot().Events)
			return slices.Contains(got, late) && !st.ForbiddenAt(ResPods, late) && st.Phase == Forbidden,
				fmt.Sprintf("phase %s, events in %v, pods forbidden in %v", st.Phase, got, st.ForbiddenIn[ResPods])
		})
	})

	t.Run("CRD installed later is discovered", func(t *testing.T) {
		cfg, hc := testClient("a")
		ext, err := apiextclient.NewForConfigAndClient(cfg, hc)
		if err != nil {
			t.Fatal(err)
		}
		installArgoCRD(ctx, t, ext)
		dyn, err := dynamic.NewForConfigAndClient(cfg, hc)
		if err != nil {
			t.Fatal(err)
		}
		app := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
			"metadata": map[string]any{"name": "web-a", "namespace": "default"},
			"spec":     map[string]any{"destination": map[string]any{"name": "a"}, "project": "default"},
		}}
		eventuallyT(t, 30*time.Second, "Application created", func() (bool, string) {
			_, err := dyn.Resource(argoGVR).Namespace("default").Create(ctx, app, metav1.CreateOptions{})
			return err == nil, fmt.Sprint(err)
		})
		eventuallyT(t, 15*time.Second, "Application cached", func() (bool, string) {
			s := clusters[0].Snapshot()
			return len(s.Applications) == 1 && !slices.Contains(s.State.Missing, ResApplications),
				fmt.Sprintf("%d applications, missing %v", len(s.Applications), s.State.Missing)
		})
	})

	var apiserverArgs []string
	var apiserverDir string
	logDir := t.TempDir()
	t.Run("one API server killed", func(t *testing.T) {
		var pid int
		for _, p := range cp.Processes {
			if p.Name == "b-kube-apiserver" {
				pid = p.PID
			}
		}
		if pid == 0 {
			t.Fatalf("no b-kube-apiserver among %d processes", len(cp.Processes))
		}
		// Remember how it was started, to start it again below.
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			t.Fatal(err)
		}
		apiserverArgs = strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		apiserverDir, _ = os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatalf("kill apiserver of b (pid %d): %v", pid, err)
		}
		killed := time.Now()
		eventuallyT(t, 5*time.Second, "b unreachable", func() (bool, string) {
			st := clusters[1].State()
			return st.Phase == Unreachable, string(st.Phase)
		})
		t.Logf("b unreachable %s after its API server was killed", time.Since(killed).Round(time.Millisecond))
		if st := clusters[1].State(); st.Err == "" || len(clusters[1].Snapshot().Pods) == 0 {
			t.Errorf("b: want an error and the last known pods kept: %+v", st)
		}

		// a is not affected and keeps following changes.
		if _, err := kube["a"].AppsV1().Deployments("catalog").Patch(ctx, "web", "application/merge-patch+json",
			[]byte(`{"spec":{"replicas":5}}`), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		eventuallyT(t, 60*time.Second, "a sees 5 web pods", func() (bool, string) {
			s := clusters[0].Snapshot()
			n := 0
			for _, p := range s.Pods {
				if p.Namespace == "catalog" && strings.HasPrefix(p.Name, "web-") && p.DeletionTimestamp == nil {
					n++
				}
			}
			return n == 5 && s.State.Phase == Synced, fmt.Sprintf("phase %s, %d pods", s.State.Phase, n)
		})

		// A snapshot of the whole fleet is immediate although b is down.
		begin := time.Now()
		snaps := fl.Snapshots()
		if d := time.Since(begin); d > 100*time.Millisecond {
			t.Errorf("Snapshots took %s with one cluster down", d)
		}
		if snaps[1].State.Phase != Unreachable || snaps[0].State.Phase != Synced {
			t.Errorf("phases a=%s b=%s", snaps[0].State.Phase, snaps[1].State.Phase)
		}
		// Waiting with b down returns at once: b is settled (unreachable).
		begin = time.Now()
		fl.WaitSynced(ctx, 5*time.Second)
		if d := time.Since(begin); d > time.Second {
			t.Errorf("WaitSynced took %s with one cluster down", d)
		}
	})

	t.Run("API server back", func(t *testing.T) {
		if len(apiserverArgs) == 0 {
			t.Skip("the API server was not killed")
		}
		logf, err := os.Create(filepath.Join(logDir, "b-kube-apiserver.log"))
		if err != nil {
			t.Fatal(err)
		}
		defer logf.Close()
		// The control plane package has no restart: start the same command line again and
		// stop it (by its PID) before the control planes are stopped.
		cmd := exec.Command(apiserverArgs[0], apiserverArgs[1:]...)
		cmd.Dir, cmd.Stdout, cmd.Stderr = apiserverDir, logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatalf("restart apiserver of b: %v", err)
		}
		restarted := time.Now()
		waited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(waited) }()
		t.Cleanup(func() {
			// etcd keeps the state: a graceful shutdown buys nothing here.
			_ = cmd.Process.Kill()
			<-waited
		})
		eventuallyT(t, 60*time.Second, "b synced again", func() (bool, string) {
			st := clusters[1].State()
			return st.Phase == Synced, string(st.Phase) + " " + st.Err
		})
		t.Logf("b synced again %s after its API server was started again", time.Since(restarted).Round(time.Millisecond))
		if _, err := kube["b"].AppsV1().Deployments("catalog").Patch(ctx, "web", "application/merge-patch+json",
			[]byte(`{"metadata":{"labels":{"rev":"2"}}}`), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		eventuallyT(t, 10*time.Second, "b follows changes again", func() (bool, string) {
			s := clusters[1].Snapshot()
			return len(s.Deployments) == 1 && s.Deployments[0].Labels["rev"] == "2", fmt.Sprint(len(s.Deployments))
		})
	})

	begin = time.Now()
	stop()
	t.Logf("fleet watch stopped in %s", time.Since(begin).Round(time.Millisecond))
	for _, tr := range transports {
		utilnet.CloseIdleConnectionsFor(tr)
	}
	goleak.VerifyNone(t, ignore)
}

// warningEvent is a fresh Warning event about a pod in ns.
func warningEvent(ns, name string) *corev1.Event {
	now := metav1.Now()
	return &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: name, Namespace: ns},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: name},
		Type:           corev1.EventTypeWarning, Reason: "BackOff", Message: "back-off restarting failed container",
		FirstTimestamp: now, LastTimestamp: now, Count: 1,
	}
}

func eventNamespaces(events []*corev1.Event) []string {
	var out []string
	for _, e := range events {
		if !slices.Contains(out, e.Namespace) {
			out = append(out, e.Namespace)
		}
	}
	return out
}

func deployment(name string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.fleetdeck.test/shop/web:1.0.0",
					Env: []corev1.EnvVar{{Name: "DB_PASSWORD", Value: "hunter2"}}}}},
			},
		},
	}
}

func installArgoCRD(ctx context.Context, t *testing.T, c apiextclient.Interface) {
	t.Helper()
	crd := &apiextv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "applications.argoproj.io"},
		Spec: apiextv1.CustomResourceDefinitionSpec{
			Group: "argoproj.io",
			Names: apiextv1.CustomResourceDefinitionNames{Plural: "applications", Singular: "application",
				Kind: "Application", ListKind: "ApplicationList"},
			Scope: apiextv1.NamespaceScoped,
			Versions: []apiextv1.CustomResourceDefinitionVersion{{Name: "v1alpha1", Served: true, Storage: true,
				Schema: &apiextv1.CustomResourceValidation{OpenAPIV3Schema: &apiextv1.JSONSchemaProps{
					Type: "object", XPreserveUnknownFields: ptr.To(true)}}}},
		},
	}
	if _, err := c.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, crd, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create Argo CD Application CRD: %v", err)
	}
}

// eventuallyT polls cond every 100 ms until it holds or d passes; the failure shows cond's
// last description.
func eventuallyT(t *testing.T, d time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ok, desc := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s (%s)", what, d, desc)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestRealSyncVsKubectl compares the time to a complete cache of a cluster holding 2000 pods
// with `kubectl get pods -A -o json` against the same API server, and reports the heap the
// cache holds. It creates 2000 pods, so it runs only with FLEETDECK_PERF=1.
func TestRealSyncVsKubectl(t *testing.T) {
	if os.Getenv("FLEETDECK_PERF") == "" {
		t.Skip("creates 2000 pods on a real control plane; set FLEETDECK_PERF=1 to run")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	bins, err := binaries.Ensure(ctx, binaries.Options{})
	if err != nil {
		t.Skipf("control-plane binaries unavailable: %v", err)
	}
	cp, err := controlplane.Start(ctx, controlplane.Options{Dir: filepath.Join(t.TempDir(), "fleet"),
		Clusters: []string{"perf"}, Bins: bins})
	if err != nil {
		t.Fatalf("start control plane: %v", err)
	}
	t.Cleanup(func() {
		if err := cp.Stop(30 * time.Second); err != nil {
			t.Errorf("stop control plane: %v", err)
		}
	})
	cfg, err := cp.RESTConfig("perf")
	if err != nil {
		t.Fatal(err)
	}
	admin := rest.CopyConfig(cfg)
	admin.QPS, admin.Burst = 1000, 1000
	kc := kubernetes.NewForConfigOrDie(admin)

	const pods = 2000
	namespaces := controlplane.ViewerNamespaces()
	begin := time.Now()
	work := make(chan int)
	errs := make(chan error, 16)
	for range 16 {
		go func() {
			var first error
			for i := range work { // keep draining after an error so the sender never blocks
				if first != nil {
					continue
				}
				p := perfPod(i, namespaces[i%len(namespaces)], controlplane.NodeName("perf"))
				_, first = kc.CoreV1().Pods(p.Namespace).Create(ctx, p, metav1.CreateOptions{})
			}
			errs <- first
		}()
	}
	for i := range pods {
		work <- i
	}
	close(work)
	for range 16 {
		if err := <-errs; err != nil {
			t.Fatalf("create pods: %v", err)
		}
	}
	t.Logf("created %d pods in %s", pods, time.Since(begin).Round(time.Millisecond))

	var kubectl []time.Duration
	for range 3 {
		begin := time.Now()
		out, err := exec.CommandContext(ctx, bins.Kubectl, "--kubeconfig", cp.Kubeconfig, "--context", "perf",
			"get", "pods", "-A", "-o", "json").Output()
		if err != nil {
			t.Fatalf("kubectl get pods: %v", err)
		}
		kubectl = append(kubectl, time.Since(begin))
		if len(out) < pods*500 {
			t.Fatalf("kubectl returned only %d bytes", len(out))
		}
	}
	slices.Sort(kubectl)

	var watchTimes []time.Duration
	var held uint64
	for range 3 {
		before := heapInUse()
		c := New("perf", cfg, Options{})
		rctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		begin := time.Now()
		go func() { defer close(done); c.Run(rctx) }()
		st := c.WaitSettled(ctx)
		watchTimes = append(watchTimes, time.Since(begin))
		if !st.Complete() || len(c.Snapshot().Pods) < pods {
			t.Fatalf("not complete: %d pods, %+v", len(c.Snapshot().Pods), st)
		}
		held = heapInUse() - before
		stop()
		<-done
	}
	slices.Sort(watchTimes)
	t.Logf("kubectl get pods -A -o json: %v; complete cache of every kind: %v; cache heap %d KiB (%d B/pod)",
		kubectl, watchTimes, held>>10, held/pods)
	if limit := kubectl[1] * 12 / 10; watchTimes[1] > limit {
		t.Errorf("median time to a complete cache %s > 1.2 × median kubectl %s", watchTimes[1], kubectl[1])
	}
}

// perfPod is a pod with what real pods carry: a last-applied annotation, labels, env,
// resources, probes, mounts and tolerations, bound to node so no scheduler is involved.
func perfPod(i int, ns, node string) *corev1.Pod {
	name := fmt.Sprintf("web-%05d", i)
	probe := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt(8080)}}}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns,
			Labels:      map[string]string{"app": "web", "pod-template-hash": "7d9f8c", "app.kubernetes.io/instance": "web-perf"},
			Annotations: map[string]string{lastApplied: strings.Repeat("x", 2000)}},
		Spec: corev1.PodSpec{
			NodeName: node,
			Containers: []corev1.Container{{Name: "app", Image: "registry.fleetdeck.test/shop/web:1.0.0",
				Command: []string{"/app", "--port=8080"},
				Env:     []corev1.EnvVar{{Name: "LOG_LEVEL", Value: "info"}, {Name: "DB_PASSWORD", Value: "hunter2"}},
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
					"cpu": resource.MustParse("10m"), "memory": resource.MustParse("16Mi")}},
				LivenessProbe: probe, ReadinessProbe: probe,
				VolumeMounts: []corev1.VolumeMount{{Name: "cache", MountPath: "/cache"}}}},
			Volumes:     []corev1.Volume{{Name: "cache", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
			Tolerations: []corev1.Toleration{{Key: "kwok.x-k8s.io/node", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
		},
	}
}
