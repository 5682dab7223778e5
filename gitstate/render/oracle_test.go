package render_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	git "github.com/go-git/go-git/v5"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fleetdeck/fleetdeck/gitstate/render"
	"github.com/fleetdeck/fleetdeck/gitstate/treefs"
	"github.com/fleetdeck/fleetdeck/internal/oracles"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/monorepo"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

// TestRenderEqualsHelmAndKustomizeCLIs renders every app of the sandbox's
// monorepo for every cluster it runs on, from git objects at HEAD, and
// compares the objects with what `helm template` and `kustomize build` (built
// from the module proxy) print for a checkout of the same commit made by the
// git CLI.
func TestRenderEqualsHelmAndKustomizeCLIs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the helm and kustomize CLIs")
	}
	tools, err := oracles.Ensure(context.Background(), oracles.Options{Progress: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	remote := filepath.Join(tmp, "fleet-gitops.git")
	res, err := monorepo.Generate(remote, monorepo.Options{Seed: monorepo.DefaultSeed})
	if err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(tmp, "work")
	run(t, "", "git", "clone", "--quiet", "--branch", scenario.Branch, remote, work)
	repo, err := git.PlainOpen(remote)
	if err != nil {
		t.Fatal(err)
	}

	for _, rev := range []string{res.Head, res.BehindRevision} {
		run(t, work, "git", "checkout", "--quiet", "--detach", rev)
		fsys, _, err := treefs.AtRevision(repo, rev)
		if err != nil {
			t.Fatal(err)
		}
		for _, app := range scenario.Apps {
			for _, cluster := range scenario.Clusters {
				if _, ok := app.Instances[cluster]; !ok {
					continue
				}
				src := render.Source{Kind: render.Kind(app.Render), Path: app.SourcePath(cluster), Namespace: app.Namespace, ReleaseName: app.Name}
				if vf := app.ValuesFile(cluster); vf != "" {
					src.ValuesFiles = []string{vf}
				}
				got, err := render.Render(fsys, src)
				if err != nil {
					t.Fatalf("%s on %s at %.8s: %v", app.Name, cluster, rev, err)
				}
				var oracle []byte
				dir := filepath.Join(work, filepath.FromSlash(src.Path))
				switch src.Kind {
				case render.Helm:
					oracle = run(t, "", tools.Helm, "template", app.Name, dir, "--namespace", app.Namespace, "-f", filepath.Join(dir, src.ValuesFiles[0]))
				case render.Kustomize:
					oracle = run(t, "", tools.Kustomize, "build", dir)
				case render.YAML:
					// No CLI renders a directory; compare with the files on disk.
					disk, err := render.Render(os.DirFS(work), src)
					if err != nil {
						t.Fatal(err)
					}
					assertSame(t, app.Name+"@"+cluster, got, disk)
					continue
				}
				want, err := render.Decode(string(src.Kind)+" output", oracle)
				if err != nil {
					t.Fatal(err)
				}
				// Argo CD and Flux give namespaced objects without one the
				// target namespace; the CLIs leave that to kubectl.
				for _, o := range want {
					if o.GetNamespace() == "" && o.GetKind() != "Namespace" {
						o.SetNamespace(app.Namespace)
					}
				}
				if len(got) == 0 {
					t.Fatalf("%s on %s rendered nothing", app.Name, cluster)
				}
				assertSame(t, app.Name+"@"+cluster+"@"+rev[:8], got, want)
			}
		}
	}
}

func assertSame(t *testing.T, what string, got, want []*unstructured.Unstructured) {
	t.Helper()
	g, w := canonical(got), canonical(want)
	if !slices.Equal(g, w) {
		t.Errorf("%s: render differs from the reference tool\n got: %s\nwant: %s", what, strings.Join(g, "\n      "), strings.Join(w, "\n      "))
	}
}

func canonical(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		b, _ := json.Marshal(o.Object) // map keys are sorted by encoding/json
		out = append(out, string(b))
	}
	slices.Sort(out)
	return out
}

func run(t *testing.T, dir, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir(), "HELM_DATA_HOME="+t.TempDir())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return out
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
