package kube

import (
	"fmt"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
)

// Rule is one RBAC rule fleetdeck needs, with what it is for.
type Rule struct {
	Groups    []string
	Resources []string
	Verbs     []string
	Why       string
}

// ReadRules are every right the read-only views need (status, the terminal UI, logs,
// history, diff, watch): the exact verbs fleetdeck sends, nothing more. Secrets are not among
// them: fleetdeck never reads one.
var ReadRules = []Rule{
	{[]string{""}, []string{"pods", "events", "namespaces"}, []string{"list", "watch"},
		"the tree: pods and warning events; namespaces to read per namespace where listing cluster-wide is refused"},
	{[]string{""}, []string{"pods/log"}, []string{"get"}, "logs and the log pane"},
	{[]string{"apps"}, []string{"deployments", "statefulsets", "daemonsets", "replicasets"}, []string{"get", "list", "watch"},
		"workloads; get is diff's"},
	{[]string{"batch"}, []string{"jobs", "cronjobs"}, []string{"get", "list", "watch"}, "workloads; get is diff's"},
	{[]string{"argoproj.io"}, []string{"applications"}, []string{"get", "list", "watch"}, "Argo CD applications"},
	{[]string{"kustomize.toolkit.fluxcd.io"}, []string{"kustomizations"}, []string{"get", "list", "watch"}, "Flux"},
	{[]string{"helm.toolkit.fluxcd.io"}, []string{"helmreleases"}, []string{"get", "list", "watch"}, "Flux"},
	{[]string{"source.toolkit.fluxcd.io"}, []string{"gitrepositories"}, []string{"get", "list", "watch"}, "Flux sources' revisions"},
	{[]string{"", "networking.k8s.io", "policy", "autoscaling"},
		[]string{"services", "configmaps", "serviceaccounts", "persistentvolumeclaims", "ingresses", "poddisruptionbudgets", "horizontalpodautoscalers"},
		[]string{"get"}, "diff reads the live objects an app deploys: add the other kinds yours deploy"},
}

// SyncRules are the rights `fleetdeck sync` and the TUI's S add: a sync operation on an
// Argo CD Application, a reconcile request on Flux objects and their sources.
var SyncRules = []Rule{
	{[]string{"argoproj.io"}, []string{"applications"}, []string{"patch"}, "set .operation (a sync of the tracked revision)"},
	{[]string{"kustomize.toolkit.fluxcd.io"}, []string{"kustomizations"}, []string{"patch"}, "the reconcile.fluxcd.io/requestedAt annotation"},
	{[]string{"helm.toolkit.fluxcd.io"}, []string{"helmreleases"}, []string{"patch"}, "the reconcile.fluxcd.io/requestedAt annotation"},
	{[]string{"source.toolkit.fluxcd.io"}, []string{"gitrepositories", "helmrepositories", "ocirepositories", "buckets"},
		[]string{"get", "patch"}, "reconcile the source first, as flux reconcile --with-source"},
}

// PolicyRules turns rules into RBAC policy rules.
func PolicyRules(rules []Rule) []rbacv1.PolicyRule {
	out := make([]rbacv1.PolicyRule, len(rules))
	for i, r := range rules {
		out[i] = rbacv1.PolicyRule{APIGroups: r.Groups, Resources: r.Resources, Verbs: r.Verbs}
	}
	return out
}

// Role names of ClusterRolesYAML.
const (
	ViewerRoleName = "fleetdeck-viewer"
	SyncRoleName   = "fleetdeck-sync"
)

// ClusterRolesYAML is the two ClusterRoles fleetdeck needs, as `fleetdeck config
// clusterrole` prints them and the README shows them: bind fleetdeck-viewer to everyone who
// uses fleetdeck and fleetdeck-sync to those who may ask operators to sync. Checking access
// (config check, the engine's probe) uses SelfSubjectAccessReviews and
// SelfSubjectRulesReviews, which every authenticated user may create.
func ClusterRolesYAML() string {
	var b strings.Builder
	role := func(name, what string, rules []Rule) {
		fmt.Fprintf(&b, "# %s\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: %s\nrules:\n", what, name)
		for _, r := range rules {
			fmt.Fprintf(&b, "  # %s\n  - apiGroups: [%s]\n    resources: [%s]\n    verbs: [%s]\n",
				r.Why, quoted(r.Groups), strings.Join(r.Resources, ", "), strings.Join(r.Verbs, ", "))
		}
	}
	role(ViewerRoleName, "Every read-only view: status, the terminal UI, logs, history, diff, watch.", ReadRules)
	b.WriteString("---\n")
	role(SyncRoleName, "fleetdeck sync and the terminal UI's S: ask Argo CD or Flux to sync now.", SyncRules)
	return b.String()
}

func quoted(groups []string) string {
	q := make([]string, len(groups))
	for i, g := range groups {
		q[i] = fmt.Sprintf("%q", g)
	}
	return strings.Join(q, ", ")
}
