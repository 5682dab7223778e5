package cli

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/client-go/kubernetes/scheme"
)

// Golden files are rewritten with: go test ./cli -run TestConfigCheck -update
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files under testdata/")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// testEnv is a hermetic environment: the home directory holds a kubeconfig
// with the contexts of config.example.yaml, and its git token is set.
func testEnv(t *testing.T) func(string) string {
	t.Helper()
	home, err := filepath.Abs("testdata/config/home")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"HOME": home, "GIT_TOKEN": "test-token"}
	return func(k string) string { return env[k] }
}

// runCLI runs fleetdeck with args and returns a transcript of stdout,
// stderr and the exit code.
func runCLI(t *testing.T, getenv func(string) string, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	streams := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, Getenv: getenv}
	code := Main(streams, args)
	s := "$ fleetdeck " + strings.Join(args, " ") + "\n" + out.String()
	if errOut.Len() > 0 {
		s += "--- stderr\n" + errOut.String()
	}
	return s + fmt.Sprintf("--- exit %d\n", code)
}

// TestConfigCheckOffline: the example and one broken file per kind of
// problem, checked without contacting clusters.
func TestConfigCheckOffline(t *testing.T) {
	tests := []struct {
		golden string
		args   []string
	}{
		{"example", []string{"--config", "../config.example.yaml"}},
		{"unknown-key", []string{"--config", "testdata/config/unknown-key.yaml"}},
		{"wrong-type", []string{"--config", "testdata/config/wrong-type.yaml"}},
		{"wrong-type-list", []string{"--config", "testdata/config/wrong-type-list.yaml"}},
		{"missing-context", []string{"--config", "testdata/config/missing-context.yaml"}},
		{"unreadable-kubeconfig", []string{"--config", "testdata/config/unreadable-kubeconfig.yaml"}},
		{"duplicate-names", []string{"--config", "testdata/config/duplicate-names.yaml"}},
		{"unknown-reference", []string{"--config", "testdata/config/unknown-reference.yaml"}},
		{"secret-in-url", []string{"--config", "testdata/config/secret-in-url.yaml"}},
		{"missing-context-json", []string{"--config", "testdata/config/missing-context.yaml", "-o", "json"}},
		{"not-found", []string{"--config", "testdata/config/no-such-config.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			args := append([]string{"config", "check", "--offline"}, tt.args...)
			checkGoldenIn(t, "config", tt.golden, runCLI(t, testEnv(t), args...))
		})
	}
}

func TestConfigCheckSecretNotPrinted(t *testing.T) {
	for _, o := range []string{"text", "json"} {
		got := runCLI(t, testEnv(t), "config", "check", "--offline", "-o", o, "--config", "testdata/config/secret-in-url.yaml")
		if strings.Contains(got, "ghp_16C7e42F") {
			t.Errorf("-o %s prints the token:\n%s", o, got)
		}
	}
}

func TestConfigCheckDefaultPath(t *testing.T) {
	env := testEnv(t)
	xdg := t.TempDir()
	getenv := func(k string) string {
		if k == "XDG_CONFIG_HOME" {
			return xdg
		}
		return env(k)
	}
	got := runCLI(t, getenv, "config", "check", "--offline")
	got = strings.ReplaceAll(got, xdg, "$XDG")
	for _, want := range []string{"$FLEETDECK_CONFIG (not set)", "$XDG/fleetdeck/config.yaml ($XDG_CONFIG_HOME) → no such file", "--- exit 2"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}

// freePort returns a loopback address nobody listens on.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// copyWithKubeconfig copies testdata/config/<name>.yaml into a temporary
// directory next to a generated kubeconfig whose single context prod-eu
// points at server, and returns the copy's path.
func copyWithKubeconfig(t *testing.T, name, kubeconfigName, server string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join("testdata", "config", name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	kc := `apiVersion: v1
kind: Config
clusters:
  - name: prod-eu
    cluster: {server: "` + server + `", insecure-skip-tls-verify: true}
users:
  - name: ops
    user: {token: not-a-real-token}
contexts:
  - name: prod-eu
    context: {cluster: prod-eu, user: ops}
`
	cfg := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(cfg, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, kubeconfigName), []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, cfg
}

var portRe = regexp.MustCompile(`127\.0\.0\.1:\d+`)

func stabilize(s, dir string) string {
	s = strings.ReplaceAll(s, dir, "testdata/config")
	return portRe.ReplaceAllString(s, "127.0.0.1:PORT")
}

func TestConfigCheckUnreachable(t *testing.T) {
	dir, cfg := copyWithKubeconfig(t, "unreachable", "unreachable.kubeconfig", "https://"+freePort(t))
	got := runCLI(t, testEnv(t), "config", "check", "--config", cfg)
	checkGoldenIn(t, "config", "unreachable", stabilize(got, dir))
}

// fakeAPIServer answers version, discovery (Argo CD installed, Flux not) and
// access reviews that deny watching events.
func fakeAPIServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	send := func(w http.ResponseWriter, code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("/version", func(w http.ResponseWriter, r *http.Request) {
		send(w, 200, map[string]string{"gitVersion": "v1.37.2"})
	})
	mux.HandleFunc("/apis", func(w http.ResponseWriter, r *http.Request) {
		gv := map[string]string{"groupVersion": "argoproj.io/v1alpha1", "version": "v1alpha1"}
		send(w, 200, map[string]any{"kind": "APIGroupList", "groups": []any{
			map[string]any{"name": "argoproj.io", "versions": []any{gv}, "preferredVersion": gv}}})
	})
	mux.HandleFunc("/apis/argoproj.io/v1alpha1", func(w http.ResponseWriter, r *http.Request) {
		send(w, 200, map[string]any{"kind": "APIResourceList", "groupVersion": "argoproj.io/v1alpha1",
			"resources": []any{map[string]any{"name": "applications", "namespaced": true, "kind": "Application", "verbs": []string{"list"}}}})
	})
	mux.HandleFunc("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(body, nil, nil)
		ssar, ok := obj.(*authorizationv1.SelfSubjectAccessReview)
		if err != nil || !ok || ssar.Spec.ResourceAttributes == nil {
			http.Error(w, "bad review", http.StatusBadRequest)
			return
		}
		a := ssar.Spec.ResourceAttributes
		ssar.Status.Allowed = !(a.Resource == "events" && a.Verb == "watch")
		ssar.Kind, ssar.APIVersion = "SelfSubjectAccessReview", "authorization.k8s.io/v1"
		send(w, http.StatusCreated, ssar)
	})
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestConfigCheckAccessTable(t *testing.T) {
	srv := fakeAPIServer(t)
	dir, cfg := copyWithKubeconfig(t, "unreachable", "unreachable.kubeconfig", srv.URL)
	got := runCLI(t, testEnv(t), "config", "check", "--config", cfg)
	checkGoldenIn(t, "config", "access-table", stabilize(got, dir))

	var out bytes.Buffer
	streams := &IOStreams{Out: &out, ErrOut: io.Discard, OutIsTerminal: true, Getenv: testEnv(t)}
	if code := Main(streams, []string{"config", "check", "--config", cfg}); code != ExitOK {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
	if !strings.Contains(out.String(), "\x1b[31mforbidden\x1b[0m") || !strings.Contains(out.String(), "\x1b[32mvalid\x1b[0m") {
		t.Errorf("no colour on a terminal:\n%q", out.String())
	}
	noColor := func(k string) string {
		if k == "NO_COLOR" {
			return "1"
		}
		return testEnv(t)(k)
	}
	out.Reset()
	streams.Getenv = noColor
	Main(streams, []string{"config", "check", "--config", cfg})
	if strings.Contains(out.String(), "\x1b[") {
		t.Errorf("colour despite NO_COLOR:\n%q", out.String())
	}
}
