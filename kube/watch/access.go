package watch

import (
	"context"
	"fmt"
	"slices"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
)

// access is what the API server says about reading one resource in one namespace.
type access int

const (
	// accessUnknown: the server could not tell (review failed); the list itself decides.
	accessUnknown access = iota
	accessAllowed
	accessDenied
)

func (a access) String() string {
	switch a {
	case accessAllowed:
		return "allowed"
	case accessDenied:
		return "denied"
	}
	return "unknown"
}

// readVerbs are the verbs a reflector needs: its list and its watch.
var readVerbs = []string{"list", "watch"}

// rulesAllow reports whether rules (from a SelfSubjectRulesReview) grant verb on every
// object of gr in the namespace reviewed. Rules limited to resource names never do: a list
// is not limited to names.
func rulesAllow(rules []authorizationv1.ResourceRule, gr schema.GroupResource, verb string) bool {
	for _, r := range rules {
		if len(r.ResourceNames) > 0 {
			continue
		}
		if matches(r.Verbs, verb) && matches(r.APIGroups, gr.Group) && matches(r.Resources, gr.Resource) {
			return true
		}
	}
	return false
}

func matches(list []string, want string) bool {
	return slices.Contains(list, want) || slices.Contains(list, "*")
}

// decide turns a rules review into a decision per resource. A complete review that grants
// nothing is a denial; an incomplete one (a webhook authorizer cannot enumerate its rules)
// proves grants only, so what it does not grant is left unknown for an access review.
func decide(status authorizationv1.SubjectRulesReviewStatus, gr schema.GroupResource) access {
	allowed := true
	for _, verb := range readVerbs {
		allowed = allowed && rulesAllow(status.ResourceRules, gr, verb)
	}
	switch {
	case allowed:
		return accessAllowed
	case status.Incomplete || status.EvaluationError != "":
		return accessUnknown
	}
	return accessDenied
}

// reviewer asks the API server which resources the credentials may read in a namespace: one
// SelfSubjectRulesReview per namespace answers for every resource at once, and a
// SelfSubjectAccessReview per resource settles what the rules review cannot.
type reviewer struct {
	kube kubernetes.Interface
	// timeout bounds each review request.
	timeout time.Duration
}

// review decides, for every resource in grs, whether it may be listed and watched in ns.
// Errors are not returned: a resource the server cannot decide on is accessUnknown, and its
// list will tell.
func (rv reviewer) review(ctx context.Context, ns string, grs []schema.GroupResource) map[schema.GroupResource]access {
	out := make(map[schema.GroupResource]access, len(grs))
	if rv.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, rv.timeout)
		defer cancel()
	}
	rules, err := rv.kube.AuthorizationV1().SelfSubjectRulesReviews().Create(ctx,
		&authorizationv1.SelfSubjectRulesReview{Spec: authorizationv1.SelfSubjectRulesReviewSpec{Namespace: ns}},
		metav1.CreateOptions{})
	for _, gr := range grs {
		out[gr] = accessUnknown
		if err == nil && rules != nil {
			out[gr] = decide(rules.Status, gr)
		}
		if out[gr] == accessUnknown {
			out[gr] = rv.accessReview(ctx, ns, gr)
		}
	}
	return out
}

// accessReview asks whether gr may be listed in ns (SelfSubjectAccessReview).
func (rv reviewer) accessReview(ctx context.Context, ns string, gr schema.GroupResource) access {
	res, err := rv.kube.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx,
		&authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authorizationv1.ResourceAttributes{
				Namespace: ns, Verb: "list", Group: gr.Group, Resource: gr.Resource}}},
		metav1.CreateOptions{})
	switch {
	case err != nil || res == nil:
		return accessUnknown
	case res.Status.Allowed:
		return accessAllowed
	case res.Status.Denied || res.Status.EvaluationError == "":
		// Not allowed by any authorizer, without a doubt about the evaluation.
		return accessDenied
	}
	return accessUnknown
}

// forbiddenText is the error shown for a namespace the review denied.
func forbiddenText(gr schema.GroupResource, ns string) string {
	return fmt.Sprintf("%s is forbidden in namespace %s (access review: may not list)", gr.String(), ns)
}
