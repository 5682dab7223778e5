package watch

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
)

// Cluster caches the trimmed objects of one cluster and tracks its connection state. Create it
// with New, start it with Run, read it with Snapshot, State and Changed.
type Cluster struct {
	name    string
	opts    Options
	clients Clients
	// buildErr is a configuration error found by New; Run reports it as the cluster's state.
	buildErr error

	changed chan struct{}

	mu sync.Mutex
	// res holds the cached resources by name (see ResourceState.Name).
	res map[string]*cachedResource
	// nsFeed watches the namespaces once some resource is read namespace by namespace.
	nsFeed *feed
	// scopeKick wakes the scope loop (see scope.go).
	scopeKick chan struct{}
	// gitops holds, per GitOps CRD, the version being watched ("" before discovery or when
	// the cluster does not serve it).
	gitops      map[string]string
	discovered  bool
	started     bool
	unreachable bool
	reachErr    string
	// lagging: the last probe (or the one running) took longer than Options.SlowResponse.
	lagging      bool
	lagErr       string
	phase        Phase
	since        time.Time
	connectStart time.Time
	lastEvent    time.Time
	lastContact  time.Time
	// bcast is closed and replaced on every state change; WaitSettled waits on it.
	bcast chan struct{}
}

// New returns the Cluster named name that reads through cfg. cfg is copied; its QPS, burst,
// user agent and dialer are set from opts. A configuration that cannot become a client is not
// an error here: the cluster reports it as Unreachable with the error, like any cluster that
// cannot be reached, so one bad entry never stops the others.
func New(name string, cfg *rest.Config, opts Options) *Cluster {
	opts = opts.withDefaults()
	var clients Clients
	var err error
	if cfg == nil {
		err = fmt.Errorf("cluster %s: no client configuration", name)
	} else if clients, err = newClients(cfg, opts); err != nil {
		err = fmt.Errorf("cluster %s: %w", name, err)
	}
	c := NewForClients(name, clients, opts)
	c.buildErr = err
	return c
}

// NewForClients returns a Cluster that reads through the given clients (fakes in tests).
func NewForClients(name string, clients Clients, opts Options) *Cluster {
	opts = opts.withDefaults()
	return &Cluster{
		name:      name,
		opts:      opts,
		clients:   clients,
		changed:   make(chan struct{}, 1),
		res:       map[string]*cachedResource{},
		scopeKick: make(chan struct{}, 1),
		gitops:    map[string]string{},
		phase:     Connecting,
		since:     opts.Now(),
		bcast:     make(chan struct{}),
	}
}

// Name is the cluster's name.
func (c *Cluster) Name() string { return c.name }

// Changed receives a value after the cache or the state changed. Notifications coalesce (the
// channel holds at most one), so a slow reader sees one wake-up for many changes and the
// watches never wait on it.
func (c *Cluster) Changed() <-chan struct{} { return c.changed }

func (c *Cluster) notify() {
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

// Run watches the cluster until ctx ends. It owns every goroutine it starts and returns only
// after all of them ended and the cluster's connections are closed. A second call returns at
// once.
func (c *Cluster) Run(ctx context.Context) {
	c.mu.Lock()
	if c.started {
		c.mu.Unlock()
		return
	}
	c.started = true
	c.connectStart = c.opts.Now()
	if c.buildErr != nil {
		c.unreachable, c.reachErr = true, errText(c.buildErr)
	}
	c.mu.Unlock()
	if c.buildErr != nil {
		c.refresh()
		<-ctx.Done()
		return
	}
	defer func() {
		if c.clients.Close != nil {
			c.clients.Close()
		}
	}()

	// client-go logs every failed list; fleetdeck reports them through State instead.
	ctx = klog.NewContext(ctx, *c.opts.Logger)
	var wg sync.WaitGroup
	for _, k := range c.builtinKinds() {
		c.startKind(ctx, &wg, k)
	}
	for _, gvr := range c.opts.Extra {
		c.startKind(ctx, &wg, c.dynamicKind(resourceName(gvr), gvr, "", trimGeneric))
	}
	if c.clients.Discovery != nil {
		wg.Go(func() { c.discoverLoop(ctx, &wg) })
	} else {
		c.mu.Lock()
		c.discovered = true
		c.mu.Unlock()
	}
	if len(c.opts.Namespaces) == 0 {
		wg.Go(func() { c.scopeLoop(ctx, &wg) })
	}
	wg.Go(func() { c.monitor(ctx) })
	c.refresh()
	<-ctx.Done()
	wg.Wait()
}

// startKind starts reading k: cluster-wide, or in each namespace of Options.Namespaces. The
// caller holds a count on wg.
func (c *Cluster) startKind(ctx context.Context, wg *sync.WaitGroup, k *kind) {
	r := &cachedResource{kind: k, gr: schema.ParseGroupResource(k.name)}
	if len(c.opts.Namespaces) == 0 {
		r.wide = c.newFeed(k, r, "")
	} else {
		r.byNS = map[string]*feed{}
		for _, ns := range c.opts.Namespaces {
			r.byNS[ns] = c.newFeed(k, r, ns)
		}
	}
	c.mu.Lock()
	c.res[k.name] = r
	for _, f := range r.all() {
		f.start(ctx, wg)
	}
	c.mu.Unlock()
}

// stopKind stops the feeds of a resource (a CRD that went away) and forgets its objects.
func (c *Cluster) stopKind(name string) {
	c.mu.Lock()
	var feeds []*feed
	if r := c.res[name]; r != nil {
		feeds = r.all()
	}
	delete(c.res, name)
	c.mu.Unlock()
	for _, f := range feeds {
		f.stop()
	}
	c.notify()
}

// discoverLoop finds which GitOps CRDs the cluster serves and keeps the feeds in line with
// it: first as soon as the cluster answers, then every DiscoveryInterval.
func (c *Cluster) discoverLoop(ctx context.Context, wg *sync.WaitGroup) {
	retry := c.opts.ProbeInterval
	for {
		next := c.opts.DiscoveryInterval
		if err := c.discover(ctx, wg); err != nil {
			next = retry
		}
		t := time.NewTimer(next)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (c *Cluster) discover(ctx context.Context, wg *sync.WaitGroup) error {
	dctx, cancel := context.WithTimeout(ctx, c.opts.RequestTimeout)
	groups, err := serverGroups(dctx, c.clients.Discovery)
	cancel()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		c.observe(ctx, nil, err)
		return err
	}
	c.contact()
	served := map[string]map[string]bool{}
	for _, g := range groups.Groups {
		vs := map[string]bool{}
		for _, v := range g.Versions {
			vs[v.Version] = true
		}
		served[g.Name] = vs
	}
	for _, gk := range gitopsKinds {
		version := ""
		for _, v := range gk.versions {
			if served[gk.group][v] {
				version = v
				break
			}
		}
		c.mu.Lock()
		current, running := c.gitops[gk.name], c.res[gk.name] != nil
		c.gitops[gk.name] = version
		c.mu.Unlock()
		if running && current != version {
			c.stopKind(gk.name)
			running = false
		}
		if version != "" && !running {
			gvr := schema.GroupVersionResource{Group: gk.group, Version: version, Resource: gk.resource}
			c.startKind(ctx, wg, c.dynamicKind(gk.name, gvr, gk.kind, gk.trim))
		}
	}
	c.mu.Lock()
	c.discovered = true
	c.mu.Unlock()
	c.refresh()
	return nil
}

// monitor probes the API server and moves the phase along with time (Connecting → Slow).
func (c *Cluster) monitor(ctx context.Context) {
	slow := time.NewTimer(c.opts.SlowAfter)
	defer slow.Stop()
	tick := time.NewTicker(c.opts.ProbeInterval)
	defer tick.Stop()
	c.probe(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-slow.C:
			c.refresh()
		case <-tick.C:
			c.probe(ctx)
		}
	}
}

// probe asks the API server whether it is ready. A probe still waiting after SlowResponse
// marks the cluster Slow at once (a view must not look frozen while it waits for the timeout);
// the answer then decides: late but ready stays Slow, prompt clears it, none is Unreachable.
func (c *Cluster) probe(ctx context.Context) {
	if c.clients.Probe == nil {
		c.refresh()
		return
	}
	start := time.Now()
	pctx, cancel := context.WithTimeout(ctx, c.opts.ProbeTimeout)
	var late *time.Timer
	fired := make(chan struct{})
	if c.opts.SlowResponse < c.opts.ProbeTimeout {
		late = time.AfterFunc(c.opts.SlowResponse, func() {
			defer close(fired)
			c.setLagging(true, slowText(c.opts.SlowResponse))
		})
	}
	err := c.clients.Probe(pctx)
	took := time.Since(start)
	if late != nil && !late.Stop() {
		<-fired // the mark being set must not land after the answer below
	}
	cancel()
	if ctx.Err() != nil {
		return
	}
	if probeFailed(ctx, err) {
		// A probe that ran out of time means a server that answers late, if at all: the mark
		// stays, so lists that complete later leave the cluster slow, not synced, until a
		// probe is answered in time. A refused or cut connection is a server that is down.
		if late != nil && errors.Is(err, context.DeadlineExceeded) {
			c.setLagging(true, slowText(c.opts.SlowResponse))
		} else {
			c.setLagging(false, "")
		}
		c.setUnreachable(fmt.Errorf("probe /readyz: %w", err))
		return
	}
	if late != nil && took > c.opts.SlowResponse {
		c.setLagging(true, slowText(c.opts.SlowResponse))
	} else {
		c.setLagging(false, "")
	}
	c.contact()
}

// slowText says why a cluster is slow. It is the same while a probe waits and after a late
// answer, so a slow cluster's state does not change (and a report is not reprinted) with
// every probe.
func slowText(after time.Duration) string {
	return fmt.Sprintf("the API server answers slowly (/readyz takes over %s)", after)
}

// setLagging records whether the API server answers late, and why.
func (c *Cluster) setLagging(lagging bool, why string) {
	c.mu.Lock()
	changed := c.lagging != lagging || c.lagErr != why
	c.lagging, c.lagErr = lagging, why
	c.mu.Unlock()
	if changed {
		c.refresh()
	}
}

// observe records what a list, watch or discovery call said. f is nil for cluster-wide calls.
func (c *Cluster) observe(ctx context.Context, f *feed, err error) {
	class := classify(ctx, err)
	switch class {
	case errIgnore:
		if ctx.Err() == nil {
			c.contact()
		}
		return
	case errUnreachable:
		c.setUnreachable(err)
		return
	}
	now := c.opts.Now()
	c.mu.Lock()
	if f != nil {
		if class == errForbidden {
			c.fallBackLocked(f)
		}
		f.forbidden = class == errForbidden
		f.missing = class == errMissing
		f.err = errText(err)
		f.retryAt = time.Time{}
		if f.forbidden || f.missing {
			f.retryAt = now.Add(c.opts.ForbiddenRetry)
		}
	}
	c.reachableLocked(now)
	c.mu.Unlock()
	c.refresh()
	if class == errForbidden {
		c.kickScope()
	}
}

func (c *Cluster) setUnreachable(err error) {
	c.mu.Lock()
	c.unreachable = true
	c.reachErr = errText(err)
	c.mu.Unlock()
	c.refresh()
}

// contact records that the server answered.
func (c *Cluster) contact() {
	c.mu.Lock()
	wasDown := c.unreachable
	c.reachableLocked(c.opts.Now())
	c.mu.Unlock()
	if wasDown {
		c.refresh()
	}
}

func (c *Cluster) reachableLocked(now time.Time) {
	if c.unreachable {
		c.unreachable, c.reachErr = false, ""
		// A first list that waited for the server gets a fresh SlowAfter.
		c.connectStart = now
	}
	c.lastContact = now
}

// refresh recomputes the phase and wakes waiters and readers.
func (c *Cluster) refresh() {
	c.mu.Lock()
	st := c.stateLocked()
	if st.Phase != c.phase {
		c.phase, c.since = st.Phase, c.opts.Now()
	}
	close(c.bcast)
	c.bcast = make(chan struct{})
	c.mu.Unlock()
	c.notify()
}

// State returns the cluster's connection state now.
func (c *Cluster) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stateLocked()
}

func (c *Cluster) stateLocked() State {
	now := c.opts.Now()
	st := State{LastEvent: c.lastEvent, LastContact: c.lastContact}
	for _, name := range sortedKeys(c.res) {
		st.Resources = append(st.Resources, c.res[name].stateLocked(name))
	}
	for _, gk := range gitopsKinds {
		if c.res[gk.name] != nil {
			continue
		}
		// Not watched: unknown before discovery, missing after it.
		st.Resources = append(st.Resources, ResourceState{Name: gk.name, Missing: c.discovered})
	}
	sort.Slice(st.Resources, func(i, j int) bool { return st.Resources[i].Name < st.Resources[j].Name })
	for _, r := range st.Resources {
		if r.Forbidden {
			st.Forbidden = append(st.Forbidden, r.Name)
			if len(r.Namespaces) > 0 && len(r.ForbiddenNamespaces) > 0 {
				if st.ForbiddenIn == nil {
					st.ForbiddenIn = map[string][]string{}
				}
				st.ForbiddenIn[r.Name] = r.ForbiddenNamespaces
			}
		}
		if r.Missing {
			st.Missing = append(st.Missing, r.Name)
		}
		if st.Err == "" && r.Err != "" && !r.Missing && !r.Forbidden {
			st.Err = r.Name + ": " + r.Err
		}
	}
	if st.Err == "" {
		st.Err = forbiddenSummary(st.Resources)
	}
	complete := c.started && st.Complete()
	switch {
	case c.unreachable:
		st.Phase, st.Err = Unreachable, c.reachErr
	case !complete && c.started && now.Sub(c.connectStart) >= c.opts.SlowAfter:
		st.Phase = Slow
	case !complete:
		st.Phase = Connecting
	case c.lagging:
		// Complete but late: a slow cluster still serves its whole cache.
		st.Phase = Slow
		if st.Err == "" {
			st.Err = c.lagErr
		} else {
			st.Err = c.lagErr + "; " + st.Err
		}
	case len(st.Forbidden) > 0:
		st.Phase = Forbidden
	default:
		st.Phase = Synced
	}
	st.Since = c.since
	if st.Phase != c.phase {
		st.Since = now
	}
	return st
}

// WaitSettled blocks until the cluster is settled (see State.Settled) or ctx ends, and
// returns the state it saw last.
func (c *Cluster) WaitSettled(ctx context.Context) State {
	for {
		c.mu.Lock()
		st := c.stateLocked()
		ch := c.bcast
		c.mu.Unlock()
		if st.Settled() || ctx.Err() != nil {
			return st
		}
		select {
		case <-ch:
		case <-ctx.Done():
		}
	}
}

// serverGroups lists the API groups the cluster serves. The discovery interface has no
// context parameter, so a real client is asked directly: a dead server must not hold Run
// past its context.
func serverGroups(ctx context.Context, d discovery.DiscoveryInterface) (*metav1.APIGroupList, error) {
	rc, ok := d.RESTClient().(*rest.RESTClient)
	if !ok || rc == nil {
		return d.ServerGroups()
	}
	groups := &metav1.APIGroupList{}
	if err := rc.Get().AbsPath("/apis").Do(ctx).Into(groups); err != nil {
		return nil, fmt.Errorf("discover API groups: %w", err)
	}
	return groups, nil
}
