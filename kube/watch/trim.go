package watch

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Trimming keeps, per kind, the fields the model and the views read, and nothing else:
// memory stays proportional to what is shown, not to how verbose the cluster's objects are.
// Every trim function builds a new object (the decoded one becomes garbage at once) and is
// idempotent, since watch-list syncs pass objects through it twice.

// lastApplied is kubectl's copy of the whole object: often the biggest field of all.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// maxMessage bounds status messages (a termination message may be 4 KiB).
const maxMessage = 512

func trimMeta(m metav1.ObjectMeta, keepAnnotations bool) metav1.ObjectMeta {
	out := metav1.ObjectMeta{
		Name:              m.Name,
		Namespace:         m.Namespace,
		UID:               m.UID,
		ResourceVersion:   m.ResourceVersion,
		Generation:        m.Generation,
		CreationTimestamp: m.CreationTimestamp,
		DeletionTimestamp: m.DeletionTimestamp,
		Labels:            m.Labels,
	}
	if keepAnnotations {
		out.Annotations = trimAnnotations(m.Annotations)
	}
	for _, o := range m.OwnerReferences {
		out.OwnerReferences = append(out.OwnerReferences, metav1.OwnerReference{
			APIVersion: o.APIVersion, Kind: o.Kind, Name: o.Name, UID: o.UID, Controller: o.Controller,
		})
	}
	return out
}

func trimAnnotations(a map[string]string) map[string]string {
	if _, ok := a[lastApplied]; !ok {
		return a
	}
	if len(a) == 1 {
		return nil
	}
	out := make(map[string]string, len(a)-1)
	for k, v := range a {
		if k != lastApplied {
			out[k] = v
		}
	}
	return out
}

const maskedPrefix = "masked:sha256:"

// secretName matches environment variable names whose literal values are secrets by
// convention; their values are replaced by a digest (see MaskedEnvValue).
var secretName = regexp.MustCompile(`(?i)(password|passwd|secret|token|api_?key|credential|private_?key|auth)`)

// MaskedEnvValue is the value fleetdeck keeps for a literal environment variable of a live
// pod template: the value itself, or, for names that look like secrets (PASSWORD, TOKEN,
// API_KEY, …), "masked:sha256:" and the first 12 hex digits of the value's SHA-256. Whoever
// compares live values with values rendered from git must mask the rendered side the same way:
// drift stays visible, the secret never reaches a screen.
func MaskedEnvValue(name, value string) string {
	if value == "" || !secretName.MatchString(name) || strings.HasPrefix(value, maskedPrefix) {
		return value
	}
	sum := sha256.Sum256([]byte(value))
	return maskedPrefix + hex.EncodeToString(sum[:])[:12]
}

// trimTemplateContainers keeps what a workload's pod template says about each container:
// name, image, literal env (masked, see MaskedEnvValue), references of valueFrom env (names
// and keys only — a pod spec never holds secret values), and resource requests and limits.
func trimTemplateContainers(cs []corev1.Container) []corev1.Container {
	if len(cs) == 0 {
		return nil
	}
	out := make([]corev1.Container, len(cs))
	for i, c := range cs {
		o := corev1.Container{Name: c.Name, Image: c.Image, Resources: corev1.ResourceRequirements{
			Requests: c.Resources.Requests, Limits: c.Resources.Limits,
		}, RestartPolicy: c.RestartPolicy}
		if len(c.Env) > 0 {
			o.Env = make([]corev1.EnvVar, len(c.Env))
			for j, e := range c.Env {
				o.Env[j] = corev1.EnvVar{Name: e.Name, Value: MaskedEnvValue(e.Name, e.Value), ValueFrom: e.ValueFrom}
			}
		}
		out[i] = o
	}
	return out
}

func trimTemplate(t corev1.PodTemplateSpec) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: t.Labels},
		Spec: corev1.PodSpec{
			Containers:     trimTemplateContainers(t.Spec.Containers),
			InitContainers: trimTemplateContainers(t.Spec.InitContainers),
			RestartPolicy:  t.Spec.RestartPolicy,
		},
	}
}

func trimDeployment(d *appsv1.Deployment) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: trimMeta(d.ObjectMeta, true),
		Spec: appsv1.DeploymentSpec{
			Replicas: d.Spec.Replicas,
			Paused:   d.Spec.Paused,
			Template: trimTemplate(d.Spec.Template),
		},
		Status: appsv1.DeploymentStatus{
			ObservedGeneration:  d.Status.ObservedGeneration,
			Replicas:            d.Status.Replicas,
			UpdatedReplicas:     d.Status.UpdatedReplicas,
			ReadyReplicas:       d.Status.ReadyReplicas,
			AvailableReplicas:   d.Status.AvailableReplicas,
			UnavailableReplicas: d.Status.UnavailableReplicas,
			Conditions:          trimDeploymentConditions(d.Status.Conditions),
		},
	}
}

func trimDeploymentConditions(cs []appsv1.DeploymentCondition) []appsv1.DeploymentCondition {
	if len(cs) == 0 {
		return nil
	}
	out := make([]appsv1.DeploymentCondition, len(cs))
	for i, c := range cs {
		out[i] = appsv1.DeploymentCondition{Type: c.Type, Status: c.Status, Reason: c.Reason,
			Message: truncate(c.Message, maxMessage), LastTransitionTime: c.LastTransitionTime}
	}
	return out
}

func trimStatefulSet(s *appsv1.StatefulSet) *appsv1.StatefulSet {
	out := &appsv1.StatefulSet{
		ObjectMeta: trimMeta(s.ObjectMeta, true),
		Spec: appsv1.StatefulSetSpec{
			Replicas:       s.Spec.Replicas,
			Template:       trimTemplate(s.Spec.Template),
			UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: s.Spec.UpdateStrategy.Type},
		},
		Status: appsv1.StatefulSetStatus{
			ObservedGeneration: s.Status.ObservedGeneration,
			Replicas:           s.Status.Replicas,
			ReadyReplicas:      s.Status.ReadyReplicas,
			CurrentReplicas:    s.Status.CurrentReplicas,
			UpdatedReplicas:    s.Status.UpdatedReplicas,
			AvailableReplicas:  s.Status.AvailableReplicas,
			CurrentRevision:    s.Status.CurrentRevision,
			UpdateRevision:     s.Status.UpdateRevision,
		},
	}
	if ru := s.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
		out.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{Partition: ru.Partition}
	}
	for _, c := range s.Status.Conditions {
		out.Status.Conditions = append(out.Status.Conditions, appsv1.StatefulSetCondition{Type: c.Type,
			Status: c.Status, Reason: c.Reason, Message: truncate(c.Message, maxMessage), LastTransitionTime: c.LastTransitionTime})
	}
	return out
}

func trimDaemonSet(d *appsv1.DaemonSet) *appsv1.DaemonSet {
	out := &appsv1.DaemonSet{
		ObjectMeta: trimMeta(d.ObjectMeta, true),
		Spec: appsv1.DaemonSetSpec{
			Template:       trimTemplate(d.Spec.Template),
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: d.Spec.UpdateStrategy.Type},
		},
		Status: appsv1.DaemonSetStatus{
			ObservedGeneration:     d.Status.ObservedGeneration,
			CurrentNumberScheduled: d.Status.CurrentNumberScheduled,
			DesiredNumberScheduled: d.Status.DesiredNumberScheduled,
			NumberReady:            d.Status.NumberReady,
			UpdatedNumberScheduled: d.Status.UpdatedNumberScheduled,
			NumberAvailable:        d.Status.NumberAvailable,
			NumberUnavailable:      d.Status.NumberUnavailable,
			NumberMisscheduled:     d.Status.NumberMisscheduled,
		},
	}
	for _, c := range d.Status.Conditions {
		out.Status.Conditions = append(out.Status.Conditions, appsv1.DaemonSetCondition{Type: c.Type,
			Status: c.Status, Reason: c.Reason, Message: truncate(c.Message, maxMessage), LastTransitionTime: c.LastTransitionTime})
	}
	return out
}

// trimReplicaSet keeps counters and owners. The pod template is kept only for a ReplicaSet
// nobody controls (then it is a workload of its own); a Deployment's ReplicaSets (ten old
// ones per Deployment by default) only serve to find the Deployment behind a pod.
func trimReplicaSet(r *appsv1.ReplicaSet) *appsv1.ReplicaSet {
	out := &appsv1.ReplicaSet{
		ObjectMeta: trimMeta(r.ObjectMeta, false),
		Spec:       appsv1.ReplicaSetSpec{Replicas: r.Spec.Replicas},
		Status: appsv1.ReplicaSetStatus{
			ObservedGeneration:   r.Status.ObservedGeneration,
			Replicas:             r.Status.Replicas,
			FullyLabeledReplicas: r.Status.FullyLabeledReplicas,
			ReadyReplicas:        r.Status.ReadyReplicas,
			AvailableReplicas:    r.Status.AvailableReplicas,
		},
	}
	if metav1.GetControllerOfNoCopy(r) == nil {
		out.Annotations = trimAnnotations(r.Annotations)
		out.Spec.Template = trimTemplate(r.Spec.Template)
	}
	for _, c := range r.Status.Conditions {
		out.Status.Conditions = append(out.Status.Conditions, appsv1.ReplicaSetCondition{Type: c.Type,
			Status: c.Status, Reason: c.Reason, Message: truncate(c.Message, maxMessage), LastTransitionTime: c.LastTransitionTime})
	}
	return out
}

func trimJob(j *batchv1.Job) *batchv1.Job {
	out := &batchv1.Job{
		ObjectMeta: trimMeta(j.ObjectMeta, true),
		Spec: batchv1.JobSpec{
			Parallelism: j.Spec.Parallelism,
			Completions: j.Spec.Completions,
			Suspend:     j.Spec.Suspend,
			Template:    trimTemplate(j.Spec.Template),
		},
		Status: batchv1.JobStatus{
			StartTime:      j.Status.StartTime,
			CompletionTime: j.Status.CompletionTime,
			Active:         j.Status.Active,
			Succeeded:      j.Status.Succeeded,
			Failed:         j.Status.Failed,
			Ready:          j.Status.Ready,
		},
	}
	for _, c := range j.Status.Conditions {
		out.Status.Conditions = append(out.Status.Conditions, batchv1.JobCondition{Type: c.Type,
			Status: c.Status, Reason: c.Reason, Message: truncate(c.Message, maxMessage), LastTransitionTime: c.LastTransitionTime})
	}
	return out
}

func trimCronJob(c *batchv1.CronJob) *batchv1.CronJob {
	return &batchv1.CronJob{
		ObjectMeta: trimMeta(c.ObjectMeta, true),
		Spec: batchv1.CronJobSpec{
			Schedule: c.Spec.Schedule,
			Suspend:  c.Spec.Suspend,
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{
				Template: trimTemplate(c.Spec.JobTemplate.Spec.Template),
			}},
		},
		Status: batchv1.CronJobStatus{
			LastScheduleTime:   c.Status.LastScheduleTime,
			LastSuccessfulTime: c.Status.LastSuccessfulTime,
		},
	}
}

// trimPod keeps identity, owners, container names and images, placement and the status the
// health rules and the pod list read. Env, volumes, probes and the like are dropped: a pod's
// desired state is its workload's template.
func trimPod(p *corev1.Pod) *corev1.Pod {
	out := &corev1.Pod{
		ObjectMeta: trimMeta(p.ObjectMeta, false),
		Spec: corev1.PodSpec{
			Containers:     podContainers(p.Spec.Containers),
			InitContainers: podContainers(p.Spec.InitContainers),
			NodeName:       p.Spec.NodeName,
			RestartPolicy:  p.Spec.RestartPolicy,
		},
		Status: corev1.PodStatus{
			Phase:                 p.Status.Phase,
			Reason:                p.Status.Reason,
			Message:               truncate(p.Status.Message, maxMessage),
			StartTime:             p.Status.StartTime,
			ContainerStatuses:     containerStatuses(p.Status.ContainerStatuses),
			InitContainerStatuses: containerStatuses(p.Status.InitContainerStatuses),
		},
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			out.Status.Conditions = []corev1.PodCondition{{Type: c.Type, Status: c.Status, Reason: c.Reason,
				Message: truncate(c.Message, maxMessage), LastTransitionTime: c.LastTransitionTime}}
		}
	}
	return out
}

func podContainers(cs []corev1.Container) []corev1.Container {
	if len(cs) == 0 {
		return nil
	}
	out := make([]corev1.Container, len(cs))
	for i, c := range cs {
		out[i] = corev1.Container{Name: c.Name, Image: c.Image, RestartPolicy: c.RestartPolicy}
	}
	return out
}

func containerStatuses(cs []corev1.ContainerStatus) []corev1.ContainerStatus {
	if len(cs) == 0 {
		return nil
	}
	out := make([]corev1.ContainerStatus, len(cs))
	for i, c := range cs {
		out[i] = corev1.ContainerStatus{
			Name:                 c.Name,
			Image:                c.Image,
			Ready:                c.Ready,
			RestartCount:         c.RestartCount,
			Started:              c.Started,
			State:                trimContainerState(c.State),
			LastTerminationState: trimContainerState(c.LastTerminationState),
		}
	}
	return out
}

func trimContainerState(s corev1.ContainerState) corev1.ContainerState {
	var out corev1.ContainerState
	if w := s.Waiting; w != nil {
		out.Waiting = &corev1.ContainerStateWaiting{Reason: w.Reason, Message: truncate(w.Message, maxMessage)}
	}
	if r := s.Running; r != nil {
		out.Running = &corev1.ContainerStateRunning{StartedAt: r.StartedAt}
	}
	if t := s.Terminated; t != nil {
		out.Terminated = &corev1.ContainerStateTerminated{ExitCode: t.ExitCode, Signal: t.Signal,
			Reason: t.Reason, Message: truncate(t.Message, maxMessage), StartedAt: t.StartedAt, FinishedAt: t.FinishedAt}
	}
	return out
}

// trimEvent keeps what a details pane says about a Warning event.
func trimEvent(e *corev1.Event) *corev1.Event {
	out := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: e.Name, Namespace: e.Namespace, UID: e.UID,
			ResourceVersion: e.ResourceVersion, CreationTimestamp: e.CreationTimestamp},
		InvolvedObject: corev1.ObjectReference{Kind: e.InvolvedObject.Kind, Namespace: e.InvolvedObject.Namespace,
			Name: e.InvolvedObject.Name, UID: e.InvolvedObject.UID, APIVersion: e.InvolvedObject.APIVersion},
		Reason:         e.Reason,
		Message:        truncate(e.Message, maxMessage),
		Type:           e.Type,
		Count:          e.Count,
		FirstTimestamp: e.FirstTimestamp,
		LastTimestamp:  e.LastTimestamp,
		EventTime:      e.EventTime,
		Source:         corev1.EventSource{Component: e.Source.Component},
	}
	if e.Series != nil {
		out.Series = &corev1.EventSeries{Count: e.Series.Count, LastObservedTime: e.Series.LastObservedTime}
	}
	return out
}

// EventTime is when a Warning event was last seen, whichever of the core/v1 and events/v1
// time fields the reporter filled.
func EventTime(e *corev1.Event) metav1.Time {
	switch {
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		return metav1.Time{Time: e.Series.LastObservedTime.Time}
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp
	case !e.EventTime.IsZero():
		return metav1.Time{Time: e.EventTime.Time}
	case !e.FirstTimestamp.IsZero():
		return e.FirstTimestamp
	}
	return e.CreationTimestamp
}

// Unstructured kinds (the GitOps CRDs, extra kinds) are trimmed by copying kept paths into a
// fresh object. A path ending in a list keeps the whole list.

// unstructuredMeta copies the metadata fields trimMeta keeps.
func unstructuredMeta(in map[string]any) map[string]any {
	md, _ := in["metadata"].(map[string]any)
	out := map[string]any{}
	for _, k := range []string{"name", "namespace", "uid", "resourceVersion", "generation",
		"creationTimestamp", "deletionTimestamp", "labels", "ownerReferences"} {
		if v, ok := md[k]; ok {
			out[k] = v
		}
	}
	if a, ok := md["annotations"].(map[string]any); ok {
		if _, has := a[lastApplied]; has {
			b := make(map[string]any, len(a))
			for k, v := range a {
				if k != lastApplied {
					b[k] = v
				}
			}
			a = b
		}
		if len(a) > 0 {
			out["annotations"] = a
		}
	}
	return out
}

// keepPaths returns a copy of obj holding only metadata (trimmed) and the given dotted paths.
func keepPaths(obj *unstructured.Unstructured, paths []string) *unstructured.Unstructured {
	in := obj.Object
	out := map[string]any{
		"apiVersion": in["apiVersion"],
		"kind":       in["kind"],
		"metadata":   unstructuredMeta(in),
	}
	for _, p := range paths {
		copyPath(in, out, splitPath(p))
	}
	return &unstructured.Unstructured{Object: out}
}

func splitPath(p string) []string {
	var parts []string
	start := 0
	for i := 0; i < len(p); i++ {
		if p[i] == '.' {
			parts = append(parts, p[start:i])
			start = i + 1
		}
	}
	return append(parts, p[start:])
}

func copyPath(in, out map[string]any, path []string) {
	v, ok := in[path[0]]
	if !ok {
		return
	}
	if len(path) == 1 {
		out[path[0]] = v
		return
	}
	sub, ok := v.(map[string]any)
	if !ok {
		return
	}
	dst, ok := out[path[0]].(map[string]any)
	if !ok {
		dst = map[string]any{}
		out[path[0]] = dst
	}
	copyPath(sub, dst, path[1:])
}

// limitList cuts the list at path (if any) to its first n entries.
func limitList(obj *unstructured.Unstructured, n int, path ...string) {
	l, ok, _ := unstructured.NestedFieldNoCopy(obj.Object, path...)
	if list, isList := l.([]any); ok && isList && len(list) > n {
		_ = unstructured.SetNestedField(obj.Object, list[:n], path...)
	}
}

var argoAppPaths = []string{
	"spec.project", "spec.source", "spec.sources", "spec.destination",
	"status.sync", "status.health", "status.conditions", "status.resources",
	"status.summary.images", "status.reconciledAt",
	"status.operationState.phase", "status.operationState.message",
	"status.operationState.startedAt", "status.operationState.finishedAt",
	"status.operationState.syncResult.revision", "status.operationState.syncResult.revisions",
}

var kustomizationPaths = []string{
	"spec.path", "spec.sourceRef", "spec.suspend", "spec.prune", "spec.targetNamespace",
	"status.observedGeneration", "status.conditions", "status.lastAppliedRevision",
	"status.lastAttemptedRevision", "status.inventory",
}

var helmReleasePaths = []string{
	"spec.chart", "spec.chartRef", "spec.suspend", "spec.releaseName", "spec.targetNamespace",
	"spec.valuesFrom",
	"status.observedGeneration", "status.conditions", "status.lastAttemptedRevision",
	"status.lastAppliedRevision", "status.lastAttemptedReleaseAction", "status.failures",
	"status.history",
}

var gitRepositoryPaths = []string{
	"spec.url", "spec.ref", "spec.suspend",
	"status.observedGeneration", "status.conditions", "status.artifact.revision",
}

func trimArgoApp(u *unstructured.Unstructured) *unstructured.Unstructured {
	return keepPaths(u, argoAppPaths)
}

func trimKustomization(u *unstructured.Unstructured) *unstructured.Unstructured {
	out := keepPaths(u, kustomizationPaths)
	// Inventory entries carry an id and a version; only the id names an object.
	if entries, ok, _ := unstructured.NestedSlice(out.Object, "status", "inventory", "entries"); ok {
		ids := make([]any, 0, len(entries))
		for _, e := range entries {
			if m, ok := e.(map[string]any); ok {
				ids = append(ids, map[string]any{"id": m["id"]})
			}
		}
		_ = unstructured.SetNestedSlice(out.Object, ids, "status", "inventory", "entries")
	}
	return out
}

func trimHelmRelease(u *unstructured.Unstructured) *unstructured.Unstructured {
	out := keepPaths(u, helmReleasePaths)
	limitList(out, 5, "status", "history")
	return out
}

func trimGitRepository(u *unstructured.Unstructured) *unstructured.Unstructured {
	return keepPaths(u, gitRepositoryPaths)
}

func trimGeneric(u *unstructured.Unstructured) *unstructured.Unstructured {
	return keepPaths(u, []string{"spec", "status"})
}

// sortedKeys is used by tests and snapshots for a stable order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
