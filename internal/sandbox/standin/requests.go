package standin

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

// ReconcileRequestAnnotation is Flux's reconcile request annotation
// (fluxcd/pkg/apis/meta ReconcileRequestAnnotation): `flux reconcile` sets it
// to the current time and the controller copies the value it handled to
// status.lastHandledReconcileAt.
const ReconcileRequestAnnotation = "reconcile.fluxcd.io/requestedAt"

// Argo CD operation phases the stand-in reports.
const (
	phaseRunning   = "Running"
	phaseSucceeded = "Succeeded"
	phaseFailed    = "Failed"
)

// runOperations performs the sync operations requested on Applications the
// way Argo CD's application controller does: it reports
// status.operationState with phase Running and the operation as requested,
// syncs, reports the final phase with the sync result, and only then clears
// .operation (Argo CD does both in one update), so a client that sees the
// operation gone reads the final state.
func (e *engine) runOperations(ctx context.Context, head string) {
	hub := e.hub()
	if hub == nil || !e.hasArgo() {
		return
	}
	apps, err := hub.list(ctx, ApplicationGVK, scenario.ArgoNamespace)
	if err != nil {
		if ctx.Err() == nil {
			e.logf("look for sync operations: %v", err)
		}
		return
	}
	for _, in := range e.insts {
		a := apps[in.name]
		if in.op != scenario.ArgoCD || a == nil {
			continue
		}
		op, ok, _ := unstructured.NestedMap(a.Object, "operation")
		if !ok || op == nil {
			continue
		}
		e.runOperation(ctx, hub, in, a, op, head)
	}
}

func (e *engine) runOperation(ctx context.Context, hub *cluster, in *instance, a *unstructured.Unstructured, op map[string]any, head string) {
	user, _, _ := unstructured.NestedString(op, "initiatedBy", "username")
	started := e.now()
	e.writeOperationState(ctx, hub, in, map[string]any{
		"operation": op,
		"phase":     phaseRunning,
		"message":   "one or more tasks are running",
		"startedAt": ts(started),
	})

	var rec *syncRecord
	if syncOp, ok := op["sync"].(map[string]any); ok {
		rev := head
		if r, _ := syncOp["revision"].(string); r != "" && r != scenario.Branch && r != "HEAD" {
			if full, err := e.src.Resolve(r); err == nil {
				rev = full
			} else {
				e.logf("sync operation on %s: revision %s: %v", in.name, r, err)
			}
		}
		rec = e.sync(ctx, in, rev, false)
		if rec.err != nil {
			e.logf("sync operation on %s: %v", in.name, rec.err)
		}
	} else {
		// Rollback and other operations are not part of the stand-in.
		rec = &syncRecord{finishedAt: e.now(), err: errors.New("the sandbox's stand-in operator performs only sync operations")}
		in.pending = append(in.pending, rec)
	}
	rec.startedAt, rec.user, rec.operation = started, user, op

	if err := e.refreshInstance(ctx, in, head, a, false); err != nil && ctx.Err() == nil {
		e.logf("report sync operation on %s: %v", in.name, err)
	}
	ri, err := hub.resource(ApplicationGVK, scenario.ArgoNamespace)
	if err == nil {
		pctx, cancel := context.WithTimeout(ctx, callTimeout)
		_, err = ri.Patch(pctx, in.name, types.MergePatchType, []byte(`{"operation":null}`), metav1PatchOptions(managerArgoApp))
		cancel()
	}
	if err != nil && ctx.Err() == nil {
		e.logf("clear sync operation on %s: %v", in.name, err)
	}
}

// writeOperationState merges status.operationState into an Application
// through the status subresource.
func (e *engine) writeOperationState(ctx context.Context, hub *cluster, in *instance, state map[string]any) {
	body, err := json.Marshal(map[string]any{"status": map[string]any{"operationState": state}})
	if err == nil {
		r, rerr := hub.resource(ApplicationGVK, scenario.ArgoNamespace)
		if rerr != nil {
			err = rerr
		} else {
			pctx, cancel := context.WithTimeout(ctx, callTimeout)
			_, err = r.Patch(pctx, in.name, types.MergePatchType, body, metav1PatchOptions(managerArgoApp), "status")
			cancel()
		}
	}
	if err != nil && ctx.Err() == nil {
		e.logf("report running operation on %s: %v", in.name, err)
	}
}

// runReconcileRequests handles Flux reconcile requests. A GitRepository's
// request is handled by reporting it (the branch is polled every Interval,
// so its artifact is HEAD already); a Kustomization's or HelmRelease's
// request re-applies the instance at HEAD, as a reconcile by
// kustomize-controller or helm-controller (with drift detection) would,
// which reverts live drift. The handled value is written to
// status.lastHandledReconcileAt by the next status refresh.
func (e *engine) runReconcileRequests(ctx context.Context, head string) {
	for _, name := range e.fluxClusters() {
		repos, err := e.clusters[name].list(ctx, GitRepositoryGVK, scenario.FluxNamespace)
		if err != nil {
			if ctx.Err() == nil {
				e.logf("look for reconcile requests on %s: %v", name, err)
			}
			continue
		}
		for n, r := range repos {
			if req := pendingRequest(r); req != "" && req != e.sourceHandled[name+"/"+n] {
				e.sourceHandled[name+"/"+n] = req
				e.logf("reconcile request on GitRepository %s/%s on %s: artifact %s", scenario.FluxNamespace, n, name, fluxRevision(head))
			}
		}
	}
	for _, in := range e.insts {
		if in.op != scenario.Flux {
			continue
		}
		gvk := KustomizationGVK
		if in.app.Render == scenario.Helm {
			gvk = HelmReleaseGVK
		}
		obj, err := e.clusters[in.cluster].get(ctx, gvk, scenario.FluxNamespace, in.name)
		if err != nil {
			if ctx.Err() == nil {
				e.logf("look for reconcile requests on %s %s: %v", gvk.Kind, in.name, err)
			}
			continue
		}
		req := pendingRequest(obj)
		if req == "" || req == in.handledReq {
			continue
		}
		was := in.appliedRev
		rec := e.sync(ctx, in, head, false)
		rec.reapply = was == head
		in.handledReq = req
		if rec.err != nil {
			e.logf("reconcile request on %s %s on %s: %v", gvk.Kind, in.name, in.cluster, rec.err)
		}
	}
}

// pendingRequest is the object's reconcile request when it has not been
// reported handled yet, else "".
func pendingRequest(obj *unstructured.Unstructured) string {
	if obj == nil {
		return ""
	}
	req := obj.GetAnnotations()[ReconcileRequestAnnotation]
	handled, _, _ := unstructured.NestedString(obj.Object, "status", "lastHandledReconcileAt")
	if req == "" || req == handled {
		return ""
	}
	return req
}

// setHandled writes status.lastHandledReconcileAt: the request handled by
// this process, else the value reported before (the status is applied
// whole, so a value left out would be removed).
func setHandled(st, prev map[string]any, handled string) {
	if handled == "" {
		handled, _ = prev["lastHandledReconcileAt"].(string)
	}
	if strings.TrimSpace(handled) != "" {
		st["lastHandledReconcileAt"] = handled
	}
}
