package sync

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// maxConflictRetries bounds how often a request is retried when the Application changed
// between reading and patching it.
const maxConflictRetries = 5

// requestArgo sets a sync operation on the target's Application.
func (s *Syncer) requestArgo(ctx context.Context, t Target) (Handle, error) {
	fail := func(err error) (Handle, error) {
		return Handle{}, fmt.Errorf("sync %s on %s: %w", t.App, t.Cluster, err)
	}
	ri, err := s.resource(t.ObjectCluster, "Application", t.Namespace)
	if err != nil {
		return fail(err)
	}
	token := newToken()
	for attempt := 0; ; attempt++ {
		app, err := ri.Get(ctx, t.Name, metav1.GetOptions{})
		if err != nil {
			return fail(fmt.Errorf("cluster %s: get Application %s/%s: %w", t.ObjectCluster, t.Namespace, t.Name, err))
		}
		if app.GetDeletionTimestamp() != nil {
			return fail(fmt.Errorf("Application %s/%s on %s is being deleted", t.Namespace, t.Name, t.ObjectCluster))
		}
		if op, ok := app.Object["operation"].(map[string]any); ok && op != nil {
			return fail(fmt.Errorf("Application %s/%s on %s: %w (initiated by %s)", t.Namespace, t.Name, t.ObjectCluster, ErrInProgress, initiator(op)))
		}
		body, err := json.Marshal(map[string]any{
			// The resourceVersion makes the patch fail with a conflict when another client set an
			// operation since the read, instead of replacing it.
			"metadata":  map[string]any{"resourceVersion": app.GetResourceVersion()},
			"operation": argoOperation(app, s.opts.Username, token),
		})
		if err != nil {
			return fail(err)
		}
		prev, _, _ := unstructured.NestedString(app.Object, "status", "operationState", "startedAt")
		requested := s.opts.Now()
		_, err = ri.Patch(ctx, t.Name, types.MergePatchType, body, metav1.PatchOptions{FieldManager: FieldManager})
		if apierrors.IsConflict(err) && attempt < maxConflictRetries {
			continue
		}
		if err != nil {
			return fail(fmt.Errorf("cluster %s: set the sync operation on Application %s/%s: %w", t.ObjectCluster, t.Namespace, t.Name, err))
		}
		return Handle{Target: t, RequestedAt: requested, Token: token, PreviousStartedAt: prev}, nil
	}
}

// argoOperation is the sync operation Argo CD's API server builds for `argocd app sync APP`
// without flags: the tracked revision, the hook strategy, and the Application's own sync
// options and retry strategy.
func argoOperation(app *unstructured.Unstructured, username, token string) map[string]any {
	sync := map[string]any{"syncStrategy": map[string]any{"hook": map[string]any{}}}
	if src, ok, _ := unstructured.NestedMap(app.Object, "spec", "source"); ok {
		rev, _ := src["targetRevision"].(string)
		if rev == "" {
			rev = "HEAD"
		}
		sync["revision"] = rev
	} else if srcs, ok, _ := unstructured.NestedSlice(app.Object, "spec", "sources"); ok && len(srcs) > 0 {
		revs := make([]any, len(srcs))
		for i, s := range srcs {
			m, _ := s.(map[string]any)
			rev, _ := m["targetRevision"].(string)
			if rev == "" {
				rev = "HEAD"
			}
			revs[i] = rev
		}
		sync["revisions"] = revs
	}
	if opts, ok, _ := unstructured.NestedSlice(app.Object, "spec", "syncPolicy", "syncOptions"); ok && len(opts) > 0 {
		sync["syncOptions"] = opts
	}
	op := map[string]any{
		"initiatedBy": map[string]any{"username": username},
		"info":        []any{map[string]any{"name": InfoName, "value": token}},
		"sync":        sync,
	}
	if retry, ok, _ := unstructured.NestedMap(app.Object, "spec", "syncPolicy", "retry"); ok {
		op["retry"] = retry
	}
	return op
}

// initiator words an operation's initiatedBy.
func initiator(op map[string]any) string {
	if auto, _, _ := unstructured.NestedBool(op, "initiatedBy", "automated"); auto {
		return "automated sync"
	}
	if u, _, _ := unstructured.NestedString(op, "initiatedBy", "username"); u != "" {
		return u
	}
	return "an unknown client"
}

// argoStep reads the Application once and says where the operation stands.
func (f *follower) argoStep(ctx context.Context) (Phase, error) {
	t := f.h.Target
	const step = "sync operation"
	ri, err := f.s.resource(t.ObjectCluster, "Application", t.Namespace)
	if err != nil {
		return Phase{}, err
	}
	app, err := ri.Get(ctx, t.Name, metav1.GetOptions{})
	if err != nil {
		return Phase{}, fmt.Errorf("cluster %s: get Application %s/%s: %w", t.ObjectCluster, t.Namespace, t.Name, err)
	}
	now := f.s.opts.Now()
	opSet := app.Object["operation"] != nil
	state, _, _ := unstructured.NestedMap(app.Object, "status", "operationState")
	if !f.ours(state, opSet) {
		const waiting = "waiting for Argo CD's application controller to start the operation"
		if opSet {
			f.goneSince = time.Time{}
			return Phase{State: StatePending, Step: step, Message: waiting}, nil
		}
		if f.goneSince.IsZero() {
			f.goneSince = now
		}
		if now.Sub(f.goneSince) > f.s.opts.Settle {
			return Phase{State: StateError, Step: step,
				Message: "the operation was removed from the Application without Argo CD reporting it (another client replaced or removed it)"}, nil
		}
		return Phase{State: StatePending, Step: step, Message: waiting}, nil
	}
	phase, _ := state["phase"].(string)
	message, _ := state["message"].(string)
	revision, _, _ := unstructured.NestedString(state, "syncResult", "revision")
	p := Phase{State: StateRunning, Step: step, Message: message, Revision: revision}
	final := map[string]State{"Succeeded": StateSucceeded, "Failed": StateFailed, "Error": StateError}[phase]
	if final == "" || opSet {
		// Running or Terminating, or finished but not yet cleared by the controller.
		if phase == "Terminating" {
			p.Message = "terminating: " + message
		}
		return p, nil
	}
	// Like `argocd app wait`: sync and health are current once the controller compared the
	// application again after the operation finished.
	finished := parseTime(state["finishedAt"])
	reconciledAt, _, _ := unstructured.NestedString(app.Object, "status", "reconciledAt")
	if rec := parseTime(reconciledAt); !finished.IsZero() && (rec.IsZero() || rec.Before(finished)) {
		if f.finishedSeen.IsZero() {
			f.finishedSeen = now
		}
		if now.Sub(f.finishedSeen) < f.s.opts.Settle {
			p.Step = "comparison after the sync"
			return p, nil
		}
	}
	p.State = final
	p.Sync, _, _ = unstructured.NestedString(app.Object, "status", "sync", "status")
	p.Health, _, _ = unstructured.NestedString(app.Object, "status", "health", "status")
	return p, nil
}

// ours reports whether an operationState is the one the request started: Argo CD keeps the
// operation as requested, info included. A controller that drops the info is matched by a
// start after the request, once the operation is cleared.
func (f *follower) ours(state map[string]any, opSet bool) bool {
	if state == nil {
		return false
	}
	infos, _, _ := unstructured.NestedSlice(state, "operation", "info")
	for _, i := range infos {
		if m, ok := i.(map[string]any); ok && m["name"] == InfoName {
			return m["value"] == f.h.Token
		}
	}
	started, _ := state["startedAt"].(string)
	return !opSet && started != "" && started != f.h.PreviousStartedAt &&
		!parseTime(started).Before(f.h.RequestedAt.Truncate(time.Second))
}

// parseTime reads an RFC 3339 time; zero when absent or malformed.
func parseTime(v any) time.Time {
	s, _ := v.(string)
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}
	}
	return t
}
