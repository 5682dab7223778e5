package historypane

import (
	"context"
	"errors"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/fleet/fleettest"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
	"github.com/fleetdeck/fleetdeck/ui/internal/fixture"
	"github.com/fleetdeck/fleetdeck/ui/internal/panetest"
	"github.com/fleetdeck/fleetdeck/ui/theme"
)

// The fixture: the history of the sandbox's crashlooping app, whose newest commit is the bad
// image bump, live on the cluster where it crashloops.
var (
	app        = scenario.AuthService
	badBump    = fleettest.FakeSHA(app, "bump", "1.5.0")
	sharedEdit = fleettest.FakeSHA(app, "limits")
	goodBump   = fleettest.FakeSHA(app, "bump", "1.4.0")
	oldBump    = fleettest.FakeSHA(app, "bump", "1.3.0")
	initial    = fleettest.FakeSHA(app, "initial")
	revertSHA  = fleettest.FakeSHA(app, "revert", "1.5.0")
	badProblem = func() scenario.Problem {
		for _, p := range scenario.Problems {
			if p.Kind == scenario.BadBump {
				return p
			}
		}
		panic("the scenario has no bad bump")
	}()
)

func valuesPath(cluster string) string {
	a, _ := scenario.AppByName(app)
	return path.Join(a.Path, a.ValuesFile(cluster))
}

func all(from, to string) []ImageChange {
	var out []ImageChange
	for _, c := range scenario.Clusters {
		out = append(out, ImageChange{Cluster: c, Container: app, From: from, To: to})
	}
	return out
}

func fixtureCommits() []Commit {
	now := fixture.Now
	short := func(s string) string { return fleet.ShortSHA(s) }
	return []Commit{
		{SHA: badBump, Short: short(badBump), Author: "CI Bot", When: now.Add(-2 * time.Hour),
			Subject: "ci(auth-service): bump " + badProblem.Cluster + " image to 1.5.0",
			Images:  []ImageChange{{Cluster: badProblem.Cluster, Container: app, From: "1.4.0", To: "1.5.0"}},
			LiveOn:  []string{badProblem.Cluster}},
		{SHA: sharedEdit, Short: short(sharedEdit), Author: "Ada Lovelace", When: now.Add(-26 * time.Hour),
			Subject: "raise the memory limits of auth-service and payments-api", OtherApps: []string{scenario.PaymentsAPI},
			LiveOn: []string{scenario.ProdEU, scenario.ProdUS}},
		{SHA: goodBump, Short: short(goodBump), Author: "CI Bot", When: now.Add(-3 * 24 * time.Hour),
			Subject: "ci(auth-service): bump image to 1.4.0", Images: all("1.3.0", "1.4.0")},
		{SHA: oldBump, Short: short(oldBump), Author: "CI Bot", When: now.Add(-9 * 24 * time.Hour),
			Subject: "ci(auth-service): bump image to 1.3.0", Images: all("1.2.0", "1.3.0")},
		{SHA: initial, Short: short(initial), Author: "Grace Hopper", When: now.Add(-40 * 24 * time.Hour),
			Subject: "auth-service: first chart", Images: all("", "1.2.0")},
	}
}

func badBumpDiff() string {
	p := valuesPath(badProblem.Cluster)
	return "diff --git a/" + p + " b/" + p + "\n" +
		"index 3f2a1b4..9c8d7e6 100644\n" +
		"--- a/" + p + "\n" +
		"+++ b/" + p + "\n" +
		"@@ -1,7 +1,7 @@\n" +
		" image:\n" +
		"   repository: " + scenario.Registry + "/" + app + "\n" +
		"-  tag: 1.5.0\n" +
		"+  tag: 1.4.0\n" +
		" replicas: 2\n" +
		" resources:\n" +
		"   limits:\n" +
		"     memory: 256Mi\n"
}

func sharedDiff(paths ...string) string {
	var b strings.Builder
	for _, p := range paths {
		b.WriteString("diff --git a/" + p + " b/" + p + "\n--- a/" + p + "\n+++ b/" + p + "\n" +
			"@@ -4,3 +4,3 @@ resources:\n   limits:\n-    memory: 512Mi\n+    memory: 256Mi\n")
	}
	return b.String()
}

func fixturePreviews() map[string]Preview {
	a, _ := scenario.AppByName(app)
	pay, _ := scenario.AppByName(scenario.PaymentsAPI)
	return map[string]Preview{
		previewKey(badBump, Revert): {SHA: badBump, Mode: Revert, Diff: badBumpDiff(), Clusters: []string{badProblem.Cluster}},
		previewKey(sharedEdit, Revert): {SHA: sharedEdit, Mode: Revert, Clusters: scenario.Clusters,
			OtherApps: []string{scenario.PaymentsAPI}, Diff: sharedDiff(a.Path+"/values.yaml", pay.Path+"/values.yaml")},
		previewKey(sharedEdit, AppOnly): {SHA: sharedEdit, Mode: AppOnly, Clusters: scenario.Clusters,
			OtherApps: []string{scenario.PaymentsAPI}, Diff: sharedDiff(a.Path + "/values.yaml")},
		previewKey(goodBump, Revert): {SHA: goodBump, Mode: Revert, Clusters: scenario.Clusters,
			Conflicts: []string{valuesPath(badProblem.Cluster)}},
		previewKey(goodBump, Rollback): {SHA: goodBump, Mode: Rollback, Clusters: []string{badProblem.Cluster},
			Diff: badBumpDiff()},
	}
}

func previewKey(sha string, mode Mode) string { return sha + "/" + mode.String() }

type previewCall struct {
	SHA  string
	Mode Mode
}

type applyCall struct {
	SHA    string
	Mode   Mode
	Reason string
	Push   bool
}

// fakeBackend serves the fixture and records every call. Calls run in tea.Cmds, on the
// program's goroutines under teatest: the fields are guarded.
type fakeBackend struct {
	mu         sync.Mutex
	commits    []Commit
	previews   map[string]Preview
	historyErr error
	previewErr error
	applyErrs  []error       // returned by successive Apply calls; nil afterwards
	block      chan struct{} // when set, History waits for it or for its context
	ctxErrs    []error       // the context errors blocked History calls ended with

	historyCalls int
	previewCalls []previewCall
	applyCalls   []applyCall
}

func newFake() *fakeBackend {
	return &fakeBackend{commits: fixtureCommits(), previews: fixturePreviews()}
}

func (f *fakeBackend) History(ctx context.Context, app string, limit int) ([]Commit, error) {
	f.mu.Lock()
	f.historyCalls++
	block := f.block
	f.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			f.mu.Lock()
			f.ctxErrs = append(f.ctxErrs, ctx.Err())
			f.mu.Unlock()
			return nil, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.historyErr != nil {
		return nil, f.historyErr
	}
	return slices.Clone(f.commits[:min(limit, len(f.commits))]), nil
}

func (f *fakeBackend) Preview(ctx context.Context, app, sha string, mode Mode) (Preview, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.previewCalls = append(f.previewCalls, previewCall{sha, mode})
	if f.previewErr != nil {
		return Preview{}, f.previewErr
	}
	p, ok := f.previews[previewKey(sha, mode)]
	if !ok {
		return Preview{SHA: sha, Mode: mode, Err: "nothing to revert: the branch head already has that content"}, nil
	}
	return p, nil
}

func (f *fakeBackend) Apply(ctx context.Context, app, sha string, mode Mode, reason string, push bool) (Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.applyCalls = append(f.applyCalls, applyCall{sha, mode, reason, push})
	if len(f.applyErrs) > 0 {
		err := f.applyErrs[0]
		f.applyErrs = f.applyErrs[1:]
		if err != nil {
			return Result{}, err
		}
	}
	branch := "fleetdeck/revert-" + app + "-" + fleet.ShortSHA(sha)
	res := Result{Commit: revertSHA, Branch: branch,
		Message: "The commit is on local branch " + branch + " in fleetdeck's clone. Push it with: fleetdeck revert " + app + " " + fleet.ShortSHA(sha) + " --push"}
	if push {
		res.Pushed = scenario.Branch
		res.Message = "The operator rolls " + app + " back on " + badProblem.Cluster + " at its next sync."
	}
	// The revert is now the newest commit of the app's paths.
	f.commits = append([]Commit{{SHA: revertSHA, Short: fleet.ShortSHA(revertSHA), Author: "Ops Person",
		When: fixture.Now, Subject: `Revert "` + f.commits[0].Subject + `"`}}, f.commits...)
	return res, nil
}

func (f *fakeBackend) calls() (history int, previews []previewCall, applies []applyCall) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.historyCalls, slices.Clone(f.previewCalls), slices.Clone(f.applyCalls)
}

var errMoved = errors.New("branch main moved on the remote since the revert was planned (planned on 1a2b3c4, now 5d6e7f8): nothing was pushed; fetch, plan again and confirm again")

func testTheme(t testing.TB, mono bool) theme.Theme {
	t.Helper()
	th, err := theme.New("", mono)
	if err != nil {
		t.Fatal(err)
	}
	return th
}

func newPane(t testing.TB, be Backend, readOnly, mono bool) *Model {
	t.Helper()
	m := New(Options{App: app, Backend: be, ReadOnly: readOnly, Theme: testTheme(t, mono), Now: func() time.Time { return fixture.Now }})
	t.Cleanup(m.Close)
	return m
}

// driver runs a pane without a program: each command runs at once and its messages go back
// to the pane, except those meant for the parent, which are kept.
type driver struct {
	t   testing.TB
	m   *Model
	out []tea.Msg
}

func (d *driver) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	switch msg := cmd().(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range msg {
			d.run(c)
		}
	case ClosedMsg, RevertDoneMsg:
		d.out = append(d.out, msg)
	default:
		d.run(d.m.Update(msg))
	}
}

func (d *driver) press(keys ...string) {
	for _, k := range keys {
		d.run(d.m.Update(panetest.KeyMsg(k)))
	}
}

func (d *driver) typeText(s string) {
	for _, r := range s {
		d.run(d.m.Update(tea.KeyPressMsg{Code: r, Text: string(r)}))
	}
}

func (d *driver) screen() string { return ansi.Strip(d.m.View()) }

// open is a pane of size w×h with its history loaded.
func open(t testing.TB, be Backend, readOnly bool, w, h int) *driver {
	t.Helper()
	m := newPane(t, be, readOnly, true)
	m.SetSize(w, h)
	d := &driver{t: t, m: m}
	d.run(m.Init())
	return d
}
