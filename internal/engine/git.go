package engine

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/fleetdeck/fleetdeck/config"
	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/gitstate/facts"
	"github.com/fleetdeck/fleetdeck/gitstate/repo"
)

// GitFacts reads what git says about instances: the head of the tracked branch, the commits
// touching each path and the rendered workloads. Implementations may be slow (rendering Helm
// charts); the engine calls Facts only when the instance sources or a repository's head
// changed, one call at a time, and gives it a deadline through ctx. A source it cannot
// answer is left out of the map, or answered with RenderError set.
type GitFacts interface {
	Facts(ctx context.Context, sources []fleet.InstanceSource) map[fleet.GitKey]fleet.GitFacts
}

// NewGitFacts builds the git side over the open repositories, keyed by configured repository
// name. The engine calls it again whenever a repository that could not be opened before
// becomes available.
type NewGitFacts func(cfg *config.Config, repos map[string]*repo.Repo) GitFacts

// GitstateFacts is fleetdeck's git side: gitstate/facts over the open clones, with its default
// bounds. Pass it as Options.GitFacts.
func GitstateFacts(cfg *config.Config, repos map[string]*repo.Repo) GitFacts {
	return facts.New(cfg, repos, facts.Options{})
}

// RepoStatus is the state of one configured repository's clone.
type RepoStatus struct {
	Name string
	// Open is true once the clone can be read.
	Open bool
	// Status is the clone's own status (zero until Open).
	Status repo.Status
	// Err is why the clone cannot be opened or fetched, nil when all is well.
	Err error
}

// gitSide owns the repositories: it opens (clones) each one, fetches it periodically, and
// caches the last facts so that a model rebuilt for a pod event does not render again.
type gitSide struct {
	cfg     *config.Config
	opts    Options
	changed chan struct{} // coalescing: a head moved or a repository became available

	mu      sync.Mutex
	repos   map[string]*repo.Repo
	openErr map[string]error
	facts   GitFacts
	gen     uint64 // bumped whenever a head moved or the repository set changed

	// ready is closed once every repository had its first open attempt.
	ready chan struct{}

	factsMu   sync.Mutex // one Facts call at a time; guards the cache
	cacheKey  string
	cacheGen  uint64
	cacheVal  map[fleet.GitKey]fleet.GitFacts
	cacheFull bool
}

func newGitSide(cfg *config.Config, opts Options) *gitSide {
	return &gitSide{
		cfg: cfg, opts: opts,
		changed: make(chan struct{}, 1),
		repos:   map[string]*repo.Repo{},
		openErr: map[string]error{},
		ready:   make(chan struct{}),
	}
}

func (g *gitSide) notify() {
	select {
	case g.changed <- struct{}{}:
	default:
	}
}

// run opens every repository and keeps it fetched until ctx ends, then closes the clones.
func (g *gitSide) run(ctx context.Context) {
	defer g.closeRepos()
	if len(g.cfg.Repositories) == 0 || g.opts.GitFacts == nil {
		close(g.ready)
		<-ctx.Done()
		return
	}
	dir := g.opts.CacheDir
	if dir == "" {
		d, err := repo.DefaultDir(g.opts.Getenv)
		if err != nil {
			g.mu.Lock()
			for _, r := range g.cfg.Repositories {
				g.openErr[r.Name] = err
			}
			g.mu.Unlock()
			close(g.ready)
			<-ctx.Done()
			return
		}
		dir = d
	}
	var wg sync.WaitGroup
	var first sync.WaitGroup
	for _, rc := range g.cfg.Repositories {
		first.Add(1)
		wg.Go(func() { g.runRepo(ctx, rc, dir, first.Done) })
	}
	wg.Go(func() {
		first.Wait()
		close(g.ready)
	})
	wg.Wait()
}

// runRepo opens one repository, retrying every fetch interval while it cannot, then fetches
// it every interval. firstDone is called after the first open attempt.
func (g *gitSide) runRepo(ctx context.Context, rc config.Repository, dir string, firstDone func()) {
	interval := rc.FetchInterval
	if interval <= 0 {
		interval = config.DefaultFetchInterval
	}
	var r *repo.Repo
	for attempt := 0; ; attempt++ {
		var err error
		r, err = repo.Open(ctx, rc, dir, g.opts.Getenv)
		g.mu.Lock()
		if r != nil {
			g.repos[rc.Name] = r
			g.gen++
			g.facts = g.opts.GitFacts(g.cfg, g.openRepos())
		}
		if err != nil {
			g.openErr[rc.Name] = err
		} else {
			delete(g.openErr, rc.Name)
		}
		g.mu.Unlock()
		if attempt == 0 {
			firstDone()
		}
		if r != nil {
			g.notify()
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() { r.Run(ctx, interval) })
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-r.Changed():
			g.mu.Lock()
			g.gen++
			delete(g.openErr, rc.Name)
			g.mu.Unlock()
			g.notify()
		}
	}
}

// openRepos copies the repository map; the caller holds g.mu.
func (g *gitSide) openRepos() map[string]*repo.Repo {
	out := make(map[string]*repo.Repo, len(g.repos))
	for k, v := range g.repos {
		out[k] = v
	}
	return out
}

func (g *gitSide) closeRepos() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for name, r := range g.repos {
		_ = r.Close()
		delete(g.repos, name)
	}
	g.facts = nil
}

// factsFor answers the git facts of sources, from the cache when neither the sources nor any
// head changed since the last complete answer.
func (g *gitSide) factsFor(ctx context.Context, sources []fleet.InstanceSource) map[fleet.GitKey]fleet.GitFacts {
	g.mu.Lock()
	facts, gen := g.facts, g.gen
	g.mu.Unlock()
	if facts == nil {
		return nil
	}
	key := fmt.Sprintf("%q", sources)
	g.factsMu.Lock()
	defer g.factsMu.Unlock()
	if g.cacheFull && g.cacheKey == key && g.cacheGen == gen {
		return g.cacheVal
	}
	val := facts.Facts(ctx, sources)
	// An answer cut short by the deadline is used once but not kept.
	if ctx.Err() == nil {
		g.cacheKey, g.cacheGen, g.cacheVal, g.cacheFull = key, gen, val, true
	}
	return val
}

// status reports every configured repository.
func (g *gitSide) status() []RepoStatus {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]RepoStatus, 0, len(g.cfg.Repositories))
	for _, rc := range g.cfg.Repositories {
		rs := RepoStatus{Name: rc.Name, Err: g.openErr[rc.Name]}
		if r, ok := g.repos[rc.Name]; ok {
			rs.Open = true
			rs.Status = r.Status()
			if rs.Err == nil {
				rs.Err = rs.Status.Err
			}
		}
		out = append(out, rs)
	}
	return out
}
