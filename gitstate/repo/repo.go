// Package repo keeps a local clone of each configured git repository in
// fleetdeck's cache directory, fetches it on start and periodically, and
// answers history questions (which commits touched a path) without the git CLI.
package repo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	commitgraph "github.com/go-git/go-git/v5/plumbing/format/commitgraph/v2"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"github.com/fleetdeck/fleetdeck/config"
)

const (
	// DefaultFetchTimeout bounds one fetch (or the first clone) of a repository.
	DefaultFetchTimeout = 5 * time.Minute
	// objectCacheSize is the decoded-object LRU per repository. go-git's default
	// (96 MiB) is evicted by one walk over a few thousand commits of a monorepo;
	// a bigger cache makes the second walk several times faster.
	objectCacheSize = 256 * cache.MiByte
	remoteName      = "origin"
	dirPerm         = 0o700
)

// Options tune Open. The zero value is usable.
type Options struct {
	// FetchTimeout bounds each fetch; default DefaultFetchTimeout.
	FetchTimeout time.Duration
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

// DefaultDir is where clones live: $XDG_CACHE_HOME/fleetdeck/git, else the
// platform's user cache directory (~/.cache on Linux).
func DefaultDir(getenv func(string) string) (string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	base := getenv("XDG_CACHE_HOME")
	if base == "" || !filepath.IsAbs(base) {
		d, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("git cache directory: %w", err)
		}
		base = d
	}
	return filepath.Join(base, "fleetdeck", "git"), nil
}

// CloneDir is the directory of a repository's clone under dir:
// <name>-<first 12 hex of sha256(URL)>, so a changed URL never reuses a clone
// of another remote.
func CloneDir(dir string, cfg config.Repository) string {
	sum := sha256.Sum256([]byte(cfg.URL))
	return filepath.Join(dir, safeName.ReplaceAllString(cfg.Name, "_")+"-"+hex.EncodeToString(sum[:6]))
}

var safeName = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// Status is what is known about a repository's clone and its last fetches.
type Status struct {
	Name   string
	URL    string // with credentials masked
	Branch string
	Dir    string
	Head   plumbing.Hash
	// LastFetch is the time of the last successful fetch (or clone).
	LastFetch time.Time
	// LastAttempt is the time of the last fetch, successful or not.
	LastAttempt time.Time
	// Err is the error of the last fetch, nil when it succeeded.
	Err error
	// Recovered says why the clone on disk was discarded and made again, if it was.
	Recovered string
}

// FetchError is a failed fetch: the repository keeps serving what it fetched
// before, which is Age old (zero LastFetch: nothing was ever fetched).
type FetchError struct {
	Repo      string
	URL       string // masked
	LastFetch time.Time
	Age       time.Duration
	Err       error // masked
}

func (e *FetchError) Error() string {
	cached := "no cached data"
	if !e.LastFetch.IsZero() {
		cached = fmt.Sprintf("using cached data from %s ago", e.Age.Round(time.Second))
	}
	return fmt.Sprintf("repository %s: fetch %s: %v (%s)", e.Repo, e.URL, e.Err, cached)
}

func (e *FetchError) Unwrap() error { return e.Err }

// Repo is one repository's local clone: a bare repository holding the full
// history of the tracked branch. Its methods are safe for concurrent use; they
// serialise access to the go-git storage, which is not.
type Repo struct {
	name, url, maskedURL, branch string
	dir                          string
	auth                         transport.AuthMethod
	secret                       string
	timeout                      time.Duration
	now                          func() time.Time
	changed                      chan struct{}

	fetchMu sync.Mutex // one fetch at a time

	mu      sync.Mutex // guards everything below: go-git storage is not goroutine-safe
	st      *filesystem.Storage
	repo    *git.Repository
	graph   commitgraph.Index
	nodes   map[plumbing.Hash]*node
	entries map[entryKey]entry
	corrupt error // set when a read found the clone broken; the next Fetch re-clones
	ix      *pathIndex
	ixDisk  bool // the index file on disk is for the head and is read on first use

	smu    sync.Mutex // guards status and ixInfo
	status Status
	ixInfo IndexInfo
}

// Open opens the clone of cfg under dir (see CloneDir), cloning it first when
// absent and fetching it otherwise. A clone that cannot be read (broken HEAD,
// missing objects) is discarded and cloned again; Status().Recovered says so.
//
// When the fetch of an existing clone fails, Open returns the Repo over the
// cached data together with a *FetchError. When there is no usable data, the
// Repo is nil.
func Open(ctx context.Context, cfg config.Repository, dir string, getenv func(string) string, opts ...Options) (*Repo, error) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if getenv == nil {
		getenv = os.Getenv
	}
	if o.FetchTimeout <= 0 {
		o.FetchTimeout = DefaultFetchTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if cfg.Name == "" || cfg.URL == "" {
		return nil, fmt.Errorf("repository %q: name and url are required", cfg.Name)
	}
	branch := cfg.Branch
	if branch == "" {
		branch = "main"
	}
	masked := MaskCredentials(cfg.URL)
	auth, secret, err := AuthMethod(cfg, getenv)
	if err != nil {
		return nil, fmt.Errorf("repository %s (%s): %w", cfg.Name, masked, mask(err, secret))
	}
	r := &Repo{
		name: cfg.Name, url: cfg.URL, maskedURL: masked, branch: branch,
		dir: CloneDir(dir, cfg), auth: auth, secret: secret, timeout: o.FetchTimeout, now: o.Now,
		changed: make(chan struct{}, 1),
	}
	r.status = Status{Name: r.name, URL: masked, Branch: branch, Dir: r.dir}
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return nil, fmt.Errorf("repository %s: create cache directory: %w", r.name, err)
	}

	existing := false
	if _, err := os.Stat(r.dir); err == nil {
		existing = true
		if err := r.openStorage(); err != nil {
			r.setRecovered(fmt.Sprintf("the clone in %s could not be read (%v); cloned again", r.dir, err))
			existing = false
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("repository %s: %w", r.name, err)
	}
	// What Open itself fetched is no change for those who wait on Changed: they read the
	// head it returns with.
	defer func() {
		select {
		case <-r.changed:
		default:
		}
	}()
	if !existing {
		if err := r.reclone(ctx); err != nil {
			return nil, err
		}
		return r, nil
	}
	if _, err := r.Fetch(ctx); err != nil {
		if r.Head().IsZero() {
			r.Close()
			return nil, err
		}
		return r, err
	}
	return r, nil
}

// openStorage opens the clone at r.dir and checks that the tracked branch's
// head commit and its root tree can be read.
func (r *Repo) openStorage() error {
	st, repo, err := openRepo(r.dir, true)
	if err != nil {
		return err
	}
	head, err := checkClone(repo, r.url, r.branch)
	if err != nil {
		_ = st.Close()
		return err
	}
	var graph commitgraph.Index
	if g, err := commitgraph.OpenChainOrFileIndex(st.Filesystem()); err == nil {
		graph = g
	}
	r.mu.Lock()
	r.st, r.repo, r.graph = st, repo, graph
	r.nodes, r.entries, r.corrupt = map[plumbing.Hash]*node{}, map[entryKey]entry{}, nil
	r.ix, r.ixDisk = nil, false
	r.mu.Unlock()
	r.smu.Lock()
	r.status.Head = head
	r.smu.Unlock()
	return nil
}

// openRepo opens a bare repository directory. tuned selects the read-heavy
// storage settings; fetches use a plain storage of their own.
func openRepo(dir string, tuned bool) (*filesystem.Storage, *git.Repository, error) {
	fs := osfs.New(dir)
	var st *filesystem.Storage
	if tuned {
		st = filesystem.NewStorageWithOptions(fs, cache.NewObjectLRU(objectCacheSize), filesystem.Options{KeepDescriptors: true})
	} else {
		st = filesystem.NewStorage(fs, cache.NewObjectLRUDefault())
	}
	repo, err := git.Open(st, nil)
	if err != nil {
		_ = st.Close()
		return nil, nil, fmt.Errorf("open %s: %w", dir, err)
	}
	return st, repo, nil
}

func trackingRef(branch string) plumbing.ReferenceName {
	return plumbing.NewRemoteReferenceName(remoteName, branch)
}

// checkClone checks what every later read relies on: the remote is
// configured with the URL, HEAD resolves, and the tracked branch's commit and
// root tree can be read. A missing ref is not corruption when the branch was
// never fetched (a branch changed in the config), but cloning again is right
// then too.
func checkClone(repo *git.Repository, url, branch string) (plumbing.Hash, error) {
	rem, err := repo.Remote(remoteName)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("remote %s: %w", remoteName, err)
	}
	if urls := rem.Config().URLs; len(urls) == 0 || urls[0] != url {
		return plumbing.ZeroHash, fmt.Errorf("remote %s has URL %v, want the configured one", remoteName, urls)
	}
	// go-git reads a HEAD file holding garbage as a reference to the zero
	// hash rather than failing, so the resolved hash is checked too: git
	// itself refuses such a directory as "not a git repository".
	h, err := repo.Reference(plumbing.HEAD, true)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("read HEAD: %w", err)
	}
	if h.Hash().IsZero() {
		return plumbing.ZeroHash, errors.New("HEAD does not name a commit")
	}
	ref, err := repo.Reference(trackingRef(branch), true)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("read ref %s: %w", trackingRef(branch), err)
	}
	c, err := repo.CommitObject(ref.Hash())
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("read head commit %s: %w", ref.Hash(), err)
	}
	if _, err := c.Tree(); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("read tree of head commit %s: %w", ref.Hash(), err)
	}
	return ref.Hash(), nil
}

// reclone makes a fresh clone next to r.dir and swaps it in, so readers keep
// the old data (if any) until the new clone is complete.
func (r *Repo) reclone(ctx context.Context) error {
	r.fetchMu.Lock()
	defer r.fetchMu.Unlock()
	start := r.now()
	tmp, err := os.MkdirTemp(filepath.Dir(r.dir), filepath.Base(r.dir)+".clone-")
	if err != nil {
		return fmt.Errorf("repository %s: %w", r.name, err)
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, dirPerm); err != nil {
		return fmt.Errorf("repository %s: %w", r.name, err)
	}
	st, repo, err := r.initClone(tmp)
	if err == nil {
		_, err = r.fetchInto(ctx, repo)
		_ = st.Close()
	}
	if err != nil {
		return r.fetchFailed(start, err)
	}
	r.mu.Lock()
	if r.st != nil {
		_ = r.st.Close()
		r.st, r.repo = nil, nil
	}
	if r.graph != nil {
		_ = r.graph.Close()
		r.graph = nil
	}
	r.mu.Unlock()
	if err := os.RemoveAll(r.dir); err != nil {
		return fmt.Errorf("repository %s: remove old clone: %w", r.name, err)
	}
	if err := os.Rename(tmp, r.dir); err != nil {
		return fmt.Errorf("repository %s: move new clone into place: %w", r.name, err)
	}
	if err := r.openStorage(); err != nil {
		return fmt.Errorf("repository %s: open new clone: %w", r.name, mask(err, r.secret))
	}
	r.fetchSucceeded(start)
	r.updateIndex(ctx, r.Head())
	return nil
}

// initClone creates an empty bare repository with the remote configured.
func (r *Repo) initClone(dir string) (*filesystem.Storage, *git.Repository, error) {
	st := filesystem.NewStorage(osfs.New(dir), cache.NewObjectLRUDefault())
	repo, err := git.InitWithOptions(st, nil, git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName(r.branch)})
	if err != nil {
		_ = st.Close()
		return nil, nil, fmt.Errorf("init clone in %s: %w", dir, err)
	}
	if _, err := repo.CreateRemote(&gitconfig.RemoteConfig{
		Name: remoteName, URLs: []string{r.url}, Fetch: []gitconfig.RefSpec{r.refSpec()},
	}); err != nil {
		_ = st.Close()
		return nil, nil, fmt.Errorf("configure remote in %s: %w", dir, err)
	}
	return st, repo, nil
}

func (r *Repo) refSpec() gitconfig.RefSpec {
	return gitconfig.RefSpec(fmt.Sprintf("+%s:%s", plumbing.NewBranchReferenceName(r.branch), trackingRef(r.branch)))
}

// fetchInto fetches the tracked branch (full history, no tags) into repo and
// points the local branch and HEAD at it, so the clone also reads naturally
// with the git CLI. It returns the new head.
func (r *Repo) fetchInto(ctx context.Context, repo *git.Repository) (plumbing.Hash, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	err := repo.FetchContext(ctx, &git.FetchOptions{
		RemoteName: remoteName,
		RemoteURL:  r.url,
		RefSpecs:   []gitconfig.RefSpec{r.refSpec()},
		Auth:       r.auth,
		Tags:       git.NoTags,
		Force:      true,
	})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		return plumbing.ZeroHash, err
	}
	ref, err := repo.Reference(trackingRef(r.branch), true)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("branch %s not fetched: %w", r.branch, err)
	}
	local := plumbing.NewBranchReferenceName(r.branch)
	if err := repo.Storer.SetReference(plumbing.NewHashReference(local, ref.Hash())); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("update %s: %w", local, err)
	}
	if err := repo.Storer.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, local)); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("update HEAD: %w", err)
	}
	return ref.Hash(), nil
}

// Fetch brings the clone up to date with the remote's tracked branch and
// reports whether the head moved. On failure the clone keeps its data and the
// error is a *FetchError naming the repository and the age of that data.
// If a read found the clone corrupt since the last fetch, Fetch clones again.
func (r *Repo) Fetch(ctx context.Context) (changed bool, err error) {
	r.mu.Lock()
	corrupt := r.corrupt
	r.mu.Unlock()
	before := r.Head()
	if corrupt != nil {
		r.setRecovered(fmt.Sprintf("the clone in %s was found broken (%v); cloned again", r.dir, corrupt))
		if err := r.reclone(ctx); err != nil {
			return false, err
		}
		if r.Head() != before {
			r.notify()
		}
		return r.Head() != before, nil
	}

	r.fetchMu.Lock()
	defer r.fetchMu.Unlock()
	start := r.now()
	// The fetch runs on a storage of its own so readers are not blocked for
	// the length of a network round trip; the shared storage only re-reads
	// its pack indexes afterwards.
	st, repo, err := openRepo(r.dir, false)
	if err != nil {
		return false, r.fetchFailed(start, err)
	}
	head, err := r.fetchInto(ctx, repo)
	_ = st.Close()
	if err != nil {
		return false, r.fetchFailed(start, err)
	}
	r.mu.Lock()
	if r.st != nil {
		r.st.Reindex()
	}
	r.mu.Unlock()
	r.smu.Lock()
	r.status.Head = head
	r.smu.Unlock()
	r.fetchSucceeded(start)
	// New commits only; also where an index left unreadable is rebuilt.
	r.updateIndex(ctx, head)
	if head != before {
		// Whoever fetched (Run, or a revert fetching back what it pushed), those waiting on
		// Changed learn of the new head.
		r.notify()
	}
	return head != before, nil
}

func (r *Repo) fetchFailed(at time.Time, err error) error {
	r.smu.Lock()
	defer r.smu.Unlock()
	fe := &FetchError{Repo: r.name, URL: r.maskedURL, LastFetch: r.status.LastFetch, Err: mask(err, r.secret)}
	if !fe.LastFetch.IsZero() {
		fe.Age = at.Sub(fe.LastFetch)
	}
	r.status.LastAttempt = at
	r.status.Err = fe
	return fe
}

func (r *Repo) fetchSucceeded(at time.Time) {
	r.smu.Lock()
	defer r.smu.Unlock()
	r.status.LastAttempt, r.status.LastFetch, r.status.Err = at, at, nil
}

func (r *Repo) setRecovered(msg string) {
	r.smu.Lock()
	defer r.smu.Unlock()
	r.status.Recovered = MaskCredentials(msg, r.secret)
}

// markCorrupt records a read that found objects missing; the next Fetch
// clones again. Callers hold r.mu.
func (r *Repo) markCorrupt(err error) {
	if errors.Is(err, plumbing.ErrObjectNotFound) && r.corrupt == nil {
		r.corrupt = err
	}
}

// Name is the configured repository name.
func (r *Repo) Name() string { return r.name }

// Branch is the tracked branch.
func (r *Repo) Branch() string { return r.branch }

// Dir is the clone's directory.
func (r *Repo) Dir() string { return r.dir }

// Head is the tracked branch's head as of the last successful fetch.
func (r *Repo) Head() plumbing.Hash {
	r.smu.Lock()
	defer r.smu.Unlock()
	return r.status.Head
}

// HeadAt is Head with the time of the last successful fetch.
func (r *Repo) HeadAt() (plumbing.Hash, time.Time) {
	r.smu.Lock()
	defer r.smu.Unlock()
	return r.status.Head, r.status.LastFetch
}

// Status reports the clone and its last fetches.
func (r *Repo) Status() Status {
	r.smu.Lock()
	defer r.smu.Unlock()
	return r.status
}

// Repository is the underlying go-git repository. go-git storage is not safe
// for concurrent use: use it only inside Do, or when nothing else uses r.
func (r *Repo) Repository() *git.Repository {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.repo
}

// Do runs fn with exclusive use of the repository (reading trees and blobs,
// rendering).
func (r *Repo) Do(fn func(*git.Repository) error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.repo == nil {
		return fmt.Errorf("repository %s: closed", r.name)
	}
	return fn(r.repo)
}

// Commit reads one commit.
func (r *Repo) Commit(h plumbing.Hash) (*object.Commit, error) {
	var c *object.Commit
	err := r.Do(func(repo *git.Repository) error {
		var err error
		c, err = repo.CommitObject(h)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("repository %s: commit %s: %w", r.name, h, err)
	}
	return c, nil
}

// ResolveRevision turns a full or abbreviated sha (at least 4 hex digits), a
// branch or "HEAD" (the tracked branch) into a commit hash.
func (r *Repo) ResolveRevision(rev string) (plumbing.Hash, error) {
	if rev == "" || rev == "HEAD" || rev == r.branch {
		if h := r.Head(); !h.IsZero() {
			return h, nil
		}
	}
	var h plumbing.Hash
	err := r.Do(func(repo *git.Repository) error {
		p, err := repo.ResolveRevision(plumbing.Revision(rev))
		if err != nil {
			return err
		}
		h = *p
		return nil
	})
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("repository %s: resolve %q: %w", r.name, rev, err)
	}
	return h, nil
}

// Changed delivers a value after any fetch moved the head, or one in Run
// changed the fetch error; notifications coalesce while nobody reads.
func (r *Repo) Changed() <-chan struct{} { return r.changed }

func (r *Repo) notify() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// Run fetches every interval until ctx is done, notifying Changed when the
// head moves or the fetch error appears, changes or clears.
func (r *Repo) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = config.DefaultFetchInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		before := r.Status()
		changed, err := r.Fetch(ctx)
		if ctx.Err() != nil {
			return
		}
		// Fetch itself notifies a moved head.
		if !changed && errText(err) != errText(before.Err) {
			r.notify()
		}
	}
}

func errText(err error) string {
	var fe *FetchError
	if errors.As(err, &fe) {
		return fe.Err.Error() // without the age, which changes every time
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

// Close releases the clone's open files. The Repo must not be used afterwards.
func (r *Repo) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var err error
	if r.graph != nil {
		err = r.graph.Close()
		r.graph = nil
	}
	if r.st != nil {
		if cerr := r.st.Close(); cerr != nil && err == nil {
			err = cerr
		}
		r.st, r.repo = nil, nil
	}
	return err
}
