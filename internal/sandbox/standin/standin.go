package standin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/fleetdeck/fleetdeck/internal/sandbox/monorepo"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

// Options configures the stand-in.
type Options struct {
	Kubeconfig string           // kubeconfig with one context per cluster, named like it
	Clusters   []string         // clusters to serve, normally scenario.Clusters
	RemoteDir  string           // the bare monorepo
	RepoURL    string           // URL written into Application and GitRepository specs (file:// + RemoteDir)
	Repo       *monorepo.Result // the generated repository (for BehindRevision)
	Log        io.Writer        // one line per action; nil discards
	Interval   time.Duration    // status refresh and git poll period, default 2s
}

// Field managers, as the real controllers name themselves.
const (
	managerArgo      = "argocd-controller"
	managerArgoApp   = "argocd-application-controller"
	managerAppSet    = "argocd-applicationset-controller"
	managerKustomize = "kustomize-controller"
	managerHelm      = "helm-controller"
	managerSource    = "source-controller"
	managerSandbox   = "fleetdeck-sandbox"
	managerPatch     = "kubectl-patch"
)

// statusRewriteEvery bounds how stale reconciledAt may get when nothing
// else in a status changes (statuses are not rewritten every Interval).
const statusRewriteEvery = 30 * time.Second

// Install makes the fleet look managed: CRDs, namespaces and Argo CD
// cluster Secrets, every instance applied at its revision (HEAD, the Behind
// instance at Repo.BehindRevision), the hand patch injected, and every
// operator object written with its status. It is idempotent and returns once
// all statuses are written (health is then usually still Progressing; Run
// keeps it current).
func Install(ctx context.Context, o Options) error {
	e, err := newEngineFromOptions(o)
	if err != nil {
		return err
	}
	return e.install(ctx)
}

// Run keeps the operator objects current until ctx is cancelled (then it
// returns nil): every Interval it polls the branch, syncs the instances that
// follow it when HEAD moves, and rewrites statuses from live state.
//
// Requests are honoured as the real operators honour them (see requests.go):
// a sync operation set on an Application (.operation.sync, as the argocd CLI,
// the UI or `kubectl patch` request it; optional revision, default HEAD) is
// reported Running, performed, reported Succeeded or Failed, and cleared; a
// Flux reconcile request (annotation reconcile.fluxcd.io/requestedAt on a
// GitRepository, Kustomization or HelmRelease) is performed and reported in
// status.lastHandledReconcileAt. Both re-apply git at HEAD, so they also
// revert live drift such as the hand patch.
//
// Which instances sync on a new HEAD: every Flux instance (Flux applies each
// new revision), and each Argo CD instance with automated sync whose rendered
// manifests differ between its last synced revision and HEAD — Argo CD with
// the argocd.argoproj.io/manifest-generate-paths annotation the stand-in sets
// skips commits that do not change the app. Without selfHeal, live drift
// (the hand patch) is never reverted unless such a sync happens. The Behind
// instance (manual sync) and scenario.None instances are never synced.
func Run(ctx context.Context, o Options) error {
	e, err := newEngineFromOptions(o)
	if err != nil {
		return err
	}
	return e.run(ctx)
}

// instance is one app on one cluster.
type instance struct {
	app     scenario.App
	cluster string
	op      scenario.Operator
	name    string // Application name, or the Flux object's / app's name
	manual  bool   // Argo CD instance without automated sync

	// Owned by the engine's loop goroutine.
	appliedRev string        // revision whose render is live ("" unknown)
	pending    []*syncRecord // syncs not yet reported in a status, oldest first
	// handledReq is the last Flux reconcile request (requestedAt annotation
	// value) this process handled, reported as status.lastHandledReconcileAt.
	handledReq string
}

// lastSync is the newest sync not yet reported, or nil.
func (in *instance) lastSync() *syncRecord {
	if len(in.pending) == 0 {
		return nil
	}
	return in.pending[len(in.pending)-1]
}

// syncRecord is one sync (apply) the stand-in performed.
type syncRecord struct {
	revision   string
	startedAt  time.Time
	finishedAt time.Time
	automated  bool
	user       string // who requested a manual sync ("" = admin)
	results    []resourceResult
	err        error
	// operation is the Argo CD operation as requested on the Application
	// (nil for automated syncs); its status reports it back as requested.
	operation map[string]any
	// reapply marks a sync of the revision already live, requested by a
	// Flux reconcile request: it repairs drift and is no new Helm release.
	reapply bool
}

type resourceResult struct {
	gvk             schema.GroupVersionKind
	namespace, name string
	message         string
}

type engine struct {
	o        Options
	src      source
	clusters map[string]*cluster
	insts    []*instance
	now      func() time.Time
	logMu    sync.Mutex

	// sourceHandled maps cluster/name of a GitRepository to the reconcile
	// request handled for it. Written by the loop goroutine before refresh
	// reads it.
	sourceHandled map[string]string
}

func newEngine(o Options, src source, clusters map[string]*cluster) *engine {
	if o.Interval <= 0 {
		o.Interval = 2 * time.Second
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	e := &engine{o: o, src: src, clusters: clusters, now: time.Now, sourceHandled: map[string]string{}}
	for _, app := range scenario.Apps {
		for _, cl := range o.Clusters {
			op, ok := app.Instances[cl]
			if !ok {
				continue
			}
			in := &instance{app: app, cluster: cl, op: op, name: app.Name}
			if op == scenario.ArgoCD {
				in.name = scenario.ArgoAppName(app.Name, cl)
				if p, ok := scenario.ProblemOn(app.Name, cl); ok && p.Kind == scenario.Behind {
					in.manual = true
				}
			}
			e.insts = append(e.insts, in)
		}
	}
	return e
}

func (e *engine) logf(format string, a ...any) {
	e.logMu.Lock()
	defer e.logMu.Unlock()
	fmt.Fprintf(e.o.Log, "standin: "+format+"\n", a...)
}

// hub is the Argo CD hub cluster, nil when it is not served.
func (e *engine) hub() *cluster { return e.clusters[scenario.ArgoHub] }

// fluxClusters are the served clusters with at least one Flux instance.
func (e *engine) fluxClusters() []string {
	var out []string
	seen := map[string]bool{}
	for _, in := range e.insts {
		if in.op == scenario.Flux && !seen[in.cluster] {
			seen[in.cluster] = true
			out = append(out, in.cluster)
		}
	}
	sort.Strings(out)
	return out
}

func (e *engine) hasArgo() bool {
	for _, in := range e.insts {
		if in.op == scenario.ArgoCD {
			return true
		}
	}
	return false
}

// targetRevision is the revision an instance should be live at on Install.
func (e *engine) targetRevision(in *instance, head string) string {
	if in.manual && e.o.Repo.BehindRevision != "" {
		return e.o.Repo.BehindRevision
	}
	return head
}

func (e *engine) install(ctx context.Context) error {
	if err := e.installCRDs(ctx); err != nil {
		return err
	}
	if err := e.installNamespacesAndSecrets(ctx); err != nil {
		return err
	}
	return e.installInstances(ctx)
}

// installCRDs installs the Argo CD CRD on the hub and the Flux CRDs where
// Flux manages something.
func (e *engine) installCRDs(ctx context.Context) error {
	if e.hasArgo() {
		hub := e.hub()
		if hub == nil {
			return fmt.Errorf("standin: Argo CD hub %s is not among Options.Clusters", scenario.ArgoHub)
		}
		if err := installCRDs(ctx, hub, argoCRDs); err != nil {
			return err
		}
		e.logf("installed the Argo CD Application CRD on %s", scenario.ArgoHub)
	}
	for _, name := range e.fluxClusters() {
		if err := installCRDs(ctx, e.clusters[name], fluxCRDs); err != nil {
			return err
		}
		e.logf("installed Flux CRDs on %s", name)
	}
	return nil
}

// installNamespacesAndSecrets creates the operators' namespaces and the
// Argo CD cluster Secrets.
func (e *engine) installNamespacesAndSecrets(ctx context.Context) error {
	if e.hasArgo() {
		hub := e.hub()
		if hub == nil {
			return fmt.Errorf("standin: Argo CD hub %s is not among Options.Clusters", scenario.ArgoHub)
		}
		if err := hub.ensureNamespace(ctx, managerSandbox, scenario.ArgoNamespace); err != nil {
			return err
		}
		for _, name := range e.o.Clusters {
			if name == scenario.ArgoHub {
				continue
			}
			if _, err := hub.apply(ctx, managerSandbox, clusterSecret(name, e.clusters[name].server)); err != nil {
				return err
			}
		}
	}
	for _, name := range e.fluxClusters() {
		if err := e.clusters[name].ensureNamespace(ctx, managerSandbox, scenario.FluxNamespace); err != nil {
			return err
		}
	}
	return nil
}

// installInstances applies every instance at its revision, injects the hand
// patch and writes every operator object with its status.
func (e *engine) installInstances(ctx context.Context) error {
	head, err := e.src.Head()
	if err != nil {
		return err
	}
	var errs []error
	for _, in := range e.insts {
		if err := e.rolloutBeforeBadBump(ctx, in, head); err != nil {
			errs = append(errs, err)
			continue
		}
		rec := e.sync(ctx, in, e.targetRevision(in, head), false)
		if rec.err != nil {
			errs = append(errs, rec.err)
			continue
		}
		if p, ok := scenario.ProblemOn(in.app.Name, in.cluster); ok && p.Kind == scenario.HandPatch {
			if err := e.handPatch(ctx, in); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return e.refresh(ctx, head, true)
}

func (e *engine) run(ctx context.Context) error {
	if err := e.loadApplied(ctx); err != nil {
		e.logf("read applied revisions: %v", err)
	}
	ticker := time.NewTicker(e.o.Interval)
	defer ticker.Stop()
	head := ""
	for {
		if h, err := e.src.Head(); err != nil {
			e.logf("poll %s: %v", e.o.RemoteDir, err)
		} else {
			if h != head && head != "" {
				e.logf("branch %s moved to %s", scenario.Branch, short(h))
			}
			head = h
		}
		if head != "" {
			e.runOperations(ctx, head)
			e.runReconcileRequests(ctx, head)
			e.autoSync(ctx, head)
			if err := e.refresh(ctx, head, false); err != nil && ctx.Err() == nil {
				e.logf("refresh: %v", err)
			}
			if g, ok := e.src.(interface{ forget(map[string]bool) }); ok {
				keep := map[string]bool{head: true}
				for _, in := range e.insts {
					keep[in.appliedRev] = true
				}
				g.forget(keep)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// rolloutBeforeBadBump gives the scenario.BadBump instance the history it
// has in a real fleet: on a first install it is applied at the commit before
// the bad bump and, once that rollout is available (or after
// goodRolloutWait), bumped to HEAD by the caller. The old ReplicaSet keeps
// serving while the new one crash-loops, and the operator's history shows
// both revisions.
func (e *engine) rolloutBeforeBadBump(ctx context.Context, in *instance, head string) error {
	p, ok := scenario.ProblemOn(in.app.Name, in.cluster)
	if !ok || p.Kind != scenario.BadBump || in.op == scenario.None || e.o.Repo.BadBumpCommit == "" {
		return nil
	}
	objs, err := e.desired(in, head)
	if err != nil {
		return err
	}
	var deploy *unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == "Deployment" {
			deploy = o
		}
	}
	if deploy == nil {
		return nil
	}
	c := e.clusters[in.cluster]
	live, err := c.get(ctx, deploy.GroupVersionKind(), deploy.GetNamespace(), deploy.GetName())
	if err != nil || live != nil {
		return err // already installed: keep what runs
	}
	before, err := e.src.Parent(e.o.Repo.BadBumpCommit)
	if err != nil || before == "" {
		return err
	}
	if rec := e.sync(ctx, in, before, true); rec.err != nil {
		return rec.err
	}
	deadline := time.Now().Add(goodRolloutWait)
	for time.Now().Before(deadline) {
		live, err := c.get(ctx, deploy.GroupVersionKind(), deploy.GetNamespace(), deploy.GetName())
		if err != nil {
			return err
		}
		if live != nil {
			if h, _ := ResourceHealth(live); h.Status == Healthy {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	e.logf("%s on %s: rollout at %s not available after %s; bumping anyway", in.name, in.cluster, short(before), goodRolloutWait)
	return nil
}

// goodRolloutWait bounds how long Install waits for the pre-bump rollout.
const goodRolloutWait = 20 * time.Second

// autoSync syncs the instances that follow the branch and lag HEAD, in
// parallel (instances are independent; a pushed commit must show up within
// seconds).
func (e *engine) autoSync(ctx context.Context, head string) {
	var wg sync.WaitGroup
	for _, in := range e.insts {
		if in.op == scenario.None || in.manual || in.appliedRev == head {
			continue
		}
		if in.op == scenario.ArgoCD && in.appliedRev != "" && e.sameRender(in, in.appliedRev, head) {
			continue
		}
		wg.Go(func() {
			if rec := e.sync(ctx, in, head, true); rec.err != nil && ctx.Err() == nil {
				e.logf("sync %s on %s: %v", in.name, in.cluster, rec.err)
			}
		})
	}
	wg.Wait()
}

// sameRender reports whether two revisions render the same objects for an
// instance (render errors count as different).
func (e *engine) sameRender(in *instance, a, b string) bool {
	oa, errA := e.src.Render(a, in.app, in.cluster)
	ob, errB := e.src.Render(b, in.app, in.cluster)
	if errA != nil || errB != nil || len(oa) != len(ob) {
		return false
	}
	for i := range oa {
		if !equalJSON(oa[i].Object, ob[i].Object) {
			return false
		}
	}
	return true
}

// loadApplied recovers, from the operator objects Install wrote, which
// revision each instance is live at.
func (e *engine) loadApplied(ctx context.Context) error {
	var errs []error
	var apps map[string]*unstructured.Unstructured
	if hub := e.hub(); hub != nil && e.hasArgo() {
		var err error
		if apps, err = hub.list(ctx, ApplicationGVK, scenario.ArgoNamespace); err != nil {
			errs = append(errs, err)
		}
	}
	flux := map[string]map[string]*unstructured.Unstructured{}
	for _, name := range e.fluxClusters() {
		for _, gvk := range []schema.GroupVersionKind{KustomizationGVK, HelmReleaseGVK} {
			objs, err := e.clusters[name].list(ctx, gvk, scenario.FluxNamespace)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			for n, o := range objs {
				if flux[name] == nil {
					flux[name] = map[string]*unstructured.Unstructured{}
				}
				flux[name][gvk.Kind+"/"+n] = o
			}
		}
	}
	for _, in := range e.insts {
		switch in.op {
		case scenario.ArgoCD:
			if a := apps[in.name]; a != nil {
				in.appliedRev, _, _ = unstructured.NestedString(a.Object, "status", "operationState", "syncResult", "revision")
			}
		case scenario.Flux:
			if in.app.Render == scenario.Helm {
				hr := flux[in.cluster]["HelmRelease/"+in.name]
				if hr == nil {
					continue
				}
				v, _, _ := unstructured.NestedString(hr.Object, "status", "lastAttemptedRevision")
				if _, meta, ok := strings.Cut(v, "+"); ok {
					if rev, err := e.src.Resolve(meta); err == nil {
						in.appliedRev = rev
					}
				}
			} else if ks := flux[in.cluster]["Kustomization/"+in.name]; ks != nil {
				v, _, _ := unstructured.NestedString(ks.Object, "status", "lastAttemptedRevision")
				in.appliedRev = revisionSHA(v)
			}
		case scenario.None:
			// Applied once by Install; nothing follows git for it.
		}
	}
	return errors.Join(errs...)
}

// revisionSHA extracts the sha of a Flux revision ("main@sha1:<sha>",
// "sha1:<sha>" or the older "main/<sha>").
func revisionSHA(rev string) string {
	if i := strings.LastIndex(rev, "sha1:"); i >= 0 {
		return rev[i+len("sha1:"):]
	}
	if i := strings.LastIndex(rev, "/"); i >= 0 {
		return rev[i+1:]
	}
	return rev
}

// manager is the field manager that applies an instance's objects.
func manager(in *instance) string {
	switch {
	case in.op == scenario.ArgoCD:
		return managerArgo
	case in.op == scenario.Flux && in.app.Render == scenario.Helm:
		return managerHelm
	case in.op == scenario.Flux:
		return managerKustomize
	}
	return managerSandbox
}

// clusterScoped lists the kinds that have no namespace (enough for what a
// service's manifests contain).
var clusterScoped = map[string]bool{
	"Namespace": true, "ClusterRole": true, "ClusterRoleBinding": true, "CustomResourceDefinition": true,
	"PersistentVolume": true, "StorageClass": true, "PriorityClass": true, "IngressClass": true,
	"ValidatingWebhookConfiguration": true, "MutatingWebhookConfiguration": true, "APIService": true,
}

// desired renders an instance at rev and marks the objects the way its
// operator would.
func (e *engine) desired(in *instance, rev string) ([]*unstructured.Unstructured, error) {
	objs, err := e.src.Render(rev, in.app, in.cluster)
	if err != nil {
		return nil, err
	}
	for _, obj := range objs {
		decorate(in, obj)
	}
	return objs, nil
}

func decorate(in *instance, obj *unstructured.Unstructured) {
	if !clusterScoped[obj.GetKind()] && (obj.GetNamespace() == "" || in.op == scenario.Flux) {
		// Flux's targetNamespace overrides every namespace; Argo and
		// kubectl fill in only missing ones.
		obj.SetNamespace(in.app.Namespace)
	}
	labels := obj.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	annotations := obj.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	switch {
	case in.op == scenario.ArgoCD:
		labels["app.kubernetes.io/instance"] = in.name
		annotations["argocd.argoproj.io/tracking-id"] = trackingID(in.name, obj)
	case in.op == scenario.Flux && in.app.Render == scenario.Helm:
		labels["helm.toolkit.fluxcd.io/name"] = in.name
		labels["helm.toolkit.fluxcd.io/namespace"] = scenario.FluxNamespace
		labels["app.kubernetes.io/managed-by"] = "Helm"
		annotations["meta.helm.sh/release-name"] = in.app.Name
		annotations["meta.helm.sh/release-namespace"] = in.app.Namespace
	case in.op == scenario.Flux:
		labels["kustomize.toolkit.fluxcd.io/name"] = in.name
		labels["kustomize.toolkit.fluxcd.io/namespace"] = scenario.FluxNamespace
	default:
		labels["app.kubernetes.io/managed-by"] = managerSandbox
	}
	obj.SetLabels(labels)
	if len(annotations) > 0 {
		obj.SetAnnotations(annotations)
	}
}

// trackingID is Argo CD's annotation tracking id.
func trackingID(app string, obj *unstructured.Unstructured) string {
	gvk := obj.GroupVersionKind()
	return fmt.Sprintf("%s:%s/%s:%s/%s", app, gvk.Group, gvk.Kind, obj.GetNamespace(), obj.GetName())
}

// sync applies an instance at rev and records the result on the instance.
// Objects of the previously applied revision that rev no longer renders are
// pruned (Argo's prune: true, Flux's prune).
func (e *engine) sync(ctx context.Context, in *instance, rev string, automated bool) *syncRecord {
	rec := &syncRecord{revision: rev, startedAt: e.now(), automated: automated}
	defer func() {
		rec.finishedAt = e.now()
		in.pending = append(in.pending, rec)
	}()
	c := e.clusters[in.cluster]
	objs, err := e.desired(in, rev)
	if err != nil {
		rec.err = fmt.Errorf("%s on %s: %w", in.name, in.cluster, err)
		return rec
	}
	if err := c.ensureNamespace(ctx, manager(in), in.app.Namespace); err != nil {
		rec.err = err
		return rec
	}
	for _, obj := range objs {
		before, err := c.get(ctx, obj.GroupVersionKind(), obj.GetNamespace(), obj.GetName())
		if err != nil {
			rec.err = err
			return rec
		}
		after, err := c.apply(ctx, manager(in), obj)
		if err != nil {
			rec.err = err
			return rec
		}
		verb := "configured"
		switch {
		case before == nil:
			verb = "created"
		case before.GetResourceVersion() == after.GetResourceVersion():
			verb = "unchanged"
		}
		gvk := obj.GroupVersionKind()
		rec.results = append(rec.results, resourceResult{gvk: gvk, namespace: obj.GetNamespace(), name: obj.GetName(),
			message: fmt.Sprintf("%s/%s %s", strings.ToLower(gvk.GroupKind().String()), obj.GetName(), verb)})
	}
	if in.appliedRev != "" && in.appliedRev != rev {
		if old, err := e.desired(in, in.appliedRev); err == nil {
			for _, o := range old {
				if findObject(objs, o) == nil {
					if err := c.remove(ctx, o); err != nil {
						rec.err = err
						return rec
					}
					e.logf("pruned %s %s on %s", o.GetKind(), objectRef(o), in.cluster)
				}
			}
		}
	}
	in.appliedRev = rev
	e.logf("applied %s (%s) on %s at %s: %d objects", in.name, in.op, in.cluster, short(rev), len(objs))
	return rec
}

// handPatch changes the main container's image like `kubectl patch` would.
func (e *engine) handPatch(ctx context.Context, in *instance) error {
	c := e.clusters[in.cluster]
	objs, err := e.desired(in, in.appliedRev)
	if err != nil {
		return err
	}
	for _, obj := range objs {
		if obj.GetKind() != "Deployment" {
			continue
		}
		containers, _, _ := unstructured.NestedSlice(obj.Object, "spec", "template", "spec", "containers")
		for i, ct := range containers {
			m, _ := ct.(map[string]any)
			image := nestedStr(m, "image")
			if !strings.HasPrefix(image, in.app.Image()+":") && !strings.HasPrefix(image, in.app.Image()+"@") {
				continue
			}
			patched := in.app.Image() + ":" + scenario.HandPatchTag
			// kubectl patch --type=json: replace just that container's image.
			patch := fmt.Sprintf(`[{"op":"test","path":"/spec/template/spec/containers/%d/name","value":%q},`+
				`{"op":"replace","path":"/spec/template/spec/containers/%d/image","value":%q}]`, i, nestedStr(m, "name"), i, patched)
			ri, err := c.resource(obj.GroupVersionKind(), obj.GetNamespace())
			if err != nil {
				return err
			}
			pctx, cancel := context.WithTimeout(ctx, callTimeout)
			_, err = ri.Patch(pctx, obj.GetName(), types.JSONPatchType, []byte(patch), metav1PatchOptions(managerPatch))
			cancel()
			if err != nil {
				return fmt.Errorf("cluster %s: hand-patch Deployment %s: %w", in.cluster, objectRef(obj), err)
			}
			e.logf("hand-patched Deployment %s on %s to %s", objectRef(obj), in.cluster, patched)
			return nil
		}
	}
	return fmt.Errorf("cluster %s: hand patch: no Deployment of %s runs %s", in.cluster, in.app.Name, in.app.Image())
}

// findObject returns the object in objs with the same kind, namespace and
// name as o.
func findObject(objs []*unstructured.Unstructured, o *unstructured.Unstructured) *unstructured.Unstructured {
	for _, x := range objs {
		if x.GroupVersionKind().GroupKind() == o.GroupVersionKind().GroupKind() &&
			x.GetNamespace() == o.GetNamespace() && x.GetName() == o.GetName() {
			return x
		}
	}
	return nil
}
