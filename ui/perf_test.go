package ui

import (
	"os"
	"slices"
	"testing"
	"time"

	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/ui/internal/fixture"
)

// largeKeys are the keys a user presses on a big fleet: moving, expanding, filtering,
// problems only, help and the details pane.
var largeKeys = []string{"j", "j", "right", "right", "j", "/", "a", "p", "p", "backspace", "backspace", "esc",
	"G", "g", "p", "p", "?", "esc", "tab", "j", "tab", "pgdown", "k"}

// keyLatencies presses n keys on m and returns how long each took from the key to the new
// screen's text (Update and View). The program's renderer adds at most one frame on top.
func keyLatencies(m *model, n int) []time.Duration {
	d := make([]time.Duration, 0, n)
	for i := range n {
		start := time.Now()
		press(m, largeKeys[i%len(largeKeys)])
		_ = m.View()
		d = append(d, time.Since(start))
	}
	slices.Sort(d)
	return d
}

// TestKeyLatencyLargeFleet: with 3 clusters × 2,000 pods a key redraws within 50 ms at the
// 95th percentile. A timed assertion flakes on a busy machine, so it runs only on request
// (FLEETDECK_PERF=1, as `make bench` sets it); the best of three rounds counts.
func TestKeyLatencyLargeFleet(t *testing.T) {
	if os.Getenv("FLEETDECK_PERF") == "" {
		t.Skip("timed; set FLEETDECK_PERF=1 (make bench)")
	}
	fm := fixture.Large(3, 200, 10)
	if pods := countPods(&fm); pods != 6000 {
		t.Fatalf("the large fleet has %d pods, want 6000", pods)
	}
	const goal = 50 * time.Millisecond
	best := time.Duration(1<<63 - 1)
	for round := 0; round < 3 && best > goal; round++ {
		m := newTestModel(t, Options{}, 160, 48, &fm)
		d := keyLatencies(m, 200)
		p95 := d[len(d)*95/100]
		t.Logf("round %d: p50 %v, p95 %v, max %v", round, d[len(d)/2], p95, d[len(d)-1])
		best = min(best, p95)
	}
	if best > goal {
		t.Errorf("key-to-screen p95 %v with 6,000 pods, goal %v", best, goal)
	}
}

func countPods(fm *fleet.Model) int {
	n := 0
	for _, a := range fm.Apps {
		n += a.Summary.Pods
	}
	return n
}

// BenchmarkKeyLargeFleet measures one key press and redraw on 3 clusters × 2,000 pods.
func BenchmarkKeyLargeFleet(b *testing.B) {
	fm := fixture.Large(3, 200, 10)
	m := newTestModel(b, Options{}, 160, 48, &fm)
	for i := 0; b.Loop(); i++ {
		press(m, largeKeys[i%len(largeKeys)])
		_ = m.View()
	}
}

// BenchmarkModelUpdateLargeFleet measures taking a new model from the engine and redrawing.
func BenchmarkModelUpdateLargeFleet(b *testing.B) {
	fm := fixture.Large(3, 200, 10)
	m := newTestModel(b, Options{}, 160, 48, &fm)
	press(m, "right", "right")
	for b.Loop() {
		m.Update(modelMsg{fm})
		_ = m.View()
	}
}
