package engine

import (
	"context"
	"slices"
	"time"

	"github.com/fleetdeck/fleetdeck/fleet"
)

// subscriber holds the newest model not yet read: a slow reader skips intermediate models
// instead of holding up the engine or the other readers.
type subscriber struct {
	ch chan fleet.Model
}

// Subscribe returns a channel that receives the current model soon after the call (clusters
// still connecting show as such) and a new one after every change, at most one per
// Options.Coalesce; a reader that falls behind gets the newest model only. Each model is built
// anew and belongs to the reader. The channel is closed when ctx ends or Run returns.
func (e *Engine) Subscribe(ctx context.Context) <-chan fleet.Model {
	s := &subscriber{ch: make(chan fleet.Model, 1)}
	e.subMu.Lock()
	if e.closed {
		e.subMu.Unlock()
		close(s.ch)
		return s.ch
	}
	e.subs[s] = struct{}{}
	e.subMu.Unlock()
	context.AfterFunc(ctx, func() { e.unsubscribe(s) })
	select {
	case e.subAdded <- struct{}{}:
	default:
	}
	return s.ch
}

func (e *Engine) unsubscribe(s *subscriber) {
	e.subMu.Lock()
	defer e.subMu.Unlock()
	if _, ok := e.subs[s]; ok {
		delete(e.subs, s)
		close(s.ch)
	}
}

func (e *Engine) closeSubscriptions() {
	e.subMu.Lock()
	defer e.subMu.Unlock()
	e.closed = true
	for s := range e.subs {
		delete(e.subs, s)
		close(s.ch)
	}
}

func (e *Engine) hasSubscribers() bool {
	e.subMu.Lock()
	defer e.subMu.Unlock()
	return len(e.subs) > 0
}

// publish hands m to every subscriber, replacing a model nobody read yet.
func (e *Engine) publish(m fleet.Model) {
	e.subMu.Lock()
	defer e.subMu.Unlock()
	for s := range e.subs {
		select {
		case <-s.ch:
		default:
		}
		s.ch <- m // cannot block: the buffer was emptied above and only publish sends
	}
}

// loop rebuilds the model for subscribers after changes: the first change after a quiet
// period is answered at once, later ones are gathered until Coalesce has passed since the
// last model, so a burst of pod events costs one build.
func (e *Engine) loop(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var timerC <-chan time.Time
	refresh := time.NewTicker(e.opts.Refresh)
	defer refresh.Stop()
	var last time.Time
	var lastClusters []fleet.ClusterState
	for {
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timerC:
			timerC = nil
			if e.hasSubscribers() {
				m := e.build(ctx, 0)
				e.publish(m)
				last, lastClusters = time.Now(), m.Clusters
			}
			continue
		case <-refresh.C:
			// Nothing was notified, but a cluster may have turned slow (the watch computes
			// that from the clock): send a model only if a cluster's state reads differently,
			// so that views redraw only on change.
			if timerC == nil && e.hasSubscribers() {
				if m := e.build(ctx, 0); !sameClusters(m.Clusters, lastClusters) {
					e.publish(m)
					last, lastClusters = time.Now(), m.Clusters
				}
			}
			continue
		case <-e.fleet.Changed():
		case <-e.git.changed:
		case <-e.git.rendered:
		case <-e.subAdded:
		}
		if timerC != nil || !e.hasSubscribers() {
			continue
		}
		timer.Reset(max(0, e.opts.Coalesce-time.Since(last)))
		timerC = timer.C
	}
}

// sameClusters compares what a view shows of the clusters' states, ignoring event times.
func sameClusters(a, b []fleet.ClusterState) bool {
	return slices.EqualFunc(a, b, func(x, y fleet.ClusterState) bool {
		return x.Name == y.Name && x.State == y.State && x.Err == y.Err && slices.Equal(x.Forbidden, y.Forbidden)
	})
}
