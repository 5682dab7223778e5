package diffpane

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/ui/internal/panetest"
)

var sizes = [][2]int{{80, 24}, {60, 20}}

// TestScreens compares the pane's screens with golden files: loading, the changed objects (and
// after n, and opened on a workload), no differences and an error, at 80x24 and 60x20,
// without colour (readable goldens) and, for the changed objects, in colour.
func TestScreens(t *testing.T) {
	short := fleet.ShortSHA(gitRev)
	changed := Result{Instances: []Instance{changedInstance()}}
	tests := []struct {
		name   string
		colour bool
		target Target
		be     func() *fakeBackend
		first  string
		steps  []step
		want   []string
	}{
		{name: "loading", target: instanceTarget, be: func() *fakeBackend { return &fakeBackend{block: make(chan struct{})} },
			first: "Loading…", want: []string{"Loading… rendering payments-api from git", "esc back"}},
		{name: "changed", colour: true, target: instanceTarget, be: func() *fakeBackend { return &fakeBackend{result: changed} },
			first: "object 1 of 3", want: []string{"3 objects differ", "ConfigMap payments/payments-flags · only in git", "@@ -0,0 +1,7 @@"}},
		{name: "next_object", target: instanceTarget, be: func() *fakeBackend { return &fakeBackend{result: changed} },
			first: "object 1 of 3", steps: []step{{"n", "object 2 of 3"}, {"n", "object 3 of 3"}},
			want: []string{"Deployment.apps payments/payments-api · changed", "-      - image: registry.fleetdeck.test/shop/"}},
		{name: "workload", colour: true, target: Target{App: app, Cluster: cluster, Object: fleet.ObjectRef{Kind: "Deployment", Namespace: deployNS, Name: "payments-api"}},
			be: func() *fakeBackend { return &fakeBackend{result: changed} }, first: "object 3 of 3",
			want: []string{"+      - image: registry.fleetdeck.test/shop/"}},
		{name: "no_differences", target: instanceTarget, be: func() *fakeBackend { return &fakeBackend{result: Result{Instances: []Instance{sameInstance(cluster)}}} },
			first: "no differences:", want: []string{"no differences: live matches git at " + short}},
		{name: "error", target: instanceTarget, be: func() *fakeBackend {
			return &fakeBackend{err: errors.New("cluster prod-us: get apps/v1 Deployment payments/payments-api: connection refused")}
		},
			first: "could not compare", want: []string{"✗ could not compare payments-api on prod-us with git", "r compare again"}},
	}
	for _, tt := range tests {
		for _, sz := range sizes {
			for _, mono := range []bool{true, false} {
				if !mono && (!tt.colour || sz != sizes[0]) {
					continue
				}
				name := fmt.Sprintf("%s_%dx%d_%s", tt.name, sz[0], sz[1], map[bool]string{true: "mono", false: "colour"}[mono])
				t.Run(name, func(t *testing.T) {
					be := tt.be()
					h := runHost(t, &host{pane: newPane(t, be, tt.target, mono)}, sz[0], sz[1], tt.first, tt.steps...)
					got := h.pane.View()
					panetest.CheckGeometry(t, got, sz[0], sz[1])
					plain := ansi.Strip(got)
					for _, w := range tt.want {
						if !strings.Contains(plain, w) && !strings.Contains(strings.Join(strings.Fields(plain), " "), w) {
							t.Errorf("screen lacks %q:\n%s", w, plain)
						}
					}
					if !mono && !strings.Contains(got, "\x1b[") {
						t.Error("the colour screen has no style")
					}
					panetest.Golden(t, name+".golden", got)
				})
			}
		}
	}
}

// TestMonoTellsLinesApart: without colour, additions and removals differ by their prefix and
// carry no colour at all; with colour, they differ by colour too.
func TestMonoTellsLinesApart(t *testing.T) {
	for _, mono := range []bool{true, false} {
		m := newPane(t, &fakeBackend{result: Result{Instances: []Instance{changedInstance()}}},
			Target{App: app, Cluster: cluster, Object: fleet.ObjectRef{Kind: "Deployment", Namespace: deployNS, Name: "payments-api"}}, mono)
		m.SetSize(100, 30)
		d := &driver{m: m}
		d.run(m.Init())
		var add, del string
		for _, l := range strings.Split(m.View(), "\n") {
			switch p := strings.TrimSpace(ansi.Strip(l)); {
			case strings.HasPrefix(p, "+      - image:"):
				add = l
			case strings.HasPrefix(p, "-      - image:"):
				del = l
			}
		}
		if add == "" || del == "" {
			t.Fatalf("mono=%v: no addition or removal on screen:\n%s", mono, ansi.Strip(m.View()))
		}
		hasColour := strings.Contains(add, "38;") || strings.Contains(del, "38;")
		if mono && hasColour {
			t.Errorf("mono screen has colours: %q %q", add, del)
		}
		if !mono && (!hasColour || styleOf(add) == styleOf(del)) {
			t.Errorf("colour screen: addition %q and removal %q are not coloured apart", add, del)
		}
	}
}

// styleOf is the style sequence a rendered line starts with.
func styleOf(l string) string {
	if i := strings.Index(l, "m"); strings.HasPrefix(l, "\x1b[") && i > 0 {
		return l[:i+1]
	}
	return ""
}
