package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetdeck/fleetdeck/config"
	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/gitstate/facts"
	"github.com/fleetdeck/fleetdeck/gitstate/repo"
	"github.com/fleetdeck/fleetdeck/gitstate/revert"
)

// Golden files are rewritten with: go test ./cli -run 'TestHistory|TestRevert' -update

const gitBin = "/usr/bin/git"

// gitFleet is a bare remote with two declared applications committed by a
// work clone with fixed dates (so shas, and goldens, are stable), and the
// config that points fleetdeck at it.
type gitFleet struct {
	t       *testing.T
	dir     string
	remote  string
	work    string
	cfgPath string
	tick    int
	shas    map[string]string // subject → sha
}

func (g *gitFleet) env() []string {
	date := fmt.Sprintf("2026-02-%02dT10:00:00Z", 1+g.tick)
	return append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+g.dir,
		"GIT_AUTHOR_NAME=CI Bot", "GIT_AUTHOR_EMAIL=ci@example.com", "GIT_AUTHOR_DATE="+date,
		"GIT_COMMITTER_NAME=CI Bot", "GIT_COMMITTER_EMAIL=ci@example.com", "GIT_COMMITTER_DATE="+date)
}

func (g *gitFleet) git(dir string, args ...string) string {
	g.t.Helper()
	cmd := exec.Command(gitBin, append([]string{"-C", dir}, args...)...)
	cmd.Env = g.env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		g.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
spec:
  replicas: 2
  selector:
    matchLabels: {app: %[1]s}
  template:
    metadata:
      labels: {app: %[1]s}
    spec:
      containers:
        - name: app
          image: registry.example/shop/%[1]s:%[2]s
`

func (g *gitFleet) deploy(app, tag string) {
	g.t.Helper()
	p := filepath.Join(g.work, "k8s", app, "deployment.yaml")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		g.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(fmt.Sprintf(deployment, app, tag)), 0o644); err != nil {
		g.t.Fatal(err)
	}
}

func (g *gitFleet) commit(subject string) string {
	g.t.Helper()
	g.tick++
	g.git(g.work, "add", "-A")
	g.git(g.work, "commit", "-q", "-m", subject)
	g.git(g.work, "push", "-q", "origin", "main")
	h := g.git(g.work, "rev-parse", "HEAD")
	g.shas[subject] = h
	return h
}

func newGitFleet(t *testing.T, extraConfig string) *gitFleet {
	t.Helper()
	if _, err := os.Stat(gitBin); err != nil {
		t.Skipf("git CLI not available: %v", err)
	}
	dir := t.TempDir()
	g := &gitFleet{t: t, dir: dir, remote: filepath.Join(dir, "remote.git"), work: filepath.Join(dir, "work"), shas: map[string]string{}}
	g.git(dir, "init", "-q", "--bare", "-b", "main", g.remote)
	g.git(dir, "clone", "-q", g.remote, g.work)
	g.git(g.work, "checkout", "-q", "-b", "main")
	g.deploy("auth", "v1.4.1")
	g.deploy("ledger", "l1")
	g.commit("initial: auth v1.4.1, ledger l1")
	g.deploy("auth", "v1.4.2")
	g.commit("ci: bump auth to v1.4.2")
	if err := os.WriteFile(filepath.Join(g.work, "README.md"), []byte("fleet\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	g.commit("docs: readme")
	g.deploy("auth", "v1.5.0")
	g.commit("ci: bump auth to v1.5.0")

	kubeconfig, err := filepath.Abs("testdata/config/kubeconfig.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`clusters:
  - name: staging
    kubeconfig: %[1]s
    context: staging
  - name: prod-eu
    kubeconfig: %[1]s
    context: prod-eu
repositories:
  - name: fleet
    url: %[2]s
applications:
  - name: auth
    repo: fleet
    path: k8s/auth
    render: yaml
    namespace: auth
    clusters: [{name: staging}, {name: prod-eu}]
  - name: ledger
    repo: fleet
    path: k8s/ledger
    render: yaml
    namespace: ledger
    clusters: [{name: staging}]
%[3]s`, kubeconfig, g.remote, extraConfig)
	g.cfgPath = filepath.Join(dir, "fleetdeck.yaml")
	if err := os.WriteFile(g.cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return g
}

// testSource is the clone and renders without clusters: live revisions are
// what the test says.
type testSource struct {
	cfg    *config.Config
	r      *repo.Repo
	reader *facts.Reader
	live   map[string]string // cluster → live sha
}

func (g *gitFleet) source(live map[string]string) *testSource {
	g.t.Helper()
	cfg, _, err := config.Load(g.cfgPath, func(string) string { return "" })
	if err != nil {
		g.t.Fatal(err)
	}
	rc, _ := cfg.Repository("fleet")
	r, err := repo.Open(context.Background(), rc, filepath.Join(g.dir, "cache"), func(string) string { return "" })
	if err != nil {
		g.t.Fatal(err)
	}
	g.t.Cleanup(func() { r.Close() })
	repos := map[string]*repo.Repo{"fleet": r}
	return &testSource{cfg: cfg, r: r, reader: facts.New(cfg, repos, facts.Options{}), live: live}
}

func (s *testSource) Targets(_ context.Context, app, cluster string) (string, []revert.Target, error) {
	m := fleet.Model{}
	var srcs []fleet.InstanceSource
	for _, a := range s.cfg.Applications {
		fa := fleet.Application{Name: a.Name}
		for _, c := range a.Clusters {
			fa.Instances = append(fa.Instances, fleet.Instance{App: a.Name, Cluster: c.Name, Revision: fleet.Revision{Live: s.live[c.Name]}})
			srcs = append(srcs, fleet.InstanceSource{Key: fleet.GitKey{App: a.Name, Cluster: c.Name}, Operator: fleet.OperatorDeclared})
		}
		m.Apps = append(m.Apps, fa)
	}
	return targetsOf(m, srcs, s.reader, app, cluster)
}

func (s *testSource) Repo(name string) (*repo.Repo, config.Repository, bool) {
	rc, ok := s.cfg.Repository(name)
	return s.r, rc, ok && name == "fleet"
}

func (s *testSource) Reader() *facts.Reader { return s.reader }
func (s *testSource) Close()                {}

// run runs a verb against src and returns a transcript with the shas
// replaced by the subjects' names, for goldens.
func (g *gitFleet) run(verb func(*IOStreams, *GlobalOptions) error, in string) (string, int) {
	g.t.Helper()
	var out, errOut bytes.Buffer
	streams := &IOStreams{In: strings.NewReader(in), Out: &out, ErrOut: &errOut, Getenv: func(k string) string {
		return map[string]string{"GIT_AUTHOR_NAME": "Ada Ops", "GIT_AUTHOR_EMAIL": "ada@example.com", "HOME": g.dir}[k]
	}}
	code := ExitOK
	if err := verb(streams, &GlobalOptions{ConfigPath: g.cfgPath}); err != nil {
		code = exitCodeOf(err)
		fmt.Fprintln(&errOut, "fleetdeck:", err)
	}
	s := out.String()
	if errOut.Len() > 0 {
		s += "--- stderr\n" + errOut.String()
	}
	return g.anonymise(s) + fmt.Sprintf("--- exit %d\n", code), code
}

// anonymise writes shas as <subject> so goldens survive git versions; the
// dates fix them anyway, but a golden that names commits reads better.
func (g *gitFleet) anonymise(s string) string {
	for subject, h := range g.shas {
		s = strings.ReplaceAll(s, h, "<"+subject+">")
		s = strings.ReplaceAll(s, h[:7], "<"+subject+">")
	}
	return strings.ReplaceAll(s, g.dir, "$DIR")
}

func TestHistory(t *testing.T) {
	g := newGitFleet(t, "")
	live := map[string]string{"staging": g.shas["ci: bump auth to v1.5.0"], "prod-eu": g.shas["docs: readme"]}
	tests := []struct {
		name string
		opts historyOptions
	}{
		{"all-clusters", historyOptions{Limit: 20, Output: "text"}},
		{"staging-json", historyOptions{Cluster: "staging", Limit: 20, Output: "json"}},
		{"limit", historyOptions{Cluster: "prod-eu", Limit: 1, Output: "text"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := g.source(live)
			got, code := g.run(func(s *IOStreams, o *GlobalOptions) error {
				opts := tt.opts
				return runHistory(context.Background(), s, o, &opts, "auth", src)
			}, "")
			if code != ExitOK {
				t.Fatalf("exit %d:\n%s", code, got)
			}
			checkGoldenIn(t, "history", tt.name, got)
		})
	}
}

// TestHistoryEqualsGitLog: the list is git's `git log -- path`.
func TestHistoryEqualsGitLog(t *testing.T) {
	g := newGitFleet(t, "")
	src := g.source(nil)
	var out bytes.Buffer
	streams := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &out, Getenv: func(string) string { return "" }}
	if err := runHistory(context.Background(), streams, &GlobalOptions{ConfigPath: g.cfgPath}, &historyOptions{Output: "json"}, "auth", src); err != nil {
		t.Fatal(err)
	}
	want := g.git(g.work, "log", "--format=%H", "--", "k8s/auth")
	var got []string
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), `"sha": "`) {
			got = append(got, strings.Trim(strings.TrimPrefix(strings.TrimSpace(line), `"sha": `), `",`))
		}
	}
	if strings.Join(got, "\n") != want {
		t.Errorf("history lists\n%s\ngit log lists\n%s", strings.Join(got, "\n"), want)
	}
}

func TestHistoryErrors(t *testing.T) {
	g := newGitFleet(t, "")
	tests := []struct {
		name string
		app  string
		opts historyOptions
		want string
	}{
		{"unknown app", "nope", historyOptions{Output: "text"}, `no application "nope" (applications: auth, ledger)`},
		{"cluster without the app", "ledger", historyOptions{Cluster: "prod-eu", Output: "text"}, `does not run on cluster "prod-eu"`},
		{"bad output", "auth", historyOptions{Output: "yaml"}, `unknown output "yaml"`},
		{"negative limit", "auth", historyOptions{Output: "text", Limit: -1}, "-n must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := g.source(nil)
			got, code := g.run(func(s *IOStreams, o *GlobalOptions) error {
				opts := tt.opts
				return runHistory(context.Background(), s, o, &opts, tt.app, src)
			}, "")
			if code != ExitError || !strings.Contains(got, tt.want) {
				t.Fatalf("got exit %d:\n%s\nwant exit 2 and %q", code, got, tt.want)
			}
		})
	}
}
