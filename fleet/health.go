package fleet

import (
	"fmt"
	"strings"
)

// HealthStatus follows Argo CD's health codes.
type HealthStatus string

const (
	Healthy     HealthStatus = "Healthy"
	Suspended   HealthStatus = "Suspended"
	Progressing HealthStatus = "Progressing"
	Missing     HealthStatus = "Missing"
	Degraded    HealthStatus = "Degraded"
	Unknown     HealthStatus = "Unknown"
)

// healthRank orders statuses best → worst as gitops-engine's IsWorse does. A status outside
// the list (e.g. empty) ranks as Unknown.
func healthRank(h HealthStatus) int {
	switch h {
	case Healthy:
		return 0
	case Suspended:
		return 1
	case Progressing:
		return 2
	case Missing:
		return 3
	case Degraded:
		return 4
	default:
		return 5
	}
}

// IsWorse reports whether next is worse than current.
func IsWorse(current, next HealthStatus) bool { return healthRank(next) > healthRank(current) }

// ParseHealth maps an operator's health string to a HealthStatus; anything unrecognised,
// including empty, is Unknown.
func ParseHealth(s string) HealthStatus {
	switch h := HealthStatus(s); h {
	case Healthy, Suspended, Progressing, Missing, Degraded:
		return h
	}
	return Unknown
}

// Health is a status and a message saying why.
type Health struct {
	Status  HealthStatus
	Message string
}

// Worst aggregates healths worst-first, skipping empty ones (objects with no rule). It returns
// a zero Health when all are empty. The message is the worst one's.
func Worst(hs ...Health) Health {
	var out Health
	for _, h := range hs {
		if h.Status == "" {
			continue
		}
		if out.Status == "" || IsWorse(out.Status, h.Status) {
			out = h
		}
	}
	return out
}

// HealthOfWorkload applies the rule for the workload's kind. Kinds without a rule (CronJob and
// anything unknown) return a zero Health, which aggregation skips — as Argo CD does.
func HealthOfWorkload(w Workload) Health {
	if w.Deleting {
		return Health{Progressing, "pending deletion"}
	}
	switch w.Kind {
	case "Deployment":
		return HealthOfDeployment(w)
	case "StatefulSet":
		return HealthOfStatefulSet(w)
	case "DaemonSet":
		return HealthOfDaemonSet(w)
	case "ReplicaSet":
		return HealthOfReplicaSet(w)
	case "Job":
		return HealthOfJob(w)
	case "CronJob":
		if w.Paused {
			return Health{Suspended, "CronJob is suspended"}
		}
	}
	return Health{}
}

// HealthOfDeployment follows gitops-engine: paused → Suspended; spec not yet observed →
// Progressing; ProgressDeadlineExceeded → Degraded; rollout unfinished → Progressing.
func HealthOfDeployment(w Workload) Health {
	if w.Paused {
		return Health{Suspended, "Deployment is paused"}
	}
	if w.Generation > w.ObservedGeneration {
		return Health{Progressing, "waiting for rollout: observed generation less than desired generation"}
	}
	if c, ok := findCondition(w.Conditions, "Progressing"); ok && c.Reason == "ProgressDeadlineExceeded" {
		return Health{Degraded, fmt.Sprintf("Deployment %q exceeded its progress deadline", w.Name)}
	}
	switch {
	case w.UpdatedReplicas < w.Replicas:
		return Health{Progressing, fmt.Sprintf("waiting for rollout: %d out of %d new replicas updated", w.UpdatedReplicas, w.Replicas)}
	case w.StatusReplicas > w.UpdatedReplicas:
		return Health{Progressing, fmt.Sprintf("waiting for rollout: %d old replicas pending termination", w.StatusReplicas-w.UpdatedReplicas)}
	case w.AvailableReplicas < w.UpdatedReplicas:
		return Health{Progressing, fmt.Sprintf("waiting for rollout: %d of %d updated replicas available", w.AvailableReplicas, w.UpdatedReplicas)}
	}
	return Health{Healthy, ""}
}

// HealthOfStatefulSet follows gitops-engine: stale or zero observed generation, too few ready
// pods, an unfinished partitioned roll-out or differing revisions → Progressing; OnDelete →
// Healthy.
func HealthOfStatefulSet(w Workload) Health {
	if w.ObservedGeneration == 0 || w.Generation > w.ObservedGeneration {
		return Health{Progressing, "waiting for StatefulSet spec update to be observed"}
	}
	if w.ReadyReplicas < w.Replicas {
		return Health{Progressing, fmt.Sprintf("waiting for %d pods to be ready", w.Replicas-w.ReadyReplicas)}
	}
	if w.UpdateStrategy != "OnDelete" && w.Partition != nil {
		if want := w.Replicas - *w.Partition; w.UpdatedReplicas < want {
			return Health{Progressing, fmt.Sprintf("waiting for partitioned roll out: %d out of %d new pods updated", w.UpdatedReplicas, want)}
		}
		return Health{Healthy, "partitioned roll out complete"}
	}
	if w.UpdateStrategy == "OnDelete" {
		return Health{Healthy, fmt.Sprintf("StatefulSet has %d ready pods", w.ReadyReplicas)}
	}
	if w.UpdateRevision != w.CurrentRevision {
		return Health{Progressing, fmt.Sprintf("waiting for rolling update to complete: %d pods at revision %s", w.UpdatedReplicas, w.UpdateRevision)}
	}
	return Health{Healthy, ""}
}

// HealthOfDaemonSet follows gitops-engine: stale generation, pods not updated or not available
// → Progressing; OnDelete → Healthy.
func HealthOfDaemonSet(w Workload) Health {
	if w.Generation > w.ObservedGeneration {
		return Health{Progressing, "waiting for rollout: observed generation less than desired generation"}
	}
	if w.UpdateStrategy == "OnDelete" {
		return Health{Healthy, ""}
	}
	if w.UpdatedReplicas < w.Replicas {
		return Health{Progressing, fmt.Sprintf("waiting for rollout: %d out of %d new pods updated", w.UpdatedReplicas, w.Replicas)}
	}
	if w.AvailableReplicas < w.Replicas {
		return Health{Progressing, fmt.Sprintf("waiting for rollout: %d of %d updated pods available", w.AvailableReplicas, w.Replicas)}
	}
	return Health{Healthy, ""}
}

// HealthOfReplicaSet follows gitops-engine: ReplicaFailure=True → Degraded; too few
// available → Progressing.
func HealthOfReplicaSet(w Workload) Health {
	if w.Generation > w.ObservedGeneration {
		return Health{Progressing, "waiting for rollout: observed generation less than desired generation"}
	}
	if c, ok := findCondition(w.Conditions, "ReplicaFailure"); ok && c.Status == "True" {
		return Health{Degraded, c.Message}
	}
	if w.AvailableReplicas < w.Replicas {
		return Health{Progressing, fmt.Sprintf("waiting for rollout: %d out of %d replicas available", w.AvailableReplicas, w.Replicas)}
	}
	return Health{Healthy, ""}
}

// HealthOfJob follows gitops-engine: Failed → Degraded, Complete → Healthy, Suspended →
// Suspended, otherwise Progressing.
func HealthOfJob(w Workload) Health {
	var failed, complete, suspended bool
	var msg, failMsg string
	for _, c := range w.Conditions {
		if c.Status == "False" {
			continue
		}
		switch c.Type {
		case "Failed":
			failed, complete, failMsg = true, true, c.Message
		case "Complete":
			complete, msg = true, c.Message
		case "Suspended":
			complete, suspended, msg = true, true, c.Message
		}
	}
	if !complete && w.Paused {
		return Health{Suspended, "Job is suspended"}
	}
	switch {
	case !complete:
		return Health{Progressing, msg}
	case failed:
		return Health{Degraded, failMsg}
	case suspended:
		return Health{Suspended, msg}
	}
	return Health{Healthy, msg}
}

// HealthOfPod follows gitops-engine. With restartPolicy Always (the default), a container
// waiting with a reason starting with "Err" or ending in "Error" or "BackOff"
// (CrashLoopBackOff, ImagePullBackOff, ErrImagePull, CreateContainerConfigError) → Degraded.
// Then by phase: Pending → Progressing; Succeeded → Healthy; Failed → Degraded; Running with
// Always: Ready → Healthy, a container terminated before → Degraded, else Progressing; Running
// with Never/OnFailure → Progressing.
func HealthOfPod(p Pod) Health {
	if p.Deleting {
		return Health{Progressing, "pending deletion"}
	}
	always := p.RestartPolicy == "" || p.RestartPolicy == "Always"
	if always {
		var msgs []string
		degraded := false
		for _, c := range p.Containers {
			if isFailingWait(c.WaitingReason) {
				degraded = true
				msgs = append(msgs, waitText(c))
			}
		}
		if degraded {
			return Health{Degraded, strings.Join(msgs, ", ")}
		}
	}
	switch p.Phase {
	case "Pending":
		return Health{Progressing, p.Message}
	case "Succeeded":
		return Health{Healthy, p.Message}
	case "Failed":
		if p.Message != "" {
			return Health{Degraded, p.Message}
		}
		for _, c := range p.Containers {
			if c.TerminatedReason != "" && c.TerminatedReason != "Completed" {
				return Health{Degraded, fmt.Sprintf("container %s: %s", c.Name, c.TerminatedReason)}
			}
		}
		return Health{Degraded, ""}
	case "Running":
		if !always {
			return Health{Progressing, p.Message}
		}
		if p.Ready {
			return Health{Healthy, p.Message}
		}
		for _, c := range p.Containers {
			if c.LastTerminated && !c.Init {
				return Health{Degraded, fmt.Sprintf("container %s restarted (%s)", c.Name, c.LastTerminatedReason)}
			}
		}
		return Health{Progressing, p.Message}
	}
	return Health{Unknown, p.Message}
}

// isFailingWait is gitops-engine's test for a waiting reason that means the container fails.
func isFailingWait(reason string) bool {
	return strings.HasPrefix(reason, "Err") || strings.HasSuffix(reason, "Error") || strings.HasSuffix(reason, "BackOff")
}

func waitText(c ContainerStatus) string {
	if c.WaitingMessage != "" {
		return c.Name + ": " + c.WaitingReason + ": " + c.WaitingMessage
	}
	return c.Name + ": " + c.WaitingReason
}

// HealthOfFlux derives health from a Flux object's conditions, most telling first:
// suspended → Suspended; Stalled → Degraded; Ready False → Degraded (also while retrying);
// Reconciling → Progressing; Ready True → Healthy; Ready Unknown (Flux's "in progress") →
// Progressing; no Ready condition → Unknown.
func HealthOfFlux(f FluxObject) Health {
	msg := ""
	if f.Ready != nil {
		msg = f.Ready.Message
	}
	switch {
	case f.Suspended:
		return Health{Suspended, "reconciliation suspended"}
	case f.Stalled:
		return Health{Degraded, msg}
	case f.Ready != nil && f.Ready.Status == "False":
		return Health{Degraded, msg}
	case f.Reconciling:
		return Health{Progressing, msg}
	case f.Ready == nil:
		return Health{Unknown, "no Ready condition yet"}
	case f.Ready.Status == "True":
		return Health{Healthy, msg}
	}
	return Health{Progressing, msg}
}
