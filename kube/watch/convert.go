package watch

import (
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fleetdeck/fleetdeck/fleet"
)

// FleetSnapshot turns cluster snapshots (in display order) into the cluster side of a
// fleet.Snapshot taken at now. The caller adds Declared, ClusterAliases and Git.
func FleetSnapshot(snaps []ClusterSnapshot, now time.Time) fleet.Snapshot {
	fs := fleet.Snapshot{Now: now}
	for _, s := range snaps {
		s.AddTo(&fs)
	}
	return fs
}

// AddTo appends this cluster's state and objects to fs.
func (s ClusterSnapshot) AddTo(fs *fleet.Snapshot) {
	c := s.Cluster
	fs.Clusters = append(fs.Clusters, FleetClusterState(c, s.State))
	for _, u := range s.Applications {
		fs.ArgoApps = append(fs.ArgoApps, ArgoApp(c, u))
	}
	repos := gitRepositories(s.GitRepositories)
	for _, u := range s.Kustomizations {
		fs.FluxObjects = append(fs.FluxObjects, fluxObject(c, fleet.FluxKustomization, u, repos))
	}
	for _, u := range s.HelmReleases {
		fs.FluxObjects = append(fs.FluxObjects, fluxObject(c, fleet.FluxHelmRelease, u, repos))
	}
	for _, d := range s.Deployments {
		fs.Workloads = append(fs.Workloads, deploymentWorkload(c, d))
	}
	for _, st := range s.StatefulSets {
		fs.Workloads = append(fs.Workloads, statefulSetWorkload(c, st))
	}
	for _, d := range s.DaemonSets {
		fs.Workloads = append(fs.Workloads, daemonSetWorkload(c, d))
	}
	for _, r := range s.ReplicaSets {
		owner := controllerRef(r.Namespace, r.OwnerReferences)
		fs.ReplicaSets = append(fs.ReplicaSets, fleet.ReplicaSet{Cluster: c, Namespace: r.Namespace, Name: r.Name, Owner: owner})
		if owner == nil {
			// Nobody controls it: a workload of its own.
			fs.Workloads = append(fs.Workloads, replicaSetWorkload(c, r))
		}
	}
	for _, j := range s.Jobs {
		fs.Workloads = append(fs.Workloads, jobWorkload(c, j))
	}
	for _, cj := range s.CronJobs {
		fs.Workloads = append(fs.Workloads, cronJobWorkload(c, cj))
	}
	for _, p := range s.Pods {
		fs.Pods = append(fs.Pods, Pod(c, p))
	}
	for _, e := range s.Events {
		fs.Events = append(fs.Events, Event(c, e))
	}
}

// FleetClusterState maps a watch State onto the model's connection state. The model's
// ConnSlow means "data complete but slow": a complete cluster whose API server answers late is
// ConnSlow, while one whose first list is slow stays ConnConnecting there, with the slowness in
// Err; Forbidden is ConnSynced with the forbidden
// resources listed and, for those read namespace by namespace, where they are read and where
// they are denied, so instances in readable namespaces keep their health.
func FleetClusterState(name string, st State) fleet.ClusterState {
	cs := fleet.ClusterState{Name: name, Forbidden: slices.Clone(st.Forbidden), Err: st.Err, LastEvent: st.LastEvent}
	for _, r := range st.Resources {
		if !r.Forbidden || len(r.Namespaces) == 0 {
			continue
		}
		if cs.ReadIn == nil {
			cs.ReadIn = map[string][]string{}
		}
		cs.ReadIn[r.Name] = slices.Clone(r.Namespaces)
	}
	for res, nss := range st.ForbiddenIn {
		if cs.ForbiddenIn == nil {
			cs.ForbiddenIn = map[string][]string{}
		}
		cs.ForbiddenIn[res] = slices.Clone(nss)
	}
	switch st.Phase {
	case Synced, Forbidden:
		cs.State = fleet.ConnSynced
	case Unreachable:
		cs.State = fleet.ConnUnreachable
	case Slow:
		if st.Complete() {
			cs.State = fleet.ConnSlow
			break
		}
		cs.State = fleet.ConnConnecting
		var pending []string
		for _, r := range st.Resources {
			if !r.settled() {
				pending = append(pending, r.Name)
			}
		}
		if cs.Err == "" {
			cs.Err = "slow: still listing " + strings.Join(pending, ", ")
		}
	default:
		cs.State = fleet.ConnConnecting
	}
	return cs
}

func controllerRef(ns string, refs []metav1.OwnerReference) *fleet.ObjectRef {
	for _, r := range refs {
		if r.Controller != nil && *r.Controller {
			return &fleet.ObjectRef{Kind: r.Kind, Namespace: ns, Name: r.Name}
		}
	}
	return nil
}

func conditionOf(typ, status, reason, message string, last metav1.Time) fleet.Condition {
	return fleet.Condition{Type: typ, Status: status, Reason: reason, Message: message, Last: last.Time}
}

func replicasOr1(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}

func workloadBase(cluster, kind string, m metav1.ObjectMeta, t corev1.PodTemplateSpec) fleet.Workload {
	return fleet.Workload{
		Cluster: cluster, Kind: kind, Namespace: m.Namespace, Name: m.Name,
		Labels: m.Labels, Annotations: m.Annotations,
		Generation: m.Generation,
		Deleting:   m.DeletionTimestamp != nil,
		Containers: templateContainers(t.Spec),
		Owner:      controllerRef(m.Namespace, m.OwnerReferences),
	}
}

func deploymentWorkload(c string, d *appsv1.Deployment) fleet.Workload {
	w := workloadBase(c, "Deployment", d.ObjectMeta, d.Spec.Template)
	w.ObservedGeneration = d.Status.ObservedGeneration
	w.Replicas = replicasOr1(d.Spec.Replicas)
	w.StatusReplicas, w.ReadyReplicas = d.Status.Replicas, d.Status.ReadyReplicas
	w.UpdatedReplicas, w.AvailableReplicas = d.Status.UpdatedReplicas, d.Status.AvailableReplicas
	w.Paused = d.Spec.Paused
	for _, x := range d.Status.Conditions {
		w.Conditions = append(w.Conditions, conditionOf(string(x.Type), string(x.Status), x.Reason, x.Message, x.LastTransitionTime))
	}
	return w
}

func statefulSetWorkload(c string, s *appsv1.StatefulSet) fleet.Workload {
	w := workloadBase(c, "StatefulSet", s.ObjectMeta, s.Spec.Template)
	w.ObservedGeneration = s.Status.ObservedGeneration
	w.Replicas = replicasOr1(s.Spec.Replicas)
	w.StatusReplicas, w.ReadyReplicas = s.Status.Replicas, s.Status.ReadyReplicas
	w.UpdatedReplicas, w.AvailableReplicas = s.Status.UpdatedReplicas, s.Status.AvailableReplicas
	w.UpdateStrategy = string(s.Spec.UpdateStrategy.Type)
	if ru := s.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
		p := *ru.Partition
		w.Partition = &p
	}
	w.CurrentRevision, w.UpdateRevision = s.Status.CurrentRevision, s.Status.UpdateRevision
	for _, x := range s.Status.Conditions {
		w.Conditions = append(w.Conditions, conditionOf(string(x.Type), string(x.Status), x.Reason, x.Message, x.LastTransitionTime))
	}
	return w
}

func daemonSetWorkload(c string, d *appsv1.DaemonSet) fleet.Workload {
	w := workloadBase(c, "DaemonSet", d.ObjectMeta, d.Spec.Template)
	w.ObservedGeneration = d.Status.ObservedGeneration
	w.Replicas = d.Status.DesiredNumberScheduled
	w.StatusReplicas = d.Status.CurrentNumberScheduled
	w.ReadyReplicas = d.Status.NumberReady
	w.UpdatedReplicas = d.Status.UpdatedNumberScheduled
	w.AvailableReplicas = d.Status.NumberAvailable
	w.UpdateStrategy = string(d.Spec.UpdateStrategy.Type)
	for _, x := range d.Status.Conditions {
		w.Conditions = append(w.Conditions, conditionOf(string(x.Type), string(x.Status), x.Reason, x.Message, x.LastTransitionTime))
	}
	return w
}

func replicaSetWorkload(c string, r *appsv1.ReplicaSet) fleet.Workload {
	w := workloadBase(c, "ReplicaSet", r.ObjectMeta, r.Spec.Template)
	w.ObservedGeneration = r.Status.ObservedGeneration
	w.Replicas = replicasOr1(r.Spec.Replicas)
	w.StatusReplicas, w.ReadyReplicas = r.Status.Replicas, r.Status.ReadyReplicas
	// A ReplicaSet has no rollout: every replica runs the current template.
	w.UpdatedReplicas, w.AvailableReplicas = r.Status.Replicas, r.Status.AvailableReplicas
	for _, x := range r.Status.Conditions {
		w.Conditions = append(w.Conditions, conditionOf(string(x.Type), string(x.Status), x.Reason, x.Message, x.LastTransitionTime))
	}
	return w
}

func jobWorkload(c string, j *batchv1.Job) fleet.Workload {
	w := workloadBase(c, "Job", j.ObjectMeta, j.Spec.Template)
	w.Replicas = replicasOr1(j.Spec.Parallelism)
	w.StatusReplicas = j.Status.Active
	if j.Status.Ready != nil {
		w.ReadyReplicas = *j.Status.Ready
	}
	w.Paused = j.Spec.Suspend != nil && *j.Spec.Suspend
	for _, x := range j.Status.Conditions {
		w.Conditions = append(w.Conditions, conditionOf(string(x.Type), string(x.Status), x.Reason, x.Message, x.LastTransitionTime))
	}
	return w
}

func cronJobWorkload(c string, cj *batchv1.CronJob) fleet.Workload {
	w := workloadBase(c, "CronJob", cj.ObjectMeta, cj.Spec.JobTemplate.Spec.Template)
	w.Paused = cj.Spec.Suspend != nil && *cj.Spec.Suspend
	return w
}

// templateContainers converts a pod template's containers, init containers first.
func templateContainers(spec corev1.PodSpec) []fleet.Container {
	var out []fleet.Container
	for _, c := range spec.InitContainers {
		out = append(out, FleetContainer(c, true))
	}
	for _, c := range spec.Containers {
		out = append(out, FleetContainer(c, false))
	}
	return out
}

// FleetContainer is the model's view of a pod template container, in the canonical text the
// model compares: literal env values masked as MaskedEnvValue does; valueFrom env as
// "valueFrom:secretKeyRef/<name>/<key>", "valueFrom:configMapKeyRef/<name>/<key>",
// "valueFrom:fieldRef/<path>" or "valueFrom:resourceFieldRef/<container>/<resource>";
// resources as "requests.cpu", "limits.memory", … with canonical quantities ("1000m" → "1").
// Containers rendered from git must go through the same function to compare equal.
func FleetContainer(c corev1.Container, init bool) fleet.Container {
	out := fleet.Container{Name: c.Name, Image: c.Image, Init: init}
	if len(c.Env) > 0 {
		out.Env = make(map[string]string, len(c.Env))
		for _, e := range c.Env {
			out.Env[e.Name] = envText(e)
		}
	}
	add := func(prefix string, l corev1.ResourceList) {
		for name, q := range l {
			if out.Resources == nil {
				out.Resources = map[string]string{}
			}
			out.Resources[prefix+string(name)] = q.String()
		}
	}
	add("requests.", c.Resources.Requests)
	add("limits.", c.Resources.Limits)
	return out
}

func envText(e corev1.EnvVar) string {
	f := e.ValueFrom
	switch {
	case f == nil:
		return MaskedEnvValue(e.Name, e.Value)
	case f.SecretKeyRef != nil:
		return "valueFrom:secretKeyRef/" + f.SecretKeyRef.Name + "/" + f.SecretKeyRef.Key
	case f.ConfigMapKeyRef != nil:
		return "valueFrom:configMapKeyRef/" + f.ConfigMapKeyRef.Name + "/" + f.ConfigMapKeyRef.Key
	case f.FieldRef != nil:
		return "valueFrom:fieldRef/" + f.FieldRef.FieldPath
	case f.ResourceFieldRef != nil:
		return "valueFrom:resourceFieldRef/" + f.ResourceFieldRef.ContainerName + "/" + f.ResourceFieldRef.Resource
	}
	return "valueFrom:other"
}

// Pod converts a cached pod.
func Pod(cluster string, p *corev1.Pod) fleet.Pod {
	out := fleet.Pod{
		Cluster: cluster, Namespace: p.Namespace, Name: p.Name,
		Owner:         controllerRef(p.Namespace, p.OwnerReferences),
		Phase:         string(p.Status.Phase),
		RestartPolicy: string(p.Spec.RestartPolicy),
		Message:       p.Status.Message,
		Deleting:      p.DeletionTimestamp != nil,
		Created:       p.CreationTimestamp.Time,
		NodeName:      p.Spec.NodeName,
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			out.Ready = c.Status == corev1.ConditionTrue
		}
	}
	statuses := func(cs []corev1.ContainerStatus, init bool) {
		for _, c := range cs {
			out.Containers = append(out.Containers, containerStatus(c, init))
		}
	}
	statuses(p.Status.InitContainerStatuses, true)
	statuses(p.Status.ContainerStatuses, false)
	if len(p.Status.ContainerStatuses) == 0 {
		// Not started yet (Pending): name the containers with their images so the pod still
		// says what it will run.
		for _, c := range p.Spec.Containers {
			out.Containers = append(out.Containers, fleet.ContainerStatus{Name: c.Name, Image: c.Image})
		}
	}
	return out
}

func containerStatus(c corev1.ContainerStatus, init bool) fleet.ContainerStatus {
	out := fleet.ContainerStatus{Name: c.Name, Image: c.Image, Init: init, Ready: c.Ready,
		RestartCount: c.RestartCount, Running: c.State.Running != nil}
	if w := c.State.Waiting; w != nil {
		out.WaitingReason, out.WaitingMessage = w.Reason, w.Message
	}
	if t := c.State.Terminated; t != nil {
		out.TerminatedReason = t.Reason
	}
	if t := c.LastTerminationState.Terminated; t != nil {
		out.LastTerminated = true
		out.LastTerminatedReason, out.LastTerminatedExitCode = t.Reason, t.ExitCode
	}
	return out
}

// Event converts a cached Warning event.
func Event(cluster string, e *corev1.Event) fleet.Event {
	count := e.Count
	if e.Series != nil && e.Series.Count > count {
		count = e.Series.Count
	}
	if count == 0 {
		count = 1
	}
	ns := e.InvolvedObject.Namespace
	if ns == "" {
		ns = e.Namespace
	}
	return fleet.Event{Cluster: cluster, Namespace: ns, InvolvedKind: e.InvolvedObject.Kind,
		InvolvedName: e.InvolvedObject.Name, Reason: e.Reason, Message: e.Message, Count: count,
		Last: EventTime(e).Time}
}

// Unstructured helpers: a missing or mistyped field reads as its zero value, since a
// half-written status must not stop the model.

func str(obj map[string]any, path ...string) string {
	v, _, _ := unstructured.NestedFieldNoCopy(obj, path...)
	s, _ := v.(string)
	return s
}

func boolean(obj map[string]any, path ...string) bool {
	v, _, _ := unstructured.NestedFieldNoCopy(obj, path...)
	b, _ := v.(bool)
	return b
}

func list(obj map[string]any, path ...string) []any {
	v, _, _ := unstructured.NestedFieldNoCopy(obj, path...)
	l, _ := v.([]any)
	return l
}

func mapAt(obj map[string]any, path ...string) map[string]any {
	v, _, _ := unstructured.NestedFieldNoCopy(obj, path...)
	return object(v)
}

func object(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func stringList(obj map[string]any, path ...string) []string {
	var out []string
	for _, v := range list(obj, path...) {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

func conditions(obj map[string]any, path ...string) []fleet.Condition {
	var out []fleet.Condition
	for _, v := range list(obj, path...) {
		c := object(v)
		if c == nil {
			continue
		}
		last := str(c, "lastTransitionTime")
		out = append(out, fleet.Condition{Type: str(c, "type"), Status: str(c, "status"),
			Reason: str(c, "reason"), Message: str(c, "message"), Last: parseTime(last)})
	}
	return out
}

// ArgoApp converts a cached Argo CD Application living on cluster.
func ArgoApp(cluster string, u *unstructured.Unstructured) fleet.ArgoApp {
	o := u.Object
	a := fleet.ArgoApp{
		Cluster: cluster, Namespace: u.GetNamespace(), Name: u.GetName(), Labels: u.GetLabels(),
		DestName:         str(o, "spec", "destination", "name"),
		DestServer:       str(o, "spec", "destination", "server"),
		DestNamespace:    str(o, "spec", "destination", "namespace"),
		SyncStatus:       str(o, "status", "sync", "status"),
		SyncRevision:     str(o, "status", "sync", "revision"),
		HealthStatus:     str(o, "status", "health", "status"),
		HealthMessage:    str(o, "status", "health", "message"),
		OperationPhase:   str(o, "status", "operationState", "phase"),
		OperationMessage: str(o, "status", "operationState", "message"),
		SyncedRevision:   str(o, "status", "operationState", "syncResult", "revision"),
		Images:           stringList(o, "status", "summary", "images"),
	}
	if a.SyncRevision == "" {
		if revs := stringList(o, "status", "sync", "revisions"); len(revs) > 0 {
			a.SyncRevision = revs[0]
		}
	}
	if a.SyncedRevision == "" {
		if revs := stringList(o, "status", "operationState", "syncResult", "revisions"); len(revs) > 0 {
			a.SyncedRevision = revs[0]
		}
	}
	src := mapAt(o, "spec", "source")
	if src == nil {
		// Multi-source: the first source that renders something (a path or a chart); the
		// others only provide values files through refs.
		for _, v := range list(o, "spec", "sources") {
			if s := object(v); s != nil && (str(s, "path") != "" || str(s, "chart") != "") {
				src = s
				break
			}
		}
	}
	if src != nil {
		a.RepoURL, a.Path, a.Chart = str(src, "repoURL"), str(src, "path"), str(src, "chart")
		a.TargetRevision = str(src, "targetRevision")
		a.ValueFiles = stringList(src, "helm", "valueFiles")
		a.HelmReleaseName = str(src, "helm", "releaseName")
	}
	for _, v := range list(o, "status", "conditions") {
		c := object(v)
		if c == nil {
			continue
		}
		a.Conditions = append(a.Conditions, fleet.Condition{Type: str(c, "type"), Message: str(c, "message"),
			Last: parseTime(str(c, "lastTransitionTime"))})
	}
	for _, v := range list(o, "status", "resources") {
		r := object(v)
		if r == nil {
			continue
		}
		a.Resources = append(a.Resources, fleet.ResourceRef{
			Group: str(r, "group"), Kind: str(r, "kind"), Namespace: str(r, "namespace"), Name: str(r, "name"),
			Status: str(r, "status"), Health: str(r, "health", "status"), HealthMessage: str(r, "health", "message"),
			RequiresPruning: boolean(r, "requiresPruning"),
		})
	}
	return a
}

type repoKey struct{ namespace, name string }

type repoInfo struct{ url, branch string }

func gitRepositories(us []*unstructured.Unstructured) map[repoKey]repoInfo {
	out := make(map[repoKey]repoInfo, len(us))
	for _, u := range us {
		out[repoKey{u.GetNamespace(), u.GetName()}] = repoInfo{
			url: str(u.Object, "spec", "url"), branch: str(u.Object, "spec", "ref", "branch")}
	}
	return out
}

// fluxObject converts a cached Flux Kustomization or HelmRelease living on cluster; repos are
// the cluster's GitRepositories, which give the source's URL and branch.
func fluxObject(cluster string, kind fleet.FluxKind, u *unstructured.Unstructured, repos map[repoKey]repoInfo) fleet.FluxObject {
	o := u.Object
	f := fleet.FluxObject{
		Kind: kind, Cluster: cluster, Namespace: u.GetNamespace(), Name: u.GetName(), Labels: u.GetLabels(),
		Suspended:             boolean(o, "spec", "suspend"),
		TargetNamespace:       str(o, "spec", "targetNamespace"),
		LastAppliedRevision:   str(o, "status", "lastAppliedRevision"),
		LastAttemptedRevision: str(o, "status", "lastAttemptedRevision"),
		Conditions:            conditions(o, "status", "conditions"),
	}
	var source map[string]any
	switch kind {
	case fleet.FluxKustomization:
		f.Path = str(o, "spec", "path")
		source = mapAt(o, "spec", "sourceRef")
		for _, v := range list(o, "status", "inventory", "entries") {
			if ref, ok := fleet.ParseInventoryID(str(object(v), "id")); ok {
				f.Inventory = append(f.Inventory, ref)
			}
		}
	case fleet.FluxHelmRelease:
		f.HelmReleaseName = str(o, "spec", "releaseName")
		f.Chart = str(o, "spec", "chart", "spec", "chart")
		f.ValueFiles = stringList(o, "spec", "chart", "spec", "valuesFiles")
		source = mapAt(o, "spec", "chart", "spec", "sourceRef")
		if source == nil {
			source = mapAt(o, "spec", "chartRef")
		}
		if f.LastAppliedRevision == "" {
			// helm.toolkit.fluxcd.io/v2 has no lastAppliedRevision: the chart version of the
			// newest deployed release is what runs.
			for _, v := range list(o, "status", "history") {
				if h := object(v); str(h, "status") == "deployed" {
					f.LastAppliedRevision = str(h, "chartVersion")
					break
				}
			}
		}
	}
	if source != nil {
		f.SourceName = str(source, "name")
		if str(source, "kind") == "GitRepository" {
			ns := str(source, "namespace")
			if ns == "" {
				ns = f.Namespace
			}
			if r, ok := repos[repoKey{ns, f.SourceName}]; ok {
				f.RepoURL, f.Branch = r.url, r.branch
			}
		}
	}
	for i := range f.Conditions {
		c := f.Conditions[i]
		switch c.Type {
		case "Ready":
			f.Ready = &f.Conditions[i]
		case "Reconciling":
			f.Reconciling = c.Status == "True"
		case "Stalled":
			f.Stalled = c.Status == "True"
		}
	}
	return f
}
