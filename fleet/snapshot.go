package fleet

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"
)

// Snapshot is everything Build needs, as plain values. The kube package fills the cluster side,
// gitstate the Git map. Slices need no particular order.
type Snapshot struct {
	// Now is the time the snapshot stands for; ages are measured from it.
	Now time.Time
	// Clusters are the configured clusters in display order, with their connection state.
	Clusters []ClusterState
	// ClusterAliases maps an Argo CD destination name or server URL to a fleetdeck cluster
	// name. In-cluster destinations (`in-cluster`, https://kubernetes.default.svc) need no
	// alias: they resolve to the cluster the Application object lives on.
	ClusterAliases map[string]string

	ArgoApps    []ArgoApp
	FluxObjects []FluxObject
	Declared    []DeclaredApp

	Workloads   []Workload
	ReplicaSets []ReplicaSet // only used to resolve pod owners (ReplicaSet → Deployment)
	Pods        []Pod
	Events      []Event // Warning events only

	// Git holds what gitstate read for each instance (see InstanceSources for the list of keys).
	Git map[GitKey]GitFacts
}

// ConnState is how fleetdeck's watch of one cluster is doing.
type ConnState string

const (
	ConnConnecting  ConnState = "connecting"  // first LIST not finished: no live data yet
	ConnSynced      ConnState = "synced"      // caches filled and watches running
	ConnSlow        ConnState = "slow"        // data present but the API server answers slowly
	ConnUnreachable ConnState = "unreachable" // no answer: what is known may be stale
)

// ClusterState is the connection state of one cluster, carried into the model so views can
// show a badge per cluster and instances can say why their state is Unknown.
type ClusterState struct {
	Name  string
	State ConnState
	// Forbidden lists resources the credentials may not list or watch on this cluster, as
	// plural lower-case resource names with an optional group: "pods", "deployments.apps",
	// "applications.argoproj.io". The cluster is otherwise usable.
	Forbidden []string
	// ReadIn maps the resources of Forbidden that are still read namespace by namespace (the
	// credentials may not list them cluster-wide, but may in some namespaces) to those
	// namespaces. A resource of Forbidden without an entry may be read nowhere; objects in a
	// namespace not listed may be missing, whether that namespace was denied or never tried.
	ReadIn map[string][]string
	// ForbiddenIn maps the resources of ReadIn to the namespaces known to deny them
	// ("pods" → ["payments"]), for display.
	ForbiddenIn map[string][]string
	// Err is the last error seen (empty when none), for display.
	Err string
	// LastEvent is when the last list or watch event arrived from this cluster.
	LastEvent time.Time
}

// Live reports whether live objects from this cluster can be trusted to be complete: the
// cluster has finished its first list and answers (possibly slowly).
func (c ClusterState) Live() bool { return c.State == ConnSynced || c.State == ConnSlow }

// Age is the time since the last event, or 0 when none arrived yet.
func (c ClusterState) Age(now time.Time) time.Duration {
	if c.LastEvent.IsZero() || now.Before(c.LastEvent) {
		return 0
	}
	return now.Sub(c.LastEvent)
}

// IsForbidden reports whether the resource for kind (e.g. "Deployment", "Pod") is forbidden.
// "deployments" and "deployments.apps" both match Deployment.
func (c ClusterState) IsForbidden(kind string) bool {
	res := ResourceOf(kind)
	for _, f := range c.Forbidden {
		name, _, _ := strings.Cut(f, ".")
		if strings.EqualFold(name, res) {
			return true
		}
	}
	return false
}

// IsForbiddenIn reports whether objects of the resource for kind in namespace ns may be missing
// because the credentials may not read them there: the resource is forbidden and not read in
// ns. ns "" (a namespace not known) is forbidden wherever the resource is forbidden at all.
func (c ClusterState) IsForbiddenIn(kind, ns string) bool {
	res := ResourceOf(kind)
	for _, f := range c.Forbidden {
		name, _, _ := strings.Cut(f, ".")
		if !strings.EqualFold(name, res) {
			continue
		}
		read, some := c.ReadIn[f]
		if ns == "" || !some || !slices.Contains(read, ns) {
			return true
		}
	}
	return false
}

// ForbiddenAmong lists the resources of Forbidden that may not be read in at least one of
// namespaces, in Forbidden's order; with no namespaces, every resource of Forbidden.
func (c ClusterState) ForbiddenAmong(namespaces []string) []string {
	if len(namespaces) == 0 {
		return c.Forbidden
	}
	var out []string
	for _, f := range c.Forbidden {
		read, some := c.ReadIn[f]
		for _, ns := range namespaces {
			if !some || !slices.Contains(read, ns) {
				out = append(out, f)
				break
			}
		}
	}
	return out
}

// ResourceOf turns a workload kind into its plural resource name ("StatefulSet" → "statefulsets").
func ResourceOf(kind string) string { return strings.ToLower(kind) + "s" }

// ObjectRef names an object on a cluster (the cluster is carried by whoever holds the ref).
type ObjectRef struct {
	Kind      string
	Namespace string
	Name      string
}

// String renders the ref as Kind namespace/name.
func (r ObjectRef) String() string {
	if r.Namespace == "" {
		return r.Kind + " " + r.Name
	}
	return r.Kind + " " + r.Namespace + "/" + r.Name
}

// ParseInventoryID reads a Flux inventory entry id `<namespace>_<name>_<group>_<kind>`.
func ParseInventoryID(id string) (ObjectRef, bool) {
	parts := strings.Split(id, "_")
	if len(parts) != 4 || parts[1] == "" || parts[3] == "" {
		return ObjectRef{}, false
	}
	return ObjectRef{Kind: parts[3], Namespace: parts[0], Name: parts[1]}, true
}

// Condition is a Kubernetes-style status condition (also used for Argo CD's, whose Status is empty).
type Condition struct {
	Type    string
	Status  string // True|False|Unknown
	Reason  string
	Message string
	Last    time.Time
}

func findCondition(cs []Condition, typ string) (Condition, bool) {
	for _, c := range cs {
		if c.Type == typ {
			return c, true
		}
	}
	return Condition{}, false
}

// ResourceRef is one entry of an Argo CD Application's status.resources.
type ResourceRef struct {
	Group, Kind, Namespace, Name string
	Status                       string // sync status of the resource
	Health                       string // optional: Argo CD ≥3.0 omits it by default
	HealthMessage                string
	RequiresPruning              bool
}

// ArgoApp is an Argo CD Application (argoproj.io/v1alpha1) as read from the cluster it lives on.
type ArgoApp struct {
	Cluster   string // the cluster the Application object lives on (the hub)
	Namespace string
	Name      string
	Labels    map[string]string

	DestName      string // spec.destination.name
	DestServer    string // spec.destination.server
	DestNamespace string

	RepoURL        string
	Path           string
	Chart          string
	TargetRevision string
	ValueFiles     []string
	// HelmReleaseName is spec.source.helm.releaseName as written; "" when unset, in which case
	// Argo CD names the release after the Application (see ReleaseName).
	HelmReleaseName string

	SyncStatus       string // status.sync.status
	SyncRevision     string // status.sync.revision: the revision compared
	HealthStatus     string // status.health.status
	HealthMessage    string
	OperationPhase   string // status.operationState.phase
	OperationMessage string
	SyncedRevision   string // status.operationState.syncResult.revision: the revision applied
	Images           []string
	Conditions       []Condition
	Resources        []ResourceRef
}

// ReleaseName is the Helm release name Argo CD renders a chart with: spec.source.helm.releaseName
// when set, else the Application's name.
func (a ArgoApp) ReleaseName() string {
	if a.HelmReleaseName != "" {
		return a.HelmReleaseName
	}
	return a.Name
}

// FluxKind is the kind of a Flux object fleetdeck reads.
type FluxKind string

const (
	FluxKustomization FluxKind = "Kustomization"
	FluxHelmRelease   FluxKind = "HelmRelease"
)

// FluxObject is a Flux Kustomization or HelmRelease as read from the cluster it lives on (Flux
// applies to its own cluster).
type FluxObject struct {
	Kind      FluxKind
	Cluster   string
	Namespace string
	Name      string
	Labels    map[string]string

	Path       string // Kustomization spec.path
	Chart      string // HelmRelease chart name or path
	ValueFiles []string
	SourceName string // sourceRef name
	// TargetNamespace is spec.targetNamespace: a Kustomization puts every namespaced object
	// there, whatever namespace git gives it; a HelmRelease installs its release there.
	TargetNamespace string
	// HelmReleaseName is a HelmRelease's spec.releaseName as written ("" when unset; see
	// ReleaseName for the name helm-controller then uses).
	HelmReleaseName string
	// RepoURL and Branch come from the source (GitRepository spec.url / spec.ref.branch) when
	// the adapter resolved it; they are optional.
	RepoURL string
	Branch  string

	Ready       *Condition // nil when the object has no Ready condition yet
	Reconciling bool
	Stalled     bool
	Suspended   bool

	LastAppliedRevision   string
	LastAttemptedRevision string
	Conditions            []Condition
	Inventory             []ObjectRef // Kustomization status.inventory (see ParseInventoryID)
}

// DestNamespace is where the object's workloads run: spec.targetNamespace when set; else, for a
// HelmRelease, its own namespace (Flux's release namespace); else "" (a Kustomization leaves
// namespaces as git writes them).
func (f FluxObject) DestNamespace() string {
	switch {
	case f.TargetNamespace != "":
		return f.TargetNamespace
	case f.Kind == FluxHelmRelease:
		return f.Namespace
	}
	return ""
}

// maxHelmReleaseName is the longest release name Helm accepts; helm-controller shortens longer
// composed names.
const maxHelmReleaseName = 53

// ReleaseName is the Helm release name helm-controller uses for a HelmRelease:
// spec.releaseName when set, else "<targetNamespace>-<name>" or "<name>"; a name longer than 53
// characters is cut to 40 and suffixed with "-" and 12 hex digits of its SHA-256, as
// helm-controller's release.ShortenName does. It is "" for a Kustomization.
func (f FluxObject) ReleaseName() string {
	if f.Kind != FluxHelmRelease {
		return ""
	}
	name := f.HelmReleaseName
	if name == "" {
		name = f.Name
		if f.TargetNamespace != "" {
			name = f.TargetNamespace + "-" + f.Name
		}
	}
	if len(name) <= maxHelmReleaseName {
		return name
	}
	const hashLen = 12
	sum := sha256.Sum256([]byte(name))
	return name[:maxHelmReleaseName-hashLen-1] + "-" + hex.EncodeToString(sum[:])[:hashLen]
}

// DeclaredApp is an application declared in fleetdeck's config file, applied by nobody
// fleetdeck knows: its sync and revision are computed by comparing git with live objects.
type DeclaredApp struct {
	Name      string
	RepoURL   string
	Path      string
	Branch    string
	Namespace string
	Clusters  []string
	// TrackedBy names the Argo CD Application whose label tracking applies the app, when an
	// Argo CD instance is judged by fleetdeck's own rules (AsDeclared); "" otherwise.
	TrackedBy string
}

// Workload is a live workload object: Deployment, StatefulSet, DaemonSet, ReplicaSet, Job or
// CronJob. Counters map per kind:
//
//	Deployment, ReplicaSet, StatefulSet: Replicas = spec.replicas (defaulted to 1),
//	  StatusReplicas = status.replicas, Ready/Updated/Available from status.
//	DaemonSet: Replicas = status.desiredNumberScheduled, UpdatedReplicas =
//	  updatedNumberScheduled, AvailableReplicas = numberAvailable, ReadyReplicas = numberReady.
//	Job: Replicas = spec.parallelism, ReadyReplicas = status.ready; health comes from Conditions.
type Workload struct {
	Cluster     string
	Kind        string
	Namespace   string
	Name        string
	Labels      map[string]string
	Annotations map[string]string

	Generation         int64
	ObservedGeneration int64

	Replicas          int32
	StatusReplicas    int32
	ReadyReplicas     int32
	UpdatedReplicas   int32
	AvailableReplicas int32

	Conditions []Condition
	// Paused is Deployment spec.paused, Job or CronJob spec.suspend.
	Paused bool
	// UpdateStrategy is the StatefulSet or DaemonSet update strategy type (RollingUpdate|OnDelete).
	UpdateStrategy string
	// Partition is the StatefulSet rolling update partition, when set.
	Partition       *int32
	CurrentRevision string // StatefulSet status.currentRevision
	UpdateRevision  string // StatefulSet status.updateRevision
	Deleting        bool   // deletionTimestamp set

	Containers []Container // from the pod template
	Owner      *ObjectRef  // controller owner, e.g. the CronJob of a Job
}

// Ref is the workload's ObjectRef.
func (w Workload) Ref() ObjectRef {
	return ObjectRef{Kind: w.Kind, Namespace: w.Namespace, Name: w.Name}
}

// Container is a container of a pod template, live or rendered from git. Env holds literal
// values (valueFrom entries as "valueFrom:<kind>/<name>/<key>" or similar stable text);
// Resources maps "requests.cpu", "limits.memory", ... to canonical quantity strings.
type Container struct {
	Name      string
	Image     string
	Env       map[string]string
	Resources map[string]string
	Init      bool
}

// ReplicaSet is the minimum needed to find the Deployment behind a pod.
type ReplicaSet struct {
	Cluster   string
	Namespace string
	Name      string
	Owner     *ObjectRef
}

// Pod is a live pod. Owner is its controller: the adapter may leave a ReplicaSet there, Build
// resolves it to the Deployment (see ResolvePodOwners).
type Pod struct {
	Cluster       string
	Namespace     string
	Name          string
	Owner         *ObjectRef
	Phase         string // Pending|Running|Succeeded|Failed|Unknown
	RestartPolicy string // Always (default when empty)|OnFailure|Never
	Ready         bool   // the Ready condition
	Message       string // status.message
	Deleting      bool
	Containers    []ContainerStatus // init containers too, flagged Init
	Created       time.Time
	NodeName      string
}

// ContainerStatus is one container's status in a pod.
type ContainerStatus struct {
	Name           string
	Image          string
	Init           bool
	Ready          bool
	RestartCount   int32
	Running        bool
	WaitingReason  string
	WaitingMessage string
	// LastTerminatedReason is set when the container terminated before (lastState.terminated).
	LastTerminatedReason   string
	LastTerminatedExitCode int32
	LastTerminated         bool
	// TerminatedReason is the current termination reason of a container that is not running.
	TerminatedReason string
}

// Event is a Warning event.
type Event struct {
	Cluster      string
	Namespace    string
	InvolvedKind string
	InvolvedName string
	Reason       string
	Message      string
	Count        int32
	Last         time.Time
}

// GitKey names the git facts of one instance: the application name and the cluster.
type GitKey struct {
	App     string
	Cluster string
}

// GitFacts is what gitstate read from the local clone for one instance.
type GitFacts struct {
	Repo   string
	Branch string
	Head   string // sha of the branch head
	Path   string // the path rendered for this cluster
	// LastCommit is the newest commit touching Path.
	LastCommit string
	// PathCommits are the commits touching Path, newest first, bounded.
	PathCommits []string
	// History is the first-parent history of the branch, newest first, bounded. It places a
	// live revision that did not touch Path (Argo CD and Flux apply whole-repo revisions).
	History []string
	// Desired are the workloads rendered at Head.
	Desired []DesiredObject
	// DesiredAt holds the workloads rendered at a few recent PathCommits, to find which commit
	// a declared app's live objects match.
	DesiredAt map[string][]DesiredObject
	// RenderError is set when rendering failed; Desired is then empty.
	RenderError string
}

// DesiredObject is a workload as rendered from git, restricted to the fields fleetdeck owns.
type DesiredObject struct {
	Kind       string
	Namespace  string
	Name       string
	Replicas   *int32
	Containers []Container
	Labels     map[string]string
}

// Ref is the desired object's ObjectRef.
func (d DesiredObject) Ref() ObjectRef {
	return ObjectRef{Kind: d.Kind, Namespace: d.Namespace, Name: d.Name}
}
