package standin

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
)

// callTimeout bounds every single API call, so one stuck cluster never
// stalls the others.
const callTimeout = 10 * time.Second

// cluster is one sandbox cluster as the stand-in talks to it.
type cluster struct {
	name   string
	server string // API server URL from the kubeconfig
	dyn    dynamic.Interface
	mapper meta.ResettableRESTMapper
}

// connect builds a client for the kubeconfig context named like the cluster.
func connect(kubeconfig, name string) (*cluster, error) {
	rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: kubeconfig}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: name})
	raw, err := cc.RawConfig()
	if err != nil {
		return nil, fmt.Errorf("cluster %s: read kubeconfig %s: %w", name, kubeconfig, err)
	}
	kctx, ok := raw.Contexts[name]
	if !ok {
		return nil, fmt.Errorf("cluster %s: kubeconfig %s has no context %q", name, kubeconfig, name)
	}
	kc, ok := raw.Clusters[kctx.Cluster]
	if !ok {
		return nil, fmt.Errorf("cluster %s: kubeconfig %s: context names unknown cluster %q", name, kubeconfig, kctx.Cluster)
	}
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("cluster %s: client config: %w", name, err)
	}
	cfg.Timeout = callTimeout
	cfg.QPS, cfg.Burst = 100, 200
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: dynamic client: %w", name, err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: discovery client: %w", name, err)
	}
	return &cluster{
		name:   name,
		server: kc.Server,
		dyn:    dyn,
		mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc)),
	}, nil
}

// resource returns the client for an object's kind, namespaced when the
// kind is.
func (c *cluster) resource(gvk schema.GroupVersionKind, namespace string) (dynamic.ResourceInterface, error) {
	m, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		// A CRD installed a moment ago is not in the cached discovery yet.
		c.mapper.Reset()
		if m, err = c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version); err != nil {
			return nil, fmt.Errorf("cluster %s: map %s: %w", c.name, gvk, err)
		}
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		return c.dyn.Resource(m.Resource).Namespace(namespace), nil
	}
	return c.dyn.Resource(m.Resource), nil
}

// apply server-side applies obj with the field manager, forcing conflicts
// (as the real controllers do: they own what they apply).
func (c *cluster) apply(ctx context.Context, manager string, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	ri, err := c.resource(obj.GroupVersionKind(), obj.GetNamespace())
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	out, err := ri.Apply(ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: manager, Force: true})
	if err != nil {
		return nil, fmt.Errorf("cluster %s: apply %s %s: %w", c.name, obj.GetKind(), objectRef(obj), err)
	}
	return out, nil
}

// applyStatus server-side applies obj's status through the status
// subresource.
func (c *cluster) applyStatus(ctx context.Context, manager string, obj *unstructured.Unstructured) error {
	ri, err := c.resource(obj.GroupVersionKind(), obj.GetNamespace())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if _, err := ri.ApplyStatus(ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: manager, Force: true}); err != nil {
		return fmt.Errorf("cluster %s: write status of %s %s: %w", c.name, obj.GetKind(), objectRef(obj), err)
	}
	return nil
}

// get returns the live object, nil when it does not exist.
func (c *cluster) get(ctx context.Context, gvk schema.GroupVersionKind, namespace, name string) (*unstructured.Unstructured, error) {
	ri, err := c.resource(gvk, namespace)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	obj, err := ri.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cluster %s: get %s %s/%s: %w", c.name, gvk.Kind, namespace, name, err)
	}
	return obj, nil
}

// list returns the objects of a kind in a namespace, keyed by name; an
// absent kind (CRD not installed) yields an empty map.
func (c *cluster) list(ctx context.Context, gvk schema.GroupVersionKind, namespace string) (map[string]*unstructured.Unstructured, error) {
	ri, err := c.resource(gvk, namespace)
	if err != nil {
		if meta.IsNoMatchError(err) {
			return map[string]*unstructured.Unstructured{}, nil
		}
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	l, err := ri.List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("cluster %s: list %s in %s: %w", c.name, gvk.Kind, namespace, err)
	}
	out := make(map[string]*unstructured.Unstructured, len(l.Items))
	for i := range l.Items {
		out[l.Items[i].GetName()] = &l.Items[i]
	}
	return out, nil
}

// remove deletes an object, ignoring one that is already gone.
func (c *cluster) remove(ctx context.Context, obj *unstructured.Unstructured) error {
	ri, err := c.resource(obj.GroupVersionKind(), obj.GetNamespace())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	policy := metav1.DeletePropagationBackground
	if err := ri.Delete(ctx, obj.GetName(), metav1.DeleteOptions{PropagationPolicy: &policy}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("cluster %s: prune %s %s: %w", c.name, obj.GetKind(), objectRef(obj), err)
	}
	return nil
}

// ensureNamespace creates the namespace if needed.
func (c *cluster) ensureNamespace(ctx context.Context, manager, name string) error {
	ns := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": name},
	}}
	_, err := c.apply(ctx, manager, ns)
	return err
}

func objectRef(obj *unstructured.Unstructured) string {
	if obj.GetNamespace() == "" {
		return obj.GetName()
	}
	return obj.GetNamespace() + "/" + obj.GetName()
}
