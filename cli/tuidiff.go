package cli

import (
	"context"
	"time"

	"github.com/fleetdeck/fleetdeck/fleet/diff"
	"github.com/fleetdeck/fleetdeck/internal/engine"
	"github.com/fleetdeck/fleetdeck/ui/diffpane"
)

// tuiDiffTimeout bounds the engine's part of one comparison for the diff pane (reading the
// fleet, then the live objects); the pane bounds the whole call.
const tuiDiffTimeout = 30 * time.Second

// tuiDiffs is the diff pane's backend: engine.Diff, reported as `fleetdeck diff` reports it.
type tuiDiffs struct {
	diff    func(ctx context.Context, app string, clusters []string, timeout time.Duration) ([]engine.InstanceDiff, error)
	timeout time.Duration
}

var _ diffpane.Backend = (*tuiDiffs)(nil)

func newTUIDiffs(eng *engine.Engine) *tuiDiffs {
	return &tuiDiffs{diff: eng.Diff, timeout: tuiDiffTimeout}
}

// Diff implements diffpane.Backend.
func (d *tuiDiffs) Diff(ctx context.Context, app, cluster string) (diffpane.Result, error) {
	var clusters []string
	if cluster != "" {
		clusters = []string{cluster}
	}
	ds, err := d.diff(ctx, app, clusters, d.timeout)
	if err != nil {
		return diffpane.Result{}, err
	}
	return paneDiff(NewDiffReport(app, ds)), nil
}

// paneDiff is the verb's report in the pane's plain values.
func paneDiff(rep DiffReport) diffpane.Result {
	var res diffpane.Result
	for _, in := range rep.Instances {
		pi := diffpane.Instance{App: in.App, Cluster: in.Cluster, Branch: in.Branch, Revision: in.Revision,
			LiveRevision: in.LiveRevision, Warnings: in.Warnings, Err: in.Error}
		for _, o := range in.Objects {
			pi.Objects = append(pi.Objects, diffpane.Object{Group: o.Group, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name,
				Status: paneStatus(o.Status), Diff: o.Diff})
		}
		res.Instances = append(res.Instances, pi)
	}
	return res
}

func paneStatus(s diff.Status) diffpane.Status {
	switch s {
	case diff.Same:
		return diffpane.Same
	case diff.OnlyInGit:
		return diffpane.OnlyInGit
	case diff.OnlyLive:
		return diffpane.OnlyLive
	}
	return diffpane.Changed
}
