package fleet

import (
	"fmt"
	"time"
)

// Severity ranks how much an instance, application or cluster needs attention; see the
// package documentation for the mapping.
type Severity int

const (
	SeverityOK Severity = iota
	SeverityInfo
	SeverityWarning
	SeverityError
	SeverityCritical
)

var severityNames = [...]string{"ok", "info", "warning", "error", "critical"}

// String is the lower-case name: ok, info, warning, error, critical.
func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// MarshalText makes Severity appear by name in JSON.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a name written by MarshalText.
func (s *Severity) UnmarshalText(b []byte) error {
	for i, n := range severityNames {
		if n == string(b) {
			*s = Severity(i)
			return nil
		}
	}
	return fmt.Errorf("unknown severity %q (want one of ok, info, warning, error, critical)", b)
}

// Problem is one reason for an instance's severity, worded for a status line or a notification.
type Problem struct {
	Severity Severity
	Text     string
}

// Operator is who applies an instance.
type Operator string

const (
	OperatorArgoCD   Operator = "argocd"
	OperatorFlux     Operator = "flux"
	OperatorDeclared Operator = "declared" // declared in fleetdeck's config, applied by nobody fleetdeck knows
)

// Source names the operator object behind an instance (empty Kind/Name for declared apps).
type Source struct {
	Operator  Operator
	Kind      string // Application, Kustomization, HelmRelease
	Cluster   string // where the operator object lives
	Namespace string
	Name      string
}

// Model is the whole fleet as the views show it.
type Model struct {
	Apps        []Application // worst first, then by name
	Clusters    []ClusterState
	GeneratedAt time.Time
	// Severity is the worst over applications and clusters: the `status` exit code comes from it.
	Severity Severity
}

// App returns the application with that name.
func (m *Model) App(name string) (*Application, bool) {
	for i := range m.Apps {
		if m.Apps[i].Name == name {
			return &m.Apps[i], true
		}
	}
	return nil, false
}

// Application is one application merged across clusters and operators.
type Application struct {
	Name      string
	Instances []Instance // worst first, then in cluster order
	// Sync is OutOfSync when any instance is, else Unknown when any is, else Synced.
	Sync SyncStatus
	// Health is the worst instance health.
	Health   HealthStatus
	Severity Severity
	Summary  Summary
}

// Instance returns the first instance on that cluster.
func (a *Application) Instance(cluster string) (*Instance, bool) {
	for i := range a.Instances {
		if a.Instances[i].Cluster == cluster {
			return &a.Instances[i], true
		}
	}
	return nil, false
}

// Summary counts what an application's row shows at a glance.
type Summary struct {
	Instances int
	Healthy   int // instances Healthy
	OutOfSync int // instances OutOfSync
	Drifted   int // instances with at least one image drift
	Workloads int
	Pods      int
	ReadyPods int
	Restarts  int32
}

// Instance is one application on one cluster, applied by one operator.
type Instance struct {
	App     string
	Cluster string
	Source  Source

	RepoURL   string
	Path      string
	Branch    string // tracked branch, or the operator's target revision
	Namespace string // destination namespace

	Sync     Sync
	Health   Health
	Revision Revision
	Images   []ImageState
	// Workloads are the live workloads of the instance, worst first.
	Workloads []WorkloadState
	// Conditions are the operator object's conditions.
	Conditions []Condition
	// Events are the newest warning events of the instance's objects, newest first (at most MaxEvents).
	Events []Event
	// Message is the operator's own message (operation or health message for Argo CD, the Ready
	// message for Flux).
	Message     string
	RenderError string

	Problems     []Problem // worst first
	Severity     Severity
	ClusterState ClusterState
}

// Drifted reports whether any image differs between git and live.
func (in *Instance) Drifted() bool {
	for _, im := range in.Images {
		if im.Drift {
			return true
		}
	}
	return false
}

// WorkloadState is a live workload with its pods.
type WorkloadState struct {
	Ref       ObjectRef
	Owner     *ObjectRef
	Replicas  int32
	Ready     int32
	Updated   int32
	Available int32
	// Health is the worse of the kind's rule and its pods' health: unlike Argo CD, which judges
	// only the objects it manages, fleetdeck folds in the pods so a crash loop shows at once.
	Health   Health
	Images   []string
	Pods     []PodState // worst first, then by name
	Severity Severity
}

// PodState is a pod with what the tree and the details pane show.
type PodState struct {
	Name       string
	Namespace  string
	Node       string
	Phase      string
	Ready      bool
	Health     Health
	Restarts   int32
	Reason     string // most telling reason: waiting reason, last termination reason, or phase
	Created    time.Time
	Containers []ContainerStatus
}

// MaxEvents bounds the warning events kept per instance.
const MaxEvents = 10
