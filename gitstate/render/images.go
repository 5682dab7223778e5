package render

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fleetdeck/fleetdeck/fleet"
)

// ContainerImage is one container of a rendered workload and the image it declares.
type ContainerImage struct {
	Kind      string
	Namespace string
	Workload  string
	Container string
	Init      bool
	// Image is the reference as written; Repository, Tag and Digest are its parts
	// (fleet.ParseImage).
	Image      string
	Repository string
	Tag        string
	Digest     string
}

// podSpecPath is where each workload kind keeps its pod spec.
var podSpecPath = map[string][]string{
	"Deployment":  {"spec", "template", "spec"},
	"StatefulSet": {"spec", "template", "spec"},
	"DaemonSet":   {"spec", "template", "spec"},
	"ReplicaSet":  {"spec", "template", "spec"},
	"Job":         {"spec", "template", "spec"},
	"CronJob":     {"spec", "jobTemplate", "spec", "template", "spec"},
	"Pod":         {"spec"},
}

// PodSpecPath returns the field path of kind's pod spec, or nil when kind is
// not a workload fleetdeck knows.
func PodSpecPath(kind string) []string { return podSpecPath[kind] }

// Images lists the containers (init containers first) of every workload in
// objs, in the order of objs.
func Images(objs []*unstructured.Unstructured) []ContainerImage {
	var out []ContainerImage
	for _, o := range objs {
		p, ok := podSpecPath[o.GetKind()]
		if !ok {
			continue
		}
		spec, ok, _ := unstructured.NestedMap(o.Object, p...)
		if !ok {
			continue
		}
		for _, field := range []string{"initContainers", "containers"} {
			list, _ := spec[field].([]any)
			for _, c := range list {
				cm, ok := c.(map[string]any)
				if !ok {
					continue
				}
				name, _ := cm["name"].(string)
				image, _ := cm["image"].(string)
				repo, tag, digest := fleet.ParseImage(image)
				out = append(out, ContainerImage{
					Kind: o.GetKind(), Namespace: o.GetNamespace(), Workload: o.GetName(),
					Container: name, Init: field == "initContainers",
					Image: image, Repository: repo, Tag: tag, Digest: digest,
				})
			}
		}
	}
	return out
}
