package watch

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	"github.com/fleetdeck/fleetdeck/fleet"
)

const (
	fuzzArgoApp = `{"apiVersion":"argoproj.io/v1alpha1","kind":"Application","metadata":{"name":"payments-api-prod-us","namespace":"argocd","labels":{"fleetdeck.io/app":"payments-api"}},
"spec":{"destination":{"name":"prod-us","namespace":"payments"},"source":{"repoURL":"https://git.example/fleet.git","path":"apps/payments-api","targetRevision":"main","helm":{"valueFiles":["values-prod.yaml"],"releaseName":"payments"}}},
"status":{"sync":{"status":"Synced","revision":"0123456789abcdef0123456789abcdef01234567"},"health":{"status":"Healthy"},
"operationState":{"phase":"Succeeded","syncResult":{"revision":"0123456789abcdef0123456789abcdef01234567"}},"summary":{"images":["reg.example/payments-api:1.4.0"]},
"conditions":[{"type":"SyncError","message":"boom","lastTransitionTime":"2026-01-01T00:00:00Z"}],
"resources":[{"group":"apps","kind":"Deployment","namespace":"payments","name":"payments-api","status":"Synced","health":{"status":"Healthy"}}]}}`
	fuzzKustomization = `{"apiVersion":"kustomize.toolkit.fluxcd.io/v1","kind":"Kustomization","metadata":{"name":"search-indexer","namespace":"flux-system"},
"spec":{"path":"./apps/search-indexer","targetNamespace":"search","sourceRef":{"kind":"GitRepository","name":"fleet"},"suspend":false},
"status":{"lastAppliedRevision":"main@sha1:0123456789abcdef0123456789abcdef01234567","conditions":[{"type":"Ready","status":"True","reason":"ReconciliationSucceeded","lastTransitionTime":"2026-01-01T00:00:00Z"}],
"inventory":{"entries":[{"id":"search_search-indexer_apps_Deployment","v":"v1"}]}}}`
	fuzzHelmRelease = `{"apiVersion":"helm.toolkit.fluxcd.io/v2","kind":"HelmRelease","metadata":{"name":"catalog-api","namespace":"flux-system"},
"spec":{"releaseName":"catalog","chart":{"spec":{"chart":"./charts/catalog-api","valuesFiles":["values-stage.yaml"],"sourceRef":{"kind":"GitRepository","name":"fleet"}}}},
"status":{"history":[{"status":"deployed","chartVersion":"1.0.0+0123456789ab"}],"conditions":[{"type":"Ready","status":"False","reason":"InstallFailed","message":"x"},{"type":"Stalled","status":"True"}]}}`
)

// FuzzOperatorObject feeds an Argo CD Application, a Flux Kustomization or a HelmRelease of
// any shape — missing or wrong-typed fields, as a half-written status or an older or newer
// CRD version gives — through the watch's trim and convert and the model's Build. Nothing
// panics, and the object's application is in the model: broken, never missing.
func FuzzOperatorObject(f *testing.F) {
	for _, s := range []string{
		fuzzArgoApp, fuzzKustomization, fuzzHelmRelease,
		`{"metadata":{"name":"bare"}}`,
		`{"metadata":{"name":"typed","labels":{"fleetdeck.io/app":7}},"spec":"x","status":[1,2]}`,
		`{"metadata":{"name":"half"},"spec":{"destination":{"server":"https://kubernetes.default.svc"},"sources":[{"ref":"v"},{"path":7},{"chart":"c"}]},"status":{"sync":{"revisions":[1,"abc"]},"health":{"status":["Healthy"]},"conditions":"none","resources":[null,1,{"health":"x"}]}}`,
		`{"metadata":{"name":"flux"},"spec":{"chart":{"spec":{"sourceRef":"x"}},"chartRef":{"kind":"OCIRepository","name":"o"},"sourceRef":{"kind":"GitRepository","name":7,"namespace":[]}},"status":{"history":[{"status":"deployed","chartVersion":{}}],"inventory":{"entries":[{"id":1},"x",{"id":"a_b_c_d"}]},"conditions":[{"type":"Ready","status":true}]}}`,
		`{"metadata":{"name":"x","namespace":"argocd"},"status":{"health":{"status":"Healthy"},"sync":{"status":"Synced"},"summary":{"images":"not-a-list"}}}`,
		`{"metadata":{"name":"\u001b]52;c;AAAA\u0007\u202e"},"spec":{"destination":{"name":"-"}}}`,
		`{"metadata":{"name":"n"},"status":{"history":{"status":"deployed"},"lastAppliedRevision":1.5e300}}`,
	} {
		for kind := range uint8(3) {
			f.Add([]byte(s), kind)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, kind uint8) {
		var obj map[string]any
		if err := utiljson.Unmarshal(data, &obj); err != nil || obj == nil {
			return
		}
		u := &unstructured.Unstructured{Object: obj}
		name := u.GetName()
		snap := ClusterSnapshot{Cluster: "staging", State: State{Phase: Synced}}
		var wantKind string
		switch kind % 3 {
		case 0:
			snap.Applications = []*unstructured.Unstructured{trimArgoApp(u)}
			wantKind = "Application"
		case 1:
			snap.Kustomizations = []*unstructured.Unstructured{trimKustomization(u)}
			snap.GitRepositories = []*unstructured.Unstructured{trimGitRepository(u)}
			wantKind = string(fleet.FluxKustomization)
		default:
			snap.HelmReleases = []*unstructured.Unstructured{trimHelmRelease(u)}
			wantKind = string(fleet.FluxHelmRelease)
		}
		fs := FleetSnapshot([]ClusterSnapshot{snap}, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		_ = fleet.InstanceSources(fs)
		m := fleet.Build(fs)
		found := false
		for _, a := range m.Apps {
			for _, in := range a.Instances {
				if in.Source.Kind == wantKind && in.Source.Name == name {
					found = true
				}
			}
		}
		if !found {
			t.Fatalf("%s %q is missing from the model: %+v", wantKind, name, m.Apps)
		}
	})
}
