package standin

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/fleetdeck/fleetdeck/internal/sandbox/binaries"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/controlplane"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/monorepo"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestFleet runs Install and Run against a real fleet (etcd, kube-apiserver,
// controller-manager, scheduler and kwok per cluster) and the generated
// monorepo, and checks the statuses the scenario's problems must produce,
// then pushes a revert and checks that it is applied and reported.
func TestFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real fleet; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()

	bins, err := binaries.Ensure(ctx, binaries.Options{})
	if err != nil {
		t.Skipf("control-plane binaries unavailable: %v", err)
	}
	dir := t.TempDir()
	remote := filepath.Join(dir, "fleet-gitops.git")
	repo, err := monorepo.Generate(remote, monorepo.Options{Seed: 1})
	if err != nil {
		t.Fatalf("generate monorepo: %v", err)
	}
	var crash, pullFail []string
	for _, p := range scenario.Problems {
		a, _ := scenario.AppByName(p.App)
		switch p.Kind {
		case scenario.BadBump:
			crash = append(crash, a.Image()+":"+repo.BadTag)
		case scenario.PullFailure:
			pullFail = append(pullFail, a.Image()+":"+repo.PullFailureTag)
		}
	}
	fleet, err := controlplane.Start(ctx, controlplane.Options{
		Dir: filepath.Join(dir, "fleet"), Clusters: scenario.Clusters, Bins: bins,
		Kwok: controlplane.KwokOptions{CrashImages: crash, PullFailImages: pullFail},
	})
	if err != nil {
		t.Fatalf("start fleet: %v", err)
	}
	t.Cleanup(func() {
		if err := fleet.Stop(30 * time.Second); err != nil {
			t.Errorf("stop fleet: %v", err)
		}
	})

	log := &syncBuffer{}
	o := Options{
		Kubeconfig: fleet.Kubeconfig, Clusters: scenario.Clusters, RemoteDir: remote,
		RepoURL: "file://" + remote, Repo: repo, Log: log, Interval: time.Second,
	}
	start := time.Now()
	if err := Install(ctx, o); err != nil {
		t.Fatalf("Install: %v\nlog:\n%s", err, log)
	}
	t.Logf("Install took %s", time.Since(start))
	// Install is idempotent.
	if err := Install(ctx, o); err != nil {
		t.Fatalf("second Install: %v", err)
	}

	runCtx, stopRun := context.WithCancel(ctx)
	runDone := make(chan error, 1)
	go func() { runDone <- Run(runCtx, o) }()
	defer func() {
		stopRun()
		if err := <-runDone; err != nil {
			t.Errorf("Run returned %v after cancel, want nil", err)
		}
	}()

	clients := map[string]dynamic.Interface{}
	for _, name := range scenario.Clusters {
		cfg, err := fleet.RESTConfig(name)
		if err != nil {
			t.Fatalf("rest config %s: %v", name, err)
		}
		if clients[name], err = dynamic.NewForConfig(cfg); err != nil {
			t.Fatal(err)
		}
	}
	field := func(obj *unstructured.Unstructured, path ...string) string {
		s, _, _ := unstructured.NestedString(obj.Object, path...)
		return s
	}
	getObj := func(cl string, gvkRes [3]string, ns, name string) *unstructured.Unstructured {
		gvr := schemaGVR(gvkRes)
		obj, err := clients[cl].Resource(gvr).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil
		}
		return obj
	}
	app := func(appName, cl string) *unstructured.Unstructured {
		return getObj(scenario.ArgoHub, [3]string{"argoproj.io", "v1alpha1", "applications"}, scenario.ArgoNamespace, scenario.ArgoAppName(appName, cl))
	}
	waitFor := func(what string, limit time.Duration, ok func() (bool, string)) {
		t.Helper()
		deadline := time.Now().Add(limit)
		var last string
		for time.Now().Before(deadline) {
			var done bool
			if done, last = ok(); done {
				return
			}
			time.Sleep(500 * time.Millisecond)
		}
		t.Fatalf("%s: not after %s; last: %s\nstand-in log:\n%s", what, limit, last, log)
	}
	argoIs := func(appName, cl, sync, health string) func() (bool, string) {
		return func() (bool, string) {
			a := app(appName, cl)
			if a == nil {
				return false, "no Application"
			}
			s, h := field(a, "status", "sync", "status"), field(a, "status", "health", "status")
			return (sync == "" || s == sync) && (health == "" || h == health), s + "/" + h + " " + field(a, "status", "health", "message")
		}
	}

	waitFor("healthy app Synced/Healthy on prod-eu", 90*time.Second, argoIs(scenario.HealthyApp, scenario.ProdEU, "Synced", "Healthy"))
	waitFor("hand-patched app OutOfSync", 30*time.Second, argoIs(scenario.PaymentsAPI, scenario.ProdUS, "OutOfSync", ""))
	pa := app(scenario.PaymentsAPI, scenario.ProdUS)
	images, _, _ := unstructured.NestedStringSlice(pa.Object, "status", "summary", "images")
	if !strings.Contains(strings.Join(images, " "), ":"+scenario.HandPatchTag) {
		t.Errorf("hand-patched app images = %v, want the %s tag", images, scenario.HandPatchTag)
	}
	waitFor("behind app OutOfSync", 30*time.Second, argoIs(scenario.CheckoutWeb, scenario.ProdEU, "OutOfSync", ""))
	if got := field(app(scenario.CheckoutWeb, scenario.ProdEU), "status", "operationState", "syncResult", "revision"); got != repo.BehindRevision {
		t.Errorf("behind app synced revision = %s, want %s", got, repo.BehindRevision)
	}
	waitFor("bad bump Degraded", 3*time.Minute, argoIs(scenario.AuthService, scenario.Staging, "Synced", "Degraded"))
	if hist, _, _ := unstructured.NestedSlice(app(scenario.AuthService, scenario.Staging).Object, "status", "history"); len(hist) < 2 {
		t.Errorf("bad-bump app history = %v, want the rollout before the bump and the bump", hist)
	}
	waitFor("pull failure Degraded", 60*time.Second, argoIs(scenario.NotificationWorker, scenario.ProdUS, "Synced", "Degraded"))
	waitFor("Flux Kustomization Ready", 60*time.Second, func() (bool, string) {
		ks := getObj(scenario.Staging, [3]string{"kustomize.toolkit.fluxcd.io", "v1", "kustomizations"}, scenario.FluxNamespace, scenario.CatalogAPI)
		if ks == nil {
			return false, "no Kustomization"
		}
		return condStatus(ks, "Ready") == "True", field(ks, "status", "lastAppliedRevision")
	})

	// Push a revert of the bad bump: the automated app must apply it and
	// report the new revision within ~10 s.
	work := filepath.Join(dir, "work")
	gitRun := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Env = append(cmd.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.test",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.test")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	gitRun("clone", "-q", "--branch", scenario.Branch, remote, work)
	gitRun("-C", work, "revert", "--no-edit", repo.BadBumpCommit)
	gitRun("-C", work, "push", "-q", "origin", scenario.Branch)
	newHead := gitRun("-C", work, "rev-parse", "HEAD")
	pushed := time.Now()
	waitFor("revert applied", 15*time.Second, func() (bool, string) {
		a := app(scenario.AuthService, scenario.Staging)
		rev := field(a, "status", "operationState", "syncResult", "revision")
		return rev == newHead, "synced " + short(rev)
	})
	t.Logf("revert reported %s after the push", time.Since(pushed))
	authApp, _ := scenario.AppByName(scenario.AuthService)
	dep := getObj(scenario.Staging, [3]string{"apps", "v1", "deployments"}, authApp.Namespace, authApp.Name)
	if dep == nil || !strings.Contains(dep.Object["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["image"].(string), ":"+repo.GoodTagBeforeBad) {
		t.Errorf("auth-service on staging does not run %s after the revert", repo.GoodTagBeforeBad)
	}
	// The hand patch survives a commit that does not touch its app.
	if got := field(app(scenario.PaymentsAPI, scenario.ProdUS), "status", "sync", "status"); got != "OutOfSync" {
		t.Errorf("hand-patched app after an unrelated commit: sync %s, want OutOfSync", got)
	}
}

func schemaGVR(g [3]string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: g[0], Version: g[1], Resource: g[2]}
}
