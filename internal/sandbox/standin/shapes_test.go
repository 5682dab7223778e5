package standin

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/managedfields"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	clienttesting "k8s.io/client-go/testing"

	"github.com/fleetdeck/fleetdeck/internal/sandbox/monorepo"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

// fakeSource renders every app as one Deployment whose image tag is the
// revision, so two revisions always render differently.
type fakeSource struct {
	head  string
	known []string
}

func (f *fakeSource) Head() (string, error) { return f.head, nil }

func (f *fakeSource) Render(rev string, app scenario.App, cluster string) ([]*unstructured.Unstructured, error) {
	d := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": app.Name, "labels": map[string]any{"app.kubernetes.io/name": app.Name}},
		"spec": map[string]any{
			"replicas": int64(app.Replicas),
			"selector": map[string]any{"matchLabels": map[string]any{"app": app.Name}},
			"template": map[string]any{
				"metadata": map[string]any{"labels": map[string]any{"app": app.Name}},
				"spec": map[string]any{"containers": []any{map[string]any{
					"name": app.Name, "image": app.Image() + ":" + short(rev),
				}}},
			},
		},
	}}
	return []*unstructured.Unstructured{d}, nil
}

func (f *fakeSource) Chart(rev string, app scenario.App) (chartMeta, error) {
	return chartMeta{Name: app.Name, Version: "0.7.0", AppVersion: "1.0.0"}, nil
}
func (f *fakeSource) ReadFile(rev, name string) ([]byte, error) { return []byte("image: {}\n"), nil }
func (f *fakeSource) Resolve(abbrev string) (string, error) {
	for _, full := range f.known {
		if strings.HasPrefix(full, abbrev) {
			return full, nil
		}
	}
	return "", fmt.Errorf("unknown revision %s", abbrev)
}
func (f *fakeSource) Parent(rev string) (string, error) { return "", nil }

// staticMapper makes a fixed RESTMapper resettable.
type staticMapper struct{ meta.RESTMapper }

func (staticMapper) Reset() {}

var fakeKinds = map[schema.GroupVersionKind]string{
	{Group: "apps", Version: "v1", Kind: "Deployment"}: "deployments",
	{Version: "v1", Kind: "Namespace"}:                 "namespaces",
	{Version: "v1", Kind: "Secret"}:                    "secrets",
	ApplicationGVK:                                     "applications",
	KustomizationGVK:                                   "kustomizations",
	HelmReleaseGVK:                                     "helmreleases",
	GitRepositoryGVK:                                   "gitrepositories",
}

// fakeCluster is a cluster backed by client-go's dynamic fake with a
// field-managed tracker, so server-side apply creates and merges objects.
func fakeCluster(t *testing.T, name string) (*cluster, *dynamicfake.FakeDynamicClient) {
	t.Helper()
	scheme := runtime.NewScheme()
	rm := meta.NewDefaultRESTMapper(nil)
	listKinds := map[schema.GroupVersionResource]string{}
	for gvk, res := range fakeKinds {
		scheme.AddKnownTypeWithName(gvk, &unstructured.Unstructured{})
		scheme.AddKnownTypeWithName(gvk.GroupVersion().WithKind(gvk.Kind+"List"), &unstructured.UnstructuredList{})
		scope := meta.RESTScopeNamespace
		if gvk.Kind == "Namespace" {
			scope = meta.RESTScopeRoot
		}
		rm.AddSpecific(gvk, gvk.GroupVersion().WithResource(res), gvk.GroupVersion().WithResource(strings.ToLower(gvk.Kind)), scope)
		listKinds[gvk.GroupVersion().WithResource(res)] = gvk.Kind + "List"
	}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(scheme, listKinds)
	tracker := clienttesting.NewFieldManagedObjectTracker(scheme, unstructured.UnstructuredJSONScheme, managedfields.NewDeducedTypeConverter())
	dyn.PrependReactor("*", "*", clienttesting.ObjectReaction(tracker))
	return &cluster{name: name, server: "https://127.0.0.1:6443/" + name, dyn: dyn, mapper: staticMapper{rm}}, dyn
}

func TestInstallWritesOperatorObjects(t *testing.T) {
	ctx := context.Background()
	clusters := map[string]*cluster{}
	fakes := map[string]*dynamicfake.FakeDynamicClient{}
	for _, name := range scenario.Clusters {
		clusters[name], fakes[name] = fakeCluster(t, name)
	}
	head := strings.Repeat("a", 40)
	behind := strings.Repeat("b", 40)
	o := Options{Clusters: scenario.Clusters, RepoURL: "file:///tmp/fleet-gitops.git",
		Repo: &monorepo.Result{Head: head, BehindRevision: behind}}
	e := newEngine(o, &fakeSource{head: head, known: []string{head, behind}}, clusters)
	e.now = func() time.Time { return time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC) }

	// Everything Install does but the CRDs (the fake serves no
	// apiextensions and no controller establishes them).
	if err := e.installNamespacesAndSecrets(ctx); err != nil {
		t.Fatalf("namespaces and secrets: %v", err)
	}
	if err := e.installInstances(ctx); err != nil {
		t.Fatalf("install instances: %v", err)
	}

	hub := fakes[scenario.ArgoHub]
	get := func(f *dynamicfake.FakeDynamicClient, gvk schema.GroupVersionKind, ns, name string) *unstructured.Unstructured {
		t.Helper()
		obj, err := f.Resource(gvk.GroupVersion().WithResource(fakeKinds[gvk])).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get %s %s/%s: %v", gvk.Kind, ns, name, err)
		}
		return obj
	}
	str := func(obj *unstructured.Unstructured, path ...string) string {
		t.Helper()
		v, ok, err := unstructured.NestedFieldNoCopy(obj.Object, path...)
		if !ok || err != nil {
			t.Fatalf("%s %s: %s missing", obj.GetKind(), obj.GetName(), strings.Join(path, "."))
		}
		s, isStr := v.(string)
		if !isStr {
			t.Fatalf("%s %s: %s is %T, want string", obj.GetKind(), obj.GetName(), strings.Join(path, "."), v)
		}
		return s
	}

	// An automated, healthy-looking Argo CD app on a remote cluster.
	app := get(hub, ApplicationGVK, scenario.ArgoNamespace, scenario.ArgoAppName(scenario.CatalogAPI, scenario.ProdUS))
	for path, want := range map[string]string{
		"spec.project":                                  "default",
		"spec.source.repoURL":                           o.RepoURL,
		"spec.source.path":                              "k8s/catalog-api/overlays/prod",
		"spec.source.targetRevision":                    scenario.Branch,
		"spec.destination.name":                         scenario.ProdUS,
		"spec.destination.namespace":                    "catalog",
		"status.sync.status":                            "Synced",
		"status.sync.revision":                          head,
		"status.sync.comparedTo.source.path":            "k8s/catalog-api/overlays/prod",
		"status.operationState.phase":                   "Succeeded",
		"status.operationState.message":                 "successfully synced (all tasks run)",
		"status.operationState.syncResult.revision":     head,
		"status.operationState.operation.sync.revision": head,
		"status.sourceType":                             "Kustomize",
		"status.reconciledAt":                           "2026-11-25T10:00:00Z",
	} {
		if got := str(app, strings.Split(path, ".")...); got != want {
			t.Errorf("Application %s: %s = %q, want %q", app.GetName(), path, got, want)
		}
	}
	// The fake has no controllers: Deployments never get a status, so
	// health is Progressing.
	if got := str(app, "status", "health", "status"); got != string(Progressing) {
		t.Errorf("health.status = %q, want Progressing", got)
	}
	if auto, _, _ := unstructured.NestedMap(app.Object, "spec", "syncPolicy", "automated"); auto["prune"] != true {
		t.Errorf("syncPolicy.automated = %v, want prune true", auto)
	}
	images, ok, _ := unstructured.NestedStringSlice(app.Object, "status", "summary", "images")
	if !ok || len(images) != 1 || images[0] != scenario.Registry+"/catalog-api:"+short(head) {
		t.Errorf("summary.images = %v (present %v)", images, ok)
	}
	history, _, _ := unstructured.NestedSlice(app.Object, "status", "history")
	if len(history) != 1 || history[0].(map[string]any)["revision"] != head {
		t.Errorf("history = %v, want one entry at HEAD", history)
	}
	resources, _, _ := unstructured.NestedSlice(app.Object, "status", "resources")
	if len(resources) != 1 {
		t.Fatalf("resources = %v, want the Deployment", resources)
	}
	res := resources[0].(map[string]any)
	if res["kind"] != "Deployment" || res["status"] != "Synced" || res["group"] != "apps" || res["version"] != "v1" {
		t.Errorf("resources[0] = %v", res)
	}
	if _, ok := res["health"]; ok {
		t.Errorf("resources[0] carries health; Argo CD >= 3 omits it")
	}

	// The hub's own instance targets the in-cluster server.
	hubApp := get(hub, ApplicationGVK, scenario.ArgoNamespace, scenario.ArgoAppName(scenario.AuthService, scenario.ProdEU))
	if got := str(hubApp, "spec", "destination", "server"); got != inClusterServer {
		t.Errorf("hub destination.server = %q", got)
	}
	if vf, _, _ := unstructured.NestedStringSlice(hubApp.Object, "spec", "source", "helm", "valueFiles"); len(vf) != 1 || vf[0] != "values-prod.yaml" {
		t.Errorf("helm.valueFiles = %v", vf)
	}

	// The Behind instance: manual sync, live at the old revision, OutOfSync.
	beh := get(hub, ApplicationGVK, scenario.ArgoNamespace, scenario.ArgoAppName(scenario.CheckoutWeb, scenario.ProdEU))
	if _, ok := beh.Object["spec"].(map[string]any)["syncPolicy"]; ok {
		t.Errorf("behind app has a syncPolicy; want manual sync")
	}
	if got := str(beh, "status", "sync", "status"); got != "OutOfSync" {
		t.Errorf("behind app sync = %q, want OutOfSync", got)
	}
	if got := str(beh, "status", "operationState", "syncResult", "revision"); got != behind {
		t.Errorf("behind app synced revision = %q, want %q", got, behind)
	}

	// Applied objects carry Argo's tracking.
	dep := get(fakes[scenario.ProdUS], schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, "catalog", "catalog-api")
	if got, want := dep.GetAnnotations()["argocd.argoproj.io/tracking-id"], "catalog-api-prod-us:apps/Deployment:catalog/catalog-api"; got != want {
		t.Errorf("tracking-id = %q, want %q", got, want)
	}
	if got := dep.GetLabels()["app.kubernetes.io/instance"]; got != "catalog-api-prod-us" {
		t.Errorf("instance label = %q", got)
	}

	// Flux on staging.
	st := fakes[scenario.Staging]
	repo := get(st, GitRepositoryGVK, scenario.FluxNamespace, scenario.RepoName)
	if got := str(repo, "status", "artifact", "revision"); got != "main@sha1:"+head {
		t.Errorf("artifact.revision = %q", got)
	}
	ks := get(st, KustomizationGVK, scenario.FluxNamespace, scenario.CatalogAPI)
	if got := str(ks, "spec", "path"); got != "./k8s/catalog-api/overlays/staging" {
		t.Errorf("kustomization path = %q", got)
	}
	if got := str(ks, "status", "lastAttemptedRevision"); got != "main@sha1:"+head {
		t.Errorf("lastAttemptedRevision = %q", got)
	}
	entries, _, _ := unstructured.NestedSlice(ks.Object, "status", "inventory", "entries")
	if len(entries) != 1 || entries[0].(map[string]any)["id"] != "catalog_catalog-api_apps_Deployment" {
		t.Errorf("inventory = %v", entries)
	}
	hr := get(st, HelmReleaseGVK, scenario.FluxNamespace, scenario.SearchIndexer)
	if got := str(hr, "spec", "chart", "spec", "chart"); got != "./k8s/search-indexer" {
		t.Errorf("chart = %q", got)
	}
	if got := str(hr, "status", "lastAttemptedRevision"); got != "0.7.0+"+short(head) {
		t.Errorf("helmrelease lastAttemptedRevision = %q", got)
	}
	hrHist, _, _ := unstructured.NestedSlice(hr.Object, "status", "history")
	if len(hrHist) == 0 || hrHist[0].(map[string]any)["chartVersion"] != "0.7.0+"+short(head) {
		t.Errorf("helmrelease history = %v", hrHist)
	}
	if got := condStatus(hr, "Ready"); got != "Unknown" {
		t.Errorf("helmrelease Ready = %q, want Unknown while progressing", got)
	}
	hrDep := get(st, schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, "search", "search-indexer")
	if hrDep.GetLabels()["helm.toolkit.fluxcd.io/name"] != scenario.SearchIndexer {
		t.Errorf("helm-managed Deployment labels = %v", hrDep.GetLabels())
	}

	// Declared-only apps are applied and have no operator object.
	led := get(st, schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, "ledger", "ledger")
	if led.GetLabels()["app.kubernetes.io/managed-by"] != managerSandbox {
		t.Errorf("ledger labels = %v", led.GetLabels())
	}
	if _, err := hub.Resource(ApplicationGVK.GroupVersion().WithResource("applications")).Namespace(scenario.ArgoNamespace).
		Get(ctx, scenario.ArgoAppName(scenario.Ledger, scenario.ProdEU), metav1.GetOptions{}); err == nil {
		t.Errorf("ledger has an Application")
	}

	// Argo CD cluster Secrets for the non-hub clusters, without credentials.
	for _, name := range []string{scenario.ProdUS, scenario.Staging} {
		sec := get(hub, secretGVK, scenario.ArgoNamespace, "cluster-"+name)
		if sec.GetLabels()["argocd.argoproj.io/secret-type"] != "cluster" {
			t.Errorf("secret %s labels = %v", sec.GetName(), sec.GetLabels())
		}
		data, _, _ := unstructured.NestedStringMap(sec.Object, "data")
		for key, want := range map[string]string{"name": name, "server": clusters[name].server, "config": `{"tlsClientConfig":{"insecure":false}}`} {
			if got, _ := base64.StdEncoding.DecodeString(data[key]); string(got) != want {
				t.Errorf("secret %s: %s = %q, want %q", sec.GetName(), key, got, want)
			}
		}
	}

	// The hand patch (injected by Install) makes the app OutOfSync.
	pa := get(hub, ApplicationGVK, scenario.ArgoNamespace, scenario.ArgoAppName(scenario.PaymentsAPI, scenario.ProdUS))
	if got := str(pa, "status", "sync", "status"); got != "OutOfSync" {
		t.Errorf("hand-patched app sync = %q, want OutOfSync", got)
	}
	if images, _, _ := unstructured.NestedStringSlice(pa.Object, "status", "summary", "images"); fmt.Sprint(images) != fmt.Sprint([]string{scenario.Registry + "/payments-api:" + scenario.HandPatchTag}) {
		t.Errorf("hand-patched images = %v", images)
	}
}

func TestRunFollowsHead(t *testing.T) {
	ctx := context.Background()
	clusters := map[string]*cluster{}
	for _, name := range scenario.Clusters {
		clusters[name], _ = fakeCluster(t, name)
	}
	head, behind, next := strings.Repeat("a", 40), strings.Repeat("b", 40), strings.Repeat("c", 40)
	src := &fakeSource{head: head, known: []string{head, behind, next}}
	o := Options{Clusters: scenario.Clusters, RepoURL: "file:///tmp/r.git", Repo: &monorepo.Result{Head: head, BehindRevision: behind}}
	e := newEngine(o, src, clusters)
	for _, in := range e.insts {
		if rec := e.sync(ctx, in, e.targetRevision(in, head), false); rec.err != nil {
			t.Fatal(rec.err)
		}
	}
	if err := e.refresh(ctx, head, true); err != nil {
		t.Fatal(err)
	}

	// A second engine (Run in another process) recovers applied revisions
	// from the operator objects.
	r := newEngine(o, src, clusters)
	if err := r.loadApplied(ctx); err != nil {
		t.Fatalf("loadApplied: %v", err)
	}
	for _, in := range r.insts {
		want := head
		switch {
		case in.op == scenario.None:
			want = ""
		case in.manual:
			want = behind
		}
		if in.appliedRev != want {
			t.Errorf("%s (%s) on %s: recovered revision %q, want %q", in.name, in.op, in.cluster, short(in.appliedRev), short(want))
		}
	}

	// HEAD moves: automated Argo CD and Flux instances follow, the manual
	// one and declared-only apps do not.
	src.head = next
	r.autoSync(ctx, next)
	if err := r.refresh(ctx, next, false); err != nil {
		t.Fatal(err)
	}
	for _, in := range r.insts {
		want := next
		switch {
		case in.op == scenario.None:
			want = ""
		case in.manual:
			want = behind
		}
		if in.appliedRev != want {
			t.Errorf("%s (%s) on %s: after new HEAD at %q, want %q", in.name, in.op, in.cluster, short(in.appliedRev), short(want))
		}
	}
	hub := clusters[scenario.ArgoHub]
	a, err := hub.get(ctx, ApplicationGVK, scenario.ArgoNamespace, scenario.ArgoAppName(scenario.AuthService, scenario.Staging))
	if err != nil || a == nil {
		t.Fatalf("get application: %v", err)
	}
	hist, _, _ := unstructured.NestedSlice(a.Object, "status", "history")
	if len(hist) != 2 || hist[1].(map[string]any)["revision"] != next {
		t.Errorf("history = %v, want two entries ending at the new HEAD", hist)
	}
	if by, _, _ := unstructured.NestedBool(a.Object, "status", "operationState", "operation", "initiatedBy", "automated"); !by {
		t.Errorf("operationState.operation.initiatedBy.automated = false after an automated sync")
	}
	// A sync requested on the manual app (as `argocd app sync` does) is
	// performed and cleared.
	behindApp := scenario.ArgoAppName(scenario.CheckoutWeb, scenario.ProdEU)
	ri, _ := hub.resource(ApplicationGVK, scenario.ArgoNamespace)
	if _, err := ri.Patch(ctx, behindApp, types.MergePatchType,
		[]byte(`{"operation":{"sync":{"revision":"main"},"initiatedBy":{"username":"alice"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatalf("request sync: %v", err)
	}
	r.runOperations(ctx, next)
	if err := r.refresh(ctx, next, false); err != nil {
		t.Fatal(err)
	}
	ba, _ := hub.get(ctx, ApplicationGVK, scenario.ArgoNamespace, behindApp)
	if _, ok := ba.Object["operation"]; ok {
		t.Errorf("operation not cleared after the sync")
	}
	if rev, _, _ := unstructured.NestedString(ba.Object, "status", "operationState", "syncResult", "revision"); rev != next {
		t.Errorf("requested sync: synced revision %q, want %q", short(rev), short(next))
	}
	if user, _, _ := unstructured.NestedString(ba.Object, "status", "operationState", "operation", "initiatedBy", "username"); user != "alice" {
		t.Errorf("requested sync initiated by %q, want alice", user)
	}
	if st, _, _ := unstructured.NestedString(ba.Object, "status", "sync", "status"); st != "Synced" {
		t.Errorf("manual app after its sync: %s, want Synced", st)
	}

	hr, err := clusters[scenario.Staging].get(ctx, HelmReleaseGVK, scenario.FluxNamespace, scenario.SearchIndexer)
	if err != nil || hr == nil {
		t.Fatalf("get helmrelease: %v", err)
	}
	hrHist, _, _ := unstructured.NestedSlice(hr.Object, "status", "history")
	if len(hrHist) < 2 || hrHist[0].(map[string]any)["chartVersion"] != "0.7.0+"+short(next) {
		t.Errorf("helmrelease history = %v, want the new release first", hrHist)
	}
	if got, _, _ := unstructured.NestedString(hr.Object, "status", "lastAttemptedReleaseAction"); got != "upgrade" {
		t.Errorf("lastAttemptedReleaseAction = %q, want upgrade", got)
	}
}
