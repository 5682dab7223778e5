package syncpane

import (
	"errors"
	"strings"
	"testing"

	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
	"github.com/fleetdeck/fleetdeck/ui/internal/panetest"
	"github.com/fleetdeck/fleetdeck/ui/theme"
)

// TestHostileText: escape sequences in cluster and object names and in the operators' words
// never reach View, in any stage and theme.
func TestHostileText(t *testing.T) {
	hostile := func(tg Target) Target {
		tg.Cluster += panetest.Evil
		tg.Namespace += panetest.Evil
		tg.Name += panetest.Evil
		tg.ObjectCluster += panetest.Evil
		return tg
	}
	plan := Plan{App: app + panetest.Evil, Targets: []Target{hostile(argo(app, scenario.ProdEU)), hostile(flux(app, scenario.Staging)), hostile(declared(app, scenario.ProdUS))}}
	plainTheme := theme.Theme{Name: "plain", Mono: true} // no styles at all: any ESC is a leak
	for _, th := range []theme.Theme{plainTheme, testTheme(t, true), testTheme(t, false)} {
		for _, keys := range [][]string{nil, {"y"}} {
			be := newFake(plan)
			for c, ps := range be.phases {
				for i := range ps {
					ps[i].Text += " " + panetest.Evil
				}
				be.phases[c+panetest.Evil] = ps
			}
			m := New(Options{App: app + panetest.Evil, Cluster: panetest.Evil, Backend: be, Theme: th, Now: fixture0})
			m.SetSize(90, 40)
			d := &driver{m: m}
			d.run(m.Init())
			d.press(keys...)
			s := m.View()
			if th.Name == "plain" && strings.Contains(s, "\x1b") {
				t.Errorf("unstyled theme, keys %v: an escape reached the screen: %q", keys, s)
			}
			panetest.AssertSafe(t, th.Name+" "+strings.Join(keys, ""), s)
			if len(keys) > 0 && !strings.Contains(s, "Succeeded") {
				t.Errorf("the hostile progress is not shown:\n%s", s)
			}
			m.Close()
		}
	}
	m := New(Options{App: app + panetest.Evil, Backend: &fakeSync{planErr: errors.New(panetest.Evil)}})
	m.SetSize(60, 20)
	d := &driver{m: m}
	d.run(m.Init())
	panetest.AssertSafe(t, "plan error", m.View())
	m.Close()
}
