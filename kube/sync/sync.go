// Package sync is fleetdeck's write path to GitOps operators: it asks Argo CD to sync an
// Application and Flux to reconcile a Kustomization or HelmRelease (source first), through the
// Kubernetes API the way the operators' own clients ask, and follows each request until the
// operator reports its outcome. It never applies manifests itself.
//
// Argo CD. The argocd CLI and UI go through Argo CD's API server (gRPC), which checks that no
// operation is running and writes the Application's .operation. Without the API server, Argo
// CD's documented way ("Sync Applications with Kubectl") is to set the same .operation on the
// Application object; Request does that with a JSON merge patch guarded by the object's
// resourceVersion (the API server's SetAppOperation retries conflicts the same way):
//
//	operation:
//	  initiatedBy: {username: "<user> (fleetdeck)"}
//	  info: [{name: fleetdeck.io/request, value: <token>}]
//	  sync:
//	    revision: <spec.source.targetRevision, default HEAD>   # revisions[] for spec.sources
//	    syncStrategy: {hook: {}}                               # the CLI's default strategy
//	    syncOptions: <spec.syncPolicy.syncOptions>             # as the API server copies them
//	  retry: <spec.syncPolicy.retry>
//
// The application controller then reports status.operationState (phase Running, then
// Succeeded, Failed or Error) with the operation as requested, info included, and clears
// .operation. Progress recognises its own operation by the info token and, like `argocd app
// wait`, waits for a reconciliation after the operation finished before reporting the
// Application's sync and health.
//
// Flux. Like `flux reconcile kustomization|helmrelease NAME --with-source`, Request sets the
// annotation reconcile.fluxcd.io/requestedAt (RFC 3339 time) on the object's source
// (GitRepository, HelmRepository, OCIRepository, Bucket; for a HelmRelease the chart's
// sourceRef); Progress waits until the source reports status.lastHandledReconcileAt equal to
// it with Ready known, then annotates the Kustomization or HelmRelease the same way and waits
// until it reports the request handled with Ready True (Succeeded) or False (Failed). Flux ≥
// 2.2's CLI reconciles a HelmRelease's generated HelmChart in between; source-controller
// rebuilds that chart by itself when its source's artifact changes, so fleetdeck requests the
// source directly and needs no access to HelmCharts.
//
// Every write is refused in read-only mode (Options.ReadOnly) before any API call.
package sync

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	gosync "sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"

	"github.com/fleetdeck/fleetdeck/config"
	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/kube"
)

// Errors a request can wrap; test with errors.Is.
var (
	// ErrReadOnly: read-only mode refuses every request before any API call.
	ErrReadOnly = errors.New("read-only mode (--readonly or readOnly in the config): fleetdeck asks no operator to sync")
	// ErrNoOperator: the instance is declared in fleetdeck's config and applied by no operator.
	ErrNoOperator = errors.New("no GitOps operator applies it, and fleetdeck never applies manifests itself")
	// ErrInProgress: Argo CD already runs an operation on the Application.
	ErrInProgress = errors.New("another operation is already in progress")
	// ErrSuspended: the Flux object is suspended and would not reconcile.
	ErrSuspended = errors.New("suspended: resume it first (flux resume)")
)

// FieldManager names fleetdeck's writes in managedFields and audit logs.
const FieldManager = "fleetdeck"

// ReconcileRequestAnnotation is Flux's reconcile request annotation (fluxcd/pkg/apis/meta).
const ReconcileRequestAnnotation = "reconcile.fluxcd.io/requestedAt"

// InfoName is the name of the Argo CD operation info entry that carries a request's token.
const InfoName = "fleetdeck.io/request"

// Requester is what a view needs to sync: request, then follow. *Syncer implements it.
type Requester interface {
	Request(ctx context.Context, t Target) (Handle, error)
	Progress(ctx context.Context, h Handle) <-chan Phase
}

var _ Requester = (*Syncer)(nil)

// Target is one application instance to sync and the operator object that applies it.
type Target struct {
	App      string         // the application's name, for messages
	Cluster  string         // the cluster the instance runs on
	Operator fleet.Operator // argocd, flux or declared
	// The operator object: an Argo CD Application (on the hub), a Flux Kustomization or
	// HelmRelease (on Cluster). Empty for declared instances.
	Kind          string
	ObjectCluster string
	Namespace     string
	Name          string
}

// TargetOf is the target of a model instance.
func TargetOf(in fleet.Instance) Target {
	return Target{App: in.App, Cluster: in.Cluster, Operator: in.Source.Operator, Kind: in.Source.Kind,
		ObjectCluster: in.Source.Cluster, Namespace: in.Source.Namespace, Name: in.Source.Name}
}

// Object names the operator object: "Application argocd/payments-api-prod-us on prod-eu".
func (t Target) Object() string {
	if t.Operator == fleet.OperatorDeclared || t.Kind == "" {
		return "declared in fleetdeck's config"
	}
	return fmt.Sprintf("%s %s/%s on %s", t.Kind, t.Namespace, t.Name, t.ObjectCluster)
}

// ObjectRef names a Kubernetes object of a known kind.
type ObjectRef struct {
	Kind      string
	Namespace string
	Name      string
}

func (r ObjectRef) String() string { return r.Kind + " " + r.Namespace + "/" + r.Name }

// Handle identifies one request; it is plain data, safe to copy and keep.
type Handle struct {
	Target      Target
	RequestedAt time.Time
	// Token identifies the request: the Argo CD operation's info value, or the requestedAt
	// value written on the Flux source (or, without a source, on the object).
	Token string
	// PreviousStartedAt is the Argo CD operationState.startedAt before the request.
	PreviousStartedAt string
	// Source is the Flux source annotated first; zero when the object has none, in which
	// case the object itself was annotated with Token.
	Source ObjectRef
}

// State is where a request stands.
type State string

const (
	StatePending   State = "Pending"   // requested; the operator has not started it yet
	StateRunning   State = "Running"   // the operator works on it
	StateSucceeded State = "Succeeded" // done: Argo CD phase Succeeded, Flux Ready True
	StateFailed    State = "Failed"    // done: Argo CD phase Failed, Flux Ready False
	StateError     State = "Error"     // done: Argo CD phase Error, or fleetdeck could not follow
)

// Done reports whether the state is final.
func (s State) Done() bool { return s == StateSucceeded || s == StateFailed || s == StateError }

// Phase is one step of a request's progress.
type Phase struct {
	Target Target
	State  State
	// Step is what is being waited for: "sync operation", "source GitRepository
	// flux-system/fleet-gitops", "Kustomization flux-system/catalog-api".
	Step     string
	Message  string // the operator's own message
	Revision string // the revision synced or applied, when known
	// Sync and Health are the Application's status.sync.status and status.health.status after
	// an Argo CD operation; for Flux, Health is the Ready condition's status (True/False).
	Sync   string
	Health string
	At     time.Time
}

// Options configure a Syncer.
type Options struct {
	// ReadOnly refuses every request (ErrReadOnly) before any API call.
	ReadOnly bool
	// Username is written as the Argo CD operation's initiatedBy.username; default "fleetdeck".
	Username string
	// Poll is how often Progress reads the objects; default 500ms.
	Poll time.Duration
	// Settle bounds how long Progress waits, after an Argo CD operation finished, for the
	// controller's next reconciliation before reporting sync and health; default 10s.
	Settle time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Username == "" {
		o.Username = "fleetdeck"
	}
	if o.Poll <= 0 {
		o.Poll = 500 * time.Millisecond
	}
	if o.Settle <= 0 {
		o.Settle = 10 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Client is one cluster's API access: a dynamic client and a mapper from kinds to resources.
type Client struct {
	Dynamic dynamic.Interface
	Mapper  meta.RESTMapper
}

// Syncer requests syncs on the configured clusters. Its methods are safe for concurrent use.
type Syncer struct {
	opts    Options
	connect func(cluster string) (Client, error)

	mu      gosync.Mutex
	clients map[string]Client
}

// New returns a Syncer for the clusters of cfg; it connects to a cluster on first use.
func New(cfg *config.Config, opts Options) *Syncer {
	return &Syncer{opts: opts.withDefaults(), clients: map[string]Client{}, connect: func(name string) (Client, error) {
		c, ok := cfg.Cluster(name)
		if !ok {
			return Client{}, fmt.Errorf("cluster %s is not in the config", name)
		}
		rc, err := kube.RESTConfig(c)
		if err != nil {
			return Client{}, err
		}
		dyn, err := dynamic.NewForConfig(rc)
		if err != nil {
			return Client{}, fmt.Errorf("cluster %s: dynamic client: %w", name, err)
		}
		disc, err := discovery.NewDiscoveryClientForConfig(rc)
		if err != nil {
			return Client{}, fmt.Errorf("cluster %s: discovery client: %w", name, err)
		}
		return Client{Dynamic: dyn, Mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))}, nil
	}}
}

// NewWithClients returns a Syncer over prepared clients, keyed by cluster name (tests).
func NewWithClients(clients map[string]Client, opts Options) *Syncer {
	s := &Syncer{opts: opts.withDefaults(), clients: map[string]Client{}}
	for k, v := range clients {
		s.clients[k] = v
	}
	s.connect = func(name string) (Client, error) {
		return Client{}, fmt.Errorf("cluster %s: no client", name)
	}
	return s
}

func (s *Syncer) client(cluster string) (Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.clients[cluster]; ok {
		return c, nil
	}
	c, err := s.connect(cluster)
	if err != nil {
		return Client{}, err
	}
	s.clients[cluster] = c
	return c, nil
}

// groups maps the kinds fleetdeck writes to their API group; versions come from discovery.
var groups = map[string]string{
	"Application":      "argoproj.io",
	"Kustomization":    "kustomize.toolkit.fluxcd.io",
	"HelmRelease":      "helm.toolkit.fluxcd.io",
	"GitRepository":    "source.toolkit.fluxcd.io",
	"HelmRepository":   "source.toolkit.fluxcd.io",
	"OCIRepository":    "source.toolkit.fluxcd.io",
	"Bucket":           "source.toolkit.fluxcd.io",
	"HelmChart":        "source.toolkit.fluxcd.io",
	"ExternalArtifact": "source.toolkit.fluxcd.io",
}

// resource is the client for a kind in a namespace on a cluster.
func (s *Syncer) resource(cluster, kind, namespace string) (dynamic.ResourceInterface, error) {
	group, ok := groups[kind]
	if !ok {
		return nil, fmt.Errorf("cluster %s: fleetdeck does not sync through %s objects", cluster, kind)
	}
	c, err := s.client(cluster)
	if err != nil {
		return nil, err
	}
	gk := schema.GroupKind{Group: group, Kind: kind}
	m, err := c.Mapper.RESTMapping(gk)
	if err != nil {
		if r, ok := c.Mapper.(meta.ResettableRESTMapper); ok {
			// A CRD installed since the first lookup is not in the cached discovery.
			r.Reset()
			m, err = c.Mapper.RESTMapping(gk)
		}
		if err != nil {
			return nil, fmt.Errorf("cluster %s: %s.%s is not served (is the operator's CRD installed?): %w", cluster, kind, group, err)
		}
	}
	return c.Dynamic.Resource(m.Resource).Namespace(namespace), nil
}

// Request asks the target's operator to sync it now and returns at once; follow it with
// Progress. For a Flux object with a source, the object itself is annotated by Progress once
// the source reconciled (as `flux reconcile --with-source` does), so a Flux request must be
// followed to complete.
func (s *Syncer) Request(ctx context.Context, t Target) (Handle, error) {
	if s.opts.ReadOnly {
		return Handle{}, fmt.Errorf("sync %s on %s: %w", t.App, t.Cluster, ErrReadOnly)
	}
	switch t.Operator {
	case fleet.OperatorArgoCD:
		return s.requestArgo(ctx, t)
	case fleet.OperatorFlux:
		return s.requestFlux(ctx, t)
	case fleet.OperatorDeclared:
		return Handle{}, fmt.Errorf("%s on %s is declared in fleetdeck's config: %w", t.App, t.Cluster, ErrNoOperator)
	}
	return Handle{}, fmt.Errorf("%s on %s: unknown operator %q", t.App, t.Cluster, t.Operator)
}

// Progress follows a request: it sends a Phase whenever what it reports changes and closes
// the channel after a final one (State.Done) or when ctx ends. Reading the channel until it
// closes is not required: ctx's end stops the goroutine behind it.
func (s *Syncer) Progress(ctx context.Context, h Handle) <-chan Phase {
	ch := make(chan Phase)
	go func() {
		defer close(ch)
		f := &follower{s: s, h: h, ch: ch}
		switch h.Target.Operator {
		case fleet.OperatorArgoCD:
			f.run(ctx, f.argoStep)
		case fleet.OperatorFlux:
			f.run(ctx, f.fluxStep)
		default:
			f.emit(ctx, Phase{State: StateError, Message: fmt.Sprintf("%s on %s: %v", h.Target.App, h.Target.Cluster, ErrNoOperator)})
		}
	}()
	return ch
}

// newToken is a random request token.
func newToken() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fmt.Sprintf("%x", time.Now().UnixNano())
	}
	return hex.EncodeToString(b[:])
}
