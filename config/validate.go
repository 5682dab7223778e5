package config

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// checker runs the semantic checks on a decoded config, locating each
// problem through the YAML node tree.
type checker struct {
	src      *Source
	root     *yaml.Node
	getenv   func(string) string
	problems Problems
	// kubeconfigs caches parsed kubeconfig files by absolute path: several
	// clusters usually share one file.
	kubeconfigs map[string]*kubeconfigFile
	// contexts holds each cluster's effective context, by cluster index.
	contexts map[int]string
}

func newChecker(src *Source, root *yaml.Node, getenv func(string) string) *checker {
	return &checker{src: src, root: root, getenv: getenv,
		kubeconfigs: map[string]*kubeconfigFile{}, contexts: map[int]string{}}
}

// node returns the value node at path (string keys, int indexes) or nil.
func (c *checker) node(p ...any) *yaml.Node {
	n := c.root
	for _, step := range p {
		n = resolveAlias(n)
		if n == nil {
			return nil
		}
		switch s := step.(type) {
		case string:
			if n.Kind != yaml.MappingNode {
				return nil
			}
			var found *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == s {
					found = n.Content[i+1]
				}
			}
			n = found
		case int:
			if n.Kind != yaml.SequenceNode || s >= len(n.Content) {
				return nil
			}
			n = n.Content[s]
		}
	}
	return n
}

// near returns the node at path or, when it is absent, its nearest
// ancestor: a missing key is reported where it should have been written.
func (c *checker) near(p ...any) *yaml.Node {
	for i := len(p); i >= 0; i-- {
		if n := c.node(p[:i]...); n != nil {
			if isNull(n) && i > 0 {
				// "key:" with no value: point at the key, not at the
				// empty value (yaml.v3 places it at the next token).
				if k := c.key(p[:i]...); k != nil {
					return k
				}
			}
			return n
		}
	}
	return &yaml.Node{Line: 1, Column: 1}
}

// key returns the key node of the last path element, if it is a key.
func (c *checker) key(p ...any) *yaml.Node {
	if len(p) == 0 {
		return nil
	}
	last, ok := p[len(p)-1].(string)
	if !ok {
		return nil
	}
	parent := resolveAlias(c.node(p[:len(p)-1]...))
	if parent == nil || parent.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(parent.Content); i += 2 {
		if parent.Content[i].Value == last {
			return parent.Content[i]
		}
	}
	return nil
}

func (c *checker) has(p ...any) bool {
	n := c.node(p...)
	return n != nil && !isNull(resolveAlias(n))
}

func (c *checker) report(sev Severity, n *yaml.Node, hint, format string, args ...any) {
	c.problems = append(c.problems, Problem{File: c.src.Path, Line: n.Line, Column: n.Column,
		Severity: sev, Message: fmt.Sprintf(format, args...), Hint: hint})
}

func (c *checker) errorAt(p []any, hint, format string, args ...any) {
	c.report(SeverityError, c.near(p...), hint, format, args...)
}

func (c *checker) warnAt(p []any, hint, format string, args ...any) {
	c.report(SeverityWarning, c.near(p...), hint, format, args...)
}

// scalarAt reports on a top-level scalar key, naming the variable when the
// value came from the environment rather than the file.
func (c *checker) scalarAt(key string, p []any, hint, format string, args ...any) {
	if name, ok := c.src.EnvOverrides[key]; ok {
		c.problems = append(c.problems, Problem{File: "$" + name, Severity: SeverityError,
			Message: fmt.Sprintf(format, args...), Hint: hint})
		return
	}
	c.errorAt(p, hint, format, args...)
}

func loc(p ...any) []any { return p }

var (
	clusterNameRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	dnsLabelRe    = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	hexColorRe    = regexp.MustCompile(`^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)
	envNameRe     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	scpLikeRe     = regexp.MustCompile(`^([A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+:[^/\\]`)
)

func (c *checker) validate(cfg *Config) {
	c.checkClusters(cfg)
	c.checkRepositories(cfg)
	c.checkDiscovery(cfg, "argocd", cfg.Discovery.ArgoCD)
	c.checkDiscovery(cfg, "flux", cfg.Discovery.Flux)
	c.checkApplications(cfg)
	c.checkNotify(cfg)

	if c.has("timeout") || c.src.EnvOverrides["timeout"] != "" {
		if cfg.Timeout <= 0 {
			c.scalarAt("timeout", loc("timeout"), `use a positive duration such as "5s"`, "timeout must be positive, got %s", cfg.Timeout)
		}
	}
	if cfg.UI.Theme != "" {
		switch cfg.UI.Theme {
		case ThemeDark, ThemeLight, ThemeANSI16:
		default:
			c.scalarAt("ui.theme", loc("ui", "theme"), enumHint(string(cfg.UI.Theme), "dark", "light", "ansi16"),
				"unknown theme %q", cfg.UI.Theme)
		}
	}
	if (c.has("logs", "bufferLines") || c.src.EnvOverrides["logs.bufferLines"] != "") && cfg.Logs.BufferLines <= 0 {
		c.scalarAt("logs.bufferLines", loc("logs", "bufferLines"), "use a positive number of lines, such as 10000",
			"logs.bufferLines must be positive, got %d", cfg.Logs.BufferLines)
	}
}

// firstSeen tracks names to report duplicates at the second occurrence.
type firstSeen map[string]int

func (c *checker) dupCheck(seen firstSeen, name string, p []any, what string) {
	if name == "" {
		return
	}
	n := c.near(p...)
	if line, ok := seen[name]; ok {
		c.report(SeverityError, n, fmt.Sprintf("the first %s named %q is on line %d; names must be unique", what, name, line),
			"duplicate %s name %q", what, name)
		return
	}
	seen[name] = n.Line
}

func (c *checker) checkClusters(cfg *Config) {
	if len(cfg.Clusters) == 0 {
		c.errorAt(loc("clusters"), "add at least one cluster, e.g.\n      clusters:\n        - name: prod\n          context: prod",
			"no clusters configured")
		return
	}
	names, argoNames := firstSeen{}, firstSeen{}
	for i, cl := range cfg.Clusters {
		at := func(k string) []any { return loc("clusters", i, k) }
		switch {
		case cl.Name == "":
			c.errorAt(at("name"), "every cluster needs a short name such as prod-eu", "clusters[%d] has no name", i)
		case !clusterNameRe.MatchString(cl.Name):
			c.errorAt(at("name"), "use lower-case letters, digits and dashes, e.g. "+strconv.Quote(slug(cl.Name)),
				"invalid cluster name %q", cl.Name)
		}
		c.dupCheck(names, cl.Name, at("name"), "cluster")
		if cl.ArgocdName != "" {
			c.dupCheck(argoNames, cl.ArgocdName, at("argocdName"), "Argo CD cluster")
		}
		if cl.Color != "" && !validColor(cl.Color) {
			c.errorAt(at("color"), `write "#rgb", "#rrggbb" or an ANSI colour number 0-255`, "invalid colour %q", cl.Color)
		}
		if cl.ArgocdServer != "" {
			u, err := url.Parse(cl.ArgocdServer)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				c.errorAt(at("argocdServer"), "write the server URL exactly as in the Application's spec.destination.server, e.g. https://kubernetes.default.svc",
					"invalid argocdServer %q", cl.ArgocdServer)
			}
		}
		c.checkKubeconfig(i, cl)
	}
}

func validColor(s string) bool {
	if hexColorRe.MatchString(s) {
		return true
	}
	n, err := strconv.Atoi(s)
	return err == nil && n >= 0 && n <= 255
}

func slug(s string) string {
	s = strings.ToLower(s)
	var b strings.Builder
	for _, r := range s {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteRune('-')
		}
	}
	return strings.Trim(b.String(), "-")
}

func (c *checker) checkRepositories(cfg *Config) {
	names := firstSeen{}
	for i, r := range cfg.Repositories {
		at := func(k ...any) []any { return append(loc("repositories", i), k...) }
		if r.Name == "" {
			c.errorAt(at("name"), "name the repository so applications can refer to it", "repositories[%d] has no name", i)
		}
		c.dupCheck(names, r.Name, at("name"), "repository")
		kind := c.checkRepoURL(r, at("url"))
		if r.Branch != "" && (strings.ContainsAny(r.Branch, " ~^:?*[\\") || strings.HasPrefix(r.Branch, "-")) {
			c.errorAt(at("branch"), "write a branch name such as main", "invalid branch name %q", r.Branch)
		}
		if c.has(at("fetchInterval")...) && r.FetchInterval < MinFetchInterval {
			c.errorAt(at("fetchInterval"), fmt.Sprintf("use %s or more; remotes rate-limit frequent fetches", MinFetchInterval),
				"fetchInterval %s is below the minimum of %s", r.FetchInterval, MinFetchInterval)
		}
		c.checkAuth(r, kind, at)
	}
}

type urlKind int

const (
	urlUnknown urlKind = iota
	urlHTTP
	urlSSH
	urlLocal
)

// checkRepoURL validates the URL form and refuses embedded credentials;
// the secret is never repeated in the message.
func (c *checker) checkRepoURL(r Repository, p []any) urlKind {
	raw := r.URL
	if raw == "" {
		c.errorAt(p, "write an https://, ssh://, git@host:path or file:// URL", "repository %q has no url", r.Name)
		return urlUnknown
	}
	if strings.HasPrefix(raw, "/") {
		c.checkLocalRepo(raw, p)
		return urlLocal
	}
	if strings.Contains(raw, "://") {
		u, err := url.Parse(raw)
		if err != nil {
			c.errorAt(p, "", "invalid repository URL %s", maskURL(raw))
			return urlUnknown
		}
		switch u.Scheme {
		case "https", "http":
			if u.User != nil {
				c.errorAt(p, "remove the credentials from the URL and use auth.method: token with auth.tokenEnv naming a variable that holds the token",
					"repository URL %s contains credentials", maskURL(raw))
			}
			if u.Scheme == "http" {
				c.warnAt(p, "use https:// so fetches cannot be tampered with", "repository URL %s is not encrypted", maskURL(raw))
			}
			return urlHTTP
		case "ssh":
			if _, hasPw := u.User.Password(); hasPw {
				c.errorAt(p, "remove the password and use auth.method: ssh-agent or ssh-key",
					"repository URL %s contains a password", maskURL(raw))
			}
			return urlSSH
		case "file":
			c.checkLocalRepo(u.Path, p)
			return urlLocal
		}
		c.errorAt(p, "use https://, ssh://, git@host:path, file:// or an absolute path", "unsupported URL scheme %q", u.Scheme)
		return urlUnknown
	}
	if scpLikeRe.MatchString(raw) {
		return urlSSH
	}
	c.errorAt(p, "use https://, ssh://, git@host:path, file:// or an absolute path (relative paths are ambiguous)",
		"unsupported repository URL %q", raw)
	return urlUnknown
}

func (c *checker) checkLocalRepo(dir string, p []any) {
	if _, err := os.Stat(dir); err != nil {
		c.warnAt(p, "create or clone the repository there, or fix the path", "local repository %s: %s", dir, osReason(err))
	}
}

// maskURL hides the password (or a token used as the user name) in a URL.
func maskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		if i := strings.Index(raw, "@"); i >= 0 && strings.Contains(raw[:i], "://") {
			return raw[:strings.Index(raw, "://")+3] + "***" + raw[i:]
		}
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "***")
	} else if u.Scheme == "https" || u.Scheme == "http" {
		u.User = url.User("***")
	}
	return strings.Replace(u.String(), "%2A%2A%2A", "***", -1)
}

func (c *checker) checkAuth(r Repository, kind urlKind, at func(k ...any) []any) {
	a := r.Auth
	switch a.Method {
	case "", AuthNone:
	case AuthSSHAgent:
		if kind == urlHTTP {
			c.warnAt(at("auth", "method"), "ssh-agent applies to ssh:// and git@host:path URLs; use token for https", "auth ssh-agent with an https URL")
		}
		if c.getenv("SSH_AUTH_SOCK") == "" {
			c.warnAt(at("auth", "method"), "start an agent (eval $(ssh-agent); ssh-add) or use method: ssh-key", "SSH_AUTH_SOCK is not set: no ssh-agent to ask")
		}
	case AuthSSHKey:
		if kind == urlHTTP {
			c.warnAt(at("auth", "method"), "ssh-key applies to ssh:// and git@host:path URLs; use token for https", "auth ssh-key with an https URL")
		}
		if a.SSHKeyFile == "" {
			c.errorAt(at("auth", "sshKeyFile"), "add auth.sshKeyFile: ~/.ssh/id_ed25519 (the private key)", "auth ssh-key needs sshKeyFile")
		} else if f, err := os.Open(ResolvePath(a.SSHKeyFile, c.src.Dir, c.getenv)); err != nil {
			c.errorAt(at("auth", "sshKeyFile"), "the path is relative to the config file's directory; ~ is your home", "cannot read ssh key %s: %s", a.SSHKeyFile, osReason(err))
		} else {
			f.Close()
		}
	case AuthToken:
		if kind == urlSSH {
			c.warnAt(at("auth", "method"), "tokens apply to https URLs; use ssh-agent or ssh-key for ssh", "auth token with an ssh URL")
		}
		switch {
		case a.TokenEnv == "":
			c.errorAt(at("auth", "tokenEnv"), "add auth.tokenEnv: GIT_TOKEN and export the token in that variable", "auth token needs tokenEnv")
		case !envNameRe.MatchString(a.TokenEnv) || looksLikeToken(a.TokenEnv):
			c.errorAt(at("auth", "tokenEnv"), "tokenEnv holds the NAME of an environment variable (e.g. GIT_TOKEN), never the token itself; revoke the token if this file was shared",
				"tokenEnv looks like a token, not a variable name")
		case c.getenv(a.TokenEnv) == "":
			c.warnAt(at("auth", "tokenEnv"), fmt.Sprintf("export %s=<token> before starting fleetdeck", a.TokenEnv), "environment variable %s is not set", a.TokenEnv)
		}
	default:
		c.errorAt(at("auth", "method"), enumHint(string(a.Method), "none", "ssh-agent", "ssh-key", "token"), "unknown auth method %q", a.Method)
	}
	if a.SSHKeyFile != "" && a.Method != AuthSSHKey {
		c.warnAt(at("auth", "sshKeyFile"), "set auth.method: ssh-key to use it", "sshKeyFile is ignored with auth method %q", methodOrNone(a.Method))
	}
	if a.TokenEnv != "" && a.Method != AuthToken && !looksLikeToken(a.TokenEnv) {
		c.warnAt(at("auth", "tokenEnv"), "set auth.method: token to use it", "tokenEnv is ignored with auth method %q", methodOrNone(a.Method))
	}
}

// tokenPrefixes start the tokens of common git hosts (GitHub, GitLab).
var tokenPrefixes = []string{"ghp_", "gho_", "ghs_", "ghu_", "github_pat_", "glpat-"}

// looksLikeToken guesses whether s is a secret rather than a variable
// name: a known token prefix, or long and mixing lower case with digits
// (variable names are short and upper case by convention).
func looksLikeToken(s string) bool {
	for _, p := range tokenPrefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	if !envNameRe.MatchString(s) {
		return true
	}
	lower, digit := 0, 0
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
			lower++
		case r >= '0' && r <= '9':
			digit++
		}
	}
	return len(s) >= 24 && lower > 0 && digit >= 4
}

func methodOrNone(m AuthMethod) AuthMethod {
	if m == "" {
		return AuthNone
	}
	return m
}

func enumHint(got string, valid ...string) string {
	if s, ok := closest(got, valid); ok {
		return fmt.Sprintf("did you mean %q? (one of: %s)", s, strings.Join(valid, ", "))
	}
	return "one of: " + strings.Join(valid, ", ")
}

// refHint suggests a close name among the known ones, or lists them.
func refHint(got string, known []string, where string) string {
	if len(known) == 0 {
		return "none are configured; add one under " + where
	}
	if s, ok := closest(got, known); ok {
		return fmt.Sprintf("did you mean %q?", s)
	}
	return "configured: " + strings.Join(known, ", ")
}

func clusterNames(cfg *Config) []string {
	var out []string
	for _, cl := range cfg.Clusters {
		if cl.Name != "" {
			out = append(out, cl.Name)
		}
	}
	return out
}

func (c *checker) checkClusterRef(cfg *Config, name string, p []any) {
	if name == "" {
		c.errorAt(p, "name one of the configured clusters", "missing cluster name")
		return
	}
	if _, ok := cfg.Cluster(name); !ok {
		c.errorAt(p, refHint(name, clusterNames(cfg), "clusters:"), "unknown cluster %q", name)
	}
}

func (c *checker) checkNamespace(ns string, p []any) {
	if ns != "" && (len(ns) > 63 || !dnsLabelRe.MatchString(ns)) {
		c.errorAt(p, "namespaces are lower-case letters, digits and dashes, at most 63 characters", "invalid namespace %q", ns)
	}
}

func (c *checker) checkDiscovery(cfg *Config, operator string, sources []DiscoverySource) {
	seen := firstSeen{}
	for i, s := range sources {
		at := func(k ...any) []any { return append(loc("discovery", operator, i), k...) }
		c.checkClusterRef(cfg, s.Cluster, at("cluster"))
		if s.Cluster != "" {
			n := c.near(at("cluster")...)
			if line, ok := seen[s.Cluster]; ok {
				c.report(SeverityError, n, fmt.Sprintf("merge its namespaces into the entry on line %d", line),
					"cluster %q is listed twice under discovery.%s", s.Cluster, operator)
			} else {
				seen[s.Cluster] = n.Line
			}
		}
		for j, ns := range s.Namespaces {
			c.checkNamespace(ns, at("namespaces", j))
		}
	}
}

func (c *checker) checkApplications(cfg *Config) {
	names := firstSeen{}
	var repoNames []string
	for _, r := range cfg.Repositories {
		if r.Name != "" {
			repoNames = append(repoNames, r.Name)
		}
	}
	for i, a := range cfg.Applications {
		at := func(k ...any) []any { return append(loc("applications", i), k...) }
		if a.Name == "" {
			c.errorAt(at("name"), "name the application as it should appear in the tree", "applications[%d] has no name", i)
		}
		c.dupCheck(names, a.Name, at("name"), "application")
		switch {
		case a.Repo == "":
			c.errorAt(at("repo"), "name one of the repositories", "application %q has no repo", a.Name)
		default:
			if _, ok := cfg.Repository(a.Repo); !ok {
				c.errorAt(at("repo"), refHint(a.Repo, repoNames, "repositories:"), "unknown repository %q", a.Repo)
			}
		}
		if a.Path == "" {
			c.errorAt(at("path"), "write the directory inside the repository, e.g. k8s/"+a.Name, "application %q has no path", a.Name)
		} else {
			c.checkRepoPath(a.Path, at("path"))
		}
		switch a.Render {
		case RenderYAML, RenderKustomize, RenderHelm:
		case "":
			c.errorAt(at("render"), "one of: yaml, kustomize, helm", "application %q has no render kind", a.Name)
		default:
			c.errorAt(at("render"), enumHint(string(a.Render), "yaml", "kustomize", "helm"), "unknown render kind %q", a.Render)
		}
		c.checkNamespace(a.Namespace, at("namespace"))
		if len(a.Clusters) == 0 {
			c.errorAt(at("clusters"), "list the clusters it runs on: clusters: [{name: prod-eu}]", "application %q has no clusters", a.Name)
		}
		seen := firstSeen{}
		for j, ac := range a.Clusters {
			cat := func(k ...any) []any { return at(append([]any{"clusters", j}, k...)...) }
			c.checkClusterRef(cfg, ac.Name, cat("name"))
			if ac.Name != "" {
				n := c.near(cat("name")...)
				if line, ok := seen[ac.Name]; ok {
					c.report(SeverityError, n, fmt.Sprintf("it is already listed on line %d", line),
						"cluster %q is listed twice for application %q", ac.Name, a.Name)
				} else {
					seen[ac.Name] = n.Line
				}
			}
			if ac.Path != "" {
				c.checkRepoPath(ac.Path, cat("path"))
			}
			c.checkNamespace(ac.Namespace, cat("namespace"))
			if len(ac.ValuesFiles) > 0 && (a.Render == RenderYAML || a.Render == RenderKustomize) {
				c.errorAt(cat("valuesFiles"), "remove valuesFiles, or set render: helm", "valuesFiles only apply to render: helm (this application is %s)", a.Render)
			}
			for k, vf := range ac.ValuesFiles {
				c.checkRepoPath(vf, cat("valuesFiles", k))
			}
		}
	}
}

// checkRepoPath keeps paths inside the repository.
func (c *checker) checkRepoPath(p string, at []any) {
	switch {
	case strings.HasPrefix(p, "/"):
		c.errorAt(at, "write it relative to the repository root, without the leading /", "path %q is absolute", p)
	case containsDotDot(p):
		c.errorAt(at, "paths must stay inside the repository; remove the ..", "path %q leaves its directory", p)
	}
}

func containsDotDot(p string) bool {
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return true
		}
	}
	return false
}

// applyDefaults fills every key the file left out and resolves paths.
func (c *checker) applyDefaults(cfg *Config) {
	for i := range cfg.Clusters {
		cl := &cfg.Clusters[i]
		cl.Kubeconfig, _ = c.kubeconfigPath(*cl)
		if ctx, ok := c.contexts[i]; ok {
			cl.Context = ctx
		}
		if cl.DisplayName == "" {
			cl.DisplayName = cl.Name
		}
		if cl.ArgocdName == "" {
			cl.ArgocdName = cl.Name
		}
	}
	for i := range cfg.Repositories {
		r := &cfg.Repositories[i]
		if r.Branch == "" {
			r.Branch = DefaultBranch
		}
		if r.FetchInterval == 0 {
			r.FetchInterval = DefaultFetchInterval
		}
		if r.Auth.Method == "" {
			r.Auth.Method = AuthNone
		}
		if r.Auth.SSHKeyFile != "" {
			r.Auth.SSHKeyFile = ResolvePath(r.Auth.SSHKeyFile, c.src.Dir, c.getenv)
		}
		if r.Auth.Method == AuthToken && r.Auth.Username == "" {
			r.Auth.Username = DefaultTokenUsername
		}
	}
	for i := range cfg.Discovery.ArgoCD {
		if !c.has("discovery", "argocd", i, "namespaces") {
			cfg.Discovery.ArgoCD[i].Namespaces = []string{DefaultArgoNamespace}
		}
	}
	for i := range cfg.Applications {
		a := &cfg.Applications[i]
		if a.Namespace == "" {
			a.Namespace = DefaultNamespace
		}
		for j := range a.Clusters {
			ac := &a.Clusters[j]
			if ac.Path == "" {
				ac.Path = a.Path
			}
			if ac.Namespace == "" {
				ac.Namespace = a.Namespace
			}
		}
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.UI.Theme == "" {
		cfg.UI.Theme = DefaultTheme
	}
	if cfg.Logs.BufferLines == 0 {
		cfg.Logs.BufferLines = DefaultBufferLines
	}
	notifyDefaults(&cfg.Notify)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
