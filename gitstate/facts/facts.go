// Package facts reads, for every application instance whose source lies in a
// cloned repository, the git facts of the fleet model (fleet.GitFacts): the
// branch head, the path's history and the workloads rendered from it.
//
// A Reader is made once over the open clones and asked again after every
// fetch. Renders are cached by commit, path and render options, so a refresh
// with an unchanged head renders nothing; renders run in parallel, bounded.
// One application that fails to render (or whose revision is not fetched)
// gets a RenderError and never keeps the others from their facts.
package facts

import (
	"cmp"
	"context"
	"fmt"
	"io/fs"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/fleetdeck/fleetdeck/config"
	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/gitstate/render"
	"github.com/fleetdeck/fleetdeck/gitstate/repo"
	"github.com/fleetdeck/fleetdeck/gitstate/treefs"
)

// Defaults of Options.
const (
	DefaultPathCommits  = 20
	DefaultHistory      = 100
	DefaultDesiredAt    = 5
	DefaultCacheEntries = 1024
)

// Options bound what a Reader reads and keeps. The zero value takes the defaults.
type Options struct {
	// PathCommits bounds GitFacts.PathCommits (default DefaultPathCommits).
	PathCommits int
	// History bounds GitFacts.History (default DefaultHistory).
	History int
	// DesiredAt is how many of the newest PathCommits of a declared
	// application are rendered into GitFacts.DesiredAt (default
	// DefaultDesiredAt; negative: none).
	DesiredAt int
	// Parallel bounds the renders running at once (default GOMAXPROCS).
	Parallel int
	// CacheEntries bounds the renders kept (default DefaultCacheEntries).
	CacheEntries int
}

func (o Options) withDefaults() Options {
	if o.PathCommits <= 0 {
		o.PathCommits = DefaultPathCommits
	}
	if o.History <= 0 {
		o.History = DefaultHistory
	}
	if o.DesiredAt == 0 {
		o.DesiredAt = DefaultDesiredAt
	}
	o.DesiredAt = min(max(o.DesiredAt, 0), o.PathCommits)
	if o.Parallel <= 0 {
		o.Parallel = runtime.GOMAXPROCS(0)
	}
	if o.CacheEntries <= 0 {
		o.CacheEntries = DefaultCacheEntries
	}
	return o
}

// Stats counts the work a Reader did since it was made.
type Stats struct {
	// Renders counts renders run; RenderHits renders answered from the cache.
	Renders, RenderHits int64
}

// Reader produces git facts from open clones. It is safe for concurrent use.
type Reader struct {
	cfg   *config.Config
	repos map[string]*repo.Repo
	opts  Options

	renders, hits atomic.Int64

	mu      sync.Mutex // guards everything below
	seq     uint64     // number of the current Read, for eviction
	cache   map[renderKey]*renderEntry
	history map[historyKey]*historyEntry
}

// New makes a Reader over repos, the open clones keyed by configured
// repository name. cfg gives the repositories' URLs, to match the sources of
// Argo CD and Flux objects, and the declared applications.
func New(cfg *config.Config, repos map[string]*repo.Repo, opts Options) *Reader {
	return &Reader{
		cfg: cfg, repos: repos, opts: opts.withDefaults(),
		cache: map[renderKey]*renderEntry{}, history: map[historyKey]*historyEntry{},
	}
}

// Stats reports the renders run and cache hits so far.
func (r *Reader) Stats() Stats {
	return Stats{Renders: r.renders.Load(), RenderHits: r.hits.Load()}
}

// Facts returns the git facts of every instance in srcs (fleet.InstanceSources
// of the snapshot) whose source is in a configured repository; see Request
// for how a source is read. Instances left out have no git source fleetdeck
// can read. When ctx ends, renders not started are skipped and their
// instances left out; renders already running finish first.
//
// The facts share slices with the Reader's cache: treat them as read-only.
func (r *Reader) Facts(ctx context.Context, srcs []fleet.InstanceSource) map[fleet.GitKey]fleet.GitFacts {
	reqs := make([]Request, 0, len(srcs))
	for _, s := range srcs {
		if q, ok := r.Request(s); ok {
			reqs = append(reqs, q)
		}
	}
	return r.Read(ctx, reqs)
}

// renderKey names one render: everything its output depends on.
type renderKey struct {
	repo                   string
	commit                 plumbing.Hash
	kind                   render.Kind
	path, values           string
	releaseName, namespace string
	forceNamespace         bool
}

type renderEntry struct {
	key  renderKey
	done chan struct{} // closed when the fields below are set
	objs []fleet.DesiredObject
	err  string
	// keep is false for results that say nothing about the commit (a broken
	// clone, a cancelled context): they are dropped from the cache.
	keep     bool
	canceled bool
	used     uint64
}

type historyKey struct {
	repo  string
	from  plumbing.Hash
	paths string // "" for the first-parent history
}

type historyEntry struct {
	commits []string
	used    uint64
}

// plan is one request between planning and assembly.
type plan struct {
	req   Request
	facts fleet.GitFacts
	head  *renderEntry
	at    []*renderEntry
}

// Read returns the git facts for reqs, keyed by Request.Key. Requests naming
// a repository that is not open, or a revision that is not fetched, get facts
// whose RenderError says so.
func (r *Reader) Read(ctx context.Context, reqs []Request) map[fleet.GitKey]fleet.GitFacts {
	r.mu.Lock()
	r.seq++
	seq := r.seq
	r.mu.Unlock()

	var jobs []*renderEntry
	plans := make([]plan, 0, len(reqs))
	for _, q := range reqs {
		p := plan{req: q}
		rp := r.repos[q.Repo]
		if rp == nil {
			p.facts = fleet.GitFacts{Path: q.Path, RenderError: fmt.Sprintf("repository %q is not cloned", q.Repo)}
			plans = append(plans, p)
			continue
		}
		p.facts = fleet.GitFacts{Repo: rp.Status().URL, Branch: rp.Branch(), Path: q.Path}
		commit, branch, err := resolve(rp, q.Revision)
		if err != nil {
			p.facts.RenderError = err.Error()
			plans = append(plans, p)
			continue
		}
		p.facts.Branch, p.facts.Head = branch, commit.String()
		if p.facts.PathCommits, err = r.commits(rp, commit, historyPaths(q), r.opts.PathCommits, seq); err == nil {
			p.facts.History, err = r.commits(rp, commit, nil, r.opts.History, seq)
		}
		if err != nil {
			p.facts.RenderError = err.Error()
			plans = append(plans, p)
			continue
		}
		if len(p.facts.PathCommits) > 0 {
			p.facts.LastCommit = p.facts.PathCommits[0]
		}
		var isNew bool
		if p.head, isNew = r.entry(q, commit, seq); isNew {
			jobs = append(jobs, p.head)
		}
		if q.Declared {
			for _, c := range p.facts.PathCommits[:min(r.opts.DesiredAt, len(p.facts.PathCommits))] {
				e, isNew := r.entry(q, plumbing.NewHash(c), seq)
				if isNew {
					jobs = append(jobs, e)
				}
				p.at = append(p.at, e)
			}
		}
		plans = append(plans, p)
	}

	r.run(ctx, jobs)

	out := make(map[fleet.GitKey]fleet.GitFacts, len(plans))
	for _, p := range plans {
		f := p.facts
		if p.head != nil {
			e := r.await(ctx, p.head, seq)
			if e.canceled {
				continue
			}
			f.Desired, f.RenderError = e.objs, e.err
		}
		for _, e := range p.at {
			e = r.await(ctx, e, seq)
			if e.err == "" && !e.canceled {
				if f.DesiredAt == nil {
					f.DesiredAt = make(map[string][]fleet.DesiredObject, len(p.at))
				}
				f.DesiredAt[e.key.commit.String()] = e.objs
			}
		}
		out[p.req.Key] = f
	}
	r.evict(seq)
	return out
}

// resolve finds the commit to read for a revision: the tracked branch's head
// for "", "HEAD" or the branch; else a commit (a pinned sha) if the clone
// has it. Clones hold one branch, so other branches and tags are not there.
func resolve(rp *repo.Repo, rev string) (plumbing.Hash, string, error) {
	branch := rp.Branch()
	switch rev {
	case "", "HEAD", branch, "refs/heads/" + branch:
		h := rp.Head()
		if h.IsZero() {
			return h, branch, fmt.Errorf("repository %s: branch %s not fetched yet", rp.Name(), branch)
		}
		return h, branch, nil
	}
	if len(rev) >= 4 && len(rev) <= 40 && strings.Trim(strings.ToLower(rev), "0123456789abcdef") == "" {
		if h, err := rp.ResolveRevision(rev); err == nil {
			return h, rev, nil
		}
	}
	return plumbing.ZeroHash, branch, fmt.Errorf("revision %q is not fetched: fleetdeck tracks branch %s of repository %s", rev, branch, rp.Name())
}

// historyPaths are the paths whose commits change what a request renders:
// its directory, and values files kept outside it.
func historyPaths(q Request) []string {
	paths := []string{q.Path}
	for _, vf := range q.ValuesFiles {
		p := path.Join(q.Path, vf)
		if p != q.Path && !strings.HasPrefix(p, q.Path+"/") && q.Path != "." && fs.ValidPath(p) {
			paths = append(paths, p)
		}
	}
	return paths
}

// commits is PathCommitHashes (paths non-nil) or FirstParents, cached by start
// commit: history below a commit never changes.
func (r *Reader) commits(rp *repo.Repo, from plumbing.Hash, paths []string, limit int, seq uint64) ([]string, error) {
	k := historyKey{repo: rp.Name(), from: from}
	if paths != nil {
		k.paths = "\x00" + strings.Join(paths, "\x00")
	}
	r.mu.Lock()
	if e, ok := r.history[k]; ok {
		e.used = seq
		r.mu.Unlock()
		return e.commits, nil
	}
	r.mu.Unlock()
	var hs []plumbing.Hash
	var err error
	if paths != nil {
		hs, err = rp.PathCommitHashes(from, paths, limit)
	} else {
		hs, err = rp.FirstParents(from, limit)
	}
	if err != nil {
		return nil, err
	}
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.String()
	}
	r.mu.Lock()
	r.history[k] = &historyEntry{commits: out, used: seq}
	r.mu.Unlock()
	return out, nil
}

// entry returns the cache entry of a render, creating it (isNew: the caller
// runs it) when absent.
func (r *Reader) entry(q Request, commit plumbing.Hash, seq uint64) (e *renderEntry, isNew bool) {
	return r.entryByKey(renderKey{repo: q.Repo, commit: commit, kind: q.Kind, path: q.Path,
		values: strings.Join(q.ValuesFiles, "\x00"), releaseName: q.ReleaseName, namespace: q.Namespace,
		forceNamespace: q.ForceNamespace && q.Namespace != ""}, seq)
}

func (r *Reader) entryByKey(k renderKey, seq uint64) (e *renderEntry, isNew bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.cache[k]; ok {
		e.used = seq
		r.hits.Add(1)
		return e, false
	}
	e = &renderEntry{key: k, done: make(chan struct{}), used: seq}
	r.cache[k] = e
	return e, true
}

// await waits for e, which a concurrent Read may be rendering. When that
// Read was cancelled but ctx is not, the render runs again here.
func (r *Reader) await(ctx context.Context, e *renderEntry, seq uint64) *renderEntry {
	for {
		<-e.done
		if !e.canceled || ctx.Err() != nil {
			return e
		}
		next, isNew := r.entryByKey(e.key, seq)
		if isNew {
			r.run(ctx, []*renderEntry{next})
		}
		e = next
	}
}

// run renders jobs, at most opts.Parallel at once, and returns when all are done.
func (r *Reader) run(ctx context.Context, jobs []*renderEntry) {
	sem := make(chan struct{}, r.opts.Parallel)
	var wg sync.WaitGroup
	for _, e := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			r.render(ctx, e)
			// Dropped before done closes, so no waiter finds it again.
			if !e.keep {
				r.mu.Lock()
				if r.cache[e.key] == e {
					delete(r.cache, e.key)
				}
				r.mu.Unlock()
			}
			close(e.done)
		}()
	}
	wg.Wait()
}

// render fills e from the tree of its commit.
func (r *Reader) render(ctx context.Context, e *renderEntry) {
	k := e.key
	short := k.commit.String()[:8]
	defer func() {
		// A chart can drive the template engine into a panic; it must cost
		// only this application's facts.
		if p := recover(); p != nil {
			e.objs, e.err, e.keep = nil, fmt.Sprintf("%s at %s: render panicked: %v", k.path, short, p), true
		}
	}()
	if ctx.Err() != nil {
		e.canceled = true
		return
	}
	rp := r.repos[k.repo]
	r.renders.Add(1)
	var tree *object.Tree
	err := rp.Do(func(g *git.Repository) error {
		c, err := g.CommitObject(k.commit)
		if err != nil {
			return fmt.Errorf("commit %s: %w", short, err)
		}
		tree, err = c.Tree()
		if err != nil {
			return fmt.Errorf("tree of commit %s: %w", short, err)
		}
		return nil
	})
	if err != nil {
		e.err = fmt.Sprintf("repository %s: %v", k.repo, err)
		return
	}
	var storageErr error
	fsys := lockedFS{fsys: treefs.New(tree), storageErr: &storageErr, lock: func(fn func() error) error {
		ran := false
		err := rp.Do(func(*git.Repository) error { ran = true; return fn() })
		if !ran {
			return fmt.Errorf("%w: %v", errRepoClosed, err)
		}
		return err
	}}
	kind := k.kind
	if kind == "" {
		kind = detectKind(fsys, k.path)
	}
	var values []string
	if k.values != "" {
		values = strings.Split(k.values, "\x00")
	}
	objs, err := render.Render(fsys, render.Source{Kind: kind, Path: k.path, ValuesFiles: values,
		ReleaseName: k.releaseName, Namespace: k.namespace})
	var desired []fleet.DesiredObject
	if err == nil {
		desired, err = desiredObjects(objs)
	}
	if err != nil {
		e.err = fmt.Sprintf("%v (at %s)", err, short)
		e.keep = storageErr == nil
		return
	}
	if k.forceNamespace {
		// Workloads are all namespaced: each one lands in the target namespace.
		for i := range desired {
			desired[i].Namespace = k.namespace
		}
	}
	e.objs, e.keep = desired, true
}

// detectKind tells how a directory renders, as Argo CD decides for a source
// with no explicit type.
func detectKind(fsys fs.FS, dir string) render.Kind {
	exists := func(name string) bool {
		_, err := fs.Stat(fsys, path.Join(dir, name))
		return err == nil
	}
	switch {
	case exists("Chart.yaml"):
		return render.Helm
	case exists("kustomization.yaml"), exists("kustomization.yml"), exists("Kustomization"):
		return render.Kustomize
	}
	return render.YAML
}

// evict bounds the caches: renders least recently used beyond CacheEntries,
// and histories not used by this Read or the one before.
func (r *Reader) evict(seq uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, e := range r.history {
		if e.used+1 < seq {
			delete(r.history, k)
		}
	}
	if len(r.cache) <= r.opts.CacheEntries {
		return
	}
	done := make([]*renderEntry, 0, len(r.cache))
	for _, e := range r.cache {
		select {
		case <-e.done:
			done = append(done, e)
		default: // still rendering for a concurrent Read
		}
	}
	slices.SortFunc(done, func(a, b *renderEntry) int { return cmp.Compare(a.used, b.used) })
	for _, e := range done[:max(0, min(len(done), len(r.cache)-r.opts.CacheEntries))] {
		delete(r.cache, e.key)
	}
}
