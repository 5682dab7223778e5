package facts

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/fleetdeck/fleetdeck/config"
	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/gitstate/render"
	"github.com/fleetdeck/fleetdeck/gitstate/repo"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/monorepo"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

const gitBin = "/usr/bin/git"

// gitCLI runs the git CLI, the oracle for what the repository holds.
func gitCLI(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(gitBin, append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+t.TempDir(),
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@x", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@x")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func lines(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// sandbox is the generated monorepo as a remote, with a clone opened on it.
type sandbox struct {
	remote string // bare repository
	res    *monorepo.Result
	cfg    *config.Config
	repo   *repo.Repo
}

// newSandbox generates the sandbox monorepo and clones it.
func newSandbox(t testing.TB) *sandbox {
	t.Helper()
	if _, err := os.Stat(gitBin); err != nil {
		t.Skipf("git CLI not available: %v", err)
	}
	remote := filepath.Join(t.TempDir(), "fleet-gitops.git")
	res, err := monorepo.Generate(remote, monorepo.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	s := &sandbox{remote: remote, res: res, cfg: sandboxConfig("file://" + remote)}
	s.repo = s.open(t)
	return s
}

func (s *sandbox) open(t testing.TB) *repo.Repo {
	t.Helper()
	rc, _ := s.cfg.Repository(scenario.RepoName)
	r, err := repo.Open(context.Background(), rc, t.TempDir(), nil)
	if err != nil {
		t.Fatalf("open clone of %s: %v", s.remote, err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func (s *sandbox) reader(o Options) *Reader {
	return New(s.cfg, map[string]*repo.Repo{scenario.RepoName: s.repo}, o)
}

// sandboxConfig is the sandbox's configuration: the monorepo and the apps
// no operator manages, declared.
func sandboxConfig(url string) *config.Config {
	cfg := &config.Config{Repositories: []config.Repository{{Name: scenario.RepoName, URL: url, Branch: scenario.Branch}}}
	for _, c := range scenario.Clusters {
		cfg.Clusters = append(cfg.Clusters, config.Cluster{Name: c})
	}
	for _, a := range scenario.Apps {
		var cls []config.AppCluster
		for _, c := range scenario.Clusters {
			if a.Instances[c] == scenario.None {
				ac := config.AppCluster{Name: c, Path: a.SourcePath(c), Namespace: a.Namespace}
				if vf := a.ValuesFile(c); vf != "" {
					ac.ValuesFiles = []string{vf}
				}
				cls = append(cls, ac)
			}
		}
		if len(cls) > 0 {
			cfg.Applications = append(cfg.Applications, config.Application{Name: a.Name, Repo: scenario.RepoName,
				Path: a.Path, Render: config.RenderKind(a.Render), Namespace: a.Namespace, Clusters: cls})
		}
	}
	return cfg
}

// snapshot is the sandbox's operator objects as the kube adapter reads
// them (see internal/sandbox/standin for what is applied).
func snapshot(url string) fleet.Snapshot {
	var s fleet.Snapshot
	for _, c := range scenario.Clusters {
		s.Clusters = append(s.Clusters, fleet.ClusterState{Name: c, State: fleet.ConnSynced})
	}
	for _, a := range scenario.Apps {
		var declared []string
		for _, c := range scenario.Clusters {
			switch a.Instances[c] {
			case scenario.ArgoCD:
				app := fleet.ArgoApp{Cluster: scenario.ArgoHub, Namespace: scenario.ArgoNamespace,
					Name: scenario.ArgoAppName(a.Name, c), DestName: c, DestNamespace: a.Namespace,
					RepoURL: url, Path: a.SourcePath(c), TargetRevision: scenario.Branch}
				if vf := a.ValuesFile(c); vf != "" {
					app.ValueFiles = []string{vf}
				}
				s.ArgoApps = append(s.ArgoApps, app)
			case scenario.Flux:
				f := fleet.FluxObject{Kind: fleet.FluxKustomization, Cluster: c, Namespace: scenario.FluxNamespace,
					Name: a.Name, Path: "./" + a.SourcePath(c), SourceName: scenario.RepoName, RepoURL: url, Branch: scenario.Branch,
					TargetNamespace: a.Namespace}
				if a.Render == scenario.Helm {
					f.Kind, f.Path, f.Chart = fleet.FluxHelmRelease, "", "./"+a.Path
					f.ValueFiles = []string{"./" + a.Path + "/" + a.ValuesFile(c)}
					f.HelmReleaseName = a.Name
				}
				s.FluxObjects = append(s.FluxObjects, f)
			case scenario.None:
				declared = append(declared, c)
			}
		}
		if len(declared) > 0 {
			s.Declared = append(s.Declared, fleet.DeclaredApp{Name: a.Name, RepoURL: url, Path: a.Path,
				Branch: scenario.Branch, Namespace: a.Namespace, Clusters: declared})
		}
	}
	return s
}

// instanceCount is the number of (app, cluster) instances of the scenario.
func instanceCount() int {
	n := 0
	for _, a := range scenario.Apps {
		n += len(a.Instances)
	}
	return n
}

// mainImage is the image of an app's main container in the desired objects.
func mainImage(t *testing.T, objs []fleet.DesiredObject, app string) (fleet.DesiredObject, string) {
	t.Helper()
	for _, o := range objs {
		if o.Kind != "Deployment" {
			continue
		}
		for _, c := range o.Containers {
			if !c.Init && strings.HasPrefix(c.Image, scenario.Registry+"/"+app+":") {
				return o, c.Image
			}
		}
	}
	t.Fatalf("%s: no Deployment container runs %s/%s in %+v", app, scenario.Registry, app, objs)
	return fleet.DesiredObject{}, ""
}

func TestFactsOfTheSandboxMatchGitAndTheScenario(t *testing.T) {
	s := newSandbox(t)
	r := s.reader(Options{})
	srcs := fleet.InstanceSources(snapshot("file://" + s.remote))
	got := r.Facts(context.Background(), srcs)
	if len(got) != instanceCount() {
		t.Fatalf("facts for %d instances, want %d: %v", len(got), instanceCount(), slices.Collect(mapKeys(got)))
	}
	head := strings.TrimSpace(gitCLI(t, s.remote, "rev-parse", scenario.Branch))
	if head != s.res.Head {
		t.Fatalf("git says head %s, the generator %s", head, s.res.Head)
	}
	history := lines(gitCLI(t, s.remote, "log", "--first-parent", "--format=%H", "-n", "100", scenario.Branch))
	for _, a := range scenario.Apps {
		for c, op := range a.Instances {
			t.Run(a.Name+"/"+c, func(t *testing.T) {
				f, ok := got[fleet.GitKey{App: a.Name, Cluster: c}]
				if !ok {
					t.Fatal("no facts")
				}
				if f.RenderError != "" {
					t.Fatalf("RenderError = %s", f.RenderError)
				}
				p := a.SourcePath(c)
				wantCommits := lines(gitCLI(t, s.remote, "log", "--format=%H", "-n", "20", scenario.Branch, "--", p))
				if f.Head != head || f.Branch != scenario.Branch || f.Path != p || f.Repo != "file://"+s.remote {
					t.Errorf("Head %s Branch %s Path %s Repo %s, want %s %s %s file://%s", f.Head, f.Branch, f.Path, f.Repo, head, scenario.Branch, p, s.remote)
				}
				if f.LastCommit != wantCommits[0] {
					t.Errorf("LastCommit = %s, want git log -1 -- %s = %s", f.LastCommit, p, wantCommits[0])
				}
				if !slices.Equal(f.PathCommits, wantCommits) {
					t.Errorf("PathCommits = %v,\nwant %v", f.PathCommits, wantCommits)
				}
				if !slices.Equal(f.History, history) {
					t.Errorf("History differs from git log --first-parent (%d vs %d commits)", len(f.History), len(history))
				}
				env := scenario.Env(c)
				d, img := mainImage(t, f.Desired, a.Name)
				_, tag, _ := fleet.ParseImage(img)
				if want := s.res.Tags[a.Name][env]; tag != want {
					t.Errorf("desired tag %s, want %s", tag, want)
				}
				if pr, ok := scenario.ProblemOn(a.Name, c); ok {
					switch pr.Kind {
					case scenario.BadBump:
						if tag != s.res.BadTag {
							t.Errorf("bad bump: desired tag %s, want %s", tag, s.res.BadTag)
						}
					case scenario.LatestTag:
						if tag != "latest" {
							t.Errorf("latest tag: desired tag %s, want latest", tag)
						}
					case scenario.PullFailure:
						if tag != s.res.PullFailureTag {
							t.Errorf("pull failure: desired tag %s, want %s", tag, s.res.PullFailureTag)
						}
					}
				}
				if d.Replicas == nil || int(*d.Replicas) != s.res.Replicas[a.Name][env] {
					t.Errorf("replicas %v, want %d", d.Replicas, s.res.Replicas[a.Name][env])
				}
				// Every operator renders into the app's namespace: Argo CD's
				// destination, Flux's targetNamespace.
				if d.Namespace != a.Namespace {
					t.Errorf("namespace %s, want %s", d.Namespace, a.Namespace)
				}
				// Charts label objects with the release name: Argo CD names the
				// release after the Application, the HelmRelease sets releaseName.
				if a.Render == scenario.Helm {
					want := a.Name
					if op == scenario.ArgoCD {
						want = scenario.ArgoAppName(a.Name, c)
					}
					if got := d.Labels["app.kubernetes.io/instance"]; got != want {
						t.Errorf("release name (instance label) %q, want %q", got, want)
					}
				}
				if op == scenario.None {
					n := min(DefaultDesiredAt, len(wantCommits))
					if len(f.DesiredAt) != n {
						t.Errorf("DesiredAt has %d commits, want %d", len(f.DesiredAt), n)
					}
					for _, sha := range wantCommits[:n] {
						if _, ok := f.DesiredAt[sha]; !ok {
							t.Errorf("DesiredAt lacks path commit %s", sha)
						}
					}
					if !reflect.DeepEqual(f.DesiredAt[wantCommits[0]], f.Desired) {
						t.Error("DesiredAt[LastCommit] differs from Desired at head")
					}
				} else if f.DesiredAt != nil {
					t.Errorf("DesiredAt set for an operator instance: %d commits", len(f.DesiredAt))
				}
			})
		}
	}
	// The instance left behind is live at a commit of its path history.
	behind := got[fleet.GitKey{App: scenario.CheckoutWeb, Cluster: scenario.ProdEU}]
	if i := slices.Index(behind.PathCommits, s.res.BehindRevision); i != scenario.BehindBy {
		t.Errorf("BehindRevision at index %d of PathCommits, want %d", i, scenario.BehindBy)
	}
}

func mapKeys(m map[fleet.GitKey]fleet.GitFacts) func(func(fleet.GitKey) bool) {
	return func(yield func(fleet.GitKey) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestSecondReadWithUnchangedHeadRendersNothing(t *testing.T) {
	s := newSandbox(t)
	r := s.reader(Options{})
	srcs := fleet.InstanceSources(snapshot("file://" + s.remote))
	first := r.Facts(context.Background(), srcs)
	cold := r.Stats()
	// 19 instances, but prod-eu and prod-us share renders where path, values,
	// release and namespace agree; the declared app adds DesiredAt renders.
	if cold.Renders == 0 || cold.Renders > int64(instanceCount()+3*DefaultDesiredAt) {
		t.Errorf("cold read ran %d renders", cold.Renders)
	}
	second := r.Facts(context.Background(), srcs)
	warm := r.Stats()
	t.Logf("cold %+v, warm %+v", cold, warm)
	if warm.Renders != cold.Renders {
		t.Errorf("second read ran %d renders, want 0", warm.Renders-cold.Renders)
	}
	if warm.RenderHits <= cold.RenderHits {
		t.Errorf("second read had no cache hits: %+v then %+v", cold, warm)
	}
	if !reflect.DeepEqual(first, second) {
		t.Error("second read returned different facts")
	}

	// A push touching one app moves the head of every instance: each renders
	// again at the new head, but older path commits stay cached.
	work := t.TempDir()
	gitCLI(t, work, "clone", "-q", s.remote, ".")
	writeFile(t, filepath.Join(work, "k8s/ledger/extra.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata: {}\n")
	gitCLI(t, work, "add", ".")
	gitCLI(t, work, "commit", "-q", "-m", "ledger: extra config")
	gitCLI(t, work, "push", "-q", "origin", "HEAD:"+scenario.Branch)
	if changed, err := s.repo.Fetch(context.Background()); err != nil || !changed {
		t.Fatalf("Fetch after push = %v, %v", changed, err)
	}
	third := r.Facts(context.Background(), srcs)
	after := r.Stats()
	newHead := strings.TrimSpace(gitCLI(t, work, "rev-parse", "HEAD"))
	ledger := third[fleet.GitKey{App: scenario.Ledger, Cluster: scenario.Staging}]
	if ledger.Head != newHead || ledger.LastCommit != newHead || ledger.PathCommits[1] != first[fleet.GitKey{App: scenario.Ledger, Cluster: scenario.Staging}].LastCommit {
		t.Errorf("after push: ledger Head %s LastCommit %s, want %s", ledger.Head, ledger.LastCommit, newHead)
	}
	if auth := third[fleet.GitKey{App: scenario.AuthService, Cluster: scenario.Staging}]; auth.Head != newHead ||
		auth.LastCommit != first[fleet.GitKey{App: scenario.AuthService, Cluster: scenario.Staging}].LastCommit {
		t.Errorf("after push: auth-service Head %s LastCommit %s", auth.Head, auth.LastCommit)
	}
	// New renders: one per distinct head render (at most one per instance);
	// the declared app's older path commits come from the cache.
	if n := after.Renders - warm.Renders; n == 0 || n > int64(instanceCount()) {
		t.Errorf("read after a push ran %d renders, want between 1 and %d", n, instanceCount())
	}
}

func writeFile(t testing.TB, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBrokenChartFailsOnlyItsApp(t *testing.T) {
	s := newSandbox(t)
	work := t.TempDir()
	gitCLI(t, work, "clone", "-q", s.remote, ".")
	broken := "k8s/" + scenario.AuthService + "/templates/broken.yaml"
	writeFile(t, filepath.Join(work, broken), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: {{ .Values.nope.deeper }\n")
	gitCLI(t, work, "add", ".")
	gitCLI(t, work, "commit", "-q", "-m", "auth-service: broken template")
	gitCLI(t, work, "push", "-q", "origin", "HEAD:"+scenario.Branch)
	if _, err := s.repo.Fetch(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := s.reader(Options{})
	got := r.Facts(context.Background(), fleet.InstanceSources(snapshot("file://"+s.remote)))
	if len(got) != instanceCount() {
		t.Fatalf("facts for %d instances, want %d", len(got), instanceCount())
	}
	t.Logf("RenderError: %s", got[fleet.GitKey{App: scenario.AuthService, Cluster: scenario.Staging}].RenderError)
	for k, f := range got {
		if k.App == scenario.AuthService {
			if f.RenderError == "" || len(f.Desired) != 0 {
				t.Errorf("%v: RenderError %q with %d desired objects, want an error and none", k, f.RenderError, len(f.Desired))
			}
			if !strings.Contains(f.RenderError, "broken.yaml") || !strings.Contains(f.RenderError, "k8s/auth-service") {
				t.Errorf("%v: RenderError %q should name the file and the chart", k, f.RenderError)
			}
			if f.Head == "" || f.LastCommit != f.Head || len(f.PathCommits) == 0 {
				t.Errorf("%v: history missing next to the render error: %+v", k, f)
			}
			continue
		}
		if f.RenderError != "" || len(f.Desired) == 0 {
			t.Errorf("%v: RenderError %q, %d desired objects; want a clean render", k, f.RenderError, len(f.Desired))
		}
	}
	// The failure is cached like a success: the commit will not render otherwise.
	before := r.Stats().Renders
	again := r.Facts(context.Background(), fleet.InstanceSources(snapshot("file://"+s.remote)))
	if n := r.Stats().Renders - before; n != 0 || again[fleet.GitKey{App: scenario.AuthService, Cluster: scenario.ProdUS}].RenderError == "" {
		t.Errorf("second read ran %d renders", n)
	}
}

func TestSourcesWithoutReadableGit(t *testing.T) {
	s := newSandbox(t)
	r := s.reader(Options{})
	url := "git@github.com:shop/fleet-gitops.git"
	tests := []struct {
		name    string
		src     fleet.InstanceSource
		want    bool   // facts expected
		wantErr string // part of RenderError
	}{
		{"repository not configured", fleet.InstanceSource{Key: fleet.GitKey{App: "a", Cluster: "c"}, Operator: fleet.OperatorArgoCD,
			RepoURL: url, Path: "k8s/ledger"}, false, ""},
		{"helm repository chart", fleet.InstanceSource{Key: fleet.GitKey{App: "b", Cluster: "c"}, Operator: fleet.OperatorArgoCD,
			RepoURL: "file://" + s.remote, Chart: "redis", Revision: "18.1.0"}, false, ""},
		{"flux source not resolved", fleet.InstanceSource{Key: fleet.GitKey{App: "c", Cluster: "c"}, Operator: fleet.OperatorFlux,
			Path: "./k8s/ledger"}, false, ""},
		{"branch not tracked", fleet.InstanceSource{Key: fleet.GitKey{App: "d", Cluster: "c"}, Operator: fleet.OperatorArgoCD,
			RepoURL: "file://" + s.remote + "/", Path: "k8s/ledger", Revision: "release-1"}, true, `revision "release-1" is not fetched`},
		{"missing path", fleet.InstanceSource{Key: fleet.GitKey{App: "e", Cluster: "c"}, Operator: fleet.OperatorArgoCD,
			RepoURL: s.remote, Path: "k8s/nope", Revision: "HEAD"}, true, "k8s/nope"},
		{"pinned commit", fleet.InstanceSource{Key: fleet.GitKey{App: "f", Cluster: "c"}, Operator: fleet.OperatorArgoCD,
			RepoURL: s.remote, Path: "k8s/ledger", Revision: s.res.BehindRevision[:12]}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.Facts(context.Background(), []fleet.InstanceSource{tt.src})
			f, ok := got[tt.src.Key]
			if ok != tt.want {
				t.Fatalf("facts present = %v, want %v (%+v)", ok, tt.want, f)
			}
			if !ok {
				return
			}
			if !strings.Contains(f.RenderError, tt.wantErr) || (tt.wantErr == "") != (f.RenderError == "") {
				t.Errorf("RenderError = %q, want it to contain %q", f.RenderError, tt.wantErr)
			}
		})
	}
	pinned := r.Facts(context.Background(), []fleet.InstanceSource{tests[5].src})[tests[5].src.Key]
	if pinned.Head != s.res.BehindRevision || len(pinned.Desired) == 0 {
		t.Errorf("pinned: Head %s with %d objects, want %s", pinned.Head, len(pinned.Desired), s.res.BehindRevision)
	}
}

func TestConcurrentReadsShareRenders(t *testing.T) {
	s := newSandbox(t)
	r := s.reader(Options{Parallel: 2})
	srcs := fleet.InstanceSources(snapshot("file://" + s.remote))
	var wg sync.WaitGroup
	results := make([]map[fleet.GitKey]fleet.GitFacts, 3)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = r.Facts(context.Background(), srcs)
		}()
	}
	// A history walk on the same clone while renders read trees.
	if _, err := s.repo.PathCommitHashes(s.repo.Head(), []string{"k8s"}, 0); err != nil {
		t.Error(err)
	}
	wg.Wait()
	for i := 1; i < len(results); i++ {
		if !reflect.DeepEqual(results[0], results[i]) {
			t.Errorf("concurrent read %d differs from read 0", i)
		}
	}
	single := s.reader(Options{})
	single.Facts(context.Background(), srcs)
	if got, want := r.Stats().Renders, single.Stats().Renders; got != want {
		t.Errorf("three concurrent reads ran %d renders, one read runs %d", got, want)
	}
}

func TestCanceledReadLeavesInstancesOut(t *testing.T) {
	s := newSandbox(t)
	r := s.reader(Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	srcs := fleet.InstanceSources(snapshot("file://" + s.remote))
	if got := r.Facts(ctx, srcs); len(got) != 0 {
		t.Errorf("canceled read returned %d instances", len(got))
	}
	if got := r.Facts(context.Background(), srcs); len(got) != instanceCount() {
		t.Errorf("read after a canceled one returned %d instances, want %d (cancellation must not be cached)", len(got), instanceCount())
	}
}

func TestCacheIsBounded(t *testing.T) {
	s := newSandbox(t)
	r := s.reader(Options{CacheEntries: 4})
	r.Facts(context.Background(), fleet.InstanceSources(snapshot("file://"+s.remote)))
	r.mu.Lock()
	n := len(r.cache)
	r.mu.Unlock()
	if n > 4 {
		t.Errorf("cache holds %d renders, bound 4", n)
	}
}

func TestRequestFromInstanceSource(t *testing.T) {
	r := New(sandboxConfig("https://git.example.com/shop/fleet-gitops.git"),
		map[string]*repo.Repo{scenario.RepoName: {}}, Options{})
	tests := []struct {
		name string
		src  fleet.InstanceSource
		want Request
	}{
		{"argo helm over ssh", fleet.InstanceSource{Key: fleet.GitKey{App: "auth", Cluster: "staging"}, Operator: fleet.OperatorArgoCD,
			RepoURL: "git@git.example.com:shop/fleet-gitops", Path: "k8s/auth/", Revision: "main", ValueFiles: []string{"values-stage.yaml"}, Namespace: "auth"},
			Request{Key: fleet.GitKey{App: "auth", Cluster: "staging"}, Repo: scenario.RepoName, Revision: "main", Path: "k8s/auth",
				ValuesFiles: []string{"values-stage.yaml"}, ReleaseName: "auth", Namespace: "auth"}},
		{"argo release name", fleet.InstanceSource{Key: fleet.GitKey{App: "auth", Cluster: "staging"}, Operator: fleet.OperatorArgoCD,
			RepoURL: "git@git.example.com:shop/fleet-gitops", Path: "k8s/auth", Revision: "main", Namespace: "auth", ReleaseName: "auth-staging"},
			Request{Key: fleet.GitKey{App: "auth", Cluster: "staging"}, Repo: scenario.RepoName, Revision: "main", Path: "k8s/auth",
				ReleaseName: "auth-staging", Namespace: "auth"}},
		{"flux helm release", fleet.InstanceSource{Key: fleet.GitKey{App: "search", Cluster: "staging"}, Operator: fleet.OperatorFlux,
			RepoURL: "https://GIT.example.com/shop/fleet-gitops/", Chart: "./k8s/search", Revision: "main",
			ValueFiles: []string{"./k8s/search/values-stage.yaml", "./envs/staging/search.yaml"}, Namespace: "search", ReleaseName: "search-indexer"},
			Request{Key: fleet.GitKey{App: "search", Cluster: "staging"}, Repo: scenario.RepoName, Revision: "main", Path: "k8s/search",
				Kind: render.Helm, ValuesFiles: []string{"values-stage.yaml", "../../envs/staging/search.yaml"}, ReleaseName: "search-indexer", Namespace: "search"}},
		{"flux kustomization with targetNamespace", fleet.InstanceSource{Key: fleet.GitKey{App: "catalog", Cluster: "staging"}, Operator: fleet.OperatorFlux,
			RepoURL: "https://git.example.com/shop/fleet-gitops", Path: "./k8s/catalog/overlays/staging", Revision: "main", Namespace: "catalog", ForceNamespace: true},
			Request{Key: fleet.GitKey{App: "catalog", Cluster: "staging"}, Repo: scenario.RepoName, Revision: "main", Path: "k8s/catalog/overlays/staging",
				ReleaseName: "catalog", Namespace: "catalog", ForceNamespace: true}},
		{"declared from config", fleet.InstanceSource{Key: fleet.GitKey{App: scenario.Ledger, Cluster: scenario.ProdUS}, Operator: fleet.OperatorDeclared,
			RepoURL: "https://git.example.com/shop/fleet-gitops.git", Path: "k8s/ledger", Revision: "main", Namespace: "ledger"},
			Request{Key: fleet.GitKey{App: scenario.Ledger, Cluster: scenario.ProdUS}, Repo: scenario.RepoName, Revision: "main", Path: "k8s/ledger",
				Kind: render.YAML, ReleaseName: scenario.Ledger, Namespace: "ledger", Declared: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := r.Request(tt.src)
			if !ok || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Request = %+v, %v\nwant %+v", got, ok, tt.want)
			}
		})
	}
}

func TestNormalizeURL(t *testing.T) {
	same := [][]string{
		{"https://github.com/Shop/fleet.git", "git@github.com:Shop/fleet", "ssh://git@github.com:22/Shop/fleet.git", "https://user@GitHub.com/Shop/fleet/"},
		{"/srv/git/fleet.git", "file:///srv/git/fleet.git", "file:///srv/git/fleet/", "/srv/git//fleet"},
	}
	for _, group := range same {
		for _, u := range group[1:] {
			if a, b := NormalizeURL(group[0]), NormalizeURL(u); a != b {
				t.Errorf("NormalizeURL(%q) = %q, NormalizeURL(%q) = %q; want equal", group[0], a, u, b)
			}
		}
	}
	differ := [][2]string{
		{"https://github.com/shop/fleet", "https://github.com/shop/fleet2"},
		{"https://github.com/shop/fleet", "https://gitlab.com/shop/fleet"},
		{"https://github.com/Shop/fleet", "https://github.com/shop/fleet"}, // paths are case-sensitive
		{"/srv/git/fleet", "/srv/git/other"},
	}
	for _, d := range differ {
		if NormalizeURL(d[0]) == NormalizeURL(d[1]) {
			t.Errorf("NormalizeURL(%q) == NormalizeURL(%q) = %q", d[0], d[1], NormalizeURL(d[0]))
		}
	}
}

func TestRelativeTo(t *testing.T) {
	tests := []struct{ dir, target, want string }{
		{"k8s/app", "k8s/app/values.yaml", "values.yaml"},
		{"k8s/app", "k8s/app/env/prod.yaml", "env/prod.yaml"},
		{"k8s/app", "k8s/shared/values.yaml", "../shared/values.yaml"},
		{"k8s/app", "envs/prod.yaml", "../../envs/prod.yaml"},
		{".", "values.yaml", "values.yaml"},
	}
	for _, tt := range tests {
		if got := relativeTo(tt.dir, tt.target); got != tt.want {
			t.Errorf("relativeTo(%q, %q) = %q, want %q", tt.dir, tt.target, got, tt.want)
		}
	}
}

func BenchmarkFacts(b *testing.B) {
	s := newSandbox(b)
	srcs := fleet.InstanceSources(snapshot("file://" + s.remote))
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			r := s.reader(Options{})
			if got := r.Facts(context.Background(), srcs); len(got) != instanceCount() {
				b.Fatalf("%d instances", len(got))
			}
		}
	})
	b.Run("warm", func(b *testing.B) {
		r := s.reader(Options{})
		r.Facts(context.Background(), srcs)
		for b.Loop() {
			if got := r.Facts(context.Background(), srcs); len(got) != instanceCount() {
				b.Fatalf("%d instances", len(got))
			}
		}
		if r.Stats().Renders == 0 {
			b.Fatal("no renders")
		}
	})
}

// TestTargetNamespaceOverridesGit renders a Kustomization whose objects name a namespace of
// their own: Flux's targetNamespace moves them, Argo CD's destination does not.
func TestTargetNamespaceOverridesGit(t *testing.T) {
	s := newSandbox(t)
	work := t.TempDir()
	gitCLI(t, work, "clone", "-q", s.remote, ".")
	writeFile(t, filepath.Join(work, "k8s/pinned/kustomization.yaml"), "resources: [deploy.yaml]\n")
	writeFile(t, filepath.Join(work, "k8s/pinned/deploy.yaml"), `apiVersion: apps/v1
kind: Deployment
metadata: {name: pinned, namespace: written-in-git}
spec:
  replicas: 1
  selector: {matchLabels: {app: pinned}}
  template:
    metadata: {labels: {app: pinned}}
    spec: {containers: [{name: pinned, image: reg/pinned:1}]}
`)
	gitCLI(t, work, "add", ".")
	gitCLI(t, work, "commit", "-q", "-m", "pinned")
	gitCLI(t, work, "push", "-q", "origin", "HEAD:"+scenario.Branch)
	if _, err := s.repo.Fetch(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := s.reader(Options{})
	url := "file://" + s.remote
	tests := []struct {
		name string
		src  fleet.InstanceSource
		want string
	}{
		{"flux targetNamespace", fleet.InstanceSource{Operator: fleet.OperatorFlux, RepoURL: url, Path: "./k8s/pinned",
			Namespace: "target", ForceNamespace: true}, "target"},
		{"argo destination", fleet.InstanceSource{Operator: fleet.OperatorArgoCD, RepoURL: url, Path: "k8s/pinned",
			Namespace: "target"}, "written-in-git"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.src.Key = fleet.GitKey{App: "pinned", Cluster: fmt.Sprint(i)}
			f := r.Facts(context.Background(), []fleet.InstanceSource{tt.src})[tt.src.Key]
			if f.RenderError != "" || len(f.Desired) != 1 || f.Desired[0].Namespace != tt.want {
				t.Errorf("desired %+v (%s), want the Deployment in %s", f.Desired, f.RenderError, tt.want)
			}
		})
	}
}
