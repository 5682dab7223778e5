package watch

import (
	"context"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
)

// Resource names of the cached kinds, as they appear in State (plural, then the group).
const (
	ResPods            = "pods"
	ResEvents          = "events"
	ResDeployments     = "deployments.apps"
	ResStatefulSets    = "statefulsets.apps"
	ResDaemonSets      = "daemonsets.apps"
	ResReplicaSets     = "replicasets.apps"
	ResJobs            = "jobs.batch"
	ResCronJobs        = "cronjobs.batch"
	ResApplications    = "applications.argoproj.io"
	ResKustomizations  = "kustomizations.kustomize.toolkit.fluxcd.io"
	ResHelmReleases    = "helmreleases.helm.toolkit.fluxcd.io"
	ResGitRepositories = "gitrepositories.source.toolkit.fluxcd.io"
)

// kind describes one cached resource: how to list and watch it in a namespace ("" = all) and
// how to trim its objects.
type kind struct {
	name    string
	example runtime.Object
	trim    func(obj any) runtime.Object // nil result: not an object of this kind
	// keep, when set, drops objects that should not be cached (old events).
	keep  func(obj runtime.Object, now time.Time) bool
	list  func(ctx context.Context, ns string, o metav1.ListOptions) (runtime.Object, error)
	watch func(ctx context.Context, ns string, o metav1.ListOptions) (watch.Interface, error)
	// client is asked whether it supports watch-list semantics (fakes do not).
	client any
}

// typedTrim adapts a typed trim function; it accepts only its own type.
func typedTrim[T any](f func(*T) *T) func(any) runtime.Object {
	return func(obj any) runtime.Object {
		t, ok := obj.(*T)
		if !ok {
			return nil
		}
		r, _ := any(f(t)).(runtime.Object)
		return r
	}
}

func unstructuredTrim(f func(*unstructured.Unstructured) *unstructured.Unstructured) func(any) runtime.Object {
	return func(obj any) runtime.Object {
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			return nil
		}
		return f(u)
	}
}

// builtinKinds are the apps, batch and core kinds every cluster serves.
func (c *Cluster) builtinKinds() []*kind {
	k := c.clients.Kube
	warning := func(o metav1.ListOptions) metav1.ListOptions {
		// Only Warning events: Normal ones are most of the traffic and none of the value.
		o.FieldSelector = "type=Warning"
		return o
	}
	maxAge := c.opts.EventMaxAge
	return []*kind{
		{name: ResPods, example: &corev1.Pod{}, trim: typedTrim(trimPod), client: k,
			list: func(ctx context.Context, ns string, o metav1.ListOptions) (runtime.Object, error) {
				return k.CoreV1().Pods(ns).List(ctx, o)
			},
			watch: func(ctx context.Context, ns string, o metav1.ListOptions) (watch.Interface, error) {
				return k.CoreV1().Pods(ns).Watch(ctx, o)
			}},
		{name: ResEvents, example: &corev1.Event{}, trim: typedTrim(trimEvent), client: k,
			keep: func(obj runtime.Object, now time.Time) bool {
				e, ok := obj.(*corev1.Event)
				return ok && e.Type == corev1.EventTypeWarning && now.Sub(EventTime(e).Time) <= maxAge
			},
			list: func(ctx context.Context, ns string, o metav1.ListOptions) (runtime.Object, error) {
				return k.CoreV1().Events(ns).List(ctx, warning(o))
			},
			watch: func(ctx context.Context, ns string, o metav1.ListOptions) (watch.Interface, error) {
				return k.CoreV1().Events(ns).Watch(ctx, warning(o))
			}},
		{name: ResDeployments, example: &appsv1.Deployment{}, trim: typedTrim(trimDeployment), client: k,
			list: func(ctx context.Context, ns string, o metav1.ListOptions) (runtime.Object, error) {
				return k.AppsV1().Deployments(ns).List(ctx, o)
			},
			watch: func(ctx context.Context, ns string, o metav1.ListOptions) (watch.Interface, error) {
				return k.AppsV1().Deployments(ns).Watch(ctx, o)
			}},
		{name: ResStatefulSets, example: &appsv1.StatefulSet{}, trim: typedTrim(trimStatefulSet), client: k,
			list: func(ctx context.Context, ns string, o metav1.ListOptions) (runtime.Object, error) {
				return k.AppsV1().StatefulSets(ns).List(ctx, o)
			},
			watch: func(ctx context.Context, ns string, o metav1.ListOptions) (watch.Interface, error) {
				return k.AppsV1().StatefulSets(ns).Watch(ctx, o)
			}},
		{name: ResDaemonSets, example: &appsv1.DaemonSet{}, trim: typedTrim(trimDaemonSet), client: k,
			list: func(ctx context.Context, ns string, o metav1.ListOptions) (runtime.Object, error) {
				return k.AppsV1().DaemonSets(ns).List(ctx, o)
			},
			watch: func(ctx context.Context, ns string, o metav1.ListOptions) (watch.Interface, error) {
				return k.AppsV1().DaemonSets(ns).Watch(ctx, o)
			}},
		{name: ResReplicaSets, example: &appsv1.ReplicaSet{}, trim: typedTrim(trimReplicaSet), client: k,
			list: func(ctx context.Context, ns string, o metav1.ListOptions) (runtime.Object, error) {
				return k.AppsV1().ReplicaSets(ns).List(ctx, o)
			},
			watch: func(ctx context.Context, ns string, o metav1.ListOptions) (watch.Interface, error) {
				return k.AppsV1().ReplicaSets(ns).Watch(ctx, o)
			}},
		{name: ResJobs, example: &batchv1.Job{}, trim: typedTrim(trimJob), client: k,
			list: func(ctx context.Context, ns string, o metav1.ListOptions) (runtime.Object, error) {
				return k.BatchV1().Jobs(ns).List(ctx, o)
			},
			watch: func(ctx context.Context, ns string, o metav1.ListOptions) (watch.Interface, error) {
				return k.BatchV1().Jobs(ns).Watch(ctx, o)
			}},
		{name: ResCronJobs, example: &batchv1.CronJob{}, trim: typedTrim(trimCronJob), client: k,
			list: func(ctx context.Context, ns string, o metav1.ListOptions) (runtime.Object, error) {
				return k.BatchV1().CronJobs(ns).List(ctx, o)
			},
			watch: func(ctx context.Context, ns string, o metav1.ListOptions) (watch.Interface, error) {
				return k.BatchV1().CronJobs(ns).Watch(ctx, o)
			}},
	}
}

// dynamicKind is a kind read through the dynamic client (CRDs and extra kinds).
func (c *Cluster) dynamicKind(name string, gvr schema.GroupVersionResource, kindName string,
	trim func(*unstructured.Unstructured) *unstructured.Unstructured) *kind {
	d := c.clients.Dynamic
	example := &unstructured.Unstructured{}
	if kindName != "" {
		example.SetGroupVersionKind(gvr.GroupVersion().WithKind(kindName))
	}
	return &kind{name: name, example: example, trim: unstructuredTrim(trim), client: d,
		list: func(ctx context.Context, ns string, o metav1.ListOptions) (runtime.Object, error) {
			return d.Resource(gvr).Namespace(ns).List(ctx, o)
		},
		watch: func(ctx context.Context, ns string, o metav1.ListOptions) (watch.Interface, error) {
			return d.Resource(gvr).Namespace(ns).Watch(ctx, o)
		}}
}

// gitopsKind is a GitOps CRD fleetdeck looks for through discovery. Versions are tried in
// order; the first one the cluster serves is watched.
type gitopsKind struct {
	name     string
	group    string
	resource string
	kind     string
	versions []string
	trim     func(*unstructured.Unstructured) *unstructured.Unstructured
}

var gitopsKinds = []gitopsKind{
	{ResApplications, "argoproj.io", "applications", "Application", []string{"v1alpha1"}, trimArgoApp},
	{ResKustomizations, "kustomize.toolkit.fluxcd.io", "kustomizations", "Kustomization",
		[]string{"v1", "v1beta2"}, trimKustomization},
	{ResHelmReleases, "helm.toolkit.fluxcd.io", "helmreleases", "HelmRelease",
		[]string{"v2", "v2beta2", "v2beta1"}, trimHelmRelease},
	{ResGitRepositories, "source.toolkit.fluxcd.io", "gitrepositories", "GitRepository",
		[]string{"v1", "v1beta2"}, trimGitRepository},
}

// resourceName is the State name of a GroupVersionResource: "services", "ingresses.networking.k8s.io".
func resourceName(gvr schema.GroupVersionResource) string {
	if gvr.Group == "" {
		return gvr.Resource
	}
	return gvr.Resource + "." + gvr.Group
}
