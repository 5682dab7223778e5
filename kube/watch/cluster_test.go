package watch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	fakediscovery "k8s.io/client-go/discovery/fake"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

var argoGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}

// fakeCluster builds clients over fakes holding objs (typed) and apps (Argo CD Applications;
// when nil, the cluster does not serve argoproj.io at all).
func fakeCluster(t testing.TB, objs []runtime.Object, apps []runtime.Object) (*fake.Clientset, Clients) {
	t.Helper()
	cs := fake.NewClientset(objs...)
	disc := cs.Discovery().(*fakediscovery.FakeDiscovery)
	if apps != nil {
		disc.Resources = []*metav1.APIResourceList{{GroupVersion: "argoproj.io/v1alpha1",
			APIResources: []metav1.APIResource{{Name: "applications", Kind: "Application", Namespaced: true}}}}
	}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{argoGVR: "ApplicationList"}, apps...)
	return cs, Clients{Kube: cs, Dynamic: dyn, Discovery: disc}
}

func pod(ns, name string) *corev1.Pod {
	p := fatPod(name)
	p.Namespace = ns
	return p
}

func argoApp(name string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
		"metadata": map[string]any{"name": name, "namespace": "argocd"},
		"spec":     map[string]any{"destination": map[string]any{"name": "prod-eu"}, "syncPolicy": map[string]any{}},
		"status":   map[string]any{"sync": map[string]any{"status": "Synced"}},
	}}
}

// run starts c and returns a stop function that waits for Run to return.
func run(t *testing.T, c *Cluster) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return 10s after its context ended")
		}
	}
	t.Cleanup(stop)
	return stop
}

// waitFor polls cond (a state predicate) until it holds or the deadline passes.
func waitFor(t *testing.T, c *Cluster, what string, d time.Duration, cond func(State) bool) State {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		st := c.State()
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached after %v; state %+v", what, d, st)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func fastOptions() Options {
	return Options{SlowAfter: 300 * time.Millisecond, ProbeInterval: 50 * time.Millisecond,
		ProbeTimeout: 50 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
		ForbiddenRetry: 200 * time.Millisecond, DiscoveryInterval: 100 * time.Millisecond}
}

func TestClusterSyncsTrimsAndFollowsChanges(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // runs after run's cleanup stopped the cluster
	cs, clients := fakeCluster(t,
		[]runtime.Object{pod("shop", "web-1"), pod("shop", "web-2"),
			&appsv1.Deployment{ObjectMeta: fatMeta("web")}},
		[]runtime.Object{argoApp("auth-prod-eu")})
	c := NewForClients("prod-eu", clients, fastOptions())
	stop := run(t, c)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st := c.WaitSettled(ctx)
	if st.Phase != Synced || !st.Complete() {
		t.Fatalf("phase %s complete %v, want synced and complete: %+v", st.Phase, st.Complete(), st)
	}
	wantMissing := []string{ResGitRepositories, ResHelmReleases, ResKustomizations}
	if !slices.Equal(st.Missing, wantMissing) {
		t.Errorf("Missing = %v, want %v", st.Missing, wantMissing)
	}
	if st.LastEvent.IsZero() {
		t.Error("LastEvent not set after sync")
	}
	s := c.Snapshot()
	if len(s.Pods) != 2 || s.Pods[0].Name != "web-1" || s.Pods[1].Name != "web-2" {
		t.Fatalf("pods = %v", names(s.Pods))
	}
	if s.Pods[0].ManagedFields != nil || s.Pods[0].Annotations != nil || s.Pods[0].Spec.Volumes != nil {
		t.Errorf("cached pod not trimmed: %+v", s.Pods[0].ObjectMeta)
	}
	if len(s.Deployments) != 1 || len(s.Applications) != 1 {
		t.Fatalf("deployments %d applications %d, want 1 and 1", len(s.Deployments), len(s.Applications))
	}
	if _, found, _ := unstructured.NestedMap(s.Applications[0].Object, "spec", "syncPolicy"); found {
		t.Error("cached Application not trimmed")
	}

	// Drain the notifications of the sync, then change the cluster.
	select {
	case <-c.Changed():
	default:
	}
	if _, err := cs.CoreV1().Pods("shop").Create(context.Background(), pod("shop", "web-3"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Changed():
	case <-time.After(5 * time.Second):
		t.Fatal("no change notification after a pod was created")
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(c.Snapshot().Pods) != 3 {
		if time.Now().After(deadline) {
			t.Fatalf("pods = %v, want 3", names(c.Snapshot().Pods))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cs.CoreV1().Pods("shop").Delete(context.Background(), "web-1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for got := names(c.Snapshot().Pods); !slices.Equal(got, []string{"web-2", "web-3"}); got = names(c.Snapshot().Pods) {
		if time.Now().After(deadline) {
			t.Fatalf("pods after delete = %v", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
}

func names[T metav1.Object](objs []T) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o.GetName()
	}
	return out
}

func TestClusterForbiddenResourceDoesNotBlockTheRest(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // runs after run's cleanup stopped the cluster
	cs, clients := fakeCluster(t, []runtime.Object{pod("shop", "web-1")}, nil)
	var mu sync.Mutex
	allowed := false
	cs.PrependReactor("list", "deployments", func(k8stesting.Action) (bool, runtime.Object, error) {
		mu.Lock()
		defer mu.Unlock()
		if allowed {
			return false, nil, nil
		}
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments"}, "",
			errors.New(`User "dev" cannot list resource "deployments" in API group "apps" at the cluster scope`))
	})
	c := NewForClients("staging", clients, fastOptions())
	run(t, c)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st := c.WaitSettled(ctx)
	if st.Phase != Forbidden || !slices.Equal(st.Forbidden, []string{ResDeployments}) {
		t.Fatalf("phase %s forbidden %v, want forbidden [%s]", st.Phase, st.Forbidden, ResDeployments)
	}
	if len(c.Snapshot().Pods) != 1 {
		t.Errorf("pods not cached while deployments are forbidden")
	}
	if st.Err == "" {
		t.Error("no error text for the forbidden resource")
	}

	// RBAC granted later: picked up at the next retry.
	mu.Lock()
	allowed = true
	mu.Unlock()
	waitFor(t, c, "synced after RBAC granted", 5*time.Second, func(s State) bool {
		return s.Phase == Synced && len(s.Forbidden) == 0
	})
}

func TestClusterUnreachableAndBack(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // runs after run's cleanup stopped the cluster
	_, clients := fakeCluster(t, []runtime.Object{pod("shop", "web-1")}, nil)
	var mu sync.Mutex
	var probeErr error
	clients.Probe = func(ctx context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		return probeErr
	}
	c := NewForClients("prod-us", clients, fastOptions())
	run(t, c)
	waitFor(t, c, "synced", 5*time.Second, func(s State) bool { return s.Phase == Synced })

	mu.Lock()
	probeErr = fmt.Errorf("dial tcp 127.0.0.1:6443: %w", syscall.ECONNREFUSED)
	mu.Unlock()
	st := waitFor(t, c, "unreachable", 2*time.Second, func(s State) bool { return s.Phase == Unreachable })
	if st.Err == "" || !st.Complete() {
		t.Errorf("unreachable state should keep the cache and say why: %+v", st)
	}
	if len(c.Snapshot().Pods) != 1 {
		t.Error("cache dropped while unreachable")
	}

	mu.Lock()
	probeErr = nil
	mu.Unlock()
	waitFor(t, c, "synced again", 2*time.Second, func(s State) bool { return s.Phase == Synced && s.Err == "" })
}

func TestClusterSlowFirstList(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // runs after run's cleanup stopped the cluster
	cs, clients := fakeCluster(t, nil, nil)
	release := make(chan struct{})
	cs.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		<-release
		return false, nil, nil
	})
	c := NewForClients("prod-eu", clients, fastOptions())
	stop := run(t, c)
	if st := c.State(); st.Phase != Connecting {
		t.Errorf("phase at start = %s, want connecting", st.Phase)
	}
	st := waitFor(t, c, "slow", 2*time.Second, func(s State) bool { return s.Phase == Slow })
	for _, r := range st.Resources {
		if r.Name == ResPods && r.Synced {
			t.Error("pods synced while their list hangs")
		}
	}
	close(release)
	waitFor(t, c, "synced", 5*time.Second, func(s State) bool { return s.Phase == Synced })
	stop()
}

func TestClusterKeepsNewestWarningEventsPerObject(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // runs after run's cleanup stopped the cluster
	now := time.Now()
	var objs []runtime.Object
	for i := range 8 {
		objs = append(objs, &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Name: fmt.Sprintf("web-1.%d", i), Namespace: "shop"},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: "web-1"},
			Type:           corev1.EventTypeWarning, Reason: "BackOff",
			LastTimestamp: metav1.NewTime(now.Add(time.Duration(i-10) * time.Minute)),
		})
	}
	objs = append(objs,
		&corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "web-2.normal", Namespace: "shop"},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: "web-2"},
			Type:           corev1.EventTypeNormal, Reason: "Pulled", LastTimestamp: metav1.NewTime(now)},
		&corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "web-2.old", Namespace: "shop"},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: "web-2"},
			Type:           corev1.EventTypeWarning, Reason: "Failed", LastTimestamp: metav1.NewTime(now.Add(-3 * time.Hour))},
	)
	cs, clients := fakeCluster(t, objs, nil)
	opts := fastOptions()
	opts.EventsPerObject = 3
	c := NewForClients("prod-eu", clients, opts)
	run(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.WaitSettled(ctx)
	if got, want := names(c.Snapshot().Events), []string{"web-1.5", "web-1.6", "web-1.7"}; !slices.Equal(got, want) {
		t.Fatalf("events = %v, want %v", got, want)
	}

	_, err := cs.CoreV1().Events("shop").Create(context.Background(), &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: "web-1.new", Namespace: "shop"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: "web-1"},
		Type:           corev1.EventTypeWarning, Reason: "BackOff", LastTimestamp: metav1.NewTime(now)}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"web-1.6", "web-1.7", "web-1.new"}
	deadline := time.Now().Add(5 * time.Second)
	for got := names(c.Snapshot().Events); !slices.Equal(got, want); got = names(c.Snapshot().Events) {
		if time.Now().After(deadline) {
			t.Fatalf("events after a new one = %v, want %v", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestClusterNamespacedWatches(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // runs after run's cleanup stopped the cluster
	cs, clients := fakeCluster(t, []runtime.Object{pod("shop", "web-1"), pod("auth", "auth-1"), pod("other", "x")}, nil)
	// The restricted user may read "auth" and "shop" only.
	cs.PrependReactor("list", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetNamespace() == "" {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: a.GetResource().Resource}, "", errors.New("cluster scope"))
		}
		return false, nil, nil
	})
	opts := fastOptions()
	opts.Namespaces = []string{"shop", "auth"}
	c := NewForClients("prod-eu", clients, opts)
	run(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if st := c.WaitSettled(ctx); st.Phase != Synced {
		t.Fatalf("phase %s, want synced: %+v", st.Phase, st)
	}
	if got := names(c.Snapshot().Pods); !slices.Equal(got, []string{"auth-1", "web-1"}) {
		t.Errorf("pods = %v, want auth-1 and web-1 in namespace order", got)
	}
}

func TestNewWithBadConfigReportsUnreachable(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // runs after run's cleanup stopped the cluster
	c := New("broken", nil, Options{})
	run(t, c)
	st := waitFor(t, c, "unreachable", 2*time.Second, func(s State) bool { return s.Phase == Unreachable })
	if st.Err == "" || !st.Settled() {
		t.Errorf("state = %+v, want an error and settled", st)
	}
}
