// Package fleettest holds fleet snapshots for tests: the sandbox fleet with every scenario
// problem, built from internal/sandbox/scenario, shared by fleet's own tests and the ui's.
// Like fleet it is pure: no I/O.
package fleettest

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

// Now is the fixed time the snapshots stand for.
var Now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// FakeSHA is a stable 40-hex sha for a name.
func FakeSHA(parts ...string) string {
	sum := sha1.Sum([]byte(strings.Join(parts, "/")))
	return hex.EncodeToString(sum[:])
}

// GitTags are the image tags set by the commits touching an app's path, newest first; the
// whole-repo history interleaves them with commits touching other apps.
var GitTags = []string{"1.4.0", "1.3.0", "1.2.0", "1.1.0"}

// sandboxSnapshot models what the kube and gitstate adapters report for the sandbox fleet: every
// app of the scenario on its clusters, through its operator, with the scenario's problems.
func SandboxSnapshot() fleet.Snapshot {
	s := fleet.Snapshot{Now: Now, Git: map[fleet.GitKey]fleet.GitFacts{}}
	for _, c := range scenario.Clusters {
		s.Clusters = append(s.Clusters, fleet.ClusterState{Name: c, State: fleet.ConnSynced, LastEvent: Now.Add(-2 * time.Second)})
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
	for i := range GitTags {
		c := FakeSHA(app.Name, cluster, "path", fmt.Sprint(i))
		pathCommits = append(pathCommits, c)
		history = append(history, c, FakeSHA(app.Name, cluster, "other", fmt.Sprint(i)))
	}
	head := pathCommits[0]
	tagAt := func(i int) string {
		if problem == string(scenario.LatestTag) {
			return "latest"
		}
		if problem == string(scenario.PullFailure) && i == 0 {
			return "1.4.0-does-not-exist"
		}
		return GitTags[i]
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
			Phase: "Running", Ready: true, Created: Now.Add(-time.Hour), NodeName: "kwok-node-0",
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
			Reason: "BackOff", Message: "Back-off restarting failed container", Count: 7, Last: Now.Add(-time.Minute)})
	case string(scenario.PullFailure):
		p := podOf(rs+"-0", rs, liveImage)
		p.Phase, p.Ready = "Pending", false
		p.Containers[0] = fleet.ContainerStatus{Name: app.Name, Image: liveImage, WaitingReason: "ImagePullBackOff",
			WaitingMessage: `Back-off pulling image "` + liveImage + `"`}
		pods = append(pods, p)
		w.ReadyReplicas, w.AvailableReplicas = 0, 0
		s.Events = append(s.Events, fleet.Event{Cluster: cluster, Namespace: app.Namespace, InvolvedKind: "Pod", InvolvedName: p.Name,
			Reason: "Failed", Message: "Failed to pull image", Count: 12, Last: Now.Add(-30 * time.Second)})
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
