package engine

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	fakediscovery "k8s.io/client-go/discovery/fake"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/fleetdeck/fleetdeck/config"
	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/kube/watch"
)

var argoGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}

// fakeCluster is a cluster over client-go fakes; apps are Argo CD Applications (nil: the
// cluster serves no argoproj.io group).
func fakeCluster(name string, objs []runtime.Object, apps []runtime.Object) (*fake.Clientset, *watch.Cluster) {
	cs := fake.NewClientset(objs...)
	disc := cs.Discovery().(*fakediscovery.FakeDiscovery)
	if apps != nil {
		disc.Resources = []*metav1.APIResourceList{{GroupVersion: "argoproj.io/v1alpha1",
			APIResources: []metav1.APIResource{{Name: "applications", Kind: "Application", Namespaced: true}}}}
	}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{argoGVR: "ApplicationList"}, apps...)
	opts := watch.Options{SlowAfter: 300 * time.Millisecond, ProbeInterval: 50 * time.Millisecond,
		ProbeTimeout: 50 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
		ForbiddenRetry: 200 * time.Millisecond, DiscoveryInterval: 100 * time.Millisecond}
	return cs, watch.NewForClients(name, watch.Clients{Kube: cs, Dynamic: dyn, Discovery: disc}, opts)
}

func argoApp(name, namespace, destName, destNS, sync, health string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
		"metadata": map[string]any{"name": name, "namespace": namespace},
		"spec": map[string]any{
			"source":      map[string]any{"repoURL": "https://git.example/shop.git", "path": "k8s/web", "targetRevision": "main"},
			"destination": map[string]any{"name": destName, "namespace": destNS}},
		"status": map[string]any{"sync": map[string]any{"status": sync}, "health": map[string]any{"status": health}},
	}}
}

func deployment(ns, name, image string) *appsv1.Deployment {
	one := int32(1)
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Generation: 1},
		Spec: appsv1.DeploymentSpec{Replicas: &one, Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: name, Image: image}}}}},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, ReadyReplicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1},
	}
}

func testConfig(clusters ...string) *config.Config {
	cfg := &config.Config{Repositories: []config.Repository{{Name: "shop", URL: "https://git.example/shop.git", Branch: "main"}}}
	for _, c := range clusters {
		cfg.Clusters = append(cfg.Clusters, config.Cluster{Name: c, ArgocdName: c})
	}
	return cfg
}

// fakeGit answers fixed facts and counts the calls.
type fakeGit struct {
	calls atomic.Int32
	mu    sync.Mutex
	seen  []fleet.InstanceSource
}

func (g *fakeGit) Facts(_ context.Context, sources []fleet.InstanceSource) map[fleet.GitKey]fleet.GitFacts {
	g.calls.Add(1)
	g.mu.Lock()
	g.seen = append([]fleet.InstanceSource(nil), sources...)
	g.mu.Unlock()
	out := map[fleet.GitKey]fleet.GitFacts{}
	for _, s := range sources {
		out[s.Key] = fleet.GitFacts{Repo: s.RepoURL, Branch: "main", Head: strings.Repeat("a", 40), Path: s.Path}
	}
	return out
}

// start runs e until the test ends and waits for Run to return.
func start(t *testing.T, e *Engine) context.CancelFunc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return 10s after its context ended")
		}
	})
	return cancel
}

// withGit makes e use g as its git side, as if the repositories had opened.
func withGit(e *Engine, g GitFacts) {
	e.git.mu.Lock()
	e.git.facts = g
	e.git.mu.Unlock()
}

func TestSnapshotDoesNotWaitForAHangingCluster(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	_, hub := fakeCluster("prod-eu",
		[]runtime.Object{deployment("shop", "web", "web:1.0")},
		[]runtime.Object{
			argoApp("web-prod-eu", "argocd", "prod-eu", "shop", "Synced", "Healthy"),
			argoApp("web-prod-us", "argocd", "prod-us", "shop", "Synced", "Healthy"),
			argoApp("stray", "elsewhere", "prod-eu", "shop", "Synced", "Healthy"),
		})
	hangCS, hanging := fakeCluster("prod-us", nil, nil)
	release := make(chan struct{})
	hangCS.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		<-release
		return false, nil, nil
	})

	cfg := testConfig("prod-eu", "prod-us", "broken")
	cfg.Discovery.ArgoCD = []config.DiscoverySource{{Cluster: "prod-eu", Namespaces: []string{"argocd"}}}
	e := newEngine(cfg, Options{}, []slot{
		{name: "prod-eu", cluster: hub},
		{name: "prod-us", cluster: hanging},
		{name: "broken", broken: errors.New(`cluster broken: context "gone" not found in kubeconfig /k`)},
	}, nil)
	git := &fakeGit{}
	withGit(e, git)
	start(t, e)
	t.Cleanup(func() { close(release) }) // registered after start's cleanup: runs before it

	const timeout = 1500 * time.Millisecond
	begin := time.Now()
	m, err := e.Snapshot(context.Background(), timeout)
	took := time.Since(begin)
	if err != nil {
		t.Fatal(err)
	}
	if took > timeout+500*time.Millisecond {
		t.Errorf("Snapshot took %s with a %s timeout", took, timeout)
	}

	states := map[string]fleet.ClusterState{}
	for _, c := range m.Clusters {
		states[c.Name] = c
	}
	if got := states["prod-eu"].State; got != fleet.ConnSynced {
		t.Errorf("prod-eu state %s, want synced", got)
	}
	if c := states["prod-us"]; c.State != fleet.ConnUnreachable || !strings.Contains(c.Err, "no complete answer within 1.5s (still listing") {
		t.Errorf("hanging prod-us = %+v, want unreachable while listing pods", c)
	}
	if c := states["broken"]; c.State != fleet.ConnUnreachable || !strings.Contains(c.Err, "not found in kubeconfig") {
		t.Errorf("broken cluster = %+v, want unreachable with the kubeconfig error", c)
	}
	if len(m.Clusters) != 3 || m.Clusters[2].Name != "broken" {
		t.Errorf("clusters not in config order: %+v", m.Clusters)
	}

	app, ok := m.App("web")
	if !ok {
		t.Fatalf("app web missing; apps: %+v", m.Apps)
	}
	eu, ok := app.Instance("prod-eu")
	if !ok || eu.Health.Status != fleet.Healthy || eu.Sync.Status != fleet.Synced {
		t.Errorf("web on prod-eu = %+v, want Healthy/Synced", eu)
	}
	us, ok := app.Instance("prod-us")
	if !ok || us.Sync.Status != fleet.SyncUnknown {
		t.Errorf("web on the unreachable prod-us = %+v, want Sync Unknown", us)
	}
	if eu.Revision.Head != strings.Repeat("a", 40) {
		t.Errorf("git facts not used: revision %+v", eu.Revision)
	}
	if _, ok := m.App("stray"); ok {
		t.Error("an Application outside the discovery namespaces was shown")
	}
	if n := git.calls.Load(); n != 1 {
		t.Errorf("git facts asked %d times, want 1", n)
	}

	// Nothing changed in git or in the sources: the second snapshot renders nothing.
	if _, err := e.Snapshot(context.Background(), timeout); err != nil {
		t.Fatal(err)
	}
	if n := git.calls.Load(); n != 1 {
		t.Errorf("git facts asked %d times after a second snapshot, want the cached answer", n)
	}
}

func TestSnapshotWithoutRun(t *testing.T) {
	e := newEngine(testConfig(), Options{}, nil, nil)
	if _, err := e.Snapshot(context.Background(), 50*time.Millisecond); err == nil || !strings.Contains(err.Error(), "not running") {
		t.Errorf("Snapshot without Run: err %v, want 'not running'", err)
	}
}

func TestRunTwice(t *testing.T) {
	e := newEngine(testConfig(), Options{}, nil, nil)
	start(t, e)
	<-e.running
	if err := e.Run(context.Background()); err == nil {
		t.Error("second Run succeeded")
	}
}

func TestSubscribeCoalescesAndCloses(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	cs, c := fakeCluster("prod-eu", []runtime.Object{deployment("shop", "web", "web:1.0")},
		[]runtime.Object{argoApp("web-prod-eu", "argocd", "prod-eu", "shop", "Synced", "Healthy")})
	e := newEngine(testConfig("prod-eu"), Options{Coalesce: 100 * time.Millisecond}, []slot{{name: "prod-eu", cluster: c}}, nil)
	start(t, e)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := e.Subscribe(ctx)
	next := func(what string, cond func(fleet.Model) bool) fleet.Model {
		t.Helper()
		deadline := time.After(5 * time.Second)
		for {
			select {
			case m, ok := <-ch:
				if !ok {
					t.Fatalf("%s: channel closed", what)
				}
				if cond(m) {
					return m
				}
			case <-deadline:
				t.Fatalf("no model with %s within 5s", what)
			}
		}
	}
	next("web synced", func(m fleet.Model) bool {
		a, ok := m.App("web")
		return ok && len(m.Clusters) == 1 && m.Clusters[0].State == fleet.ConnSynced && a.Summary.Instances == 1
	})

	// A burst of changes arrives as few models, the last one complete.
	begin := time.Now()
	for i := range 20 {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "filler-" + string(rune('a'+i))}}
		if _, err := cs.CoreV1().Pods("shop").Create(context.Background(), p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	models := 0
	window := time.After(700 * time.Millisecond)
	for collecting := true; collecting; {
		select {
		case <-ch:
			models++
		case <-window:
			collecting = false
		}
	}
	// 700ms at one model per 100ms at most, plus the one already pending.
	if models == 0 || models > 8 {
		t.Errorf("%d models for a burst of 20 changes over %s, want 1..8 (coalesced)", models, time.Since(begin))
	}

	cancel()
	select {
	case _, ok := <-ch:
		for ok {
			_, ok = <-ch
		}
	case <-time.After(2 * time.Second):
		t.Fatal("channel not closed after its context ended")
	}
}

func TestSubscribeAfterRunEnded(t *testing.T) {
	e := newEngine(testConfig(), Options{}, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = e.Run(ctx) }()
	cancel()
	<-done
	if _, ok := <-e.Subscribe(context.Background()); ok {
		t.Error("Subscribe after Run returned an open channel")
	}
}

// slowGit answers like fakeGit, but each call blocks until the test releases it (or the call's
// context ends), like a long Helm render.
type slowGit struct {
	fakeGit
	started chan struct{} // receives once per call, when the call starts
	release chan struct{} // closed to let calls finish
}

func (g *slowGit) Facts(ctx context.Context, sources []fleet.InstanceSource) map[fleet.GitKey]fleet.GitFacts {
	select {
	case g.started <- struct{}{}:
	default:
	}
	select {
	case <-g.release:
	case <-ctx.Done():
		return nil
	}
	return g.fakeGit.Facts(ctx, sources)
}

// TestLiveUpdatesFlowWhileGitRenders: while a git render is in flight, subscribers still get a
// model at once and after every cluster change; the render's facts arrive in a later model.
func TestLiveUpdatesFlowWhileGitRenders(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	d := deployment("shop", "web", "web:1.0")
	d.Labels = map[string]string{fleet.ArgoInstanceLabel: "web-prod-eu"}
	cs, c := fakeCluster("prod-eu", []runtime.Object{d},
		[]runtime.Object{argoApp("web-prod-eu", "argocd", "prod-eu", "shop", "Synced", "Healthy")})
	e := newEngine(testConfig("prod-eu"), Options{Coalesce: 20 * time.Millisecond}, []slot{{name: "prod-eu", cluster: c}}, nil)
	git := &slowGit{started: make(chan struct{}, 1), release: make(chan struct{})}
	withGit(e, git)
	start(t, e)
	released := false
	t.Cleanup(func() {
		if !released {
			close(git.release)
		}
	})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := e.Subscribe(ctx)
	next := func(what string, cond func(fleet.Model) bool) fleet.Model {
		t.Helper()
		deadline := time.After(5 * time.Second)
		for {
			select {
			case m, ok := <-ch:
				if !ok {
					t.Fatalf("%s: channel closed", what)
				}
				if cond(m) {
					return m
				}
			case <-deadline:
				t.Fatalf("no model with %s within 5s", what)
			}
		}
	}
	web := func(m fleet.Model) (*fleet.Instance, bool) {
		a, ok := m.App("web")
		if !ok {
			return nil, false
		}
		return a.Instance("prod-eu")
	}
	m := next("web on a synced cluster", func(m fleet.Model) bool {
		_, ok := web(m)
		return ok && m.Clusters[0].State == fleet.ConnSynced
	})
	select {
	case <-git.started:
	case <-time.After(5 * time.Second):
		t.Fatal("the live model never asked for git facts")
	}
	if in, _ := web(m); in.Revision.Head != "" {
		t.Fatalf("git facts in the model before the render finished: %+v", in.Revision)
	}

	// The render is still running: a new pod must reach the subscriber anyway.
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web-abc12-x1",
		OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: "web", Controller: ptr(true)}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	if _, err := cs.CoreV1().Pods("shop").Create(context.Background(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	next("the new pod while git renders", func(m fleet.Model) bool {
		in, ok := web(m)
		return ok && len(in.Workloads) == 1 && len(in.Workloads[0].Pods) == 1 && in.Revision.Head == ""
	})
	if n := git.calls.Load(); n != 0 {
		t.Fatalf("%d git calls finished before release", n)
	}

	close(git.release)
	released = true
	next("git facts once the render finished", func(m fleet.Model) bool {
		in, ok := web(m)
		return ok && in.Revision.Head == strings.Repeat("a", 40) && len(in.Workloads[0].Pods) == 1
	})
}

func ptr[T any](v T) *T { return &v }

// TestSnapshotDoesNotWaitForALiveRender: a one-shot snapshot taken while the live model's git
// render holds the git side still returns within its timeout.
func TestSnapshotDoesNotWaitForALiveRender(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	_, c := fakeCluster("prod-eu", []runtime.Object{deployment("shop", "web", "web:1.0")},
		[]runtime.Object{argoApp("web-prod-eu", "argocd", "prod-eu", "shop", "Synced", "Healthy")})
	e := newEngine(testConfig("prod-eu"), Options{Coalesce: 20 * time.Millisecond}, []slot{{name: "prod-eu", cluster: c}}, nil)
	git := &slowGit{started: make(chan struct{}, 1), release: make(chan struct{})}
	withGit(e, git)
	start(t, e)
	t.Cleanup(func() { close(git.release) })

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.Subscribe(ctx)
	select {
	case <-git.started:
	case <-time.After(5 * time.Second):
		t.Fatal("the live model never asked for git facts")
	}
	const timeout = time.Second
	begin := time.Now()
	m, err := e.Snapshot(context.Background(), timeout)
	// The render is held until cleanup, so a snapshot that waited for it would never return;
	// the margin only absorbs a busy machine.
	if took := time.Since(begin); took > timeout+5*time.Second {
		t.Errorf("Snapshot took %s with a %s timeout while a render held the git side", took, timeout)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.App("web"); !ok || m.Clusters[0].State != fleet.ConnSynced {
		t.Errorf("snapshot without the live data: %+v", m)
	}
}
