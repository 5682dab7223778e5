package watch

import (
	"context"
	"sync"
	"time"
)

// Fleet runs several Clusters and merges their notifications. Each cluster runs on its own:
// one that is down, slow or forbidden never delays the others.
type Fleet struct {
	clusters []*Cluster
	changed  chan struct{}
}

// NewFleet returns a Fleet of the given clusters, kept in that order.
func NewFleet(clusters ...*Cluster) *Fleet {
	return &Fleet{clusters: clusters, changed: make(chan struct{}, 1)}
}

// Clusters returns the fleet's clusters in order.
func (f *Fleet) Clusters() []*Cluster { return f.clusters }

// Changed receives a value after any cluster's cache or state changed; notifications coalesce
// like Cluster.Changed.
func (f *Fleet) Changed() <-chan struct{} { return f.changed }

// Run runs every cluster until ctx ends and returns after all of them stopped.
func (f *Fleet) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, c := range f.clusters {
		wg.Go(func() { c.Run(ctx) })
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case <-c.Changed():
					select {
					case f.changed <- struct{}{}:
					default:
					}
				}
			}
		})
	}
	wg.Wait()
}

// WaitSynced returns when every cluster is settled (complete, or unreachable) or when timeout
// has passed, whichever comes first, or when ctx ends. It reports whether every cluster was
// complete. Each cluster is waited for independently, so the call never takes longer than
// timeout however many clusters are down.
func (f *Fleet) WaitSynced(ctx context.Context, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var wg sync.WaitGroup
	complete := make([]bool, len(f.clusters))
	for i, c := range f.clusters {
		wg.Go(func() { complete[i] = c.WaitSettled(ctx).Complete() })
	}
	wg.Wait()
	for _, ok := range complete {
		if !ok {
			return false
		}
	}
	return true
}

// Snapshots returns one snapshot per cluster, in the fleet's order.
func (f *Fleet) Snapshots() []ClusterSnapshot {
	out := make([]ClusterSnapshot, len(f.clusters))
	for i, c := range f.clusters {
		out[i] = c.Snapshot()
	}
	return out
}
