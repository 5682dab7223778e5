package standin

import (
	"fmt"
	"reflect"
	"sort"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// CompareObject decides whether a live object matches what git renders for
// it, the stand-in's simplified version of Argo CD's diff. It compares only:
//
//   - metadata.labels (every desired label must be present with its value;
//     extra live labels are fine, as with a three-way diff),
//   - spec.replicas when git sets it,
//   - the pod template's labels, and per container (matched by name,
//     init containers included): image, env (desired entries must match
//     the live ones in order; server-side defaults inside valueFrom are
//     tolerated) and the requests and limits git sets (compared
//     numerically),
//   - ConfigMap data.
//
// It returns the differences found, empty when the object is in sync; a
// missing live object is one difference. This is enough for the sandbox's
// problems (a hand-patched image, an instance left at an older revision)
// without reimplementing Argo's normalisers.
func CompareObject(desired, live *unstructured.Unstructured) []string {
	if live == nil {
		return []string{"missing from the cluster"}
	}
	var diffs []string
	add := func(format string, a ...any) { diffs = append(diffs, fmt.Sprintf(format, a...)) }

	for k, v := range desired.GetLabels() {
		if lv, ok := live.GetLabels()[k]; !ok || lv != v {
			add("label %s: git %q, live %q", k, v, lv)
		}
	}
	if r, ok, _ := unstructured.NestedFieldNoCopy(desired.Object, "spec", "replicas"); ok {
		lr, _, _ := unstructured.NestedFieldNoCopy(live.Object, "spec", "replicas")
		if !scalarEqual(r, lr) {
			add("spec.replicas: git %v, live %v", r, lr)
		}
	}
	if desired.GetKind() == "ConfigMap" {
		dd, _, _ := unstructured.NestedStringMap(desired.Object, "data")
		ld, _, _ := unstructured.NestedStringMap(live.Object, "data")
		for _, k := range sortedKeys(dd) {
			if dd[k] != ld[k] {
				add("data.%s differs", k)
			}
		}
		for k := range ld {
			if _, ok := dd[k]; !ok {
				add("data.%s is not in git", k)
			}
		}
	}

	tmplPath := podTemplatePath(desired.GetKind())
	if tmplPath == nil {
		return diffs
	}
	dt, _, _ := unstructured.NestedMap(desired.Object, tmplPath...)
	lt, _, _ := unstructured.NestedMap(live.Object, tmplPath...)
	dLabels, _, _ := unstructured.NestedStringMap(dt, "metadata", "labels")
	lLabels, _, _ := unstructured.NestedStringMap(lt, "metadata", "labels")
	for _, k := range sortedKeys(dLabels) {
		if lLabels[k] != dLabels[k] {
			add("template label %s: git %q, live %q", k, dLabels[k], lLabels[k])
		}
	}
	for _, list := range []string{"initContainers", "containers"} {
		dcs, _, _ := unstructured.NestedSlice(dt, "spec", list)
		lcs, _, _ := unstructured.NestedSlice(lt, "spec", list)
		liveByName := map[string]map[string]any{}
		for _, c := range lcs {
			if m, ok := c.(map[string]any); ok {
				liveByName[nestedStr(m, "name")] = m
			}
		}
		for _, c := range dcs {
			dc, _ := c.(map[string]any)
			name := nestedStr(dc, "name")
			lc, ok := liveByName[name]
			if !ok {
				add("container %s: missing", name)
				continue
			}
			if di, li := nestedStr(dc, "image"), nestedStr(lc, "image"); di != li {
				add("container %s image: git %s, live %s", name, di, li)
			}
			if !envEqual(dc["env"], lc["env"]) {
				add("container %s env differs", name)
			}
			if !resourcesEqual(dc["resources"], lc["resources"]) {
				add("container %s resources differ", name)
			}
		}
		if len(lcs) != len(dcs) {
			add("%s: git has %d, live has %d", list, len(dcs), len(lcs))
		}
	}
	return diffs
}

// podTemplatePath is where a workload kind keeps its pod template.
func podTemplatePath(kind string) []string {
	switch kind {
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job":
		return []string{"spec", "template"}
	case "CronJob":
		return []string{"spec", "jobTemplate", "spec", "template"}
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// scalarEqual compares JSON scalars, tolerating int64 vs float64.
func scalarEqual(a, b any) bool {
	fa, aNum := toFloat(a)
	fb, bNum := toFloat(b)
	if aNum && bNum {
		return fa == fb
	}
	return reflect.DeepEqual(a, b)
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

// envEqual compares container env lists: same length, and each desired
// entry a subset of the live entry at the same position (the API server
// adds defaults such as valueFrom.fieldRef.apiVersion).
func envEqual(desired, live any) bool {
	d, _ := desired.([]any)
	l, _ := live.([]any)
	if len(d) != len(l) {
		return false
	}
	for i := range d {
		if !subset(d[i], l[i]) {
			return false
		}
	}
	return true
}

// subset reports whether every field set in want has the same value in got.
func subset(want, got any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return len(w) == 0 && got == nil
		}
		for k, v := range w {
			if !subset(v, g[k]) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !subset(w[i], g[i]) {
				return false
			}
		}
		return true
	case nil:
		return true
	default:
		return scalarEqual(want, got)
	}
}

// resourcesEqual compares requests and limits numerically ("0.5" == "500m").
func resourcesEqual(desired, live any) bool {
	d, _ := desired.(map[string]any)
	l, _ := live.(map[string]any)
	for _, part := range []string{"requests", "limits"} {
		dm, _ := d[part].(map[string]any)
		lm, _ := l[part].(map[string]any)
		// Only what git sets is compared: the API server copies limits
		// into missing requests.
		for name, dv := range dm {
			lv, ok := lm[name]
			if !ok || !quantityEqual(dv, lv) {
				return false
			}
		}
	}
	return true
}

func quantityEqual(a, b any) bool {
	qa, errA := resource.ParseQuantity(fmt.Sprint(a))
	qb, errB := resource.ParseQuantity(fmt.Sprint(b))
	if errA != nil || errB != nil {
		return fmt.Sprint(a) == fmt.Sprint(b)
	}
	return qa.Cmp(qb) == 0
}
