package fleet

import "testing"

func TestArgoDestination(t *testing.T) {
	clusters := []ClusterState{{Name: "prod-eu"}, {Name: "prod-us"}, {Name: "staging"}}
	aliases := map[string]string{"us-east": "prod-us", "https://10.0.0.2:6443": "staging"}
	tests := []struct {
		name string
		app  ArgoApp
		want string
	}{
		{"in-cluster server", ArgoApp{Cluster: "prod-eu", DestServer: "https://kubernetes.default.svc"}, "prod-eu"},
		{"in-cluster server with slash", ArgoApp{Cluster: "prod-eu", DestServer: "https://kubernetes.default.svc/"}, "prod-eu"},
		{"in-cluster name", ArgoApp{Cluster: "staging", DestName: "in-cluster"}, "staging"},
		{"name equal to a cluster", ArgoApp{Cluster: "prod-eu", DestName: "prod-us"}, "prod-us"},
		{"name alias", ArgoApp{Cluster: "prod-eu", DestName: "us-east"}, "prod-us"},
		{"server alias", ArgoApp{Cluster: "prod-eu", DestServer: "https://10.0.0.2:6443"}, "staging"},
		{"unknown server kept as written", ArgoApp{Cluster: "prod-eu", DestServer: "https://elsewhere"}, "https://elsewhere"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ArgoDestination(tt.app, aliases, clusters); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAppNameOfArgo(t *testing.T) {
	tests := []struct {
		name string
		app  ArgoApp
		dest string
		want string
	}{
		{"applicationset suffix", ArgoApp{Name: "payments-api-prod-us"}, "prod-us", "payments-api"},
		{"cluster prefix", ArgoApp{Name: "prod-us-payments-api"}, "prod-us", "payments-api"},
		{"plain name", ArgoApp{Name: "payments-api"}, "prod-us", "payments-api"},
		{"label wins", ArgoApp{Name: "pay-us", Labels: map[string]string{LabelApp: "payments-api"}}, "prod-us", "payments-api"},
		{"name equal to the cluster is kept", ArgoApp{Name: "prod-us"}, "prod-us", "prod-us"},
		{"part-of is ignored", ArgoApp{Name: "web", Labels: map[string]string{"app.kubernetes.io/part-of": "shop"}}, "prod-us", "web"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AppNameOfArgo(tt.app, tt.dest); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if got := AppNameOfFlux(FluxObject{Name: "catalog-api"}); got != "catalog-api" {
		t.Errorf("flux name = %q", got)
	}
	if got := AppNameOfFlux(FluxObject{Name: "catalog", Labels: map[string]string{LabelApp: "catalog-api"}}); got != "catalog-api" {
		t.Errorf("flux label name = %q", got)
	}
}

func TestArgoTracks(t *testing.T) {
	w := func(ann, inst string) *Workload {
		return &Workload{Kind: "Deployment", Namespace: "auth", Name: "auth-service",
			Annotations: map[string]string{ArgoTrackingAnnotation: ann}, Labels: map[string]string{ArgoInstanceLabel: inst}}
	}
	tests := []struct {
		name string
		w    *Workload
		want bool
	}{
		{"annotation", w("auth-service-staging:apps/Deployment:auth/auth-service", ""), true},
		{"annotation with app namespace", w("argocd_auth-service-staging:apps/Deployment:auth/auth-service", ""), true},
		{"copied annotation (other object)", w("auth-service-staging:apps/Deployment:auth/other", ""), false},
		{"annotation of another app", w("payments-api-staging:apps/Deployment:auth/auth-service", ""), false},
		{"label tracking", w("", "auth-service-staging"), true},
		{"annotation decides over label", w("other:apps/Deployment:auth/auth-service", "auth-service-staging"), false},
		{"nothing", w("", ""), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.w.Annotations[ArgoTrackingAnnotation] == "" {
				delete(tt.w.Annotations, ArgoTrackingAnnotation)
			}
			if got := ArgoTracks(tt.w, "auth-service-staging", "argocd"); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFluxManages(t *testing.T) {
	w := &Workload{Labels: map[string]string{FluxHelmNameLabel: "search-indexer", FluxHelmNamespaceLabel: "flux-system"}}
	if !FluxManages(w, FluxObject{Kind: FluxHelmRelease, Name: "search-indexer", Namespace: "flux-system"}) {
		t.Error("helm labels should match the HelmRelease")
	}
	if FluxManages(w, FluxObject{Kind: FluxKustomization, Name: "search-indexer", Namespace: "flux-system"}) {
		t.Error("helm labels must not match a Kustomization")
	}
	if FluxManages(w, FluxObject{Kind: FluxHelmRelease, Name: "search-indexer", Namespace: "other"}) {
		t.Error("namespace must match")
	}
}

func TestParseInventoryID(t *testing.T) {
	got, ok := ParseInventoryID("catalog_catalog-api_apps_Deployment")
	if !ok || got != (ObjectRef{Kind: "Deployment", Namespace: "catalog", Name: "catalog-api"}) {
		t.Errorf("got %+v %v", got, ok)
	}
	if got, ok := ParseInventoryID("_catalog__Namespace"); !ok || got.Kind != "Namespace" || got.Namespace != "" {
		t.Errorf("cluster-scoped core object: %+v %v", got, ok)
	}
	if _, ok := ParseInventoryID("broken"); ok {
		t.Error("broken id accepted")
	}
}

func TestResolvePodOwners(t *testing.T) {
	pods := []Pod{
		{Cluster: "c", Namespace: "n", Name: "web-5f7c-abcde", Owner: &ObjectRef{Kind: "ReplicaSet", Name: "web-5f7c"}},
		{Cluster: "c", Namespace: "n", Name: "api-77aa-xyz", Owner: &ObjectRef{Kind: "ReplicaSet", Name: "api-77aa"}},
		{Cluster: "c", Namespace: "n", Name: "lonely-1-x", Owner: &ObjectRef{Kind: "ReplicaSet", Name: "lonely-1"}},
		{Cluster: "c", Namespace: "n", Name: "db-0", Owner: &ObjectRef{Kind: "StatefulSet", Name: "db"}},
		{Cluster: "c", Namespace: "n", Name: "bare"},
	}
	rss := []ReplicaSet{{Cluster: "c", Namespace: "n", Name: "web-5f7c", Owner: &ObjectRef{Kind: "Deployment", Name: "web"}}}
	ResolvePodOwners(pods, rss, []Workload{{Cluster: "c", Kind: "Deployment", Namespace: "n", Name: "api"}})
	want := []*ObjectRef{
		{Kind: "Deployment", Namespace: "n", Name: "web"},
		{Kind: "Deployment", Namespace: "n", Name: "api"},      // ReplicaSet unknown: hash suffix stripped
		{Kind: "ReplicaSet", Namespace: "n", Name: "lonely-1"}, // no such Deployment: stays the ReplicaSet
		{Kind: "StatefulSet", Namespace: "n", Name: "db"},
		nil,
	}
	for i, p := range pods {
		if (p.Owner == nil) != (want[i] == nil) || (p.Owner != nil && *p.Owner != *want[i]) {
			t.Errorf("pod %s owner = %+v, want %+v", p.Name, p.Owner, want[i])
		}
	}
}
