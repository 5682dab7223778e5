package notify

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

type collector struct {
	mu   sync.Mutex
	msgs []Message
}

func (c *collector) send(m Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, m)
}

func (c *collector) summaries() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, m := range c.msgs {
		out = append(out, m.Type+": "+m.Summary)
	}
	return out
}

func (c *collector) waitFor(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(c.summaries()) < n && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	got := c.summaries()
	if len(got) != n {
		t.Fatalf("%d messages, want %d:\n%s", len(got), n, strings.Join(got, "\n"))
	}
	return got
}

// TestWatch drives the loop with sandbox models: a digest first; a drift that lasts is one
// message; a crash loop that comes and goes within the window is none; an outage and the
// return are one message each, and what changed during the outage is reported after it.
func TestWatch(t *testing.T) {
	base := sandboxModel(nil)
	models := make(chan fleet.Model)
	c := &collector{}
	var saved []fleet.States
	var mu sync.Mutex
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Watch(ctx, base, models, c.send, Options{Debounce: 100 * time.Millisecond, Save: func(s fleet.States) error {
			mu.Lock()
			defer mu.Unlock()
			saved = append(saved, s)
			return nil
		}})
	}()
	got := c.waitFor(t, 1)
	if !strings.HasPrefix(got[0], "digest: fleetdeck is watching 20 instances on 3 clusters: 5 problems") {
		t.Errorf("first message %q, want the digest", got[0])
	}

	patched := sandboxModel(func(s *fleet.Snapshot) { handPatch(s, scenario.HealthyApp, scenario.ProdEU, "hotfix-7") })
	models <- patched
	models <- patched // an unchanged model changes nothing
	got = c.waitFor(t, 2)
	if !strings.Contains(got[1], "catalog-api on prod-eu: drift appeared: git 1.4.0, live hotfix-7; OutOfSync") {
		t.Errorf("message %q", got[1])
	}

	// A crash loop that clears within the window: a blip, not announced.
	models <- sandboxModel(func(s *fleet.Snapshot) {
		handPatch(s, scenario.HealthyApp, scenario.ProdEU, "hotfix-7")
		crashLoop(s, scenario.Ledger, scenario.Staging)
	})
	models <- patched
	time.Sleep(250 * time.Millisecond)
	c.waitFor(t, 2)

	// The outage: the hand patch is reverted while prod-eu is away.
	models <- sandboxModel(func(s *fleet.Snapshot) {
		handPatch(s, scenario.HealthyApp, scenario.ProdEU, "hotfix-7")
		unreachable(s, scenario.ProdEU)
	})
	got = c.waitFor(t, 3)
	if got[2] != "change: cluster prod-eu: unreachable: Get \"https://127.0.0.1:6443/readyz\": dial tcp: connection refused" {
		t.Errorf("message %q", got[2])
	}
	models <- base
	got = c.waitFor(t, 5)
	if !slices.Contains(got, "change: cluster prod-eu: reachable again") ||
		!slices.ContainsFunc(got, func(s string) bool {
			return strings.HasPrefix(s, "change: catalog-api on prod-eu: drift cleared (was git 1.4.0, live hotfix-7); Synced again")
		}) {
		t.Errorf("after the outage:\n%s", strings.Join(got[3:], "\n"))
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if len(saved) < 4 {
		t.Fatalf("states saved %d times, want after the start and after each message", len(saved))
	}
	last := saved[len(saved)-1]
	if st := last[fleet.StateKey{Cluster: scenario.ProdEU, Aspect: fleet.AspectReachability}]; st.Bad {
		t.Errorf("last saved state says prod-eu is unreachable")
	}
}

func TestStartAndOnceWithState(t *testing.T) {
	base := sandboxModel(nil)
	// First cron run: the digest, as there are problems.
	msgs, states := Once(base, Options{})
	if len(msgs) != 1 || msgs[0].Type != TypeDigest {
		t.Fatalf("first run: %+v", msgs)
	}
	path := filepath.Join(t.TempDir(), "state.json")
	if err := SaveStates(path, states, t0); err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadStates(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded) != len(states) {
		t.Fatalf("loaded %d states, saved %d", len(loaded), len(states))
	}
	// Next run, nothing changed: nothing to say.
	if msgs, _ := Once(base, Options{Known: loaded}); len(msgs) != 0 {
		t.Errorf("unchanged fleet: %+v", msgs)
	}
	// Next run after a crash: that change only, undebounced.
	crashed := sandboxModel(func(s *fleet.Snapshot) { crashLoop(s, scenario.Ledger, scenario.ProdEU) })
	msgs, _ = Once(crashed, Options{Known: loaded})
	if len(msgs) != 1 || msgs[0].App != scenario.Ledger || msgs[0].Changes[0].Kind != fleet.TransitionDegraded {
		t.Errorf("after a crash: %+v", msgs)
	}
	// A healthy fleet on a first run says nothing.
	healthy := fleet.Model{Clusters: []fleet.ClusterState{{Name: "a", State: fleet.ConnSynced}}}
	if msgs, _ := Once(healthy, Options{}); len(msgs) != 0 {
		t.Errorf("healthy first run: %+v", msgs)
	}
	// A missing state file is a first run; a broken one an error.
	if s, err := LoadStates(filepath.Join(t.TempDir(), "none.json")); s != nil || err != nil {
		t.Errorf("missing file: %v %v", s, err)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	_ = SaveStates(bad, nil, t0)
	if _, err := LoadStates(bad); err != nil {
		t.Errorf("empty states: %v", err)
	}
}
