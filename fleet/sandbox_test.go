package fleet_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/fleet/fleettest"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

var (
	now             = fleettest.Now
	sandboxSnapshot = fleettest.SandboxSnapshot
)

// TestBuildSandboxScenario models the sandbox fleet and checks that each injected problem
// surfaces with the right state and severity, that everything else is OK, and the order.
func TestBuildSandboxScenario(t *testing.T) {
	m := fleet.Build(sandboxSnapshot())

	wantOrder := []string{
		scenario.NotificationWorker, // critical: ImagePullBackOff with nothing ready
		scenario.AuthService,        // error: a crash-looping pod after a bad bump
		scenario.CheckoutWeb,        // warnings, by name
		scenario.PaymentsAPI,
		scenario.SearchIndexer,
		scenario.CatalogAPI, // ok, by name
		scenario.Ledger,
	}
	var got []string
	for _, a := range m.Apps {
		got = append(got, a.Name)
	}
	if strings.Join(got, " ") != strings.Join(wantOrder, " ") {
		t.Fatalf("order = %v\nwant    %v", got, wantOrder)
	}
	if m.Severity != fleet.SeverityCritical {
		t.Errorf("model severity = %s, want critical", m.Severity)
	}

	// Every instance of the scenario is present, once, with its operator.
	for _, app := range scenario.Apps {
		a, ok := m.App(app.Name)
		if !ok {
			t.Fatalf("app %s missing", app.Name)
		}
		if len(a.Instances) != len(app.Instances) {
			t.Errorf("%s: %d instances, want %d", app.Name, len(a.Instances), len(app.Instances))
		}
		for cluster, op := range app.Instances {
			in, ok := a.Instance(cluster)
			if !ok {
				t.Errorf("%s has no instance on %s", app.Name, cluster)
				continue
			}
			wantOp := map[scenario.Operator]fleet.Operator{scenario.ArgoCD: fleet.OperatorArgoCD, scenario.Flux: fleet.OperatorFlux, scenario.None: fleet.OperatorDeclared}[op]
			if in.Source.Operator != wantOp {
				t.Errorf("%s/%s operator %s, want %s", app.Name, cluster, in.Source.Operator, wantOp)
			}
			if _, bad := scenario.ProblemOn(app.Name, cluster); bad {
				continue
			}
			if in.Severity != fleet.SeverityOK || in.Health.Status != fleet.Healthy || in.Sync.Status != fleet.Synced || in.Revision.Behind != 0 || in.Drifted() {
				t.Errorf("%s/%s should be fine: %s %s/%s behind %d problems %v", app.Name, cluster, in.Severity,
					in.Health.Status, in.Sync.Status, in.Revision.Behind, in.Problems)
			}
		}
	}

	for _, p := range scenario.Problems {
		a, _ := m.App(p.App)
		in, ok := a.Instance(p.Cluster)
		if !ok {
			t.Fatalf("problem %s: no instance %s/%s", p.Kind, p.App, p.Cluster)
		}
		t.Run(string(p.Kind), func(t *testing.T) {
			img := in.Images[0]
			switch p.Kind {
			case scenario.HandPatch:
				if in.Severity != fleet.SeverityWarning || in.Sync.Status != fleet.OutOfSync || in.Health.Status != fleet.Healthy {
					t.Errorf("state %s %s/%s", in.Severity, in.Sync.Status, in.Health.Status)
				}
				if !img.Drift || img.LiveTag != scenario.HandPatchTag || img.GitTag != fleettest.GitTags[0] {
					t.Errorf("image %+v, want drift %s → %s", img, fleettest.GitTags[0], scenario.HandPatchTag)
				}
				if len(in.Sync.Fields) != 1 || in.Sync.Fields[0].Field != "containers["+p.App+"].image" {
					t.Errorf("fields %+v, want the image only", in.Sync.Fields)
				}
				if in.Revision.Behind != 0 {
					t.Errorf("hand patch is not a revision lag: behind %d", in.Revision.Behind)
				}
			case scenario.LatestTag:
				if in.Severity != fleet.SeverityWarning || in.Sync.Status != fleet.Synced || in.Health.Status != fleet.Healthy {
					t.Errorf("state %s %s/%s", in.Severity, in.Sync.Status, in.Health.Status)
				}
				if !img.Latest || img.Drift {
					t.Errorf("image %+v, want latest without drift", img)
				}
				if in.Source.Kind != string(fleet.FluxHelmRelease) {
					t.Errorf("source %+v, want a HelmRelease", in.Source)
				}
			case scenario.BadBump:
				if in.Severity != fleet.SeverityError || in.Health.Status != fleet.Progressing {
					t.Errorf("state %s %s, want error with Argo CD's Progressing", in.Severity, in.Health.Status)
				}
				wl := in.Workloads[0]
				if wl.Health.Status != fleet.Degraded || wl.Pods[0].Reason != "CrashLoopBackOff" || wl.Pods[0].Restarts != 7 {
					t.Errorf("workload %+v, want Degraded with the crash-looping pod first", wl)
				}
				if img.Drift || img.LiveTag != fleettest.GitTags[0] {
					t.Errorf("the bump is applied: image %+v", img)
				}
				if len(in.Events) != 1 || in.Events[0].Reason != "BackOff" {
					t.Errorf("events %+v, want the BackOff warning", in.Events)
				}
			case scenario.Behind:
				if in.Severity != fleet.SeverityWarning || in.Sync.Status != fleet.OutOfSync {
					t.Errorf("state %s %s", in.Severity, in.Sync.Status)
				}
				if in.Revision.Behind != scenario.BehindBy || !strings.Contains(in.Revision.Short(), fmt.Sprintf("%d commits behind", scenario.BehindBy)) {
					t.Errorf("revision %+v %q, want %d behind", in.Revision, in.Revision.Short(), scenario.BehindBy)
				}
				if !img.Drift || img.LiveTag != fleettest.GitTags[scenario.BehindBy] {
					t.Errorf("image %+v, want live tag %s", img, fleettest.GitTags[scenario.BehindBy])
				}
			case scenario.PullFailure:
				if in.Severity != fleet.SeverityCritical {
					t.Errorf("severity %s, want critical; problems %v", in.Severity, in.Problems)
				}
				if pod := in.Workloads[0].Pods[0]; pod.Reason != "ImagePullBackOff" || pod.Health.Status != fleet.Degraded {
					t.Errorf("pod %+v, want ImagePullBackOff Degraded", pod)
				}
			default:
				t.Fatalf("problem kind %s has no expectation here: add one", p.Kind)
			}
		})
	}

	golden(t, "sandbox.golden", dump(m))
}

// dump renders the model compactly, one line per application and instance, for the golden file.
func dump(m fleet.Model) string {
	var b strings.Builder
	for _, a := range m.Apps {
		fmt.Fprintf(&b, "%s %s %s/%s instances=%d healthy=%d outofsync=%d drifted=%d pods=%d/%d restarts=%d\n",
			a.Name, a.Severity, a.Sync, a.Health, a.Summary.Instances, a.Summary.Healthy, a.Summary.OutOfSync,
			a.Summary.Drifted, a.Summary.ReadyPods, a.Summary.Pods, a.Summary.Restarts)
		for _, in := range a.Instances {
			fmt.Fprintf(&b, "  %s %s %s/%s rev=%s src=%s:%s\n", in.Cluster, in.Severity, in.Sync.Status, in.Health.Status,
				in.Revision.Short(), in.Source.Operator, in.Source.Name)
			for _, im := range in.Images {
				fmt.Fprintf(&b, "    image %s git=%s live=%s drift=%v latest=%v\n", im.Container, im.GitTag, im.LiveTag, im.Drift, im.Latest)
			}
			for _, p := range in.Problems {
				fmt.Fprintf(&b, "    %s: %s\n", p.Severity, p.Text)
			}
		}
	}
	return b.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatalf("write golden %s: %v", path, err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden %s (run with -update to create it): %v", path, err)
	}
	if string(want) != got {
		t.Errorf("model differs from %s (run with -update if the change is intended):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestSandboxOwnRulesAgreeWithArgoCD judges every Argo CD instance of the modelled sandbox
// with fleetdeck's own rules (fleet.AsDeclared) and compares with what Argo CD reports there,
// injected problems included.
func TestSandboxOwnRulesAgreeWithArgoCD(t *testing.T) {
	s := sandboxSnapshot()
	op, own := fleet.Build(s), fleet.Build(fleet.AsDeclared(s))
	n := 0
	for _, a := range op.Apps {
		for _, in := range a.Instances {
			if in.Source.Operator != fleet.OperatorArgoCD {
				continue
			}
			n++
			oa, _ := own.App(a.Name)
			o, ok := oa.Instance(in.Cluster)
			if !ok {
				t.Errorf("%s/%s: no instance in fleetdeck's own view", a.Name, in.Cluster)
				continue
			}
			if o.Sync.Status != in.Sync.Status || o.Health.Status != in.Health.Status {
				t.Errorf("%s/%s: fleetdeck judges %s/%s (%s), Argo CD reports %s/%s", a.Name, in.Cluster,
					o.Sync.Status, o.Health.Status, o.Sync.Reason, in.Sync.Status, in.Health.Status)
			}
		}
	}
	if n == 0 {
		t.Fatal("no Argo CD instance in the modelled sandbox")
	}
}
