package fleet

import (
	"strings"
	"testing"
)

// viewerCluster is a cluster whose credentials may not list workloads, pods and events
// cluster-wide but may in catalog and ledger, and are denied in payments.
func viewerCluster(name string) ClusterState {
	read := []string{"catalog", "ledger"}
	denied := []string{"payments"}
	return ClusterState{Name: name, State: ConnSynced,
		Forbidden: []string{"deployments.apps", "events", "pods", "secrets", "statefulsets.apps"},
		ReadIn: map[string][]string{
			"deployments.apps": read, "events": read, "pods": read, "statefulsets.apps": read},
		ForbiddenIn: map[string][]string{
			"deployments.apps": denied, "events": denied, "pods": denied, "statefulsets.apps": denied},
	}
}

func TestIsForbiddenIn(t *testing.T) {
	c := viewerCluster("prod-eu")
	for _, tc := range []struct {
		kind, ns string
		want     bool
	}{
		{"Deployment", "catalog", false},
		{"Deployment", "payments", true},
		{"Deployment", "elsewhere", true}, // never read there: objects may be missing
		{"Deployment", "", true},          // namespace not known
		{"StatefulSet", "ledger", false},
		{"DaemonSet", "payments", false}, // not forbidden at all
		{"Secret", "catalog", true},      // forbidden with no namespace read
		{"Pod", "catalog", false},
	} {
		if got := c.IsForbiddenIn(tc.kind, tc.ns); got != tc.want {
			t.Errorf("IsForbiddenIn(%s, %q) = %v, want %v", tc.kind, tc.ns, got, tc.want)
		}
	}
	// Without per-namespace detail a forbidden resource is forbidden everywhere.
	plain := ClusterState{Forbidden: []string{"pods"}}
	if !plain.IsForbiddenIn("Pod", "catalog") || plain.IsForbiddenIn("Deployment", "catalog") {
		t.Error("IsForbiddenIn without ReadIn")
	}
	if got := strings.Join(c.ForbiddenAmong([]string{"catalog"}), ","); got != "secrets" {
		t.Errorf("ForbiddenAmong(catalog) = %s, want secrets", got)
	}
	if got := strings.Join(c.ForbiddenAmong([]string{"catalog", "payments"}), ","); got != strings.Join(c.Forbidden, ",") {
		t.Errorf("ForbiddenAmong(catalog, payments) = %s, want every forbidden resource", got)
	}
	if got := len(c.ForbiddenAmong(nil)); got != len(c.Forbidden) {
		t.Errorf("ForbiddenAmong(nil) has %d resources, want all %d", got, len(c.Forbidden))
	}
}

// TestBuildForbiddenPerNamespace: credentials that may read some namespaces only give real
// health and sync to the instances living there, and say "forbidden" for the others, naming
// the namespace.
func TestBuildForbiddenPerNamespace(t *testing.T) {
	catalog := healthyDeploy("prod-eu", "catalog", "catalog-api", "reg/catalog:1", 2)
	payments := healthyDeploy("prod-eu", "payments", "payments-api", "reg/payments:1", 2)
	argoCatalog := healthyDeploy("prod-eu", "catalog", "catalog-web", "reg/catalog-web:1", 1)
	argoCatalog.Labels[ArgoInstanceLabel] = "catalog-web"
	git := func(w Workload) GitFacts {
		return GitFacts{Head: sha("h1"), PathCommits: []string{sha("h1")}, Desired: []DesiredObject{desiredOf(w)}}
	}
	base := Snapshot{
		Now:      t0,
		Clusters: []ClusterState{viewerCluster("prod-eu")},
		// payments-api is live, but the credentials cannot see it: the snapshot does not hold it.
		Workloads: []Workload{catalog, argoCatalog},
		Pods:      readyPods(catalog, 2),
		Declared: []DeclaredApp{
			{Name: "catalog-api", Namespace: "catalog", Clusters: []string{"prod-eu"}},
			{Name: "payments-api", Namespace: "payments", Clusters: []string{"prod-eu"}},
			{Name: "orders", Namespace: "orders", Clusters: []string{"prod-eu"}},
		},
		ArgoApps: []ArgoApp{
			{Cluster: "prod-eu", Namespace: "argocd", Name: "catalog-web", DestServer: InClusterServer, DestNamespace: "catalog", SyncStatus: "Synced", HealthStatus: "Healthy"},
			{Cluster: "prod-eu", Namespace: "argocd", Name: "payments-web", DestServer: InClusterServer, DestNamespace: "payments", SyncStatus: "Synced", HealthStatus: "Healthy"},
		},
		Git: map[GitKey]GitFacts{
			{"catalog-api", "prod-eu"}:  git(catalog),
			{"payments-api", "prod-eu"}: git(payments),
			{"orders", "prod-eu"}:       git(healthyDeploy("prod-eu", "orders", "orders", "reg/orders:1", 1)),
		},
	}
	m := Build(base)
	for _, tc := range []struct {
		app        string
		health     HealthStatus
		healthText string
		sync       SyncStatus
		syncText   string
		severity   Severity
		problem    string // a problem text that must be present ("" for none at all)
	}{
		{app: "catalog-api", health: Healthy, sync: Synced, severity: SeverityInfo,
			problem: "cannot read secrets in catalog on prod-eu (forbidden)"},
		{app: "payments-api", health: Unknown, sync: SyncUnknown, severity: SeverityWarning,
			healthText: "cannot read deployments, statefulsets in payments on prod-eu (forbidden)",
			syncText:   "cannot read deployments, statefulsets in payments (forbidden)",
			problem:    "cannot read deployments.apps, events, pods, secrets, statefulsets.apps in payments on prod-eu (forbidden)"},
		// Never read, never denied: the credentials were not tried there, so nothing proves
		// the objects absent.
		{app: "orders", health: Unknown, sync: SyncUnknown, severity: SeverityWarning,
			healthText: "cannot read deployments, statefulsets in orders on prod-eu (forbidden)",
			syncText:   "cannot read deployments, statefulsets in orders (forbidden)"},
		{app: "catalog-web", health: Healthy, sync: Synced, severity: SeverityInfo,
			problem: "cannot read secrets in catalog on prod-eu (forbidden)"},
		// Argo CD's own health stands; the note names the namespace fleetdeck cannot read.
		{app: "payments-web", health: Healthy, sync: Synced, severity: SeverityInfo,
			problem: "cannot read deployments.apps, events, pods, secrets, statefulsets.apps in payments on prod-eu (forbidden)"},
	} {
		t.Run(tc.app, func(t *testing.T) {
			in := mustInstance(t, mustApp(t, m, tc.app), "prod-eu")
			if in.Health.Status != tc.health || in.Sync.Status != tc.sync || in.Severity != tc.severity {
				t.Errorf("got %s/%s severity %s (%q, %q; %v), want %s/%s severity %s",
					in.Health.Status, in.Sync.Status, in.Severity, in.Health.Message, in.Sync.Reason, in.Problems,
					tc.health, tc.sync, tc.severity)
			}
			if tc.healthText != "" && in.Health.Message != tc.healthText {
				t.Errorf("health message %q, want %q", in.Health.Message, tc.healthText)
			}
			if tc.syncText != "" && in.Sync.Reason != tc.syncText {
				t.Errorf("sync reason %q, want %q", in.Sync.Reason, tc.syncText)
			}
			found := tc.problem == ""
			for _, p := range in.Problems {
				found = found || p.Text == tc.problem
				if tc.health == Healthy && strings.Contains(p.Text, "forbidden") && p.Severity != SeverityInfo {
					t.Errorf("forbidden note at %s: %s", p.Severity, p.Text)
				}
			}
			if !found {
				t.Errorf("problems %v lack %q", in.Problems, tc.problem)
			}
		})
	}

	// Same snapshot with the credentials allowed in payments too, but not secrets: payments-api
	// is now simply absent, and says so.
	open := viewerCluster("prod-eu")
	for r := range open.ReadIn {
		open.ReadIn[r] = append(open.ReadIn[r], "payments")
	}
	base.Clusters = []ClusterState{open}
	in := mustInstance(t, mustApp(t, Build(base), "payments-api"), "prod-eu")
	if in.Health.Status != Missing {
		t.Errorf("readable payments: health %+v, want Missing", in.Health)
	}
}
