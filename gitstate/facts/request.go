package facts

import (
	"net/url"
	"path"
	"strings"

	"github.com/fleetdeck/fleetdeck/config"
	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/gitstate/render"
	"github.com/fleetdeck/fleetdeck/gitstate/repo"
)

// Request says what to read for one instance.
type Request struct {
	Key fleet.GitKey
	// Repo is the configured repository's name.
	Repo string
	// Revision is the branch, "HEAD" or a commit; "" is the tracked branch.
	Revision string
	// Path is the repository directory rendered: the chart, the
	// kustomization or the directory of YAML files.
	Path string
	// Kind is how Path renders; "" detects it from the files at the commit
	// (Chart.yaml: helm; a kustomization file: kustomize; else yaml), as
	// Argo CD does.
	Kind render.Kind
	// ValuesFiles are Helm values files relative to Path.
	ValuesFiles []string
	// ReleaseName is the Helm release name.
	ReleaseName string
	// Namespace is the target namespace: Helm's release namespace and the
	// namespace of objects that name none.
	Namespace string
	// ForceNamespace puts every rendered object in Namespace, whatever
	// namespace git gives it (a Flux Kustomization's targetNamespace).
	ForceNamespace bool
	// Declared asks for DesiredAt: renders at recent commits of Path, which
	// place the live objects of an application nobody reports a revision for.
	Declared bool
}

// Request turns what fleet.InstanceSources lists into a Request. It reports
// false when the instance has no source in a configured repository (a Helm
// repository chart, a repository fleetdeck does not clone, a Flux source it
// could not resolve): such instances get no git facts.
//
// Declared applications take path, render kind, values files and namespace
// from the configuration for the instance's cluster, and use the application
// name as Helm release name. Operator instances render with the release name
// and namespace the operator uses (fleet.InstanceSource: Argo CD's
// Application name or helm.releaseName, a HelmRelease's releaseName and
// targetNamespace, a Kustomization's targetNamespace); Flux values files,
// written relative to the source root, are made relative to the chart.
func (r *Reader) Request(src fleet.InstanceSource) (Request, bool) {
	req := Request{Key: src.Key, Revision: src.Revision, Namespace: src.Namespace, ForceNamespace: src.ForceNamespace,
		ReleaseName: src.ReleaseName}
	if req.ReleaseName == "" {
		req.ReleaseName = src.Key.App
	}
	if src.Operator == fleet.OperatorDeclared {
		if app, ac, ok := r.declared(src.Key); ok {
			req.Repo, req.Path, req.Kind = app.Repo, repo.CleanPaths([]string{ac.Path})[0], render.Kind(app.Render)
			req.ValuesFiles, req.Namespace, req.Declared = ac.ValuesFiles, ac.Namespace, true
			req.ForceNamespace, req.ReleaseName = false, src.Key.App
			if req.Revision == "" {
				if rc, ok := r.cfg.Repository(app.Repo); ok {
					req.Revision = rc.Branch
				}
			}
			return req, r.repos[req.Repo] != nil
		}
		req.Declared = true
	}
	name, ok := r.repoByURL(src.RepoURL)
	if !ok {
		return Request{}, false
	}
	req.Repo = name
	switch {
	case src.Operator == fleet.OperatorFlux && src.Chart != "":
		// A HelmRelease whose chart is a directory of the GitRepository.
		req.Kind = render.Helm
		req.Path = repo.CleanPaths([]string{src.Chart})[0]
		for _, vf := range src.ValueFiles {
			req.ValuesFiles = append(req.ValuesFiles, relativeTo(req.Path, repo.CleanPaths([]string{vf})[0]))
		}
	case src.Path == "" && src.Chart != "":
		return Request{}, false // a chart from a Helm repository: nothing in git
	default:
		req.Path = repo.CleanPaths([]string{src.Path})[0]
		req.ValuesFiles = src.ValueFiles
	}
	return req, true
}

// declared finds a declared application's entry for a cluster.
func (r *Reader) declared(k fleet.GitKey) (config.Application, config.AppCluster, bool) {
	if r.cfg == nil {
		return config.Application{}, config.AppCluster{}, false
	}
	for _, a := range r.cfg.Applications {
		if a.Name != k.App {
			continue
		}
		for _, c := range a.Clusters {
			if c.Name == k.Cluster {
				if c.Path == "" {
					c.Path = a.Path
				}
				if c.Namespace == "" {
					c.Namespace = a.Namespace
				}
				return a, c, true
			}
		}
	}
	return config.Application{}, config.AppCluster{}, false
}

// repoByURL finds the configured repository an operator's source URL names.
func (r *Reader) repoByURL(u string) (string, bool) {
	if u == "" || r.cfg == nil {
		return "", false
	}
	want := NormalizeURL(u)
	for _, rc := range r.cfg.Repositories {
		if NormalizeURL(rc.URL) == want && r.repos[rc.Name] != nil {
			return rc.Name, true
		}
	}
	return "", false
}

// NormalizeURL reduces a git remote URL to what identifies the repository, so
// the URL in an Argo CD Application or Flux GitRepository matches the
// configured one when they differ only in form: scheme (https, ssh, scp-like
// git@host:path), user, port, letter case of the host, a trailing ".git" or
// "/". Local paths and file:// URLs reduce to the cleaned path.
func NormalizeURL(u string) string {
	s := strings.TrimSpace(u)
	if !strings.Contains(s, "://") {
		if strings.HasPrefix(s, "/") {
			return trimRepoSuffix(path.Clean(s))
		}
		// scp-like: [user@]host:path
		if host, p, ok := strings.Cut(s, ":"); ok && !strings.Contains(host, "/") {
			if _, h, ok := strings.Cut(host, "@"); ok {
				host = h
			}
			return strings.ToLower(host) + "/" + trimRepoSuffix(strings.TrimPrefix(p, "/"))
		}
		return trimRepoSuffix(s)
	}
	pu, err := url.Parse(s)
	if err != nil {
		return trimRepoSuffix(s)
	}
	if pu.Scheme == "file" {
		return trimRepoSuffix(path.Clean("/" + strings.TrimPrefix(pu.Host+pu.Path, "/")))
	}
	return strings.ToLower(pu.Hostname()) + "/" + trimRepoSuffix(strings.TrimPrefix(pu.Path, "/"))
}

func trimRepoSuffix(p string) string {
	p = strings.TrimRight(p, "/")
	return strings.TrimSuffix(p, ".git")
}

// relativeTo writes target (a repository path) relative to dir.
func relativeTo(dir, target string) string {
	if dir == "" || dir == "." {
		return target
	}
	if rest, ok := strings.CutPrefix(target, dir+"/"); ok {
		return rest
	}
	d := strings.Split(dir, "/")
	t := strings.Split(target, "/")
	i := 0
	for i < len(d) && i < len(t) && d[i] == t[i] {
		i++
	}
	return strings.Repeat("../", len(d)-i) + strings.Join(t[i:], "/")
}
