package fleet

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// healthyDeploy is a rolled-out Deployment with one container.
func healthyDeploy(cluster, ns, name, image string, replicas int32) Workload {
	return Workload{Cluster: cluster, Kind: "Deployment", Namespace: ns, Name: name,
		Labels: map[string]string{}, Annotations: map[string]string{},
		Generation: 1, ObservedGeneration: 1, Replicas: replicas, StatusReplicas: replicas,
		ReadyReplicas: replicas, UpdatedReplicas: replicas, AvailableReplicas: replicas,
		Containers: []Container{{Name: name, Image: image}}}
}

// readyPods makes n ready pods owned by the Deployment's ReplicaSet.
func readyPods(w Workload, n int) []Pod {
	var out []Pod
	for i := 0; i < n; i++ {
		out = append(out, Pod{Cluster: w.Cluster, Namespace: w.Namespace, Name: fmt.Sprintf("%s-abc12-%d", w.Name, i),
			Owner: &ObjectRef{Kind: "ReplicaSet", Name: w.Name + "-abc12"}, Phase: "Running", Ready: true,
			Containers: []ContainerStatus{{Name: w.Containers[0].Name, Image: w.Containers[0].Image, Ready: true, Running: true}}})
	}
	return out
}

func crashingPod(w Workload, name string, restarts int32) Pod {
	return Pod{Cluster: w.Cluster, Namespace: w.Namespace, Name: name,
		Owner: &ObjectRef{Kind: "ReplicaSet", Name: w.Name + "-bad99"}, Phase: "Running",
		Containers: []ContainerStatus{{Name: w.Containers[0].Name, Image: w.Containers[0].Image, RestartCount: restarts,
			WaitingReason: "CrashLoopBackOff", LastTerminated: true, LastTerminatedReason: "Error", LastTerminatedExitCode: 1}}}
}

func desiredOf(w Workload) DesiredObject {
	r := w.Replicas
	return DesiredObject{Kind: w.Kind, Namespace: w.Namespace, Name: w.Name, Replicas: &r,
		Containers: []Container{{Name: w.Containers[0].Name, Image: w.Containers[0].Image}}}
}

func live3(names ...string) []ClusterState {
	var out []ClusterState
	for _, n := range names {
		out = append(out, ClusterState{Name: n, State: ConnSynced, LastEvent: t0.Add(-time.Second)})
	}
	return out
}

func mustApp(t *testing.T, m Model, name string) *Application {
	t.Helper()
	a, ok := m.App(name)
	if !ok {
		t.Fatalf("application %q not in model; have %v", name, appNames(m))
	}
	return a
}

func mustInstance(t *testing.T, a *Application, cluster string) *Instance {
	t.Helper()
	in, ok := a.Instance(cluster)
	if !ok {
		t.Fatalf("application %s has no instance on %s", a.Name, cluster)
	}
	return in
}

func appNames(m Model) []string {
	var out []string
	for _, a := range m.Apps {
		out = append(out, a.Name)
	}
	return out
}

func TestBuildMergesOperatorsAcrossClusters(t *testing.T) {
	eu := healthyDeploy("prod-eu", "shop", "shop", "reg/shop:1", 2)
	eu.Annotations[ArgoTrackingAnnotation] = "shop-prod-eu:apps/Deployment:shop/shop"
	us := healthyDeploy("prod-us", "shop", "shop", "reg/shop:1", 2)
	us.Labels[ArgoInstanceLabel] = "shop-prod-us"
	st := healthyDeploy("staging", "shop", "shop", "reg/shop:1", 1)
	st.Labels[FluxKustomizeNameLabel], st.Labels[FluxKustomizeNamespaceLabel] = "shop", "flux-system"
	dev := healthyDeploy("dev", "shop", "shop", "reg/shop:1", 1)
	other := healthyDeploy("prod-us", "other", "other", "reg/other:1", 1)
	other.Labels[ArgoInstanceLabel] = "other"

	s := Snapshot{
		Now:      t0,
		Clusters: live3("prod-eu", "prod-us", "staging", "dev"),
		ArgoApps: []ArgoApp{
			{Cluster: "prod-eu", Namespace: "argocd", Name: "shop-prod-eu", DestServer: InClusterServer, DestNamespace: "shop", SyncStatus: "Synced", HealthStatus: "Healthy"},
			{Cluster: "prod-eu", Namespace: "argocd", Name: "shop-prod-us", DestName: "prod-us", DestNamespace: "shop", SyncStatus: "Synced", HealthStatus: "Healthy"},
			{Cluster: "prod-eu", Namespace: "argocd", Name: "other", DestName: "prod-us", SyncStatus: "Synced", HealthStatus: "Healthy"},
		},
		FluxObjects: []FluxObject{{Kind: FluxKustomization, Cluster: "staging", Namespace: "flux-system", Name: "shop",
			Ready: &Condition{Type: "Ready", Status: "True"}, LastAppliedRevision: "main@sha1:" + sha("a1"), LastAttemptedRevision: "main@sha1:" + sha("a1")}},
		// prod-us is already applied by Argo CD: the declared entry only adds dev.
		Declared:  []DeclaredApp{{Name: "shop", Clusters: []string{"prod-us", "dev"}, Namespace: "shop"}},
		Workloads: []Workload{eu, us, st, dev, other},
		Git: map[GitKey]GitFacts{
			{"shop", "dev"}: {Head: sha("a1"), PathCommits: []string{sha("a1")}, Desired: []DesiredObject{desiredOf(dev)}},
		},
	}
	m := Build(s)
	if got := appNames(m); strings.Join(got, ",") != "other,shop" {
		t.Fatalf("apps = %v, want [other shop]", got)
	}
	shop := mustApp(t, m, "shop")
	want := map[string]Operator{"prod-eu": OperatorArgoCD, "prod-us": OperatorArgoCD, "staging": OperatorFlux, "dev": OperatorDeclared}
	if len(shop.Instances) != len(want) {
		t.Fatalf("shop has %d instances, want %d: %+v", len(shop.Instances), len(want), shop.Instances)
	}
	var order []string
	for _, in := range shop.Instances {
		order = append(order, in.Cluster)
		if want[in.Cluster] != in.Source.Operator {
			t.Errorf("instance on %s applied by %s, want %s", in.Cluster, in.Source.Operator, want[in.Cluster])
		}
		if len(in.Workloads) != 1 || in.Workloads[0].Ref.Name != "shop" {
			t.Errorf("instance on %s workloads = %+v, want the shop Deployment only", in.Cluster, in.Workloads)
		}
		if in.Severity != SeverityOK || in.Health.Status != Healthy || in.Sync.Status != Synced {
			t.Errorf("instance on %s = %s/%s/%s %v, want OK Healthy Synced", in.Cluster, in.Severity, in.Health.Status, in.Sync.Status, in.Problems)
		}
	}
	// Equal severity: cluster order of the snapshot.
	if strings.Join(order, ",") != "prod-eu,prod-us,staging,dev" {
		t.Errorf("instance order = %v", order)
	}
	if shop.Summary.Instances != 4 || shop.Summary.Healthy != 4 || shop.Sync != Synced || shop.Health != Healthy {
		t.Errorf("shop summary = %+v sync %s health %s", shop.Summary, shop.Sync, shop.Health)
	}
}

func TestBuildUnreachableClusterIsUnknownNotDropped(t *testing.T) {
	w := healthyDeploy("prod-us", "pay", "pay", "reg/pay:1", 2)
	w.Labels[ArgoInstanceLabel] = "pay-prod-us"
	w.AvailableReplicas = 0 // stale last-known data: must not count
	s := Snapshot{
		Now: t0,
		Clusters: []ClusterState{
			{Name: "prod-eu", State: ConnSynced},
			{Name: "prod-us", State: ConnUnreachable, Err: "dial tcp 127.0.0.1:6443: connection refused", LastEvent: t0.Add(-5 * time.Minute)},
			{Name: "staging", State: ConnConnecting},
		},
		ArgoApps: []ArgoApp{{Cluster: "prod-eu", Namespace: "argocd", Name: "pay-prod-us", DestName: "prod-us",
			SyncStatus: "Synced", HealthStatus: "Healthy"}},
		Declared:  []DeclaredApp{{Name: "ledger", Clusters: []string{"prod-us", "staging"}}},
		Workloads: []Workload{w},
		Git: map[GitKey]GitFacts{
			{"ledger", "prod-us"}: {Head: sha("l1"), Desired: []DesiredObject{{Kind: "Deployment", Namespace: "ledger", Name: "ledger"}}},
			{"ledger", "staging"}: {Head: sha("l1"), Desired: []DesiredObject{{Kind: "Deployment", Namespace: "ledger", Name: "ledger"}}},
		},
	}
	m := Build(s)
	pay := mustInstance(t, mustApp(t, m, "pay"), "prod-us")
	if pay.Health.Status != Unknown || pay.Sync.Status != SyncUnknown {
		t.Errorf("pay on unreachable cluster = %s/%s, want Unknown/Unknown", pay.Health.Status, pay.Sync.Status)
	}
	if !strings.Contains(pay.Health.Message, "unreachable") || !strings.Contains(pay.Health.Message, "connection refused") {
		t.Errorf("message %q should say unreachable and why", pay.Health.Message)
	}
	if pay.Severity != SeverityWarning || len(pay.Problems) != 1 {
		t.Errorf("pay severity %s problems %v, want one Warning", pay.Severity, pay.Problems)
	}
	if pay.ClusterState.State != ConnUnreachable || !pay.ClusterState.LastEvent.Equal(t0.Add(-5*time.Minute)) {
		t.Errorf("cluster state not carried: %+v", pay.ClusterState)
	}
	if len(pay.Workloads) != 1 {
		t.Errorf("last-known workloads should stay visible, got %d", len(pay.Workloads))
	}
	ledger := mustApp(t, m, "ledger")
	us := mustInstance(t, ledger, "prod-us")
	if us.Health.Status != Unknown || us.Severity != SeverityWarning {
		t.Errorf("declared app on unreachable cluster = %s %s, want Unknown (not Missing), Warning", us.Health.Status, us.Severity)
	}
	stg := mustInstance(t, ledger, "staging")
	if stg.Health.Status != Unknown || stg.Severity != SeverityInfo {
		t.Errorf("declared app on connecting cluster = %s %s, want Unknown, Info", stg.Health.Status, stg.Severity)
	}
	if m.Severity != SeverityWarning {
		t.Errorf("model severity = %s, want warning", m.Severity)
	}
	if got := m.Clusters[1].Age(t0); got != 5*time.Minute {
		t.Errorf("cluster age = %s", got)
	}
}

func TestBuildArgoHubUnreachableUsesLiveHealth(t *testing.T) {
	w := healthyDeploy("prod-us", "pay", "pay", "reg/pay:1", 1)
	w.Labels[ArgoInstanceLabel] = "pay-prod-us"
	s := Snapshot{
		Clusters: []ClusterState{{Name: "prod-eu", State: ConnUnreachable}, {Name: "prod-us", State: ConnSynced}},
		ArgoApps: []ArgoApp{{Cluster: "prod-eu", Namespace: "argocd", Name: "pay-prod-us", DestName: "prod-us",
			SyncStatus: "OutOfSync", HealthStatus: "Degraded"}},
		Workloads: []Workload{w},
		Pods:      readyPods(w, 1),
	}
	in := mustInstance(t, mustApp(t, Build(s), "pay"), "prod-us")
	if in.Sync.Status != SyncUnknown || !strings.Contains(in.Sync.Reason, "stale") {
		t.Errorf("sync = %+v, want Unknown because the hub is unreachable", in.Sync)
	}
	if in.Health.Status != Healthy {
		t.Errorf("health = %+v, want Healthy from live workloads", in.Health)
	}
}

func TestBuildForbiddenResources(t *testing.T) {
	w := healthyDeploy("prod-us", "ledger", "ledger", "reg/ledger:1", 1)
	s := Snapshot{
		Clusters: []ClusterState{
			{Name: "prod-eu", State: ConnSynced, Forbidden: []string{"deployments.apps"}},
			{Name: "prod-us", State: ConnSynced, Forbidden: []string{"pods"}},
		},
		Declared:  []DeclaredApp{{Name: "ledger", Clusters: []string{"prod-eu", "prod-us"}}},
		Workloads: []Workload{w},
		Git: map[GitKey]GitFacts{
			{"ledger", "prod-eu"}: {Head: sha("l1"), PathCommits: []string{sha("l1")}, Desired: []DesiredObject{desiredOf(w)}},
			{"ledger", "prod-us"}: {Head: sha("l1"), PathCommits: []string{sha("l1")}, Desired: []DesiredObject{desiredOf(w)}},
		},
	}
	m := Build(s)
	a := mustApp(t, m, "ledger")
	eu := mustInstance(t, a, "prod-eu")
	if eu.Health.Status != Unknown || !strings.Contains(eu.Health.Message, "forbidden") {
		t.Errorf("deployments forbidden: health %+v, want Unknown (not Missing) saying forbidden", eu.Health)
	}
	if eu.Sync.Status != SyncUnknown {
		t.Errorf("deployments forbidden: sync %+v, want Unknown", eu.Sync)
	}
	us := mustInstance(t, a, "prod-us")
	if us.Health.Status != Healthy || us.Sync.Status != Synced || us.Severity != SeverityInfo {
		t.Errorf("pods forbidden: %s/%s/%s, want Healthy Synced with an Info note", us.Health.Status, us.Sync.Status, us.Severity)
	}
	if len(us.Problems) != 1 || !strings.Contains(us.Problems[0].Text, "cannot read pods in ledger on prod-us (forbidden)") {
		t.Errorf("pods forbidden: problems %v", us.Problems)
	}
}

func TestBuildArgoHealthWinsButPodsRaiseSeverity(t *testing.T) {
	w := healthyDeploy("staging", "auth", "auth", "reg/auth:2", 2)
	w.Labels[ArgoInstanceLabel] = "auth-staging"
	pods := append(readyPods(w, 2), crashingPod(w, "auth-bad99-x", 6))
	s := Snapshot{
		Clusters:  live3("staging"),
		ArgoApps:  []ArgoApp{{Cluster: "staging", Name: "auth-staging", DestName: "in-cluster", SyncStatus: "Synced", HealthStatus: "Progressing"}},
		Workloads: []Workload{w},
		Pods:      pods,
	}
	in := mustInstance(t, mustApp(t, Build(s), "auth"), "staging")
	if in.Health.Status != Progressing {
		t.Errorf("health = %s, want Argo CD's Progressing", in.Health.Status)
	}
	if in.Severity != SeverityError {
		t.Errorf("severity = %s, want error from the crashing pod; problems %v", in.Severity, in.Problems)
	}
	wl := in.Workloads[0]
	if wl.Health.Status != Degraded || wl.Pods[0].Reason != "CrashLoopBackOff" || wl.Pods[0].Restarts != 6 {
		t.Errorf("workload %+v: want Degraded with the crashing pod first", wl)
	}
	if !strings.Contains(in.Problems[0].Text, "1 pod(s) CrashLoopBackOff (6 restarts)") {
		t.Errorf("first problem = %q", in.Problems[0].Text)
	}
}

func TestBuildFluxRules(t *testing.T) {
	head := sha("f3")
	mk := func(mut func(*FluxObject, *Workload, *[]Pod)) Instance {
		w := healthyDeploy("staging", "search", "search", "reg/search:1", 1)
		w.Labels[FluxHelmNameLabel], w.Labels[FluxHelmNamespaceLabel] = "search", "flux-system"
		f := FluxObject{Kind: FluxHelmRelease, Cluster: "staging", Namespace: "flux-system", Name: "search",
			Ready:               &Condition{Type: "Ready", Status: "True", Message: "Helm upgrade succeeded"},
			LastAppliedRevision: "main@sha1:" + head, LastAttemptedRevision: "main@sha1:" + head}
		pods := readyPods(w, 1)
		mut(&f, &w, &pods)
		s := Snapshot{Clusters: live3("staging"), FluxObjects: []FluxObject{f}, Workloads: []Workload{w}, Pods: pods,
			Git: map[GitKey]GitFacts{{"search", "staging"}: {Head: head, PathCommits: []string{head, sha("f2"), sha("f1")},
				Desired: []DesiredObject{desiredOf(healthyDeploy("staging", "search", "search", "reg/search:1", 1))}}}}
		m := Build(s)
		return *mustInstance(t, mustApp(t, m, "search"), "staging")
	}
	tests := []struct {
		name   string
		mut    func(*FluxObject, *Workload, *[]Pod)
		health HealthStatus
		sync   SyncStatus
		sev    Severity
		behind int
	}{
		{"ready and current", func(*FluxObject, *Workload, *[]Pod) {}, Healthy, Synced, SeverityOK, 0},
		{"ready but pods crash: worse of both", func(f *FluxObject, w *Workload, p *[]Pod) {
			*p = []Pod{crashingPod(*w, "search-bad99-a", 3)}
			w.ReadyReplicas, w.AvailableReplicas = 0, 0
		}, Degraded, Synced, SeverityCritical, 0},
		{"suspended and healthy live", func(f *FluxObject, _ *Workload, _ *[]Pod) { f.Suspended = true }, Suspended, Synced, SeverityInfo, 0},
		{"two commits behind", func(f *FluxObject, _ *Workload, _ *[]Pod) {
			f.LastAppliedRevision, f.LastAttemptedRevision = "main@sha1:"+sha("f1"), "main@sha1:"+sha("f1")
		}, Healthy, OutOfSync, SeverityWarning, 2},
		{"new revision fails to apply", func(f *FluxObject, _ *Workload, _ *[]Pod) {
			f.LastAppliedRevision = "main@sha1:" + sha("f2")
			f.Ready = &Condition{Type: "Ready", Status: "False", Message: "values don't meet the schema"}
		}, Degraded, OutOfSync, SeverityError, 1},
		{"hand-changed image", func(_ *FluxObject, w *Workload, _ *[]Pod) { w.Containers[0].Image = "reg/search:hotfix" },
			Healthy, OutOfSync, SeverityWarning, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := mk(tt.mut)
			if in.Health.Status != tt.health || in.Sync.Status != tt.sync || in.Severity != tt.sev || in.Revision.Behind != tt.behind {
				t.Errorf("got %s/%s/%s behind %d, want %s/%s/%s behind %d; sync %+v problems %v",
					in.Health.Status, in.Sync.Status, in.Severity, in.Revision.Behind, tt.health, tt.sync, tt.sev, tt.behind, in.Sync, in.Problems)
			}
		})
	}
}

func TestBuildDeclaredRules(t *testing.T) {
	h1, h2 := sha("d1"), sha("d2")
	at := func(tag string) []DesiredObject {
		return []DesiredObject{desiredOf(healthyDeploy("prod-eu", "ledger", "ledger", "reg/ledger:"+tag, 1))}
	}
	git := GitFacts{Repo: "fleet-gitops", Branch: "main", Head: h2, Path: "k8s/ledger", PathCommits: []string{h2, h1},
		Desired: at("2"), DesiredAt: map[string][]DesiredObject{h1: at("1")}}
	tests := []struct {
		name     string
		liveTag  string // "" for no live workload
		git      GitFacts
		health   HealthStatus
		sync     SyncStatus
		sev      Severity
		live     string
		behind   int
		fieldSub string
	}{
		{"matches head", "2", git, Healthy, Synced, SeverityOK, h2, 0, ""},
		{"matches previous commit", "1", git, Healthy, OutOfSync, SeverityWarning, h1, 1, "containers[ledger].image"},
		{"changed by hand", "hotfix", git, Healthy, OutOfSync, SeverityWarning, "", -1, "containers[ledger].image"},
		{"nothing live", "", git, Missing, OutOfSync, SeverityError, "", -1, "object"},
		{"render error", "2", GitFacts{Head: h2, RenderError: "kustomize build: no such file"}, Unknown, SyncUnknown, SeverityWarning, "", -1, ""},
		{"render error, an older render locates live objects", "1", GitFacts{Head: h2, PathCommits: []string{h2, h1},
			DesiredAt: map[string][]DesiredObject{h1: at("1")}, RenderError: "helm template: parse error"}, Healthy, SyncUnknown, SeverityWarning, h1, 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Snapshot{Clusters: live3("prod-eu"), Declared: []DeclaredApp{{Name: "ledger", Clusters: []string{"prod-eu"}}},
				Git: map[GitKey]GitFacts{{"ledger", "prod-eu"}: tt.git}}
			if tt.liveTag != "" {
				w := healthyDeploy("prod-eu", "ledger", "ledger", "reg/ledger:"+tt.liveTag, 1)
				s.Workloads = []Workload{w}
				s.Pods = readyPods(w, 1)
			}
			in := mustInstance(t, mustApp(t, Build(s), "ledger"), "prod-eu")
			if in.Health.Status != tt.health || in.Sync.Status != tt.sync || in.Severity != tt.sev {
				t.Errorf("got %s/%s/%s, want %s/%s/%s; sync %+v problems %v", in.Health.Status, in.Sync.Status, in.Severity,
					tt.health, tt.sync, tt.sev, in.Sync, in.Problems)
			}
			if in.Revision.Live != tt.live || in.Revision.Behind != tt.behind {
				t.Errorf("revision = %+v, want live %s behind %d", in.Revision, ShortSHA(tt.live), tt.behind)
			}
			if tt.fieldSub != "" && (len(in.Sync.Fields) == 0 || in.Sync.Fields[0].Field != tt.fieldSub && !strings.HasPrefix(in.Sync.Fields[0].Field, tt.fieldSub)) {
				t.Errorf("fields = %+v, want first %q", in.Sync.Fields, tt.fieldSub)
			}
		})
	}
}

func TestBuildEventsAttachToInstance(t *testing.T) {
	w := healthyDeploy("prod-us", "pay", "pay", "reg/pay:1", 1)
	w.Labels[ArgoInstanceLabel] = "pay"
	pods := readyPods(w, 1)
	var evs []Event
	for i := 0; i < 12; i++ {
		evs = append(evs, Event{Cluster: "prod-us", Namespace: "pay", InvolvedKind: "Pod", InvolvedName: pods[0].Name,
			Reason: "BackOff", Message: fmt.Sprint(i), Last: t0.Add(time.Duration(i) * time.Second)})
	}
	evs = append(evs,
		Event{Cluster: "prod-us", Namespace: "pay", InvolvedKind: "ReplicaSet", InvolvedName: "pay-abc12", Reason: "FailedCreate", Last: t0.Add(time.Hour)},
		Event{Cluster: "prod-eu", Namespace: "pay", InvolvedKind: "Pod", InvolvedName: pods[0].Name, Reason: "OtherCluster", Last: t0.Add(2 * time.Hour)},
	)
	s := Snapshot{Clusters: live3("prod-eu", "prod-us"), Workloads: []Workload{w}, Pods: pods, Events: evs,
		ArgoApps: []ArgoApp{{Cluster: "prod-eu", Name: "pay", DestName: "prod-us", SyncStatus: "Synced", HealthStatus: "Healthy"}}}
	in := mustInstance(t, mustApp(t, Build(s), "pay"), "prod-us")
	if len(in.Events) != MaxEvents {
		t.Fatalf("events = %d, want %d", len(in.Events), MaxEvents)
	}
	if in.Events[0].Reason != "FailedCreate" || in.Events[1].Message != "11" {
		t.Errorf("events not newest first or ReplicaSet event missing: %+v", in.Events[:2])
	}
	for _, e := range in.Events {
		if e.Cluster != "prod-us" {
			t.Errorf("event from another cluster attached: %+v", e)
		}
	}
}

func TestSeverityText(t *testing.T) {
	b, err := json.Marshal(struct{ S Severity }{SeverityCritical})
	if err != nil || string(b) != `{"S":"critical"}` {
		t.Errorf("marshal = %s, %v", b, err)
	}
	var s Severity
	if err := s.UnmarshalText([]byte("warning")); err != nil || s != SeverityWarning {
		t.Errorf("unmarshal = %v, %v", s, err)
	}
	if err := s.UnmarshalText([]byte("bad")); err == nil {
		t.Error("unknown severity accepted")
	}
	if ClusterSeverity(ClusterState{State: ConnSynced}) != SeverityOK ||
		ClusterSeverity(ClusterState{State: ConnUnreachable}) != SeverityWarning ||
		ClusterSeverity(ClusterState{State: ConnSynced, Forbidden: []string{"pods"}}) != SeverityInfo {
		t.Error("ClusterSeverity mapping")
	}
}

func TestInstanceSources(t *testing.T) {
	s := Snapshot{
		Clusters: live3("prod-eu", "staging"),
		ArgoApps: []ArgoApp{{Cluster: "prod-eu", Name: "auth-staging", DestName: "staging", RepoURL: "file:///repo", Path: "k8s/auth",
			TargetRevision: "main", ValueFiles: []string{"values-stage.yaml"}, DestNamespace: "auth"}},
		FluxObjects: []FluxObject{{Kind: FluxKustomization, Cluster: "staging", Namespace: "flux-system", Name: "catalog", Path: "k8s/catalog/overlays/staging", Branch: "main"}},
		Declared:    []DeclaredApp{{Name: "auth", Clusters: []string{"staging", "prod-eu"}, Path: "k8s/auth", Branch: "main"}},
	}
	got := InstanceSources(s)
	if len(got) != 3 {
		t.Fatalf("got %d sources, want 3 (declared auth on staging is taken by Argo CD): %+v", len(got), got)
	}
	if got[0].Key != (GitKey{"auth", "staging"}) || got[0].Operator != OperatorArgoCD || got[0].ValueFiles[0] != "values-stage.yaml" ||
		got[0].ReleaseName != "auth-staging" || got[0].Namespace != "auth" || got[0].ForceNamespace {
		t.Errorf("argo source = %+v, want release auth-staging (the Application's name) in auth", got[0])
	}
	if got[1].Key != (GitKey{"catalog", "staging"}) || got[1].Path != "k8s/catalog/overlays/staging" ||
		got[1].Namespace != "" || got[1].ForceNamespace || got[1].ReleaseName != "" {
		t.Errorf("flux source = %+v, want no namespace and no release name", got[1])
	}
	if got[2].Key != (GitKey{"auth", "prod-eu"}) || got[2].Operator != OperatorDeclared {
		t.Errorf("declared source = %+v", got[2])
	}
}

func TestBuildArgoDestinationNotWatched(t *testing.T) {
	s := Snapshot{
		Clusters: live3("prod-eu"),
		ArgoApps: []ArgoApp{{Cluster: "prod-eu", Name: "web-edge", DestServer: "https://edge.example:6443",
			SyncStatus: "Synced", HealthStatus: "Healthy", Images: []string{"reg/web:latest"}}},
	}
	m := Build(s)
	a := mustApp(t, m, "web-edge")
	in := mustInstance(t, a, "https://edge.example:6443")
	if in.Health.Status != Healthy || in.Sync.Status != Synced {
		t.Errorf("unwatched destination: %s/%s, want Argo CD's Healthy/Synced", in.Health.Status, in.Sync.Status)
	}
	if len(in.Images) != 1 || !in.Images[0].Latest || in.Severity != SeverityWarning {
		t.Errorf("images from Argo CD's summary: %+v severity %s, want one latest image and a warning", in.Images, in.Severity)
	}
	if len(in.Problems) != 1 || in.Problems[0].Text != "image reg/web:latest uses the latest tag" {
		t.Errorf("problems = %v", in.Problems)
	}
}

// TestInstanceSourcesNamespaceAndRelease: the namespace and Helm release name each operator
// renders with reach gitstate through InstanceSource.
func TestInstanceSourcesNamespaceAndRelease(t *testing.T) {
	tests := []struct {
		name        string
		argo        *ArgoApp
		flux        *FluxObject
		wantNS      string
		wantForce   bool
		wantRelease string
	}{
		{"Argo CD: release named after the Application", &ArgoApp{Name: "search-prod-eu", DestNamespace: "search"}, nil, "search", false, "search-prod-eu"},
		{"Argo CD: helm.releaseName", &ArgoApp{Name: "search-prod-eu", DestNamespace: "search", HelmReleaseName: "search"}, nil, "search", false, "search"},
		{"HelmRelease: releaseName and targetNamespace", nil, &FluxObject{Kind: FluxHelmRelease, Namespace: "flux-system", Name: "search-indexer",
			HelmReleaseName: "search-indexer", TargetNamespace: "search"}, "search", false, "search-indexer"},
		{"HelmRelease: targetNamespace composes the name", nil, &FluxObject{Kind: FluxHelmRelease, Namespace: "flux-system", Name: "indexer",
			TargetNamespace: "search"}, "search", false, "search-indexer"},
		{"HelmRelease: its own namespace", nil, &FluxObject{Kind: FluxHelmRelease, Namespace: "search", Name: "indexer"}, "search", false, "indexer"},
		{"HelmRelease: a long name is shortened as helm-controller does", nil, &FluxObject{Kind: FluxHelmRelease, Namespace: "flux-system",
			Name: "a-very-long-helm-release-name-for-the-indexer", TargetNamespace: "search-production"},
			"search-production", false, "search-production-a-very-long-helm-relea-99af2da49424"},
		{"Kustomization: targetNamespace overrides every namespace", nil, &FluxObject{Kind: FluxKustomization, Namespace: "flux-system",
			Name: "catalog", TargetNamespace: "catalog"}, "catalog", true, ""},
		{"Kustomization: namespaces as git writes them", nil, &FluxObject{Kind: FluxKustomization, Namespace: "flux-system", Name: "catalog"}, "", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Snapshot{Clusters: live3("prod-eu")}
			if tt.argo != nil {
				tt.argo.Cluster, tt.argo.DestServer = "prod-eu", InClusterServer
				s.ArgoApps = []ArgoApp{*tt.argo}
			}
			if tt.flux != nil {
				tt.flux.Cluster = "prod-eu"
				s.FluxObjects = []FluxObject{*tt.flux}
			}
			got := InstanceSources(s)
			if len(got) != 1 {
				t.Fatalf("sources = %+v", got)
			}
			if got[0].Namespace != tt.wantNS || got[0].ForceNamespace != tt.wantForce || got[0].ReleaseName != tt.wantRelease {
				t.Errorf("namespace %q force %v release %q, want %q %v %q", got[0].Namespace, got[0].ForceNamespace, got[0].ReleaseName,
					tt.wantNS, tt.wantForce, tt.wantRelease)
			}
			if n := len(got[0].ReleaseName); n > 53 {
				t.Errorf("release name %q has %d characters; Helm accepts 53", got[0].ReleaseName, n)
			}
			in := Build(s).Apps[0].Instances[0]
			if tt.wantNS != "" && in.Namespace != tt.wantNS {
				t.Errorf("instance namespace %q, want %q", in.Namespace, tt.wantNS)
			}
		})
	}
}

// TestBuildArgoSyncedRevisionIsLive: Argo CD reports Synced at the revision it compared even
// when no sync applied it (a commit that changes nothing the app renders, such as another
// environment's values file); that revision is what runs. OutOfSync keeps the last applied.
func TestBuildArgoSyncedRevisionIsLive(t *testing.T) {
	head, old := sha("revert"), sha("bump")
	for _, tc := range []struct {
		sync       string
		wantLive   string
		wantBehind int
	}{
		{"Synced", head, 0},
		{"OutOfSync", old, 1},
	} {
		s := Snapshot{
			Clusters: live3("prod-eu", "prod-us"),
			ArgoApps: []ArgoApp{{Cluster: "prod-eu", Namespace: "argocd", Name: "pay-prod-us", DestName: "prod-us",
				SyncStatus: tc.sync, HealthStatus: "Healthy", SyncRevision: head, SyncedRevision: old}},
			Git: map[GitKey]GitFacts{{"pay", "prod-us"}: {Head: head, PathCommits: []string{head, old}, History: []string{head, old}}},
		}
		in := mustInstance(t, mustApp(t, Build(s), "pay"), "prod-us")
		if in.Revision.Live != tc.wantLive || in.Revision.Behind != tc.wantBehind {
			t.Errorf("%s: live %s behind %d, want %s behind %d", tc.sync, ShortSHA(in.Revision.Live), in.Revision.Behind,
				ShortSHA(tc.wantLive), tc.wantBehind)
		}
	}
}
