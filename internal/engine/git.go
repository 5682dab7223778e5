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
// changed, one call at a time, and ends it through ctx (a deadline for one-shot snapshots,
// shutdown for the live model, whose updates never wait for it). A source it cannot answer
// is left out of the map, or answered with RenderError set.
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
// caches the last facts so that a model rebuilt for a pod event does not render again. The
// live model reads the cache without waiting (latest) and has renders run on renderLoop's
// goroutine; one-shot snapshots wait for theirs (factsFor).
type gitSide struct {
	cfg     *config.Config
	opts    Options
	changed chan struct{} // coalescing: a head moved or a repository became available

	// want holds the newest sources the live model needs facts for (latest replaces what
	// renderLoop has not taken yet); rendered says, coalesced, that new facts are cached.
	want     chan []fleet.InstanceSource
	rendered chan struct{}

	mu      sync.Mutex
	repos   map[string]*repo.Repo
	openErr map[string]error
	facts   GitFacts
	gen     uint64 // bumped whenever a head moved or the repository set changed

	// ready is closed once every repository had its first open attempt.
	ready chan struct{}

	factsSem chan struct{} // one Facts call at a time; a channel, so that waiting heeds ctx

	cacheMu   sync.Mutex // guards the last complete answer, never held during a render
	cacheKey  string
	cacheGen  uint64
	cacheVal  map[fleet.GitKey]fleet.GitFacts
	cacheFull bool
}

func newGitSide(cfg *config.Config, opts Options) *gitSide {
	return &gitSide{
		cfg: cfg, opts: opts,
		changed:  make(chan struct{}, 1),
		want:     make(chan []fleet.InstanceSource, 1),
		factsSem: make(chan struct{}, 1),
		rendered: make(chan struct{}, 1),
		repos:    map[string]*repo.Repo{},
		openErr:  map[string]error{},
		ready:    make(chan struct{}),
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

// sourcesKey identifies a list of sources for the cache.
func sourcesKey(sources []fleet.InstanceSource) string { return fmt.Sprintf("%#v", sources) }

// current returns the git side and the generation of the heads.
func (g *gitSide) current() (GitFacts, uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.facts, g.gen
}

// cached returns the last complete answer when it is for key at gen.
func (g *gitSide) cached(key string, gen uint64) (map[fleet.GitKey]fleet.GitFacts, bool) {
	g.cacheMu.Lock()
	defer g.cacheMu.Unlock()
	if g.cacheFull && g.cacheKey == key && g.cacheGen == gen {
		return g.cacheVal, true
	}
	return nil, false
}

// factsFor answers the git facts of sources, from the cache when neither the sources nor any
// head changed since the last complete answer, else by asking the git side and waiting for
// it (within ctx). When ctx ends while another call holds the git side, the last complete
// answer, whatever it was for, is the best there is. rendered reports that the git side was
// asked and its answer kept.
func (g *gitSide) factsFor(ctx context.Context, sources []fleet.InstanceSource) (val map[fleet.GitKey]fleet.GitFacts, rendered bool) {
	facts, gen := g.current()
	if facts == nil {
		return nil, false
	}
	key := sourcesKey(sources)
	if val, ok := g.cached(key, gen); ok {
		return val, false
	}
	select {
	case g.factsSem <- struct{}{}:
	case <-ctx.Done():
		g.cacheMu.Lock()
		defer g.cacheMu.Unlock()
		return g.cacheVal, false
	}
	defer func() { <-g.factsSem }()
	// Another caller may have answered the same question while this one waited.
	if val, ok := g.cached(key, gen); ok {
		return val, false
	}
	val = facts.Facts(ctx, sources)
	// An answer cut short by the deadline is used once but not kept.
	if ctx.Err() != nil {
		return val, false
	}
	g.cacheMu.Lock()
	g.cacheKey, g.cacheGen, g.cacheVal, g.cacheFull = key, gen, val, true
	g.cacheMu.Unlock()
	return val, true
}

// latest returns at once the last complete facts, for whatever sources and heads they were
// read; when those differ from sources or the current heads, it asks renderLoop for new ones,
// after which rendered is signalled. Instances that the last facts do not cover show without
// git facts until then.
func (g *gitSide) latest(sources []fleet.InstanceSource) map[fleet.GitKey]fleet.GitFacts {
	facts, gen := g.current()
	if facts == nil {
		return nil
	}
	key := sourcesKey(sources)
	g.cacheMu.Lock()
	val, fresh := g.cacheVal, g.cacheFull && g.cacheKey == key && g.cacheGen == gen
	g.cacheMu.Unlock()
	if !fresh {
		// Only the update loop sends, so emptying the buffer first makes room for the newest.
		select {
		case <-g.want:
		default:
		}
		select {
		case g.want <- sources:
		default:
		}
	}
	return val
}

// renderLoop answers latest's requests, newest first, one at a time, until ctx ends.
func (g *gitSide) renderLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case sources := <-g.want:
			if _, rendered := g.factsFor(ctx, sources); rendered {
				select {
				case g.rendered <- struct{}{}:
				default:
				}
			}
		}
	}
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
