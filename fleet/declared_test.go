package fleet

import (
	"fmt"
	"testing"
)

// TestDeclaredRulesAgreeWithArgoCD judges the same live objects and git facts twice: as Argo
// CD reports them (the sync and health an Argo CD controller writes for the situation,
// following gitops-semantics: sync from the diff of git and live, health as the worst managed
// object by its kind's rule, pods not being managed objects), and with fleetdeck's own rules
// for apps nobody applies (AsDeclared). Both must agree.
func TestDeclaredRulesAgreeWithArgoCD(t *testing.T) {
	const cluster, ns, name = "prod-eu", "pay", "payments-api"
	head, prev := sha("p2"), sha("p1")
	gitDeploy := func(tag string) DesiredObject {
		d := desiredOf(healthyDeploy(cluster, ns, name, "reg/pay:"+tag, 2))
		d.Labels = map[string]string{"app.kubernetes.io/name": name, ArgoInstanceLabel: name + "-" + cluster}
		return d
	}
	live := func(tag string) Workload {
		w := healthyDeploy(cluster, ns, name, "reg/pay:"+tag, 2)
		w.Labels = map[string]string{"app.kubernetes.io/name": name, ArgoInstanceLabel: name + "-" + cluster}
		w.Annotations[ArgoTrackingAnnotation] = name + "-" + cluster + ":apps/Deployment:" + ns + "/" + name
		return w
	}
	// rollingOut is a Deployment whose new ReplicaSet has one pod that is not ready (the old
	// ReplicaSet keeps serving): updated < replicas, so Progressing until the deadline.
	rollingOut := func(w *Workload, pods *[]Pod, bad Pod, deadlinePassed bool) {
		w.UpdatedReplicas, w.StatusReplicas = 1, w.Replicas+1
		*pods = append(*pods, bad)
		if deadlinePassed {
			w.Conditions = []Condition{{Type: "Progressing", Status: "False", Reason: "ProgressDeadlineExceeded"}}
		}
	}
	pullFailing := func(w Workload) Pod {
		return Pod{Cluster: cluster, Namespace: ns, Name: name + "-bad99-0", Owner: &ObjectRef{Kind: "ReplicaSet", Name: name + "-bad99"},
			Phase: "Pending", Containers: []ContainerStatus{{Name: name, Image: w.Containers[0].Image, WaitingReason: "ImagePullBackOff"}}}
	}

	tests := []struct {
		name string
		// mut changes the live side from "in sync and rolled out at head".
		mut func(w *Workload, pods *[]Pod)
		// argoSync and argoHealth are what Argo CD reports for the situation.
		argoSync, argoHealth string
	}{
		{"in sync and healthy", func(*Workload, *[]Pod) {}, "Synced", "Healthy"},
		{"image patched by hand", func(w *Workload, _ *[]Pod) { w.Containers[0].Image = "reg/pay:hotfix-manual-1" }, "OutOfSync", "Healthy"},
		{"two commits behind", func(w *Workload, _ *[]Pod) { w.Containers[0].Image = "reg/pay:1" }, "OutOfSync", "Healthy"},
		{"scaled by hand", func(w *Workload, _ *[]Pod) {
			w.Replicas, w.StatusReplicas, w.ReadyReplicas, w.UpdatedReplicas, w.AvailableReplicas = 3, 3, 3, 3, 3
		}, "OutOfSync", "Healthy"},
		{"env added by hand", func(w *Workload, _ *[]Pod) {}, "Synced", "Healthy"}, // live-only keys are not drift
		{"label removed by hand", func(w *Workload, _ *[]Pod) { delete(w.Labels, "app.kubernetes.io/name") }, "OutOfSync", "Healthy"},
		{"label added by a controller", func(w *Workload, _ *[]Pod) { w.Labels["team"] = "payments" }, "Synced", "Healthy"},
		{"bad bump crash-looping, before the progress deadline", func(w *Workload, pods *[]Pod) {
			rollingOut(w, pods, crashingPod(*w, name+"-bad99-0", 4), false)
		}, "Synced", "Progressing"},
		{"bad bump crash-looping, deadline exceeded", func(w *Workload, pods *[]Pod) {
			rollingOut(w, pods, crashingPod(*w, name+"-bad99-0", 9), true)
		}, "Synced", "Degraded"},
		{"image cannot be pulled, before the progress deadline", func(w *Workload, pods *[]Pod) {
			rollingOut(w, pods, pullFailing(*w), false)
		}, "Synced", "Progressing"},
		{"image cannot be pulled, deadline exceeded", func(w *Workload, pods *[]Pod) {
			rollingOut(w, pods, pullFailing(*w), true)
		}, "Synced", "Degraded"},
		{"nothing ready on a fresh install", func(w *Workload, pods *[]Pod) {
			w.ReadyReplicas, w.AvailableReplicas = 0, 0
			*pods = []Pod{pullFailing(*w)}
		}, "Synced", "Progressing"},
		{"paused", func(w *Workload, _ *[]Pod) { w.Paused = true }, "Synced", "Suspended"},
		{"spec change not observed yet", func(w *Workload, _ *[]Pod) { w.Generation = 2 }, "Synced", "Progressing"},
		{"deleted by hand", nil, "OutOfSync", "Missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			desired := gitDeploy("2")
			if tt.name == "env added by hand" {
				desired.Containers[0].Env = map[string]string{"LOG_LEVEL": "info"}
			}
			s := Snapshot{Now: t0, Clusters: live3(cluster),
				ArgoApps: []ArgoApp{{Cluster: cluster, Namespace: "argocd", Name: name + "-" + cluster, DestServer: InClusterServer,
					DestNamespace: ns, RepoURL: "file:///fleet-gitops", Path: "k8s/" + name, TargetRevision: "main",
					SyncStatus: tt.argoSync, HealthStatus: tt.argoHealth, SyncRevision: head, SyncedRevision: head}},
				Git: map[GitKey]GitFacts{{name, cluster}: {Repo: "file:///fleet-gitops", Branch: "main", Head: head,
					Path: "k8s/" + name, PathCommits: []string{head, prev}, Desired: []DesiredObject{desired}}},
			}
			if tt.mut != nil {
				w := live(desired.Containers[0].Image[len("reg/pay:"):])
				if tt.name == "env added by hand" {
					w.Containers[0].Env = map[string]string{"LOG_LEVEL": "info", "DEBUG": "1"}
				}
				pods := readyPods(w, 2)
				tt.mut(&w, &pods)
				s.Workloads, s.Pods = []Workload{w}, pods
			}

			op := mustInstance(t, mustApp(t, Build(s), name), cluster)
			if op.Source.Operator != OperatorArgoCD || op.Sync.Status != ParseSync(tt.argoSync) || op.Health.Status != ParseHealth(tt.argoHealth) {
				t.Fatalf("operator view %s %s/%s, want Argo CD's %s/%s", op.Source.Operator, op.Sync.Status, op.Health.Status, tt.argoSync, tt.argoHealth)
			}
			own := mustInstance(t, mustApp(t, Build(AsDeclared(s)), name), cluster)
			if own.Source.Operator != OperatorDeclared {
				t.Fatalf("AsDeclared kept operator %s", own.Source.Operator)
			}
			if own.Sync.Status != op.Sync.Status || own.Health.Status != op.Health.Status {
				t.Errorf("fleetdeck judges %s/%s (%s; %s), Argo CD reports %s/%s",
					own.Sync.Status, own.Health.Status, own.Sync.Reason, own.Health.Message, op.Sync.Status, op.Health.Status)
			}
			// The severity rests on the live objects too, so a crash loop ranks the same either way.
			if own.Severity != op.Severity {
				t.Errorf("severity: fleetdeck's own %s (%v), with Argo CD's report %s (%v)", own.Severity, own.Problems, op.Severity, op.Problems)
			}
		})
	}
}

// TestAsDeclared checks what AsDeclared carries over from each operator and that it leaves
// the snapshot it was given alone.
func TestAsDeclared(t *testing.T) {
	s := Snapshot{
		Clusters: live3("prod-eu", "staging", "dev"),
		ArgoApps: []ArgoApp{{Cluster: "prod-eu", Name: "auth-staging", DestName: "staging", RepoURL: "file:///repo",
			Path: "k8s/auth", TargetRevision: "main", DestNamespace: "auth"}},
		FluxObjects: []FluxObject{{Kind: FluxHelmRelease, Cluster: "staging", Namespace: "flux-system", Name: "search",
			Chart: "./k8s/search", RepoURL: "file:///repo", Branch: "main", TargetNamespace: "search"}},
		Declared: []DeclaredApp{{Name: "auth", Clusters: []string{"staging", "dev"}, Path: "k8s/auth", Branch: "main", Namespace: "auth"}},
	}
	got := AsDeclared(s)
	if len(got.ArgoApps) != 0 || len(got.FluxObjects) != 0 {
		t.Errorf("operator objects left: %+v %+v", got.ArgoApps, got.FluxObjects)
	}
	want := []DeclaredApp{
		{Name: "auth", RepoURL: "file:///repo", Path: "k8s/auth", Branch: "main", Namespace: "auth", Clusters: []string{"staging"}, TrackedBy: "auth-staging"},
		{Name: "search", RepoURL: "file:///repo", Path: "./k8s/search", Branch: "main", Namespace: "search", Clusters: []string{"staging"}},
		{Name: "auth", Path: "k8s/auth", Branch: "main", Namespace: "auth", Clusters: []string{"dev"}},
	}
	if fmt.Sprint(got.Declared) != fmt.Sprint(want) {
		t.Errorf("declared = %+v\nwant       %+v", got.Declared, want)
	}
	if len(s.ArgoApps) != 1 || len(s.FluxObjects) != 1 || len(s.Declared) != 1 || len(s.Declared[0].Clusters) != 2 {
		t.Errorf("input snapshot modified: %+v", s)
	}
}
