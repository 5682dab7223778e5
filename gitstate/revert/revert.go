// Package revert rolls an application back the GitOps way: it writes a new
// commit that reverts one commit (or restores the application's paths to an
// older commit) on top of the tracked branch, and pushes it fast-forward only.
//
// The work happens in fleetdeck's own clone (gitstate/repo), never in a
// user's working copy, and never rewrites history. A revert is planned first
// (Reverter.Plan: the resulting tree, a unified diff and the commit message,
// nothing written), then committed (Reverter.Commit: the objects and a
// fleetdeck/revert-<app>-<sha> branch in the clone), then optionally pushed
// (Reverter.Push, or Reverter.PushRetrying). Each step refuses when the
// branch moved since the plan (*MovedError). PushRetrying handles the race
// with another push: it fetches, plans the same revert on the new head
// (Reverter.Replan) and, when it still applies cleanly, commits and pushes
// it once more; otherwise it stops with a *RetryError saying why. Nothing is
// ever forced.
//
// A revert produces the tree `git revert` would, without rename detection:
// a three-way merge of the tree of the branch head with the reverse of the
// commit, file contents merged line by line; when git would stop on a
// conflict, Plan refuses with the conflicting paths (*ConflictError).
package revert

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/diff"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/fleetdeck/fleetdeck/config"
	"github.com/fleetdeck/fleetdeck/gitstate/repo"
)

// ErrReadOnly is returned by every write while read-only mode is on.
var ErrReadOnly = errors.New("read-only mode: fleetdeck writes no commits and pushes nothing (unset --readonly / readOnly in the config to revert)")

// ErrNothingToRevert means the plan's tree equals the branch head's: the
// change is already undone (or the paths already match the target).
var ErrNothingToRevert = errors.New("nothing to revert: the branch head already has that content")

// ConflictError lists the paths where the revert does not apply cleanly on
// the branch head, as `git revert` would report them. Nothing was written.
type ConflictError struct {
	Commit plumbing.Hash
	Head   plumbing.Hash
	Paths  []string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("reverting %s on %s conflicts in %s; nothing was written (later commits changed the same lines: roll back with --to, or revert those commits first)",
		short(e.Commit), short(e.Head), strings.Join(e.Paths, ", "))
}

// MovedError says the branch is no longer where the plan started from.
type MovedError struct {
	Branch  string
	Planned plumbing.Hash // the head the plan was made on
	Now     plumbing.Hash // where the branch is now (zero when unknown)
	Where   string        // "remote" or "clone"
}

func (e *MovedError) Error() string {
	return fmt.Sprintf("branch %s moved on the %s since the revert was planned (planned on %s, now %s): nothing was pushed; fetch, plan again and confirm again",
		e.Branch, e.Where, short(e.Planned), short(e.Now))
}

// Kind says what a request does.
type Kind string

const (
	// KindRevert reverts one commit (all of it, or only the app's paths).
	KindRevert Kind = "revert"
	// KindRollback restores the app's paths to their content at a commit.
	KindRollback Kind = "rollback"
)

// Request says what to revert.
type Request struct {
	// App is the application's name; Clusters the clusters it affects (for
	// the message and the trailers).
	App      string
	Clusters []string
	// Paths are the app's repository paths (its directory and values files
	// kept elsewhere), as facts.Request lists them.
	Paths []string
	// Commit is the commit to revert (KindRevert).
	Commit plumbing.Hash
	// AppOnly limits a revert to Paths: the reverse of the commit's diff
	// there only, leaving its changes to other applications.
	AppOnly bool
	// To is the commit whose content of Paths is restored (KindRollback).
	// Exactly one of Commit and To is set.
	To plumbing.Hash
	// Reason is the user's explanation (optional).
	Reason string
	// Summary are extra lines for the message body, such as the image tags
	// that change ("auth-service: v1.5.0 → v1.4.2").
	Summary []string
}

// Kind is KindRollback when To is set, else KindRevert.
func (q Request) Kind() Kind {
	if !q.To.IsZero() {
		return KindRollback
	}
	return KindRevert
}

// FileChange is one file the revert commit changes.
type FileChange struct {
	Path string
	// Action is "modify", "add" or "delete".
	Action string
}

// Plan is a revert ready to commit. Nothing of it is in the clone yet.
type Plan struct {
	Request
	Repo   string
	Branch string
	// Parent is the branch head the revert commit goes on.
	Parent plumbing.Hash
	// Tree is the revert commit's tree.
	Tree plumbing.Hash
	// Target is the commit whose content is restored: the reverted commit's
	// parent, or To.
	Target plumbing.Hash
	// Subject is the first line of the reverted commit (KindRevert).
	Subject string
	// Message is the complete commit message, trailers included.
	Message string
	// Author is who the commit is written as, and When the time it carries.
	Author Identity
	When   time.Time
	// Changes are the files the commit changes, sorted by path.
	Changes []FileChange
	// Diff is the unified diff from Parent to Tree, without colour.
	Diff string
	// OtherPaths are files outside Paths that the reverted commit touched:
	// a full revert changes other applications too (offer AppOnly).
	OtherPaths []string

	objects   *overlay
	colorDiff string
}

// ColorDiff is Diff with ANSI colours (git's default colours).
func (p *Plan) ColorDiff() string { return p.colorDiff }

// Options configure a Reverter.
type Options struct {
	// ReadOnly refuses every write with ErrReadOnly.
	ReadOnly bool
	// Identity is who the commits are written as; zero means DefaultIdentity.
	Identity Identity
	// Version is fleetdeck's version, written in the trailer.
	Version string
	// Getenv reads the environment (identity, push credentials); nil is os.Getenv.
	Getenv func(string) string
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Reverter writes reverts into one repository's clone.
type Reverter struct {
	repo *repo.Repo
	opts Options
	cfg  config.Repository
}

// New makes a Reverter over an open clone; cfg is the repository's
// configuration, whose auth section gives the credentials a push uses.
func New(r *repo.Repo, cfg config.Repository, opts Options) (*Reverter, error) {
	if r == nil {
		return nil, errors.New("revert: no repository")
	}
	if opts.Getenv == nil {
		opts.Getenv = osGetenv
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Identity.Name == "" {
		id, err := DefaultIdentity(opts.Getenv)
		if err != nil {
			return nil, err
		}
		opts.Identity = id
	}
	return &Reverter{repo: r, opts: opts, cfg: cfg}, nil
}

// ReadOnly reports whether writes are refused.
func (v *Reverter) ReadOnly() bool { return v.opts.ReadOnly }

// Plan computes the revert commit for q on the clone's current head, writing
// nothing. Errors: *ConflictError, ErrNothingToRevert, or a description of
// what is wrong with the request (unknown commit, merge commit, no paths).
func (v *Reverter) Plan(ctx context.Context, q Request) (*Plan, error) {
	if q.App == "" {
		return nil, errors.New("revert: no application named")
	}
	if q.Commit.IsZero() == q.To.IsZero() {
		return nil, errors.New("revert: name either a commit to revert or a commit to roll back to")
	}
	q.Paths = repo.CleanPaths(q.Paths)
	if len(q.Paths) == 0 && (q.AppOnly || q.Kind() == KindRollback) {
		return nil, fmt.Errorf("revert %s: the application has no paths", q.App)
	}
	head := v.repo.Head()
	if head.IsZero() {
		return nil, fmt.Errorf("repository %s: branch %s not fetched yet", v.repo.Name(), v.repo.Branch())
	}
	p := &Plan{Request: q, Repo: v.repo.Name(), Branch: v.repo.Branch(), Parent: head,
		Author: v.opts.Identity, When: v.opts.Now()}
	err := v.repo.Do(func(g *git.Repository) error {
		p.objects = newOverlay(g.Storer)
		return p.build(ctx, v.repo.Name())
	})
	if err != nil {
		return nil, err
	}
	p.Message = message(p, v.opts.Version)
	return p, nil
}

// build fills the plan's tree, changes and diff. Callers hold the repository.
func (p *Plan) build(ctx context.Context, repoName string) error {
	st := p.objects
	headC, err := object.GetCommit(st, p.Parent)
	if err != nil {
		return fmt.Errorf("repository %s: head %s: %w", repoName, short(p.Parent), err)
	}
	var tree plumbing.Hash
	switch p.Kind() {
	case KindRollback:
		to, err := object.GetCommit(st, p.To)
		if err != nil {
			return fmt.Errorf("repository %s: commit %s is not in branch %s's history as fetched: %w", repoName, short(p.To), p.Branch, err)
		}
		p.Target, p.Subject = to.Hash, firstLine(to.Message)
		if tree, err = withPaths(st, headC.TreeHash, to.TreeHash, p.Paths); err != nil {
			return err
		}
	default:
		c, err := object.GetCommit(st, p.Commit)
		if err != nil {
			return fmt.Errorf("repository %s: commit %s is not in branch %s's history as fetched: %w", repoName, short(p.Commit), p.Branch, err)
		}
		p.Subject = firstLine(c.Message)
		if c.NumParents() > 1 {
			return fmt.Errorf("commit %s is a merge: fleetdeck does not revert merges; roll back to a commit with --to instead", short(c.Hash))
		}
		var parentTree plumbing.Hash // the empty tree for a root commit
		if c.NumParents() == 1 {
			parent, err := c.Parent(0)
			if err != nil {
				return fmt.Errorf("parent of %s: %w", short(c.Hash), err)
			}
			parentTree, p.Target = parent.TreeHash, parent.Hash
		}
		touched, err := changedPaths(st, parentTree, c.TreeHash)
		if err != nil {
			return err
		}
		for _, f := range touched {
			if len(p.Paths) > 0 && !under(f, p.Paths) {
				p.OtherPaths = append(p.OtherPaths, f)
			}
		}
		theirs := parentTree
		if p.AppOnly {
			if theirs, err = withPaths(st, c.TreeHash, parentTree, p.Paths); err != nil {
				return err
			}
		}
		m := &merger{st: st}
		if tree, err = m.mergeTrees("", c.TreeHash, headC.TreeHash, theirs); err != nil {
			return err
		}
		if len(m.conflicts) > 0 {
			return &ConflictError{Commit: c.Hash, Head: p.Parent, Paths: m.conflicts}
		}
	}
	if p.Tree, err = rootTree(st, tree); err != nil {
		return err
	}
	if p.Tree == headC.TreeHash {
		return ErrNothingToRevert
	}
	return p.describe(ctx, headC.TreeHash)
}

// describe lists the changed files and renders the diff Parent → Tree.
func (p *Plan) describe(ctx context.Context, from plumbing.Hash) error {
	a, err := object.GetTree(p.objects, from)
	if err != nil {
		return err
	}
	b, err := object.GetTree(p.objects, p.Tree)
	if err != nil {
		return err
	}
	changes, err := object.DiffTreeWithOptions(ctx, a, b, &object.DiffTreeOptions{})
	if err != nil {
		return fmt.Errorf("diff: %w", err)
	}
	for _, c := range changes {
		action, err := c.Action()
		if err != nil {
			return err
		}
		name := c.To.Name
		if name == "" {
			name = c.From.Name
		}
		p.Changes = append(p.Changes, FileChange{Path: name, Action: strings.ToLower(action.String())})
	}
	slices.SortFunc(p.Changes, func(x, y FileChange) int { return strings.Compare(x.Path, y.Path) })
	patch, err := changes.PatchContext(ctx)
	if err != nil {
		return fmt.Errorf("diff: %w", err)
	}
	var plain, color strings.Builder
	if err := diff.NewUnifiedEncoder(&plain, diff.DefaultContextLines).Encode(patch); err != nil {
		return fmt.Errorf("diff: %w", err)
	}
	if err := diff.NewUnifiedEncoder(&color, diff.DefaultContextLines).SetColor(diff.NewColorConfig()).Encode(patch); err != nil {
		return fmt.Errorf("diff: %w", err)
	}
	p.Diff, p.colorDiff = plain.String(), color.String()
	return nil
}

// changedPaths lists the files that differ between two trees.
func changedPaths(st *overlay, a, b plumbing.Hash) ([]string, error) {
	var out []string
	var walk func(dir string, a, b plumbing.Hash) error
	walk = func(dir string, a, b plumbing.Hash) error {
		if a == b {
			return nil
		}
		ea, err := treeEntries(st, a)
		if err != nil {
			return err
		}
		eb, err := treeEntries(st, b)
		if err != nil {
			return err
		}
		names := map[string]bool{}
		for n := range ea {
			names[n] = true
		}
		for n := range eb {
			names[n] = true
		}
		for n := range names {
			x, y := ea[n], eb[n]
			if x == y {
				continue
			}
			p := n
			if dir != "" {
				p = dir + "/" + n
			}
			if x.isDir() || y.isDir() {
				var ha, hb plumbing.Hash
				if x.isDir() {
					ha = x.hash
				}
				if y.isDir() {
					hb = y.hash
				}
				if err := walk(p, ha, hb); err != nil {
					return err
				}
			}
			if x.present() && !x.isDir() || y.present() && !y.isDir() {
				out = append(out, p)
			}
		}
		return nil
	}
	if err := walk("", a, b); err != nil {
		return nil, err
	}
	slices.Sort(out)
	return out, nil
}

func firstLine(msg string) string {
	s, _, _ := strings.Cut(strings.TrimLeft(msg, "\n"), "\n")
	return strings.TrimSpace(s)
}

func short(h plumbing.Hash) string {
	if h.IsZero() {
		return "unknown"
	}
	return h.String()[:7]
}
