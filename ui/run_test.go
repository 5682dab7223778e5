package ui

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"go.uber.org/goleak"

	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
	"github.com/fleetdeck/fleetdeck/ui/internal/fixture"
)

// syncBuffer is the terminal: the program writes from its own goroutine while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}

// running is a ui started by Run on a fake terminal, fed through a channel source.
type running struct {
	t       *testing.T
	updates chan fleet.Model
	keys    *io.PipeWriter
	out     *syncBuffer
	cancel  context.CancelFunc
	done    chan error
}

func startRun(t *testing.T, opts Options, w, h int) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	in, keys := io.Pipe()
	r := &running{t: t, updates: make(chan fleet.Model), keys: keys, out: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	go func() {
		r.done <- run(ctx, ChanSource(r.updates), opts, in, r.out, runConfig{clock: fixedClock, width: w, height: h})
	}()
	t.Cleanup(func() {
		cancel()
		keys.Close()
	})
	return r
}

// waitOutput waits until the bytes written so far contain text.
func (r *running) waitOutput(text string) {
	r.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(r.out.String(), text) {
		if time.Now().After(deadline) {
			r.t.Fatalf("the terminal never showed %q; it got:\n%q", text, r.out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (r *running) send(fm fleet.Model) {
	r.t.Helper()
	select {
	case r.updates <- fm:
	case <-time.After(5 * time.Second):
		r.t.Fatal("the ui did not take an update within 5s")
	}
}

// wait returns Run's result, failing when it does not return.
func (r *running) wait() error {
	r.t.Helper()
	select {
	case err := <-r.done:
		return err
	case <-time.After(5 * time.Second):
		r.t.Fatal("Run did not return within 5s")
		return nil
	}
}

// TestRunLive: updates appear without a key press, a closed source is shown, and cancelling
// the context ends Run without an error and without leaving a goroutine behind.
func TestRunLive(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent()) // teatest leaves a signal goroutine per test model
	r := startRun(t, Options{NoColor: true}, 80, 24)
	r.waitOutput("Waiting for the first update")
	r.send(fixture.Sandbox())
	r.waitOutput(scenario.NotificationWorker)
	r.send(fixture.Unreachable(scenario.Staging, 3*time.Minute))
	r.waitOutput("unreachable 3m ago")
	close(r.updates)
	r.waitOutput("updates stopped")
	r.cancel()
	if err := r.wait(); err != nil {
		t.Fatalf("Run after cancel = %v, want nil", err)
	}
	r.keys.Close()
}

// TestRunQuitKey: keys come from the input stream; q ends Run with no error.
func TestRunQuitKey(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent()) // teatest leaves a signal goroutine per test model
	r := startRun(t, Options{NoColor: true}, 80, 24)
	r.send(fixture.Sandbox())
	r.waitOutput(scenario.NotificationWorker)
	if _, err := io.WriteString(r.keys, "?"); err != nil {
		t.Fatal(err)
	}
	r.waitOutput("close help")
	if _, err := io.WriteString(r.keys, "?q"); err != nil { // leave help, then quit
		t.Fatal(err)
	}
	if err := r.wait(); err != nil {
		t.Fatalf("Run after q = %v, want nil", err)
	}
	r.keys.Close()
}

// TestRunIdleWritesNothing: once the first screen is drawn, a quiet fleet costs no bytes,
// even when the engine sends a model that looks the same as the last one.
func TestRunIdleWritesNothing(t *testing.T) {
	r := startRun(t, Options{}, 160, 48)
	fm := fixture.Sandbox()
	r.send(fm)
	r.waitOutput(scenario.NotificationWorker)
	time.Sleep(300 * time.Millisecond) // let the first frame settle
	before := r.out.Len()
	for range 3 {
		r.send(fixture.Sandbox())
	}
	time.Sleep(1500 * time.Millisecond)
	if n := r.out.Len() - before; n != 0 {
		t.Fatalf("idle fleet wrote %d bytes after the first screen, want 0:\n%q", n, r.out.String()[before:])
	}
	r.cancel()
	if err := r.wait(); err != nil {
		t.Fatal(err)
	}
}

// TestForward: models waiting in the channel are collapsed into the newest, the end of the
// stream is reported once, and a cancelled context stops forwarding.
func TestForward(t *testing.T) {
	models := func(names ...string) []fleet.Model {
		var out []fleet.Model
		for _, n := range names {
			out = append(out, fleet.Model{Apps: []fleet.Application{{Name: n}}})
		}
		return out
	}
	describe := func(msgs []tea.Msg) string {
		var parts []string
		for _, m := range msgs {
			switch m := m.(type) {
			case modelMsg:
				parts = append(parts, m.m.Apps[0].Name)
			case sourceClosedMsg:
				parts = append(parts, "closed")
			default:
				parts = append(parts, fmt.Sprintf("%T", m))
			}
		}
		return strings.Join(parts, " ")
	}

	t.Run("queued models collapse into the newest", func(t *testing.T) {
		ch := make(chan fleet.Model, 3)
		for _, m := range models("a", "b", "c") {
			ch <- m
		}
		close(ch)
		var got []tea.Msg
		forward(context.Background(), ch, func(m tea.Msg) { got = append(got, m) })
		if d := describe(got); d != "c closed" {
			t.Errorf("sent %q, want %q", d, "c closed")
		}
	})
	t.Run("each model sent when the ui keeps up", func(t *testing.T) {
		ch := make(chan fleet.Model)
		var got []tea.Msg
		done := make(chan struct{})
		delivered := make(chan struct{}, 3)
		go func() {
			defer close(done)
			forward(context.Background(), ch, func(m tea.Msg) { got = append(got, m); delivered <- struct{}{} })
		}()
		// The ui keeps up: each model is delivered before the next one comes.
		for _, m := range models("a", "b") {
			ch <- m
			<-delivered
		}
		close(ch)
		<-done
		if d := describe(got); d != "a b closed" {
			t.Errorf("sent %q, want %q", d, "a b closed")
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var got []tea.Msg
		forward(ctx, make(chan fleet.Model), func(m tea.Msg) { got = append(got, m) })
		if len(got) != 0 {
			t.Errorf("sent %q after cancel", describe(got))
		}
	})
}
