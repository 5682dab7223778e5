package watch

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// Reading scope. A resource is read cluster-wide with one reflector. When the credentials may
// not list it cluster-wide (kubectl's "forbidden ... at the cluster scope", the usual lot of a
// team's read-only user), it falls back to one reflector per namespace it may read: the
// namespaces come from a watch of the namespaces when those may be listed, else from
// Options.CandidateNamespaces, and one rules review per namespace (an access review per
// resource where the rules review cannot tell) says which ones to read. Denied namespaces are
// reviewed again every Options.ForbiddenRetry, and the cluster-wide list is retried as often,
// so RBAC granted later is picked up either way. All of a resource's feeds fill one cache:
// readers never see the difference, except in the state, which names the denied namespaces.

// reviewParallel bounds the access reviews in flight on one cluster.
const reviewParallel = 8

// cachedResource is one cached resource of a cluster and the feeds that read it. Guarded by the
// cluster's mutex.
type cachedResource struct {
	kind *kind
	gr   schema.GroupResource
	// wide reads it cluster-wide; nil when Options.Namespaces restricts every watch.
	wide *feed
	// byNS reads it one namespace at a time: the namespaces of Options.Namespaces, or the
	// fallback's (denied ones hold a placeholder feed that runs nothing).
	byNS map[string]*feed
	// fallback: the cluster-wide list is forbidden, so it is read namespace by namespace.
	fallback bool
	// pending: the fallback's namespaces are not all known and reviewed yet.
	pending bool
	// everSynced: every namespace it was read in had been listed once.
	everSynced bool
}

// active returns the feeds whose objects and state count now, and whether that is the
// cluster-wide feed. A cluster-wide feed that lists again after a fallback wins at once (its
// namespace feeds are being stopped); one whose rights were revoked after it synced keeps
// serving its last objects until the namespace feeds are decided.
func (r *cachedResource) active() ([]*feed, bool) {
	if w := r.wide; w != nil && (!r.fallback || (w.synced && (!w.forbidden || r.pending))) {
		return []*feed{w}, true
	}
	feeds := make([]*feed, 0, len(r.byNS))
	for _, ns := range sortedKeys(r.byNS) {
		feeds = append(feeds, r.byNS[ns])
	}
	return feeds, false
}

// all returns every feed of the resource, running or not.
func (r *cachedResource) all() []*feed {
	feeds := make([]*feed, 0, len(r.byNS)+1)
	if r.wide != nil {
		feeds = append(feeds, r.wide)
	}
	for _, f := range r.byNS {
		feeds = append(feeds, f)
	}
	return feeds
}

// stateLocked is the resource's state as readers see it.
func (r *cachedResource) stateLocked(name string) ResourceState {
	rs := ResourceState{Name: name}
	feeds, wide := r.active()
	if wide {
		f := feeds[0]
		rs.Synced, rs.Forbidden, rs.Missing, rs.Objects, rs.Err = f.synced, f.forbidden, f.missing, len(f.items), f.err
		return rs
	}
	readable, synced := 0, true
	for _, f := range feeds {
		rs.Objects += len(f.items)
		switch {
		case f.forbidden:
			rs.ForbiddenNamespaces = append(rs.ForbiddenNamespaces, f.ns)
			continue
		case f.missing:
			rs.Missing = true
		default:
			readable++
			rs.Namespaces = append(rs.Namespaces, f.ns)
			synced = synced && f.synced
		}
		if rs.Err == "" && f.err != "" {
			rs.Err = "namespace " + f.ns + ": " + f.err
		}
	}
	if r.pending {
		// Not settled: the namespaces to read are still being found.
		rs.Namespaces, rs.ForbiddenNamespaces, rs.Missing = nil, nil, false
		return rs
	}
	// Once complete, it stays synced while a new namespace is read for the first time (like a
	// relist), so a namespace created later never makes the cluster look slow.
	if readable > 0 && synced {
		r.everSynced = true
	}
	rs.Synced = readable > 0 && (synced || r.everSynced)
	rs.Forbidden = len(rs.ForbiddenNamespaces) > 0 || (readable == 0 && !rs.Missing)
	if rs.Forbidden && rs.Err == "" {
		switch {
		case len(rs.ForbiddenNamespaces) > 0:
			rs.Err = "forbidden in " + joinNames(rs.ForbiddenNamespaces)
		case r.wide != nil && r.wide.err != "":
			rs.Err = r.wide.err + " (and no namespace to read it in)"
		default:
			rs.Err = "forbidden"
		}
	}
	return rs
}

// newFeed returns a feed of r (nil for the namespace watch) in ns; start runs it.
func (c *Cluster) newFeed(k *kind, r *cachedResource, ns string) *feed {
	return &feed{c: c, kind: k, res: r, ns: ns, items: map[string]runtime.Object{}}
}

// start runs the feed's reflector until ctx ends or the feed is stopped. The caller holds a
// count on wg (Run's).
func (f *feed) start(ctx context.Context, wg *sync.WaitGroup) {
	c := f.c
	fctx, cancel := context.WithCancel(ctx)
	f.cancel = cancel
	f.done = make(chan struct{})
	backoff := wait.Backoff{Duration: 200 * time.Millisecond, Factor: 2, Jitter: 0.5,
		Steps: 1 << 30, Cap: c.opts.MaxBackoff}
	r := cache.NewReflectorWithOptions(&feedLW{f: f}, f.kind.example, f, cache.ReflectorOptions{
		Name:            c.name + "/" + f.kind.name + "/" + f.ns,
		TypeDescription: f.kind.name,
		Backoff:         &backoff,
	})
	wg.Go(func() {
		defer close(f.done)
		r.RunWithContext(fctx)
	})
}

// stop ends the feed's reflector and waits for it. Placeholders have nothing to stop.
func (f *feed) stop() {
	if f.cancel == nil {
		return
	}
	f.cancel()
	<-f.done
}

// deniedFeed is the placeholder of a namespace the access review denied: it runs nothing and
// is reviewed again after retryAt.
func (c *Cluster) deniedFeed(r *cachedResource, ns string, now time.Time) *feed {
	f := c.newFeed(r.kind, r, ns)
	f.placeholder, f.forbidden = true, true
	f.err = forbiddenText(r.gr, ns)
	f.retryAt = now.Add(c.opts.ForbiddenRetry)
	return f
}

// kickScope wakes the scope loop; it never blocks.
func (c *Cluster) kickScope() {
	select {
	case c.scopeKick <- struct{}{}:
	default:
	}
}

// fallBackLocked moves r to per-namespace reading after its cluster-wide feed was refused.
func (c *Cluster) fallBackLocked(f *feed) {
	if r := f.res; r != nil && r.wide == f && !r.fallback {
		r.fallback, r.pending, r.everSynced = true, true, false
	}
}

// scopeLoop keeps the reading scope of every resource in line with what the credentials
// allow. It runs until ctx ends; the feeds it starts are counted on wg.
func (c *Cluster) scopeLoop(ctx context.Context, wg *sync.WaitGroup) {
	for {
		again := c.reconcileScopes(ctx, wg)
		var timeout <-chan time.Time
		var t *time.Timer
		if again > 0 {
			t = time.NewTimer(again)
			timeout = t.C
		}
		select {
		case <-ctx.Done():
		case <-c.scopeKick:
		case <-timeout:
		}
		if t != nil {
			t.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// scopePlan is what one reconciliation does to one resource.
type scopePlan struct {
	name   string
	r      *cachedResource
	review []string // namespaces to review (new ones, and denied ones due again)
}

// reconcileScopes does one pass and returns when to run again without a kick (0: only on a
// kick).
func (c *Cluster) reconcileScopes(ctx context.Context, wg *sync.WaitGroup) time.Duration {
	now := c.opts.Now()
	var stops []*feed
	var plans []scopePlan
	c.mu.Lock()
	fallback := false
	for _, r := range c.res {
		fallback = fallback || r.fallback
	}
	if fallback && c.nsFeed == nil {
		// Watched from the first fallback on, so that namespaces created later are read.
		c.nsFeed = c.newFeed(namespaceKind(c.clients.Kube), nil, "")
		c.nsFeed.start(ctx, wg)
	}
	namespaces, known := c.namespacesLocked()
	for _, name := range sortedKeys(c.res) {
		r := c.res[name]
		if !r.fallback {
			continue
		}
		if r.wide.synced && !r.wide.forbidden {
			// Cluster-wide reading works again: it replaces the namespace feeds.
			for _, f := range r.byNS {
				stops = append(stops, f)
			}
			r.byNS, r.fallback, r.pending, r.everSynced = nil, false, false, false
			continue
		}
		if !known {
			continue
		}
		p := scopePlan{name: name, r: r}
		for ns, f := range r.byNS {
			if !slices.Contains(namespaces, ns) {
				stops = append(stops, f)
				delete(r.byNS, ns)
			}
		}
		for _, ns := range namespaces {
			if f := r.byNS[ns]; f == nil || (f.placeholder && !now.Before(f.retryAt)) {
				p.review = append(p.review, ns)
			}
		}
		plans = append(plans, p)
	}
	// A namespace reviewed for one resource is reviewed for all its denied ones: the rules
	// review answers for every resource at once, and their retries stay in step.
	reviewed := map[string]bool{}
	for _, p := range plans {
		for _, ns := range p.review {
			reviewed[ns] = true
		}
	}
	for i, p := range plans {
		for ns, f := range p.r.byNS {
			if f.placeholder && reviewed[ns] && !slices.Contains(p.review, ns) {
				plans[i].review = append(plans[i].review, ns)
			}
		}
		if len(plans[i].review) == 0 {
			p.r.pending = false
		}
	}
	c.mu.Unlock()
	for _, f := range stops {
		f.stop()
	}

	// One rules review per namespace covers every resource that needs it.
	need := map[string][]schema.GroupResource{}
	var order []string
	for _, p := range plans {
		for _, ns := range p.review {
			if need[ns] == nil {
				order = append(order, ns)
			}
			need[ns] = append(need[ns], p.r.gr)
		}
	}
	decisions := c.reviewNamespaces(ctx, order, need)
	if ctx.Err() != nil {
		return 0
	}

	now = c.opts.Now()
	again := time.Duration(0)
	c.mu.Lock()
	for _, p := range plans {
		if c.res[p.name] != p.r || !p.r.fallback {
			continue // stopped or back to cluster-wide meanwhile
		}
		r := p.r
		if r.byNS == nil {
			r.byNS = map[string]*feed{}
		}
		for _, ns := range p.review {
			old := r.byNS[ns]
			if decisions[ns][r.gr] == accessDenied {
				r.byNS[ns] = c.deniedFeed(r, ns, now)
				continue
			}
			if old == nil || old.placeholder {
				f := c.newFeed(r.kind, r, ns)
				r.byNS[ns] = f
				f.start(ctx, wg)
			}
		}
		r.pending = false
		for _, f := range r.byNS {
			if f.placeholder {
				again = c.opts.ForbiddenRetry
			}
		}
	}
	c.mu.Unlock()
	c.refresh()
	return again
}

// reviewNamespaces runs the reviews of need (namespace → resources), each bounded by
// Options.RequestTimeout.
func (c *Cluster) reviewNamespaces(ctx context.Context, order []string, need map[string][]schema.GroupResource) map[string]map[schema.GroupResource]access {
	if len(order) == 0 {
		return nil
	}
	rv := reviewer{kube: c.clients.Kube, timeout: c.opts.RequestTimeout}
	out := map[string]map[schema.GroupResource]access{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, reviewParallel)
	for _, ns := range order {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			d := rv.review(ctx, ns, need[ns])
			mu.Lock()
			out[ns] = d
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

// namespacesLocked returns the namespaces a fallback reads in, and whether they are known
// yet: the watched namespaces when they may be listed, else the candidates of the options
// (with whatever was listed before the right to list them went away).
func (c *Cluster) namespacesLocked() ([]string, bool) {
	f := c.nsFeed
	if f == nil || (!f.synced && !f.forbidden) {
		return nil, false
	}
	names := sortedKeys(f.items)
	if f.forbidden {
		for _, ns := range c.opts.CandidateNamespaces {
			if ns != "" && !slices.Contains(names, ns) {
				names = append(names, ns)
			}
		}
		slices.Sort(names)
	}
	return names, true
}

// namespaceKind lists and watches the namespaces themselves, trimmed to their names.
func namespaceKind(k kubernetes.Interface) *kind {
	return &kind{name: "namespaces", example: &corev1.Namespace{}, trim: typedTrim(trimNamespace), client: k,
		list: func(ctx context.Context, _ string, o metav1.ListOptions) (runtime.Object, error) {
			return k.CoreV1().Namespaces().List(ctx, o)
		},
		watch: func(ctx context.Context, _ string, o metav1.ListOptions) (watch.Interface, error) {
			return k.CoreV1().Namespaces().Watch(ctx, o)
		}}
}

func trimNamespace(n *corev1.Namespace) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n.Name, ResourceVersion: n.ResourceVersion}}
}

// joinNames joins namespace names for a message, bounded so that a cluster with thousands of
// denied namespaces does not flood a screen.
func joinNames(names []string) string {
	const show = 5
	if len(names) <= show {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:show], ", ") + " and " + strconv.Itoa(len(names)-show) + " more"
}
