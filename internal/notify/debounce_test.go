package notify

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fleetdeck/fleetdeck/fleet"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

// syncTo is a sync transition of app a on cluster c to OutOfSync (bad) or Synced.
func syncTo(app string, bad bool) fleet.Transition {
	label := "Synced"
	if bad {
		label = "OutOfSync"
	}
	return fleet.Transition{Kind: fleet.KindOf(fleet.AspectSync, bad), App: app, Cluster: "c", To: label,
		State: fleet.AspectState{Bad: bad, Label: label}}
}

func describeEvents(evs []Event) string {
	var out []string
	for _, e := range evs {
		t := e.Transition
		out = append(out, fmt.Sprintf("%s %s %s→%s x%d", t.Kind, t.App, t.From, t.To, e.Changes))
	}
	return strings.Join(out, ", ")
}

func TestDebouncer(t *testing.T) {
	type step struct {
		at     int                // seconds after t0
		seen   []fleet.Transition // observed at that time
		events string             // then Due(at) returns these
		blips  string
	}
	known := fleet.States{
		{App: "a", Cluster: "c", Aspect: fleet.AspectSync}: {Label: "Synced"},
		{App: "b", Cluster: "c", Aspect: fleet.AspectSync}: {Label: "Synced"},
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"one change is announced once the window is over", []step{
			{at: 0, seen: []fleet.Transition{syncTo("a", true)}},
			{at: 29},
			{at: 30, events: "out-of-sync a Synced→OutOfSync x1"},
			{at: 60},
		}},
		{"bad and back within the window is a blip", []step{
			{at: 0, seen: []fleet.Transition{syncTo("a", true)}},
			{at: 5, seen: []fleet.Transition{syncTo("a", false)}},
			{at: 30, blips: "synced a Synced→Synced x2"},
			// The blip left the announced state as it was: the next change is announced.
			{at: 40, seen: []fleet.Transition{syncTo("a", true)}},
			{at: 70, events: "out-of-sync a Synced→OutOfSync x1"},
		}},
		{"flapping is one summary, and the next window lasts the hold", []step{
			{at: 0, seen: []fleet.Transition{syncTo("a", true)}},
			{at: 3, seen: []fleet.Transition{syncTo("a", false)}},
			{at: 6, seen: []fleet.Transition{syncTo("a", true)}},
			{at: 9, seen: []fleet.Transition{syncTo("a", false)}},
			{at: 12, seen: []fleet.Transition{syncTo("a", true)}},
			{at: 30, events: "out-of-sync a Synced→OutOfSync x5"},
			{at: 40, seen: []fleet.Transition{syncTo("a", false)}},
			{at: 70},
			{at: 329},
			{at: 330, events: "synced a OutOfSync→Synced x1"},
			// The hold is over: windows are back to the debounce.
			{at: 400, seen: []fleet.Transition{syncTo("a", true)}},
			{at: 430, events: "out-of-sync a Synced→OutOfSync x1"},
		}},
		{"flapping that ends where it started is still summarised", []step{
			{at: 0, seen: []fleet.Transition{syncTo("a", true)}},
			{at: 2, seen: []fleet.Transition{syncTo("a", false)}},
			{at: 4, seen: []fleet.Transition{syncTo("a", true)}},
			{at: 6, seen: []fleet.Transition{syncTo("a", false)}},
			{at: 30, events: "synced a Synced→Synced x4"},
		}},
		{"each aspect has its own window; events come in key order", []step{
			{at: 0, seen: []fleet.Transition{syncTo("b", true), syncTo("a", true)}},
			{at: 30, events: "out-of-sync a Synced→OutOfSync x1, out-of-sync b Synced→OutOfSync x1"},
			{at: 35, seen: []fleet.Transition{syncTo("b", false)}},
			{at: 50, seen: []fleet.Transition{syncTo("a", false)}},
			{at: 65, events: "synced b OutOfSync→Synced x1"},
			{at: 80, events: "synced a OutOfSync→Synced x1"},
		}},
		{"an aspect not known before starts from nothing", []step{
			{at: 0, seen: []fleet.Transition{syncTo("new", true)}},
			{at: 30, events: "out-of-sync new →OutOfSync x1"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDebouncer(30*time.Second, 300*time.Second, known)
			for _, s := range tt.steps {
				if len(s.seen) > 0 {
					d.Observe(at(s.at), s.seen)
				}
				evs, blips := d.Due(at(s.at))
				if got := describeEvents(evs); got != s.events {
					t.Errorf("at %ds: events %q, want %q", s.at, got, s.events)
				}
				if got := describeEvents(blips); got != s.blips {
					t.Errorf("at %ds: blips %q, want %q", s.at, got, s.blips)
				}
			}
			if d.Pending() != 0 {
				t.Errorf("%d aspects still pending at the end", d.Pending())
			}
		})
	}
}

func TestDebouncerNext(t *testing.T) {
	d := NewDebouncer(30*time.Second, 300*time.Second, nil)
	if _, ok := d.Next(); ok {
		t.Fatal("Next with nothing pending")
	}
	d.Observe(at(10), []fleet.Transition{syncTo("a", true)})
	d.Observe(at(5), []fleet.Transition{syncTo("b", true)})
	if next, ok := d.Next(); !ok || !next.Equal(at(35)) {
		t.Errorf("Next = %v, %v; want %v", next, ok, at(35))
	}
	// The baseline is copied: announcing does not write into the caller's states.
	known := fleet.States{{App: "a", Cluster: "c", Aspect: fleet.AspectSync}: {Label: "Synced"}}
	d = NewDebouncer(time.Second, time.Second, known)
	d.Observe(at(0), []fleet.Transition{syncTo("a", true)})
	d.Due(at(1))
	if known[fleet.StateKey{App: "a", Cluster: "c", Aspect: fleet.AspectSync}].Label != "Synced" {
		t.Error("the debouncer changed the states it was given")
	}
	if got := d.Announced()[fleet.StateKey{App: "a", Cluster: "c", Aspect: fleet.AspectSync}].Label; got != "OutOfSync" {
		t.Errorf("announced %q, want OutOfSync", got)
	}
}
