package ui

import (
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
	"github.com/fleetdeck/fleetdeck/ui/internal/fixture"
	"github.com/fleetdeck/fleetdeck/ui/internal/panetest"
	"github.com/fleetdeck/fleetdeck/ui/tree"
)

// selectedTitle names the selected row as the details divider does.
func selectedTitle(m *model) string {
	row, ok := m.selected()
	if !ok {
		return ""
	}
	return rowTitle(row)
}

// appNames lists the application rows shown, in order.
func appRows(m *model) []string {
	var out []string
	for _, r := range m.rows {
		if r.Level == tree.LevelApp {
			out = append(out, r.App.Name)
		}
	}
	return out
}

// pressCmd sends one key and returns the command Update gave back.
func pressCmd(m *model, k string) tea.Cmd {
	_, cmd := m.Update(panetest.KeyMsg(k))
	return cmd
}

func isQuit(cmd tea.Cmd) bool {
	if cmd == nil {
		return false
	}
	_, ok := cmd().(tea.QuitMsg)
	return ok
}

func TestNavigation(t *testing.T) {
	nw, auth := scenario.NotificationWorker, scenario.AuthService
	tests := []struct {
		name     string
		keys     []string
		selected string
		rows     int // visible rows, 0: the 7 applications
	}{
		{"starts on the worst app", nil, nw, 0},
		{"j moves down", []string{"j"}, auth, 0},
		{"down arrow moves down", []string{"down"}, auth, 0},
		{"k at the top stays", []string{"k", "up"}, nw, 0},
		{"j then k comes back", []string{"j", "j", "k"}, auth, 0},
		{"G goes to the bottom", []string{"G"}, scenario.Ledger, 0},
		{"g goes to the top", []string{"G", "g"}, nw, 0},
		{"end and home", []string{"end", "home"}, nw, 0},
		{"j past the bottom stays", []string{"G", "j", "j"}, scenario.Ledger, 0},
		{"pgdown pages", []string{"pgdown"}, scenario.Ledger, 0},
		{"right expands in place", []string{"right"}, nw, 9},
		{"right arrow expands", []string{"right"}, nw, 9},
		{"right on an expanded row enters it", []string{"right", "right"}, nw + " on prod-us", 9},
		{"h goes to the parent, still open", []string{"right", "right", "h"}, nw, 9},
		{"h collapses", []string{"right", "h"}, nw, 7},
		{"left arrow collapses", []string{"right", "left"}, nw, 7},
		{"enter toggles open", []string{"enter"}, nw, 9},
		{"enter toggles closed", []string{"enter", "enter"}, nw, 7},
		{"space toggles", []string{"space"}, nw, 9},
		{"down to the pod of a workload", []string{"right", "right", "right", "right", "right", "right"}, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fm := fixture.Sandbox()
			m := newTestModel(t, Options{}, 160, 48, &fm)
			press(m, tt.keys...)
			row, ok := m.selected()
			if !ok {
				t.Fatal("nothing selected")
			}
			if tt.selected == "" { // the pod case: the deepest level is reached
				if row.Level != tree.LevelPod {
					t.Fatalf("selected %q at level %d, want a pod", selectedTitle(m), row.Level)
				}
				return
			}
			if got := selectedTitle(m); got != tt.selected {
				t.Errorf("selected %q, want %q", got, tt.selected)
			}
			want := tt.rows
			if want == 0 {
				want = len(fm.Apps)
			}
			if len(m.rows) != want {
				t.Errorf("%d rows visible, want %d", len(m.rows), want)
			}
			if m.sel != row.Key {
				t.Errorf("selection key %+v does not match the row under the cursor %+v", m.sel, row.Key)
			}
		})
	}
}

// TestScrollKeepsCursorVisible: moving past the window scrolls it.
func TestScrollKeepsCursorVisible(t *testing.T) {
	fm := fixture.Large(3, 40, 2)
	m := newTestModel(t, Options{}, 80, 24, &fm)
	for range 30 {
		press(m, "j")
	}
	if m.cursor != 30 {
		t.Fatalf("cursor %d, want 30", m.cursor)
	}
	if h := m.treeHeight(); m.cursor < m.offset || m.cursor >= m.offset+h {
		t.Fatalf("cursor %d outside the window [%d, %d)", m.cursor, m.offset, m.offset+h)
	}
	if !strings.Contains(plain(m), "› ") {
		t.Errorf("the selected row is not on screen:\n%s", plain(m))
	}
}

// TestWorstFirst: problems sort to the top, the worst app is selected at start, and its
// details take at most two key presses at every size.
func TestWorstFirst(t *testing.T) {
	fm := fixture.Sandbox()
	m := newTestModel(t, Options{}, 80, 24, &fm)
	for i := 1; i < len(m.rows); i++ {
		if m.rows[i].Severity() > m.rows[i-1].Severity() {
			t.Errorf("row %d (%s, %s) sorts after a less severe row (%s)", i, m.rows[i].App.Name, m.rows[i].Severity(), m.rows[i-1].Severity())
		}
	}
	got := appRows(m)
	for _, p := range scenario.Problems {
		if i := slices.Index(got, p.App); i < 0 || i >= len(scenario.Problems) {
			t.Errorf("app %s with the injected problem %s is at row %d, want among the first %d: %v", p.App, p.Kind, i, len(scenario.Problems), got)
		}
	}
	if got[0] != scenario.NotificationWorker {
		t.Fatalf("first row %s, want the critical %s", got[0], scenario.NotificationWorker)
	}
	for _, tt := range []struct {
		w, h int
		keys []string
	}{
		{160, 48, nil},
		{80, 24, nil},
		{60, 20, []string{"tab"}},
	} {
		m := newTestModel(t, Options{}, tt.w, tt.h, &fm)
		press(m, tt.keys...)
		if len(tt.keys) > 2 {
			t.Fatalf("%dx%d: %d keys to the details", tt.w, tt.h, len(tt.keys))
		}
		if screen := plain(m); !strings.Contains(screen, "ImagePullBackOff") {
			t.Errorf("%dx%d after %v: the worst app's details (ImagePullBackOff) are not on screen:\n%s", tt.w, tt.h, tt.keys, screen)
		}
	}
}

// TestSelectionFollowsUpdates: a new model keeps the selected row and the expanded rows by
// name, wherever they moved.
func TestSelectionFollowsUpdates(t *testing.T) {
	fm := fixture.Sandbox()
	m := newTestModel(t, Options{}, 160, 48, &fm)
	press(m, "j", "right") // auth-service, expanded
	m.Update(modelMsg{fixture.Recovered()})
	if got := selectedTitle(m); got != scenario.AuthService {
		t.Fatalf("after the update the selection is %q, want %q", got, scenario.AuthService)
	}
	if row, _ := m.selected(); !row.Expanded {
		t.Errorf("%s was collapsed by the update", scenario.AuthService)
	}

	// The selected app vanishes: the cursor stays in range and lands on a row.
	gone := fixture.Sandbox()
	gone.Apps = slices.DeleteFunc(gone.Apps, func(a fleet.Application) bool { return a.Name == scenario.AuthService })
	m.Update(modelMsg{gone})
	if _, ok := m.selected(); !ok || slices.Contains(appRows(m), scenario.AuthService) {
		t.Fatalf("after %s vanished: selected %q, rows %v", scenario.AuthService, selectedTitle(m), appRows(m))
	}
	m.Update(modelMsg{fleet.Model{}})
	if !strings.Contains(plain(m), "No applications found") {
		t.Errorf("an empty fleet does not say so:\n%s", plain(m))
	}
}

func TestProblemsOnly(t *testing.T) {
	fm := fixture.Sandbox()
	m := newTestModel(t, Options{}, 80, 24, &fm)
	press(m, "p")
	for _, r := range m.rows {
		if r.Severity() == fleet.SeverityOK {
			t.Errorf("problems only shows %s, which is fine", r.App.Name)
		}
	}
	if got := appRows(m); len(got) != 5 || slices.Contains(got, scenario.Ledger) || slices.Contains(got, scenario.CatalogAPI) {
		t.Errorf("problems only shows %v, want the 5 apps with problems", got)
	}
	if !strings.Contains(plain(m), "[problems only]") {
		t.Errorf("the footer does not say problems only:\n%s", plain(m))
	}
	press(m, "p")
	if len(m.rows) != len(fm.Apps) {
		t.Errorf("p again shows %d rows, want %d", len(m.rows), len(fm.Apps))
	}
	press(m, "p", "esc")
	if m.filter.ProblemsOnly {
		t.Error("esc did not clear problems only")
	}
}

func TestFilter(t *testing.T) {
	tests := []struct {
		name, query string
		want        []string
	}{
		{"app name, fuzzy", "ntfwrk", []string{scenario.NotificationWorker}},
		{"app name prefix", "ledg", []string{scenario.Ledger}},
		{"namespace", "notifications", []string{scenario.NotificationWorker}},
		{"image tag", "hotfix", []string{scenario.PaymentsAPI}},
		{"cluster", "prod-eu", []string{scenario.AuthService, scenario.CheckoutWeb, scenario.PaymentsAPI, scenario.SearchIndexer, scenario.CatalogAPI, scenario.Ledger}},
		{"nothing", "zzzz", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fm := fixture.Sandbox()
			m := newTestModel(t, Options{}, 80, 24, &fm)
			press(m, "/")
			typeText(m, tt.query)
			got := appRows(m)
			slices.Sort(got)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("/%s shows %v, want %v", tt.query, got, want)
			}
			if len(tt.want) == 0 && !strings.Contains(plain(m), "Nothing matches the filters") {
				t.Errorf("an empty result does not say so:\n%s", plain(m))
			}
			press(m, "enter")
			if m.overlay != overlayNone || m.filter.Query != tt.query {
				t.Fatalf("enter: overlay %d, query %q; want the filter kept", m.overlay, m.filter.Query)
			}
			if !strings.Contains(plain(m), "[/"+tt.query+"]") {
				t.Errorf("the footer does not show the kept filter:\n%s", plain(m))
			}
			press(m, "esc")
			if m.filter.Query != "" || len(m.rows) != len(fm.Apps) {
				t.Errorf("esc left query %q and %d rows", m.filter.Query, len(m.rows))
			}
		})
	}
}

func TestFilterEditing(t *testing.T) {
	fm := fixture.Sandbox()
	m := newTestModel(t, Options{}, 80, 24, &fm)
	press(m, "/")
	typeText(m, "ledgx")
	press(m, "backspace")
	if got := appRows(m); !slices.Equal(got, []string{scenario.Ledger}) {
		t.Fatalf("after backspace /%s shows %v", m.input, got)
	}
	press(m, "esc") // esc while typing drops the filter
	if m.overlay != overlayNone || m.filter.Query != "" || len(m.rows) != len(fm.Apps) {
		t.Fatalf("esc while typing: overlay %d, query %q, %d rows", m.overlay, m.filter.Query, len(m.rows))
	}
	press(m, "/", "q") // q is text while typing, not quit
	if m.overlay != overlayFilter || m.input != "q" {
		t.Fatalf("q while typing: overlay %d, input %q", m.overlay, m.input)
	}
}

func TestHelp(t *testing.T) {
	fm := fixture.Sandbox()
	m := newTestModel(t, Options{}, 160, 48, &fm)
	press(m, "?")
	screen := plain(m)
	// The help screen is generated from the key maps: every binding is on it.
	for _, g := range m.keys.helpGroups() {
		if !strings.Contains(screen, g.Title) {
			t.Errorf("help lacks the group %q", g.Title)
		}
		for _, b := range g.Bindings {
			h := b.Help()
			if !strings.Contains(screen, h.Key) || !strings.Contains(screen, h.Desc) {
				t.Errorf("help lacks %s %q", h.Key, h.Desc)
			}
		}
	}
	for _, c := range paletteCommands {
		if !strings.Contains(screen, c.Help) {
			t.Errorf("help lacks the command %s (%s)", c.Name, c.Help)
		}
	}

	for _, k := range []string{"esc", "?", "q"} {
		m := newTestModel(t, Options{}, 80, 24, &fm)
		press(m, "?")
		if cmd := pressCmd(m, k); isQuit(cmd) {
			t.Errorf("%s in help quits, want it to close help", k)
		}
		if m.overlay != overlayNone {
			t.Errorf("%s does not close help", k)
		}
	}

	// At 60x20 the help is longer than the screen: j scrolls it, k scrolls back.
	m = newTestModel(t, Options{}, 60, 20, &fm)
	press(m, "?")
	first := plain(m)
	if !strings.Contains(first, "more lines") {
		t.Fatalf("help at 60x20 does not say there is more:\n%s", first)
	}
	press(m, "j", "j")
	if plain(m) == first {
		t.Error("j does not scroll the help")
	}
	press(m, "k", "k")
	if plain(m) != first {
		t.Error("k does not scroll the help back")
	}
	if !isQuit(pressCmd(m, "ctrl+c")) {
		t.Error("ctrl+c in help does not quit")
	}
}

func TestQuitKeys(t *testing.T) {
	fm := fixture.Sandbox()
	for _, k := range []string{"q", "ctrl+c"} {
		m := newTestModel(t, Options{}, 80, 24, &fm)
		if !isQuit(pressCmd(m, k)) {
			t.Errorf("%s does not quit", k)
		}
	}
	m := newTestModel(t, Options{}, 80, 24, &fm)
	press(m, ":")
	typeText(m, "q")
	if !isQuit(pressCmd(m, "enter")) {
		t.Error(":q does not quit")
	}
}

// TestUnreachableCluster: one unreachable cluster is shown in the header with its age, and
// the other clusters' instances keep their live state.
func TestUnreachableCluster(t *testing.T) {
	fm := fixture.Unreachable(scenario.Staging, 3*time.Minute)
	now := fixture.Now
	m := newTestModel(t, Options{NoColor: true}, 160, 48, &fm)
	m.clock = func() time.Time { return now }
	screen := plain(m)
	for _, want := range []string{"✗ staging unreachable 3m ago", "✓ prod-eu synced", "✓ prod-us synced"} {
		if !strings.Contains(screen, want) {
			t.Errorf("header lacks %q:\n%s", want, screen)
		}
	}
	press(m, "right", "right") // notification-worker on prod-us
	if got := selectedTitle(m); got != scenario.NotificationWorker+" on prod-us" {
		t.Fatalf("selected %q", got)
	}
	row, _ := m.selected()
	if row.Instance.Health.Status != fleet.Progressing {
		t.Errorf("prod-us instance health %s, want its live Progressing", row.Instance.Health.Status)
	}
	if !strings.Contains(plain(m), "… Progressing") {
		t.Errorf("the prod-us instance does not show its live health:\n%s", plain(m))
	}

	// The age of a cluster that is not live moves on without an update from the engine.
	cmd := m.scheduleAgeTick()
	if cmd == nil {
		t.Fatal("no age refresh is scheduled for an unreachable cluster")
	}
	now = now.Add(time.Minute)
	m.Update(ageTickMsg{gen: m.tickGen})
	if !strings.Contains(plain(m), "✗ staging unreachable 4m ago") {
		t.Errorf("a minute later the header does not say 4m:\n%s", plain(m))
	}
	m.Update(ageTickMsg{gen: m.tickGen - 1}) // stale tick: ignored
	now = now.Add(time.Hour)
	m.Update(ageTickMsg{gen: m.tickGen - 1})
	if !strings.Contains(plain(m), "4m ago") {
		t.Errorf("a stale tick refreshed the ages:\n%s", plain(m))
	}

	// A fleet whose clusters are all live needs no timer at all.
	all := fixture.Sandbox()
	m.Update(modelMsg{all})
	if m.scheduleAgeTick() != nil {
		t.Error("a timer is scheduled although every cluster is live")
	}
}

// TestConnectingCluster: a cluster still on its first list shows as connecting; the others'
// applications are all there.
func TestConnectingCluster(t *testing.T) {
	s := fixture.SandboxSnapshot()
	for i := range s.Clusters {
		if s.Clusters[i].Name == scenario.ProdUS {
			s.Clusters[i] = fleet.ClusterState{Name: scenario.ProdUS, State: fleet.ConnConnecting}
		}
	}
	fm := fleet.Build(s)
	m := newTestModel(t, Options{NoColor: true}, 80, 24, &fm)
	screen := plain(m)
	if !strings.Contains(screen, "… prod-us connecting") {
		t.Errorf("header lacks the connecting cluster:\n%s", screen)
	}
	if len(appRows(m)) != len(scenario.Apps) {
		t.Errorf("%d apps shown, want all %d", len(appRows(m)), len(scenario.Apps))
	}
}

func TestUntilAgeChanges(t *testing.T) {
	tests := []struct {
		age, want time.Duration
	}{
		{0, time.Minute + 10*time.Millisecond},
		{90 * time.Second, 30*time.Second + 10*time.Millisecond},
		{3 * time.Hour, time.Hour + 10*time.Millisecond},
		{50 * time.Hour, 22*time.Hour + 10*time.Millisecond},
		{-5 * time.Second, 6 * time.Second},
	}
	for _, tt := range tests {
		if got := untilAgeChanges(tt.age); got != tt.want {
			t.Errorf("untilAgeChanges(%v) = %v, want %v", tt.age, got, tt.want)
		}
	}
}

func TestPalette(t *testing.T) {
	tests := []struct {
		line     string
		selected string
		cluster  string
		status   string
	}{
		{"app ledger", scenario.Ledger, "", ""},
		{"app led", scenario.Ledger, "", ""},
		{"app pmtsapi", scenario.PaymentsAPI, "", ""},
		{"cluster prod-us", scenario.NotificationWorker, scenario.ProdUS, ""},
		{"cluster nowhere", scenario.NotificationWorker, "", `no cluster matches "nowhere"`},
		{"app", scenario.NotificationWorker, "", "app: name an application"},
		{"deploy", scenario.NotificationWorker, "", `unknown command "deploy"`},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			fm := fixture.Sandbox()
			m := newTestModel(t, Options{}, 80, 24, &fm)
			press(m, ":")
			typeText(m, tt.line)
			press(m, "enter")
			if got := selectedTitle(m); got != tt.selected {
				t.Errorf("selected %q, want %q", got, tt.selected)
			}
			if m.filter.Cluster != tt.cluster {
				t.Errorf("cluster filter %q, want %q", m.filter.Cluster, tt.cluster)
			}
			if tt.status != "" && !strings.Contains(m.status, tt.status) {
				t.Errorf("status %q, want it to contain %q", m.status, tt.status)
			}
		})
	}

	// :app finds an application hidden by the filters, clearing them.
	fm := fixture.Sandbox()
	m := newTestModel(t, Options{}, 80, 24, &fm)
	press(m, "p", ":")
	typeText(m, "app ledger")
	press(m, "enter")
	if selectedTitle(m) != scenario.Ledger || m.filter.ProblemsOnly {
		t.Errorf(":app ledger under problems only: selected %q, problems only %v", selectedTitle(m), m.filter.ProblemsOnly)
	}

	// Tab completes the command, then the name.
	m = newTestModel(t, Options{}, 80, 24, &fm)
	press(m, ":")
	typeText(m, "cl")
	press(m, "tab")
	typeText(m, "prod-e")
	press(m, "tab")
	if m.input != "cluster prod-eu" {
		t.Errorf("completed to %q, want %q", m.input, "cluster prod-eu")
	}
}

// TestWorstStaysSelectedWhileLoading: until the user moves, the cursor stays on the top row,
// so the worst app is selected however the order changes while clusters and git load.
func TestWorstStaysSelectedWhileLoading(t *testing.T) {
	loading := fixture.Sandbox()
	// While git loads, a healthy app sorts first (say, Unknown until its facts arrive).
	slices.Reverse(loading.Apps)
	m := newTestModel(t, Options{}, 160, 48, &loading)
	first := selectedTitle(m)
	done := fixture.Sandbox()
	m.Update(modelMsg{done})
	if got, want := selectedTitle(m), done.Apps[0].Name; got != want {
		t.Fatalf("after loading the selection is %q (was %q), want the worst app %q", got, first, want)
	}
	// Once the user has picked a row, updates keep it.
	press(m, "j")
	picked := selectedTitle(m)
	m.Update(modelMsg{loading})
	if got := selectedTitle(m); got != picked {
		t.Errorf("after the user moved, an update moved the selection from %q to %q", picked, got)
	}
}
