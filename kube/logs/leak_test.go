package logs

import (
	"context"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/fleetdeck/fleetdeck/internal/faults"
)

// TestOpenAndClose100StreamsLeavesUsageFlat follows three containers on two clusters, reads
// from every one, and closes the stream, 100 times over the same clients, as a user switching
// between pods does. The goroutine count, the live heap and the RSS after the last stream
// must be what they were after the tenth: a leaked follower, connection or buffer per stream
// would add up to something a tolerance cannot absorb.
func TestOpenAndClose100StreamsLeavesUsageFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 100 streams; skipped with -short")
	}
	eu, us := newLogServer(t), newLogServer(t)
	srcs := []Source{{"eu", "shop", "api-1", "api"}, {"eu", "shop", "api-1", "sidecar"}, {"us", "shop", "api-1", "api"}}
	for _, s := range srcs {
		srv := eu
		if s.Cluster == "us" {
			srv = us
		}
		srv.add(s.Namespace, s.Pod, s.Container, seq(s.String(), t0, time.Second, 0, 200)...)
	}
	// Clients without client-go's default rate limit (5 requests a second), which would make
	// this test wait rather than stream.
	client := func(s *logServer) kubernetes.Interface {
		cs, err := kubernetes.NewForConfig(&rest.Config{Host: s.srv.URL, QPS: 1000, Burst: 1000})
		if err != nil {
			t.Fatal(err)
		}
		return cs
	}
	clients := map[string]kubernetes.Interface{"eu": client(eu), "us": client(us)}

	open := func(i int) {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ch := Stream(ctx, clients, updatesOf(ctx, false, Update{Sources: srcs}), fast(Options{Follow: true}))
		var got []Entry
		waitFor(t, ch, &got, 10*time.Second, "a line from every container", func(es []Entry) bool {
			for _, s := range srcs {
				if len(texts(es, s)) == 0 {
					return false
				}
			}
			return true
		})
		cancel()
		if _, closed := collect(t, ch, 5*time.Second); !closed {
			t.Fatalf("stream %d not closed 5s after its context ended", i)
		}
	}

	var warm faults.Usage
	for i := 1; i <= 100; i++ {
		open(i)
		if i == 10 {
			warm = faults.Measure(-1, 0)
		}
	}
	after := faults.Measure(warm.Goroutines, 3*time.Second)
	t.Logf("after 10 streams: %s; after 100: %s", warm, after)
	if err := faults.Flat(warm, after, faults.Tolerance{Goroutines: 3, Heap: 2 << 20, RSS: 16 << 20}); err != nil {
		t.Errorf("opening and closing 90 more log streams: %v", err)
	}
}
