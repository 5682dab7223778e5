package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/gitstate/repo"
	"github.com/fleetdeck/fleetdeck/gitstate/revert"
	"github.com/fleetdeck/fleetdeck/ui/historypane"
)

// tuiHistory is the history pane's backend: gitstate/revert on the clone the engine keeps,
// for the application's instances as the engine sees them.
type tuiHistory struct {
	src      appSource
	readOnly bool
	version  string
	getenv   func(string) string

	mu sync.Mutex
	// previewed remembers the branch head each preview was planned on and its diff, so Apply
	// refuses to write something other than what the user saw.
	previewed map[previewKey]previewed
}

type previewed struct {
	parent plumbing.Hash
	diff   string
}

type previewKey struct {
	app, sha string
	mode     historypane.Mode
}

func newTUIHistory(src appSource, readOnly bool, getenv func(string) string) *tuiHistory {
	return &tuiHistory{src: src, readOnly: readOnly, version: currentVersion().Version, getenv: getenv,
		previewed: map[previewKey]previewed{}}
}

// app resolves an application to its instances and the clone they come from.
func (h *tuiHistory) app(ctx context.Context, app string) ([]revert.Target, *repo.Repo, *revert.Reverter, error) {
	repoName, targets, err := h.src.Targets(ctx, app, "")
	if err != nil {
		return nil, nil, nil, err
	}
	r, rc, ok := h.src.Repo(repoName)
	if !ok {
		return nil, nil, nil, fmt.Errorf("repository %s is not cloned", repoName)
	}
	v, err := revert.New(r, rc, revert.Options{ReadOnly: h.readOnly, Version: h.version, Getenv: h.getenv})
	if err != nil {
		return nil, nil, nil, err
	}
	return targets, r, v, nil
}

// History implements historypane.Backend.
func (h *tuiHistory) History(ctx context.Context, app string, limit int) ([]historypane.Commit, error) {
	targets, r, _, err := h.app(ctx, app)
	if err != nil {
		return nil, err
	}
	hist, err := revert.ReadHistory(ctx, r, h.src.Reader(), app, targets, limit)
	if err != nil {
		return nil, err
	}
	out := make([]historypane.Commit, 0, len(hist.Entries))
	for _, e := range hist.Entries {
		c := historypane.Commit{SHA: e.Hash.String(), Short: fleet.ShortSHA(e.Hash.String()), Author: e.Author,
			When: e.When, Subject: e.Subject, LiveOn: e.LiveOn}
		for _, im := range e.Images {
			c.Images = append(c.Images, historypane.ImageChange{Cluster: im.Cluster, Container: im.Container,
				From: firstNonEmptyTag(im.FromTag, im.From), To: firstNonEmptyTag(im.ToTag, im.To)})
		}
		out = append(out, c)
	}
	return out, nil
}

func firstNonEmptyTag(tag, image string) string {
	if tag != "" {
		return tag
	}
	return image
}

// request is the revert the pane asks for, on the application's paths and clusters.
func historyRequest(app string, targets []revert.Target, sha plumbing.Hash, mode historypane.Mode, reason string) revert.Request {
	q := revert.Request{App: app, Reason: reason, AppOnly: mode == historypane.AppOnly}
	for _, t := range targets {
		q.Clusters = append(q.Clusters, t.Cluster)
		for _, p := range revert.HistoryPaths(t.Request) {
			if !contains(q.Paths, p) {
				q.Paths = append(q.Paths, p)
			}
		}
	}
	if mode == historypane.Rollback {
		q.To = sha
	} else {
		q.Commit = sha
	}
	return q
}

// plan plans the request with the image changes it makes in its message.
func (h *tuiHistory) plan(ctx context.Context, v *revert.Reverter, targets []revert.Target, q revert.Request) (*revert.Plan, error) {
	p, err := v.Plan(ctx, q)
	if err != nil {
		return nil, err
	}
	var ims []revert.ImageChange
	switch {
	case q.Kind() == revert.KindRollback:
		ims = revert.ImageDiff(ctx, h.src.Reader(), q.App, targets, p.Parent, q.To)
	case !p.Target.IsZero():
		ims = revert.ImageDiff(ctx, h.src.Reader(), q.App, targets, q.Commit, p.Target)
	}
	if s := imageSummary(ims); len(s) > 0 {
		q.Summary = s
		return v.Plan(ctx, q)
	}
	return p, nil
}

func resolveSHA(r *repo.Repo, sha string) (plumbing.Hash, error) {
	h, err := r.ResolveRevision(sha)
	if err != nil {
		return h, fmt.Errorf("commit %s: not on branch %s as fetched: %w", fleet.ShortSHA(sha), r.Branch(), err)
	}
	return h, nil
}

// Preview implements historypane.Backend. A conflict or an empty revert is a preview that
// cannot be confirmed, not an error.
func (h *tuiHistory) Preview(ctx context.Context, app, sha string, mode historypane.Mode) (historypane.Preview, error) {
	pv := historypane.Preview{SHA: sha, Mode: mode}
	targets, r, v, err := h.app(ctx, app)
	if err != nil {
		return pv, err
	}
	hash, err := resolveSHA(r, sha)
	if err != nil {
		return pv, err
	}
	for _, t := range targets {
		pv.Clusters = append(pv.Clusters, t.Cluster)
	}
	p, err := h.plan(ctx, v, targets, historyRequest(app, targets, hash, mode, ""))
	var conflict *revert.ConflictError
	switch {
	case errors.As(err, &conflict):
		pv.Conflicts = conflict.Paths
		pv.Err = err.Error()
		return pv, nil
	case errors.Is(err, revert.ErrNothingToRevert):
		pv.Err = err.Error()
		return pv, nil
	case err != nil:
		return pv, err
	}
	pv.Diff = p.Diff
	if mode == historypane.Revert {
		pv.OtherApps = p.OtherPaths
	}
	pv.Title = previewTitle(p)
	h.mu.Lock()
	h.previewed[previewKey{app, sha, mode}] = previewed{p.Parent, p.Diff}
	h.mu.Unlock()
	return pv, nil
}

func previewTitle(p *revert.Plan) string {
	if p.Kind() == revert.KindRollback {
		return fmt.Sprintf("Roll back %s to %s", p.App, fleet.ShortSHA(p.To.String()))
	}
	what := "Revert"
	if p.AppOnly {
		what = "Revert (" + p.App + "'s paths only)"
	}
	return fmt.Sprintf("%s %s %q on %s", what, fleet.ShortSHA(p.Commit.String()), clean(p.Subject), p.Branch)
}

// Apply implements historypane.Backend: it writes the previewed revert in fleetdeck's clone
// and pushes it when asked, never forcing; a push the remote refuses goes to a branch of its
// own for a pull request. When the branch moved since the preview, or another push wins the
// race, the revert goes on the new head if its diff is still the one previewed (the push is
// retried once); otherwise Apply refuses and the user reviews it again.
func (h *tuiHistory) Apply(ctx context.Context, app, sha string, mode historypane.Mode, reason string, push bool) (historypane.Result, error) {
	var res historypane.Result
	if h.readOnly {
		return res, revert.ErrReadOnly
	}
	targets, r, v, err := h.app(ctx, app)
	if err != nil {
		return res, err
	}
	hash, err := resolveSHA(r, sha)
	if err != nil {
		return res, err
	}
	h.mu.Lock()
	seen, ok := h.previewed[previewKey{app, sha, mode}]
	h.mu.Unlock()
	if !ok {
		return res, errors.New("no preview of this revert: review it first")
	}
	// The engine may have fetched since the preview; fetch now so the commit never lands
	// behind the remote, then insist on the diff the preview showed.
	if _, err := r.Fetch(ctx); err != nil {
		return res, fmt.Errorf("fetch before committing: %w", err)
	}
	p, err := h.plan(ctx, v, targets, historyRequest(app, targets, hash, mode, reason))
	if err != nil {
		return res, err
	}
	var note string
	if p.Parent != seen.parent {
		if p.Diff != seen.diff {
			return res, fmt.Errorf("branch %s moved from %s to %s since the preview, and the new commits changed what the revert does: review the revert again",
				p.Branch, fleet.ShortSHA(seen.parent.String()), fleet.ShortSHA(p.Parent.String()))
		}
		note = fmt.Sprintf("the branch moved (someone pushed %s); the revert still applies on the new head; ", fleet.ShortSHA(p.Parent.String()))
	}
	out, err := v.Commit(ctx, p)
	if err != nil {
		return res, err
	}
	res.Commit, res.Branch = out.Commit.String(), out.LocalBranch
	if !push {
		res.Message = note + fmt.Sprintf("committed %s on local branch %s in fleetdeck's clone; not pushed, so the operator will not see it", fleet.ShortSHA(res.Commit), out.LocalBranch)
		return res, nil
	}
	// Another push winning the race is retried once on the new head, with the previewed diff.
	out, err = v.PushRetrying(ctx, out, revert.RetryOptions{SameDiff: true})
	res.Commit, res.Branch = out.Commit.String(), out.LocalBranch
	if out.Superseded != nil {
		note = fmt.Sprintf("the branch moved (someone pushed %s); the revert still applies on the new head: ", fleet.ShortSHA(out.Plan.Parent.String()))
	}
	var rejected *revert.RejectedError
	switch {
	case errors.As(err, &rejected):
		if berr := v.PushBranch(ctx, out); berr != nil {
			return res, fmt.Errorf("%v; pushing branch %s failed too: %w (the commit is kept on local branch %s in %s)",
				rejected, out.LocalBranch, berr, out.LocalBranch, r.Dir())
		}
		res.Message = note + fmt.Sprintf("%s; pushed the revert to branch %s instead: open a pull (merge) request from %s into %s",
			rejected.Error(), out.Pushed, out.Pushed, p.Branch)
		return res, nil
	case err != nil:
		return res, err
	}
	res.Pushed = out.Pushed
	res.Message = note + fmt.Sprintf("pushed %s to %s: the operator rolls %s back on %s at its next sync",
		fleet.ShortSHA(res.Commit), out.Pushed, app, strings.Join(p.Clusters, ", "))
	return res, nil
}
