package watch

import (
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// ClusterSnapshot is a consistent copy of one cluster's cache and state, taken under one lock.
// Slices are sorted by namespace and name. The objects are trimmed (see the package comment)
// and shared with the cache: they must not be modified.
type ClusterSnapshot struct {
	Cluster string
	State   State

	Deployments  []*appsv1.Deployment
	StatefulSets []*appsv1.StatefulSet
	DaemonSets   []*appsv1.DaemonSet
	ReplicaSets  []*appsv1.ReplicaSet
	Jobs         []*batchv1.Job
	CronJobs     []*batchv1.CronJob
	Pods         []*corev1.Pod
	// Events are Warning events, at most Options.EventsPerObject per involved object, none
	// older than Options.EventMaxAge.
	Events []*corev1.Event

	Applications    []*unstructured.Unstructured // argoproj.io Applications
	Kustomizations  []*unstructured.Unstructured // Flux Kustomizations
	HelmReleases    []*unstructured.Unstructured // Flux HelmReleases
	GitRepositories []*unstructured.Unstructured // Flux GitRepositories
	// Extra holds the objects of Options.Extra, by resource name ("services").
	Extra map[string][]*unstructured.Unstructured
}

// Snapshot returns a consistent copy of the cache and the state.
func (c *Cluster) Snapshot() ClusterSnapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.opts.Now()
	s := ClusterSnapshot{Cluster: c.name, State: c.stateLocked()}
	for name, r := range c.res {
		feeds, _ := r.active()
		var objs []any
		for _, f := range feeds {
			for _, key := range sortedKeys(f.items) {
				obj := f.items[key]
				if f.kind.keep != nil && !f.kind.keep(obj, now) {
					continue
				}
				objs = append(objs, obj)
			}
		}
		if len(feeds) > 1 {
			sortByKey(objs)
		}
		switch name {
		case ResDeployments:
			s.Deployments = collect[*appsv1.Deployment](objs)
		case ResStatefulSets:
			s.StatefulSets = collect[*appsv1.StatefulSet](objs)
		case ResDaemonSets:
			s.DaemonSets = collect[*appsv1.DaemonSet](objs)
		case ResReplicaSets:
			s.ReplicaSets = collect[*appsv1.ReplicaSet](objs)
		case ResJobs:
			s.Jobs = collect[*batchv1.Job](objs)
		case ResCronJobs:
			s.CronJobs = collect[*batchv1.CronJob](objs)
		case ResPods:
			s.Pods = collect[*corev1.Pod](objs)
		case ResEvents:
			s.Events = collect[*corev1.Event](objs)
		case ResApplications:
			s.Applications = collect[*unstructured.Unstructured](objs)
		case ResKustomizations:
			s.Kustomizations = collect[*unstructured.Unstructured](objs)
		case ResHelmReleases:
			s.HelmReleases = collect[*unstructured.Unstructured](objs)
		case ResGitRepositories:
			s.GitRepositories = collect[*unstructured.Unstructured](objs)
		default:
			if s.Extra == nil {
				s.Extra = map[string][]*unstructured.Unstructured{}
			}
			s.Extra[name] = collect[*unstructured.Unstructured](objs)
		}
	}
	return s
}

func collect[T any](objs []any) []T {
	if len(objs) == 0 {
		return nil
	}
	out := make([]T, 0, len(objs))
	for _, o := range objs {
		if t, ok := o.(T); ok {
			out = append(out, t)
		}
	}
	return out
}

// sortByKey orders objects from several namespace feeds by namespace/name.
func sortByKey(objs []any) {
	key := func(o any) string {
		m, ok := o.(metaObject)
		if !ok {
			return ""
		}
		return m.GetNamespace() + "/" + m.GetName()
	}
	sort.SliceStable(objs, func(i, j int) bool { return key(objs[i]) < key(objs[j]) })
}

type metaObject interface {
	GetNamespace() string
	GetName() string
}
