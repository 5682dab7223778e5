package revert

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/fleetdeck/fleetdeck/gitstate/repo"
)

const remoteName = "origin"

// Result is a revert commit written into the clone.
type Result struct {
	Plan *Plan
	// Commit is the revert commit; its parent is Plan.Parent.
	Commit plumbing.Hash
	// LocalBranch holds Commit in the clone: fleetdeck/revert-<app>-<sha>.
	LocalBranch string
	// Pushed names the remote branch the commit was pushed to ("" until pushed).
	Pushed string
	// Superseded is set by PushRetrying when the branch moved on the remote
	// and the revert was planned and committed again on the new head: it is
	// the first commit, on the old head, never pushed.
	Superseded *Result
}

// RejectedError is a push the remote refused for a reason other than the
// branch moving: a protected branch, a hook, missing permissions. The commit
// stays on the local fleetdeck/revert branch.
type RejectedError struct {
	Branch string
	Err    error
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("the remote rejected the push to %s: %v", e.Branch, e.Err)
}

func (e *RejectedError) Unwrap() error { return e.Err }

var unsafeRef = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// BranchName is the local (and fallback remote) branch of a plan's commit.
func BranchName(p *Plan) string {
	target := p.Commit
	if p.Kind() == KindRollback {
		target = p.To
	}
	app := strings.Trim(unsafeRef.ReplaceAllString(p.App, "-"), ".-")
	if app == "" {
		app = "app"
	}
	return fmt.Sprintf("fleetdeck/revert-%s-%s", app, short(target))
}

// Commit writes the plan's commit into the clone, on a local branch of its
// own; the tracked branch is not moved and nothing leaves the machine. It
// refuses with *MovedError when the clone's head is no longer the plan's
// parent (a fetch since the plan brought new commits).
func (v *Reverter) Commit(ctx context.Context, p *Plan) (*Result, error) {
	if v.opts.ReadOnly {
		return nil, ErrReadOnly
	}
	if p == nil || p.objects == nil {
		return nil, errors.New("revert: commit of an empty plan")
	}
	if head := v.repo.Head(); head != p.Parent {
		return nil, &MovedError{Branch: p.Branch, Planned: p.Parent, Now: head, Where: "clone"}
	}
	res := &Result{Plan: p, LocalBranch: BranchName(p)}
	err := v.repo.Do(func(g *git.Repository) error {
		if err := copyTree(g.Storer, p.objects, p.Tree); err != nil {
			return fmt.Errorf("write tree: %w", err)
		}
		sig := object.Signature{Name: p.Author.Name, Email: p.Author.Email, When: p.When}
		c := &object.Commit{Author: sig, Committer: sig, Message: p.Message, TreeHash: p.Tree, ParentHashes: []plumbing.Hash{p.Parent}}
		obj := g.Storer.NewEncodedObject()
		if err := c.Encode(obj); err != nil {
			return fmt.Errorf("encode commit: %w", err)
		}
		h, err := g.Storer.SetEncodedObject(obj)
		if err != nil {
			return fmt.Errorf("write commit: %w", err)
		}
		ref := plumbing.NewHashReference(plumbing.NewBranchReferenceName(res.LocalBranch), h)
		if err := g.Storer.SetReference(ref); err != nil {
			return fmt.Errorf("write branch %s: %w", res.LocalBranch, err)
		}
		res.Commit = h
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("repository %s: %w", v.repo.Name(), err)
	}
	return res, nil
}

// copyTree stores the plan's new objects reachable from tree into dst.
func copyTree(dst storer.EncodedObjectStorer, src *overlay, tree plumbing.Hash) error {
	obj, ok := src.mem[tree]
	if !ok {
		return nil // already in the clone, and so is everything below it
	}
	t, err := object.GetTree(src, tree)
	if err != nil {
		return err
	}
	for _, e := range t.Entries {
		if e.Mode == 0o040000 {
			if err := copyTree(dst, src, e.Hash); err != nil {
				return err
			}
			continue
		}
		if blob, ok := src.mem[e.Hash]; ok {
			if _, err := dst.SetEncodedObject(blob); err != nil {
				return err
			}
		}
	}
	_, err = dst.SetEncodedObject(obj)
	return err
}

// Push sends the revert commit to the tracked branch of the remote as a
// fast-forward, never forced. Before pushing it checks that the remote
// branch is still at the plan's parent, and the push itself only updates the
// branch if it still is (a concurrent push in between is refused by the
// remote too): either way the error is a *MovedError and nothing changed on
// the remote. Other refusals are *RejectedError. On success the clone is
// fetched, so its head is the revert commit. PushRetrying retries once on
// the new head when the branch moved.
func (v *Reverter) Push(ctx context.Context, res *Result) error {
	if v.opts.ReadOnly {
		return ErrReadOnly
	}
	branch := plumbing.NewBranchReferenceName(v.repo.Branch())
	err := v.push(ctx, res, branch, res.Plan.Parent)
	if err != nil {
		return err
	}
	res.Pushed = v.repo.Branch()
	if _, err := v.repo.Fetch(ctx); err != nil {
		return fmt.Errorf("pushed %s, but fetching it back failed: %w", short(res.Commit), err)
	}
	return nil
}

// PushBranch pushes the revert commit to a new remote branch named like the
// local one, for a pull or merge request when the tracked branch refuses
// direct pushes. It never overwrites a remote branch that exists.
func (v *Reverter) PushBranch(ctx context.Context, res *Result) error {
	if v.opts.ReadOnly {
		return ErrReadOnly
	}
	if err := v.push(ctx, res, plumbing.NewBranchReferenceName(res.LocalBranch), plumbing.ZeroHash); err != nil {
		return err
	}
	res.Pushed = res.LocalBranch
	return nil
}

// push updates dst on the remote to the revert commit when dst is at want
// (absent when want is zero).
func (v *Reverter) push(ctx context.Context, res *Result, dst plumbing.ReferenceName, want plumbing.Hash) error {
	auth, secret, err := repo.AuthMethod(v.cfg, v.opts.Getenv)
	if err != nil {
		return fmt.Errorf("repository %s: %w", v.repo.Name(), err)
	}
	// A storage of its own, as fetches use: the network round trips do not
	// hold the clone's readers.
	g, err := git.PlainOpen(v.repo.Dir())
	if err != nil {
		return fmt.Errorf("repository %s: open clone: %w", v.repo.Name(), err)
	}
	rem, err := g.Remote(remoteName)
	if err != nil {
		return fmt.Errorf("repository %s: remote %s: %w", v.repo.Name(), remoteName, err)
	}
	scrub := func(err error) error { return errors.New(repo.MaskCredentials(err.Error(), secret)) }
	now, err := remoteHead(ctx, rem, auth, dst)
	if err != nil {
		return fmt.Errorf("repository %s: read remote %s: %w", v.repo.Name(), dst.Short(), scrub(err))
	}
	if now != want {
		if want.IsZero() {
			return &RejectedError{Branch: dst.Short(), Err: fmt.Errorf("branch %s already exists on the remote at %s", dst.Short(), short(now))}
		}
		return &MovedError{Branch: dst.Short(), Planned: want, Now: now, Where: "remote"}
	}
	opts := &git.PushOptions{
		RemoteName: remoteName,
		// No '+': a fast-forward or nothing.
		RefSpecs: []gitconfig.RefSpec{gitconfig.RefSpec(plumbing.NewBranchReferenceName(res.LocalBranch).String() + ":" + dst.String())},
		Auth:     auth,
	}
	if !want.IsZero() {
		opts.RequireRemoteRefs = []gitconfig.RefSpec{gitconfig.RefSpec(want.String() + ":" + dst.String())}
	}
	err = g.PushContext(ctx, opts)
	if err == nil || errors.Is(err, git.NoErrAlreadyUpToDate) {
		return nil
	}
	if !want.IsZero() {
		// A race lost after the check above: the client's required-ref or
		// fast-forward check, or the remote failing to lock a ref another
		// push moved ("failed to update ref"). Whatever the wording, the
		// branch is no longer where the revert goes.
		moved, lerr := remoteHead(ctx, rem, auth, dst)
		if (lerr == nil && moved != want) || strings.Contains(err.Error(), "required to be") || strings.Contains(err.Error(), "non-fast-forward") {
			return &MovedError{Branch: dst.Short(), Planned: want, Now: moved, Where: "remote"}
		}
	}
	return &RejectedError{Branch: dst.Short(), Err: scrub(err)}
}

// remoteHead asks the remote where ref is (zero when absent).
func remoteHead(ctx context.Context, rem *git.Remote, auth transport.AuthMethod, ref plumbing.ReferenceName) (plumbing.Hash, error) {
	refs, err := rem.ListContext(ctx, &git.ListOptions{Auth: auth})
	if err != nil {
		if errors.Is(err, transport.ErrEmptyRemoteRepository) {
			return plumbing.ZeroHash, nil
		}
		return plumbing.ZeroHash, err
	}
	for _, r := range refs {
		if r.Name() == ref {
			return r.Hash(), nil
		}
	}
	return plumbing.ZeroHash, nil
}
