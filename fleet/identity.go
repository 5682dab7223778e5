package fleet

import "strings"

// Labels and annotations fleetdeck reads to tie objects to applications.
const (
	// LabelApp, set on an Argo CD Application or a Flux object, names the fleetdeck
	// application explicitly and overrides the naming rules below.
	LabelApp = "fleetdeck.io/app"

	ArgoTrackingAnnotation = "argocd.argoproj.io/tracking-id"
	ArgoInstanceLabel      = "app.kubernetes.io/instance"

	FluxKustomizeNameLabel      = "kustomize.toolkit.fluxcd.io/name"
	FluxKustomizeNamespaceLabel = "kustomize.toolkit.fluxcd.io/namespace"
	FluxHelmNameLabel           = "helm.toolkit.fluxcd.io/name"
	FluxHelmNamespaceLabel      = "helm.toolkit.fluxcd.io/namespace"

	// InClusterServer and InClusterName are Argo CD's names for the cluster it runs on.
	InClusterServer = "https://kubernetes.default.svc"
	InClusterName   = "in-cluster"
)

// ArgoDestination resolves the fleetdeck cluster an Argo CD Application deploys to:
// in-cluster destinations → the cluster the Application lives on; else the destination name,
// then the server URL, looked up in aliases; else a destination name equal to a configured
// cluster; else the destination name or server as written (a cluster fleetdeck does not watch).
func ArgoDestination(a ArgoApp, aliases map[string]string, clusters []ClusterState) string {
	if a.DestName == InClusterName || (a.DestName == "" && strings.TrimSuffix(a.DestServer, "/") == InClusterServer) {
		return a.Cluster
	}
	if a.DestName != "" {
		if c, ok := aliases[a.DestName]; ok {
			return c
		}
	}
	if a.DestServer != "" {
		if c, ok := aliases[a.DestServer]; ok {
			return c
		}
		if c, ok := aliases[strings.TrimSuffix(a.DestServer, "/")]; ok {
			return c
		}
	}
	if a.DestName != "" {
		return a.DestName
	}
	for _, c := range clusters {
		if c.Name == a.DestServer {
			return c.Name
		}
	}
	return a.DestServer
}

// AppNameOfArgo is the fleetdeck application an Argo CD Application belongs to: the
// fleetdeck.io/app label when set; else the Application's name with the destination cluster
// stripped as a `-<cluster>` suffix or a `<cluster>-` prefix (the names an ApplicationSet with a
// cluster generator produces, e.g. "payments-api-prod-us"); else the Application's name.
// app.kubernetes.io/part-of is deliberately not used: it names larger systems, not one app.
func AppNameOfArgo(a ArgoApp, destCluster string) string {
	if n := a.Labels[LabelApp]; n != "" {
		return n
	}
	if destCluster != "" {
		if n, ok := strings.CutSuffix(a.Name, "-"+destCluster); ok && n != "" {
			return n
		}
		if n, ok := strings.CutPrefix(a.Name, destCluster+"-"); ok && n != "" {
			return n
		}
	}
	return a.Name
}

// AppNameOfFlux is the fleetdeck application a Flux object belongs to: the fleetdeck.io/app
// label when set, else the object's name (Flux applies to its own cluster, so names need no
// cluster part).
func AppNameOfFlux(f FluxObject) string {
	if n := f.Labels[LabelApp]; n != "" {
		return n
	}
	return f.Name
}

// ArgoTracks reports whether a live workload is managed by the Argo CD Application named
// appName (in namespace appNamespace): its tracking-id annotation names the app and matches the
// object itself (a copied annotation does not count), or, for label tracking, its
// app.kubernetes.io/instance label equals the app name.
func ArgoTracks(w *Workload, appName, appNamespace string) bool {
	if id := w.Annotations[ArgoTrackingAnnotation]; id != "" {
		app, ref, ok := parseTrackingID(id)
		if !ok || (app != appName && app != appNamespace+"_"+appName) {
			return false
		}
		return ref.Kind == w.Kind && ref.Name == w.Name && (ref.Namespace == "" || ref.Namespace == w.Namespace)
	}
	return w.Labels[ArgoInstanceLabel] == appName
}

// parseTrackingID reads `<app>:<group>/<kind>:<namespace>/<name>`.
func parseTrackingID(id string) (app string, ref ObjectRef, ok bool) {
	parts := strings.SplitN(id, ":", 3)
	if len(parts) != 3 {
		return "", ObjectRef{}, false
	}
	_, kind, ok1 := strings.Cut(parts[1], "/")
	ns, name, ok2 := strings.Cut(parts[2], "/")
	if !ok1 || !ok2 {
		return "", ObjectRef{}, false
	}
	return parts[0], ObjectRef{Kind: kind, Namespace: ns, Name: name}, true
}

// trackingApp returns the app part of a workload's tracking id, without namespace prefix.
func trackingApp(w *Workload) string {
	id := w.Annotations[ArgoTrackingAnnotation]
	if id == "" {
		return ""
	}
	app, ref, ok := parseTrackingID(id)
	if !ok || ref.Kind != w.Kind || ref.Name != w.Name || (ref.Namespace != "" && ref.Namespace != w.Namespace) {
		return ""
	}
	if _, n, ok := strings.Cut(app, "_"); ok {
		return n
	}
	return app
}

// FluxManages reports whether a live workload carries the labels Flux puts on objects applied
// by this Kustomization or HelmRelease.
func FluxManages(w *Workload, f FluxObject) bool {
	nameKey, nsKey := FluxKustomizeNameLabel, FluxKustomizeNamespaceLabel
	if f.Kind == FluxHelmRelease {
		nameKey, nsKey = FluxHelmNameLabel, FluxHelmNamespaceLabel
	}
	return w.Labels[nameKey] == f.Name && w.Labels[nsKey] == f.Namespace
}

// ResolvePodOwners rewrites, in place, pod owners that are ReplicaSets into the Deployment
// owning that ReplicaSet. When the ReplicaSet is not among replicaSets, a Deployment among
// workloads named like the ReplicaSet minus its pod-template-hash suffix is used instead.
// Build does the same on its own; adapters may call this to show pods outside the model.
func ResolvePodOwners(pods []Pod, replicaSets []ReplicaSet, workloads []Workload) {
	rsOwner := replicaSetOwners(replicaSets)
	deployments := make(map[wkey]bool)
	for _, w := range workloads {
		if w.Kind == "Deployment" {
			deployments[wkey{w.Cluster, w.Ref()}] = true
		}
	}
	for i := range pods {
		if ref, ok := podOwner(&pods[i], rsOwner, deployments); ok {
			pods[i].Owner = &ObjectRef{Kind: ref.Kind, Namespace: ref.Namespace, Name: ref.Name}
		}
	}
}

func replicaSetOwners(replicaSets []ReplicaSet) map[wkey]ObjectRef {
	out := make(map[wkey]ObjectRef, len(replicaSets))
	for _, rs := range replicaSets {
		if rs.Owner != nil {
			out[wkey{rs.Cluster, ObjectRef{"ReplicaSet", rs.Namespace, rs.Name}}] =
				ObjectRef{Kind: rs.Owner.Kind, Namespace: rs.Namespace, Name: rs.Owner.Name}
		}
	}
	return out
}

// podOwner is the workload a pod belongs to, in the pod's namespace, with ReplicaSets resolved
// to their Deployment.
func podOwner(p *Pod, rsOwner map[wkey]ObjectRef, deployments map[wkey]bool) (ObjectRef, bool) {
	if p.Owner == nil {
		return ObjectRef{}, false
	}
	ref := ObjectRef{Kind: p.Owner.Kind, Namespace: p.Namespace, Name: p.Owner.Name}
	if ref.Kind != "ReplicaSet" {
		return ref, true
	}
	if o, ok := rsOwner[wkey{p.Cluster, ref}]; ok {
		return o, true
	}
	if j := strings.LastIndex(ref.Name, "-"); j > 0 {
		d := ObjectRef{Kind: "Deployment", Namespace: p.Namespace, Name: ref.Name[:j]}
		if deployments[wkey{p.Cluster, d}] {
			return d, true
		}
	}
	return ref, true
}
