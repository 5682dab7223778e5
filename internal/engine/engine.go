package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fleetdeck/fleetdeck/config"
	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/kube"
	"github.com/fleetdeck/fleetdeck/kube/watch"
)

// Defaults of Options.
const (
	DefaultCoalesce = 200 * time.Millisecond
	DefaultRefresh  = 5 * time.Second
)

// Options tune an Engine. The zero value is usable.
type Options struct {
	// Getenv reads the environment (git tokens, cache directory); nil means os.Getenv.
	Getenv func(string) string
	// CacheDir holds the git clones; empty means repo.DefaultDir
	// ($XDG_CACHE_HOME/fleetdeck/git).
	CacheDir string
	// Watch are the options of every cluster's watch. New adds to CandidateNamespaces, per
	// cluster, the namespaces the config and the kubeconfig context name for it.
	Watch watch.Options
	// GitFacts builds the git side. Nil means no git facts: the model then has no revisions,
	// no declared images and no computed sync for declared apps, and no repository is cloned.
	GitFacts NewGitFacts
	// Coalesce is the least time between two models sent to subscribers. Default 200ms.
	Coalesce time.Duration
	// Refresh rebuilds the subscribers' model at least this often even when nothing changed,
	// so that ages and a cluster turning slow show. Default 5s.
	Refresh time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Coalesce <= 0 {
		o.Coalesce = DefaultCoalesce
	}
	if o.Refresh <= 0 {
		o.Refresh = DefaultRefresh
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// slot is one configured cluster: either watched, or broken before it could be (its kubeconfig
// context cannot become a client), in which case it stays in the model as unreachable.
type slot struct {
	name    string
	cluster *watch.Cluster
	broken  error
}

// Engine is the live model of the fleet. Create it with New, start it with Run, read it with
// Snapshot or Subscribe. Its methods are safe for concurrent use.
type Engine struct {
	cfg      *config.Config
	opts     Options
	slots    []slot
	fleet    *watch.Fleet
	aliases  map[string]string
	declared []fleet.DeclaredApp
	filter   discoveryFilter
	git      *gitSide

	started atomic.Bool
	running chan struct{} // closed when Run starts
	done    chan struct{} // closed when Run has returned

	subMu    sync.Mutex
	subs     map[*subscriber]struct{}
	closed   bool
	subAdded chan struct{}
}

// New prepares an engine for cfg, as config.Load returned it. It contacts nothing: a cluster
// whose kubeconfig context cannot become a client is kept and reported unreachable with the
// reason, so that one bad entry never hides the others.
func New(cfg *config.Config, opts Options) (*Engine, error) {
	if cfg == nil {
		return nil, errors.New("engine: no configuration")
	}
	opts = opts.withDefaults()
	var slots []slot
	hosts := map[string]string{}
	for _, c := range cfg.Clusters {
		rc, err := kube.RESTConfig(c)
		if err != nil {
			slots = append(slots, slot{name: c.Name, broken: err})
			continue
		}
		hosts[c.Name] = rc.Host
		slots = append(slots, slot{name: c.Name, cluster: watch.New(c.Name, rc, watchOptions(opts.Watch, cfg, c))})
	}
	return newEngine(cfg, opts, slots, hosts), nil
}

// newEngine assembles an engine over prepared clusters (tests pass fakes).
func newEngine(cfg *config.Config, opts Options, slots []slot, hosts map[string]string) *Engine {
	opts = opts.withDefaults()
	var watched []*watch.Cluster
	for _, s := range slots {
		if s.cluster != nil {
			watched = append(watched, s.cluster)
		}
	}
	return &Engine{
		cfg:      cfg,
		opts:     opts,
		slots:    slots,
		fleet:    watch.NewFleet(watched...),
		aliases:  clusterAliases(cfg, hosts),
		declared: declaredApps(cfg),
		filter:   newDiscoveryFilter(cfg.Discovery),
		git:      newGitSide(cfg, opts),
		running:  make(chan struct{}),
		done:     make(chan struct{}),
		subs:     map[*subscriber]struct{}{},
		subAdded: make(chan struct{}, 1),
	}
}

// Run watches every cluster and keeps every repository fetched until ctx ends. It owns every
// goroutine it starts and returns after all of them ended, the clones are closed and every
// subscription channel is closed. It may be called once.
func (e *Engine) Run(ctx context.Context) error {
	if !e.started.CompareAndSwap(false, true) {
		return errors.New("engine: Run called twice")
	}
	defer close(e.done)
	close(e.running)
	var wg sync.WaitGroup
	wg.Go(func() { e.fleet.Run(ctx) })
	wg.Go(func() { e.git.run(ctx) })
	wg.Go(func() { e.git.renderLoop(ctx) })
	e.loop(ctx)
	wg.Wait()
	e.closeSubscriptions()
	return nil
}

// Repositories reports the state of every configured repository's clone.
func (e *Engine) Repositories() []RepoStatus { return e.git.status() }

// Snapshot returns a complete model for a one-shot verb. It waits, for at most timeout, until
// every cluster has listed everything it may read (or is known to be unreachable) and the
// repositories are open, then builds the model. A cluster that has not finished by then is
// reported unreachable, with what it was still listing: the call never waits longer for one
// cluster however it hangs. Run must be running (or start within timeout). The error is
// non-nil only when ctx ends or Run never started.
func (e *Engine) Snapshot(ctx context.Context, timeout time.Duration) (fleet.Model, error) {
	fs, err := e.Inputs(ctx, timeout)
	if err != nil {
		return fleet.Model{}, err
	}
	return fleet.Build(fs), nil
}

// Inputs is Snapshot before fleet.Build: what the clusters and git said, as one
// fleet.Snapshot, with the same waiting and the same guarantees. It serves tools that judge the
// same inputs in another way, such as fleet.AsDeclared.
func (e *Engine) Inputs(ctx context.Context, timeout time.Duration) (fleet.Snapshot, error) {
	if timeout <= 0 {
		timeout = config.DefaultTimeout
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	select {
	case <-e.running:
	case <-ctx.Done():
		if err := context.Cause(ctx); errors.Is(err, context.DeadlineExceeded) {
			return fleet.Snapshot{}, fmt.Errorf("engine: not running after %s", timeout)
		}
		return fleet.Snapshot{}, ctx.Err()
	}
	// Keep part of the budget for rendering and building, so the answer arrives in time.
	wait := timeout - min(timeout/5, time.Second) - time.Since(start)
	var wg sync.WaitGroup
	wg.Go(func() { e.fleet.WaitSynced(ctx, wait) })
	wg.Go(func() {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-e.git.ready:
		case <-ctx.Done():
		case <-t.C:
		}
	})
	wg.Wait()
	if err := ctx.Err(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fleet.Snapshot{}, err
	}
	// Rendering gets what is left of the budget, but at least a moment: a model without git
	// facts because the clusters took all the time would misreport every revision.
	gctx, gcancel := context.WithTimeout(context.WithoutCancel(ctx), max(timeout-time.Since(start), 500*time.Millisecond))
	defer gcancel()
	return e.inputs(gctx, timeout), nil
}

// build assembles the fleet snapshot and builds the model.
func (e *Engine) build(ctx context.Context, deadline time.Duration) fleet.Model {
	return fleet.Build(e.inputs(ctx, deadline))
}

// inputs assembles the fleet snapshot. A positive deadline is a one-shot: clusters that are not
// settled are marked unreachable, and the git facts are waited for (within ctx). Zero is the
// live model: clusters show as they are, and the last git facts are used while new ones render
// elsewhere, so that a slow render never holds up live updates.
func (e *Engine) inputs(ctx context.Context, deadline time.Duration) fleet.Snapshot {
	now := e.opts.Now()
	fs := fleet.Snapshot{Now: now, ClusterAliases: e.aliases, Declared: e.declared}
	for _, s := range e.slots {
		var cs watch.ClusterSnapshot
		if s.cluster == nil {
			cs = watch.ClusterSnapshot{Cluster: s.name, State: watch.State{Phase: watch.Unreachable, Err: s.broken.Error()}}
		} else {
			cs = s.cluster.Snapshot()
		}
		if deadline > 0 && !cs.State.Settled() {
			cs.State = timedOut(cs.State, deadline)
		}
		e.filter.apply(&cs)
		cs.AddTo(&fs)
	}
	if deadline > 0 {
		fs.Git, _ = e.git.factsFor(ctx, fleet.InstanceSources(fs))
	} else {
		fs.Git = e.git.latest(fleet.InstanceSources(fs))
	}
	return fs
}

// timedOut marks a cluster that did not finish listing in time as unreachable, saying what it
// was still listing.
func timedOut(st watch.State, after time.Duration) watch.State {
	var pending []string
	for _, r := range st.Resources {
		if !r.Synced && !r.Forbidden && !r.Missing {
			pending = append(pending, r.Name)
		}
	}
	msg := fmt.Sprintf("no complete answer within %s", after)
	switch {
	case len(pending) > 3:
		msg += fmt.Sprintf(" (still listing %s and %d more)", strings.Join(pending[:3], ", "), len(pending)-3)
	case len(pending) > 0:
		msg += " (still listing " + strings.Join(pending, ", ") + ")"
	case len(st.Resources) == 0:
		msg += " (API discovery did not finish)"
	}
	if st.Err != "" {
		msg += ": " + st.Err
	}
	st.Phase, st.Err = watch.Unreachable, msg
	return st
}
