package fleet_test

import (
	"crypto/sha1"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// fakeSHA is a stable 40-hex sha for a name.
func fakeSHA(parts ...string) string {
	sum := sha1.Sum([]byte(strings.Join(parts, "/")))
	return hex.EncodeToString(sum[:])
}

// gitTags are the image tags set by the commits touching an app's path, newest first; the
// whole-repo history interleaves them with commits touching other apps.
var gitTags = []string{"1.4.0", "1.3.0", "1.2.0", "1.1.0"}

// sandboxSnapshot models what the kube and gitstate adapters report for the sandbox fleet: every
// app of the scenario on its clusters, through its operator, with the scenario's problems.
func sandboxSnapshot() fleet.Snapshot {
	s := fleet.Snapshot{Now: now, Git: map[fleet.GitKey]fleet.GitFacts{}}
	for _, c := range scenario.Clusters {
		s.Clusters = append(s.Clusters, fleet.ClusterState{Name: c, State: fleet.ConnSynced, LastEvent: now.Add(-2 * time.Second)})
	}
	for _, app := range scenario.Apps {
		var decl *fleet.DeclaredApp
		for _, cluster := range scenario.Clusters {
			op, ok := app.Instances[cluster]
			if !ok {
				continue
			}
			problem, hasProblem := scenario.ProblemOn(app.Name, cluster)
			kind := ""
			if hasProblem {
				kind = string(problem.Kind)
			}
			addInstance(&s, app, cluster, op, kind)
			if op == scenario.None {
				if decl == nil {
					s.Declared = append(s.Declared, fleet.DeclaredApp{Name: app.Name, RepoURL: scenario.RepoName,
						Path: app.Path, Branch: scenario.Branch, Namespace: app.Namespace})
					decl = &s.Declared[len(s.Declared)-1]
				}
				decl.Clusters = append(decl.Clusters, cluster)
			}
		}
	}
	return s
}

func addInstance(s *fleet.Snapshot, app scenario.App, cluster string, op scenario.Operator, problem string) {
	// Git: four commits touched the path, each one interleaved with a commit elsewhere.
	var pathCommits, history []string
	for i := range gitTags {
		c := fakeSHA(app.Name, cluster, "path", fmt.Sprint(i))
		pathCommits = append(pathCommits, c)
		history = append(history, c, fakeSHA(app.Name, cluster, "other", fmt.Sprint(i)))
	}
	head := pathCommits[0]
	tagAt := func(i int) string {
		if problem == string(scenario.LatestTag) {
			return "latest"
		}
		if problem == string(scenario.PullFailure) && i == 0 {
			return "1.4.0-does-not-exist"
		}
		return gitTags[i]
	}
	replicas := int32(app.Replicas)
	desiredAt := func(i int) []fleet.DesiredObject {
		return []fleet.DesiredObject{{Kind: "Deployment", Namespace: app.Namespace, Name: app.Name, Replicas: &replicas,
			Containers: []fleet.Container{{Name: app.Name, Image: app.Image() + ":" + tagAt(i)}}}}
	}
	g := fleet.GitFacts{Repo: scenario.RepoName, Branch: scenario.Branch, Head: head, Path: app.SourcePath(cluster),
		LastCommit: head, PathCommits: pathCommits, History: history, Desired: desiredAt(0),
		DesiredAt: map[string][]fleet.DesiredObject{pathCommits[1]: desiredAt(1), pathCommits[2]: desiredAt(2)}}
	s.Git[fleet.GitKey{App: app.Name, Cluster: cluster}] = g

	// Live: what the operator applied.
	applied := 0
	if problem == string(scenario.Behind) {
		applied = scenario.BehindBy
	}
	liveImage := app.Image() + ":" + tagAt(applied)
	if problem == string(scenario.HandPatch) {
		liveImage = app.Image() + ":" + scenario.HandPatchTag
	}
	w := fleet.Workload{Cluster: cluster, Kind: "Deployment", Namespace: app.Namespace, Name: app.Name,
		Labels: map[string]string{"app.kubernetes.io/name": app.Name}, Annotations: map[string]string{},
		Generation: 3, ObservedGeneration: 3, Replicas: replicas, StatusReplicas: replicas, ReadyReplicas: replicas,
		UpdatedReplicas: replicas, AvailableReplicas: replicas,
		Containers: []fleet.Container{{Name: app.Name, Image: liveImage}}}
	rs := app.Name + "-5d8f9c"
	var pods []fleet.Pod
	podOf := func(name, rsName, image string) fleet.Pod {
		return fleet.Pod{Cluster: cluster, Namespace: app.Namespace, Name: name, Owner: &fleet.ObjectRef{Kind: "ReplicaSet", Name: rsName},
			Phase: "Running", Ready: true, Created: now.Add(-time.Hour), NodeName: "kwok-node-0",
			Containers: []fleet.ContainerStatus{{Name: app.Name, Image: image, Ready: true, Running: true}}}
	}
	switch problem {
	case string(scenario.BadBump):
		// The rollout keeps the old pods serving while the new one crashloops.
		old := app.Image() + ":" + tagAt(1)
		for i := 0; i < app.Replicas; i++ {
			pods = append(pods, podOf(fmt.Sprintf("%s-old-%d", rs, i), app.Name+"-old", old))
		}
		bad := podOf(rs+"-new-0", rs, liveImage)
		bad.Ready = false
		bad.Containers[0] = fleet.ContainerStatus{Name: app.Name, Image: liveImage, RestartCount: 7, WaitingReason: "CrashLoopBackOff",
			WaitingMessage: "back-off 5m0s restarting failed container", LastTerminated: true, LastTerminatedReason: "Error", LastTerminatedExitCode: 1}
		pods = append(pods, bad)
		w.UpdatedReplicas, w.StatusReplicas = 1, replicas+1
		s.Events = append(s.Events, fleet.Event{Cluster: cluster, Namespace: app.Namespace, InvolvedKind: "Pod", InvolvedName: bad.Name,
			Reason: "BackOff", Message: "Back-off restarting failed container", Count: 7, Last: now.Add(-time.Minute)})
	case string(scenario.PullFailure):
		p := podOf(rs+"-0", rs, liveImage)
		p.Phase, p.Ready = "Pending", false
		p.Containers[0] = fleet.ContainerStatus{Name: app.Name, Image: liveImage, WaitingReason: "ImagePullBackOff",
			WaitingMessage: `Back-off pulling image "` + liveImage + `"`}
		pods = append(pods, p)
		w.ReadyReplicas, w.AvailableReplicas = 0, 0
		s.Events = append(s.Events, fleet.Event{Cluster: cluster, Namespace: app.Namespace, InvolvedKind: "Pod", InvolvedName: p.Name,
			Reason: "Failed", Message: "Failed to pull image", Count: 12, Last: now.Add(-30 * time.Second)})
	default:
		for i := 0; i < app.Replicas; i++ {
			pods = append(pods, podOf(fmt.Sprintf("%s-%d", rs, i), rs, liveImage))
		}
	}
	s.ReplicaSets = append(s.ReplicaSets, fleet.ReplicaSet{Cluster: cluster, Namespace: app.Namespace, Name: rs,
		Owner: &fleet.ObjectRef{Kind: "Deployment", Name: app.Name}})

	switch op {
	case scenario.ArgoCD:
		name := scenario.ArgoAppName(app.Name, cluster)
		w.Annotations[fleet.ArgoTrackingAnnotation] = name + ":apps/Deployment:" + app.Namespace + "/" + app.Name
		a := fleet.ArgoApp{Cluster: scenario.ArgoHub, Namespace: scenario.ArgoNamespace, Name: name,
			DestName: cluster, DestNamespace: app.Namespace, RepoURL: scenario.RepoName, Path: app.SourcePath(cluster),
			TargetRevision: scenario.Branch, SyncStatus: "Synced", SyncRevision: head, HealthStatus: "Healthy",
			OperationPhase: "Succeeded", SyncedRevision: pathCommits[applied]}
		if vf := app.ValuesFile(cluster); vf != "" {
			a.ValueFiles = []string{vf}
		}
		if cluster == scenario.ArgoHub {
			a.DestName, a.DestServer = "", fleet.InClusterServer
		}
		switch problem {
		case string(scenario.HandPatch), string(scenario.Behind):
			a.SyncStatus = "OutOfSync"
		case string(scenario.BadBump), string(scenario.PullFailure):
			a.HealthStatus, a.HealthMessage = "Progressing", `Waiting for rollout to finish`
		}
		s.ArgoApps = append(s.ArgoApps, a)
	case scenario.Flux:
		f := fleet.FluxObject{Kind: fleet.FluxKustomization, Cluster: cluster, Namespace: scenario.FluxNamespace, Name: app.Name,
			Path: app.SourcePath(cluster), SourceName: scenario.RepoName, Branch: scenario.Branch,
			Ready:               &fleet.Condition{Type: "Ready", Status: "True", Reason: "ReconciliationSucceeded", Message: "Applied revision: main@sha1:" + head},
			LastAppliedRevision: "main@sha1:" + head, LastAttemptedRevision: "main@sha1:" + head}
		nameLabel, nsLabel := fleet.FluxKustomizeNameLabel, fleet.FluxKustomizeNamespaceLabel
		if app.Render == scenario.Helm {
			f.Kind, f.Path, f.Chart = fleet.FluxHelmRelease, "", app.SourcePath(cluster)
			f.ValueFiles = []string{app.ValuesFile(cluster)}
			nameLabel, nsLabel = fleet.FluxHelmNameLabel, fleet.FluxHelmNamespaceLabel
		}
		w.Labels[nameLabel], w.Labels[nsLabel] = app.Name, scenario.FluxNamespace
		s.FluxObjects = append(s.FluxObjects, f)
	}
	s.Workloads = append(s.Workloads, w)
	s.Pods = append(s.Pods, pods...)
}

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
				if !img.Drift || img.LiveTag != scenario.HandPatchTag || img.GitTag != gitTags[0] {
					t.Errorf("image %+v, want drift %s → %s", img, gitTags[0], scenario.HandPatchTag)
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
				if img.Drift || img.LiveTag != gitTags[0] {
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
				if !img.Drift || img.LiveTag != gitTags[scenario.BehindBy] {
					t.Errorf("image %+v, want live tag %s", img, gitTags[scenario.BehindBy])
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
