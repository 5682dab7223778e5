// Package scenario is the single description of the sandbox fleet: its
// clusters, the applications in the generated monorepo, which GitOps operator
// (or none) manages each instance, and the real-world problems injected on
// known apps and clusters. Every part of the sandbox, and every integration
// test that asserts a problem, reads these facts from here.
package scenario

// Cluster names of the sandbox fleet.
const (
	ProdEU  = "prod-eu"
	ProdUS  = "prod-us"
	Staging = "staging"
)

// Clusters in display order. ProdEU is the Argo CD hub.
var Clusters = []string{ProdEU, ProdUS, Staging}

// ArgoHub is the cluster whose argocd namespace holds every Argo CD Application.
const (
	ArgoHub       = ProdEU
	ArgoNamespace = "argocd"
	FluxNamespace = "flux-system"
	// RepoName is the monorepo's name in the generated config.
	RepoName = "fleet-gitops"
	// Branch is the tracked branch of the monorepo.
	Branch = "main"
	// Registry is the image registry prefix of every service image.
	Registry = "registry.fleetdeck.test/shop"
)

// Env is the environment a cluster belongs to: it picks the Helm values file
// (values-<env>.yaml) and the kustomize overlay (overlays/<overlay>).
func Env(cluster string) string {
	if cluster == Staging {
		return "stage"
	}
	return "prod"
}

// Overlay is the kustomize overlay directory name for a cluster.
func Overlay(cluster string) string {
	if cluster == Staging {
		return "staging"
	}
	return "prod"
}

// RenderKind says how an app's manifests are produced from git.
type RenderKind string

const (
	Helm      RenderKind = "helm"
	Kustomize RenderKind = "kustomize"
	PlainYAML RenderKind = "yaml"
)

// Operator is who applies an instance: Argo CD, Flux, or nobody (an app
// declared only in fleetdeck's config; the sandbox's stand-in applies it).
type Operator string

const (
	ArgoCD Operator = "argocd"
	Flux   Operator = "flux"
	None   Operator = "none"
)

// App is one service in the monorepo.
type App struct {
	Name      string
	Path      string // repo-relative directory, e.g. k8s/auth-service
	Render    RenderKind
	Namespace string // target namespace on every cluster
	Replicas  int    // replicas in git (per env the values may differ; this is the prod default)
	// Instances maps cluster name to the operator that manages the app there.
	Instances map[string]Operator
}

// Image is the repository (without tag) of the app's main container.
func (a App) Image() string { return Registry + "/" + a.Name }

// SourcePath is the repo-relative directory rendered for the app on a cluster:
// the chart directory for Helm, the overlay for kustomize, the directory for YAML.
func (a App) SourcePath(cluster string) string {
	if a.Render == Kustomize {
		return a.Path + "/overlays/" + Overlay(cluster)
	}
	return a.Path
}

// ValuesFile is the Helm values file (relative to the chart) for a cluster,
// or "" for apps that are not Helm charts.
func (a App) ValuesFile(cluster string) string {
	if a.Render != Helm {
		return ""
	}
	return "values-" + Env(cluster) + ".yaml"
}

// ArgoAppName is the name of the Argo CD Application for the app on a
// cluster, as an ApplicationSet with a cluster generator would name it.
func ArgoAppName(app, cluster string) string { return app + "-" + cluster }

// App names.
const (
	AuthService        = "auth-service"
	PaymentsAPI        = "payments-api"
	CheckoutWeb        = "checkout-web"
	SearchIndexer      = "search-indexer"
	NotificationWorker = "notification-worker"
	CatalogAPI         = "catalog-api"
	Ledger             = "ledger"
)

// Apps of the monorepo, in a fixed order.
var Apps = []App{
	{Name: AuthService, Path: "k8s/auth-service", Render: Helm, Namespace: "auth", Replicas: 2,
		Instances: map[string]Operator{ProdEU: ArgoCD, ProdUS: ArgoCD, Staging: ArgoCD}},
	{Name: PaymentsAPI, Path: "k8s/payments-api", Render: Helm, Namespace: "payments", Replicas: 2,
		Instances: map[string]Operator{ProdEU: ArgoCD, ProdUS: ArgoCD, Staging: ArgoCD}},
	{Name: CheckoutWeb, Path: "k8s/checkout-web", Render: Helm, Namespace: "checkout", Replicas: 2,
		Instances: map[string]Operator{ProdEU: ArgoCD, ProdUS: ArgoCD, Staging: ArgoCD}},
	{Name: SearchIndexer, Path: "k8s/search-indexer", Render: Helm, Namespace: "search", Replicas: 1,
		Instances: map[string]Operator{ProdEU: ArgoCD, ProdUS: ArgoCD, Staging: Flux}},
	{Name: NotificationWorker, Path: "k8s/notification-worker", Render: Helm, Namespace: "notifications", Replicas: 1,
		Instances: map[string]Operator{ProdUS: ArgoCD, Staging: ArgoCD}},
	{Name: CatalogAPI, Path: "k8s/catalog-api", Render: Kustomize, Namespace: "catalog", Replicas: 2,
		Instances: map[string]Operator{ProdEU: ArgoCD, ProdUS: ArgoCD, Staging: Flux}},
	{Name: Ledger, Path: "k8s/ledger", Render: PlainYAML, Namespace: "ledger", Replicas: 1,
		Instances: map[string]Operator{ProdEU: None, ProdUS: None, Staging: None}},
}

// AppByName returns the app with that name.
func AppByName(name string) (App, bool) {
	for _, a := range Apps {
		if a.Name == name {
			return a, true
		}
	}
	return App{}, false
}

// ProblemKind names one of the seed's real-world problems.
type ProblemKind string

const (
	// HandPatch: a `kubectl patch`-style image change on the live Deployment;
	// git is unchanged, so the live tag differs from the tag in git.
	HandPatch ProblemKind = "hand-patch"
	// LatestTag: the container runs `:latest` (committed so in git).
	LatestTag ProblemKind = "latest-tag"
	// BadBump: the newest CI image bump in git crashloops
	// (restarts grow, CrashLoopBackOff, app Degraded).
	BadBump ProblemKind = "bad-bump"
	// Behind: the live revision is two commits (touching the app) behind git:
	// the operator reports OutOfSync.
	Behind ProblemKind = "behind"
	// PullFailure: the image tag in git does not exist in the registry
	// (ImagePullBackOff).
	PullFailure ProblemKind = "image-pull-backoff"
)

// Problem is one injected problem on a known app and cluster.
type Problem struct {
	Kind    ProblemKind
	App     string
	Cluster string
}

// Problems injected by the sandbox. Every other instance is healthy and in sync.
var Problems = []Problem{
	{Kind: HandPatch, App: PaymentsAPI, Cluster: ProdUS},
	{Kind: LatestTag, App: SearchIndexer, Cluster: Staging},
	{Kind: BadBump, App: AuthService, Cluster: Staging},
	{Kind: Behind, App: CheckoutWeb, Cluster: ProdEU},
	{Kind: PullFailure, App: NotificationWorker, Cluster: ProdUS},
}

// HealthyApp is healthy and in sync on every cluster it runs on.
const HealthyApp = CatalogAPI

// BehindBy is how many commits touching the app the Behind instance lags.
const BehindBy = 2

// HandPatchTag is the tag a human set on the live Deployment by hand.
const HandPatchTag = "hotfix-manual-1"

// ProblemOn returns the problem injected on app × cluster, if any.
func ProblemOn(app, cluster string) (Problem, bool) {
	for _, p := range Problems {
		if p.App == app && p.Cluster == cluster {
			return p, true
		}
	}
	return Problem{}, false
}
