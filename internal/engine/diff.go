package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/fleet/diff"
	"github.com/fleetdeck/fleetdeck/gitstate/facts"
	"github.com/fleetdeck/fleetdeck/gitstate/render"
	"github.com/fleetdeck/fleetdeck/gitstate/repo"
	"github.com/fleetdeck/fleetdeck/gitstate/treefs"
	"github.com/fleetdeck/fleetdeck/kube"
	"github.com/fleetdeck/fleetdeck/kube/live"
)

// InstanceDiff compares one instance's objects rendered from git at the tracked revision
// with the objects live on its cluster, object by object (see fleet/diff).
type InstanceDiff struct {
	App     string
	Cluster string
	Source  fleet.Source
	Repo    string
	Path    string
	Branch  string
	// Revision is the commit rendered: the head of the tracked branch, or the commit the
	// operator pins (the desired state). LiveRevision is the one the operator reports applied
	// ("" when unknown).
	Revision     string
	LiveRevision string
	// Objects are sorted by kind, namespace and name.
	Objects []diff.Object
	// Warnings name objects that could not be read and ignoreDifferences entries not applied.
	Warnings []string
	// Err says why the instance could not be compared at all (nothing in Objects then).
	Err string
}

// Differs reports whether any object differs.
func (d InstanceDiff) Differs() bool { return diff.Differs(d.Objects) }

// ErrNoApp is returned by Diff for an application name the fleet does not have.
var ErrNoApp = errors.New("no such application")

// Diff compares every instance of app (on clusters, when not empty) with git, as
// `fleetdeck diff` prints it. It reads the fleet as Snapshot does, within timeout, then
// renders each instance at its tracked revision and gets its live objects. The error is
// non-nil when the fleet could not be read or app is not in it (ErrNoApp); an instance that
// cannot be compared has Err set.
func (e *Engine) Diff(ctx context.Context, app string, clusters []string, timeout time.Duration) ([]InstanceDiff, error) {
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	start := time.Now()
	snap, err := e.Inputs(ctx, timeout)
	if err != nil {
		return nil, err
	}
	m := fleet.Build(snap)
	a, ok := m.App(app)
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrNoApp, app)
	}
	sources := map[fleet.GitKey]fleet.InstanceSource{}
	for _, s := range fleet.InstanceSources(snap) {
		sources[s.Key] = s
	}
	// The live reads get what is left of the budget, but at least a moment.
	ctx, cancel := context.WithTimeout(ctx, max(timeout-time.Since(start), 5*time.Second))
	defer cancel()
	var out []InstanceDiff
	for i := range a.Instances {
		in := &a.Instances[i]
		if len(clusters) > 0 && !slices.Contains(clusters, in.Cluster) {
			continue
		}
		key := fleet.GitKey{App: in.App, Cluster: in.Cluster}
		out = append(out, e.diffInstance(ctx, in, sources[key], snap.Git[key]))
	}
	return out, nil
}

// DiffInstance is Diff for the instance of app on cluster: what the terminal UI shows for an
// instance or, filtered by object, for a workload.
func (e *Engine) DiffInstance(ctx context.Context, app, cluster string, timeout time.Duration) (InstanceDiff, error) {
	ds, err := e.Diff(ctx, app, []string{cluster}, timeout)
	if err != nil {
		return InstanceDiff{}, err
	}
	if len(ds) == 0 {
		return InstanceDiff{}, fmt.Errorf("%w %q on cluster %s", ErrNoApp, app, cluster)
	}
	return ds[0], nil
}

func (e *Engine) diffInstance(ctx context.Context, in *fleet.Instance, src fleet.InstanceSource, gf fleet.GitFacts) InstanceDiff {
	d := InstanceDiff{App: in.App, Cluster: in.Cluster, Source: in.Source, Repo: in.RepoURL, Path: in.Path,
		Branch: in.Branch, Revision: gf.Head, LiveRevision: in.Revision.Live}
	switch {
	case gf.RenderError != "":
		d.Err = "git: " + gf.RenderError
		return d
	case gf.Head == "":
		d.Err = "git: no revision of this instance's source is known (is its repository configured?)"
		return d
	case !in.ClusterState.Live():
		d.Err = fmt.Sprintf("cluster %s is %s", in.Cluster, in.ClusterState.State)
		return d
	}
	e.git.mu.Lock()
	repos := e.git.openRepos()
	e.git.mu.Unlock()
	req, ok := facts.New(e.cfg, repos, facts.Options{}).Request(src)
	if !ok {
		d.Err = "git: the instance's source is not in a configured repository"
		return d
	}
	desired, err := renderAt(repos[req.Repo], gf.Head, req)
	if err != nil {
		d.Err = "git: " + err.Error()
		return d
	}

	readers := map[string]*live.Reader{}
	reader := func(cluster string) (*live.Reader, error) {
		if r, ok := readers[cluster]; ok {
			return r, nil
		}
		c, ok := e.cfg.Cluster(cluster)
		if !ok {
			return nil, fmt.Errorf("cluster %s is not configured", cluster)
		}
		rc, err := kube.RESTConfig(c)
		if err != nil {
			return nil, err
		}
		r, err := live.New(cluster, rc)
		if err != nil {
			return nil, err
		}
		readers[cluster] = r
		return r, nil
	}

	// What the operator tracks: objects gone from git show as only live, and Argo CD's
	// ignoreDifferences apply.
	var tracked []live.Ref
	var ignores []diff.Ignore
	if op, ok := operatorObject(in.Source); ok {
		r, err := reader(in.Source.Cluster)
		var obj *unstructured.Unstructured
		if err == nil {
			obj, err = r.Get(ctx, op)
		}
		switch {
		case err != nil:
			d.Warnings = append(d.Warnings, fmt.Sprintf("objects no longer in git are not listed: %v", err))
		case obj == nil:
			d.Warnings = append(d.Warnings, fmt.Sprintf("%s not found on cluster %s: objects no longer in git are not listed", op, in.Source.Cluster))
		default:
			tracked, ignores = trackedRefs(obj.Object)
		}
	}

	r, err := reader(in.Cluster)
	if err != nil {
		d.Err = err.Error()
		return d
	}
	var refs []live.Ref
	want := map[diff.Ref]bool{}
	var desiredMaps []map[string]any
	for _, o := range desired {
		gv := o.GroupVersionKind()
		ref := live.Ref{Group: gv.Group, Version: gv.Version, Kind: gv.Kind, Namespace: o.GetNamespace(), Name: o.GetName()}
		refs = append(refs, ref)
		want[diff.RefOf(o.Object)] = true
		desiredMaps = append(desiredMaps, o.Object)
	}
	for _, t := range tracked {
		if !want[diff.Ref{Group: t.Group, Kind: t.Kind, Namespace: t.Namespace, Name: t.Name}] {
			refs = append(refs, t)
		}
	}
	var liveMaps []map[string]any
	unreadable := map[diff.Ref]bool{}
	for _, res := range r.GetAll(ctx, refs) {
		switch {
		case res.Err != nil:
			d.Warnings = append(d.Warnings, fmt.Sprintf("not compared: %v", res.Err))
			unreadable[diff.Ref{Group: res.Ref.Group, Kind: res.Ref.Kind, Namespace: res.Ref.Namespace, Name: res.Ref.Name}] = true
		case res.Object != nil:
			liveMaps = append(liveMaps, res.Object.Object)
		}
	}
	// An object that could not be read is neither missing nor different: leave it out.
	desiredMaps = slices.DeleteFunc(desiredMaps, func(o map[string]any) bool { return unreadable[diff.RefOf(o)] })
	dopts := diff.Options{Ignore: ignores, Prefix: in.Cluster + "/"}
	if in.Source.Operator == fleet.OperatorArgoCD && in.Source.Name != "" {
		dopts.Tracking = diff.Label{Key: diff.ArgoTrackingLabel, Value: in.Source.Name}
	}
	objs, warnings := diff.Objects(desiredMaps, liveMaps, dopts)
	d.Objects, d.Warnings = objs, append(d.Warnings, warnings...)
	return d
}

// operatorObject names the Argo CD Application or Flux Kustomization behind an instance: the
// object that says what the instance tracks. HelmReleases keep no inventory of objects.
func operatorObject(s fleet.Source) (live.Ref, bool) {
	switch {
	case s.Operator == fleet.OperatorArgoCD && s.Name != "":
		return live.Ref{Group: "argoproj.io", Kind: "Application", Namespace: s.Namespace, Name: s.Name}, true
	case s.Operator == fleet.OperatorFlux && s.Kind == string(fleet.FluxKustomization) && s.Name != "":
		return live.Ref{Group: "kustomize.toolkit.fluxcd.io", Kind: "Kustomization", Namespace: s.Namespace, Name: s.Name}, true
	}
	return live.Ref{}, false
}

// trackedRefs reads what an operator object tracks: an Application's status.resources and
// spec.ignoreDifferences, a Kustomization's status.inventory.entries.
func trackedRefs(obj map[string]any) ([]live.Ref, []diff.Ignore) {
	var refs []live.Ref
	var ignores []diff.Ignore
	switch kind, _ := obj["kind"].(string); kind {
	case "Application":
		res, _, _ := unstructured.NestedSlice(obj, "status", "resources")
		for _, r := range res {
			m, ok := r.(map[string]any)
			if !ok {
				continue
			}
			s := func(k string) string { v, _ := m[k].(string); return v }
			if s("kind") != "" && s("name") != "" {
				refs = append(refs, live.Ref{Group: s("group"), Version: s("version"), Kind: s("kind"), Namespace: s("namespace"), Name: s("name")})
			}
		}
		ids, _, _ := unstructured.NestedSlice(obj, "spec", "ignoreDifferences")
		for _, r := range ids {
			m, ok := r.(map[string]any)
			if !ok {
				continue
			}
			s := func(k string) string { v, _ := m[k].(string); return v }
			l := func(k string) []string { v, _, _ := unstructured.NestedStringSlice(m, k); return v }
			ignores = append(ignores, diff.Ignore{Group: s("group"), Kind: s("kind"), Name: s("name"), Namespace: s("namespace"),
				JSONPointers: l("jsonPointers"), JQPathExpressions: l("jqPathExpressions"), ManagedFieldsManagers: l("managedFieldsManagers")})
		}
	case "Kustomization":
		entries, _, _ := unstructured.NestedSlice(obj, "status", "inventory", "entries")
		for _, e := range entries {
			m, ok := e.(map[string]any)
			if !ok {
				continue
			}
			id, _ := m["id"].(string)
			version, _ := m["v"].(string)
			// <namespace>_<name>_<group>_<kind>; names cannot hold "_".
			parts := strings.Split(id, "_")
			if len(parts) != 4 || parts[1] == "" || parts[3] == "" {
				continue
			}
			refs = append(refs, live.Ref{Group: parts[2], Version: version, Kind: parts[3], Namespace: parts[0], Name: parts[1]})
		}
	}
	return refs, ignores
}

// renderAt renders a request's source at commit, the way gitstate/facts renders it, but
// keeps every object whole. Hooks (Helm and Argo CD) are left out: operators do not keep them
// as part of the application.
func renderAt(rp *repo.Repo, commit string, req facts.Request) ([]*unstructured.Unstructured, error) {
	if rp == nil {
		return nil, fmt.Errorf("repository %q is not cloned", req.Repo)
	}
	h := plumbing.NewHash(commit)
	var objs []*unstructured.Unstructured
	err := rp.Do(func(g *git.Repository) error {
		c, err := g.CommitObject(h)
		if err != nil {
			return fmt.Errorf("repository %s: commit %s: %w", req.Repo, fleet.ShortSHA(commit), err)
		}
		tree, err := c.Tree()
		if err != nil {
			return fmt.Errorf("repository %s: tree of commit %s: %w", req.Repo, fleet.ShortSHA(commit), err)
		}
		fsys := treefs.New(tree)
		kind := req.Kind
		if kind == "" {
			kind = detectRenderKind(fsys, req.Path)
		}
		objs, err = render.Render(fsys, render.Source{Kind: kind, Path: req.Path, ValuesFiles: req.ValuesFiles,
			ReleaseName: req.ReleaseName, Namespace: req.Namespace})
		if err != nil {
			return fmt.Errorf("%w (at %s)", err, fleet.ShortSHA(commit))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	objs = slices.DeleteFunc(objs, func(o *unstructured.Unstructured) bool {
		a := o.GetAnnotations()
		_, helmHook := a["helm.sh/hook"]
		_, argoHook := a["argocd.argoproj.io/hook"]
		return helmHook || argoHook
	})
	if req.ForceNamespace && req.Namespace != "" {
		for _, o := range objs {
			if o.GetNamespace() != "" {
				o.SetNamespace(req.Namespace)
			}
		}
	}
	return objs, nil
}

// detectRenderKind tells how a directory renders when nothing says, as Argo CD decides.
func detectRenderKind(fsys fs.FS, dir string) render.Kind {
	exists := func(name string) bool {
		_, err := fs.Stat(fsys, path.Join(dir, name))
		return err == nil
	}
	switch {
	case exists("Chart.yaml"):
		return render.Helm
	case exists("kustomization.yaml"), exists("kustomization.yml"), exists("Kustomization"):
		return render.Kustomize
	}
	return render.YAML
}
