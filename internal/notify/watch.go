package notify

import (
	"context"
	"log/slog"
	"time"

	"github.com/fleetdeck/fleetdeck/fleet"
)

// DefaultDebounce is how long a change must last before it is announced.
const DefaultDebounce = 30 * time.Second

// HoldFactor sets how long an aspect that flapped is summarised for: HoldFactor × the
// debounce.
const HoldFactor = 10

// Options configure Watch and Once.
type Options struct {
	// Debounce is the window a change is gathered over before it is announced (default 30s).
	Debounce time.Duration
	// Binary names fleetdeck in the commands messages suggest (default "fleetdeck").
	Binary string
	// Known are the states a previous run announced (see LoadStates); nil means this is a
	// first run: the problems found at start are sent as one digest.
	Known fleet.States
	// Save, when set, is called with the states announced so far after every message sent, so
	// that the next run continues from them.
	Save func(fleet.States) error
	// Log receives what was seen and suppressed; nil discards.
	Log *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Debounce <= 0 {
		o.Debounce = DefaultDebounce
	}
	if o.Binary == "" {
		o.Binary = "fleetdeck"
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Start is what is announced when watching starts from baseline: on a first run a digest of
// the problems (always, so the webhook is known to work); after a previous run (o.Known) the
// transitions since, undebounced (they are as old as the interval between the runs). It also
// returns the states known from then on.
func Start(baseline fleet.Model, o Options) ([]Message, fleet.States) {
	o = o.withDefaults()
	now := o.Now()
	states := fleet.StatesOf(baseline)
	if o.Known == nil {
		return []Message{Digest(baseline, now, o.Binary)}, states
	}
	var events []Event
	for _, t := range fleet.DiffStates(o.Known, states) {
		events = append(events, Event{Transition: t, Changes: 1, First: now, At: now})
	}
	return Messages(events, o.Binary), o.Known.Merge(states)
}

// Once is a single run (for cron): on a first run the digest when there are problems, else
// the changes since the last run (o.Known). It returns the messages and the states to save.
func Once(baseline fleet.Model, o Options) ([]Message, fleet.States) {
	msgs, states := Start(baseline, o)
	if o.Known == nil && !msgs[0].Problem {
		msgs = nil
	}
	return msgs, states
}

// Watch announces the baseline (see Start), then follows models until the channel closes or
// ctx ends, sending one message per instance or cluster whose aspects changed and stayed
// changed for the debounce (see Debouncer). send must not block (Dispatcher.Send does not).
// Changes still inside their window when Watch returns are not announced (logged).
func Watch(ctx context.Context, baseline fleet.Model, models <-chan fleet.Model, send func(Message), o Options) {
	o = o.withDefaults()
	msgs, known := Start(baseline, o)
	for _, m := range msgs {
		send(m)
	}
	deb := NewDebouncer(o.Debounce, HoldFactor*o.Debounce, known)
	save := func() {
		if o.Save == nil {
			return
		}
		if err := o.Save(deb.Announced()); err != nil {
			o.Log.Error("cannot save the announced states", "error", err.Error())
		}
	}
	save()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	arm := func() {
		timer.Stop()
		if next, ok := deb.Next(); ok {
			timer.Reset(max(0, next.Sub(o.Now())))
		}
	}
	for {
		select {
		case <-ctx.Done():
			if n := deb.Pending(); n > 0 {
				o.Log.Info("stopping with changes still inside the debounce window; not announced", "pending", n)
			}
			return
		case m, ok := <-models:
			if !ok {
				return
			}
			next := fleet.StatesOf(m)
			ts := fleet.DiffStates(known, next)
			known = known.Merge(next)
			for _, t := range ts {
				o.Log.Debug("change seen", "kind", string(t.Kind), "app", t.App, "cluster", t.Cluster, "from", t.From, "to", t.To)
			}
			if len(ts) > 0 {
				deb.Observe(o.Now(), ts)
				arm()
			}
		case <-timer.C:
			events, blips := deb.Due(o.Now())
			for _, b := range blips {
				t := b.Transition
				o.Log.Info("change undone within the debounce window; not announced", "aspect", string(t.Kind.Aspect()),
					"app", t.App, "cluster", t.Cluster, "state", t.To)
			}
			for _, m := range Messages(events, o.Binary) {
				send(m)
			}
			if len(events) > 0 {
				save()
			}
			arm()
		}
	}
}
