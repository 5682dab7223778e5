package syncpane

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
	"github.com/fleetdeck/fleetdeck/ui/internal/panetest"
)

var sizes = [][2]int{{80, 24}, {60, 20}}

// TestScreens compares the dialog's screens with golden files: the confirmation (with
// Argo CD and Flux, with a declared instance, with nothing to sync), the read-only refusal,
// the progress while two operators work, and the outcome, at 80x24 and 60x20, without colour
// (readable goldens) and, for the confirmation, the refusal and the outcome, in colour.
func TestScreens(t *testing.T) {
	tests := []struct {
		name     string
		colour   bool
		readOnly bool
		plan     Plan
		setup    func(*fakeSync)
		first    string
		steps    []step
		logs     int // phases to wait for after the steps
		want     []string
	}{
		{name: "confirm", colour: true, plan: catalogPlan(), first: "y sync 3 clusters",
			want: []string{"Argo CD Application argocd/catalog-api-prod-us on prod-eu", "Flux Kustomization flux-system/catalog-api on staging"}},
		{name: "declared", plan: mixedPlan(), first: "y sync 2 clusters",
			want: []string{"staging no operator: fleetdeck never applies manifests"}},
		{name: "no_operator", plan: ledgerPlan(), first: "nothing to sync",
			want: []string{"✗ nothing to sync: no GitOps operator applies ledger", "esc back"}},
		{name: "readonly", colour: true, readOnly: true, plan: catalogPlan(), first: "read-only mode",
			want: []string{"READ-ONLY", "sync is disabled in read-only mode", "esc back"}},
		{name: "progress", plan: catalogPlan(), first: "y sync 3 clusters",
			setup: func(f *fakeSync) { f.hold[scenario.ProdUS], f.hold[scenario.Staging] = 3, 2 },
			steps: []step{{"y", "1 of 3 finished"}}, logs: 4 + 3 + 2,
			want: []string{"prod-eu ✓ Succeeded", "prod-us … Running", "staging … Pending", "esc stop following (the operators carry on)"}},
		{name: "finished", colour: true, plan: catalogPlan(), first: "y sync 3 clusters",
			steps: []step{{"y", "finished"}}, logs: 4 + 4 + 4,
			want: []string{"✗ 1 of 3 syncs did not succeed", "staging ✗ Failed", "esc back"}},
	}
	for _, tt := range tests {
		for _, sz := range sizes {
			for _, mono := range []bool{true, false} {
				if !mono && (!tt.colour || sz != sizes[0]) {
					continue
				}
				name := fmt.Sprintf("%s_%dx%d_%s", tt.name, sz[0], sz[1], map[bool]string{true: "mono", false: "colour"}[mono])
				t.Run(name, func(t *testing.T) {
					be := newFake(tt.plan)
					if tt.setup != nil {
						tt.setup(be)
					}
					hs := &host{pane: newPane(t, be, tt.plan.App, "", tt.readOnly, mono)}
					// Every phase is in before the program stops, whatever the order the
					// clusters' answers arrive in.
					hs.wantLogs = tt.logs
					h := runHost(t, hs, sz[0], sz[1], tt.first, tt.steps...)
					got := h.pane.View()
					panetest.CheckGeometry(t, got, sz[0], sz[1])
					plain := panetest.Flat(ansi.Strip(got))
					for _, w := range tt.want {
						if !strings.Contains(plain, panetest.Flat(w)) {
							t.Errorf("screen lacks %q:\n%s", w, ansi.Strip(got))
						}
					}
					panetest.Golden(t, name+".golden", got)
				})
			}
		}
	}
}

// TestLeaveWhileFollowing: esc waits until every request was answered, then stops following:
// the pane's contexts end (the operators carry on with what was asked).
func TestLeaveWhileFollowing(t *testing.T) {
	be := newFake(catalogPlan())
	be.hold[scenario.ProdEU], be.hold[scenario.ProdUS], be.hold[scenario.Staging] = 2, 0, 1
	hs := &host{pane: newPane(t, be, app, "", false, true)}
	tm := startHost(t, hs, 80, 24)
	waitScreen(t, hs, "y sync 3 clusters")
	tm.Send(panetest.KeyMsg("y"))
	waitScreen(t, hs, "writing the requests…")
	// prod-us never answers its request: esc must not leave.
	tm.Send(panetest.KeyMsg("esc"))
	waitScreen(t, hs, "the requests are being written")
	hs.mu.Lock()
	closed := hs.closed
	hs.mu.Unlock()
	if closed {
		t.Fatal("esc left while a request was being written")
	}
	stopHost(t, tm)

	be = newFake(catalogPlan())
	be.hold[scenario.ProdEU], be.hold[scenario.ProdUS], be.hold[scenario.Staging] = 2, 1, 1
	hs = &host{pane: newPane(t, be, app, "", false, true)}
	tm = startHost(t, hs, 80, 24)
	waitScreen(t, hs, "y sync 3 clusters")
	tm.Send(panetest.KeyMsg("y"))
	waitScreen(t, hs, "esc stop following")
	tm.Send(panetest.KeyMsg("esc"))
	deadline := time.Now().Add(5 * time.Second)
	for {
		be.mu.Lock()
		n := len(be.ended)
		be.mu.Unlock()
		hs.mu.Lock()
		closed := hs.closed
		hs.mu.Unlock()
		if closed && n == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after esc: closed %v, %d of 3 requests no longer followed", closed, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	stopHost(t, tm)
}
