package sync

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	clienttesting "k8s.io/client-go/testing"

	"github.com/fleetdeck/fleetdeck/fleet"
)

var (
	appGVR  = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}
	ksGVR   = schema.GroupVersionResource{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Resource: "kustomizations"}
	hrGVR   = schema.GroupVersionResource{Group: "helm.toolkit.fluxcd.io", Version: "v2", Resource: "helmreleases"}
	gitGVR  = schema.GroupVersionResource{Group: "source.toolkit.fluxcd.io", Version: "v1", Resource: "gitrepositories"}
	kinds   = map[schema.GroupVersionResource]string{appGVR: "Application", ksGVR: "Kustomization", hrGVR: "HelmRelease", gitGVR: "GitRepository"}
	argoApp = Target{App: "payments-api", Cluster: "prod-us", Operator: fleet.OperatorArgoCD, Kind: "Application",
		ObjectCluster: "prod-eu", Namespace: "argocd", Name: "payments-api-prod-us"}
	fluxKs = Target{App: "catalog-api", Cluster: "staging", Operator: fleet.OperatorFlux, Kind: "Kustomization",
		ObjectCluster: "staging", Namespace: "flux-system", Name: "catalog-api"}
	declared = Target{App: "ledger", Cluster: "staging", Operator: fleet.OperatorDeclared, ObjectCluster: "staging"}
)

// fakeClient serves the given objects with client-go's dynamic fake.
func fakeClient(t *testing.T, objs ...*unstructured.Unstructured) (Client, *dynamicfake.FakeDynamicClient) {
	t.Helper()
	scheme := runtime.NewScheme()
	var gvs []schema.GroupVersion
	for gvr := range kinds {
		gvs = append(gvs, gvr.GroupVersion())
	}
	rm := meta.NewDefaultRESTMapper(gvs)
	listKinds := map[schema.GroupVersionResource]string{}
	for gvr, kind := range kinds {
		gvk := gvr.GroupVersion().WithKind(kind)
		scheme.AddKnownTypeWithName(gvk, &unstructured.Unstructured{})
		scheme.AddKnownTypeWithName(gvr.GroupVersion().WithKind(kind+"List"), &unstructured.UnstructuredList{})
		rm.Add(gvk, meta.RESTScopeNamespace)
		listKinds[gvr] = kind + "List"
	}
	var rs []runtime.Object
	for _, o := range objs {
		rs = append(rs, o)
	}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(scheme, listKinds, rs...)
	return Client{Dynamic: dyn, Mapper: rm}, dyn
}

func obj(gvr schema.GroupVersionResource, ns, name string, fields map[string]any) *unstructured.Unstructured {
	o := map[string]any{
		"apiVersion": gvr.GroupVersion().String(), "kind": kinds[gvr],
		"metadata": map[string]any{"name": name, "namespace": ns, "resourceVersion": "7"},
	}
	for k, v := range fields {
		o[k] = v
	}
	return &unstructured.Unstructured{Object: o}
}

func application(fields map[string]any) *unstructured.Unstructured {
	if fields == nil {
		fields = map[string]any{}
	}
	if _, ok := fields["spec"]; !ok {
		fields["spec"] = map[string]any{
			"source": map[string]any{"repoURL": "file:///r.git", "path": "k8s/payments-api", "targetRevision": "main"},
			"syncPolicy": map[string]any{
				"automated":   map[string]any{"prune": true},
				"syncOptions": []any{"CreateNamespace=true"},
				"retry":       map[string]any{"limit": int64(2)},
			},
		}
	}
	return obj(appGVR, "argocd", "payments-api-prod-us", fields)
}

func kustomization(spec map[string]any) *unstructured.Unstructured {
	if spec == nil {
		spec = map[string]any{"sourceRef": map[string]any{"kind": "GitRepository", "name": "fleet-gitops"}, "path": "./k8s/catalog-api"}
	}
	return obj(ksGVR, "flux-system", "catalog-api", map[string]any{"spec": spec})
}

func gitRepository() *unstructured.Unstructured {
	return obj(gitGVR, "flux-system", "fleet-gitops", map[string]any{"spec": map[string]any{"url": "file:///r.git"}})
}

// writes lists the write actions a fake received.
func writes(f *dynamicfake.FakeDynamicClient) []clienttesting.Action {
	var out []clienttesting.Action
	for _, a := range f.Actions() {
		switch a.GetVerb() {
		case "get", "list", "watch":
		default:
			out = append(out, a)
		}
	}
	return out
}

var clock = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func TestRequestRefusals(t *testing.T) {
	tests := []struct {
		name   string
		opts   Options
		target Target
		objs   []*unstructured.Unstructured
		want   error
	}{
		{"read-only Argo CD", Options{ReadOnly: true}, argoApp, []*unstructured.Unstructured{application(nil)}, ErrReadOnly},
		{"read-only Flux", Options{ReadOnly: true}, fluxKs, []*unstructured.Unstructured{kustomization(nil), gitRepository()}, ErrReadOnly},
		{"declared", Options{}, declared, nil, ErrNoOperator},
		{"operation in progress", Options{}, argoApp, []*unstructured.Unstructured{application(map[string]any{
			"operation": map[string]any{"initiatedBy": map[string]any{"automated": true}, "sync": map[string]any{}}})}, ErrInProgress},
		{"suspended", Options{}, fluxKs, []*unstructured.Unstructured{kustomization(map[string]any{"suspend": true}), gitRepository()}, ErrSuspended},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, fake := fakeClient(t, tt.objs...)
			s := NewWithClients(map[string]Client{"prod-eu": c, "staging": c}, tt.opts)
			_, err := s.Request(context.Background(), tt.target)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Request: %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.target.App) || !strings.Contains(err.Error(), tt.target.Cluster) {
				t.Errorf("error %q does not name the app and cluster", err)
			}
			if w := writes(fake); len(w) > 0 {
				t.Errorf("refused request wrote to the API server: %v", w)
			}
			if tt.opts.ReadOnly && len(fake.Actions()) > 0 {
				t.Errorf("read-only request called the API server: %v", fake.Actions())
			}
		})
	}
}

func TestRequestArgoSetsTheOperation(t *testing.T) {
	c, fake := fakeClient(t, application(nil))
	s := NewWithClients(map[string]Client{"prod-eu": c}, Options{Username: "alice (fleetdeck)", Now: func() time.Time { return clock }})
	h, err := s.Request(context.Background(), argoApp)
	if err != nil {
		t.Fatal(err)
	}
	if h.Token == "" || !h.RequestedAt.Equal(clock) || h.Target != argoApp {
		t.Errorf("handle = %+v", h)
	}
	w := writes(fake)
	if len(w) != 1 || w[0].GetVerb() != "patch" {
		t.Fatalf("writes = %v, want one patch", w)
	}
	p := w[0].(clienttesting.PatchAction)
	var body map[string]any
	if err := json.Unmarshal(p.GetPatch(), &body); err != nil {
		t.Fatal(err)
	}
	want := `{"metadata":{"resourceVersion":"7"},"operation":{"info":[{"name":"fleetdeck.io/request","value":"` + h.Token + `"}],` +
		`"initiatedBy":{"username":"alice (fleetdeck)"},"retry":{"limit":2},` +
		`"sync":{"revision":"main","syncOptions":["CreateNamespace=true"],"syncStrategy":{"hook":{}}}}}`
	if got, _ := json.Marshal(body); string(got) != want {
		t.Errorf("patch\n got %s\nwant %s", got, want)
	}
	if p.GetPatchType() != "application/merge-patch+json" {
		t.Errorf("patch type %s, want a JSON merge patch", p.GetPatchType())
	}
}

func TestArgoOperationRevisions(t *testing.T) {
	tests := []struct {
		name string
		spec map[string]any
		want string
	}{
		{"no target revision", map[string]any{"source": map[string]any{"repoURL": "r"}}, `{"revision":"HEAD","syncStrategy":{"hook":{}}}`},
		{"tag", map[string]any{"source": map[string]any{"targetRevision": "v1.2.0"}}, `{"revision":"v1.2.0","syncStrategy":{"hook":{}}}`},
		{"multi-source", map[string]any{"sources": []any{map[string]any{"targetRevision": "main"}, map[string]any{}}},
			`{"revisions":["main","HEAD"],"syncStrategy":{"hook":{}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op := argoOperation(application(map[string]any{"spec": tt.spec}), "u", "tok")
			if got, _ := json.Marshal(op["sync"]); string(got) != tt.want {
				t.Errorf("sync = %s, want %s", got, tt.want)
			}
			if _, ok := op["retry"]; ok {
				t.Error("retry set without spec.syncPolicy.retry")
			}
		})
	}
}

// opState is an operationState of a request with token tok (or of someone else's when tok is "").
func opState(tok, phase, started, finished string) map[string]any {
	op := map[string]any{"sync": map[string]any{"revision": "main"}, "initiatedBy": map[string]any{"username": "alice"}}
	if tok != "" {
		op["info"] = []any{map[string]any{"name": InfoName, "value": tok}}
	}
	st := map[string]any{"operation": op, "phase": phase, "message": phase + " message", "startedAt": started,
		"syncResult": map[string]any{"revision": "abc123"}}
	if finished != "" {
		st["finishedAt"] = finished
	}
	return st
}

func TestArgoStep(t *testing.T) {
	requested := clock
	at := func(d time.Duration) string { return requested.Add(d).Format(time.RFC3339) }
	op := map[string]any{"sync": map[string]any{}}
	status := func(state map[string]any, reconciled string) map[string]any {
		s := map[string]any{"sync": map[string]any{"status": "Synced"}, "health": map[string]any{"status": "Healthy"}, "reconciledAt": reconciled}
		if state != nil {
			s["operationState"] = state
		}
		return s
	}
	tests := []struct {
		name      string
		fields    map[string]any
		now       time.Duration // since the request
		goneSince time.Duration // 0: not seen gone before
		want      Phase
	}{
		{"operation not started", map[string]any{"operation": op, "status": status(opState("", "Succeeded", at(-time.Hour), at(-time.Hour)), at(-time.Minute))}, 0, 0,
			Phase{State: StatePending, Step: "sync operation", Message: "waiting for Argo CD's application controller to start the operation"}},
		{"running", map[string]any{"operation": op, "status": status(opState("tok", "Running", at(time.Second), ""), at(-time.Minute))}, 2 * time.Second, 0,
			Phase{State: StateRunning, Step: "sync operation", Message: "Running message", Revision: "abc123"}},
		{"finished, not cleared", map[string]any{"operation": op, "status": status(opState("tok", "Succeeded", at(time.Second), at(2*time.Second)), at(3*time.Second))}, 3 * time.Second, 0,
			Phase{State: StateRunning, Step: "sync operation", Message: "Succeeded message", Revision: "abc123"}},
		{"finished, not compared yet", map[string]any{"status": status(opState("tok", "Succeeded", at(time.Second), at(2*time.Second)), at(-time.Minute))}, 3 * time.Second, 0,
			Phase{State: StateRunning, Step: "comparison after the sync", Message: "Succeeded message", Revision: "abc123"}},
		{"succeeded", map[string]any{"status": status(opState("tok", "Succeeded", at(time.Second), at(2*time.Second)), at(2*time.Second))}, 3 * time.Second, 0,
			Phase{State: StateSucceeded, Step: "sync operation", Message: "Succeeded message", Revision: "abc123", Sync: "Synced", Health: "Healthy"}},
		{"failed", map[string]any{"status": status(opState("tok", "Failed", at(time.Second), at(2*time.Second)), at(4*time.Second))}, 5 * time.Second, 0,
			Phase{State: StateFailed, Step: "sync operation", Message: "Failed message", Revision: "abc123", Sync: "Synced", Health: "Healthy"}},
		{"another client's operation", map[string]any{"status": status(opState("other", "Succeeded", at(time.Second), at(2*time.Second)), at(2*time.Second))}, 3 * time.Second, 0,
			Phase{State: StatePending, Step: "sync operation", Message: "waiting for Argo CD's application controller to start the operation"}},
		{"operation removed", map[string]any{"status": status(opState("", "Succeeded", at(-time.Hour), at(-time.Hour)), at(-time.Minute))}, 20 * time.Second, 9 * time.Second,
			Phase{State: StateError, Step: "sync operation", Message: "the operation was removed from the Application without Argo CD reporting it (another client replaced or removed it)"}},
		{"controller without info", map[string]any{"status": status(opState("", "Succeeded", at(0), at(time.Second)), at(time.Second))}, 2 * time.Second, 0,
			Phase{State: StateSucceeded, Step: "sync operation", Message: "Succeeded message", Revision: "abc123", Sync: "Synced", Health: "Healthy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := fakeClient(t, application(tt.fields))
			now := requested.Add(tt.now)
			s := NewWithClients(map[string]Client{"prod-eu": c}, Options{Now: func() time.Time { return now }})
			f := &follower{s: s, h: Handle{Target: argoApp, RequestedAt: requested, Token: "tok", PreviousStartedAt: at(-time.Hour)}}
			if tt.goneSince > 0 {
				f.goneSince = requested.Add(tt.goneSince)
			}
			got, err := f.argoStep(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("phase\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// setStatus replaces an object's status in the fake.
func setStatus(t *testing.T, fake *dynamicfake.FakeDynamicClient, gvr schema.GroupVersionResource, name string, status map[string]any) {
	t.Helper()
	ctx := context.Background()
	o, err := fake.Resource(gvr).Namespace("flux-system").Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	o.Object["status"] = status
	if _, err := fake.Resource(gvr).Namespace("flux-system").Update(ctx, o, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func annotation(t *testing.T, fake *dynamicfake.FakeDynamicClient, gvr schema.GroupVersionResource, name string) string {
	t.Helper()
	o, err := fake.Resource(gvr).Namespace("flux-system").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return o.GetAnnotations()[ReconcileRequestAnnotation]
}

func ready(status, msg string) []any {
	return []any{map[string]any{"type": "Ready", "status": status, "message": msg}}
}

func TestFluxSourceThenObject(t *testing.T) {
	ctx := context.Background()
	c, fake := fakeClient(t, kustomization(nil), gitRepository())
	now := clock
	s := NewWithClients(map[string]Client{"staging": c}, Options{Now: func() time.Time { return now }})
	h, err := s.Request(ctx, fluxKs)
	if err != nil {
		t.Fatal(err)
	}
	if h.Source != (ObjectRef{Kind: "GitRepository", Namespace: "flux-system", Name: "fleet-gitops"}) || h.Token != clock.Format(time.RFC3339Nano) {
		t.Fatalf("handle = %+v", h)
	}
	if got := annotation(t, fake, gitGVR, "fleet-gitops"); got != h.Token {
		t.Errorf("source annotation = %q, want %q", got, h.Token)
	}
	if got := annotation(t, fake, ksGVR, "catalog-api"); got != "" {
		t.Errorf("the Kustomization was annotated before its source reconciled: %q", got)
	}

	f := &follower{s: s, h: h}
	step := func() Phase {
		t.Helper()
		p, err := f.fluxStep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if p := step(); p.State != StatePending || p.Step != "source GitRepository flux-system/fleet-gitops" {
		t.Errorf("source not handled: %+v", p)
	}
	setStatus(t, fake, gitGVR, "fleet-gitops", map[string]any{"lastHandledReconcileAt": h.Token, "conditions": ready("True", "stored artifact"),
		"artifact": map[string]any{"revision": "main@sha1:abc"}})
	now = clock.Add(time.Second)
	objToken := now.Format(time.RFC3339Nano)
	if p := step(); p.State != StatePending || p.Step != "Kustomization flux-system/catalog-api" || p.Revision != "main@sha1:abc" {
		t.Errorf("source done: %+v", p)
	}
	if got := annotation(t, fake, ksGVR, "catalog-api"); got != objToken {
		t.Fatalf("Kustomization annotation = %q, want %q", got, objToken)
	}
	if p := step(); p.State != StatePending || !strings.Contains(p.Message, "kustomize-controller") {
		t.Errorf("object not handled: %+v", p)
	}
	setStatus(t, fake, ksGVR, "catalog-api", map[string]any{"lastHandledReconcileAt": objToken, "conditions": ready("Unknown", "Running health checks"),
		"lastAttemptedRevision": "main@sha1:abc", "lastAppliedRevision": "main@sha1:old"})
	if p := step(); p.State != StateRunning || p.Message != "Running health checks" || p.Revision != "main@sha1:abc" {
		t.Errorf("object reconciling: %+v", p)
	}
	setStatus(t, fake, ksGVR, "catalog-api", map[string]any{"lastHandledReconcileAt": objToken, "conditions": ready("True", "Applied revision: main@sha1:abc"),
		"lastAttemptedRevision": "main@sha1:abc", "lastAppliedRevision": "main@sha1:abc"})
	want := Phase{State: StateSucceeded, Step: "Kustomization flux-system/catalog-api", Message: "Applied revision: main@sha1:abc", Revision: "main@sha1:abc", Health: "True"}
	if p := step(); p != want {
		t.Errorf("object ready\n got %+v\nwant %+v", p, want)
	}
	if w := writes(fake); len(w) != 2+3 { // two annotations, three status updates by the test
		t.Errorf("writes = %d, want the source's and the object's annotation only", len(w)-3)
	}
}

func TestFluxFailures(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		source bool // the failure is the source's
		status map[string]any
		want   State
		msg    string
	}{
		{"source fails", true, map[string]any{"lastHandledReconcileAt": "TOKEN", "conditions": ready("False", "auth failed")}, StateFailed, "source reconciliation failed: auth failed"},
		{"object fails", false, map[string]any{"lastHandledReconcileAt": "TOKEN", "conditions": ready("False", "health check failed")}, StateFailed, "health check failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, fake := fakeClient(t, kustomization(nil), gitRepository())
			s := NewWithClients(map[string]Client{"staging": c}, Options{Now: func() time.Time { return clock }})
			h, err := s.Request(ctx, fluxKs)
			if err != nil {
				t.Fatal(err)
			}
			f := &follower{s: s, h: h}
			if !tt.source {
				setStatus(t, fake, gitGVR, "fleet-gitops", map[string]any{"lastHandledReconcileAt": h.Token, "conditions": ready("True", "ok")})
				if _, err := f.fluxStep(ctx); err != nil {
					t.Fatal(err)
				}
			}
			token := h.Token
			name, gvr := "fleet-gitops", gitGVR
			if !tt.source {
				token, name, gvr = f.objectToken, "catalog-api", ksGVR
			}
			tt.status["lastHandledReconcileAt"] = token
			setStatus(t, fake, gvr, name, tt.status)
			p, err := f.fluxStep(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if p.State != tt.want || p.Message != tt.msg {
				t.Errorf("phase %+v, want %s %q", p, tt.want, tt.msg)
			}
			if tt.source && annotation(t, fake, ksGVR, "catalog-api") != "" {
				t.Error("the Kustomization was annotated after its source failed")
			}
		})
	}
}

func TestFluxWithoutSourceAnnotatesTheObject(t *testing.T) {
	hr := obj(hrGVR, "flux-system", "search-indexer", map[string]any{"spec": map[string]any{"chartRef": map[string]any{"kind": "Unknown", "name": "x"}}})
	c, fake := fakeClient(t, hr)
	s := NewWithClients(map[string]Client{"staging": c}, Options{Now: func() time.Time { return clock }})
	tg := Target{App: "search-indexer", Cluster: "staging", Operator: fleet.OperatorFlux, Kind: "HelmRelease", ObjectCluster: "staging", Namespace: "flux-system", Name: "search-indexer"}
	h, err := s.Request(context.Background(), tg)
	if err != nil {
		t.Fatal(err)
	}
	if h.Source != (ObjectRef{}) {
		t.Errorf("source %+v for an unknown chartRef kind", h.Source)
	}
	if got := annotation(t, fake, hrGVR, "search-indexer"); got != h.Token {
		t.Errorf("HelmRelease annotation = %q, want %q", got, h.Token)
	}
}

// TestProgressFollowsToTheEnd runs Progress against a fake whose "controller" finishes the
// operation once it sees it, and checks the channel's phases and its closing.
func TestProgressFollowsToTheEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, fake := fakeClient(t, application(map[string]any{"status": map[string]any{"reconciledAt": "2026-11-25T09:00:00Z"}}))
	s := NewWithClients(map[string]Client{"prod-eu": c}, Options{Poll: time.Millisecond})
	h, err := s.Request(ctx, argoApp)
	if err != nil {
		t.Fatal(err)
	}
	ch := s.Progress(ctx, h)
	first := <-ch
	if first.State != StatePending || first.Target != argoApp {
		t.Fatalf("first phase %+v, want Pending", first)
	}
	// The controller: report the operation as requested, finished, and clear it.
	a, err := fake.Resource(appGVR).Namespace("argocd").Get(ctx, argoApp.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	op := a.Object["operation"]
	now := time.Now().UTC().Format(time.RFC3339)
	a.Object["status"] = map[string]any{"reconciledAt": now, "sync": map[string]any{"status": "Synced"}, "health": map[string]any{"status": "Healthy"},
		"operationState": map[string]any{"operation": op, "phase": "Succeeded", "message": "successfully synced", "startedAt": now, "finishedAt": now}}
	delete(a.Object, "operation")
	if _, err := fake.Resource(appGVR).Namespace("argocd").Update(ctx, a, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	var last Phase
	for p := range ch {
		last = p
	}
	if last.State != StateSucceeded || last.Sync != "Synced" || last.Health != "Healthy" {
		t.Errorf("last phase %+v, want Succeeded, Synced, Healthy", last)
	}
}

func TestProgressStopsWithItsContext(t *testing.T) {
	c, _ := fakeClient(t, application(map[string]any{"operation": map[string]any{"sync": map[string]any{}}}))
	s := NewWithClients(map[string]Client{"prod-eu": c}, Options{Poll: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	ch := s.Progress(ctx, Handle{Target: argoApp, Token: "tok", RequestedAt: time.Now()})
	<-ch // Pending
	cancel()
	done := make(chan struct{})
	go func() {
		for range ch {
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Progress did not close its channel after its context ended")
	}
}
