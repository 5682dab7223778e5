// Package live reads whole live objects from one cluster by name, with the dynamic client,
// for comparisons that need every field (kube/watch keeps only what the model shows). It only
// gets objects: nothing here lists, watches or writes.
package live

import (
	"context"
	"fmt"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/fleetdeck/fleetdeck/kube"
)

// Ref names an object to read. Version may be empty: the server's preferred version of the
// group is used then (Argo CD's status.resources and Flux inventories name no version).
type Ref struct {
	Group, Version, Kind string
	Namespace, Name      string
}

func (r Ref) String() string {
	k := r.Kind
	if r.Group != "" {
		k += "." + r.Group
	}
	if r.Namespace == "" {
		return k + " " + r.Name
	}
	return k + " " + r.Namespace + "/" + r.Name
}

// Result is one object read: Object is nil when it does not exist (or Err is set).
type Result struct {
	Ref    Ref
	Object *unstructured.Unstructured
	Err    error
}

// Reader gets objects from one cluster. It is safe for concurrent use.
type Reader struct {
	cluster string
	dyn     dynamic.Interface
	mapper  meta.ResettableRESTMapper
}

// New makes a reader for the cluster named cluster (used in errors). It contacts nothing
// until the first Get.
func New(cluster string, cfg *rest.Config) (*Reader, error) {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: dynamic client: %w", cluster, kube.Redact(err))
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: discovery client: %w", cluster, kube.Redact(err))
	}
	return NewWith(cluster, dyn, restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))), nil
}

// NewWith makes a reader over given clients (tests pass fakes).
func NewWith(cluster string, dyn dynamic.Interface, mapper meta.ResettableRESTMapper) *Reader {
	return &Reader{cluster: cluster, dyn: dyn, mapper: mapper}
}

// Get reads one object. It returns nil and no error when the object, or its kind, does not
// exist on the cluster.
func (r *Reader) Get(ctx context.Context, ref Ref) (*unstructured.Unstructured, error) {
	gk := schema.GroupKind{Group: ref.Group, Kind: ref.Kind}
	var versions []string
	if ref.Version != "" {
		versions = []string{ref.Version}
	}
	m, err := r.mapper.RESTMapping(gk, versions...)
	if meta.IsNoMatchError(err) {
		// The discovery cache may predate a CRD: ask again once.
		r.mapper.Reset()
		m, err = r.mapper.RESTMapping(gk, versions...)
	}
	if meta.IsNoMatchError(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cluster %s: resource of %s: %w", r.cluster, ref, kube.Redact(err))
	}
	var ri dynamic.ResourceInterface = r.dyn.Resource(m.Resource)
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		if ref.Namespace == "" {
			return nil, fmt.Errorf("cluster %s: %s is namespaced and the reference names no namespace", r.cluster, ref)
		}
		ri = r.dyn.Resource(m.Resource).Namespace(ref.Namespace)
	}
	obj, err := ri.Get(ctx, ref.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("cluster %s: get %s: %w", r.cluster, ref, kube.Redact(err))
	}
	return obj, nil
}

// MaxParallel bounds the requests GetAll has in flight.
const MaxParallel = 8

// GetAll reads refs, at most MaxParallel at once, and returns one result per ref in order.
// It returns when every read finished or ctx ended (remaining reads then fail with ctx's
// error).
func (r *Reader) GetAll(ctx context.Context, refs []Ref) []Result {
	out := make([]Result, len(refs))
	sem := make(chan struct{}, MaxParallel)
	var wg sync.WaitGroup
	for i, ref := range refs {
		out[i].Ref = ref
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			out[i].Err = fmt.Errorf("cluster %s: get %s: %w", r.cluster, ref, ctx.Err())
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			out[i].Object, out[i].Err = r.Get(ctx, ref)
		})
	}
	wg.Wait()
	return out
}

// IsForbidden reports whether err says the credentials may not read the object.
func IsForbidden(err error) bool { return apierrors.IsForbidden(err) }
