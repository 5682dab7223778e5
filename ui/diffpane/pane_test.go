package diffpane

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
	"github.com/fleetdeck/fleetdeck/ui/internal/panetest"
)

var instanceTarget = Target{App: app, Cluster: cluster}

// TestStates: what the pane shows for each answer of the backend, and which keys it offers.
func TestStates(t *testing.T) {
	short := fleet.ShortSHA(gitRev)
	tests := []struct {
		name   string
		target Target
		be     *fakeBackend
		want   []string
		absent []string
	}{
		{name: "changed", target: instanceTarget, be: &fakeBackend{result: Result{Instances: []Instance{changedInstance()}}},
			want: []string{
				"Diff · payments-api on prod-us · git → live", "object 1 of 3",
				"prod-us · git " + short + " (main) · live " + short + " · 3 objects differ",
				"ConfigMap payments/payments-flags · only in git (not live: a sync creates it)",
				"+++ git/prod-us/ConfigMap.payments.payments-flags", "+  checkout: \"on\"",
				"n/N next/previous object · j/k scroll · r refresh · esc back",
			},
			absent: []string{"Service payments/payments-api"}},
		{name: "no differences", target: instanceTarget, be: &fakeBackend{result: Result{Instances: []Instance{sameInstance(cluster)}}},
			want:   []string{"no differences: live matches git at " + short, "r compare again · esc back"},
			absent: []string{"object 1", "next/previous object"}},
		{name: "error", target: instanceTarget, be: &fakeBackend{err: errors.New("engine: not running after 5s")},
			want: []string{"✗ could not compare payments-api on prod-us with git: engine: not running after 5s", "r compare again · esc back"}},
		{name: "instance not compared", target: instanceTarget,
			be:     &fakeBackend{result: Result{Instances: []Instance{{App: app, Cluster: cluster, Revision: gitRev, Err: "cluster prod-us is unreachable"}}}},
			want:   []string{"✗ not compared: cluster prod-us is unreachable"},
			absent: []string{"no differences"}},
		{name: "no instance", target: Target{App: app, Cluster: scenario.Staging}, be: &fakeBackend{},
			want: []string{"no instance of payments-api to compare"}},
		{name: "every cluster", target: Target{App: app}, be: &fakeBackend{result: Result{Instances: []Instance{
			changedInstance(), sameInstance(scenario.ProdEU),
			{App: app, Cluster: scenario.Staging, Revision: gitRev, Err: "git: render: chart not found",
				Warnings: []string{"objects no longer in git are not listed"}}}}},
			want: []string{"Diff · payments-api on every cluster", "prod-eu · git " + short + " (main) · live " + short,
				"no differences: live matches git at " + short, "✗ not compared: git: render: chart not found",
				"! objects no longer in git are not listed"}},
		{name: "warnings", target: instanceTarget, be: &fakeBackend{result: Result{Instances: []Instance{func() Instance {
			in := sameInstance(cluster)
			in.Warnings = []string{"not compared: secrets is forbidden"}
			return in
		}()}}},
			want: []string{"! not compared: secrets is forbidden", "no differences: live matches git at " + short}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := open(t, tt.be, tt.target, 100, 60)
			s := d.screen()
			for _, w := range tt.want {
				if !strings.Contains(s, w) {
					t.Errorf("screen lacks %q:\n%s", w, s)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(s, a) {
					t.Errorf("screen has %q:\n%s", a, s)
				}
			}
			if got := tt.be.callList(); len(got) != 1 || got[0] != tt.target.App+"/"+tt.target.Cluster {
				t.Errorf("backend calls %v, want one for %s/%s", got, tt.target.App, tt.target.Cluster)
			}
		})
	}
}

// topLine is the first line of the body: what the view is scrolled to.
func topLine(d *driver) string {
	lines := strings.Split(d.screen(), "\n")
	return strings.TrimSpace(lines[1])
}

// TestKeys drives the movement keys over the three differing objects of a 100x12 pane.
func TestKeys(t *testing.T) {
	heads := []string{
		"ConfigMap payments/payments-flags · only in git",
		"ConfigMap payments/payments-legacy · only live",
		"Deployment.apps payments/payments-api · changed",
	}
	tests := []struct {
		keys  []string
		top   string // prefix of the first body line
		title string // "object i of 3"
	}{
		{nil, "prod-us · git", "object 1 of 3"},
		{[]string{"n"}, heads[1], "object 2 of 3"},
		{[]string{"n", "n"}, heads[2], "object 3 of 3"},
		{[]string{"n", "n", "n"}, heads[2], "object 3 of 3"}, // no further
		{[]string{"n", "n", "N"}, heads[1], "object 2 of 3"},
		{[]string{"n", "j", "j", "N"}, heads[1], "object 2 of 3"}, // back to the start of the object read
		{[]string{"N"}, "prod-us · git", "object 1 of 3"},
		{[]string{"j"}, heads[0], "object 1 of 3"},
		{[]string{"j", "k"}, "prod-us · git", "object 1 of 3"},
		{[]string{"G"}, "", "object 3 of 3"},
		{[]string{"G", "g"}, "prod-us · git", "object 1 of 3"},
		{[]string{"pgdown"}, "+metadata:", "object 1 of 3"},
		{[]string{"pgdown", "pgup"}, "prod-us · git", "object 1 of 3"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.keys, " "), func(t *testing.T) {
			d := open(t, &fakeBackend{result: Result{Instances: []Instance{changedInstance()}}}, instanceTarget, 100, 12)
			d.press(tt.keys...)
			if tt.top != "" && !strings.HasPrefix(topLine(d), tt.top) {
				t.Errorf("top line %q, want %q…:\n%s", topLine(d), tt.top, d.screen())
			}
			if !strings.Contains(d.screen(), tt.title) {
				t.Errorf("title lacks %q:\n%s", tt.title, d.screen())
			}
			if strings.Join(tt.keys, "") == "G" {
				// The last line of the last diff is in view, at the bottom of the body.
				lines := strings.Split(d.screen(), "\n")
				if got := strings.TrimSpace(lines[len(lines)-2]); got != "- containerPort: 8080" {
					t.Errorf("G: last body line %q:\n%s", got, d.screen())
				}
			}
		})
	}
}

// TestWorkloadTarget: d on a workload row opens on its object; a workload without differences
// says so and shows the instance's others.
func TestWorkloadTarget(t *testing.T) {
	be := &fakeBackend{result: Result{Instances: []Instance{changedInstance()}}}
	d := open(t, be, Target{App: app, Cluster: cluster, Object: fleet.ObjectRef{Kind: "Deployment", Namespace: deployNS, Name: "payments-api"}}, 100, 12)
	if !strings.Contains(d.screen(), "object 3 of 3") || !strings.Contains(d.screen(), "Deployment.apps payments/payments-api · changed") {
		t.Errorf("the pane did not open on the workload's object:\n%s", d.screen())
	}
	d.press("g")
	if !strings.HasPrefix(topLine(d), "prod-us · git") {
		t.Errorf("g did not go to the top:\n%s", d.screen())
	}

	d = open(t, be, Target{App: app, Cluster: cluster, Object: fleet.ObjectRef{Kind: "StatefulSet", Namespace: deployNS, Name: "payments-db"}}, 100, 12)
	if !strings.Contains(d.screen(), "StatefulSet payments/payments-db: no differences; the instance's other objects follow") {
		t.Errorf("no note for a workload without differences:\n%s", d.screen())
	}
}

// TestReloadAndStaleReplies: r compares again; a reply to an earlier request or to another pane
// is dropped, never drawn.
func TestReloadAndStaleReplies(t *testing.T) {
	be := &fakeBackend{err: errors.New("boom")}
	d := open(t, be, instanceTarget, 100, 30)
	if !strings.Contains(d.screen(), "boom") {
		t.Fatalf("no error:\n%s", d.screen())
	}
	be.mu.Lock()
	be.err, be.result = nil, Result{Instances: []Instance{changedInstance()}}
	be.mu.Unlock()
	d.press("r")
	if len(be.callList()) != 2 || !strings.Contains(d.screen(), "3 objects differ") {
		t.Fatalf("r did not compare again (%d calls):\n%s", len(be.callList()), d.screen())
	}

	stale := resultMsg{pane: d.m.id, seq: d.m.seq - 1, result: Result{Instances: []Instance{sameInstance(cluster)}}}
	other := resultMsg{pane: d.m.id + 1000, seq: d.m.seq, result: Result{Instances: []Instance{sameInstance(cluster)}}}
	for _, msg := range []resultMsg{stale, other} {
		d.m.Update(msg)
		if strings.Contains(d.screen(), "no differences") {
			t.Fatalf("a stale reply was drawn: %+v\n%s", msg, d.screen())
		}
	}

	// While a comparison runs, r asks nothing more and the screen says Loading….
	be.mu.Lock()
	be.block = make(chan struct{})
	be.mu.Unlock()
	cmd := d.m.Update(panetest.KeyMsg("r"))
	if cmd == nil || !strings.Contains(d.screen(), "Loading…") {
		t.Fatalf("r: no command, or no Loading…:\n%s", d.screen())
	}
	if d.m.Update(panetest.KeyMsg("r")) != nil {
		t.Error("a second r while comparing asked again")
	}
	close(be.block)
	d.run(cmd)
	if !strings.Contains(d.screen(), "object 1 of 3") {
		t.Errorf("after the reply:\n%s", d.screen())
	}
}

// TestCloseEndsTheComparison: esc tells the parent and ends the running call's context.
func TestCloseEndsTheComparison(t *testing.T) {
	be := &fakeBackend{block: make(chan struct{})}
	m := newPane(t, be, instanceTarget, true)
	m.SetSize(80, 24)
	d := &driver{m: m}
	// The command runs on its own goroutine, as in a program; its reply comes back here.
	replies := make(chan any, 1)
	cmd := m.Init()
	go func() { replies <- cmd() }()
	deadline := time.Now().Add(5 * time.Second)
	for len(be.callList()) == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if !strings.Contains(d.screen(), "Loading…") || !strings.Contains(d.screen(), "esc back") {
		t.Errorf("while comparing:\n%s", d.screen())
	}
	d.press("esc")
	if len(d.out) != 1 {
		t.Fatalf("esc sent %v, want ClosedMsg", d.out)
	}
	select {
	case msg := <-replies:
		if m.Update(msg) != nil || strings.Contains(d.screen(), "could not") {
			t.Errorf("the cancelled call's reply was taken:\n%s", d.screen())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the comparison did not end with the pane")
	}
	be.mu.Lock()
	defer be.mu.Unlock()
	if len(be.ended) != 1 || !errors.Is(be.ended[0], context.Canceled) {
		t.Errorf("the call ended with %v, want context.Canceled", be.ended)
	}
	if m.Update(panetest.KeyMsg("r")) != nil {
		t.Error("a closed pane started a comparison")
	}
}

func TestNoBackend(t *testing.T) {
	d := open(t, nil, instanceTarget, 80, 24)
	if !strings.Contains(d.screen(), "no diff is available here") {
		t.Errorf("without a backend:\n%s", d.screen())
	}
}

// TestGeometry: every size, state and scroll position draws exactly the pane's size.
func TestGeometry(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {60, 20}, {40, 6}, {20, 3}, {200, 60}} {
		for _, keys := range [][]string{nil, {"n", "n"}, {"G"}, {"pgdown", "pgdown"}} {
			t.Run(fmt.Sprintf("%dx%d %v", sz[0], sz[1], keys), func(t *testing.T) {
				for _, mono := range []bool{true, false} {
					m := newPane(t, &fakeBackend{result: Result{Instances: []Instance{changedInstance(), sameInstance(scenario.ProdEU)}}}, Target{App: app}, mono)
					m.SetSize(sz[0], sz[1])
					d := &driver{m: m}
					d.run(m.Init())
					d.press(keys...)
					panetest.CheckGeometry(t, m.View(), sz[0], sz[1])
				}
			})
		}
	}
}
