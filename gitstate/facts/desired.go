package facts

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/gitstate/render"
	"github.com/fleetdeck/fleetdeck/kube/watch"
)

// workloadKinds are the kinds the live side reports as fleet.Workload: only
// these can be compared, so only these become DesiredObjects.
var workloadKinds = map[string]bool{
	"Deployment": true, "StatefulSet": true, "DaemonSet": true,
	"ReplicaSet": true, "Job": true, "CronJob": true,
}

// desiredObjects reduces rendered objects to the workloads fleetdeck compares
// with live ones, in the same canonical form the live side uses
// (watch.FleetContainer), so equal specs compare equal.
func desiredObjects(objs []*unstructured.Unstructured) ([]fleet.DesiredObject, error) {
	var out []fleet.DesiredObject
	for _, o := range objs {
		kind := o.GetKind()
		if !workloadKinds[kind] {
			continue
		}
		d := fleet.DesiredObject{Kind: kind, Namespace: o.GetNamespace(), Name: o.GetName(), Labels: o.GetLabels()}
		ref := d.Ref().String()
		replicasField := "replicas"
		switch kind {
		case "DaemonSet", "CronJob":
			replicasField = "" // counted by the controller, not declared
		case "Job":
			replicasField = "parallelism"
		}
		if replicasField != "" {
			// Only a count written in git is compared: an omitted one is the
			// autoscaler's or the default's business.
			if v, ok, _ := unstructured.NestedFieldNoCopy(o.Object, "spec", replicasField); ok && v != nil {
				n, err := toInt32(v)
				if err != nil {
					return nil, fmt.Errorf("%s: spec.%s: %w", ref, replicasField, err)
				}
				d.Replicas = &n
			}
		}
		specMap, ok, err := unstructured.NestedMap(o.Object, render.PodSpecPath(kind)...)
		if err != nil {
			return nil, fmt.Errorf("%s: pod spec: %w", ref, err)
		}
		if ok {
			var spec corev1.PodSpec
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(specMap, &spec); err != nil {
				return nil, fmt.Errorf("%s: pod spec: %w", ref, err)
			}
			for _, c := range spec.InitContainers {
				d.Containers = append(d.Containers, watch.FleetContainer(c, true))
			}
			for _, c := range spec.Containers {
				d.Containers = append(d.Containers, watch.FleetContainer(c, false))
			}
		}
		out = append(out, d)
	}
	return out, nil
}

func toInt32(v any) (int32, error) {
	var n int64
	switch x := v.(type) {
	case int64:
		n = x
	case int:
		n = int64(x)
	case int32:
		n = int64(x)
	case float64:
		if x != float64(int64(x)) {
			return 0, fmt.Errorf("%v is not a whole number", x)
		}
		n = int64(x)
	default:
		return 0, fmt.Errorf("%v (%T) is not a number", v, v)
	}
	if n < 0 || n > 1<<31-1 {
		return 0, fmt.Errorf("%d is out of range", n)
	}
	return int32(n), nil
}
