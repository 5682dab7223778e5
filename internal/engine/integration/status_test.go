// Package integration runs `fleetdeck status` against the real sandbox fleet: three control
// planes, the generated monorepo and the GitOps stand-in with the scenario's injected problems.
package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/fleetdeck/fleetdeck/cli"
	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/internal/sandbox"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/controlplane"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/sandboxtest"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

func TestMain(m *testing.M) { sandboxtest.Main(m) }

type result struct {
	report StatusReport
	code   int
	stderr string
	took   time.Duration
}

// StatusReport is read with the cli's own type, so the schema under test is the documented one.
type StatusReport = cli.StatusReport

// status runs the verb in this process with a private git cache and returns its report.
func status(t *testing.T, configPath string, args ...string) result {
	t.Helper()
	rep, r := sandboxtest.Status(t, configPath, args...)
	return result{report: rep, code: r.Code, stderr: r.Stderr, took: r.Took}
}

var instance = sandboxtest.Instance

func describe(in cli.InstanceReport) string {
	var ps []string
	for _, p := range in.Problems {
		ps = append(ps, p.Severity.String()+": "+p.Text)
	}
	var ims []string
	for _, im := range in.Images {
		ims = append(ims, fmt.Sprintf("%s git=%s live=%s drift=%v latest=%v", im.Container, im.GitTag, im.LiveTag, im.Drift, im.Latest))
	}
	return fmt.Sprintf("%s/%s %s %s/%s rev=%+v images=[%s] problems=[%s]", in.App, in.Cluster, in.Severity,
		in.Sync.Status, in.Health.Status, in.Revision, strings.Join(ims, "; "), strings.Join(ps, "; "))
}

// checkProblem reports what is wrong with how status shows one injected problem ("" when right).
func checkProblem(p scenario.Problem, in cli.InstanceReport) string {
	hasText := func(s string) bool {
		for _, pr := range in.Problems {
			if strings.Contains(pr.Text, s) {
				return true
			}
		}
		return false
	}
	switch p.Kind {
	case scenario.HandPatch:
		for _, im := range in.Images {
			if im.Drift && im.LiveTag == scenario.HandPatchTag {
				return ""
			}
		}
		return "no image drift to " + scenario.HandPatchTag
	case scenario.LatestTag:
		// Committed so in git: flagged, but neither drift nor out of sync (the HelmRelease
		// renders into its targetNamespace under its releaseName, as helm-controller does).
		if in.Sync.Status != fleet.Synced || in.Drift {
			return "want Synced without drift"
		}
		for _, im := range in.Images {
			if im.Latest {
				return ""
			}
		}
		return "no image flagged latest"
	case scenario.BadBump:
		if in.Health.Status == fleet.Degraded || hasText("CrashLoopBackOff") {
			if in.Severity >= fleet.SeverityError {
				return ""
			}
		}
		return "want Degraded (CrashLoopBackOff) with severity error or worse"
	case scenario.Behind:
		if in.Sync.Status == fleet.OutOfSync && in.Revision.Behind == scenario.BehindBy {
			return ""
		}
		return fmt.Sprintf("want OutOfSync %d commits behind", scenario.BehindBy)
	case scenario.PullFailure:
		if hasText("ImagePullBackOff") && in.Severity >= fleet.SeverityError {
			return ""
		}
		return "want ImagePullBackOff with severity error or worse"
	}
	return "unknown problem kind " + string(p.Kind)
}

// TestStatusOnTheSandbox checks every injected problem, the healthy app, the restricted user,
// fleetdeck's own judgement against the operator's and, last because it breaks the fleet for
// what follows, a killed API server.
func TestStatusOnTheSandbox(t *testing.T) {
	f := sandboxtest.Fleet(t)

	t.Run("every injected problem on the right app and cluster", func(t *testing.T) {
		// The stand-in writes statuses and rolls problems out concurrently with the fleet's
		// start: ask until the report settles, then assert on the last one.
		var r result
		var wrong []string
		deadline := time.Now().Add(90 * time.Second)
		for {
			r = status(t, f.ConfigPath, "--timeout", "10s")
			wrong = wrong[:0]
			for _, p := range scenario.Problems {
				in, ok := instance(r.report, p.App, p.Cluster)
				if !ok {
					wrong = append(wrong, fmt.Sprintf("%s: no instance %s on %s", p.Kind, p.App, p.Cluster))
					continue
				}
				if why := checkProblem(p, in); why != "" {
					wrong = append(wrong, fmt.Sprintf("%s: %s; got %s", p.Kind, why, describe(in)))
				}
			}
			for _, app := range scenario.Apps {
				for cluster := range app.Instances {
					in, ok := instance(r.report, app.Name, cluster)
					if !ok {
						wrong = append(wrong, fmt.Sprintf("instance %s on %s missing", app.Name, cluster))
						continue
					}
					if _, injected := scenario.ProblemOn(app.Name, cluster); injected {
						continue
					}
					if in.Health.Status != fleet.Healthy || in.Sync.Status != fleet.Synced || in.Drift {
						wrong = append(wrong, "want Healthy/Synced without drift: "+describe(in))
					}
				}
			}
			if len(wrong) == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(3 * time.Second)
		}
		for _, w := range wrong {
			t.Error(w)
		}
		if r.code != cli.ExitProblems {
			t.Errorf("exit %d, want %d (problems found)", r.code, cli.ExitProblems)
		}
		healthy := r.report.Apps[len(r.report.Apps)-1]
		for _, a := range r.report.Apps {
			if a.Name == scenario.HealthyApp {
				healthy = a
			}
		}
		if healthy.Name != scenario.HealthyApp || healthy.Sync != fleet.Synced || healthy.Health != fleet.Healthy ||
			len(healthy.Instances) != len(mustApp(t, scenario.HealthyApp).Instances) {
			t.Errorf("healthy app %s: %+v", scenario.HealthyApp, healthy)
		}
		for _, c := range r.report.Clusters {
			if c.State != fleet.ConnSynced {
				t.Errorf("cluster %s %s: %s", c.Name, c.State, c.Error)
			}
		}
	})

	t.Run("restricted user sees forbidden resources, not an error", func(t *testing.T) {
		path := viewerConfig(t, f)
		r := status(t, path)
		if r.took > 5*time.Second+time.Second {
			t.Errorf("status took %s", r.took)
		}
		for _, c := range r.report.Clusters {
			if c.State == fleet.ConnUnreachable || len(c.Forbidden) == 0 {
				t.Errorf("viewer on %s: state %s forbidden %v (%s), want reachable with forbidden resources", c.Name, c.State, c.Forbidden, c.Error)
			}
		}
	})

	t.Run("restricted user: real state where it may read, forbidden where it may not", func(t *testing.T) {
		// The restricted user may not read the argocd and flux-system namespaces, so operator
		// objects are invisible to it: the config declares the apps it cares about instead.
		denied := controlplane.ViewerDeniedNamespace()
		readable := mustApp(t, scenario.HealthyApp)
		var hidden scenario.App
		for _, a := range scenario.Apps {
			if a.Namespace == denied {
				hidden = a
			}
		}
		if hidden.Name == "" || readable.Namespace == denied {
			t.Fatalf("scenario: no app in the denied namespace %s, or %s is in it", denied, readable.Name)
		}
		path := declaringConfig(t, viewerConfig(t, f), readable, hidden)
		var r result
		var wrong []string
		deadline := time.Now().Add(60 * time.Second)
		for {
			r = status(t, path, "--timeout", "10s")
			wrong = wrong[:0]
			for cluster := range readable.Instances {
				in, ok := instance(r.report, readable.Name, cluster)
				if !ok || in.Health.Status != fleet.Healthy || in.Sync.Status != fleet.Synced {
					wrong = append(wrong, fmt.Sprintf("viewer: want %s on %s Healthy/Synced, got %s", readable.Name, cluster, describe(in)))
				}
			}
			for cluster := range hidden.Instances {
				in, ok := instance(r.report, hidden.Name, cluster)
				want := "in " + denied + " on " + cluster + " (forbidden)"
				if !ok || in.Health.Status != fleet.Unknown || in.Sync.Status != fleet.SyncUnknown ||
					!strings.Contains(in.Health.Message, want) || in.Severity >= fleet.SeverityError {
					wrong = append(wrong, fmt.Sprintf("viewer: want %s on %s Unknown/Unknown saying %q (health %q), got %s",
						hidden.Name, cluster, want, in.Health.Message, describe(in)))
				}
			}
			if len(wrong) == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(2 * time.Second)
		}
		for _, w := range wrong {
			t.Error(w)
		}
		if r.code != cli.ExitProblems {
			t.Errorf("viewer: exit %d, want %d (problems found: forbidden instances)", r.code, cli.ExitProblems)
		}
	})

	t.Run("fleetdeck's own sync and health agree with Argo CD's", func(t *testing.T) {
		checkOwnRulesAgree(t, f)
	})

	t.Run("a killed API server is unreachable within --timeout", func(t *testing.T) {
		victim := scenario.ProdUS
		pid := 0
		for _, p := range f.CP.Processes {
			if p.Name == victim+"-kube-apiserver" {
				pid = p.PID
			}
		}
		if pid == 0 {
			t.Fatalf("no %s-kube-apiserver process", victim)
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatalf("kill the API server of %s (pid %d): %v", victim, pid, err)
		}
		r := status(t, f.ConfigPath, "--timeout", "5s")
		if r.took > 5*time.Second+500*time.Millisecond {
			t.Errorf("status took %s with --timeout 5s", r.took)
		}
		for _, c := range r.report.Clusters {
			want := fleet.ConnSynced
			if c.Name == victim {
				want = fleet.ConnUnreachable
			}
			if c.State != want {
				t.Errorf("cluster %s: %s (%s), want %s", c.Name, c.State, c.Error, want)
			}
		}
		if in, ok := instance(r.report, scenario.HealthyApp, scenario.ProdEU); !ok || in.Health.Status != fleet.Healthy {
			t.Errorf("%s on %s not complete with %s down: %+v", scenario.HealthyApp, scenario.ProdEU, victim, in)
		}
		if in, ok := instance(r.report, scenario.HealthyApp, victim); !ok || in.Health.Status != fleet.Unknown {
			t.Errorf("%s on the killed %s: %+v, want Unknown", scenario.HealthyApp, victim, in)
		}
		if r.code != cli.ExitProblems {
			t.Errorf("exit %d, want %d", r.code, cli.ExitProblems)
		}
	})
}

func mustApp(t *testing.T, name string) scenario.App {
	t.Helper()
	a, ok := scenario.AppByName(name)
	if !ok {
		t.Fatalf("no app %s in the scenario", name)
	}
	return a
}

// viewerConfig writes a copy of the fleet's config whose clusters use the restricted user's
// contexts.
func viewerConfig(t *testing.T, f *sandbox.Fleet) string {
	t.Helper()
	data, err := os.ReadFile(f.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(data), "kubeconfig: kubeconfig", "kubeconfig: "+f.Kubeconfig)
	for _, c := range f.CP.Clusters {
		text = strings.ReplaceAll(text, "context: "+c.Context+"\n", "context: "+c.ViewerContext+"\n")
	}
	path := filepath.Join(t.TempDir(), "viewer.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// declaringConfig writes a copy of the config at path that also declares apps on every cluster
// they run on, rendered as the scenario renders them (overlay per cluster, values per
// environment).
func declaringConfig(t *testing.T, path string, apps ...scenario.App) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	declared, _ := doc["applications"].([]any)
	for _, a := range apps {
		var clusters []any
		for _, c := range scenario.Clusters {
			if _, ok := a.Instances[c]; !ok {
				continue
			}
			entry := map[string]any{"name": c, "path": a.SourcePath(c)}
			if v := a.ValuesFile(c); v != "" {
				entry["valuesFiles"] = []string{v}
			}
			clusters = append(clusters, entry)
		}
		declared = append(declared, map[string]any{"name": a.Name, "repo": scenario.RepoName, "path": a.Path,
			"render": string(a.Render), "namespace": a.Namespace, "clusters": clusters})
	}
	doc["applications"] = declared
	out, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "declared.yaml")
	if err := os.WriteFile(dst, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return dst
}
