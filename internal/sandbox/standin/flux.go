package standin

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

// Flux settings the stand-in writes into specs (and quotes in messages).
const (
	fluxSourceInterval = "1m0s"
	fluxInterval       = "5m0s"
	fluxKsTimeout      = "2m0s"
	fluxHelmTimeout    = "5m0s"
	maxHelmHistory     = 5
)

// fluxRevision is how Flux v1 names a branch commit.
func fluxRevision(sha string) string { return scenario.Branch + "@sha1:" + sha }

func fluxMeta(name string) map[string]any {
	return map[string]any{"name": name, "namespace": scenario.FluxNamespace}
}

func sourceRef() map[string]any {
	return map[string]any{"kind": GitRepositoryGVK.Kind, "name": scenario.RepoName}
}

// gitRepository is the GitRepository every Flux object on a cluster uses.
func gitRepository(repoURL string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": GitRepositoryGVK.GroupVersion().String(),
		"kind":       GitRepositoryGVK.Kind,
		"metadata":   fluxMeta(scenario.RepoName),
		"spec": map[string]any{
			"interval": fluxSourceInterval,
			"url":      repoURL,
			"ref":      map[string]any{"branch": scenario.Branch},
			"timeout":  "60s",
		},
	}}
}

// kustomization is the Kustomization for a kustomize or plain-YAML app.
func kustomization(in *instance) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": KustomizationGVK.GroupVersion().String(),
		"kind":       KustomizationGVK.Kind,
		"metadata":   fluxMeta(in.name),
		"spec": map[string]any{
			"interval":        fluxInterval,
			"path":            "./" + in.app.SourcePath(in.cluster),
			"prune":           true,
			"sourceRef":       sourceRef(),
			"targetNamespace": in.app.Namespace,
			"wait":            true,
			"timeout":         fluxKsTimeout,
		},
	}}
}

// helmRelease is the HelmRelease for a chart in the monorepo.
func helmRelease(in *instance) *unstructured.Unstructured {
	chart := "./" + in.app.Path
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": HelmReleaseGVK.GroupVersion().String(),
		"kind":       HelmReleaseGVK.Kind,
		"metadata":   fluxMeta(in.name),
		"spec": map[string]any{
			"interval":        fluxInterval,
			"releaseName":     in.app.Name,
			"targetNamespace": in.app.Namespace,
			"timeout":         fluxHelmTimeout,
			"install":         map[string]any{"createNamespace": true},
			"chart": map[string]any{"spec": map[string]any{
				"chart":             chart,
				"reconcileStrategy": "Revision",
				"sourceRef":         sourceRef(),
				"valuesFiles":       []any{chart + "/" + in.app.ValuesFile(in.cluster)},
			}},
		},
	}}
}

// condition builds a Flux (metav1.Condition) condition, keeping the previous
// lastTransitionTime when status did not change.
func fluxCondition(prev map[string]any, typ, status, reason, message string, generation int64, now time.Time) map[string]any {
	c := map[string]any{
		"type": typ, "status": status, "reason": reason, "message": message,
		"observedGeneration": generation, "lastTransitionTime": ts(now),
	}
	conds, _ := prev["conditions"].([]any)
	for _, pc := range conds {
		m, _ := pc.(map[string]any)
		if m["type"] == typ && m["status"] == status {
			if t, ok := m["lastTransitionTime"]; ok {
				c["lastTransitionTime"] = t
			}
		}
	}
	return c
}

// gitRepositoryStatus reports the stored artifact for HEAD.
func gitRepositoryStatus(prev map[string]any, head string, generation int64, now time.Time) map[string]any {
	rev := fluxRevision(head)
	updated := ts(now)
	if art, ok := prev["artifact"].(map[string]any); ok && art["revision"] == rev {
		if t, ok := art["lastUpdateTime"].(string); ok {
			updated = t
		}
	}
	path := fmt.Sprintf("gitrepository/%s/%s/%s.tar.gz", scenario.FluxNamespace, scenario.RepoName, head)
	msg := fmt.Sprintf("stored artifact for revision '%s'", rev)
	return map[string]any{
		"observedGeneration": generation,
		"artifact": map[string]any{
			"path":           path,
			"url":            "http://source-controller." + scenario.FluxNamespace + ".svc.cluster.local./" + path,
			"revision":       rev,
			"digest":         fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(head))),
			"lastUpdateTime": updated,
		},
		"conditions": []any{
			fluxCondition(prev, "Ready", "True", "Succeeded", msg, generation, now),
			fluxCondition(prev, "ArtifactInStorage", "True", "Succeeded", msg, generation, now),
		},
	}
}

// failedObjects lists the objects whose health is Degraded, in Flux's
// message style.
func failedObjects(cmp *comparison) string {
	var out []string
	for _, r := range cmp.resources {
		if r.live == nil {
			continue
		}
		if h, ok := ResourceHealth(r.live); ok && h.Status == Degraded {
			out = append(out, fmt.Sprintf("%s/%s status: 'Failed'", r.obj.GetKind(), objectRef(r.obj)))
		}
	}
	return strings.Join(out, ", ")
}

// kustomizationInput is everything a Kustomization status is computed from.
type kustomizationInput struct {
	in         *instance
	cmp        *comparison
	lastSync   *syncRecord
	prev       map[string]any
	generation int64
	now        time.Time
}

// kustomizationStatus reports the applied revision, the inventory and
// Ready/Healthy from the stand-in's health of the applied objects.
func kustomizationStatus(k kustomizationInput) map[string]any {
	attemptedSHA := k.in.appliedRev
	attempted := fluxRevision(attemptedSHA)
	lastApplied, _ := k.prev["lastAppliedRevision"].(string)
	gen, now, prev := k.generation, k.now, k.prev

	entries := []any{}
	for _, r := range k.cmp.resources {
		if r.requiresPruning {
			continue
		}
		gvk := r.obj.GroupVersionKind()
		entries = append(entries, map[string]any{
			"id": fmt.Sprintf("%s_%s_%s_%s", r.obj.GetNamespace(), r.obj.GetName(), gvk.Group, gvk.Kind),
			"v":  gvk.Version,
		})
	}
	st := map[string]any{
		"observedGeneration":    gen,
		"lastAttemptedRevision": attempted,
		"inventory":             map[string]any{"entries": entries},
	}
	var conds []any
	switch {
	case k.lastSync != nil && k.lastSync.err != nil:
		msg := k.lastSync.err.Error()
		conds = append(conds, fluxCondition(prev, "Ready", "False", "BuildFailed", msg, gen, now))
	case k.cmp.health.Status == Degraded:
		msg := fmt.Sprintf("health check failed after %s: failed early due to stalled resources: [%s]", fluxKsTimeout, failedObjects(k.cmp))
		conds = append(conds,
			fluxCondition(prev, "Ready", "False", "HealthCheckFailed", msg, gen, now),
			fluxCondition(prev, "Healthy", "False", "HealthCheckFailed", msg, gen, now))
	case k.cmp.health.Status == Healthy:
		lastApplied = attempted
		conds = append(conds,
			fluxCondition(prev, "Ready", "True", "ReconciliationSucceeded", "Applied revision: "+attempted, gen, now),
			fluxCondition(prev, "Healthy", "True", "Succeeded", "Health check passed", gen, now))
	default:
		msg := fmt.Sprintf("Running health checks for revision %s with a timeout of %s", attempted, fluxKsTimeout)
		conds = append(conds,
			fluxCondition(prev, "Ready", "Unknown", "Progressing", msg, gen, now),
			fluxCondition(prev, "Reconciling", "True", "Progressing", msg, gen, now),
			fluxCondition(prev, "Healthy", "Unknown", "Progressing", msg, gen, now))
	}
	st["conditions"] = conds
	if lastApplied != "" {
		st["lastAppliedRevision"] = lastApplied
	}
	return st
}

// helmReleaseInput is everything a HelmRelease status is computed from.
type helmReleaseInput struct {
	in           *instance
	cmp          *comparison
	lastSync     *syncRecord
	prev         map[string]any
	generation   int64
	now          time.Time
	chart        chartMeta // Chart.yaml at the applied revision
	manifest     []byte    // rendered manifests at the applied revision
	values       []byte    // the values file at the applied revision
	previousRev  string    // first install only: the commit before, shown as the superseded release
	previousInfo chartMeta
}

// chartVersion is the version source-controller gives a chart built from a
// GitRepository with reconcileStrategy Revision.
func chartVersion(cm chartMeta, sha string) string {
	return cm.Version + "+" + short(sha)
}

// helmReleaseStatus keeps a Helm release history (newest first) and Ready/
// Released from the stand-in's health of the release's objects.
func helmReleaseStatus(h helmReleaseInput) map[string]any {
	gen, now, prev, in := h.generation, h.now, h.prev, h.in
	version := chartVersion(h.chart, in.appliedRev)
	configDigest := fmt.Sprintf("sha256:%x", sha256.Sum256(h.values))
	history, _ := prev["history"].([]any)
	history = append([]any(nil), history...)

	if s := h.lastSync; s != nil && s.err == nil && !s.reapply {
		var n int64 = 1
		if len(history) > 0 {
			if v, ok := toFloat(history[0].(map[string]any)["version"]); ok {
				n = int64(v) + 1
			}
		} else if h.previousRev != "" {
			// The sandbox starts from a fleet that has been running: the
			// release existed before at the previous commit.
			history = []any{helmSnapshot(in, 1, "deployed", h.previousInfo, chartVersion(h.previousInfo, h.previousRev),
				configDigest, fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(h.previousRev))), s.startedAt.Add(-24*time.Hour))}
			n = 2
		}
		entry := helmSnapshot(in, n, "pending-upgrade", h.chart, version, configDigest,
			fmt.Sprintf("sha256:%x", sha256.Sum256(h.manifest)), s.finishedAt)
		history = append([]any{entry}, history...)
	}
	if len(history) > maxHelmHistory {
		history = history[:maxHelmHistory]
	}
	action := "upgrade"
	if len(history) == 1 {
		action = "install"
	}
	release := fmt.Sprintf("%s/%s", in.app.Namespace, in.app.Name)
	chartRef := h.chart.Name + "@" + version
	var conds []any
	setNewest := func(status string) {
		if len(history) == 0 {
			return
		}
		newest := copyMap(history[0].(map[string]any))
		newest["status"] = status
		history[0] = newest
		if status == "deployed" {
			for i := 1; i < len(history); i++ {
				if m := history[i].(map[string]any); m["status"] == "deployed" {
					old := copyMap(m)
					old["status"] = "superseded"
					history[i] = old
				}
			}
		}
	}
	verb, okReason, failReason := "upgrade", "UpgradeSucceeded", "UpgradeFailed"
	if action == "install" {
		verb, okReason, failReason = "install", "InstallSucceeded", "InstallFailed"
	}
	switch {
	case h.lastSync != nil && h.lastSync.err != nil:
		msg := fmt.Sprintf("Helm %s failed for release %s with chart %s: %v", verb, release, chartRef, h.lastSync.err)
		conds = append(conds,
			fluxCondition(prev, "Ready", "False", failReason, msg, gen, now),
			fluxCondition(prev, "Released", "False", failReason, msg, gen, now))
	case h.cmp.health.Status == Degraded:
		setNewest("failed")
		msg := fmt.Sprintf("Helm %s failed for release %s with chart %s: resources not ready: [%s]", verb, release, chartRef, failedObjects(h.cmp))
		conds = append(conds,
			fluxCondition(prev, "Ready", "False", failReason, msg, gen, now),
			fluxCondition(prev, "Released", "False", failReason, msg, gen, now))
	case h.cmp.health.Status == Healthy:
		setNewest("deployed")
		n := int64(1)
		if len(history) > 0 {
			if v, ok := toFloat(history[0].(map[string]any)["version"]); ok {
				n = int64(v)
			}
		}
		msg := fmt.Sprintf("Helm %s succeeded for release %s.v%d with chart %s", verb, release, n, chartRef)
		conds = append(conds,
			fluxCondition(prev, "Ready", "True", okReason, msg, gen, now),
			fluxCondition(prev, "Released", "True", okReason, msg, gen, now))
	default:
		msg := fmt.Sprintf("Running '%s' action with timeout of %s", verb, fluxHelmTimeout)
		conds = append(conds,
			fluxCondition(prev, "Ready", "Unknown", "Progressing", msg, gen, now),
			fluxCondition(prev, "Reconciling", "True", "Progressing", msg, gen, now))
	}
	st := map[string]any{
		"observedGeneration":         gen,
		"lastAttemptedGeneration":    gen,
		"lastAttemptedRevision":      version,
		"lastAttemptedConfigDigest":  configDigest,
		"lastAttemptedReleaseAction": action,
		"helmChart":                  scenario.FluxNamespace + "/" + scenario.FluxNamespace + "-" + in.name,
		"storageNamespace":           in.app.Namespace,
		"conditions":                 conds,
	}
	if len(history) > 0 {
		st["history"] = history
	}
	return st
}

func helmSnapshot(in *instance, version int64, status string, cm chartMeta, chartVer, configDigest, digest string, at time.Time) map[string]any {
	return map[string]any{
		"name":          in.app.Name,
		"namespace":     in.app.Namespace,
		"version":       version,
		"status":        status,
		"chartName":     cm.Name,
		"chartVersion":  chartVer,
		"appVersion":    cm.AppVersion,
		"configDigest":  configDigest,
		"digest":        digest,
		"firstDeployed": ts(at),
		"lastDeployed":  ts(at),
	}
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
