package standin

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Kinds the stand-in writes.
var (
	ApplicationGVK    = schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "Application"}
	KustomizationGVK  = schema.GroupVersionKind{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Kind: "Kustomization"}
	HelmReleaseGVK    = schema.GroupVersionKind{Group: "helm.toolkit.fluxcd.io", Version: "v2", Kind: "HelmRelease"}
	GitRepositoryGVK  = schema.GroupVersionKind{Group: "source.toolkit.fluxcd.io", Version: "v1", Kind: "GitRepository"}
	crdGVK            = schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"}
	secretGVK         = schema.GroupVersionKind{Version: "v1", Kind: "Secret"}
	readyCol          = column("Ready", "string", `.status.conditions[?(@.type=="Ready")].status`, 0)
	statusCol         = column("Status", "string", `.status.conditions[?(@.type=="Ready")].message`, 0)
	ageCol            = column("Age", "date", ".metadata.creationTimestamp", 0)
	crdManager        = "fleetdeck-sandbox"
	crdEstablishLimit = 30 * time.Second
)

type crdDef struct {
	gvk      schema.GroupVersionKind
	plural   string
	singular string
	short    []string
	columns  []any
	// top are top-level fields besides spec and status, kept as written (Argo CD's
	// Application has .operation: without it in the schema the API server prunes it).
	top []string
}

var argoCRDs = []crdDef{{
	gvk: ApplicationGVK, plural: "applications", singular: "application", short: []string{"app", "apps"},
	columns: []any{
		column("Sync Status", "string", ".status.sync.status", 0),
		column("Health Status", "string", ".status.health.status", 0),
		column("Revision", "string", ".status.sync.revision", 10),
		column("Project", "string", ".spec.project", 10),
	},
	top: []string{"operation"},
}}

var fluxCRDs = []crdDef{
	{gvk: GitRepositoryGVK, plural: "gitrepositories", singular: "gitrepository", short: []string{"gitrepo"},
		columns: []any{column("URL", "string", ".spec.url", 0), ageCol, readyCol, statusCol}},
	{gvk: KustomizationGVK, plural: "kustomizations", singular: "kustomization", short: []string{"ks"},
		columns: []any{ageCol, readyCol, statusCol}},
	{gvk: HelmReleaseGVK, plural: "helmreleases", singular: "helmrelease", short: []string{"hr"},
		columns: []any{ageCol, readyCol, statusCol}},
}

func column(name, typ, path string, priority int64) map[string]any {
	c := map[string]any{"name": name, "type": typ, "jsonPath": path}
	if priority > 0 {
		c["priority"] = priority
	}
	return c
}

// crdObject is a namespaced CRD with one served, stored version, the status
// subresource, and spec/status kept as written (like the real CRDs'
// schemas, minus the field list).
func crdObject(d crdDef) *unstructured.Unstructured {
	open := map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}
	props := map[string]any{
		"apiVersion": map[string]any{"type": "string"},
		"kind":       map[string]any{"type": "string"},
		"metadata":   map[string]any{"type": "object"},
		"spec":       open,
		"status":     open,
	}
	for _, f := range d.top {
		props[f] = open
	}
	short := make([]any, len(d.short))
	for i, s := range d.short {
		short[i] = s
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata":   map[string]any{"name": d.plural + "." + d.gvk.Group},
		"spec": map[string]any{
			"group": d.gvk.Group,
			"scope": "Namespaced",
			"names": map[string]any{
				"kind": d.gvk.Kind, "listKind": d.gvk.Kind + "List",
				"plural": d.plural, "singular": d.singular, "shortNames": short,
			},
			"versions": []any{map[string]any{
				"name": d.gvk.Version, "served": true, "storage": true,
				"subresources":             map[string]any{"status": map[string]any{}},
				"additionalPrinterColumns": d.columns,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{
					"type":       "object",
					"properties": props,
				}},
			}},
		},
	}}
}

// installCRDs applies the CRDs and waits until the API server serves them.
func installCRDs(ctx context.Context, c *cluster, defs []crdDef) error {
	for _, d := range defs {
		if _, err := c.apply(ctx, crdManager, crdObject(d)); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(crdEstablishLimit)
	for _, d := range defs {
		name := d.plural + "." + d.gvk.Group
		for {
			obj, err := c.get(ctx, crdGVK, "", name)
			if err != nil {
				return err
			}
			if obj != nil && condStatus(obj, "Established") == "True" {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("cluster %s: CRD %s not established after %s", c.name, name, crdEstablishLimit)
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("cluster %s: wait for CRD %s: %w", c.name, name, ctx.Err())
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	c.mapper.Reset()
	return nil
}

// condStatus is the status of a condition ("" if absent).
func condStatus(obj *unstructured.Unstructured, typ string) string {
	if c := condition(obj, typ); c != nil {
		s, _ := c["status"].(string)
		return s
	}
	return ""
}
