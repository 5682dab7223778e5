package standin

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

// inClusterServer is how an Argo CD Application names its own cluster.
const inClusterServer = "https://kubernetes.default.svc"

// maxArgoHistory is Argo CD's default revisionHistoryLimit.
const maxArgoHistory = 10

// clusterSecret is the Argo CD cluster Secret for a managed cluster. It
// carries no credentials: nothing in the sandbox connects through it.
func clusterSecret(name, server string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "Secret",
		"type":       "Opaque",
		"metadata": map[string]any{
			"name":      "cluster-" + name,
			"namespace": scenario.ArgoNamespace,
			"labels":    map[string]any{"argocd.argoproj.io/secret-type": "cluster"},
		},
		"data": map[string]any{
			"name":   b64(name),
			"server": b64(server),
			"config": b64(`{"tlsClientConfig":{"insecure":false}}`),
		},
	}}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// argoSource is the Application's spec.source.
func argoSource(in *instance, repoURL string) map[string]any {
	src := map[string]any{
		"repoURL":        repoURL,
		"path":           in.app.SourcePath(in.cluster),
		"targetRevision": scenario.Branch,
	}
	if in.app.Render == scenario.Helm {
		// The stand-in renders charts with the app's name as the release (see gitSource), so
		// it says so the way Argo CD users do; without releaseName Argo CD would name the
		// release after the Application.
		helm := map[string]any{"releaseName": in.app.Name}
		if vf := in.app.ValuesFile(in.cluster); vf != "" {
			helm["valueFiles"] = []any{vf}
		}
		src["helm"] = helm
	}
	return src
}

// argoDestination is the Application's spec.destination.
func argoDestination(in *instance) map[string]any {
	if in.cluster == scenario.ArgoHub {
		return map[string]any{"server": inClusterServer, "namespace": in.app.Namespace}
	}
	return map[string]any{"name": in.cluster, "namespace": in.app.Namespace}
}

// sourceType is Argo CD's name for how the source is rendered.
func sourceType(app scenario.App) string {
	switch app.Render {
	case scenario.Helm:
		return "Helm"
	case scenario.Kustomize:
		return "Kustomize"
	}
	return "Directory"
}

// argoApplication is the Application (without status) for an instance.
func argoApplication(in *instance, repoURL string) *unstructured.Unstructured {
	spec := map[string]any{
		"project":     "default",
		"source":      argoSource(in, repoURL),
		"destination": argoDestination(in),
	}
	if !in.manual {
		spec["syncPolicy"] = map[string]any{
			"automated":   map[string]any{"prune": true},
			"syncOptions": []any{"CreateNamespace=true"},
		}
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": ApplicationGVK.GroupVersion().String(),
		"kind":       ApplicationGVK.Kind,
		"metadata": map[string]any{
			"name":      in.name,
			"namespace": scenario.ArgoNamespace,
			"labels": map[string]any{
				"app.kubernetes.io/part-of": in.app.Name,
				"fleetdeck.io/cluster":      in.cluster,
				"fleetdeck.io/env":          scenario.Env(in.cluster),
			},
			"annotations": map[string]any{"argocd.argoproj.io/manifest-generate-paths": "."},
		},
		"spec": spec,
	}}
}

// argoStatusInput is everything an Application status is computed from.
type argoStatusInput struct {
	in      *instance
	repoURL string
	head    string
	cmp     *comparison
	syncs   []*syncRecord  // syncs not yet reported, oldest first
	prev    map[string]any // the status written before, or nil
	now     time.Time
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// argoStatus computes an Application's status like Argo CD's controller
// would from the comparison of git and live state.
func argoStatus(a argoStatusInput) map[string]any {
	source := argoSource(a.in, a.repoURL)
	syncStatus := "Synced"
	if a.cmp.outOfSync {
		syncStatus = "OutOfSync"
	}
	var conditions []any
	if a.cmp.renderErr != nil {
		syncStatus = "Unknown"
		conditions = append(conditions, map[string]any{
			"type":               "ComparisonError",
			"message":            fmt.Sprintf("Failed to load target state: failed to generate manifest for source 1 of 1: %v", a.cmp.renderErr),
			"lastTransitionTime": ts(a.now),
		})
	}

	health := map[string]any{"status": string(a.cmp.health.Status), "lastTransitionTime": ts(a.now)}
	if a.cmp.health.Message != "" {
		health["message"] = a.cmp.health.Message
	}
	if prevHealth, ok := a.prev["health"].(map[string]any); ok && prevHealth["status"] == health["status"] {
		if t, ok := prevHealth["lastTransitionTime"]; ok {
			health["lastTransitionTime"] = t
		}
	}

	resources := []any{}
	for _, r := range a.cmp.resources {
		gvk := r.obj.GroupVersionKind()
		res := map[string]any{
			"group": gvk.Group, "version": gvk.Version, "kind": gvk.Kind,
			"namespace": r.obj.GetNamespace(), "name": r.obj.GetName(),
			"status": "Synced",
		}
		if r.outOfSync() {
			res["status"] = "OutOfSync"
		}
		if r.requiresPruning {
			res["requiresPruning"] = true
		}
		if a.cmp.renderErr != nil {
			res["status"] = "Unknown"
		}
		resources = append(resources, res)
	}
	images := make([]any, len(a.cmp.images))
	for i, im := range a.cmp.images {
		images[i] = im
	}

	st := map[string]any{
		"sync": map[string]any{
			"status":   syncStatus,
			"revision": a.head,
			"comparedTo": map[string]any{
				"source":      source,
				"destination": argoDestination(a.in),
			},
		},
		"health":               health,
		"summary":              map[string]any{"images": images},
		"resources":            resources,
		"reconciledAt":         ts(a.now),
		"sourceType":           sourceType(a.in.app),
		"resourceHealthSource": "appTree",
		"controllerNamespace":  scenario.ArgoNamespace,
	}
	if len(conditions) > 0 {
		st["conditions"] = conditions
	}
	if op, ok := a.prev["operationState"]; ok {
		st["operationState"] = op
	}
	history, _ := a.prev["history"].([]any)
	for _, s := range a.syncs {
		user := s.user
		if user == "" {
			user = "admin"
		}
		initiatedBy := map[string]any{"username": user}
		if s.automated {
			initiatedBy = map[string]any{"automated": true}
		}
		results := []any{}
		for _, r := range s.results {
			results = append(results, map[string]any{
				"group": r.gvk.Group, "version": r.gvk.Version, "kind": r.gvk.Kind,
				"namespace": r.namespace, "name": r.name,
				"status": "Synced", "message": r.message,
				"hookPhase": "Running", "syncPhase": "Sync",
			})
		}
		phase, message := "Succeeded", "successfully synced (all tasks run)"
		if s.err != nil {
			phase, message = "Failed", s.err.Error()
		}
		operation := map[string]any{
			"sync":        map[string]any{"revision": s.revision, "syncOptions": []any{"CreateNamespace=true"}},
			"initiatedBy": initiatedBy,
			"retry":       map[string]any{"limit": int64(5)},
		}
		if s.operation != nil {
			// Argo CD keeps the operation as it was requested (with its
			// info, strategy and options) in operationState.operation.
			operation = s.operation
		}
		st["operationState"] = map[string]any{
			"operation":  operation,
			"phase":      phase,
			"message":    message,
			"startedAt":  ts(s.startedAt),
			"finishedAt": ts(s.finishedAt),
			"syncResult": map[string]any{
				"revision":  s.revision,
				"source":    source,
				"resources": results,
			},
		}
		if s.err == nil {
			var nextID int64
			for _, h := range history {
				if m, ok := h.(map[string]any); ok {
					if id, ok := toFloat(m["id"]); ok && int64(id) >= nextID {
						nextID = int64(id) + 1
					}
				}
			}
			history = append(history, map[string]any{
				"id":              nextID,
				"revision":        s.revision,
				"deployStartedAt": ts(s.startedAt),
				"deployedAt":      ts(s.finishedAt),
				"source":          source,
				"initiatedBy":     initiatedBy,
			})
			if len(history) > maxArgoHistory {
				history = history[len(history)-maxArgoHistory:]
			}
		}
	}
	if len(history) > 0 {
		st["history"] = history
	}
	return st
}

// equalJSON compares two JSON-like values by their encoding (which sorts
// map keys), so int64 and float64 numbers of equal value match.
func equalJSON(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}

// statusUnchanged reports whether a new status differs from the previous
// one only in its timestamps of "last looked at" kind, and the previous one
// is recent enough to keep.
func statusUnchanged(prev, next map[string]any, stampKey string, now time.Time) bool {
	if prev == nil {
		return false
	}
	p, n := shallowWithout(prev, stampKey), shallowWithout(next, stampKey)
	if !equalJSON(p, n) {
		return false
	}
	if s, ok := prev[stampKey].(string); ok {
		if t, err := time.Parse(time.RFC3339, s); err == nil && now.Sub(t) < statusRewriteEvery {
			return true
		}
	}
	return false
}

func shallowWithout(m map[string]any, key string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	return out
}
