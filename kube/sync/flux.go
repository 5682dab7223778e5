package sync

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// requestFlux annotates the target's source, or the object itself when it has none.
func (s *Syncer) requestFlux(ctx context.Context, t Target) (Handle, error) {
	fail := func(err error) (Handle, error) {
		return Handle{}, fmt.Errorf("sync %s on %s: %w", t.App, t.Cluster, err)
	}
	ri, err := s.resource(t.ObjectCluster, t.Kind, t.Namespace)
	if err != nil {
		return fail(err)
	}
	obj, err := ri.Get(ctx, t.Name, metav1.GetOptions{})
	if err != nil {
		return fail(fmt.Errorf("cluster %s: get %s %s/%s: %w", t.ObjectCluster, t.Kind, t.Namespace, t.Name, err))
	}
	if suspended, _, _ := unstructured.NestedBool(obj.Object, "spec", "suspend"); suspended {
		return fail(fmt.Errorf("%s %s/%s on %s is %w", t.Kind, t.Namespace, t.Name, t.ObjectCluster, ErrSuspended))
	}
	h := Handle{Target: t, RequestedAt: s.opts.Now()}
	h.Token = h.RequestedAt.Format(time.RFC3339Nano)
	ref := ObjectRef{Kind: t.Kind, Namespace: t.Namespace, Name: t.Name}
	if src, ok := fluxSource(obj); ok {
		h.Source, ref = src, src
	}
	if err := s.annotate(ctx, t.ObjectCluster, ref, h.Token); err != nil {
		return fail(err)
	}
	return h, nil
}

// fluxSource is the source `flux reconcile --with-source` reconciles first: a
// Kustomization's spec.sourceRef, a HelmRelease's chart sourceRef or chartRef. Kinds fleetdeck
// does not know are skipped (the object is then requested alone).
func fluxSource(obj *unstructured.Unstructured) (ObjectRef, bool) {
	var ref map[string]any
	switch obj.GetKind() {
	case "Kustomization":
		ref, _, _ = unstructured.NestedMap(obj.Object, "spec", "sourceRef")
	case "HelmRelease":
		var ok bool
		if ref, ok, _ = unstructured.NestedMap(obj.Object, "spec", "chart", "spec", "sourceRef"); !ok {
			ref, _, _ = unstructured.NestedMap(obj.Object, "spec", "chartRef")
		}
	}
	kind, _ := ref["kind"].(string)
	name, _ := ref["name"].(string)
	ns, _ := ref["namespace"].(string)
	if ns == "" {
		ns = obj.GetNamespace()
	}
	if _, known := groups[kind]; !known || name == "" || kind == "Kustomization" || kind == "HelmRelease" || kind == "Application" {
		return ObjectRef{}, false
	}
	return ObjectRef{Kind: kind, Namespace: ns, Name: name}, true
}

// annotate sets Flux's reconcile request annotation with a JSON merge patch, as the flux CLI
// does.
func (s *Syncer) annotate(ctx context.Context, cluster string, ref ObjectRef, value string) error {
	if s.opts.ReadOnly {
		return ErrReadOnly
	}
	ri, err := s.resource(cluster, ref.Kind, ref.Namespace)
	if err != nil {
		return err
	}
	body, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]any{ReconcileRequestAnnotation: value}}})
	if err != nil {
		return err
	}
	if _, err := ri.Patch(ctx, ref.Name, types.MergePatchType, body, metav1.PatchOptions{FieldManager: FieldManager}); err != nil {
		return fmt.Errorf("cluster %s: annotate %s for a reconcile: %w", cluster, ref, err)
	}
	return nil
}

// fluxStep reads the source (until it reconciled) or the object once and says where the
// request stands; once the source is done it annotates the object.
func (f *follower) fluxStep(ctx context.Context) (Phase, error) {
	t := f.h.Target
	cluster := t.ObjectCluster
	if f.h.Source.Name != "" && f.objectToken == "" {
		step := "source " + f.h.Source.String()
		src, err := f.get(ctx, cluster, f.h.Source)
		if err != nil {
			return Phase{}, err
		}
		handled, ready, msg := requestState(src, f.h.Token)
		artifact, _, _ := unstructured.NestedString(src.Object, "status", "artifact", "revision")
		switch {
		case !handled:
			return Phase{State: StatePending, Step: step, Message: "waiting for source-controller to fetch"}, nil
		case ready == "" || ready == "Unknown":
			return Phase{State: StateRunning, Step: step, Message: msg}, nil
		case ready == "False":
			return Phase{State: StateFailed, Step: step, Message: "source reconciliation failed: " + msg}, nil
		}
		// The source holds its newest artifact: now the object, with a request of its own.
		token := f.s.opts.Now().Format(time.RFC3339Nano)
		obj := ObjectRef{Kind: t.Kind, Namespace: t.Namespace, Name: t.Name}
		if err := f.s.annotate(ctx, cluster, obj, token); err != nil {
			return Phase{State: StateError, Step: t.Kind + " " + t.Namespace + "/" + t.Name, Message: err.Error()}, nil
		}
		f.objectToken = token
		return Phase{State: StatePending, Step: obj.String(), Message: "source at " + artifact + "; reconcile requested", Revision: artifact}, nil
	}
	token := f.h.Token
	if f.h.Source.Name != "" {
		token = f.objectToken
	}
	ref := ObjectRef{Kind: t.Kind, Namespace: t.Namespace, Name: t.Name}
	obj, err := f.get(ctx, cluster, ref)
	if err != nil {
		return Phase{}, err
	}
	handled, ready, msg := requestState(obj, token)
	rev, _, _ := unstructured.NestedString(obj.Object, "status", "lastAttemptedRevision")
	if applied, _, _ := unstructured.NestedString(obj.Object, "status", "lastAppliedRevision"); ready == "True" && applied != "" {
		rev = applied
	}
	p := Phase{Step: ref.String(), Message: msg, Revision: rev, Health: ready}
	switch {
	case !handled:
		p.State, p.Message, p.Health = StatePending, "waiting for "+controllerOf(t.Kind)+" to reconcile", ""
	case ready == "True":
		p.State = StateSucceeded
	case ready == "False":
		p.State = StateFailed
	default:
		p.State = StateRunning
	}
	return p, nil
}

func (f *follower) get(ctx context.Context, cluster string, ref ObjectRef) (*unstructured.Unstructured, error) {
	ri, err := f.s.resource(cluster, ref.Kind, ref.Namespace)
	if err != nil {
		return nil, err
	}
	obj, err := ri.Get(ctx, ref.Name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("cluster %s: get %s: %w", cluster, ref, err)
	}
	return obj, nil
}

// requestState says whether a Flux object reported the request handled, and its Ready
// condition's status and message.
func requestState(obj *unstructured.Unstructured, token string) (handled bool, ready, message string) {
	last, _, _ := unstructured.NestedString(obj.Object, "status", "lastHandledReconcileAt")
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Ready" {
			ready, _ = m["status"].(string)
			message, _ = m["message"].(string)
		}
	}
	return last == token, ready, message
}

func controllerOf(kind string) string {
	switch kind {
	case "Kustomization":
		return "kustomize-controller"
	case "HelmRelease":
		return "helm-controller"
	}
	return "source-controller"
}
