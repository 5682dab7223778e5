package revert

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// This file is what happens when another push wins the race to the tracked
// branch: fetch, plan the same revert again on the new head, and when it
// still applies cleanly commit it there and push once more, fast-forward
// only. A second lost race, a conflict, an empty revert or (when asked) a
// revert whose diff is no longer the one the user confirmed stops with a
// *RetryError; nothing is ever forced.

// RetryOptions tune Replan and PushRetrying.
type RetryOptions struct {
	// SameDiff retries only when the revert's diff on the new head is exactly
	// the planned one (the diff the user confirmed): the new commits did not
	// change the files the revert changes. Otherwise the retry stops with a
	// *DiffChangedError and the caller shows the new diff and asks again.
	// Without it, any revert that still applies cleanly is retried.
	SameDiff bool
}

// ErrRewritten means the branch's new head does not descend from the head
// the revert was planned on: someone rewrote the branch's history.
var ErrRewritten = errors.New("the branch's new head does not contain the old one (its history was rewritten)")

// DiffChangedError is a revert that still applies cleanly on the new head,
// but whose diff differs from the planned one because the commits that
// moved the branch changed the same files.
type DiffChangedError struct {
	// Paths are the revert's files that the new commits changed too.
	Paths []string
	// Plan is the revert on the new head (not committed).
	Plan *Plan
}

func (e *DiffChangedError) Error() string {
	return fmt.Sprintf("the new commits also changed %s: the revert still applies, but its diff is not the one shown", strings.Join(e.Paths, ", "))
}

// RetryError is a revert that was not (re)pushed after the branch moved on
// the remote. Nothing of it is on the remote; what the remote has is kept.
type RetryError struct {
	Branch string
	// Planned is the head the revert was first planned on; Theirs the head
	// someone else pushed, which the retry was planned on.
	Planned, Theirs plumbing.Hash
	// Again is the second lost race (the retried push was refused as
	// well), else nil.
	Again *MovedError
	// Local is the clone's local branch holding the newest revert commit
	// ("" when none was written).
	Local string
	// Err says why: *ConflictError, ErrNothingToRevert, *DiffChangedError,
	// ErrRewritten, the second *MovedError, or a fetch or commit failure.
	Err error
}

func (e *RetryError) Unwrap() error { return e.Err }

func (e *RetryError) Error() string {
	moved := fmt.Sprintf("branch %s moved on the remote since the revert was planned on %s (someone pushed %s)",
		e.Branch, short(e.Planned), short(e.Theirs))
	kept := ""
	if e.Local != "" {
		kept = fmt.Sprintf("; the revert commit is kept on local branch %s in fleetdeck's clone", e.Local)
	}
	var conflict *ConflictError
	var changed *DiffChangedError
	switch {
	case e.Again != nil:
		return fmt.Sprintf("%s, and moved again (to %s) while fleetdeck pushed the revert planned on that new head: nothing was pushed after one retry%s; run the revert again",
			moved, short(e.Again.Now), kept)
	case errors.As(e.Err, &conflict):
		return fmt.Sprintf("%s, and the revert no longer applies cleanly on the new head: it conflicts in %s. Nothing was pushed%s. The new commits changed the same lines: look at them (fleetdeck history), then revert them first or roll back with --to",
			moved, strings.Join(conflict.Paths, ", "), kept)
	case errors.Is(e.Err, ErrNothingToRevert):
		return fmt.Sprintf("%s, and the new head already has the content the revert restores (someone already reverted it): nothing to revert, nothing was pushed%s",
			moved, kept)
	case errors.As(e.Err, &changed):
		return fmt.Sprintf("%s; %v. Nothing was pushed%s: review the revert again", moved, changed, kept)
	case errors.Is(e.Err, ErrRewritten):
		return fmt.Sprintf("%s, but %v: fleetdeck does not retry; nothing was pushed%s: check the branch, then run the revert again", moved, ErrRewritten, kept)
	}
	return fmt.Sprintf("%s; retrying on the new head failed: %v. Nothing was pushed%s", moved, e.Err, kept)
}

// Replan plans p's request again on the clone's current head, after a
// fetch found that the branch moved since p was planned: the same commit,
// mode (whole commit, app only, roll back), reason, summary and clusters;
// the message's Fleetdeck-From names the new head. It returns p itself when
// the head did not move. It refuses with a *RetryError when the new head does
// not descend from p.Parent (ErrRewritten), when the revert conflicts there
// (*ConflictError), when the new head already has its content
// (ErrNothingToRevert), and with opts.SameDiff when its diff changed
// (*DiffChangedError). Nothing is written.
func (v *Reverter) Replan(ctx context.Context, p *Plan, opts RetryOptions) (*Plan, error) {
	head := v.repo.Head()
	if head == p.Parent {
		return p, nil
	}
	rerr := &RetryError{Branch: p.Branch, Planned: p.Parent, Theirs: head}
	err := v.repo.Do(func(g *git.Repository) error {
		old, err := object.GetCommit(g.Storer, p.Parent)
		if err != nil {
			return err
		}
		now, err := object.GetCommit(g.Storer, head)
		if err != nil {
			return err
		}
		ok, err := old.IsAncestor(now)
		if err == nil && !ok {
			err = ErrRewritten
		}
		return err
	})
	if err != nil {
		rerr.Err = err
		return nil, rerr
	}
	np, err := v.Plan(ctx, p.Request)
	if err != nil {
		rerr.Err = err
		return nil, rerr
	}
	if opts.SameDiff && np.Diff != p.Diff {
		paths, err := v.touchedAgain(p, np)
		if err != nil {
			rerr.Err = err
		} else {
			rerr.Err = &DiffChangedError{Paths: paths, Plan: np}
		}
		return nil, rerr
	}
	return np, nil
}

// touchedAgain lists the files either plan changes that differ between the
// old and the new head.
func (v *Reverter) touchedAgain(old, now *Plan) ([]string, error) {
	var out []string
	err := v.repo.Do(func(g *git.Repository) error {
		a, err := object.GetCommit(g.Storer, old.Parent)
		if err != nil {
			return err
		}
		b, err := object.GetCommit(g.Storer, now.Parent)
		if err != nil {
			return err
		}
		changed, err := changedPaths(newOverlay(g.Storer), a.TreeHash, b.TreeHash)
		if err != nil {
			return err
		}
		for _, c := range append(slices.Clone(old.Changes), now.Changes...) {
			if _, found := slices.BinarySearch(changed, c.Path); found && !slices.Contains(out, c.Path) {
				out = append(out, c.Path)
			}
		}
		return nil
	})
	slices.Sort(out)
	if len(out) == 0 {
		out = []string{"the files the revert changes"}
	}
	return out, err
}

// PushRetrying pushes res like Push. When the branch moved on the remote
// (another push won the race), it fetches, plans the same revert again on the
// new head (Replan), commits it there and pushes once more, fast-forward
// only; the returned Result is then the new commit, with Superseded the first
// one. The first commit stays on its local branch until the new one exists.
//
// It stops, with a *RetryError and nothing of the revert on the remote, when
// the retry cannot be made (see Replan) or when the branch moved again. A
// refusal of another kind (*RejectedError: protection, hook) is returned as
// is, with the Result to push to a branch of its own (PushBranch).
func (v *Reverter) PushRetrying(ctx context.Context, res *Result, opts RetryOptions) (*Result, error) {
	err := v.Push(ctx, res)
	var moved *MovedError
	if !errors.As(err, &moved) {
		return res, err
	}
	rerr := &RetryError{Branch: res.Plan.Branch, Planned: res.Plan.Parent, Theirs: moved.Now, Local: res.LocalBranch}
	if _, err := v.repo.Fetch(ctx); err != nil {
		rerr.Err = fmt.Errorf("fetching the new head: %w", err)
		return res, rerr
	}
	rerr.Theirs = v.repo.Head()
	p, err := v.Replan(ctx, res.Plan, opts)
	if err != nil {
		var refused *RetryError
		if errors.As(err, &refused) {
			refused.Local = res.LocalBranch
			return res, refused
		}
		rerr.Err = err
		return res, rerr
	}
	rerr.Theirs = p.Parent
	next, err := v.Commit(ctx, p)
	if err != nil {
		rerr.Err = err
		return res, rerr
	}
	next.Superseded = res
	rerr.Local = next.LocalBranch
	err = v.Push(ctx, next)
	var again *MovedError
	switch {
	case errors.As(err, &again):
		rerr.Again, rerr.Err = again, again
		return next, rerr
	case err != nil:
		return next, err
	}
	return next, nil
}
