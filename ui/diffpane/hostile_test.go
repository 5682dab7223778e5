package diffpane

import (
	"errors"
	"strings"
	"testing"

	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/ui/internal/panetest"
	"github.com/fleetdeck/fleetdeck/ui/theme"
)

func hostileResult() Result {
	in := changedInstance()
	in.Cluster += panetest.Evil
	in.Branch = "main" + panetest.Evil
	in.Revision = "\x1b]52;c;AAAA\x07" + gitRev
	in.LiveRevision = "\u202e\u009b" + gitRev
	in.Warnings = []string{"not compared: " + panetest.Evil}
	in.Objects = append(in.Objects, Object{Kind: "ConfigMap" + panetest.Evil, Namespace: "ns" + panetest.Evil, Name: "name" + panetest.Evil, Status: Changed,
		Diff: "--- live/" + panetest.Evil + "\n+++ git/x\n@@ -1 +1 @@\n-data: " + panetest.Evil + "\n+data: \x1b[31mred\x1b[0m \x1b[10;10H\u202e\n \tcontext\x1b]52;c;QQ==\x1b\\\r\n"})
	bad := Instance{App: app, Cluster: "staging" + panetest.Evil, Revision: gitRev, Err: "render: " + panetest.Evil}
	return Result{Instances: []Instance{in, bad}}
}

// TestHostileText: escape sequences in object diffs, names, revisions, warnings and errors
// never reach View, whatever the theme, size or scroll position.
func TestHostileText(t *testing.T) {
	plainTheme := theme.Theme{Name: "plain", Mono: true} // no styles at all: any ESC is a leak
	for _, th := range []theme.Theme{plainTheme, testTheme(t, true), testTheme(t, false)} {
		for _, keys := range [][]string{nil, {"n", "n", "n"}, {"G"}} {
			m := New(Options{Target: Target{App: app + panetest.Evil, Object: fleet.ObjectRef{Kind: "ConfigMap" + panetest.Evil, Name: panetest.Evil}},
				Backend: &fakeBackend{result: hostileResult()}, Theme: th})
			m.SetSize(90, 40)
			d := &driver{m: m}
			d.run(m.Init())
			d.press(keys...)
			s := m.View()
			if th.Name == "plain" && strings.Contains(s, "\x1b") {
				t.Errorf("unstyled theme, keys %v: an escape reached the screen: %q", keys, s)
			}
			panetest.AssertSafe(t, th.Name+" "+strings.Join(keys, ""), s)
			if !strings.Contains(s, "data:") {
				t.Errorf("the hostile diff is not shown at all:\n%s", s)
			}
			m.Close()
		}
	}
	// The error screen too.
	m := New(Options{Target: Target{App: app + panetest.Evil, Cluster: panetest.Evil}, Backend: &fakeBackend{err: errors.New(panetest.Evil)}})
	m.SetSize(60, 20)
	d := &driver{m: m}
	d.run(m.Init())
	panetest.AssertSafe(t, "error", m.View())
	m.Close()
}
