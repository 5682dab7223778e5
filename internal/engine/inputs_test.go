package engine

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fleetdeck/fleetdeck/config"
	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/kube/watch"
)

func TestDeclaredAppsGroupClustersByPathAndNamespace(t *testing.T) {
	cfg := &config.Config{
		Repositories: []config.Repository{{Name: "shop", URL: "https://git.example/shop.git", Branch: "release"}},
		Applications: []config.Application{
			{Name: "ledger", Repo: "shop", Path: "k8s/ledger", Namespace: "ledger", Clusters: []config.AppCluster{
				{Name: "prod-eu"}, {Name: "prod-us"}, {Name: "staging"}}},
			{Name: "catalog", Repo: "shop", Path: "k8s/catalog/base", Namespace: "catalog", Clusters: []config.AppCluster{
				{Name: "prod-eu", Path: "k8s/catalog/overlays/prod"},
				{Name: "prod-us", Path: "k8s/catalog/overlays/prod"},
				{Name: "staging", Path: "k8s/catalog/overlays/staging", Namespace: "catalog-stage"}}},
		},
	}
	want := []fleet.DeclaredApp{
		{Name: "ledger", RepoURL: "https://git.example/shop.git", Path: "k8s/ledger", Branch: "release", Namespace: "ledger",
			Clusters: []string{"prod-eu", "prod-us", "staging"}},
		{Name: "catalog", RepoURL: "https://git.example/shop.git", Path: "k8s/catalog/overlays/prod", Branch: "release", Namespace: "catalog",
			Clusters: []string{"prod-eu", "prod-us"}},
		{Name: "catalog", RepoURL: "https://git.example/shop.git", Path: "k8s/catalog/overlays/staging", Branch: "release", Namespace: "catalog-stage",
			Clusters: []string{"staging"}},
	}
	if got := declaredApps(cfg); !reflect.DeepEqual(got, want) {
		t.Errorf("declaredApps:\n got %+v\nwant %+v", got, want)
	}
}

func TestClusterAliases(t *testing.T) {
	cfg := &config.Config{Clusters: []config.Cluster{
		{Name: "prod-eu", ArgocdName: "prod-eu"},
		{Name: "prod-us", ArgocdName: "us-east", ArgocdServer: "https://10.0.0.2:6443/"},
		{Name: "staging", ArgocdName: "staging"},
	}}
	hosts := map[string]string{"prod-eu": "https://127.0.0.1:40001/", "prod-us": "https://127.0.0.1:40002", "staging": ""}
	want := map[string]string{
		"https://127.0.0.1:40001": "prod-eu", "prod-eu": "prod-eu",
		"https://127.0.0.1:40002": "prod-us", "us-east": "prod-us", "https://10.0.0.2:6443": "prod-us",
		"staging": "staging",
	}
	if got := clusterAliases(cfg, hosts); !reflect.DeepEqual(got, want) {
		t.Errorf("clusterAliases:\n got %v\nwant %v", got, want)
	}
}

func TestDiscoveryFilter(t *testing.T) {
	obj := func(ns, name string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		u.SetNamespace(ns)
		u.SetName(name)
		return u
	}
	names := func(us []*unstructured.Unstructured) []string {
		var out []string
		for _, u := range us {
			out = append(out, u.GetNamespace()+"/"+u.GetName())
		}
		return out
	}
	apps := []*unstructured.Unstructured{obj("argocd", "a"), obj("team-x", "b")}
	flux := []*unstructured.Unstructured{obj("flux-system", "k")}
	tests := []struct {
		name      string
		discovery config.Discovery
		cluster   string
		wantApps  []string
		wantFlux  []string
	}{
		{"no discovery keeps everything", config.Discovery{}, "hub", []string{"argocd/a", "team-x/b"}, []string{"flux-system/k"}},
		{"listed namespaces only", config.Discovery{ArgoCD: []config.DiscoverySource{{Cluster: "hub", Namespaces: []string{"argocd"}}}},
			"hub", []string{"argocd/a"}, []string{"flux-system/k"}},
		{"all namespaces of a listed cluster", config.Discovery{ArgoCD: []config.DiscoverySource{{Cluster: "hub"}}},
			"hub", []string{"argocd/a", "team-x/b"}, []string{"flux-system/k"}},
		{"cluster not listed", config.Discovery{
			ArgoCD: []config.DiscoverySource{{Cluster: "hub", Namespaces: []string{"argocd"}}},
			Flux:   []config.DiscoverySource{{Cluster: "staging", Namespaces: []string{"flux-system"}}}},
			"prod-us", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := watch.ClusterSnapshot{Cluster: tt.cluster, Applications: apps, Kustomizations: flux}
			newDiscoveryFilter(tt.discovery).apply(&s)
			if got := names(s.Applications); !reflect.DeepEqual(got, tt.wantApps) {
				t.Errorf("applications %v, want %v", got, tt.wantApps)
			}
			if got := names(s.Kustomizations); !reflect.DeepEqual(got, tt.wantFlux) {
				t.Errorf("kustomizations %v, want %v", got, tt.wantFlux)
			}
		})
	}
}

func TestCandidateNamespaces(t *testing.T) {
	cfg := &config.Config{
		Applications: []config.Application{
			{Name: "ledger", Namespace: "ledger", Clusters: []config.AppCluster{{Name: "prod-eu"}, {Name: "staging"}}},
			{Name: "catalog", Namespace: "catalog", Clusters: []config.AppCluster{
				{Name: "prod-eu"}, {Name: "staging", Namespace: "catalog-stage"}}},
			{Name: "tools", Clusters: []config.AppCluster{{Name: "prod-eu"}}}, // default namespace
		},
		Discovery: config.Discovery{
			ArgoCD: []config.DiscoverySource{{Cluster: "prod-eu", Namespaces: []string{"argocd", "argocd-apps"}}},
			Flux: []config.DiscoverySource{
				{Cluster: "staging", Namespaces: []string{"flux-system"}},
				{Cluster: "prod-us"}, // every namespace: nothing to name
			},
		},
	}
	for _, tc := range []struct {
		cluster, contextNS string
		want               []string
	}{
		{"prod-eu", "", []string{"argocd", "argocd-apps", "catalog", "default", "ledger"}},
		{"staging", "team-a", []string{"catalog-stage", "flux-system", "ledger", "team-a"}},
		{"staging", "ledger", []string{"catalog-stage", "flux-system", "ledger"}},
		{"prod-us", "", nil},
		{"prod-us", "team-b", []string{"team-b"}},
	} {
		if got := candidateNamespaces(cfg, tc.cluster, tc.contextNS); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("candidateNamespaces(%s, %q) = %v, want %v", tc.cluster, tc.contextNS, got, tc.want)
		}
	}
}

func TestWatchOptionsReadTheContextNamespace(t *testing.T) {
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: u, user: {token: t}}]
contexts:
- {name: viewer, context: {cluster: c, user: u, namespace: team-a}}
- {name: admin, context: {cluster: c, user: u}}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{Applications: []config.Application{
		{Name: "ledger", Namespace: "ledger", Clusters: []config.AppCluster{{Name: "prod-eu"}}}}}
	base := watch.Options{CandidateNamespaces: []string{"extra"}}
	for _, tc := range []struct {
		context string
		want    []string
	}{
		{"viewer", []string{"extra", "ledger", "team-a"}},
		{"admin", []string{"extra", "ledger"}},
		{"missing", []string{"extra", "ledger"}},
	} {
		got := watchOptions(base, cfg, config.Cluster{Name: "prod-eu", Kubeconfig: kubeconfig, Context: tc.context})
		if !reflect.DeepEqual(got.CandidateNamespaces, tc.want) {
			t.Errorf("context %s: candidates %v, want %v", tc.context, got.CandidateNamespaces, tc.want)
		}
	}
	if len(base.CandidateNamespaces) != 1 {
		t.Errorf("the base options changed: %v", base.CandidateNamespaces)
	}
}
