package standin

import (
	"context"
	"encoding/json"
	"errors"
	"path"
	"sort"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

// comparison is git (HEAD) against live for one instance.
type comparison struct {
	resources []resourceState
	renderErr error
	outOfSync bool
	health    HealthStatus
	images    []string
}

// resourceState is one object of an instance: desired at HEAD, or live from
// the last applied revision but gone from HEAD (requiresPruning).
type resourceState struct {
	obj             *unstructured.Unstructured // desired (or the applied object when pruning is due)
	live            *unstructured.Unstructured // nil when absent
	diffs           []string
	requiresPruning bool
}

func (r resourceState) outOfSync() bool { return len(r.diffs) > 0 || r.requiresPruning }

// compare reads the live objects of an instance and compares them with HEAD.
func (e *engine) compare(ctx context.Context, in *instance, head string) (*comparison, error) {
	c := e.clusters[in.cluster]
	cmp := &comparison{}
	desired, err := e.desired(in, head)
	if err != nil {
		cmp.renderErr = err
	}
	var applied []*unstructured.Unstructured
	if in.appliedRev != "" && in.appliedRev != head {
		applied, _ = e.desired(in, in.appliedRev)
	}
	for _, d := range desired {
		cmp.resources = append(cmp.resources, resourceState{obj: d})
	}
	for _, a := range applied {
		if findObject(desired, a) == nil {
			cmp.resources = append(cmp.resources, resourceState{obj: a, requiresPruning: cmp.renderErr == nil})
		}
	}
	var live []*unstructured.Unstructured
	kept := cmp.resources[:0]
	for _, r := range cmp.resources {
		l, err := c.get(ctx, r.obj.GroupVersionKind(), r.obj.GetNamespace(), r.obj.GetName())
		if err != nil {
			return nil, err
		}
		r.live = l
		if r.requiresPruning && l == nil {
			continue // already gone: nothing to prune
		}
		if cmp.renderErr == nil && !r.requiresPruning {
			r.diffs = CompareObject(r.obj, l)
		}
		if r.outOfSync() {
			cmp.outOfSync = true
		}
		live = append(live, l)
		kept = append(kept, r)
	}
	cmp.resources = kept
	sort.Slice(cmp.resources, func(i, j int) bool {
		a, b := cmp.resources[i].obj, cmp.resources[j].obj
		ka := a.GroupVersionKind().Group + "/" + a.GetKind() + "/" + a.GetNamespace() + "/" + a.GetName()
		kb := b.GroupVersionKind().Group + "/" + b.GetKind() + "/" + b.GetNamespace() + "/" + b.GetName()
		return ka < kb
	})
	cmp.health = AppHealth(live)
	cmp.images = liveImages(live)
	return cmp, nil
}

// liveImages lists the images of the live workloads' pod templates,
// deduplicated and sorted.
func liveImages(live []*unstructured.Unstructured) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range live {
		if l == nil {
			continue
		}
		p := podTemplatePath(l.GetKind())
		if p == nil {
			if l.GetKind() != "Pod" {
				continue
			}
			p = []string{}
		}
		for _, list := range []string{"initContainers", "containers"} {
			cs, _, _ := unstructured.NestedSlice(l.Object, append(append([]string{}, p...), "spec", list)...)
			for _, c := range cs {
				m, _ := c.(map[string]any)
				if im := nestedStr(m, "image"); im != "" && !seen[im] {
					seen[im] = true
					out = append(out, im)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// refresh rewrites every operator object's status from live state. On
// install it also (re)applies their specs. One instance's failure (for
// example an unreachable cluster, bounded by callTimeout) does not stop the
// others; the errors are joined.
func (e *engine) refresh(ctx context.Context, head string, install bool) error {
	var mu sync.Mutex
	var errs []error
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}

	prevApps := map[string]*unstructured.Unstructured{}
	if hub := e.hub(); hub != nil && e.hasArgo() {
		if m, err := hub.list(ctx, ApplicationGVK, scenario.ArgoNamespace); err != nil {
			fail(err)
		} else {
			prevApps = m
		}
	}
	prevFlux := map[string]map[string]*unstructured.Unstructured{}
	for _, name := range e.fluxClusters() {
		prevFlux[name] = map[string]*unstructured.Unstructured{}
		for _, gvk := range []schema.GroupVersionKind{KustomizationGVK, HelmReleaseGVK, GitRepositoryGVK} {
			m, err := e.clusters[name].list(ctx, gvk, scenario.FluxNamespace)
			if err != nil {
				fail(err)
				continue
			}
			for n, o := range m {
				prevFlux[name][gvk.Kind+"/"+n] = o
			}
		}
	}

	var wg sync.WaitGroup
	for _, name := range e.fluxClusters() {
		prev := prevFlux[name]["GitRepository/"+scenario.RepoName]
		wg.Go(func() {
			if err := e.writeGitRepository(ctx, e.clusters[name], head, prev, install); err != nil {
				fail(err)
			}
		})
	}
	for _, in := range e.insts {
		if in.op == scenario.None {
			continue
		}
		var prev *unstructured.Unstructured
		switch {
		case in.op == scenario.ArgoCD:
			prev = prevApps[in.name]
		case in.app.Render == scenario.Helm:
			prev = prevFlux[in.cluster]["HelmRelease/"+in.name]
		default:
			prev = prevFlux[in.cluster]["Kustomization/"+in.name]
		}
		wg.Go(func() {
			if err := e.refreshInstance(ctx, in, head, prev, install); err != nil {
				fail(err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (e *engine) refreshInstance(ctx context.Context, in *instance, head string, prev *unstructured.Unstructured, install bool) error {
	cmp, err := e.compare(ctx, in, head)
	if err != nil {
		return err
	}
	var opCluster *cluster
	var spec *unstructured.Unstructured
	var statusManager string
	switch {
	case in.op == scenario.ArgoCD:
		opCluster, spec, statusManager = e.hub(), argoApplication(in, e.o.RepoURL), managerArgoApp
	case in.app.Render == scenario.Helm:
		opCluster, spec, statusManager = e.clusters[in.cluster], helmRelease(in), managerHelm
	default:
		opCluster, spec, statusManager = e.clusters[in.cluster], kustomization(in), managerKustomize
	}
	if prev == nil || install {
		// The sandbox plays the part of whoever committed these objects
		// (an ApplicationSet for Argo CD, flux bootstrap for Flux).
		specManager := managerSandbox
		if in.op == scenario.ArgoCD {
			specManager = managerAppSet
		}
		if prev, err = opCluster.apply(ctx, specManager, spec); err != nil {
			return err
		}
	}
	prevStatus, _, _ := unstructured.NestedMap(prev.Object, "status")
	now := e.now()
	var st map[string]any
	stampKey := ""
	switch {
	case in.op == scenario.ArgoCD:
		st = argoStatus(argoStatusInput{in: in, repoURL: e.o.RepoURL, head: head, cmp: cmp, syncs: in.pending, prev: prevStatus, now: now})
		stampKey = "reconciledAt"
	case in.app.Render == scenario.Helm:
		hi := helmReleaseInput{in: in, cmp: cmp, lastSync: in.lastSync(), prev: prevStatus, generation: prev.GetGeneration(), now: now}
		if in.appliedRev != "" {
			if hi.chart, err = e.src.Chart(in.appliedRev, in.app); err != nil {
				return err
			}
			hi.values, _ = e.src.ReadFile(in.appliedRev, path.Join(in.app.Path, in.app.ValuesFile(in.cluster)))
			if objs, err := e.desired(in, in.appliedRev); err == nil {
				hi.manifest, _ = json.Marshal(objs)
			}
			if _, ok := prevStatus["history"]; !ok {
				if parent, err := e.src.Parent(in.appliedRev); err == nil && parent != "" {
					if pc, err := e.src.Chart(parent, in.app); err == nil {
						hi.previousRev, hi.previousInfo = parent, pc
					}
				}
			}
		}
		st = helmReleaseStatus(hi)
		setHandled(st, prevStatus, in.handledReq)
	default:
		st = kustomizationStatus(kustomizationInput{in: in, cmp: cmp, lastSync: in.lastSync(), prev: prevStatus, generation: prev.GetGeneration(), now: now})
		setHandled(st, prevStatus, in.handledReq)
	}
	if len(in.pending) == 0 && (stampKey == "" && equalJSON(prevStatus, st) || stampKey != "" && statusUnchanged(prevStatus, st, stampKey, now)) {
		return nil
	}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": spec.GetAPIVersion(),
		"kind":       spec.GetKind(),
		"metadata":   map[string]any{"name": spec.GetName(), "namespace": spec.GetNamespace()},
		"status":     st,
	}}
	if err := opCluster.applyStatus(ctx, statusManager, obj); err != nil {
		return err
	}
	in.pending = nil
	return nil
}

func (e *engine) writeGitRepository(ctx context.Context, c *cluster, head string, prev *unstructured.Unstructured, install bool) error {
	spec := gitRepository(e.o.RepoURL)
	if prev == nil || install {
		var err error
		if prev, err = c.apply(ctx, managerSandbox, spec); err != nil {
			return err
		}
	}
	prevStatus, _, _ := unstructured.NestedMap(prev.Object, "status")
	st := gitRepositoryStatus(prevStatus, head, prev.GetGeneration(), e.now())
	setHandled(st, prevStatus, e.sourceHandled[c.name+"/"+spec.GetName()])
	if equalJSON(prevStatus, st) {
		return nil
	}
	return c.applyStatus(ctx, managerSource, &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": spec.GetAPIVersion(),
		"kind":       spec.GetKind(),
		"metadata":   map[string]any{"name": spec.GetName(), "namespace": spec.GetNamespace()},
		"status":     st,
	}})
}

func metav1PatchOptions(manager string) metav1.PatchOptions {
	return metav1.PatchOptions{FieldManager: manager}
}
