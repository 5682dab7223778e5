package watch

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Options tune a Cluster. The zero value is usable: every field has a default.
type Options struct {
	// Namespaces restricts every watch to these namespaces (one watch per namespace and
	// resource), for credentials that may not list cluster-wide. Empty means all namespaces.
	// GitOps objects are watched in these namespaces too: include Argo CD's and Flux's
	// namespaces (argocd, flux-system) when they matter.
	Namespaces []string
	// CandidateNamespaces are the namespaces to try, with Namespaces empty, for a resource the
	// credentials may not list cluster-wide when they may not list the namespaces either: the
	// namespaces the config names for this cluster (declared applications, Argo CD and Flux
	// discovery) and the kubeconfig context's namespace. Each is read if an access review
	// allows it. When the namespaces may be listed, all of them are tried instead.
	CandidateNamespaces []string
	// Extra are further resources to cache, e.g. the kinds of applications declared in the
	// config file beyond the built-in workloads. They are trimmed to metadata, spec and status.
	Extra []schema.GroupVersionResource

	// EventsPerObject is how many Warning events are kept per involved object, newest first.
	// Default 5.
	EventsPerObject int
	// EventMaxAge drops Warning events last seen longer ago than this. Default 1h.
	EventMaxAge time.Duration

	// SlowAfter marks a cluster Slow when a first list has not finished after this long while
	// the server answers. Default 3s.
	SlowAfter time.Duration
	// ProbeInterval is how often the API server's /readyz is probed. Default 2s.
	ProbeInterval time.Duration
	// ProbeTimeout bounds one probe; a probe that times out marks the cluster Unreachable.
	// A refused connection or a not-ready answer marks it at once; the timeout only decides
	// how long a server that accepts connections but does not answer is given. Default 5s.
	ProbeTimeout time.Duration
	// SlowResponse marks a cluster Slow when a probe takes longer than this but is answered:
	// the cluster is usable, only late, and is told apart from one that does not answer.
	// The cluster is Slow as soon as a probe has waited this long, and stays Slow until a
	// probe is answered faster. Values at or above ProbeTimeout disable it. Default 1s.
	SlowResponse time.Duration
	// RequestTimeout bounds plain requests (discovery). Lists and watches have no timeout:
	// a large list on a slow link must be allowed to finish, and the probe notices a dead
	// server. Default 10s.
	RequestTimeout time.Duration
	// MaxBackoff caps the reflectors' reconnection backoff. Default 5s.
	MaxBackoff time.Duration
	// ForbiddenRetry is how long a forbidden (or missing) resource waits before it is asked
	// for again, so RBAC changes are picked up without hammering the server. Default 30s.
	ForbiddenRetry time.Duration
	// DiscoveryInterval is how often the cluster is asked again which GitOps CRDs it serves,
	// so Argo CD or Flux installed later is picked up. Default 1m.
	DiscoveryInterval time.Duration

	// UserAgent is sent with every request. Default "fleetdeck/dev".
	UserAgent string
	// QPS and Burst of the client's rate limiter. Defaults 50 and 100: a cluster starts about
	// a dozen lists at once and must not wait on the limiter.
	QPS   float32
	Burst int

	// Logger receives client-go's own log lines (reflector retries and the like). Default:
	// discarded, because fleetdeck reports errors through State instead.
	Logger *logr.Logger
	// Now is the clock; nil means time.Now. Tests set it.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if o.EventsPerObject <= 0 {
		o.EventsPerObject = 5
	}
	def(&o.EventMaxAge, time.Hour)
	def(&o.SlowAfter, 3*time.Second)
	def(&o.ProbeInterval, 2*time.Second)
	def(&o.ProbeTimeout, 5*time.Second)
	def(&o.SlowResponse, time.Second)
	def(&o.RequestTimeout, 10*time.Second)
	def(&o.MaxBackoff, 5*time.Second)
	def(&o.ForbiddenRetry, 30*time.Second)
	def(&o.DiscoveryInterval, time.Minute)
	if o.UserAgent == "" {
		o.UserAgent = "fleetdeck/dev"
	}
	if o.QPS <= 0 {
		o.QPS = 50
	}
	if o.Burst <= 0 {
		o.Burst = 100
	}
	if o.Logger == nil {
		l := logr.Discard()
		o.Logger = &l
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Clients are the API clients a Cluster reads through. New builds them from a rest.Config;
// tests may build a Cluster from fakes with NewForClients.
type Clients struct {
	Kube      kubernetes.Interface
	Dynamic   dynamic.Interface
	Discovery discovery.DiscoveryInterface
	// Probe checks that the API server answers; nil disables the probe (reachability then
	// comes from lists and watches alone).
	Probe func(ctx context.Context) error
	// Close releases the clients' connections when the Cluster stops; may be nil.
	Close func()
}

// newClients builds the clients of one cluster. All of them share one HTTP transport that
// belongs to this cluster alone (a private dialer keeps client-go from sharing it through its
// transport cache), so Run can close its connections when it ends.
func newClients(cfg *rest.Config, o Options) (Clients, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = o.UserAgent
	cfg.QPS, cfg.Burst = o.QPS, o.Burst
	// No Timeout on the shared client: it would cut every watch. Plain requests get their
	// own deadline below.
	cfg.Timeout = 0
	conns := &connTracker{dial: cfg.Dial}
	if conns.dial == nil {
		conns.dial = (&net.Dialer{Timeout: o.ProbeTimeout + time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	cfg.Dial = conns.DialContext
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return Clients{}, fmt.Errorf("build HTTP client for %s: %w", cfg.Host, err)
	}

	// Built-in kinds speak protobuf: decoding is several times cheaper than JSON, which is
	// most of the time to a first complete model on large clusters.
	kcfg := rest.CopyConfig(cfg)
	kcfg.ContentType = "application/vnd.kubernetes.protobuf"
	kcfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	kube, err := kubernetes.NewForConfigAndClient(kcfg, httpClient)
	if err != nil {
		return Clients{}, fmt.Errorf("build clientset for %s: %w", cfg.Host, err)
	}
	dyn, err := dynamic.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return Clients{}, fmt.Errorf("build dynamic client for %s: %w", cfg.Host, err)
	}
	disc, err := discovery.NewDiscoveryClientForConfigAndClient(cfg, httpClient)
	if err != nil {
		return Clients{}, fmt.Errorf("build discovery client for %s: %w", cfg.Host, err)
	}
	probeREST := disc.RESTClient()
	return Clients{
		Kube:      kube,
		Dynamic:   dyn,
		Discovery: disc,
		Probe: func(ctx context.Context) error {
			_, err := probeREST.Get().AbsPath("/readyz").DoRaw(ctx)
			return err
		},
		Close: func() {
			utilnet.CloseIdleConnectionsFor(httpClient.Transport)
			// Streams cancelled a moment ago may still hold their connection; close it anyway
			// so no connection reader outlives Run.
			conns.closeAll()
		},
	}, nil
}

// connTracker dials the cluster's connections and remembers them until they close, so the
// cluster can close every one of them when it stops.
type connTracker struct {
	dial  func(ctx context.Context, network, address string) (net.Conn, error)
	mu    sync.Mutex
	conns map[*trackedConn]struct{}
}

func (t *connTracker) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	c, err := t.dial(ctx, network, address)
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, t: t}
	t.mu.Lock()
	if t.conns == nil {
		t.conns = map[*trackedConn]struct{}{}
	}
	t.conns[tc] = struct{}{}
	t.mu.Unlock()
	return tc, nil
}

func (t *connTracker) closeAll() {
	t.mu.Lock()
	conns := make([]*trackedConn, 0, len(t.conns))
	for c := range t.conns {
		conns = append(conns, c)
	}
	t.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

type trackedConn struct {
	net.Conn
	t    *connTracker
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.t.mu.Lock()
		delete(c.t.conns, c)
		c.t.mu.Unlock()
	})
	return c.Conn.Close()
}
