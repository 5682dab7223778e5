package fleet

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// wkey identifies a live object across the fleet.
type wkey struct {
	cluster string
	ref     ObjectRef
}

// nameKey is a cluster-scoped name used by tracking and label indexes.
type nameKey struct {
	cluster, a, b string
}

// index holds the live objects of a snapshot, indexed once so that tying them to instances
// costs map look-ups rather than scans.
type index struct {
	clusters     map[string]ClusterState
	clusterOrder map[string]int

	workloads    map[wkey]*Workload
	children     map[wkey][]*Workload    // workloads owned by another workload (Job of a CronJob)
	byTracking   map[nameKey][]*Workload // cluster, Argo app name from tracking-id
	byInstance   map[nameKey][]*Workload // cluster, app.kubernetes.io/instance
	byKustomize  map[nameKey][]*Workload // cluster, Flux Kustomization name, namespace
	byHelm       map[nameKey][]*Workload // cluster, HelmRelease name, namespace
	podsByOwner  map[wkey][]*Pod
	eventsByObj  map[wkey][]*Event
	replicaOwner map[wkey]ObjectRef // ReplicaSet → its Deployment, for events
}

func newIndex(s *Snapshot) *index {
	ix := &index{
		clusters:     make(map[string]ClusterState, len(s.Clusters)),
		clusterOrder: make(map[string]int, len(s.Clusters)),
		workloads:    make(map[wkey]*Workload, len(s.Workloads)),
		children:     make(map[wkey][]*Workload),
		byTracking:   make(map[nameKey][]*Workload),
		byInstance:   make(map[nameKey][]*Workload),
		byKustomize:  make(map[nameKey][]*Workload),
		byHelm:       make(map[nameKey][]*Workload),
		podsByOwner:  make(map[wkey][]*Pod, len(s.Workloads)),
		eventsByObj:  make(map[wkey][]*Event),
	}
	for i, c := range s.Clusters {
		ix.clusters[c.Name] = c
		ix.clusterOrder[c.Name] = i
	}
	deployments := make(map[wkey]bool)
	for i := range s.Workloads {
		w := &s.Workloads[i]
		k := wkey{w.Cluster, w.Ref()}
		ix.workloads[k] = w
		if w.Kind == "Deployment" {
			deployments[k] = true
		}
		if w.Owner != nil {
			ok := wkey{w.Cluster, ObjectRef{Kind: w.Owner.Kind, Namespace: w.Namespace, Name: w.Owner.Name}}
			ix.children[ok] = append(ix.children[ok], w)
		}
		if app := trackingApp(w); app != "" {
			nk := nameKey{w.Cluster, app, ""}
			ix.byTracking[nk] = append(ix.byTracking[nk], w)
		} else if app := w.Labels[ArgoInstanceLabel]; app != "" && w.Annotations[ArgoTrackingAnnotation] == "" {
			nk := nameKey{w.Cluster, app, ""}
			ix.byInstance[nk] = append(ix.byInstance[nk], w)
		}
		if n := w.Labels[FluxKustomizeNameLabel]; n != "" {
			nk := nameKey{w.Cluster, n, w.Labels[FluxKustomizeNamespaceLabel]}
			ix.byKustomize[nk] = append(ix.byKustomize[nk], w)
		}
		if n := w.Labels[FluxHelmNameLabel]; n != "" {
			nk := nameKey{w.Cluster, n, w.Labels[FluxHelmNamespaceLabel]}
			ix.byHelm[nk] = append(ix.byHelm[nk], w)
		}
	}
	ix.replicaOwner = replicaSetOwners(s.ReplicaSets)
	var podOwners map[wkey]wkey // only needed to file events under workloads
	if len(s.Events) > 0 {
		podOwners = make(map[wkey]wkey, len(s.Pods))
	}
	// Listed pods come sorted by namespace and name, so siblings are adjacent: remembering the
	// last owner saves the ReplicaSet look-up for most pods.
	var lastOwner *ObjectRef
	var lastCluster, lastNS string
	var last wkey
	for i := range s.Pods {
		p := &s.Pods[i]
		if p.Owner == nil {
			continue
		}
		if lastOwner == nil || *p.Owner != *lastOwner || p.Cluster != lastCluster || p.Namespace != lastNS {
			ref, _ := podOwner(p, ix.replicaOwner, deployments)
			lastOwner, lastCluster, lastNS, last = p.Owner, p.Cluster, p.Namespace, wkey{p.Cluster, ref}
		}
		ok2 := last
		ix.podsByOwner[ok2] = append(ix.podsByOwner[ok2], p)
		if podOwners != nil {
			podOwners[wkey{p.Cluster, ObjectRef{"Pod", p.Namespace, p.Name}}] = ok2
		}
	}
	// Events about pods and ReplicaSets are filed under their workload, so an instance collects
	// them without knowing every pod and ReplicaSet name.
	for i := range s.Events {
		e := &s.Events[i]
		k := wkey{e.Cluster, ObjectRef{e.InvolvedKind, e.Namespace, e.InvolvedName}}
		switch e.InvolvedKind {
		case "Pod":
			if o, ok := podOwners[k]; ok {
				k = o
			}
		case "ReplicaSet":
			if o, ok := ix.replicaOwner[k]; ok {
				k = wkey{e.Cluster, o}
			} else if j := strings.LastIndex(e.InvolvedName, "-"); j > 0 {
				if d := (wkey{e.Cluster, ObjectRef{"Deployment", e.Namespace, e.InvolvedName[:j]}}); deployments[d] {
					k = d
				}
			}
		}
		ix.eventsByObj[k] = append(ix.eventsByObj[k], e)
	}
	return ix
}

// spec is one instance before evaluation.
type spec struct {
	app     string
	cluster string
	src     Source
	argo    *ArgoApp
	flux    *FluxObject
	decl    *DeclaredApp
}

// InstanceSource tells gitstate what to read for one instance: Build looks the result up in
// Snapshot.Git under Key.
type InstanceSource struct {
	Key        GitKey
	Operator   Operator
	RepoURL    string
	Path       string
	Chart      string
	Revision   string // Argo CD targetRevision, Flux source branch or the declared branch
	ValueFiles []string
	// Namespace is the namespace the operator gives rendered objects: Argo CD's destination
	// namespace, a HelmRelease's release namespace, a Kustomization's targetNamespace, or the
	// declared namespace. Objects naming a namespace keep it unless ForceNamespace is set.
	Namespace string
	// ForceNamespace says that Namespace replaces the namespace of every namespaced object
	// (a Flux Kustomization's spec.targetNamespace), not only of those naming none.
	ForceNamespace bool
	// ReleaseName is the Helm release name the operator renders a chart with (ArgoApp and
	// FluxObject ReleaseName); "" for declared apps, whose configuration decides.
	ReleaseName string
}

// InstanceSources lists the instances Build will produce, with their git sources, so that
// gitstate can render each one before Build runs.
func InstanceSources(s Snapshot) []InstanceSource {
	specs := instanceSpecs(&s)
	out := make([]InstanceSource, 0, len(specs))
	for _, sp := range specs {
		is := InstanceSource{Key: GitKey{sp.app, sp.cluster}, Operator: sp.src.Operator}
		switch {
		case sp.argo != nil:
			a := sp.argo
			is.RepoURL, is.Path, is.Chart, is.Revision, is.ValueFiles, is.Namespace =
				a.RepoURL, a.Path, a.Chart, a.TargetRevision, a.ValueFiles, a.DestNamespace
			is.ReleaseName = a.ReleaseName()
		case sp.flux != nil:
			f := sp.flux
			is.RepoURL, is.Path, is.Chart, is.Revision, is.ValueFiles, is.Namespace =
				f.RepoURL, f.Path, f.Chart, f.Branch, f.ValueFiles, f.DestNamespace()
			is.ForceNamespace = f.Kind == FluxKustomization && f.TargetNamespace != ""
			is.ReleaseName = f.ReleaseName()
		case sp.decl != nil:
			d := sp.decl
			is.RepoURL, is.Path, is.Revision, is.Namespace = d.RepoURL, d.Path, d.Branch, d.Namespace
		}
		out = append(out, is)
	}
	return out
}

// instanceSpecs applies the identity rules: Argo CD and Flux objects first, then declared apps
// on clusters where no operator instance of the same name exists.
func instanceSpecs(s *Snapshot) []spec {
	var out []spec
	taken := make(map[GitKey]bool)
	for i := range s.ArgoApps {
		a := &s.ArgoApps[i]
		dest := ArgoDestination(*a, s.ClusterAliases, s.Clusters)
		name := AppNameOfArgo(*a, dest)
		out = append(out, spec{app: name, cluster: dest, argo: a, src: Source{
			Operator: OperatorArgoCD, Kind: "Application", Cluster: a.Cluster, Namespace: a.Namespace, Name: a.Name}})
		taken[GitKey{name, dest}] = true
	}
	for i := range s.FluxObjects {
		f := &s.FluxObjects[i]
		name := AppNameOfFlux(*f)
		out = append(out, spec{app: name, cluster: f.Cluster, flux: f, src: Source{
			Operator: OperatorFlux, Kind: string(f.Kind), Cluster: f.Cluster, Namespace: f.Namespace, Name: f.Name}})
		taken[GitKey{name, f.Cluster}] = true
	}
	for i := range s.Declared {
		d := &s.Declared[i]
		for _, c := range d.Clusters {
			if taken[GitKey{d.Name, c}] {
				continue
			}
			taken[GitKey{d.Name, c}] = true
			out = append(out, spec{app: d.Name, cluster: c, decl: d, src: Source{Operator: OperatorDeclared, Cluster: c}})
		}
	}
	return out
}

// Build merges a snapshot into the fleet model. It never fails: what cannot be known is
// Unknown, with a reason. The model shares slices (containers, conditions) with the snapshot:
// treat both as read-only once built.
func Build(s Snapshot) Model {
	ix := newIndex(&s)

	specs := instanceSpecs(&s)
	byApp := make(map[string][]Instance)
	var names []string
	for _, sp := range specs {
		in := evalInstance(&s, ix, sp)
		if _, ok := byApp[sp.app]; !ok {
			names = append(names, sp.app)
		}
		byApp[sp.app] = append(byApp[sp.app], in)
	}

	m := Model{GeneratedAt: s.Now, Clusters: append([]ClusterState(nil), s.Clusters...)}
	m.Apps = make([]Application, 0, len(names))
	for _, n := range names {
		m.Apps = append(m.Apps, newApplication(n, byApp[n], ix))
	}
	slices.SortStableFunc(m.Apps, func(a, b Application) int {
		if a.Severity != b.Severity {
			return cmp.Compare(b.Severity, a.Severity)
		}
		return strings.Compare(a.Name, b.Name)
	})
	for _, a := range m.Apps {
		m.Severity = max(m.Severity, a.Severity)
	}
	for _, c := range m.Clusters {
		m.Severity = max(m.Severity, ClusterSeverity(c))
	}
	return m
}

// ClusterSeverity: unreachable → Warning; connecting, slow or forbidden resources → Info.
func ClusterSeverity(c ClusterState) Severity {
	switch {
	case c.State == ConnUnreachable:
		return SeverityWarning
	case c.State == ConnConnecting, c.State == ConnSlow, len(c.Forbidden) > 0:
		return SeverityInfo
	}
	return SeverityOK
}

func newApplication(name string, ins []Instance, ix *index) Application {
	slices.SortStableFunc(ins, func(a, b Instance) int {
		if a.Severity != b.Severity {
			return cmp.Compare(b.Severity, a.Severity)
		}
		oa, oka := ix.clusterOrder[a.Cluster]
		ob, okb := ix.clusterOrder[b.Cluster]
		switch {
		case oka != okb && oka:
			return -1
		case oka != okb:
			return 1
		case oa != ob:
			return cmp.Compare(oa, ob)
		}
		return cmp.Or(strings.Compare(a.Cluster, b.Cluster), strings.Compare(string(a.Source.Operator), string(b.Source.Operator)))
	})
	app := Application{Name: name, Instances: ins, Sync: Synced, Health: Healthy}
	anyUnknown := false
	for i := range ins {
		in := &ins[i]
		app.Severity = max(app.Severity, in.Severity)
		if IsWorse(app.Health, in.Health.Status) {
			app.Health = in.Health.Status
		}
		switch in.Sync.Status {
		case OutOfSync:
			app.Sync = OutOfSync
			app.Summary.OutOfSync++
		case Synced:
		default:
			anyUnknown = true
		}
		if in.Health.Status == Healthy {
			app.Summary.Healthy++
		}
		if in.Drifted() {
			app.Summary.Drifted++
		}
		app.Summary.Workloads += len(in.Workloads)
		for _, w := range in.Workloads {
			for _, p := range w.Pods {
				app.Summary.Pods++
				if p.Ready {
					app.Summary.ReadyPods++
				}
				app.Summary.Restarts += p.Restarts
			}
		}
	}
	if app.Sync != OutOfSync && anyUnknown {
		app.Sync = SyncUnknown
	}
	app.Summary.Instances = len(ins)
	return app
}

// members collects the live workloads of an instance on its destination cluster.
func members(ix *index, sp spec, git *GitFacts) []*Workload {
	// Instances hold a handful of workloads: a linear de-duplication beats a map here.
	out := make([]*Workload, 0, 4)
	add := func(ws ...*Workload) {
	next:
		for _, w := range ws {
			if w == nil {
				continue
			}
			for _, o := range out {
				if o == w {
					continue next
				}
			}
			out = append(out, w)
		}
	}
	c := sp.cluster
	switch {
	case sp.argo != nil:
		a := sp.argo
		for _, r := range a.Resources {
			add(ix.workloads[wkey{c, ObjectRef{r.Kind, r.Namespace, r.Name}}])
		}
		add(ix.byTracking[nameKey{c, a.Name, ""}]...)
		add(ix.byInstance[nameKey{c, a.Name, ""}]...)
	case sp.flux != nil:
		f := sp.flux
		if f.Kind == FluxHelmRelease {
			add(ix.byHelm[nameKey{c, f.Name, f.Namespace}]...)
		} else {
			add(ix.byKustomize[nameKey{c, f.Name, f.Namespace}]...)
		}
		for _, r := range f.Inventory {
			add(ix.workloads[wkey{c, r}])
		}
	case sp.decl != nil && git != nil:
		for _, d := range declaredRefs(git) {
			add(ix.workloads[wkey{c, d.Ref()}])
		}
	}
	// Workloads owned by members (the Jobs of a CronJob) belong to the instance too.
	for i := 0; i < len(out); i++ {
		add(ix.children[wkey{c, out[i].Ref()}]...)
	}
	if len(out) > 1 {
		slices.SortFunc(out, func(a, b *Workload) int { return compareRef(a.Ref(), b.Ref()) })
	}
	return out
}

func compareRef(a, b ObjectRef) int {
	return cmp.Or(strings.Compare(a.Kind, b.Kind), strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
}

// declaredRefs are the objects that make up a declared app: those rendered at head or, when
// that render failed, those of the newest older render available, so that a broken commit
// does not hide the live objects.
func declaredRefs(g *GitFacts) []DesiredObject {
	if len(g.Desired) > 0 || g.RenderError == "" {
		return g.Desired
	}
	for _, c := range g.PathCommits {
		if objs, ok := g.DesiredAt[c]; ok && len(objs) > 0 {
			return objs
		}
	}
	return nil
}

// evalInstance applies every rule to one instance.
func evalInstance(s *Snapshot, ix *index, sp spec) Instance {
	in := Instance{App: sp.app, Cluster: sp.cluster, Source: sp.src}
	cs, configured := ix.clusters[sp.cluster]
	if !configured {
		cs = ClusterState{Name: sp.cluster}
	}
	in.ClusterState = cs
	var git *GitFacts
	if g, ok := s.Git[GitKey{sp.app, sp.cluster}]; ok {
		git = &g
		in.RepoURL, in.Path, in.Branch, in.RenderError = g.Repo, g.Path, g.Branch, g.RenderError
	}
	switch {
	case sp.argo != nil:
		in.Namespace = sp.argo.DestNamespace
		in.RepoURL = firstNonEmpty(sp.argo.RepoURL, in.RepoURL)
		in.Path = firstNonEmpty(sp.argo.Path, sp.argo.Chart, in.Path)
		in.Branch = firstNonEmpty(in.Branch, sp.argo.TargetRevision)
		in.Conditions = sp.argo.Conditions
		in.Message = firstNonEmpty(sp.argo.OperationMessage, sp.argo.HealthMessage)
	case sp.flux != nil:
		in.Namespace = sp.flux.DestNamespace()
		in.RepoURL = firstNonEmpty(in.RepoURL, sp.flux.RepoURL)
		in.Path = firstNonEmpty(in.Path, sp.flux.Path, sp.flux.Chart)
		in.Branch = firstNonEmpty(in.Branch, sp.flux.Branch)
		in.Conditions = sp.flux.Conditions
		if sp.flux.Ready != nil {
			in.Message = sp.flux.Ready.Message
		}
	case sp.decl != nil:
		in.Namespace = sp.decl.Namespace
		in.RepoURL = firstNonEmpty(in.RepoURL, sp.decl.RepoURL)
		in.Path = firstNonEmpty(in.Path, sp.decl.Path)
		in.Branch = firstNonEmpty(in.Branch, sp.decl.Branch)
	}

	destLive := cs.Live()
	ws := members(ix, sp, git)
	liveMap := make(map[ObjectRef]*Workload, len(ws))
	for _, w := range ws {
		liveMap[w.Ref()] = w
	}
	var desired []DesiredObject
	if git != nil && git.RenderError == "" {
		desired = git.Desired
	}

	// Workloads and pods, with their own health. liveHealth folds pods in (what the rows show);
	// objectHealth applies only each kind's rule to the objects git renders, as Argo CD judges
	// an application: a crash loop shows in the rows and the severity at once, while the
	// health reported for the instance matches what an operator would report.
	var liveHealth, objectHealth Health
	in.Workloads = make([]WorkloadState, 0, len(ws))
	for _, w := range ws {
		st := workloadState(ix, w)
		in.Workloads = append(in.Workloads, st)
		liveHealth = Worst(liveHealth, st.Health)
		objectHealth = Worst(objectHealth, HealthOfWorkload(*w))
	}
	if len(ws) > 0 && objectHealth.Status == "" {
		// Only kinds without a rule (a CronJob that is not suspended): Argo CD calls that Healthy.
		objectHealth = Health{Status: Healthy}
	}
	if len(in.Workloads) > 1 {
		slices.SortStableFunc(in.Workloads, func(a, b WorkloadState) int { return cmp.Compare(b.Severity, a.Severity) })
	}
	namespaces := instanceNamespaces(in.Namespace, desired)
	forbiddenWorkloads := forbiddenKinds(cs, namespaces, in.Namespace, desired)
	if len(ws) == 0 {
		switch {
		case forbiddenWorkloads != "":
			liveHealth = Health{Unknown, "cannot read " + forbiddenWorkloads + " on " + sp.cluster + " (forbidden)"}
		case sp.decl != nil && len(desired) > 0:
			liveHealth = Health{Missing, "no object rendered from git is live"}
		}
		objectHealth = liveHealth
	}

	in.Images = compareImages(ws, desired)
	if sp.argo != nil && len(in.Images) == 0 {
		// A destination fleetdeck does not watch: Argo CD's image summary still tells what runs.
		for _, img := range sp.argo.Images {
			in.Images = append(in.Images, CompareImage(ObjectRef{}, "", "", img))
		}
	}
	trackedBy := ""
	switch {
	case sp.argo != nil:
		trackedBy = sp.argo.Name
	case sp.decl != nil:
		trackedBy = sp.decl.TrackedBy
	}
	if destLive && len(desired) > 0 && forbiddenWorkloads == "" {
		in.Sync.Fields = CompareObjects(AsApplied(desired, liveMap, trackedBy), liveMap)
	}

	// Health, sync and revision per source.
	opCluster, opConfigured := ix.clusters[sp.src.Cluster]
	operatorStale := sp.src.Operator != OperatorDeclared && opConfigured && !opCluster.Live()
	switch {
	case sp.argo != nil:
		a := sp.argo
		if a.HealthStatus != "" {
			in.Health = Health{ParseHealth(a.HealthStatus), a.HealthMessage}
		} else if liveHealth.Status != "" {
			in.Health = liveHealth
		} else {
			in.Health = Health{Unknown, "Argo CD reports no health yet"}
		}
		// Synced means live matches git at the revision compared, which is then what runs,
		// even when no sync applied it (a commit that changed nothing the app renders, or an
		// app whose last sync is older); otherwise what runs is the revision last applied.
		live := a.SyncedRevision
		if ParseSync(a.SyncStatus) == Synced && a.SyncRevision != "" {
			live = a.SyncRevision
		}
		in.Revision = NewRevision(live, git)
		in.Sync.Status = ParseSync(a.SyncStatus)
		in.Sync.Reason = argoSyncReason(a, in.Sync, in.Revision)
	case sp.flux != nil:
		f := sp.flux
		in.Health = Worst(HealthOfFlux(*f), liveHealth)
		_, live := FluxRevision(f.LastAppliedRevision)
		in.Revision = NewRevision(live, git)
		in.Sync = fluxSync(*f, in.Revision, in.Sync.Fields)
	case sp.decl != nil:
		in.Health = objectHealth
		if in.Health.Status == "" {
			in.Health = Health{Unknown, "nothing rendered from git and nothing live"}
			if git != nil && git.RenderError != "" {
				in.Health.Message = "render failed, so the live objects are unknown"
			}
		}
		in.Sync = declaredSync(git, in.Sync.Fields, forbiddenWorkloads)
		if git != nil {
			in.Revision = Revision{Head: git.Head, Behind: -1}
			if destLive && forbiddenWorkloads == "" {
				in.Revision.Live, in.Revision.Behind = DeclaredLiveRevision(*git, liveMap, trackedBy)
			}
		} else {
			in.Revision = Revision{Behind: -1}
		}
	}
	if operatorStale && destLive {
		in.Sync.Status = SyncUnknown
		in.Sync.Reason = fmt.Sprintf("%s on cluster %s is %s: its status may be stale", sp.src.Kind, sp.src.Cluster, opCluster.State)
		if sp.argo != nil {
			in.Health = liveHealth
			if in.Health.Status == "" {
				in.Health = Health{Unknown, in.Sync.Reason}
			}
		}
	}
	switch {
	case !configured && sp.argo == nil:
		in.Sync = Sync{Status: SyncUnknown, Reason: "cluster " + sp.cluster + " is not configured"}
		in.Health = Health{Unknown, in.Sync.Reason}
	case configured && !destLive:
		why := "cluster " + sp.cluster + " is " + string(cs.State)
		if cs.State == "" {
			why = "cluster " + sp.cluster + " has no connection state"
		}
		if cs.Err != "" {
			why += ": " + cs.Err
		}
		in.Sync = Sync{Status: SyncUnknown, Reason: why}
		in.Health = Health{Unknown, why}
	}

	in.Events = instanceEvents(ix, sp, ws)
	in.Problems = problems(&in, sp, namespaces, destLive, configured)
	for _, p := range in.Problems {
		in.Severity = max(in.Severity, p.Severity)
	}
	return in
}

// instanceNamespaces are the namespaces an instance's objects live in on its cluster, sorted:
// its own (the operator's destination, the declared namespace) and those of the objects git
// renders for it. Empty when none is known (a Kustomization without targetNamespace whose
// render failed).
func instanceNamespaces(ns string, desired []DesiredObject) []string {
	var out []string
	if ns != "" {
		out = append(out, ns)
	}
	for _, d := range desired {
		if d.Namespace != "" && !slices.Contains(out, d.Namespace) {
			out = append(out, d.Namespace)
		}
	}
	slices.Sort(out)
	return out
}

// forbiddenKinds names the workload resources fleetdeck may not read where the instance's
// objects live ("" when none), so that their absence is not taken for Missing: the built-in
// workload kinds in every namespace of the instance, and each kind git renders in the object's
// own namespace (ns when it has none). When the namespaces are known they are named:
// "deployments, statefulsets, daemonsets in payments". With none known, a resource forbidden
// anywhere on the cluster counts.
func forbiddenKinds(cs ClusterState, namespaces []string, ns string, desired []DesiredObject) string {
	if len(cs.Forbidden) == 0 {
		return ""
	}
	var kinds, where []string
	deny := func(kind, ns string) {
		if !cs.IsForbiddenIn(kind, ns) {
			return
		}
		if r := ResourceOf(kind); !slices.Contains(kinds, r) {
			kinds = append(kinds, r)
		}
		if ns != "" && !slices.Contains(where, ns) {
			where = append(where, ns)
		}
	}
	scope := namespaces
	if len(scope) == 0 {
		scope = []string{""}
	}
	for _, k := range []string{"Deployment", "StatefulSet", "DaemonSet"} {
		for _, n := range scope {
			deny(k, n)
		}
	}
	for _, d := range desired {
		deny(d.Kind, cmp.Or(d.Namespace, ns))
	}
	if len(kinds) == 0 {
		return ""
	}
	text := strings.Join(kinds, ", ")
	if len(where) > 0 {
		slices.Sort(where)
		text += " in " + strings.Join(where, ", ")
	}
	return text
}

// forbiddenNote says which resources fleetdeck may not read where the instance's objects live
// ("" when none): "events, pods in payments". With no namespace known, every forbidden
// resource of the cluster is named, without a place.
func forbiddenNote(cs ClusterState, namespaces []string) string {
	res := cs.ForbiddenAmong(namespaces)
	if len(res) == 0 {
		return ""
	}
	var where []string
	for _, ns := range namespaces {
		for _, r := range res {
			if read, some := cs.ReadIn[r]; !some || !slices.Contains(read, ns) {
				where = append(where, ns)
				break
			}
		}
	}
	text := strings.Join(res, ", ")
	if len(where) > 0 {
		text += " in " + strings.Join(where, ", ")
	}
	return text
}

func argoSyncReason(a *ArgoApp, sy Sync, rev Revision) string {
	if a.OperationPhase == "Failed" || a.OperationPhase == "Error" {
		return "sync failed: " + a.OperationMessage
	}
	for _, c := range a.Conditions {
		if strings.HasSuffix(c.Type, "Error") {
			return c.Type + ": " + c.Message
		}
	}
	if sy.Status != OutOfSync {
		return ""
	}
	if rev.Behind > 0 {
		return rev.BehindText()
	}
	if len(sy.Fields) > 0 {
		return "live differs from git: " + summarizeDiffs(sy.Fields)
	}
	return "Argo CD reports OutOfSync"
}

// fluxSync derives a sync state for a Flux object, which has none of its own: a revision that
// failed to apply, never having applied one, being behind the branch, or live fields that
// differ from git make it OutOfSync.
func fluxSync(f FluxObject, rev Revision, fields []FieldDiff) Sync {
	sy := Sync{Status: Synced, Fields: fields}
	_, applied := FluxRevision(f.LastAppliedRevision)
	_, attempted := FluxRevision(f.LastAttemptedRevision)
	switch {
	case f.LastAttemptedRevision != "" && f.LastAttemptedRevision != f.LastAppliedRevision &&
		!(applied != "" && sameSHA(applied, attempted)):
		sy.Status = OutOfSync
		sy.Reason = "revision " + shortRev(f.LastAttemptedRevision) + " failed to apply"
		if f.Ready != nil && f.Ready.Message != "" {
			sy.Reason += ": " + f.Ready.Message
		}
	case f.LastAppliedRevision == "":
		sy.Status = SyncUnknown
		sy.Reason = "no revision applied yet"
		if f.Ready != nil && f.Ready.Status == "False" {
			sy.Status = OutOfSync
			sy.Reason = "never applied: " + f.Ready.Message
		}
	case rev.Behind > 0:
		sy.Status = OutOfSync
		sy.Reason = rev.BehindText()
	case len(fields) > 0:
		sy.Status = OutOfSync
		sy.Reason = "live differs from git: " + summarizeDiffs(fields)
	}
	return sy
}

func shortRev(rev string) string {
	b, sha := FluxRevision(rev)
	switch {
	case sha != "" && b != "":
		return b + "@" + ShortSHA(sha)
	case sha != "":
		return ShortSHA(sha)
	}
	return rev
}

func declaredSync(git *GitFacts, fields []FieldDiff, forbidden string) Sync {
	switch {
	case git == nil:
		return Sync{Status: SyncUnknown, Reason: "git not read yet"}
	case git.RenderError != "":
		return Sync{Status: SyncUnknown, Reason: "render failed: " + git.RenderError}
	case forbidden != "":
		return Sync{Status: SyncUnknown, Reason: "cannot read " + forbidden + " (forbidden)"}
	case len(fields) > 0:
		return Sync{Status: OutOfSync, Reason: "live differs from git: " + summarizeDiffs(fields), Fields: fields}
	}
	return Sync{Status: Synced}
}

func workloadState(ix *index, w *Workload) WorkloadState {
	st := WorkloadState{
		Ref: w.Ref(), Owner: w.Owner, Replicas: w.Replicas, Ready: w.ReadyReplicas,
		Updated: w.UpdatedReplicas, Available: w.AvailableReplicas,
		Health: HealthOfWorkload(*w),
	}
	for _, c := range w.Containers {
		st.Images = append(st.Images, c.Image)
	}
	pods := ix.podsByOwner[wkey{w.Cluster, w.Ref()}]
	if len(pods) > 0 {
		st.Pods = make([]PodState, 0, len(pods))
	}
	for _, p := range pods {
		ps := podState(p)
		st.Pods = append(st.Pods, ps)
		st.Health = Worst(st.Health, ps.Health)
	}
	slices.SortFunc(st.Pods, func(a, b PodState) int {
		return cmp.Or(cmp.Compare(healthRank(b.Health.Status), healthRank(a.Health.Status)), strings.Compare(a.Name, b.Name))
	})
	st.Severity = healthSeverity(st.Health.Status)
	// A serving workload with nothing ready while failing is down: Critical. Jobs are not
	// serving, so a failed Job stays an Error.
	serving := w.Kind == "Deployment" || w.Kind == "StatefulSet" || w.Kind == "DaemonSet" || w.Kind == "ReplicaSet"
	if serving && st.Severity >= SeverityError && w.Replicas > 0 && w.ReadyReplicas == 0 {
		st.Severity = SeverityCritical
	}
	return st
}

func podState(p *Pod) PodState {
	ps := PodState{
		Name: p.Name, Namespace: p.Namespace, Node: p.NodeName, Phase: p.Phase, Ready: p.Ready,
		Health: HealthOfPod(*p), Created: p.Created, Containers: p.Containers, Reason: p.Phase,
	}
	var waiting, terminated string
	for _, c := range p.Containers {
		ps.Restarts += c.RestartCount
		if waiting == "" && c.WaitingReason != "" && c.WaitingReason != "ContainerCreating" && c.WaitingReason != "PodInitializing" {
			waiting = c.WaitingReason
		}
		if terminated == "" && c.LastTerminated && !c.Ready {
			terminated = c.LastTerminatedReason
		}
	}
	switch {
	case p.Deleting:
		ps.Reason = "Terminating"
	case waiting != "":
		ps.Reason = waiting
	case terminated != "":
		ps.Reason = terminated
	}
	return ps
}

func healthSeverity(h HealthStatus) Severity {
	switch h {
	case Healthy, "":
		return SeverityOK
	case Progressing, Suspended:
		return SeverityInfo
	case Unknown:
		return SeverityWarning
	}
	return SeverityError // Degraded, Missing
}

func instanceEvents(ix *index, sp spec, ws []*Workload) []Event {
	var evs []*Event
	for _, w := range ws {
		evs = append(evs, ix.eventsByObj[wkey{w.Cluster, w.Ref()}]...)
	}
	if sp.src.Kind != "" {
		evs = append(evs, ix.eventsByObj[wkey{sp.src.Cluster, ObjectRef{sp.src.Kind, sp.src.Namespace, sp.src.Name}}]...)
	}
	if len(evs) == 0 {
		return nil
	}
	slices.SortStableFunc(evs, func(a, b *Event) int { return b.Last.Compare(a.Last) })
	if len(evs) > MaxEvents {
		evs = evs[:MaxEvents]
	}
	out := make([]Event, len(evs))
	for i, e := range evs {
		out[i] = *e
	}
	return out
}

// problems lists the reasons behind an instance's severity, worst first.
func problems(in *Instance, sp spec, namespaces []string, destLive, configured bool) []Problem {
	var ps []Problem
	add := func(sev Severity, format string, args ...any) {
		ps = append(ps, Problem{sev, fmt.Sprintf(format, args...)})
	}
	cs := in.ClusterState
	if configured && !destLive {
		// Stale live data says nothing reliable: only the cluster's state is a problem.
		if cs.State == ConnConnecting {
			add(SeverityInfo, "connecting to cluster %s", in.Cluster)
		} else {
			add(SeverityWarning, "%s", in.Health.Message)
		}
		return ps
	}
	if note := forbiddenNote(cs, namespaces); note != "" {
		add(SeverityInfo, "cannot read %s on %s (forbidden)", note, in.Cluster)
	}
	switch in.Health.Status {
	case Healthy:
	case Degraded, Missing:
		add(SeverityError, "%s%s", in.Health.Status, withMessage(in.Health.Message))
	case Progressing, Suspended:
		add(SeverityInfo, "%s%s", in.Health.Status, withMessage(in.Health.Message))
	default:
		add(SeverityWarning, "health %s%s", in.Health.Status, withMessage(in.Health.Message))
	}
	switch in.Sync.Status {
	case Synced:
	case OutOfSync:
		add(SeverityWarning, "OutOfSync%s", withMessage(in.Sync.Reason))
	default:
		add(SeverityWarning, "sync Unknown%s", withMessage(in.Sync.Reason))
	}
	if a := sp.argo; a != nil && (a.OperationPhase == "Failed" || a.OperationPhase == "Error") {
		add(SeverityError, "sync operation %s%s", strings.ToLower(a.OperationPhase), withMessage(a.OperationMessage))
	}
	if f := sp.flux; f != nil && strings.HasPrefix(in.Sync.Reason, "revision ") {
		add(SeverityError, "%s", in.Sync.Reason)
	}
	if in.Revision.Behind > 0 && !strings.Contains(in.Sync.Reason, "behind") {
		add(SeverityWarning, "%s", in.Revision.BehindText())
	}
	if in.RenderError != "" {
		add(SeverityWarning, "render failed: %s", in.RenderError)
	}
	for _, im := range in.Images {
		where := im.Workload.Name + "/" + im.Container
		if im.Workload.Name == "" {
			where = "image " + im.LiveImage
		}
		if im.Drift {
			add(SeverityWarning, "image drift on %s: git %s, live %s", where, tagOrImage(im.GitTag, im.GitImage), tagOrImage(im.LiveTag, im.LiveImage))
		}
		if im.Latest {
			if im.GitTag == "" && im.LiveTag == "" {
				add(SeverityWarning, "%s is untagged (latest)", where)
			} else {
				add(SeverityWarning, "%s uses the latest tag", where)
			}
		}
	}
	for _, w := range in.Workloads {
		if w.Severity < SeverityError {
			continue
		}
		failing, reason := 0, ""
		var restarts int32
		for _, p := range w.Pods {
			if p.Health.Status == Degraded {
				failing++
				restarts += p.Restarts
				if reason == "" {
					reason = p.Reason
				}
			}
		}
		text := w.Ref.String() + " " + string(w.Health.Status)
		if failing > 0 {
			text = fmt.Sprintf("%s: %d pod(s) %s", w.Ref, failing, reason)
			if restarts > 0 {
				text += fmt.Sprintf(" (%d restarts)", restarts)
			}
		}
		if w.Severity == SeverityCritical {
			text += fmt.Sprintf(", %d of %d replicas ready", w.Ready, w.Replicas)
		}
		add(w.Severity, "%s", text)
	}
	slices.SortStableFunc(ps, func(a, b Problem) int { return cmp.Compare(b.Severity, a.Severity) })
	return ps
}

func withMessage(m string) string {
	m = strings.TrimSpace(m)
	if m == "" {
		return ""
	}
	return ": " + m
}

func tagOrImage(tag, image string) string {
	if tag != "" {
		return tag
	}
	if image == "" {
		return absent
	}
	return image
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
