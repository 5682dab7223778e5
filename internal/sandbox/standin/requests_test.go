package standin

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/fleetdeck/fleetdeck/internal/sandbox/monorepo"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

// installedEngine is an engine over fake clusters after Install (minus the
// CRDs), with the hand patch injected.
func installedEngine(t *testing.T) (*engine, string) {
	t.Helper()
	ctx := context.Background()
	clusters := map[string]*cluster{}
	for _, name := range scenario.Clusters {
		clusters[name], _ = fakeCluster(t, name)
	}
	head, behind := strings.Repeat("a", 40), strings.Repeat("b", 40)
	o := Options{Clusters: scenario.Clusters, RepoURL: "file:///tmp/r.git", Repo: &monorepo.Result{Head: head, BehindRevision: behind}}
	e := newEngine(o, &fakeSource{head: head, known: []string{head, behind}}, clusters)
	if err := e.installNamespacesAndSecrets(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.installInstances(ctx); err != nil {
		t.Fatal(err)
	}
	return e, head
}

func mustGet(t *testing.T, c *cluster, gvk schema.GroupVersionKind, ns, name string) *unstructured.Unstructured {
	t.Helper()
	obj, err := c.get(context.Background(), gvk, ns, name)
	if err != nil || obj == nil {
		t.Fatalf("get %s %s/%s: %v", gvk.Kind, ns, name, err)
	}
	return obj
}

func nested(obj *unstructured.Unstructured, path ...string) string {
	s, _, _ := unstructured.NestedString(obj.Object, path...)
	return s
}

func liveImage(t *testing.T, c *cluster, app scenario.App) string {
	t.Helper()
	d := mustGet(t, c, schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, app.Namespace, app.Name)
	cs, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	return cs[0].(map[string]any)["image"].(string)
}

func TestSyncOperationRevertsTheHandPatch(t *testing.T) {
	ctx := context.Background()
	e, head := installedEngine(t)
	hub := e.clusters[scenario.ArgoHub]
	app, _ := scenario.AppByName(scenario.PaymentsAPI)
	name := scenario.ArgoAppName(app.Name, scenario.ProdUS)
	if got := liveImage(t, e.clusters[scenario.ProdUS], app); !strings.HasSuffix(got, ":"+scenario.HandPatchTag) {
		t.Fatalf("before the sync the live image is %s, want the hand patch", got)
	}
	// Automated syncs leave the drift alone: HEAD has not moved.
	e.autoSync(ctx, head)
	if got := liveImage(t, e.clusters[scenario.ProdUS], app); !strings.HasSuffix(got, ":"+scenario.HandPatchTag) {
		t.Fatalf("an automated sync reverted the hand patch (selfHeal is off): %s", got)
	}

	ri, _ := hub.resource(ApplicationGVK, scenario.ArgoNamespace)
	op := `{"operation":{"initiatedBy":{"username":"alice (fleetdeck)"},"info":[{"name":"fleetdeck.io/request","value":"r1"}],` +
		`"sync":{"revision":"main","syncStrategy":{"hook":{}},"syncOptions":["CreateNamespace=true"]}}}`
	if _, err := ri.Patch(ctx, name, types.MergePatchType, []byte(op), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	e.runOperations(ctx, head)

	a := mustGet(t, hub, ApplicationGVK, scenario.ArgoNamespace, name)
	if _, ok := a.Object["operation"]; ok {
		t.Error("operation not cleared")
	}
	checks := []struct{ path, want string }{
		{"status.operationState.phase", "Succeeded"},
		{"status.operationState.syncResult.revision", head},
		{"status.operationState.operation.initiatedBy.username", "alice (fleetdeck)"},
		{"status.sync.status", "Synced"},
	}
	for _, c := range checks {
		if got := nested(a, strings.Split(c.path, ".")...); got != c.want {
			t.Errorf("%s = %q, want %q", c.path, got, c.want)
		}
	}
	info, _, _ := unstructured.NestedSlice(a.Object, "status", "operationState", "operation", "info")
	if len(info) != 1 || info[0].(map[string]any)["value"] != "r1" {
		t.Errorf("operationState.operation.info = %v, want the request's info kept", info)
	}
	if nested(a, "status", "operationState", "startedAt") == "" || nested(a, "status", "operationState", "finishedAt") == "" {
		t.Errorf("operationState without startedAt/finishedAt: %v", a.Object["status"].(map[string]any)["operationState"])
	}
	if got := liveImage(t, e.clusters[scenario.ProdUS], app); strings.HasSuffix(got, ":"+scenario.HandPatchTag) {
		t.Errorf("after the sync the live image is still %s", got)
	}
}

func TestUnsupportedOperationFails(t *testing.T) {
	ctx := context.Background()
	e, head := installedEngine(t)
	hub := e.clusters[scenario.ArgoHub]
	name := scenario.ArgoAppName(scenario.AuthService, scenario.ProdEU)
	ri, _ := hub.resource(ApplicationGVK, scenario.ArgoNamespace)
	if _, err := ri.Patch(ctx, name, types.MergePatchType, []byte(`{"operation":{"rollback":{"id":1}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	e.runOperations(ctx, head)
	a := mustGet(t, hub, ApplicationGVK, scenario.ArgoNamespace, name)
	if got := nested(a, "status", "operationState", "phase"); got != "Failed" {
		t.Errorf("phase = %q, want Failed", got)
	}
	if _, ok := a.Object["operation"]; ok {
		t.Error("operation not cleared")
	}
}

func TestFluxReconcileRequests(t *testing.T) {
	ctx := context.Background()
	e, head := installedEngine(t)
	c := e.clusters[scenario.Staging]
	tests := []struct {
		app  string
		gvk  schema.GroupVersionKind
		helm bool
	}{
		{scenario.CatalogAPI, KustomizationGVK, false},
		{scenario.SearchIndexer, HelmReleaseGVK, true},
	}
	for _, tt := range tests {
		t.Run(tt.gvk.Kind, func(t *testing.T) {
			app, _ := scenario.AppByName(tt.app)
			want := liveImage(t, c, app)
			// Drift by hand, then ask for a reconcile with the source first.
			d := schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}
			dri, _ := c.resource(d, app.Namespace)
			if _, err := dri.Patch(ctx, app.Name, types.JSONPatchType,
				[]byte(`[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"x/by-hand:1"}]`), metav1.PatchOptions{}); err != nil {
				t.Fatal(err)
			}
			before := mustGet(t, c, tt.gvk, scenario.FluxNamespace, app.Name)
			history, _, _ := unstructured.NestedSlice(before.Object, "status", "history")

			req := time.Now().Format(time.RFC3339Nano)
			annotate := func(gvk schema.GroupVersionKind, name string) {
				ri, _ := c.resource(gvk, scenario.FluxNamespace)
				body := `{"metadata":{"annotations":{"` + ReconcileRequestAnnotation + `":"` + req + `"}}}`
				if _, err := ri.Patch(ctx, name, types.MergePatchType, []byte(body), metav1.PatchOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			annotate(GitRepositoryGVK, scenario.RepoName)
			annotate(tt.gvk, app.Name)
			e.runReconcileRequests(ctx, head)
			if err := e.refresh(ctx, head, false); err != nil {
				t.Fatal(err)
			}
			if got := nested(mustGet(t, c, GitRepositoryGVK, scenario.FluxNamespace, scenario.RepoName), "status", "lastHandledReconcileAt"); got != req {
				t.Errorf("GitRepository lastHandledReconcileAt = %q, want %q", got, req)
			}
			obj := mustGet(t, c, tt.gvk, scenario.FluxNamespace, app.Name)
			if got := nested(obj, "status", "lastHandledReconcileAt"); got != req {
				t.Errorf("lastHandledReconcileAt = %q, want %q", got, req)
			}
			if got := liveImage(t, c, app); got != want {
				t.Errorf("live image after the reconcile = %s, want git's %s", got, want)
			}
			if tt.helm {
				after, _, _ := unstructured.NestedSlice(obj.Object, "status", "history")
				if len(after) != len(history) {
					t.Errorf("a reconcile of the live revision added a Helm release: %d → %d entries", len(history), len(after))
				}
			}
			// The value stays reported by later refreshes (the status is applied whole).
			if err := e.refresh(ctx, head, false); err != nil {
				t.Fatal(err)
			}
			if got := nested(mustGet(t, c, tt.gvk, scenario.FluxNamespace, app.Name), "status", "lastHandledReconcileAt"); got != req {
				t.Errorf("after another refresh lastHandledReconcileAt = %q, want %q", got, req)
			}
		})
	}
}
