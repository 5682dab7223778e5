package monorepo

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"testing"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/loader/archive"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

// These tests render the charts, overlays and manifests the way Argo CD and
// Flux do (Helm's engine, kustomize's krusty), straight from the files, to
// prove that every state the sandbox deploys renders and declares the tags
// Result reports.

type obj = map[string]any

func render(files map[string]string, app scenario.App, cluster string) ([]obj, error) {
	switch app.Render {
	case scenario.Helm:
		return renderHelm(files, app, cluster)
	case scenario.Kustomize:
		return renderKustomize(files, app, cluster)
	}
	var out []obj
	for _, p := range sortedKeys(files) {
		if path.Dir(p) == app.Path && strings.HasSuffix(p, ".yaml") {
			docs, err := parseDocs(files[p])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			out = append(out, docs...)
		}
	}
	return out, nil
}

func renderHelm(files map[string]string, app scenario.App, cluster string) ([]obj, error) {
	var bufs []*archive.BufferedFile
	for _, p := range sortedKeys(files) {
		if rel, ok := strings.CutPrefix(p, app.Path+"/"); ok {
			bufs = append(bufs, &archive.BufferedFile{Name: rel, Data: []byte(files[p])})
		}
	}
	ch, err := loader.LoadFiles(bufs)
	if err != nil {
		return nil, fmt.Errorf("load chart %s: %w", app.Path, err)
	}
	vals, err := common.ReadValues([]byte(files[app.Path+"/"+app.ValuesFile(cluster)]))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", app.ValuesFile(cluster), err)
	}
	rv, err := util.ToRenderValues(ch, vals, common.ReleaseOptions{
		Name: scenario.ArgoAppName(app.Name, cluster), Namespace: app.Namespace, IsInstall: true,
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("values of %s: %w", app.Path, err)
	}
	manifests, err := engine.Render(ch, rv)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", app.Path, err)
	}
	var out []obj
	for _, name := range sortedKeys(manifests) {
		if strings.HasSuffix(name, ".tpl") {
			continue
		}
		docs, err := parseDocs(manifests[name])
		if err != nil {
			return nil, fmt.Errorf("%s: %w\n%s", name, err, manifests[name])
		}
		out = append(out, docs...)
	}
	return out, nil
}

func renderKustomize(files map[string]string, app scenario.App, cluster string) ([]obj, error) {
	fsys := filesys.MakeFsInMemory()
	for p, c := range files {
		if err := fsys.WriteFile("/"+p, []byte(c)); err != nil {
			return nil, err
		}
	}
	rm, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fsys, "/"+app.SourcePath(cluster))
	if err != nil {
		return nil, fmt.Errorf("kustomize %s: %w", app.SourcePath(cluster), err)
	}
	y, err := rm.AsYaml()
	if err != nil {
		return nil, err
	}
	return parseDocs(string(y))
}

func parseDocs(text string) ([]obj, error) {
	var out []obj
	for _, doc := range strings.Split(text, "\n---") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var o obj
		if err := yaml.Unmarshal([]byte(doc), &o); err != nil {
			return nil, err
		}
		if o != nil {
			out = append(out, o)
		}
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// field walks nested maps and lists ("0" indexes a list).
func field(o any, keys ...string) any {
	for _, k := range keys {
		switch v := o.(type) {
		case obj:
			o = v[k]
		case []any:
			if k != "0" || len(v) == 0 {
				return nil
			}
			o = v[0]
		default:
			return nil
		}
	}
	return o
}

func find(objs []obj, kind, name string) obj {
	for _, o := range objs {
		if field(o, "kind") == kind && field(o, "metadata", "name") == name {
			return o
		}
	}
	return nil
}

// checkInstance renders app on cluster from files and checks what the
// sandbox relies on; it returns the Deployment.
func checkInstance(t *testing.T, files map[string]string, app scenario.App, cluster, wantTag string, wantReplicas int) obj {
	t.Helper()
	objs, err := render(files, app, cluster)
	if err != nil {
		t.Fatalf("%s on %s: %v", app.Name, cluster, err)
	}
	dep := find(objs, "Deployment", app.Name)
	if dep == nil {
		t.Fatalf("%s on %s: no Deployment %s in %d objects", app.Name, cluster, app.Name, len(objs))
	}
	for _, o := range objs {
		if ns := field(o, "metadata", "namespace"); ns != app.Namespace {
			t.Errorf("%s on %s: %s %s in namespace %v, want %s", app.Name, cluster, field(o, "kind"), field(o, "metadata", "name"), ns, app.Namespace)
		}
	}
	if find(objs, "Service", app.Name) == nil {
		t.Errorf("%s on %s: no Service", app.Name, cluster)
	}
	c := field(dep, "spec", "template", "spec", "containers", "0")
	if got := field(c, "name"); got != app.Name {
		t.Errorf("%s on %s: container %v, want %s", app.Name, cluster, got, app.Name)
	}
	if got, want := field(c, "image"), app.Image()+":"+wantTag; got != want {
		t.Errorf("%s on %s: image %v, want %s", app.Name, cluster, got, want)
	}
	if field(c, "readinessProbe", "httpGet", "path") == nil {
		t.Errorf("%s on %s: no httpGet readiness probe", app.Name, cluster)
	}
	if got := field(dep, "spec", "progressDeadlineSeconds"); got != float64(60) {
		t.Errorf("%s on %s: progressDeadlineSeconds %v, want 60", app.Name, cluster, got)
	}
	if got := field(dep, "spec", "replicas"); wantReplicas > 0 && got != float64(wantReplicas) {
		t.Errorf("%s on %s: replicas %v, want %d", app.Name, cluster, got, wantReplicas)
	}
	sel, _ := field(dep, "spec", "selector", "matchLabels").(obj)
	labels, _ := field(dep, "spec", "template", "metadata", "labels").(obj)
	if len(sel) == 0 {
		t.Errorf("%s on %s: empty selector", app.Name, cluster)
	}
	for k, v := range sel {
		if labels[k] != v {
			t.Errorf("%s on %s: selector %s=%v not on the pod template", app.Name, cluster, k, v)
		}
	}
	if ref := field(c, "envFrom", "0", "configMapRef", "name"); ref != nil {
		if find(objs, "ConfigMap", ref.(string)) == nil {
			t.Errorf("%s on %s: ConfigMap %v referenced but not rendered", app.Name, cluster, ref)
		}
	}
	return dep
}

func instances(app scenario.App) []string {
	var out []string
	for _, c := range scenario.Clusters {
		if _, ok := app.Instances[c]; ok {
			out = append(out, c)
		}
	}
	return out
}

func TestRenderHead(t *testing.T) {
	_, res := generated(t)
	files := res.Files()
	for _, app := range scenario.Apps {
		for _, cluster := range instances(app) {
			t.Run(app.Name+"/"+cluster, func(t *testing.T) {
				env := scenario.Env(cluster)
				checkInstance(t, files, app, cluster, res.Tags[app.Name][env], res.Replicas[app.Name][env])
			})
		}
	}
}

// filesAt reads the tree of a commit with go-git.
func filesAt(t *testing.T, repo *gogit.Repository, rev string) map[string]string {
	t.Helper()
	c, err := repo.CommitObject(plumbing.NewHash(rev))
	if err != nil {
		t.Fatalf("commit %s: %v", rev, err)
	}
	files := map[string]string{}
	iter, err := c.Files()
	if err != nil {
		t.Fatal(err)
	}
	if err := iter.ForEach(func(f *object.File) error {
		s, err := f.Contents()
		files[f.Name] = s
		return err
	}); err != nil {
		t.Fatalf("files of %s: %v", rev, err)
	}
	return files
}

func TestRenderBehindRevision(t *testing.T) {
	dir, res := generated(t)
	repo, err := gogit.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	p := problem(t, scenario.Behind)
	app, _ := scenario.AppByName(p.App)
	env := scenario.Env(p.Cluster)
	s := &svc{app: app, prof: profileOf(app.Name)}
	then := filesAt(t, repo, res.BehindRevision)
	oldTag, err := s.getTag(&tree{files: then}, env)
	if err != nil {
		t.Fatal(err)
	}
	if oldTag == res.Tags[app.Name][env] {
		t.Fatalf("tag at BehindRevision equals HEAD's %s", oldTag)
	}
	old := checkInstance(t, then, app, p.Cluster, oldTag, 0)
	head := checkInstance(t, filesAt(t, repo, res.Head), app, p.Cluster, res.Tags[app.Name][env], res.Replicas[app.Name][env])
	oc := field(old, "spec", "template", "spec", "containers", "0")
	hc := field(head, "spec", "template", "spec", "containers", "0")
	if fmt.Sprint(field(oc, "env")) == fmt.Sprint(field(hc, "env")) && fmt.Sprint(field(old, "spec", "replicas")) == fmt.Sprint(field(head, "spec", "replicas")) {
		t.Error("between BehindRevision and HEAD only the tag changed; want a second visible change")
	}
}

// TestRenderHistory renders a sample of older commits, the merge and its
// parents: every state of the branch must render, not only the head.
func TestRenderHistory(t *testing.T) {
	dir, res := generated(t)
	repo, err := gogit.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	revs := lines(gitCLI(t, dir, "rev-list", "--first-parent", scenario.Branch))
	var sample []string
	for i := 0; i < len(revs); i += 40 {
		sample = append(sample, revs[i])
	}
	sample = append(sample, revs[len(revs)-1], res.MergeCommit, res.MergeCommit+"^2", res.BadBumpCommit)
	for _, rev := range sample {
		rev = strings.TrimSpace(gitCLI(t, dir, "rev-parse", rev))
		files := filesAt(t, repo, rev)
		for _, app := range scenario.Apps {
			s := &svc{app: app, prof: profileOf(app.Name)}
			for _, cluster := range instances(app) {
				tag, err := s.getTag(&tree{files: files}, scenario.Env(cluster))
				if err != nil {
					t.Fatalf("%s at %s: %v", app.Name, rev, err)
				}
				checkInstance(t, files, app, cluster, tag, 0)
			}
		}
	}
	// The merge's template change reaches the rendered Deployment.
	app, _ := scenario.AppByName(scenario.PaymentsAPI)
	objs, err := render(filesAt(t, repo, res.MergeCommit), app, scenario.ProdEU)
	if err != nil {
		t.Fatal(err)
	}
	if got := field(find(objs, "Deployment", app.Name), "spec", "template", "spec", "terminationGracePeriodSeconds"); got != float64(45) {
		t.Errorf("after the merge terminationGracePeriodSeconds = %v, want 45", got)
	}
}
