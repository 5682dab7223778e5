package standin

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/fleetdeck/fleetdeck/gitstate/render"
	"github.com/fleetdeck/fleetdeck/gitstate/treefs"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

// newEngineFromOptions connects to every cluster of the kubeconfig and reads
// the monorepo at o.RemoteDir.
func newEngineFromOptions(o Options) (*engine, error) {
	if o.Repo == nil {
		return nil, errors.New("standin: Options.Repo is nil")
	}
	if o.RemoteDir == "" || o.Kubeconfig == "" {
		return nil, errors.New("standin: Options.RemoteDir and Options.Kubeconfig are required")
	}
	clusters := map[string]*cluster{}
	for _, name := range o.Clusters {
		c, err := connect(o.Kubeconfig, name)
		if err != nil {
			return nil, err
		}
		clusters[name] = c
	}
	return newEngine(o, newGitSource(o.RemoteDir), clusters), nil
}

// gitSource renders the bare monorepo with fleetdeck's render package,
// caching renders per commit (commits are immutable).
type gitSource struct {
	dir string

	mu      sync.Mutex
	renders map[string][]*unstructured.Unstructured
	charts  map[string]chartMeta
}

func newGitSource(dir string) *gitSource {
	return &gitSource{dir: dir, renders: map[string][]*unstructured.Unstructured{}, charts: map[string]chartMeta{}}
}

// open reopens the repository on each use: it is written by other processes
// (pushes), and a fresh open never serves stale refs or pack lists.
func (g *gitSource) open() (*git.Repository, error) {
	repo, err := git.PlainOpen(g.dir)
	if err != nil {
		return nil, fmt.Errorf("open monorepo %s: %w", g.dir, err)
	}
	return repo, nil
}

func (g *gitSource) Head() (string, error) {
	repo, err := g.open()
	if err != nil {
		return "", err
	}
	ref, err := repo.Reference(plumbing.NewBranchReferenceName(scenario.Branch), true)
	if err != nil {
		return "", fmt.Errorf("monorepo %s: resolve branch %s: %w", g.dir, scenario.Branch, err)
	}
	return ref.Hash().String(), nil
}

func (g *gitSource) tree(rev string) (fs.FS, error) {
	repo, err := g.open()
	if err != nil {
		return nil, err
	}
	fsys, _, err := treefs.AtRevision(repo, rev)
	if err != nil {
		return nil, fmt.Errorf("monorepo %s: tree at %s: %w", g.dir, rev, err)
	}
	return fsys, nil
}

func (g *gitSource) Render(rev string, app scenario.App, cluster string) ([]*unstructured.Unstructured, error) {
	src := render.Source{
		Kind:        render.Kind(app.Render),
		Path:        app.SourcePath(cluster),
		ReleaseName: app.Name,
		Namespace:   app.Namespace,
	}
	if vf := app.ValuesFile(cluster); vf != "" {
		src.ValuesFiles = []string{vf}
	}
	key := rev + "|" + app.Name + "|" + src.Path + "|" + app.ValuesFile(cluster)
	g.mu.Lock()
	cached, ok := g.renders[key]
	g.mu.Unlock()
	if ok {
		return deepCopyAll(cached), nil
	}
	fsys, err := g.tree(rev)
	if err != nil {
		return nil, err
	}
	objs, err := render.Render(fsys, src)
	if err != nil {
		return nil, fmt.Errorf("render %s for %s at %s: %w", app.Name, cluster, short(rev), err)
	}
	g.mu.Lock()
	g.renders[key] = objs
	g.mu.Unlock()
	return deepCopyAll(objs), nil
}

func (g *gitSource) Chart(rev string, app scenario.App) (chartMeta, error) {
	key := rev + "|" + app.Path
	g.mu.Lock()
	cm, ok := g.charts[key]
	g.mu.Unlock()
	if ok {
		return cm, nil
	}
	fsys, err := g.tree(rev)
	if err != nil {
		return chartMeta{}, err
	}
	data, err := fs.ReadFile(fsys, path.Join(app.Path, "Chart.yaml"))
	if err != nil {
		return chartMeta{}, fmt.Errorf("chart of %s at %s: %w", app.Name, short(rev), err)
	}
	if err := yaml.Unmarshal(data, &cm); err != nil {
		return chartMeta{}, fmt.Errorf("chart of %s at %s: parse Chart.yaml: %w", app.Name, short(rev), err)
	}
	g.mu.Lock()
	g.charts[key] = cm
	g.mu.Unlock()
	return cm, nil
}

func (g *gitSource) ReadFile(rev, name string) ([]byte, error) {
	fsys, err := g.tree(rev)
	if err != nil {
		return nil, err
	}
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("monorepo %s: read %s at %s: %w", g.dir, name, short(rev), err)
	}
	return data, nil
}

func (g *gitSource) Resolve(abbrev string) (string, error) {
	repo, err := g.open()
	if err != nil {
		return "", err
	}
	h, err := repo.ResolveRevision(plumbing.Revision(abbrev))
	if err != nil {
		return "", fmt.Errorf("monorepo %s: resolve %s: %w", g.dir, abbrev, err)
	}
	return h.String(), nil
}

func (g *gitSource) Parent(rev string) (string, error) {
	repo, err := g.open()
	if err != nil {
		return "", err
	}
	c, err := repo.CommitObject(plumbing.NewHash(rev))
	if err != nil {
		return "", fmt.Errorf("monorepo %s: commit %s: %w", g.dir, short(rev), err)
	}
	if len(c.ParentHashes) == 0 {
		return "", nil
	}
	return c.ParentHashes[0].String(), nil
}

// forget drops cached renders of commits not in keep.
func (g *gitSource) forget(keep map[string]bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for k := range g.renders {
		if rev, _, _ := strings.Cut(k, "|"); !keep[rev] {
			delete(g.renders, k)
		}
	}
}
