package standin

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Health is an Argo CD health status code.
type Health string

// Argo CD health codes (gitops-engine pkg/health).
const (
	Healthy     Health = "Healthy"
	Suspended   Health = "Suspended"
	Progressing Health = "Progressing"
	Missing     Health = "Missing"
	Degraded    Health = "Degraded"
	Unknown     Health = "Unknown"
)

// healthOrder ranks codes best to worst, as gitops-engine's IsWorse does.
var healthOrder = map[Health]int{Healthy: 0, Suspended: 1, Progressing: 2, Missing: 3, Degraded: 4, Unknown: 5}

// worse reports whether b is worse than a.
func worse(a, b Health) bool { return healthOrder[b] > healthOrder[a] }

// HealthStatus is one resource's (or an app's) health with Argo's message.
type HealthStatus struct {
	Status  Health
	Message string
}

// ResourceHealth applies the stand-in's copy of Argo CD's built-in health
// rules to one live object. ok is false for kinds Argo has no rule for
// (ConfigMap, Secret, ServiceAccount, …): those do not count toward the
// app's health. The product computes health with its own engine; this copy
// only makes the sandbox's Application statuses look like Argo's.
func ResourceHealth(obj *unstructured.Unstructured) (HealthStatus, bool) {
	if obj == nil {
		return HealthStatus{}, false
	}
	gk := obj.GroupVersionKind().GroupKind()
	var fn func(*unstructured.Unstructured) HealthStatus
	switch gk.Group + "/" + gk.Kind {
	case "apps/Deployment":
		fn = deploymentHealth
	case "apps/StatefulSet":
		fn = statefulSetHealth
	case "apps/DaemonSet":
		fn = daemonSetHealth
	case "apps/ReplicaSet":
		fn = replicaSetHealth
	case "/Pod":
		fn = podHealth
	case "/Service", "networking.k8s.io/Ingress":
		fn = loadBalancerHealth
	case "/PersistentVolumeClaim":
		fn = pvcHealth
	case "batch/Job":
		fn = jobHealth
	case "autoscaling/HorizontalPodAutoscaler":
		fn = hpaHealth
	default:
		return HealthStatus{}, false
	}
	if obj.GetDeletionTimestamp() != nil {
		return HealthStatus{Status: Progressing, Message: "Pending deletion"}, true
	}
	return fn(obj), true
}

// AppHealth aggregates the health of an app's managed resources the way
// Argo CD does: the worst child wins; objects without a rule, objects
// annotated argocd.argoproj.io/ignore-healthcheck=true and objects that
// are not live yet are skipped; the app is Missing only when none of its
// objects is live. live holds the live object for each desired object,
// nil where it does not exist.
func AppHealth(live []*unstructured.Unstructured) HealthStatus {
	app := HealthStatus{Status: Healthy}
	anyLive := false
	for _, obj := range live {
		if obj == nil {
			continue
		}
		anyLive = true
		if obj.GetAnnotations()["argocd.argoproj.io/ignore-healthcheck"] == "true" {
			continue
		}
		h, ok := ResourceHealth(obj)
		if !ok {
			continue
		}
		if worse(app.Status, h.Status) {
			app = h
		}
	}
	if !anyLive && len(live) > 0 {
		return HealthStatus{Status: Missing}
	}
	return app
}

func nestedInt(obj *unstructured.Unstructured, fields ...string) (int64, bool) {
	v, ok, _ := unstructured.NestedFieldNoCopy(obj.Object, fields...)
	if !ok {
		return 0, false
	}
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case float64:
		return int64(n), true
	}
	return 0, false
}

func nestedStr(obj map[string]any, fields ...string) string {
	s, _, _ := unstructured.NestedString(obj, fields...)
	return s
}

// condition returns the status condition of that type (nil if absent).
func condition(obj *unstructured.Unstructured, typ string) map[string]any {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if ok && m["type"] == typ {
			return m
		}
	}
	return nil
}

// observed reports whether the controller has seen the latest spec.
func observed(obj *unstructured.Unstructured) bool {
	og, _ := nestedInt(obj, "status", "observedGeneration")
	return obj.GetGeneration() <= og
}

func deploymentHealth(obj *unstructured.Unstructured) HealthStatus {
	if paused, _, _ := unstructured.NestedBool(obj.Object, "spec", "paused"); paused {
		return HealthStatus{Status: Suspended, Message: "Deployment is paused"}
	}
	if !observed(obj) {
		return HealthStatus{Status: Progressing, Message: "Waiting for rollout to finish: observed deployment generation less than desired generation"}
	}
	if c := condition(obj, "Progressing"); c != nil && c["reason"] == "ProgressDeadlineExceeded" {
		return HealthStatus{Status: Degraded, Message: fmt.Sprintf("Deployment %q exceeded its progress deadline", obj.GetName())}
	}
	replicas, hasReplicas := nestedInt(obj, "spec", "replicas")
	if !hasReplicas {
		replicas, hasReplicas = 1, true // the API server defaults spec.replicas to 1
	}
	updated, _ := nestedInt(obj, "status", "updatedReplicas")
	current, _ := nestedInt(obj, "status", "replicas")
	available, _ := nestedInt(obj, "status", "availableReplicas")
	switch {
	case hasReplicas && updated < replicas:
		return HealthStatus{Status: Progressing, Message: fmt.Sprintf("Waiting for rollout to finish: %d out of %d new replicas have been updated...", updated, replicas)}
	case current > updated:
		return HealthStatus{Status: Progressing, Message: fmt.Sprintf("Waiting for rollout to finish: %d old replicas are pending termination...", current-updated)}
	case available < updated:
		return HealthStatus{Status: Progressing, Message: fmt.Sprintf("Waiting for rollout to finish: %d of %d updated replicas are available...", available, updated)}
	}
	return HealthStatus{Status: Healthy}
}

func replicaSetHealth(obj *unstructured.Unstructured) HealthStatus {
	if !observed(obj) {
		return HealthStatus{Status: Progressing, Message: "Waiting for rollout to finish: observed replica set generation less than desired generation"}
	}
	if c := condition(obj, "ReplicaFailure"); c != nil && c["status"] == "True" {
		msg, _ := c["message"].(string)
		return HealthStatus{Status: Degraded, Message: msg}
	}
	replicas, hasReplicas := nestedInt(obj, "spec", "replicas")
	available, _ := nestedInt(obj, "status", "availableReplicas")
	if hasReplicas && available < replicas {
		return HealthStatus{Status: Progressing, Message: fmt.Sprintf("Waiting for rollout to finish: %d out of %d new replicas are available...", available, replicas)}
	}
	return HealthStatus{Status: Healthy}
}

func statefulSetHealth(obj *unstructured.Unstructured) HealthStatus {
	og, _ := nestedInt(obj, "status", "observedGeneration")
	if og == 0 || obj.GetGeneration() > og {
		return HealthStatus{Status: Progressing, Message: "Waiting for statefulset spec update to be observed..."}
	}
	replicas, hasReplicas := nestedInt(obj, "spec", "replicas")
	ready, _ := nestedInt(obj, "status", "readyReplicas")
	if hasReplicas && ready < replicas {
		return HealthStatus{Status: Progressing, Message: fmt.Sprintf("Waiting for %d pods to be ready...", replicas-ready)}
	}
	strategy := nestedStr(obj.Object, "spec", "updateStrategy", "type")
	updated, _ := nestedInt(obj, "status", "updatedReplicas")
	if strategy == "RollingUpdate" || strategy == "" {
		if partition, ok := nestedInt(obj, "spec", "updateStrategy", "rollingUpdate", "partition"); ok && hasReplicas {
			if updated < replicas-partition {
				return HealthStatus{Status: Progressing, Message: fmt.Sprintf("Waiting for partitioned roll out to finish: %d out of %d new pods have been updated...", updated, replicas-partition)}
			}
			return HealthStatus{Status: Healthy, Message: fmt.Sprintf("partitioned roll out complete: %d new pods have been updated...", updated)}
		}
	}
	if strategy == "OnDelete" {
		return HealthStatus{Status: Healthy, Message: fmt.Sprintf("statefulset has %d ready pods", ready)}
	}
	cur := nestedStr(obj.Object, "status", "currentRevision")
	upd := nestedStr(obj.Object, "status", "updateRevision")
	if upd != cur {
		return HealthStatus{Status: Progressing, Message: fmt.Sprintf("waiting for statefulset rolling update to complete %d pods at revision %s...", updated, upd)}
	}
	return HealthStatus{Status: Healthy, Message: fmt.Sprintf("statefulset rolling update complete %d pods at revision %s...", ready, cur)}
}

func daemonSetHealth(obj *unstructured.Unstructured) HealthStatus {
	if !observed(obj) {
		return HealthStatus{Status: Progressing, Message: "Waiting for rollout to finish: observed daemon set generation less than desired generation"}
	}
	desired, _ := nestedInt(obj, "status", "desiredNumberScheduled")
	updated, _ := nestedInt(obj, "status", "updatedNumberScheduled")
	available, _ := nestedInt(obj, "status", "numberAvailable")
	if nestedStr(obj.Object, "spec", "updateStrategy", "type") == "OnDelete" {
		return HealthStatus{Status: Healthy, Message: fmt.Sprintf("daemon set %d out of %d new pods have been updated", updated, desired)}
	}
	if updated < desired {
		return HealthStatus{Status: Progressing, Message: fmt.Sprintf("Waiting for daemon set %q rollout to finish: %d out of %d new pods have been updated...", obj.GetName(), updated, desired)}
	}
	if available < desired {
		return HealthStatus{Status: Progressing, Message: fmt.Sprintf("Waiting for daemon set %q rollout to finish: %d of %d updated pods are available...", obj.GetName(), available, desired)}
	}
	return HealthStatus{Status: Healthy}
}

func podHealth(obj *unstructured.Unstructured) HealthStatus {
	restart := nestedStr(obj.Object, "spec", "restartPolicy")
	if restart == "" {
		restart = "Always"
	}
	statuses, _, _ := unstructured.NestedSlice(obj.Object, "status", "containerStatuses")
	podMsg := nestedStr(obj.Object, "status", "message")
	if restart == "Always" {
		var msgs []string
		degraded := false
		for _, s := range statuses {
			cs, _ := s.(map[string]any)
			reason := nestedStr(cs, "state", "waiting", "reason")
			if reason == "" {
				continue
			}
			if strings.HasPrefix(reason, "Err") || strings.HasSuffix(reason, "Error") || strings.HasSuffix(reason, "BackOff") {
				degraded = true
				msgs = append(msgs, nestedStr(cs, "state", "waiting", "message"))
			}
		}
		if degraded {
			return HealthStatus{Status: Degraded, Message: strings.Join(msgs, ", ")}
		}
	}
	switch nestedStr(obj.Object, "status", "phase") {
	case "Pending":
		return HealthStatus{Status: Progressing, Message: podMsg}
	case "Succeeded":
		return HealthStatus{Status: Healthy, Message: podMsg}
	case "Failed":
		if podMsg != "" {
			return HealthStatus{Status: Degraded, Message: podMsg}
		}
		inits, _, _ := unstructured.NestedSlice(obj.Object, "status", "initContainerStatuses")
		for _, s := range append(inits, statuses...) {
			cs, _ := s.(map[string]any)
			if msg := nestedStr(cs, "state", "terminated", "message"); msg != "" {
				return HealthStatus{Status: Degraded, Message: msg}
			}
		}
		return HealthStatus{Status: Degraded}
	case "Running":
		if restart != "Always" {
			return HealthStatus{Status: Progressing, Message: podMsg}
		}
		if c := condition(obj, "Ready"); c != nil && c["status"] == "True" {
			return HealthStatus{Status: Healthy, Message: podMsg}
		}
		for _, s := range statuses {
			cs, _ := s.(map[string]any)
			if last, _ := cs["lastState"].(map[string]any); last["terminated"] != nil {
				return HealthStatus{Status: Degraded, Message: podMsg}
			}
		}
		return HealthStatus{Status: Progressing, Message: podMsg}
	}
	return HealthStatus{Status: Unknown, Message: podMsg}
}

func loadBalancerHealth(obj *unstructured.Unstructured) HealthStatus {
	if obj.GetKind() == "Service" && nestedStr(obj.Object, "spec", "type") != "LoadBalancer" {
		return HealthStatus{Status: Healthy}
	}
	ingress, _, _ := unstructured.NestedSlice(obj.Object, "status", "loadBalancer", "ingress")
	if len(ingress) > 0 {
		return HealthStatus{Status: Healthy}
	}
	return HealthStatus{Status: Progressing}
}

func pvcHealth(obj *unstructured.Unstructured) HealthStatus {
	switch nestedStr(obj.Object, "status", "phase") {
	case "Lost":
		return HealthStatus{Status: Degraded}
	case "Pending":
		return HealthStatus{Status: Progressing}
	case "Bound":
		return HealthStatus{Status: Healthy}
	}
	return HealthStatus{Status: Unknown}
}

func jobHealth(obj *unstructured.Unstructured) HealthStatus {
	isTrue := func(typ string) (bool, string) {
		c := condition(obj, typ)
		if c == nil || c["status"] != "True" {
			return false, ""
		}
		msg, _ := c["message"].(string)
		return true, msg
	}
	if failed, msg := isTrue("Failed"); failed {
		return HealthStatus{Status: Degraded, Message: msg}
	}
	if suspended, msg := isTrue("Suspended"); suspended {
		return HealthStatus{Status: Suspended, Message: msg}
	}
	if complete, msg := isTrue("Complete"); complete {
		return HealthStatus{Status: Healthy, Message: msg}
	}
	return HealthStatus{Status: Progressing}
}

func hpaHealth(obj *unstructured.Unstructured) HealthStatus {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		typ, reason, msg := nestedStr(m, "type"), nestedStr(m, "reason"), nestedStr(m, "message")
		switch {
		case typ == "AbleToScale" && (reason == "FailedGetScale" || reason == "FailedUpdateScale"),
			typ == "ScalingActive" && (reason == "FailedGetResourceMetric" || reason == "InvalidSelector"):
			return HealthStatus{Status: Degraded, Message: msg}
		}
	}
	for _, c := range conds {
		m, _ := c.(map[string]any)
		typ := nestedStr(m, "type")
		if (typ == "AbleToScale" || typ == "ScalingLimited") && nestedStr(m, "status") == "True" {
			return HealthStatus{Status: Healthy, Message: nestedStr(m, "message")}
		}
	}
	return HealthStatus{Status: Progressing, Message: "Waiting to Autoscale"}
}
