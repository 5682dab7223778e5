package notify

import (
	"slices"
	"time"

	"github.com/fleetdeck/fleetdeck/fleet"
)

// Event is what the debouncer lets through for one aspect of one instance or cluster: the net
// change from the state last announced to the state at the end of the window.
type Event struct {
	// Transition goes from the state last announced (From empty when none was) to the current
	// one; its Kind says whether the aspect is now bad or fine.
	Transition fleet.Transition
	// Changes counts the state changes seen in the window; more than one means it flapped.
	Changes int
	// First is when the first change of the window was seen, At when the window ended.
	First, At time.Time
}

// Flapping reports whether the aspect changed more than once within the window.
func (e Event) Flapping() bool { return e.Changes > 1 }

// Debouncer holds transitions until they settle: one event per aspect per window, so a state
// that flaps produces one summary and one that goes bad and back within the window produces
// nothing. It is pure: the caller passes the time, so tests need no clock.
//
// A window opens at the first change of an aspect and lasts Window; every change until it
// ends is gathered. At its end:
//   - one change: a plain event;
//   - two changes that end where they started (bad and back): a blip, not announced;
//   - more changes: one flapping summary with the count, announcing the state it ended in;
//     the next window of that aspect then lasts at least Hold, so an aspect that keeps
//     flapping is summarised once per Hold instead of once per Window.
type Debouncer struct {
	window, hold time.Duration
	announced    fleet.States
	pending      map[fleet.StateKey]*pendingChange
	holdUntil    map[fleet.StateKey]time.Time
}

type pendingChange struct {
	first, deadline time.Time
	changes         int
	last            fleet.Transition
}

// NewDebouncer starts from the states already known (announced by a digest, or by a previous
// run); window is the debounce, hold the least window after a flapping summary.
func NewDebouncer(window, hold time.Duration, known fleet.States) *Debouncer {
	return &Debouncer{window: window, hold: max(hold, window), announced: fleet.States{}.Merge(known),
		pending: map[fleet.StateKey]*pendingChange{}, holdUntil: map[fleet.StateKey]time.Time{}}
}

// Observe records transitions seen at now.
func (d *Debouncer) Observe(now time.Time, ts []fleet.Transition) {
	for _, t := range ts {
		k := t.Key()
		p := d.pending[k]
		if p == nil {
			deadline := now.Add(d.window)
			if h := d.holdUntil[k]; h.After(deadline) {
				deadline = h
			}
			p = &pendingChange{first: now, deadline: deadline}
			d.pending[k] = p
		}
		p.changes++
		p.last = t
	}
}

// Next is when the earliest window ends; false when nothing is pending.
func (d *Debouncer) Next() (time.Time, bool) {
	var next time.Time
	for _, p := range d.pending {
		if next.IsZero() || p.deadline.Before(next) {
			next = p.deadline
		}
	}
	return next, !next.IsZero()
}

// Pending counts the aspects whose window is still open.
func (d *Debouncer) Pending() int { return len(d.pending) }

// Due ends the windows that are over at now and returns their events, in key order, and the
// blips (bad and back within one window) that are not to be announced, for the log.
func (d *Debouncer) Due(now time.Time) (events, blips []Event) {
	var keys []fleet.StateKey
	for k, p := range d.pending {
		if !now.Before(p.deadline) {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, fleet.CompareStateKeys)
	for _, k := range keys {
		p := d.pending[k]
		delete(d.pending, k)
		prev, known := d.announced[k]
		t := p.last
		t.Kind = fleet.KindOf(k.Aspect, t.State.Bad)
		t.From, t.Before = "", fleet.AspectState{}
		if known {
			t.From, t.Before = prev.Label, prev
		}
		ev := Event{Transition: t, Changes: p.changes, First: p.first, At: now}
		back := known && prev.Bad == t.State.Bad || !known && !t.State.Bad
		d.announced[k] = t.State
		if back && p.changes <= 2 {
			blips = append(blips, ev)
			continue
		}
		if ev.Flapping() {
			d.holdUntil[k] = now.Add(d.hold)
		} else {
			delete(d.holdUntil, k)
		}
		events = append(events, ev)
	}
	return events, blips
}

// Announced is the state last announced for every aspect (for --state).
func (d *Debouncer) Announced() fleet.States { return fleet.States{}.Merge(d.announced) }
