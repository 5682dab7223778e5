package fleet

import (
	"fmt"
	"testing"
	"time"
)

// largeSnapshot is a fleet of `clusters` clusters with `apps` applications each, every one a
// Deployment of `replicas` pods: 3 × 200 × 10 = 2,000 pods per cluster. A third of the apps are
// applied by an Argo CD hub, a third by Flux and a third are declared; git facts carry 20 path
// commits and 100 history commits per instance, and one pod in ten crash-loops.
func largeSnapshot(clusters, apps, replicas int) Snapshot {
	s := Snapshot{Now: t0, Git: make(map[GitKey]GitFacts, clusters*apps)}
	var hub string
	for c := 0; c < clusters; c++ {
		cluster := fmt.Sprintf("cluster-%d", c)
		if c == 0 {
			hub = cluster
		}
		s.Clusters = append(s.Clusters, ClusterState{Name: cluster, State: ConnSynced, LastEvent: t0})
		for a := 0; a < apps; a++ {
			name := fmt.Sprintf("app-%03d", a)
			ns := name
			w := healthyDeploy(cluster, ns, name, fmt.Sprintf("reg.test/shop/%s:1.%d.0", name, a%7), int32(replicas))
			var history, path []string
			for i := 0; i < 100; i++ {
				history = append(history, sha(fmt.Sprintf("%x%03x%02x", c, a, i)))
				if i%5 == 0 {
					path = append(path, history[i])
				}
			}
			switch a % 3 {
			case 0:
				argoName := name + "-" + cluster
				w.Annotations[ArgoTrackingAnnotation] = argoName + ":apps/Deployment:" + ns + "/" + name
				s.ArgoApps = append(s.ArgoApps, ArgoApp{Cluster: hub, Namespace: "argocd", Name: argoName, DestName: cluster,
					DestNamespace: ns, SyncStatus: "Synced", HealthStatus: "Healthy", SyncedRevision: history[3],
					Resources: []ResourceRef{{Group: "apps", Kind: "Deployment", Namespace: ns, Name: name}}})
			case 1:
				w.Labels[FluxKustomizeNameLabel], w.Labels[FluxKustomizeNamespaceLabel] = name, "flux-system"
				s.FluxObjects = append(s.FluxObjects, FluxObject{Kind: FluxKustomization, Cluster: cluster, Namespace: "flux-system",
					Name: name, Ready: &Condition{Type: "Ready", Status: "True"},
					LastAppliedRevision: "main@sha1:" + history[0], LastAttemptedRevision: "main@sha1:" + history[0]})
			case 2:
				if c == 0 {
					var cs []string
					for k := 0; k < clusters; k++ {
						cs = append(cs, fmt.Sprintf("cluster-%d", k))
					}
					s.Declared = append(s.Declared, DeclaredApp{Name: name, Namespace: ns, Clusters: cs})
				}
			}
			s.Git[GitKey{name, cluster}] = GitFacts{Head: history[0], PathCommits: path, History: history,
				Desired: []DesiredObject{desiredOf(w)}, DesiredAt: map[string][]DesiredObject{path[1]: {desiredOf(w)}}}
			s.Workloads = append(s.Workloads, w)
			s.ReplicaSets = append(s.ReplicaSets, ReplicaSet{Cluster: cluster, Namespace: ns, Name: name + "-abc12",
				Owner: &ObjectRef{Kind: "Deployment", Name: name}})
			for i, p := range readyPods(w, replicas) {
				if (a+i)%10 == 0 {
					p = crashingPod(w, p.Name, 4)
					p.Owner = &ObjectRef{Kind: "ReplicaSet", Name: name + "-abc12"}
					s.Events = append(s.Events, Event{Cluster: cluster, Namespace: ns, InvolvedKind: "Pod", InvolvedName: p.Name,
						Reason: "BackOff", Count: 4, Last: t0.Add(-time.Duration(i) * time.Second)})
				}
				s.Pods = append(s.Pods, p)
			}
		}
	}
	return s
}

func TestLargeSnapshotShape(t *testing.T) {
	s := largeSnapshot(3, 200, 10)
	if len(s.Pods) != 6000 {
		t.Fatalf("pods = %d, want 6000", len(s.Pods))
	}
	m := Build(s)
	if len(m.Apps) != 200 {
		t.Fatalf("apps = %d, want 200", len(m.Apps))
	}
	pods, instances := 0, 0
	for _, a := range m.Apps {
		instances += len(a.Instances)
		pods += a.Summary.Pods
	}
	if instances != 600 || pods != 6000 {
		t.Errorf("instances = %d, pods = %d; want 600 and 6000 (every pod attached once)", instances, pods)
	}
	if m.Apps[0].Severity != SeverityError {
		t.Errorf("worst app severity = %s, want error (crash-looping pods)", m.Apps[0].Severity)
	}
}

// BenchmarkBuild measures Build over 3 clusters × 2,000 pods.
func BenchmarkBuild(b *testing.B) {
	s := largeSnapshot(3, 200, 10)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_ = Build(s)
	}
}
