package watch

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/fleetdeck/fleetdeck/fleet"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func mustUnstructured(t *testing.T, y string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(y), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

// fixtureSnapshot is one cluster with an object of every kind, as trimmed by the cache.
func fixtureSnapshot(t *testing.T) ClusterSnapshot {
	rsOwner := []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "auth-service", Controller: ptr.To(true)}}
	podOwner := []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "auth-service-7d9", Controller: ptr.To(true)}}
	tmpl := corev1.PodTemplateSpec{Spec: corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "migrate", Image: "registry.fleetdeck.test/shop/auth-service:1.4.0"}},
		Containers: []corev1.Container{{Name: "auth-service", Image: "registry.fleetdeck.test/shop/auth-service:1.4.0",
			Env: []corev1.EnvVar{
				{Name: "LOG_LEVEL", Value: "info"},
				{Name: "DB_PASSWORD", Value: "hunter2"},
				{Name: "JWT_KEY", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
					LocalObjectReference: corev1.LocalObjectReference{Name: "auth"}, Key: "jwt"}}},
				{Name: "POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
			},
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{"cpu": resource.MustParse("1000m"), "memory": resource.MustParse("128Mi")},
				Limits:   corev1.ResourceList{"memory": resource.MustParse("256Mi")},
			}}}}}
	deploy := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "auth-service", Namespace: "auth", Generation: 4,
		Labels:      map[string]string{"app.kubernetes.io/instance": "auth-service-prod-eu"},
		Annotations: map[string]string{"argocd.argoproj.io/tracking-id": "auth-service-prod-eu:apps/Deployment:auth/auth-service"}},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2), Template: tmpl},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 4, Replicas: 2, ReadyReplicas: 1, UpdatedReplicas: 2, AvailableReplicas: 1,
			Conditions: []appsv1.DeploymentCondition{{Type: "Available", Status: "False", Reason: "MinimumReplicasUnavailable", LastTransitionTime: t0}}}}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "auth-service-7d9-x1", Namespace: "auth", CreationTimestamp: t0, OwnerReferences: podOwner},
		Spec: corev1.PodSpec{NodeName: "kwok-prod-eu-node-0", RestartPolicy: "Always",
			Containers: []corev1.Container{{Name: "auth-service", Image: "registry.fleetdeck.test/shop/auth-service:1.4.0"}}},
		Status: corev1.PodStatus{Phase: "Running",
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse}},
			InitContainerStatuses: []corev1.ContainerStatus{{Name: "migrate", Image: "registry.fleetdeck.test/shop/auth-service:1.4.0", Ready: true,
				State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed"}}}},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "auth-service", Image: "registry.fleetdeck.test/shop/auth-service:1.4.0", RestartCount: 6,
				State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 2m40s"}},
				LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Error", ExitCode: 2}}}}}}
	pending := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "auth-service-7d9-x2", Namespace: "auth", CreationTimestamp: t0, OwnerReferences: podOwner,
		DeletionTimestamp: &t0},
		Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: "auth-service", Image: "registry.fleetdeck.test/shop/auth-service:1.4.0"}}},
		Status: corev1.PodStatus{Phase: "Pending", Message: "0/1 nodes are available"}}
	return ClusterSnapshot{
		Cluster: "prod-eu",
		State: State{Phase: Forbidden, Forbidden: []string{ResCronJobs, ResEvents}, LastEvent: t0.Time,
			ForbiddenIn: map[string][]string{ResEvents: {"payments"}},
			Resources: []ResourceState{{Name: ResCronJobs, Forbidden: true},
				{Name: ResEvents, Synced: true, Forbidden: true, Namespaces: []string{"auth", "ledger"}, ForbiddenNamespaces: []string{"payments"}},
				{Name: ResPods, Synced: true}}},
		Deployments: []*appsv1.Deployment{deploy},
		StatefulSets: []*appsv1.StatefulSet{{ObjectMeta: metav1.ObjectMeta{Name: "ledger-db", Namespace: "ledger"},
			Spec: appsv1.StatefulSetSpec{Replicas: ptr.To[int32](3), UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: "RollingUpdate",
				RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr.To[int32](1)}}},
			Status: appsv1.StatefulSetStatus{Replicas: 3, ReadyReplicas: 3, CurrentRevision: "ledger-db-1", UpdateRevision: "ledger-db-2"}}},
		DaemonSets: []*appsv1.DaemonSet{{ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "ops"},
			Spec:   appsv1.DaemonSetSpec{UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: "OnDelete"}},
			Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: 1, CurrentNumberScheduled: 1, NumberReady: 1, UpdatedNumberScheduled: 1, NumberAvailable: 1}}},
		ReplicaSets: []*appsv1.ReplicaSet{
			{ObjectMeta: metav1.ObjectMeta{Name: "auth-service-7d9", Namespace: "auth", OwnerReferences: rsOwner}},
			{ObjectMeta: metav1.ObjectMeta{Name: "loner", Namespace: "auth"}, Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](1)},
				Status: appsv1.ReplicaSetStatus{Replicas: 1, ReadyReplicas: 1, AvailableReplicas: 1}},
		},
		Jobs: []*batchv1.Job{{ObjectMeta: metav1.ObjectMeta{Name: "report-123", Namespace: "ops",
			OwnerReferences: []metav1.OwnerReference{{Kind: "CronJob", Name: "report", Controller: ptr.To(true)}}},
			Spec:   batchv1.JobSpec{Parallelism: ptr.To[int32](1)},
			Status: batchv1.JobStatus{Conditions: []batchv1.JobCondition{{Type: "Complete", Status: "True"}}}}},
		CronJobs: []*batchv1.CronJob{{ObjectMeta: metav1.ObjectMeta{Name: "report", Namespace: "ops"}, Spec: batchv1.CronJobSpec{Suspend: ptr.To(true)}}},
		Pods:     []*corev1.Pod{pod, pending},
		Events: []*corev1.Event{{ObjectMeta: metav1.ObjectMeta{Name: "x.1", Namespace: "auth"},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "auth", Name: "auth-service-7d9-x1"},
			Type:           "Warning", Reason: "BackOff", Message: "Back-off restarting failed container", Count: 5, LastTimestamp: t0}},
		Applications: []*unstructured.Unstructured{mustUnstructured(t, `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: auth-service-prod-eu, namespace: argocd, labels: {fleetdeck.io/app: auth-service}}
spec:
  destination: {name: prod-eu, namespace: auth}
  source: {repoURL: "file:///fleet-gitops.git", path: k8s/auth-service, targetRevision: main, helm: {valueFiles: [values-prod.yaml], releaseName: auth}}
status:
  sync: {status: OutOfSync, revision: bbbbbbb}
  health: {status: Degraded, message: "back-off"}
  operationState: {phase: Succeeded, message: ok, syncResult: {revision: aaaaaaa}}
  summary: {images: ["registry.fleetdeck.test/shop/auth-service:1.4.0"]}
  conditions: [{type: SyncError, message: boom, lastTransitionTime: "2026-11-25T10:00:00Z"}]
  resources: [{group: apps, kind: Deployment, namespace: auth, name: auth-service, status: Synced, health: {status: Degraded}}]
`), mustUnstructured(t, `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: multi, namespace: argocd}
spec:
  destination: {server: "https://kubernetes.default.svc"}
  sources:
  - {repoURL: "file:///values.git", ref: values}
  - {repoURL: "file:///charts.git", chart: web, targetRevision: 1.2.3, helm: {valueFiles: [$values/web.yaml]}}
status:
  sync: {status: Synced, revisions: [r1, r2]}
  operationState: {syncResult: {revisions: [r1, r2]}}
`)},
		Kustomizations: []*unstructured.Unstructured{mustUnstructured(t, `
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: catalog-api, namespace: flux-system}
spec: {path: ./k8s/catalog-api/overlays/staging, sourceRef: {kind: GitRepository, name: fleet-gitops}, suspend: false, targetNamespace: catalog}
status:
  lastAppliedRevision: main@sha1:1111111111111111111111111111111111111111
  lastAttemptedRevision: main@sha1:2222222222222222222222222222222222222222
  conditions:
  - {type: Ready, status: "False", reason: HealthCheckFailed, message: "timeout", lastTransitionTime: "2026-11-25T10:00:00Z"}
  - {type: Reconciling, status: "True", reason: ProgressingWithRetry}
  inventory: {entries: [{id: catalog_catalog-api_apps_Deployment}, {id: bad}]}
`)},
		HelmReleases: []*unstructured.Unstructured{mustUnstructured(t, `
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: search-indexer, namespace: flux-system}
spec:
  suspend: true
  releaseName: search-indexer
  targetNamespace: search
  chart: {spec: {chart: ./k8s/search-indexer, valuesFiles: [values-stage.yaml], sourceRef: {kind: GitRepository, name: fleet-gitops, namespace: flux-system}}}
status:
  lastAttemptedRevision: 0.3.0+333333333333
  history:
  - {version: 3, status: failed, chartVersion: 0.3.0+333333333333}
  - {version: 2, status: deployed, chartVersion: 0.2.0+222222222222}
  conditions: [{type: Stalled, status: "True", reason: RetriesExceeded}]
`)},
		GitRepositories: []*unstructured.Unstructured{mustUnstructured(t, `
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: fleet-gitops, namespace: flux-system}
spec: {url: "file:///fleet-gitops.git", ref: {branch: main}}
`)},
	}
}

func TestFleetSnapshotGolden(t *testing.T) {
	fs := FleetSnapshot([]ClusterSnapshot{fixtureSnapshot(t)}, t0.Time)
	// The cluster side only: Git is gitstate's part.
	got, err := json.MarshalIndent(struct {
		Clusters    []fleet.ClusterState
		ArgoApps    []fleet.ArgoApp
		FluxObjects []fleet.FluxObject
		Workloads   []fleet.Workload
		ReplicaSets []fleet.ReplicaSet
		Pods        []fleet.Pod
		Events      []fleet.Event
	}{fs.Clusters, fs.ArgoApps, fs.FluxObjects, fs.Workloads, fs.ReplicaSets, fs.Pods, fs.Events}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "fleet-snapshot.golden.json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != string(got)+"\n" {
		t.Errorf("FleetSnapshot differs from %s (go test -update rewrites it):\n%s", golden, got)
	}
}

func TestFleetSnapshotSemantics(t *testing.T) {
	fs := FleetSnapshot([]ClusterSnapshot{fixtureSnapshot(t)}, t0.Time)
	if len(fs.Workloads) != 6 {
		t.Errorf("workloads = %d, want 6 (deployment, statefulset, daemonset, standalone replicaset, job, cronjob)", len(fs.Workloads))
	}
	c := fs.Workloads[0].Containers[1]
	if c.Env["DB_PASSWORD"] == "hunter2" || c.Env["JWT_KEY"] != "valueFrom:secretKeyRef/auth/jwt" ||
		c.Resources["requests.cpu"] != "1" || c.Resources["limits.memory"] != "256Mi" {
		t.Errorf("container = %+v", c)
	}
	if !fs.Workloads[0].Containers[0].Init {
		t.Error("init container not flagged")
	}
	p := fs.Pods[0]
	if p.Owner == nil || p.Owner.Kind != "ReplicaSet" || p.Ready || len(p.Containers) != 2 ||
		p.Containers[1].WaitingReason != "CrashLoopBackOff" || !p.Containers[1].LastTerminated {
		t.Errorf("pod = %+v", p)
	}
	if pending := fs.Pods[1]; !pending.Deleting || len(pending.Containers) != 1 || pending.Containers[0].Image == "" {
		t.Errorf("pending pod = %+v", pending)
	}
	multi := fs.ArgoApps[1]
	if multi.Chart != "web" || multi.SyncRevision != "r1" || multi.SyncedRevision != "r1" {
		t.Errorf("multi-source app = %+v", multi)
	}
	ks, hr := fs.FluxObjects[0], fs.FluxObjects[1]
	if ks.Ready == nil || ks.Ready.Reason != "HealthCheckFailed" || !ks.Reconciling || len(ks.Inventory) != 1 ||
		ks.RepoURL != "file:///fleet-gitops.git" || ks.Branch != "main" {
		t.Errorf("kustomization = %+v", ks)
	}
	if hr.LastAppliedRevision != "0.2.0+222222222222" || !hr.Suspended || !hr.Stalled || hr.RepoURL == "" {
		t.Errorf("helmrelease = %+v", hr)
	}
	if got := fs.Clusters[0]; got.State != fleet.ConnSynced || len(got.Forbidden) != 2 || !got.IsForbidden("CronJob") {
		t.Errorf("cluster state = %+v", got)
	}
	for _, tc := range []struct {
		kind, ns string
		want     bool
	}{
		{"CronJob", "auth", true}, // forbidden with no namespace read
		{"Event", "auth", false},
		{"Event", "ledger", false},
		{"Event", "payments", true},
		{"Event", "search", true}, // never read there
		{"Pod", "payments", false},
	} {
		if got := fs.Clusters[0].IsForbiddenIn(tc.kind, tc.ns); got != tc.want {
			t.Errorf("cluster IsForbiddenIn(%s, %s) = %v, want %v", tc.kind, tc.ns, got, tc.want)
		}
	}
	if got := fs.Clusters[0].ForbiddenIn[ResEvents]; len(got) != 1 || got[0] != "payments" {
		t.Errorf("cluster ForbiddenIn[events] = %v, want [payments]", got)
	}
}

func TestFleetClusterState(t *testing.T) {
	res := []ResourceState{{Name: ResPods, Synced: true}, {Name: ResEvents}}
	for _, tc := range []struct {
		phase   Phase
		want    fleet.ConnState
		wantErr string
	}{
		{Connecting, fleet.ConnConnecting, ""},
		{Slow, fleet.ConnConnecting, "slow: still listing events"},
		{Synced, fleet.ConnSynced, ""},
		{Forbidden, fleet.ConnSynced, ""},
		{Unreachable, fleet.ConnUnreachable, ""},
	} {
		got := FleetClusterState("c", State{Phase: tc.phase, Resources: res})
		if got.State != tc.want || got.Err != tc.wantErr || got.Name != "c" {
			t.Errorf("%s: got %+v, want state %s err %q", tc.phase, got, tc.want, tc.wantErr)
		}
	}
	// A complete cluster whose API server answers late is the model's ConnSlow: its data is
	// whole, only late.
	complete := []ResourceState{{Name: ResPods, Synced: true}, {Name: ResEvents, Synced: true}}
	got := FleetClusterState("c", State{Phase: Slow, Resources: complete, Err: "the API server answers slowly"})
	if got.State != fleet.ConnSlow || got.Err != "the API server answers slowly" || !got.Live() {
		t.Errorf("slow and complete: got %+v, want %s with the reason, live", got, fleet.ConnSlow)
	}
}

// TestTrimKeepsWhatConvertReads sends operator objects through the cache's trimming before
// converting them: the fields that decide where and under which Helm release name an
// instance renders must survive it.
func TestTrimKeepsWhatConvertReads(t *testing.T) {
	hr := trimHelmRelease(mustUnstructured(t, `
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: search-indexer, namespace: flux-system, managedFields: [{manager: x}]}
spec:
  releaseName: search
  targetNamespace: search-ns
  values: {big: blob}
  chart: {spec: {chart: ./k8s/search-indexer, sourceRef: {kind: GitRepository, name: repo}}}
`))
	ks := trimKustomization(mustUnstructured(t, `
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: catalog, namespace: flux-system}
spec: {path: ./k8s/catalog, targetNamespace: catalog, sourceRef: {kind: GitRepository, name: repo}, patches: [{patch: x}]}
`))
	app := trimArgoApp(mustUnstructured(t, `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: search-prod-eu, namespace: argocd}
spec:
  destination: {name: prod-eu, namespace: search}
  source: {repoURL: "file:///r.git", path: k8s/search, helm: {releaseName: search, valueFiles: [values-prod.yaml]}}
`))
	repos := map[repoKey]repoInfo{}
	if f := fluxObject("staging", fleet.FluxHelmRelease, hr, repos); f.HelmReleaseName != "search" || f.TargetNamespace != "search-ns" ||
		f.ReleaseName() != "search" || f.DestNamespace() != "search-ns" {
		t.Errorf("trimmed HelmRelease = %+v", f)
	}
	if f := fluxObject("staging", fleet.FluxKustomization, ks, repos); f.TargetNamespace != "catalog" {
		t.Errorf("trimmed Kustomization = %+v", f)
	}
	if a := ArgoApp("prod-eu", app); a.HelmReleaseName != "search" || a.ReleaseName() != "search" || a.DestNamespace != "search" {
		t.Errorf("trimmed Application = %+v", a)
	}
}
