package diff

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
)

// LastAppliedAnnotation is where client-side `kubectl apply` (and Argo CD's default sync)
// keeps the object it applied.
const LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// serverMetadata are the metadata fields the API server owns.
var serverMetadata = []string{
	"managedFields", "resourceVersion", "uid", "generation", "creationTimestamp", "selfLink",
	"deletionTimestamp", "deletionGracePeriodSeconds",
}

// operatorLabels and operatorAnnotations are the tracking metadata GitOps operators add to
// what they apply. They are compared only where git sets them.
var (
	operatorLabels = []string{
		"app.kubernetes.io/instance", // Argo CD label tracking
		"app.kubernetes.io/managed-by",
		"kustomize.toolkit.fluxcd.io/",
		"helm.toolkit.fluxcd.io/",
		"argocd.argoproj.io/",
	}
	operatorAnnotations = []string{
		"argocd.argoproj.io/",
		"kustomize.toolkit.fluxcd.io/",
		"helm.toolkit.fluxcd.io/",
		"meta.helm.sh/",
		LastAppliedAnnotation,
	}
)

func matchesAny(key string, list []string) bool {
	for _, p := range list {
		if key == p || (strings.HasSuffix(p, "/") && strings.HasPrefix(key, p)) {
			return true
		}
	}
	return false
}

// dropServerFields removes status and the server-owned metadata from obj (a copy).
func dropServerFields(obj map[string]any) {
	delete(obj, "status")
	md, ok := obj["metadata"].(map[string]any)
	if !ok {
		return
	}
	for _, f := range serverMetadata {
		delete(md, f)
	}
	if ann, ok := md["annotations"].(map[string]any); ok {
		delete(ann, LastAppliedAnnotation)
	}
}

// appliedSet is the field set earlier applies declared on live: server-side-apply managers'
// fields and the last-applied-configuration annotation, without the operators' tracking
// metadata. Entries of subresources (status) do not count.
func appliedSet(live map[string]any) *fieldSet {
	var s *fieldSet
	md, _ := live["metadata"].(map[string]any)
	mfs, _ := md["managedFields"].([]any)
	for _, e := range mfs {
		m, ok := e.(map[string]any)
		if !ok || m["operation"] != "Apply" || (m["subresource"] != nil && m["subresource"] != "") {
			continue
		}
		if f, ok := m["fieldsV1"].(map[string]any); ok {
			s = union(s, markApplied(parseFieldsV1(f)))
		}
	}
	if ann, ok := md["annotations"].(map[string]any); ok {
		if last, ok := ann[LastAppliedAnnotation].(string); ok && last != "" {
			var obj map[string]any
			if err := decodeJSON(last, &obj); err == nil {
				s = union(s, markApplied(shapeOf(normalizeValue(obj, ""), "")))
			}
		}
	}
	if s == nil || s.leaf {
		return s
	}
	delete(s.fields, "status")
	if mdSet, ok := s.fields["metadata"]; ok && !mdSet.leaf {
		c := newSet()
		for k, v := range mdSet.fields {
			c.fields[k] = v
		}
		for _, part := range []struct {
			name string
			drop []string
		}{{"labels", operatorLabels}, {"annotations", operatorAnnotations}} {
			if ps, ok := c.fields[part.name]; ok && !ps.leaf {
				f := newSet()
				for k, v := range ps.fields {
					if !matchesAny(k, part.drop) {
						f.fields[k] = v
					}
				}
				c.fields[part.name] = f
			}
		}
		for _, f := range serverMetadata {
			delete(c.fields, f)
		}
		s.fields["metadata"] = c
	}
	return s
}

// quantityKeys hold resource quantities, either as a map of them (requests) or as one.
var quantityKeys = map[string]bool{
	"requests": true, "limits": true, "capacity": true, "allocatable": true, "hard": true,
}

// normalizeValue returns v in one canonical form: nulls, empty maps and empty lists dropped
// (nil when v itself ends up empty), whole-number floats as int64, quantities canonical. name
// is the field holding v.
func normalizeValue(v any, name string) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, c := range t {
			var n any
			switch {
			case quantityKeys[name]:
				n = canonicalQuantity(c)
			case k == "sizeLimit":
				n = canonicalQuantity(c)
			default:
				n = normalizeValue(c, k)
			}
			if n != nil {
				out[k] = n
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case []any:
		out := make([]any, 0, len(t))
		for _, c := range t {
			if n := normalizeValue(c, ""); n != nil {
				out = append(out, n)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	default:
		return normalizeScalar(v)
	}
}

// normalizeScalar writes numbers as int64 when whole, else float64.
func normalizeScalar(v any) any {
	switch t := v.(type) {
	case int:
		return int64(t)
	case int32:
		return int64(t)
	case int64:
		return t
	case float32:
		return normalizeScalar(float64(t))
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1<<53 {
			return int64(t)
		}
		return t
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		if f, err := t.Float64(); err == nil {
			return normalizeScalar(f)
		}
		return t.String()
	}
	return v
}

func isScalar(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return false
	}
	return true
}

// scalarEqual compares two scalars after normalisation.
func scalarEqual(a, b any) bool {
	a, b = normalizeScalar(a), normalizeScalar(b)
	if !isScalar(a) || !isScalar(b) {
		return false
	}
	return a == b
}

// canonicalQuantity writes a quantity ("0.5", 0.5, "500m") canonically ("500m"); a value that
// is no quantity is normalised like any other.
func canonicalQuantity(v any) any {
	var s string
	switch t := normalizeScalar(v).(type) {
	case string:
		s = t
	case int64:
		s = strconv.FormatInt(t, 10)
	case float64:
		s = strconv.FormatFloat(t, 'f', -1, 64)
	default:
		return normalizeValue(v, "")
	}
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return normalizeValue(v, "")
	}
	return q.String()
}

// deepCopy copies JSON-like values.
func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, c := range t {
			out[k] = deepCopy(c)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, c := range t {
			out[i] = deepCopy(c)
		}
		return out
	}
	return v
}

// str reads a string field of a nested map.
func str(m map[string]any, path ...string) string {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = mm[p]
	}
	s, _ := cur.(string)
	return s
}

// groupOf is the API group of an apiVersion ("apps/v1" → "apps", "v1" → "").
func groupOf(apiVersion string) string {
	g, _, ok := strings.Cut(apiVersion, "/")
	if !ok {
		return ""
	}
	return g
}

func describe(r Ref) string {
	if r.Namespace == "" {
		return fmt.Sprintf("%s %s", r.kindString(), r.Name)
	}
	return fmt.Sprintf("%s %s/%s", r.kindString(), r.Namespace, r.Name)
}
