package watch

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

func TestRulesAllow(t *testing.T) {
	pods := schema.GroupResource{Resource: "pods"}
	deploys := schema.GroupResource{Group: "apps", Resource: "deployments"}
	rule := func(groups, resources, verbs []string, names ...string) authorizationv1.ResourceRule {
		return authorizationv1.ResourceRule{APIGroups: groups, Resources: resources, Verbs: verbs, ResourceNames: names}
	}
	read := []string{"get", "list", "watch"}
	tests := []struct {
		name  string
		rules []authorizationv1.ResourceRule
		gr    schema.GroupResource
		verb  string
		want  bool
	}{
		{"exact", []authorizationv1.ResourceRule{rule([]string{""}, []string{"pods"}, read)}, pods, "list", true},
		{"other group", []authorizationv1.ResourceRule{rule([]string{"apps"}, []string{"pods"}, read)}, pods, "list", false},
		{"other verb", []authorizationv1.ResourceRule{rule([]string{""}, []string{"pods"}, []string{"get"})}, pods, "list", false},
		{"wildcards", []authorizationv1.ResourceRule{rule([]string{"*"}, []string{"*"}, []string{"*"})}, deploys, "watch", true},
		{"subresource only", []authorizationv1.ResourceRule{rule([]string{""}, []string{"pods/log"}, read)}, pods, "list", false},
		{"resource names do not allow a list", []authorizationv1.ResourceRule{rule([]string{""}, []string{"pods"}, read, "web-1")}, pods, "list", false},
		{"second rule", []authorizationv1.ResourceRule{
			rule([]string{""}, []string{"secrets"}, read), rule([]string{"apps"}, []string{"deployments"}, read)}, deploys, "list", true},
		{"no rules", nil, pods, "list", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rulesAllow(tt.rules, tt.gr, tt.verb); got != tt.want {
				t.Errorf("rulesAllow = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	pods := schema.GroupResource{Resource: "pods"}
	listWatch := []authorizationv1.ResourceRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"list", "watch"}}}
	listOnly := []authorizationv1.ResourceRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"list"}}}
	tests := []struct {
		name   string
		status authorizationv1.SubjectRulesReviewStatus
		want   access
	}{
		{"granted", authorizationv1.SubjectRulesReviewStatus{ResourceRules: listWatch}, accessAllowed},
		{"granted though incomplete", authorizationv1.SubjectRulesReviewStatus{ResourceRules: listWatch, Incomplete: true}, accessAllowed},
		{"complete without a grant", authorizationv1.SubjectRulesReviewStatus{ResourceRules: nil}, accessDenied},
		{"list without watch", authorizationv1.SubjectRulesReviewStatus{ResourceRules: listOnly}, accessDenied},
		{"incomplete without a grant", authorizationv1.SubjectRulesReviewStatus{Incomplete: true}, accessUnknown},
		{"evaluation error", authorizationv1.SubjectRulesReviewStatus{EvaluationError: `role "x" not found`}, accessUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := decide(tt.status, pods); got != tt.want {
				t.Errorf("decide = %s, want %s", got, tt.want)
			}
		})
	}
}

// fakeRBAC plays an API server's authorizer over a fake clientset: lists, watches and both
// kinds of access review answer from the same rights.
type fakeRBAC struct {
	mu sync.Mutex
	// clusterWide: every resource may be listed cluster-wide.
	clusterWide bool
	// listNamespaces: the namespaces may be listed.
	listNamespaces bool
	// allowed: the namespaces whose objects may be read.
	allowed map[string]bool
	// rulesReview: SelfSubjectRulesReview answers (else it fails and access reviews decide).
	rulesReview bool
	// incomplete marks rules reviews incomplete, as with a webhook authorizer.
	incomplete bool
	calls      []string
}

func (r *fakeRBAC) set(f func(r *fakeRBAC)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(r)
}

func (r *fakeRBAC) called(prefix string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, c := range r.calls {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

// may reports whether resource may be read in ns ("" = cluster-wide); the caller holds mu.
func (r *fakeRBAC) may(resource, ns string) bool {
	switch {
	case resource == "namespaces":
		return r.listNamespaces || r.clusterWide
	case r.clusterWide:
		return true
	}
	return ns != "" && r.allowed[ns]
}

func (r *fakeRBAC) install(cs *fake.Clientset) {
	forbidden := func(a k8stesting.Action) error {
		return apierrors.NewForbidden(a.GetResource().GroupResource(), "",
			errors.New(`User "viewer" cannot `+a.GetVerb()+` in namespace "`+a.GetNamespace()+`"`))
	}
	cs.PrependReactor("list", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.calls = append(r.calls, "list "+a.GetResource().Resource+" "+a.GetNamespace())
		if !r.may(a.GetResource().Resource, a.GetNamespace()) {
			return true, nil, forbidden(a)
		}
		return false, nil, nil
	})
	cs.PrependWatchReactor("*", func(a k8stesting.Action) (bool, watch.Interface, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if !r.may(a.GetResource().Resource, a.GetNamespace()) {
			return true, nil, forbidden(a)
		}
		return false, nil, nil
	})
	cs.PrependReactor("create", "selfsubjectrulesreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		in := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SelfSubjectRulesReview)
		ns := in.Spec.Namespace
		r.calls = append(r.calls, "rules "+ns)
		if !r.rulesReview {
			return true, nil, forbidden(a)
		}
		out := in.DeepCopy()
		out.Status.Incomplete = r.incomplete
		out.Status.ResourceRules = []authorizationv1.ResourceRule{{Verbs: []string{"create"},
			APIGroups: []string{"authorization.k8s.io"}, Resources: []string{"selfsubjectaccessreviews", "selfsubjectrulesreviews"}}}
		if r.may("pods", ns) {
			out.Status.ResourceRules = append(out.Status.ResourceRules, authorizationv1.ResourceRule{
				Verbs: []string{"get", "list", "watch"}, APIGroups: []string{"*"}, Resources: []string{"*"}})
		}
		return true, out, nil
	})
	cs.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		in := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SelfSubjectAccessReview)
		attrs := in.Spec.ResourceAttributes
		r.calls = append(r.calls, "access "+attrs.Resource+" "+attrs.Namespace)
		out := in.DeepCopy()
		out.Status.Allowed = r.may(attrs.Resource, attrs.Namespace)
		return true, out, nil
	})
}

func namespace(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
}

func podNamespaces(pods []*corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		if !slices.Contains(out, p.Namespace) {
			out = append(out, p.Namespace)
		}
	}
	return out
}

func resourceState(st State, name string) ResourceState {
	for _, r := range st.Resources {
		if r.Name == name {
			return r
		}
	}
	return ResourceState{}
}

func TestReviewerUsesAccessReviewsWhereRulesCannotTell(t *testing.T) {
	pods := schema.GroupResource{Resource: "pods"}
	deploys := schema.GroupResource{Group: "apps", Resource: "deployments"}
	tests := []struct {
		name       string
		rbac       *fakeRBAC
		ns         string
		want       access
		wantAccess int // access reviews asked for
	}{
		{"rules grant", &fakeRBAC{rulesReview: true, allowed: map[string]bool{"shop": true}}, "shop", accessAllowed, 0},
		{"complete rules deny", &fakeRBAC{rulesReview: true, allowed: map[string]bool{"shop": true}}, "payments", accessDenied, 0},
		{"incomplete rules: access review denies", &fakeRBAC{rulesReview: true, incomplete: true}, "payments", accessDenied, 2},
		{"rules review refused: access review allows", &fakeRBAC{allowed: map[string]bool{"shop": true}}, "shop", accessAllowed, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := fake.NewClientset()
			rbac := tt.rbac
			rbac.install(cs)
			got := reviewer{kube: cs, timeout: time.Second}.review(context.Background(), tt.ns, []schema.GroupResource{pods, deploys})
			if got[pods] != tt.want || got[deploys] != tt.want {
				t.Errorf("review = %v, want %s for both", got, tt.want)
			}
			if n := len(rbac.called("access ")); n != tt.wantAccess {
				t.Errorf("%d access reviews, want %d: %v", n, tt.wantAccess, rbac.called(""))
			}
		})
	}
}

func TestReviewerUnknownWhenTheServerCannotTell(t *testing.T) {
	cs := fake.NewClientset()
	cs.PrependReactor("create", "*", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewInternalError(errors.New("etcd timeout"))
	})
	got := reviewer{kube: cs}.review(context.Background(), "shop", []schema.GroupResource{{Resource: "pods"}})
	if got[schema.GroupResource{Resource: "pods"}] != accessUnknown {
		t.Errorf("review = %v, want unknown (the list decides)", got)
	}
}

// viewerFleet is a cluster whose user may read shop and auth, not payments or kube-system.
func viewerFleet(t *testing.T) (*fake.Clientset, Clients, *fakeRBAC) {
	t.Helper()
	objs := []runtime.Object{
		namespace("shop"), namespace("auth"), namespace("payments"), namespace("kube-system"),
		pod("shop", "web-1"), pod("shop", "web-2"), pod("auth", "auth-1"), pod("payments", "pay-1"), pod("kube-system", "dns-1"),
	}
	cs, clients := fakeCluster(t, objs, nil)
	rbac := &fakeRBAC{listNamespaces: true, rulesReview: true, allowed: map[string]bool{"shop": true, "auth": true}}
	rbac.install(cs)
	return cs, clients, rbac
}

func TestClusterFallsBackToTheNamespacesItMayRead(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // runs after run's cleanup stopped the cluster
	cs, clients, rbac := viewerFleet(t)
	c := NewForClients("prod-eu", clients, fastOptions())
	run(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st := c.WaitSettled(ctx)

	if st.Phase != Forbidden || !st.Complete() {
		t.Fatalf("phase %s complete %v, want forbidden and complete: %+v", st.Phase, st.Complete(), st)
	}
	if got := podNamespaces(c.Snapshot().Pods); !slices.Equal(got, []string{"auth", "shop"}) {
		t.Errorf("pods cached in %v, want auth and shop", got)
	}
	denied := []string{"kube-system", "payments"}
	for _, res := range []string{ResPods, ResDeployments, ResEvents, ResCronJobs} {
		r := resourceState(st, res)
		if !r.Forbidden || !r.Synced || !slices.Equal(r.Namespaces, []string{"auth", "shop"}) || !slices.Equal(r.ForbiddenNamespaces, denied) {
			t.Errorf("%s: %+v, want synced in auth and shop, forbidden in %v", res, r, denied)
		}
		if !slices.Equal(st.ForbiddenIn[res], denied) {
			t.Errorf("ForbiddenIn[%s] = %v, want %v", res, st.ForbiddenIn[res], denied)
		}
	}
	if !strings.Contains(st.Err, "pods") || !strings.HasSuffix(st.Err, ": forbidden in kube-system, payments") {
		t.Errorf("Err = %q, want the resources forbidden in kube-system, payments", st.Err)
	}
	for _, q := range []struct {
		ns   string
		want bool
	}{{"shop", false}, {"auth", false}, {"payments", true}, {"kube-system", true}, {"", true}} {
		if got := st.ForbiddenAt(ResPods, q.ns); got != q.want {
			t.Errorf("ForbiddenAt(pods, %q) = %v, want %v", q.ns, got, q.want)
		}
	}
	// The review keeps denied namespaces from being listed at all.
	if calls := rbac.called("list pods payments"); len(calls) != 0 {
		t.Errorf("pods listed in payments although the review denied it: %v", calls)
	}

	t.Run("namespace created later", func(t *testing.T) {
		rbac.set(func(r *fakeRBAC) { r.allowed["new"] = true })
		if _, err := cs.CoreV1().Namespaces().Create(ctx, namespace("new"), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.CoreV1().Pods("new").Create(ctx, pod("new", "fresh-1"), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, c, "pods read in new", 5*time.Second, func(s State) bool {
			return slices.Contains(resourceState(s, ResPods).Namespaces, "new") &&
				slices.Contains(podNamespaces(c.Snapshot().Pods), "new")
		})
		if st := c.State(); st.Phase != Forbidden {
			t.Errorf("phase %s after a new namespace, want forbidden (payments stays denied)", st.Phase)
		}
	})

	t.Run("denied namespace granted later", func(t *testing.T) {
		rbac.set(func(r *fakeRBAC) { r.allowed["payments"] = true })
		waitFor(t, c, "every resource read in payments", 5*time.Second, func(s State) bool {
			return slices.Contains(podNamespaces(c.Snapshot().Pods), "payments") &&
				strings.HasSuffix(s.Err, ": forbidden in kube-system") && !strings.Contains(s.Err, "payments")
		})
	})

	t.Run("cluster-wide rights granted later", func(t *testing.T) {
		rbac.set(func(r *fakeRBAC) { r.clusterWide = true })
		st := waitFor(t, c, "synced cluster-wide", 5*time.Second, func(s State) bool {
			return s.Phase == Synced && resourceState(s, ResPods).Namespaces == nil
		})
		if len(st.Forbidden) != 0 || st.ForbiddenIn != nil || st.Err != "" {
			t.Errorf("state after the grant: %+v", st)
		}
		want := []string{"auth", "kube-system", "new", "payments", "shop"}
		if got := podNamespaces(c.Snapshot().Pods); !slices.Equal(got, want) {
			t.Errorf("pods in %v, want %v (each once)", got, want)
		}
		if n := len(c.Snapshot().Pods); n != 6 {
			t.Errorf("%d pods cached, want 6", n)
		}
	})
}

func TestClusterFallbackTriesCandidateNamespaces(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // runs after run's cleanup stopped the cluster
	_, clients, rbac := viewerFleet(t)
	// Neither the namespaces nor rules reviews: candidates and access reviews only.
	rbac.set(func(r *fakeRBAC) { r.listNamespaces, r.rulesReview = false, false })
	opts := fastOptions()
	opts.CandidateNamespaces = []string{"shop", "payments", "gone"}
	c := NewForClients("prod-eu", clients, opts)
	run(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st := c.WaitSettled(ctx)
	if st.Phase != Forbidden {
		t.Fatalf("phase %s, want forbidden: %+v", st.Phase, st)
	}
	if got := podNamespaces(c.Snapshot().Pods); !slices.Equal(got, []string{"shop"}) {
		t.Errorf("pods cached in %v, want shop only (auth is not a candidate)", got)
	}
	r := resourceState(st, ResPods)
	if !slices.Equal(r.Namespaces, []string{"shop"}) || !slices.Equal(r.ForbiddenNamespaces, []string{"gone", "payments"}) {
		t.Errorf("pods: read in %v, forbidden in %v; want shop, and gone and payments", r.Namespaces, r.ForbiddenNamespaces)
	}
	if st.ForbiddenAt(ResPods, "auth") != true {
		t.Error("ForbiddenAt(pods, auth) = false for a namespace that is not read while pods are forbidden")
	}
	if len(rbac.called("access pods ")) == 0 {
		t.Error("no access review asked although rules reviews are refused")
	}
}

func TestClusterFallbackWithNoNamespaceToRead(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // runs after run's cleanup stopped the cluster
	_, clients, rbac := viewerFleet(t)
	rbac.set(func(r *fakeRBAC) { r.listNamespaces = false })
	c := NewForClients("prod-eu", clients, fastOptions())
	run(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st := c.WaitSettled(ctx)
	r := resourceState(st, ResPods)
	if st.Phase != Forbidden || !r.Forbidden || r.Namespaces != nil || st.ForbiddenIn != nil {
		t.Fatalf("phase %s pods %+v ForbiddenIn %v, want pods forbidden everywhere", st.Phase, r, st.ForbiddenIn)
	}
	if !strings.Contains(r.Err, "cluster scope") && !strings.Contains(r.Err, "forbidden") {
		t.Errorf("pods Err %q does not say why", r.Err)
	}
	if len(c.Snapshot().Pods) != 0 {
		t.Error("pods cached although none may be read")
	}
}

func TestClusterFallbackWhenTheReviewCannotTell(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // runs after run's cleanup stopped the cluster
	cs, clients, _ := viewerFleet(t)
	// Reviews fail: every namespace is tried, and the lists themselves say where it is forbidden.
	cs.PrependReactor("create", "*", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewServiceUnavailable("authorizer down")
	})
	c := NewForClients("prod-eu", clients, fastOptions())
	run(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st := c.WaitSettled(ctx)
	r := resourceState(st, ResPods)
	if st.Phase != Forbidden || !slices.Equal(r.Namespaces, []string{"auth", "shop"}) ||
		!slices.Equal(r.ForbiddenNamespaces, []string{"kube-system", "payments"}) {
		t.Fatalf("phase %s pods %+v", st.Phase, r)
	}
	if got := podNamespaces(c.Snapshot().Pods); !slices.Equal(got, []string{"auth", "shop"}) {
		t.Errorf("pods cached in %v, want auth and shop", got)
	}
}

func TestResourceStateSettledAndForbiddenIn(t *testing.T) {
	tests := []struct {
		name    string
		r       ResourceState
		settled bool
		in      map[string]bool
	}{
		{"synced cluster-wide", ResourceState{Synced: true}, true, map[string]bool{"a": false, "": false}},
		{"forbidden everywhere", ResourceState{Forbidden: true}, true, map[string]bool{"a": true, "": true}},
		{"partly forbidden, read part listed", ResourceState{Synced: true, Forbidden: true, Namespaces: []string{"a"},
			ForbiddenNamespaces: []string{"b"}}, true, map[string]bool{"a": false, "b": true, "c": true}},
		{"partly forbidden, read part still listing", ResourceState{Forbidden: true, Namespaces: []string{"a"},
			ForbiddenNamespaces: []string{"b"}}, false, map[string]bool{"a": false, "b": true}},
		{"missing", ResourceState{Missing: true}, true, map[string]bool{"a": false}},
		{"listing", ResourceState{}, false, map[string]bool{"a": false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.settled(); got != tt.settled {
				t.Errorf("settled = %v, want %v", got, tt.settled)
			}
			for ns, want := range tt.in {
				if got := tt.r.ForbiddenIn(ns); got != want {
					t.Errorf("ForbiddenIn(%q) = %v, want %v", ns, got, want)
				}
			}
		})
	}
}

func TestForbiddenSummary(t *testing.T) {
	many := []string{"a", "b", "c", "d", "e", "f", "g"}
	tests := []struct {
		name string
		rs   []ResourceState
		want string
	}{
		{"nothing forbidden", []ResourceState{{Name: "pods", Synced: true}}, ""},
		{"grouped by namespaces", []ResourceState{
			{Name: "deployments.apps", Forbidden: true, Namespaces: []string{"shop"}, ForbiddenNamespaces: []string{"payments"}},
			{Name: "events", Forbidden: true},
			{Name: "pods", Forbidden: true, Namespaces: []string{"shop"}, ForbiddenNamespaces: []string{"payments"}},
			{Name: "secrets", Synced: true},
		}, "deployments.apps, pods: forbidden in payments; events: forbidden"},
		{"many namespaces", []ResourceState{{Name: "pods", Forbidden: true, Namespaces: []string{"z"}, ForbiddenNamespaces: many}},
			"pods: forbidden in a, b, c, d, e and 2 more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := forbiddenSummary(tt.rs); got != tt.want {
				t.Errorf("forbiddenSummary = %q, want %q", got, tt.want)
			}
		})
	}
}
