package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const testKubeconfig = `apiVersion: v1
kind: Config
current-context: b
clusters:
  - name: a
    cluster: {server: "https://a.invalid"}
  - name: b
    cluster: {server: "https://b.invalid"}
users:
  - name: u
    user: {token: secret-token}
contexts:
  - name: a
    context: {cluster: a, user: u}
  - name: b
    context: {cluster: b, user: u}
`

// fakeEnv is a hermetic getenv.
func fakeEnv(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// parseIn writes a kubeconfig next to the config text and parses it.
func parseIn(t *testing.T, text string, env func(string) string) (*Config, *Source, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "kubeconfig"), []byte(testKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	src := &Source{Path: "c.yaml", AbsPath: filepath.Join(dir, "c.yaml"), Dir: dir}
	cfg, err := Parse(src, []byte(text), env)
	return cfg, src, err
}

const minimal = `clusters:
  - name: a
    kubeconfig: kubeconfig
    context: a
`

// TestSchemaWalk checks unknown keys and wrong types with their positions.
func TestSchemaWalk(t *testing.T) {
	tests := []struct {
		name string
		text string
		want string // "line:col message" of the first problem
		hint string // substring of its hint
	}{
		{"unknown top-level key", minimal + "readonly: true\n", `5:1 unknown key "readonly" in the top level`, `did you mean "readOnly"?`},
		{"unknown nested key", "clusters:\n  - name: a\n    kubeconfg: kubeconfig\n", `3:5 unknown key "kubeconfg" in clusters[0]`, `did you mean "kubeconfig"?`},
		{"unknown key no close match", minimal + "zzzzzzzz: 1\n", `5:1 unknown key "zzzzzzzz"`, "valid keys here: applications, clusters"},
		{"unknown key in auth", minimal + "repositories:\n  - name: r\n    url: https://h/r.git\n    auth:\n      tokenenv: X\n", `9:7 unknown key "tokenenv" in repositories[0].auth`, `"tokenEnv"`},
		{"clusters not a list", "clusters: foo\n", `1:11 clusters: expected a list, got the string "foo"`, "write a list"},
		{"bool as duration", minimal + "timeout: yes\n", `5:10 timeout: invalid duration "yes"`, "duration"},
		{"bool wrong", minimal + "readOnly: maybe\n", `5:11 readOnly: expected true or false, got the string "maybe"`, "true or false"},
		{"number without unit", minimal + "timeout: 5\n", `5:10 timeout: duration 5 has no unit`, `"5s"`},
		{"int wrong", minimal + "logs:\n  bufferLines: lots\n", `6:16 logs.bufferLines: expected a whole number`, "whole number"},
		{"string list scalar", minimal + "discovery:\n  flux:\n    - cluster: a\n      namespaces: flux-system\n", `8:19 discovery.flux[0].namespaces: expected a list`, "[flux-system]"},
		{"bool as string", minimal + "ui:\n  theme: true\n", `6:10 ui.theme: expected a string, got the boolean true`, "quote it"},
		{"mapping expected", minimal + "ui: dark\n", `5:5 ui: expected a mapping of keys`, ""},
		{"duplicate key", "clusters:\n  - name: a\n    name: b\n", `3:5 duplicate key "name" in clusters[0]`, "first set on line 2"},
		{"syntax error", "clusters:\n  - name: a\n\tkubeconfig: x\n", `2:0 YAML syntax: found a tab character`, "spaces only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, src, err := parseIn(t, tt.text, fakeEnv())
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("want a ValidationError, got %v (problems %v)", err, src.Problems)
			}
			var p Problem
			var lines []string
			for _, q := range src.Problems {
				line := fmt.Sprintf("%d:%d %s", q.Line, q.Column, q.Message)
				lines = append(lines, line)
				if strings.HasPrefix(line, tt.want) {
					p = q
				}
			}
			if p.Message == "" {
				t.Fatalf("no problem %q in:\n%s", tt.want, strings.Join(lines, "\n"))
			}
			if !strings.Contains(p.Hint, tt.hint) {
				t.Errorf("hint = %q, want it to contain %q", p.Hint, tt.hint)
			}
		})
	}
}

// TestSemanticChecks covers references, names and files.
func TestSemanticChecks(t *testing.T) {
	base := "clusters:\n  - name: a\n    kubeconfig: kubeconfig\n    context: a\n"
	repo := "repositories:\n  - name: r\n    url: https://h/r.git\n"
	tests := []struct {
		name, text string
		sev        Severity
		msg, hint  string
	}{
		{"no clusters", "readOnly: true\n", SeverityError, "no clusters configured", "add at least one"},
		{"duplicate cluster", base + "  - name: a\n    kubeconfig: kubeconfig\n    context: b\n", SeverityError, `duplicate cluster name "a"`, "line 2"},
		{"bad cluster name", "clusters:\n  - name: Prod_EU\n    kubeconfig: kubeconfig\n    context: a\n", SeverityError, `invalid cluster name "Prod_EU"`, `"prod-eu"`},
		{"missing context", "clusters:\n  - name: a\n    kubeconfig: kubeconfig\n    context: c\n", SeverityError, `context "c" not found`, "available contexts: a, b"},
		{"unreadable kubeconfig", "clusters:\n  - name: a\n    kubeconfig: nope\n", SeverityError, "cannot read kubeconfig nope: no such file", "relative to the config file"},
		{"bad colour", "clusters:\n  - name: a\n    kubeconfig: kubeconfig\n    color: '300'\n", SeverityError, `invalid colour "300"`, "0-255"},
		{"secret in url", base + "repositories:\n  - name: r\n    url: https://bob:hunter2@h/r.git\n", SeverityError, "https://bob:***@h/r.git contains credentials", "tokenEnv"},
		{"token as user in url", base + "repositories:\n  - name: r\n    url: https://ghp_abc@h/r.git\n", SeverityError, "https://***@h/r.git contains credentials", "tokenEnv"},
		{"token env unset", base + repo + "    auth:\n      method: token\n      tokenEnv: GIT_TOKEN\n", SeverityWarning, "GIT_TOKEN is not set", "export GIT_TOKEN"},
		{"token in tokenEnv", base + repo + "    auth:\n      method: token\n      tokenEnv: ghp-123/abc\n", SeverityError, "tokenEnv looks like a token", "NAME"},
		{"github token in tokenEnv", base + repo + "    auth:\n      method: token\n      tokenEnv: ghp_16C7e42F292c6912E7710c838347Ae178B4a\n", SeverityError, "tokenEnv looks like a token", "revoke"},
		{"unreadable ssh key", base + "repositories:\n  - name: r\n    url: git@h:r.git\n    auth:\n      method: ssh-key\n      sshKeyFile: id_none\n", SeverityError, "cannot read ssh key id_none", ""},
		{"short fetch", base + repo + "    fetchInterval: 1s\n", SeverityError, "below the minimum", "5s"},
		{"unknown discovery cluster", base + "discovery:\n  argocd:\n    - cluster: b\n", SeverityError, `unknown cluster "b"`, "configured: a"},
		{"typo discovery cluster", "clusters:\n  - name: prod-eu\n    kubeconfig: kubeconfig\n    context: a\ndiscovery:\n  flux:\n    - cluster: prod-ue\n", SeverityError, `unknown cluster "prod-ue"`, `did you mean "prod-eu"?`},
		{"unknown repo", base + "applications:\n  - name: x\n    repo: r\n    path: k\n    render: yaml\n    clusters: [{name: a}]\n", SeverityError, `unknown repository "r"`, "none are configured"},
		{"bad render", base + repo + "applications:\n  - name: x\n    repo: r\n    path: k\n    render: kustomise\n    clusters: [{name: a}]\n", SeverityError, `unknown render kind "kustomise"`, `did you mean "kustomize"?`},
		{"path escapes", base + repo + "applications:\n  - name: x\n    repo: r\n    path: ../k\n    render: yaml\n    clusters: [{name: a}]\n", SeverityError, `path "../k" leaves its directory`, ""},
		{"values without helm", base + repo + "applications:\n  - name: x\n    repo: r\n    path: k\n    render: yaml\n    clusters:\n      - name: a\n        valuesFiles: [v.yaml]\n", SeverityError, "valuesFiles only apply to render: helm", ""},
		{"app no clusters", base + repo + "applications:\n  - name: x\n    repo: r\n    path: k\n    render: helm\n", SeverityError, `application "x" has no clusters`, ""},
		{"bad theme", base + "ui:\n  theme: neon\n", SeverityError, `unknown theme "neon"`, "dark, light, ansi16"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, src, _ := parseIn(t, tt.text, fakeEnv())
			for _, p := range src.Problems {
				if p.Severity == tt.sev && strings.Contains(p.Message, tt.msg) {
					if !strings.Contains(p.Hint, tt.hint) {
						t.Errorf("hint = %q, want %q", p.Hint, tt.hint)
					}
					if p.Line == 0 {
						t.Errorf("problem has no line: %v", p)
					}
					return
				}
			}
			t.Errorf("no %s containing %q in:\n%v", tt.sev, tt.msg, src.Problems)
		})
	}
}

func TestSecretNeverEchoed(t *testing.T) {
	_, src, _ := parseIn(t, minimal+"repositories:\n  - name: r\n    url: https://bob:hunter2@h/r.git\n", fakeEnv())
	for _, p := range src.Problems {
		if strings.Contains(p.String(), "hunter2") {
			t.Errorf("problem repeats the password: %s", p)
		}
	}
}

func TestDefaultsAndResolution(t *testing.T) {
	text := `clusters:
  - name: a
    kubeconfig: kubeconfig
repositories:
  - name: r
    url: https://h/r.git
    auth: {method: token, tokenEnv: T}
discovery:
  argocd:
    - cluster: a
  flux:
    - cluster: a
applications:
  - name: x
    repo: r
    path: k8s/x
    render: kustomize
    clusters:
      - name: a
        path: k8s/x/overlays/a
`
	cfg, src, err := parseIn(t, text, fakeEnv("T", "tok"))
	if err != nil {
		t.Fatalf("Parse: %v\n%v", err, src.Problems)
	}
	cl := cfg.Clusters[0]
	if cl.Kubeconfig != filepath.Join(src.Dir, "kubeconfig") || cl.Context != "b" || cl.DisplayName != "a" || cl.ArgocdName != "a" {
		t.Errorf("cluster defaults = %+v", cl)
	}
	r := cfg.Repositories[0]
	if r.Branch != "main" || r.FetchInterval != time.Minute || r.Auth.Username != "git" {
		t.Errorf("repository defaults = %+v", r)
	}
	if tok, err := r.Token(fakeEnv("T", "tok")); err != nil || tok != "tok" {
		t.Errorf("Token = %q, %v", tok, err)
	}
	if got := cfg.Discovery.ArgoCD[0].Namespaces; len(got) != 1 || got[0] != "argocd" {
		t.Errorf("argocd namespaces = %v", got)
	}
	if got := cfg.Discovery.Flux[0].Namespaces; len(got) != 0 {
		t.Errorf("flux namespaces = %v, want all (empty)", got)
	}
	a := cfg.Applications[0]
	if a.Namespace != "default" || a.Clusters[0].Namespace != "default" || a.Clusters[0].Path != "k8s/x/overlays/a" {
		t.Errorf("application defaults = %+v", a)
	}
	if cfg.Timeout != 5*time.Second || cfg.UI.Theme != ThemeDark || cfg.Logs.BufferLines != 10000 || cfg.ReadOnly {
		t.Errorf("top-level defaults = %v %v %v %v", cfg.Timeout, cfg.UI.Theme, cfg.Logs.BufferLines, cfg.ReadOnly)
	}
}

func TestEnvOverrides(t *testing.T) {
	cfg, src, err := parseIn(t, minimal+"timeout: 3s\nui:\n  theme: light\n",
		fakeEnv("FLEETDECK_READONLY", "true", "FLEETDECK_TIMEOUT", "750ms", "FLEETDECK_UI_THEME", "ansi16", "FLEETDECK_LOGS_BUFFERLINES", "50"))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if !cfg.ReadOnly || cfg.Timeout != 750*time.Millisecond || cfg.UI.Theme != ThemeANSI16 || cfg.Logs.BufferLines != 50 {
		t.Errorf("overrides not applied: %v %v %v %v", cfg.ReadOnly, cfg.Timeout, cfg.UI.Theme, cfg.Logs.BufferLines)
	}
	if src.EnvOverrides["ui.theme"] != "FLEETDECK_UI_THEME" {
		t.Errorf("EnvOverrides = %v", src.EnvOverrides)
	}

	_, src, err = parseIn(t, minimal, fakeEnv("FLEETDECK_TIMEOUT", "soon", "FLEETDECK_UI_THEME", "neon"))
	if err == nil {
		t.Fatal("want errors for bad overrides")
	}
	var got []string
	for _, p := range src.Problems {
		got = append(got, p.Location()+": "+p.Message)
	}
	want := []string{`$FLEETDECK_TIMEOUT: invalid duration "soon"`, `$FLEETDECK_UI_THEME: unknown theme "neon"`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestLocate(t *testing.T) {
	tests := []struct {
		name, flag string
		env        func(string) string
		want       string
		origin     string
	}{
		{"flag wins", "/x/c.yaml", fakeEnv("FLEETDECK_CONFIG", "/y/c.yaml"), "/x/c.yaml", "--config"},
		{"env", "", fakeEnv("FLEETDECK_CONFIG", "/y/c.yaml", "XDG_CONFIG_HOME", "/xdg"), "/y/c.yaml", "$FLEETDECK_CONFIG"},
		{"xdg", "", fakeEnv("XDG_CONFIG_HOME", "/xdg"), "/xdg/fleetdeck/config.yaml", "$XDG_CONFIG_HOME"},
		{"home", "", fakeEnv("HOME", "/home/u"), "/home/u/.config/fleetdeck/config.yaml", "default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := Locate(tt.flag, tt.env)
			if src.AbsPath != tt.want || src.Origin != tt.origin {
				t.Errorf("Locate = %s (%s), want %s (%s)", src.AbsPath, src.Origin, tt.want, tt.origin)
			}
		})
	}
}

func TestLoadNotFound(t *testing.T) {
	_, _, err := Load("", fakeEnv("XDG_CONFIG_HOME", t.TempDir()))
	var nf *NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("want NotFoundError, got %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"--config (not given)", "$FLEETDECK_CONFIG (not set)", "fleetdeck/config.yaml ($XDG_CONFIG_HOME) → no such file"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
}

func TestResolvePath(t *testing.T) {
	env := fakeEnv("HOME", "/home/u")
	for in, want := range map[string]string{
		"~/.kube/config": "/home/u/.kube/config",
		"kc":             "/etc/fd/kc",
		"../kc":          "/etc/kc",
		"/abs/kc":        "/abs/kc",
	} {
		if got := ResolvePath(in, "/etc/fd", env); got != want {
			t.Errorf("ResolvePath(%q) = %q, want %q", in, got, want)
		}
	}
	if p, shown := DefaultKubeconfig(fakeEnv("KUBECONFIG", "/a:/b", "HOME", "/h")); p != "/a" || !strings.Contains(shown, "$KUBECONFIG") {
		t.Errorf("DefaultKubeconfig = %q %q", p, shown)
	}
}

func TestLevenshtein(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		d    int
	}{{"", "abc", 3}, {"kubeconfg", "kubeconfig", 1}, {"same", "same", 0}, {"kitten", "sitting", 3}, {"prod-ue", "prod-eu", 1}} {
		if got := levenshtein(tt.a, tt.b); got != tt.d {
			t.Errorf("levenshtein(%q,%q) = %d, want %d", tt.a, tt.b, got, tt.d)
		}
	}
}

// TestSandboxShape: the file `fleetdeck demo` generates (file:// remote,
// kubeconfig next to the config, Flux namespaces) is valid.
func TestSandboxShape(t *testing.T) {
	remote := t.TempDir()
	text := `clusters:
  - name: a
    kubeconfig: kubeconfig
    context: a
    color: "#5f87ff"
repositories:
  - name: fleet-gitops
    url: file://` + remote + `
    branch: main
    fetchInterval: 10s
    auth:
      method: none
discovery:
  argocd:
    - cluster: a
      namespaces: [argocd]
  flux:
    - cluster: a
      namespaces: [flux-system]
applications:
  - name: ledger
    repo: fleet-gitops
    path: k8s/ledger
    render: yaml
    namespace: ledger
    clusters:
      - name: a
`
	cfg, src, err := parseIn(t, text, fakeEnv())
	if err != nil || len(src.Problems) != 0 {
		t.Fatalf("Parse: %v %v", err, src.Problems)
	}
	if cfg.Repositories[0].FetchInterval != 10*time.Second || !src.Checked || !src.ClusterUsable(0) {
		t.Errorf("fetchInterval %v checked %v", cfg.Repositories[0].FetchInterval, src.Checked)
	}
	if l, c := src.Position("applications", 0, "render"); l != 24 || c != 13 {
		t.Errorf("Position = %d:%d, want 24:13", l, c)
	}
}
