package kube

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"

	"github.com/fleetdeck/fleetdeck/config"
)

// fakeAPIServer answers the requests CheckAccess makes: /version,
// discovery of the Argo CD and Flux helm groups (not Flux kustomize), and
// SelfSubjectAccessReviews allowing everything except what deny lists as
// "verb resource[/subresource]".
func fakeAPIServer(t *testing.T, deny map[string]bool) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	writeJSON := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("/version", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]string{"gitVersion": "v1.37.2", "major": "1", "minor": "37"})
	})
	mux.HandleFunc("/apis", func(w http.ResponseWriter, r *http.Request) {
		group := func(name, v string) map[string]any {
			gv := map[string]string{"groupVersion": name + "/" + v, "version": v}
			return map[string]any{"name": name, "versions": []any{gv}, "preferredVersion": gv}
		}
		writeJSON(w, map[string]any{"kind": "APIGroupList", "apiVersion": "v1", "groups": []any{
			group("apps", "v1"), group("argoproj.io", "v1alpha1"), group("helm.toolkit.fluxcd.io", "v2"),
		}})
	})
	resources := func(gv string, names ...string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			var rs []any
			for _, n := range names {
				rs = append(rs, map[string]any{"name": n, "namespaced": true, "kind": "X", "verbs": []string{"list", "watch"}})
			}
			writeJSON(w, map[string]any{"kind": "APIResourceList", "groupVersion": gv, "resources": rs})
		}
	}
	mux.HandleFunc("/apis/argoproj.io/v1alpha1", resources("argoproj.io/v1alpha1", "applications", "appprojects"))
	mux.HandleFunc("/apis/helm.toolkit.fluxcd.io/v2", resources("helm.toolkit.fluxcd.io/v2", "helmreleases"))
	mux.HandleFunc("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", func(w http.ResponseWriter, r *http.Request) {
		// client-go may send protobuf or JSON: decode either as a real
		// apiserver would.
		body, _ := io.ReadAll(r.Body)
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(body, nil, nil)
		ssar, ok := obj.(*authorizationv1.SelfSubjectAccessReview)
		if r.Method != http.MethodPost || err != nil || !ok || ssar.Spec.ResourceAttributes == nil {
			http.Error(w, "bad review", http.StatusBadRequest)
			return
		}
		a := ssar.Spec.ResourceAttributes
		key := a.Verb + " " + a.Resource
		if a.Subresource != "" {
			key += "/" + a.Subresource
		}
		ssar.Status.Allowed = !deny[key]
		if deny[key] {
			ssar.Status.Reason = "RBAC: no rule allows " + key
		}
		ssar.Kind, ssar.APIVersion = "SelfSubjectAccessReview", "authorization.k8s.io/v1"
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(ssar)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestCheckAccess(t *testing.T) {
	srv := fakeAPIServer(t, map[string]bool{"watch events": true, "get pods/log": true})
	rep, err := CheckAccess(context.Background(), &rest.Config{Host: srv.URL}, 5*time.Second)
	if err != nil {
		t.Fatalf("CheckAccess: %v", err)
	}
	if !rep.Reachable || rep.Version != "v1.37.2" {
		t.Errorf("reachable=%v version=%q", rep.Reachable, rep.Version)
	}
	want := map[string]Access{
		"pods": AccessOK, "pods/log": AccessForbidden, "events": AccessForbidden,
		"deployments": AccessOK, "statefulsets": AccessOK, "daemonsets": AccessOK, "replicasets": AccessOK,
		"applications": AccessOK, "kustomizations": AccessNotInstalled, "helmreleases": AccessOK,
	}
	if len(rep.Resources) != len(NeededResources) {
		t.Fatalf("got %d resources, want %d", len(rep.Resources), len(NeededResources))
	}
	for i, ra := range rep.Resources {
		if ra.Name != NeededResources[i].Name {
			t.Errorf("resource %d = %s, want %s (order)", i, ra.Name, NeededResources[i].Name)
		}
		if ra.Access != want[ra.Name] {
			t.Errorf("%s: access %s, want %s (%s)", ra.Name, ra.Access, want[ra.Name], ra.Reason)
		}
	}
	ev := rep.Resources[2]
	if len(ev.Denied) != 1 || ev.Denied[0] != "watch" || !strings.Contains(ev.Reason, "no rule allows watch events") {
		t.Errorf("events: denied %v reason %q", ev.Denied, ev.Reason)
	}
}

// closedPort returns a loopback address nobody listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestCheckAccessUnreachable(t *testing.T) {
	rep, err := CheckAccess(context.Background(), &rest.Config{Host: "https://" + closedPort(t)}, 2*time.Second)
	if err == nil || rep.Reachable {
		t.Fatalf("want unreachable, got err=%v reachable=%v", err, rep.Reachable)
	}
	if rep.Error != "connection refused" {
		t.Errorf("Error = %q", rep.Error)
	}
	for _, ra := range rep.Resources {
		if ra.Access != AccessUnknown {
			t.Errorf("%s: %s, want -", ra.Name, ra.Access)
		}
	}
}

func TestCheckAccessTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers
	}))
	defer srv.Close()
	start := time.Now()
	rep, err := CheckAccess(context.Background(), &rest.Config{Host: srv.URL}, 300*time.Millisecond)
	if err == nil {
		t.Fatal("want an error from a server that never answers")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %s with a 300ms timeout", d)
	}
	if rep.Error != "no answer within 300ms" {
		t.Errorf("Error = %q", rep.Error)
	}
}

func TestCheckAccessUnauthorized(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Unauthorized","code":401}`))
	}))
	defer srv.Close()
	rep, err := CheckAccess(context.Background(), &rest.Config{Host: srv.URL, BearerToken: "s3cret-token"}, 2*time.Second)
	if err == nil || !rep.Reachable {
		t.Fatalf("want reachable with an error, got err=%v reachable=%v", err, rep.Reachable)
	}
	if rep.Error != "credentials rejected (401 Unauthorized)" {
		t.Errorf("Error = %q", rep.Error)
	}
}

// TestCheckClustersConcurrent: a cluster that never answers must not delay
// a healthy one, and a bad kubeconfig context is reported, not probed.
func TestCheckClustersConcurrent(t *testing.T) {
	good := fakeAPIServer(t, nil)
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hang.Close()
	kc := writeKubeconfig(t, map[string]string{"good": good.URL, "hang": hang.URL})
	clusters := []config.Cluster{
		{Name: "hang", Kubeconfig: kc, Context: "hang"},
		{Name: "good", Kubeconfig: kc, Context: "good"},
		{Name: "bad", Kubeconfig: kc, Context: "missing"},
	}
	start := time.Now()
	res := CheckClusters(context.Background(), clusters, 500*time.Millisecond)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %s", d)
	}
	if res[0].Cluster != "hang" || res[0].Err == nil || res[0].Report.Reachable {
		t.Errorf("hang: %+v", res[0])
	}
	if res[1].Cluster != "good" || res[1].Err != nil || res[1].Report.Version != "v1.37.2" {
		t.Errorf("good: err=%v report=%+v", res[1].Err, res[1].Report)
	}
	if res[2].Err == nil || !strings.Contains(res[2].Err.Error(), `context "missing" not found`) {
		t.Errorf("bad: %v", res[2].Err)
	}
}

func writeKubeconfig(t *testing.T, servers map[string]string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Config\nusers:\n  - name: u\n    user: {token: s3cret-token}\nclusters:\n")
	for name, url := range servers {
		b.WriteString("  - name: " + name + "\n    cluster: {server: \"" + url + "\"}\n")
	}
	b.WriteString("contexts:\n")
	for name := range servers {
		b.WriteString("  - name: " + name + "\n    context: {cluster: " + name + ", user: u}\n")
	}
	p := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
