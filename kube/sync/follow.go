package sync

import (
	"context"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// maxReadFailures is how many reads in a row may fail (a flaky connection) before Progress
// gives up with StateError.
const maxReadFailures = 5

// follower is the state of one Progress goroutine.
type follower struct {
	s    *Syncer
	h    Handle
	ch   chan<- Phase
	last Phase
	sent bool

	// Argo CD.
	goneSince    time.Time // first read with the operation cleared and no state of ours
	finishedSeen time.Time // first read of our operation finished, waiting for a comparison
	// Flux: the token of the object's own request, once the source reconciled.
	objectToken string
}

// run reads with step every Poll until a final phase, a permanent error or ctx's end.
func (f *follower) run(ctx context.Context, step func(context.Context) (Phase, error)) {
	tick := time.NewTicker(f.s.opts.Poll)
	defer tick.Stop()
	fails := 0
	for {
		p, err := step(ctx)
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil:
			fails++
			if fails >= maxReadFailures || permanent(err) {
				f.emit(ctx, Phase{State: StateError, Step: f.last.Step, Message: err.Error()})
				return
			}
		default:
			fails = 0
			if !f.emit(ctx, p) || p.State.Done() {
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// permanent errors will not go away by reading again.
func permanent(err error) bool {
	return apierrors.IsNotFound(err) || apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err)
}

// emit sends p unless it says nothing new; false when ctx ended first.
func (f *follower) emit(ctx context.Context, p Phase) bool {
	p.Target = f.h.Target
	if p.At.IsZero() {
		p.At = f.s.opts.Now()
	}
	if f.sent && samePhase(f.last, p) {
		return true
	}
	f.last, f.sent = p, true
	select {
	case f.ch <- p:
		return true
	case <-ctx.Done():
		return false
	}
}

func samePhase(a, b Phase) bool {
	return a.State == b.State && a.Step == b.Step && a.Message == b.Message && a.Revision == b.Revision &&
		a.Sync == b.Sync && a.Health == b.Health
}
