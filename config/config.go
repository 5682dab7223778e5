// Package config reads, defaults and validates fleetdeck's configuration file:
// the clusters, git repositories, application sources and declared applications.
package config

import (
	"fmt"
	"time"
)

// Defaults applied by Load for keys the file leaves out.
const (
	DefaultBranch        = "main"
	DefaultFetchInterval = 60 * time.Second
	MinFetchInterval     = 5 * time.Second
	DefaultArgoNamespace = "argocd"
	DefaultNamespace     = "default"
	DefaultTokenUsername = "git"
	DefaultTimeout       = 5 * time.Second
	DefaultTheme         = ThemeDark
	DefaultBufferLines   = 10000
)

// Config is the whole configuration file. After Load every default is
// applied and every path is absolute, so consumers never re-derive them.
type Config struct {
	// Clusters fleetdeck connects to, in display order.
	Clusters []Cluster `yaml:"clusters"`
	// Repositories are the git repositories fleetdeck clones (read-only
	// unless a revert is pushed).
	Repositories []Repository `yaml:"repositories"`
	// Discovery says where GitOps operators' objects are found.
	Discovery Discovery `yaml:"discovery"`
	// Applications are declared directly: no operator manages them and
	// fleetdeck renders their manifests from git itself.
	Applications []Application `yaml:"applications"`
	// ReadOnly removes every write (reverts, pushes, syncs).
	ReadOnly bool `yaml:"readOnly"`
	// Timeout bounds each request to one cluster in checks and status.
	Timeout time.Duration `yaml:"timeout"`
	// UI holds the terminal UI's appearance.
	UI UI `yaml:"ui"`
	// Logs holds the log pane's settings.
	Logs Logs `yaml:"logs"`
	// Notify configures the notifications `fleetdeck watch` posts.
	Notify Notify `yaml:"notify"`
}

// Cluster is one Kubernetes cluster reached through a kubeconfig context.
type Cluster struct {
	// Name is fleetdeck's short name for the cluster ([a-z0-9-], unique).
	Name string `yaml:"name"`
	// Kubeconfig is the kubeconfig file. After Load it is absolute: "~" is
	// expanded, relative paths are joined to the config file's directory,
	// and an empty value becomes $KUBECONFIG's first path or ~/.kube/config.
	Kubeconfig string `yaml:"kubeconfig"`
	// Context is the kubeconfig context. After Load of a valid file it is
	// never empty: a missing value becomes the kubeconfig's current-context,
	// so clients never fall back to a global default silently.
	Context string `yaml:"context"`
	// DisplayName is shown in headers and tables (default: Name).
	DisplayName string `yaml:"displayName"`
	// Color tags the cluster's rows and log lines: "#rgb", "#rrggbb" or an
	// ANSI 256-colour number "0".."255". Empty means pick one.
	Color string `yaml:"color"`
	// ArgocdName is the name Argo CD gives this cluster in Application
	// destinations (destination.name; default: Name).
	ArgocdName string `yaml:"argocdName"`
	// ArgocdServer is the API server URL Argo CD uses for this cluster in
	// Application destinations (destination.server), if it uses one.
	ArgocdServer string `yaml:"argocdServer"`
}

// Repository is one git repository holding manifests.
type Repository struct {
	// Name identifies the repository in applications (unique).
	Name string `yaml:"name"`
	// URL is https://, ssh://, git@host:path, file:// or an absolute path.
	// It never carries credentials: those come from Auth.
	URL string `yaml:"url"`
	// Branch is the tracked branch (default "main").
	Branch string `yaml:"branch"`
	// FetchInterval is how often the clone is fetched (default 60s, min 5s).
	FetchInterval time.Duration `yaml:"fetchInterval"`
	// Auth says how to authenticate to the remote.
	Auth RepoAuth `yaml:"auth"`
}

// AuthMethod is how fleetdeck authenticates to a git remote.
type AuthMethod string

// Authentication methods.
const (
	AuthNone     AuthMethod = "none"
	AuthSSHAgent AuthMethod = "ssh-agent"
	AuthSSHKey   AuthMethod = "ssh-key"
	AuthToken    AuthMethod = "token"
)

// RepoAuth holds references to credentials, never the credentials.
type RepoAuth struct {
	// Method is none, ssh-agent, ssh-key or token (default none).
	Method AuthMethod `yaml:"method"`
	// SSHKeyFile is the private key for ssh-key; absolute after Load.
	SSHKeyFile string `yaml:"sshKeyFile"`
	// TokenEnv names the environment variable that holds the token.
	TokenEnv string `yaml:"tokenEnv"`
	// Username goes with the token over https (default "git").
	Username string `yaml:"username"`
}

// Discovery lists where Argo CD and Flux objects are read from.
type Discovery struct {
	// ArgoCD: clusters and namespaces holding Application objects.
	ArgoCD []DiscoverySource `yaml:"argocd"`
	// Flux: clusters and namespaces holding Kustomization and HelmRelease
	// objects.
	Flux []DiscoverySource `yaml:"flux"`
}

// DiscoverySource is one cluster to read operator objects from.
type DiscoverySource struct {
	// Cluster names a configured cluster.
	Cluster string `yaml:"cluster"`
	// Namespaces to watch; empty means all namespaces. For Argo CD a
	// missing key means ["argocd"].
	Namespaces []string `yaml:"namespaces"`
}

// RenderKind says how an application's manifests are produced from git.
type RenderKind string

// Render kinds.
const (
	RenderYAML      RenderKind = "yaml"
	RenderKustomize RenderKind = "kustomize"
	RenderHelm      RenderKind = "helm"
)

// Application is an application declared directly in the config file.
type Application struct {
	// Name is unique among declared applications.
	Name string `yaml:"name"`
	// Repo names a configured repository.
	Repo string `yaml:"repo"`
	// Path is the repo-relative directory of the manifests, chart or
	// kustomization.
	Path string `yaml:"path"`
	// Render is yaml, kustomize or helm.
	Render RenderKind `yaml:"render"`
	// Namespace is the target namespace (default "default").
	Namespace string `yaml:"namespace"`
	// Clusters the application is deployed to (at least one).
	Clusters []AppCluster `yaml:"clusters"`
}

// AppCluster is one cluster of a declared application. After Load, Path
// and Namespace hold the application's values when not overridden.
type AppCluster struct {
	// Name names a configured cluster.
	Name string `yaml:"name"`
	// Path overrides the application's path on this cluster (for example a
	// kustomize overlay).
	Path string `yaml:"path"`
	// ValuesFiles are Helm values files relative to the chart path.
	ValuesFiles []string `yaml:"valuesFiles"`
	// Namespace overrides the application's target namespace.
	Namespace string `yaml:"namespace"`
}

// Theme names a colour theme of the terminal UI.
type Theme string

// Themes.
const (
	ThemeDark   Theme = "dark"
	ThemeLight  Theme = "light"
	ThemeANSI16 Theme = "ansi16"
)

// UI is the terminal UI's appearance.
type UI struct {
	// Theme is dark, light or ansi16 (default dark).
	Theme Theme `yaml:"theme"`
}

// Logs configures the log pane and the logs verb.
type Logs struct {
	// BufferLines bounds the lines kept in memory (default 10000).
	BufferLines int `yaml:"bufferLines"`
}

// Cluster returns the configured cluster with that name.
func (c *Config) Cluster(name string) (Cluster, bool) {
	for _, cl := range c.Clusters {
		if cl.Name == name {
			return cl, true
		}
	}
	return Cluster{}, false
}

// Repository returns the configured repository with that name.
func (c *Config) Repository(name string) (Repository, bool) {
	for _, r := range c.Repositories {
		if r.Name == name {
			return r, true
		}
	}
	return Repository{}, false
}

// Token reads the token of a repository using token auth from the
// variable its TokenEnv names; the token never lives in the file.
func (r Repository) Token(getenv func(string) string) (string, error) {
	if r.Auth.Method != AuthToken {
		return "", fmt.Errorf("repository %s: auth method is %q, not token", r.Name, r.Auth.Method)
	}
	t := orOSGetenv(getenv)(r.Auth.TokenEnv)
	if t == "" {
		return "", fmt.Errorf("repository %s: environment variable %s (auth.tokenEnv) is not set", r.Name, r.Auth.TokenEnv)
	}
	return t, nil
}
