package watch

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"k8s.io/apimachinery/pkg/runtime"
)

// TestClusterSlowServerIsSlowNotUnreachable: a server whose probe answers late (but within the
// timeout) is Slow with its cache complete, one that never answers is Slow while the probe
// waits and Unreachable at the timeout, and a prompt answer makes it Synced again.
func TestClusterSlowServerIsSlowNotUnreachable(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // runs after run's cleanup stopped the cluster
	_, clients := fakeCluster(t, []runtime.Object{pod("shop", "web-1")}, nil)
	var mu sync.Mutex
	delay := time.Duration(0)
	clients.Probe = func(ctx context.Context) error {
		mu.Lock()
		d := delay
		mu.Unlock()
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	setDelay := func(d time.Duration) {
		mu.Lock()
		delay = d
		mu.Unlock()
	}
	opts := fastOptions()
	opts.ProbeTimeout, opts.SlowResponse = 400*time.Millisecond, 100*time.Millisecond
	c := NewForClients("prod-eu", clients, opts)
	run(t, c)
	waitFor(t, c, "synced", 5*time.Second, func(s State) bool { return s.Phase == Synced })

	for _, tc := range []struct {
		name  string
		delay time.Duration
		want  Phase
		err   string
	}{
		{"late answers", 250 * time.Millisecond, Slow, "answers slowly"},
		{"prompt answers", 0, Synced, ""},
		{"no answer", time.Hour, Unreachable, "probe /readyz"},
		{"late answers after none", 250 * time.Millisecond, Slow, "answers slowly"},
		{"prompt answers again", 0, Synced, ""},
	} {
		setDelay(tc.delay)
		st := waitFor(t, c, tc.name, 3*time.Second, func(s State) bool {
			return s.Phase == tc.want && (tc.err == "" || strings.Contains(s.Err, tc.err)) && (tc.err != "" || s.Err == "")
		})
		if !st.Complete() || len(c.Snapshot().Pods) != 1 {
			t.Errorf("%s: the cache must stay complete: %+v", tc.name, st)
		}
		if tc.want == Slow {
			if got := FleetClusterState(c.Name(), st); got.State != "slow" || !got.Live() {
				t.Errorf("%s: model state %+v, want slow and live", tc.name, got)
			}
		}
	}

	// A probe that hangs shows Slow long before it times out: a view never looks frozen.
	setDelay(time.Hour)
	waitFor(t, c, "unreachable", 3*time.Second, func(s State) bool { return s.Phase == Unreachable })
	setDelay(0)
	waitFor(t, c, "synced", 3*time.Second, func(s State) bool { return s.Phase == Synced })
	setDelay(time.Hour)
	sawSlow := false
	waitFor(t, c, "unreachable after hanging", 3*time.Second, func(s State) bool {
		if s.Phase == Slow && strings.Contains(s.Err, "answers slowly") {
			sawSlow = true
		}
		return s.Phase == Unreachable
	})
	if !sawSlow {
		t.Error("a hanging probe went from synced to unreachable without showing slow while it waited")
	}
	setDelay(0)
}
