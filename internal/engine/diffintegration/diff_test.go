// Package diffintegration checks `fleetdeck diff` on the sandbox fleet: the scenario's hand
// patch, the instance two commits behind and the healthy app, and the normalisation against
// what a real API server defaults.
package diffintegration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fleetdeck/fleetdeck/cli"
	"github.com/fleetdeck/fleetdeck/config"
	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/fleet/diff"
	"github.com/fleetdeck/fleetdeck/gitstate/render"
	"github.com/fleetdeck/fleetdeck/gitstate/treefs"
	"github.com/fleetdeck/fleetdeck/internal/engine"
	"github.com/fleetdeck/fleetdeck/internal/sandbox"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/sandboxtest"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

func TestMain(m *testing.M) { sandboxtest.Main(m) }

// getenv points fleetdeck's git cache at dir.
func getenv(dir string) func(string) string {
	return func(k string) string {
		if k == "XDG_CACHE_HOME" {
			return dir
		}
		return os.Getenv(k)
	}
}

// startEngine runs an engine over the fleet's config until the test ends.
func startEngine(t *testing.T, f *sandbox.Fleet) *engine.Engine {
	t.Helper()
	cfg, _, err := config.Load(f.ConfigPath, os.Getenv)
	if err != nil {
		t.Fatalf("load %s: %v", f.ConfigPath, err)
	}
	cache := t.TempDir()
	eng, err := engine.New(cfg, engine.Options{GitFacts: engine.GitstateFacts, CacheDir: cache, Getenv: getenv(cache)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = eng.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return eng
}

// changedLines are the -/+ lines of a unified diff, without its headers.
func changedLines(d string) []string {
	var out []string
	for _, l := range strings.Split(d, "\n") {
		if (strings.HasPrefix(l, "-") || strings.HasPrefix(l, "+")) && !strings.HasPrefix(l, "---") && !strings.HasPrefix(l, "+++") {
			out = append(out, l)
		}
	}
	return out
}

func differing(objs []diff.Object) []diff.Object {
	return slices.DeleteFunc(slices.Clone(objs), func(o diff.Object) bool { return o.Status == diff.Same })
}

func diffOne(t *testing.T, eng *engine.Engine, app, cluster string) engine.InstanceDiff {
	t.Helper()
	d, err := eng.DiffInstance(context.Background(), app, cluster, 60*time.Second)
	if err != nil {
		t.Fatalf("diff %s on %s: %v", app, cluster, err)
	}
	if d.Err != "" {
		t.Fatalf("diff %s on %s: not compared: %s", app, cluster, d.Err)
	}
	if len(d.Objects) == 0 {
		t.Fatalf("diff %s on %s compared no objects", app, cluster)
	}
	for _, w := range d.Warnings {
		t.Errorf("diff %s on %s: warning: %s", app, cluster, w)
	}
	return d
}

func problem(t *testing.T, kind scenario.ProblemKind) scenario.Problem {
	t.Helper()
	for _, p := range scenario.Problems {
		if p.Kind == kind {
			return p
		}
	}
	t.Fatalf("scenario has no %s problem", kind)
	return scenario.Problem{}
}

func TestDiff(t *testing.T) {
	f := sandboxtest.Fleet(t)
	eng := startEngine(t, f)

	t.Run("hand patch shows exactly the image line", func(t *testing.T) {
		p := problem(t, scenario.HandPatch)
		app, _ := scenario.AppByName(p.App)
		d := diffOne(t, eng, p.App, p.Cluster)
		objs := differing(d.Objects)
		if len(objs) != 1 || objs[0].Kind != "Deployment" || objs[0].Status != diff.Changed {
			t.Fatalf("differing objects %v, want one changed Deployment", refs(objs))
		}
		lines := changedLines(objs[0].Diff)
		if len(lines) != 2 || lines[0] != "-        image: "+app.Image()+":"+scenario.HandPatchTag ||
			!strings.HasPrefix(lines[1], "+        image: "+app.Image()+":") || strings.Contains(lines[1], scenario.HandPatchTag) {
			t.Errorf("changed lines %q, want the hand-patched image against git's; diff:\n%s", lines, objs[0].Diff)
		}
	})

	t.Run("behind shows the changes of the commits not applied", func(t *testing.T) {
		p := problem(t, scenario.Behind)
		d := diffOne(t, eng, p.App, p.Cluster)
		if d.LiveRevision != "" && d.LiveRevision != f.Repo.BehindRevision {
			t.Fatalf("live revision %s, want the scenario's %s", d.LiveRevision, f.Repo.BehindRevision)
		}
		// The oracle: what the two commits change in the app's render, compared the same way.
		want := renderDiff(t, f, p, f.Repo.BehindRevision, d.Revision)
		if len(want) == 0 {
			t.Fatalf("the oracle finds no change between %s and %s", f.Repo.BehindRevision, d.Revision)
		}
		got := map[string][]string{}
		for _, o := range differing(d.Objects) {
			got[o.Ref.String()] = changedLines(o.Diff)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("changed lines per object\n%v\nwant (render at %s against render at %s)\n%v",
				got, fleet.ShortSHA(d.Revision), fleet.ShortSHA(f.Repo.BehindRevision), want)
		}
	})

	t.Run("healthy app has no differences", func(t *testing.T) {
		app, _ := scenario.AppByName(scenario.HealthyApp)
		for cluster := range app.Instances {
			d := diffOne(t, eng, app.Name, cluster)
			if objs := differing(d.Objects); len(objs) > 0 {
				for _, o := range objs {
					t.Errorf("%s on %s: %s %s:\n%s", app.Name, cluster, o.Ref, o.Status, o.Diff)
				}
			}
		}
	})
}

func refs(objs []diff.Object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, string(o.Status)+" "+o.Ref.String())
	}
	return out
}

// renderDiff renders the problem's app at two commits of the sandbox repository, as the
// stand-in operator applies it, and compares them: the changed lines per object.
func renderDiff(t *testing.T, f *sandbox.Fleet, p scenario.Problem, older, newer string) map[string][]string {
	t.Helper()
	app, _ := scenario.AppByName(p.App)
	repo, err := git.PlainOpen(f.RemoteDir)
	if err != nil {
		t.Fatalf("open %s: %v", f.RemoteDir, err)
	}
	renderAt := func(rev string) []map[string]any {
		fsys, _, err := treefs.AtRevision(repo, rev)
		if err != nil {
			t.Fatal(err)
		}
		src := render.Source{Kind: render.Kind(app.Render), Path: app.SourcePath(p.Cluster), ReleaseName: releaseName(app, p.Cluster),
			Namespace: app.Namespace}
		if vf := app.ValuesFile(p.Cluster); vf != "" {
			src.ValuesFiles = []string{vf}
		}
		objs, err := render.Render(fsys, src)
		if err != nil {
			t.Fatalf("render %s at %s: %v", app.Name, fleet.ShortSHA(rev), err)
		}
		var out []map[string]any
		for _, o := range objs {
			out = append(out, o.Object)
		}
		return out
	}
	// The live objects were applied from the older render: an apply records what it set, so
	// what the newer commits removed shows as removed.
	applied := renderAt(older)
	for _, o := range applied {
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{Object: o}
		ann := u.GetAnnotations()
		if ann == nil {
			ann = map[string]string{}
		}
		ann[diff.LastAppliedAnnotation] = string(b)
		u.SetAnnotations(ann)
	}
	objs, _ := diff.Objects(renderAt(newer), applied, diff.Options{})
	out := map[string][]string{}
	for _, o := range differing(objs) {
		out[o.Ref.String()] = changedLines(o.Diff)
	}
	return out
}

// releaseName is the Helm release name Argo CD renders the app's chart with on cluster.
func releaseName(app scenario.App, cluster string) string {
	if app.Instances[cluster] == scenario.ArgoCD {
		return scenario.ArgoAppName(app.Name, cluster)
	}
	return app.Name
}

// TestDiffCommand runs the verb as a user does.
func TestDiffCommand(t *testing.T) {
	f := sandboxtest.Fleet(t)
	cache := t.TempDir()
	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		streams := &cli.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, Getenv: getenv(cache)}
		code := cli.Main(streams, append([]string{"--config", f.ConfigPath}, args...))
		return code, out.String(), errOut.String()
	}
	p := problem(t, scenario.HandPatch)
	code, out, errOut := run("diff", p.App, "--cluster", p.Cluster)
	if code != cli.ExitProblems || !strings.Contains(out, "-        image: ") || !strings.Contains(out, scenario.HandPatchTag) {
		t.Errorf("diff %s --cluster %s: exit %d, want 1 with the patched image; stdout:\n%s\nstderr:\n%s", p.App, p.Cluster, code, out, errOut)
	}
	code, out, errOut = run("diff", scenario.HealthyApp)
	if code != cli.ExitOK || out != "" {
		t.Errorf("diff %s: exit %d and %q, want 0 and nothing; stderr:\n%s", scenario.HealthyApp, code, out, errOut)
	}
	code, _, errOut = run("diff", "no-such-app")
	if code != cli.ExitError || !strings.Contains(errOut, "no such application") {
		t.Errorf("diff no-such-app: exit %d, stderr %q; want 2 and a message", code, errOut)
	}
}

// unstructuredOf is a test helper for the normalisation table.
func unstructuredOf(t *testing.T, s string) *unstructured.Unstructured {
	t.Helper()
	objs, err := render.Decode("fixture", []byte(s))
	if err != nil || len(objs) != 1 {
		t.Fatalf("fixture: %v (%d objects)", err, len(objs))
	}
	return objs[0]
}
