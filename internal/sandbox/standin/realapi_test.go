package standin

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fleetdeck/fleetdeck/internal/sandbox/binaries"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/controlplane"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/monorepo"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

// TestRealAPIServers runs the stand-in with fixed manifests (fakeSource)
// against real control planes: CRDs established, server-side apply of
// workloads and operator objects, statuses through the status subresource,
// health from kwok-run pods, the hand patch, and a moved HEAD followed
// within seconds. It does not need the render code; TestFleet covers the
// monorepo end to end.
func TestRealAPIServers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real fleet; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	bins, err := binaries.Ensure(ctx, binaries.Options{})
	if err != nil {
		t.Skipf("control-plane binaries unavailable: %v", err)
	}
	head, behind, next := strings.Repeat("a", 40), strings.Repeat("b", 40), strings.Repeat("c", 40)
	fleet, err := controlplane.Start(ctx, controlplane.Options{Dir: filepath.Join(t.TempDir(), "fleet"), Clusters: scenario.Clusters, Bins: bins})
	if err != nil {
		t.Fatalf("start fleet: %v", err)
	}
	t.Cleanup(func() {
		if err := fleet.Stop(30 * time.Second); err != nil {
			t.Errorf("stop fleet: %v", err)
		}
	})
	log := &syncBuffer{}
	o := Options{Kubeconfig: fleet.Kubeconfig, Clusters: scenario.Clusters, RemoteDir: "-", RepoURL: "file:///fleet-gitops.git",
		Repo: &monorepo.Result{Head: head, BehindRevision: behind}, Log: log, Interval: time.Second}
	clusters := map[string]*cluster{}
	for _, n := range scenario.Clusters {
		if clusters[n], err = connect(fleet.Kubeconfig, n); err != nil {
			t.Fatal(err)
		}
	}
	src := &fakeSource{head: head, known: []string{head, behind, next}}
	for i := 0; i < 2; i++ { // Install is idempotent
		if err := newEngine(o, src, clusters).install(ctx); err != nil {
			t.Fatalf("install #%d: %v\nlog:\n%s", i+1, err, log)
		}
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- newEngine(o, src, clusters).run(runCtx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("run returned %v after cancel, want nil", err)
		}
	}()

	hub := clusters[scenario.ArgoHub]
	field := func(kind string, c *cluster, name string, path ...string) string {
		t.Helper()
		gvk, ns := ApplicationGVK, scenario.ArgoNamespace
		switch kind {
		case "Kustomization":
			gvk, ns = KustomizationGVK, scenario.FluxNamespace
		case "HelmRelease":
			gvk, ns = HelmReleaseGVK, scenario.FluxNamespace
		}
		obj, err := c.get(ctx, gvk, ns, name)
		if err != nil || obj == nil {
			return ""
		}
		if len(path) == 1 && path[0] == "Ready" {
			return condStatus(obj, "Ready")
		}
		s, _, _ := unstructured.NestedString(obj.Object, path...)
		return s
	}
	waitFor := func(what string, limit time.Duration, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(limit)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not after %s\nlog:\n%s", what, limit, log)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	healthy := scenario.ArgoAppName(scenario.CatalogAPI, scenario.ProdUS)
	waitFor("Argo app Healthy", 60*time.Second, func() bool {
		return field("Application", hub, healthy, "status", "health", "status") == "Healthy" &&
			field("Application", hub, healthy, "status", "sync", "status") == "Synced"
	})
	waitFor("Kustomization Ready", 60*time.Second, func() bool {
		return field("Kustomization", clusters[scenario.Staging], scenario.CatalogAPI, "Ready") == "True"
	})
	waitFor("HelmRelease Ready", 60*time.Second, func() bool {
		return field("HelmRelease", clusters[scenario.Staging], scenario.SearchIndexer, "Ready") == "True"
	})
	patched := scenario.ArgoAppName(scenario.PaymentsAPI, scenario.ProdUS)
	if got := field("Application", hub, patched, "status", "sync", "status"); got != "OutOfSync" {
		t.Errorf("hand-patched app: %s, want OutOfSync", got)
	}
	behindApp := scenario.ArgoAppName(scenario.CheckoutWeb, scenario.ProdEU)
	if got := field("Application", hub, behindApp, "status", "operationState", "syncResult", "revision"); got != behind {
		t.Errorf("behind app synced %q, want %q", short(got), short(behind))
	}

	src.head = next
	moved := time.Now()
	waitFor("new HEAD applied and reported", 10*time.Second, func() bool {
		return field("Application", hub, healthy, "status", "operationState", "syncResult", "revision") == next &&
			strings.HasSuffix(field("Kustomization", clusters[scenario.Staging], scenario.CatalogAPI, "status", "lastAttemptedRevision"), next)
	})
	t.Logf("new HEAD reported %s after the move", time.Since(moved))
	if got := field("Application", hub, behindApp, "status", "operationState", "syncResult", "revision"); got != behind {
		t.Errorf("manual app followed HEAD to %q", short(got))
	}
}
