package engine

import (
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/fleetdeck/fleetdeck/config"
	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/kube/watch"
)

// declaredApps turns the config's applications into the model's declared apps. The model has
// one path and namespace per declared app, while the config may override both per cluster
// (a kustomize overlay per environment): clusters sharing a path and namespace become one
// DeclaredApp, and apps of the same name merge into one Application in the model anyway.
func declaredApps(cfg *config.Config) []fleet.DeclaredApp {
	var out []fleet.DeclaredApp
	for _, a := range cfg.Applications {
		r, _ := cfg.Repository(a.Repo)
		branch := r.Branch
		if branch == "" {
			branch = config.DefaultBranch
		}
		index := map[[2]string]int{}
		for _, c := range a.Clusters {
			path, ns := firstNonEmpty(c.Path, a.Path), firstNonEmpty(c.Namespace, a.Namespace, config.DefaultNamespace)
			k := [2]string{path, ns}
			i, ok := index[k]
			if !ok {
				i = len(out)
				index[k] = i
				out = append(out, fleet.DeclaredApp{Name: a.Name, RepoURL: r.URL, Path: path, Branch: branch, Namespace: ns})
			}
			out[i].Clusters = append(out[i].Clusters, c.Name)
		}
	}
	return out
}

// candidateNamespaces are the namespaces worth trying on cluster for a resource the
// credentials may list neither cluster-wide nor namespace by namespace from a namespace list
// (see watch.Options.CandidateNamespaces): the namespaces of the applications declared on it,
// those where the config's discovery looks for Argo CD and Flux objects on it, and the
// namespace of its kubeconfig context (contextNS, "" when none). Sorted, without duplicates.
func candidateNamespaces(cfg *config.Config, cluster, contextNS string) []string {
	var out []string
	add := func(ns ...string) {
		for _, n := range ns {
			if n != "" && !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	for _, a := range cfg.Applications {
		for _, c := range a.Clusters {
			if c.Name == cluster {
				add(firstNonEmpty(c.Namespace, a.Namespace, config.DefaultNamespace))
			}
		}
	}
	for _, sources := range [][]config.DiscoverySource{cfg.Discovery.ArgoCD, cfg.Discovery.Flux} {
		for _, src := range sources {
			if src.Cluster == cluster {
				add(src.Namespaces...)
			}
		}
	}
	add(contextNS)
	slices.Sort(out)
	return out
}

// contextNamespace is the namespace the cluster's kubeconfig context names, "" when it names
// none or the kubeconfig cannot be read (kube.RESTConfig reports that).
func contextNamespace(c config.Cluster) string {
	raw, err := clientcmd.LoadFromFile(c.Kubeconfig)
	if err != nil {
		return ""
	}
	if ctx, ok := raw.Contexts[c.Context]; ok {
		return ctx.Namespace
	}
	return ""
}

// watchOptions are the watch options of one cluster: the engine's, with the cluster's
// candidate namespaces added to any the caller gave.
func watchOptions(base watch.Options, cfg *config.Config, c config.Cluster) watch.Options {
	o := base
	o.CandidateNamespaces = slices.Clone(base.CandidateNamespaces)
	for _, ns := range candidateNamespaces(cfg, c.Name, contextNamespace(c)) {
		if !slices.Contains(o.CandidateNamespaces, ns) {
			o.CandidateNamespaces = append(o.CandidateNamespaces, ns)
		}
	}
	return o
}

// clusterAliases maps the names and server URLs Argo CD uses in Application destinations to
// fleetdeck cluster names: the configured argocdName and argocdServer, and the API server URL
// of each cluster's kubeconfig context (hosts maps cluster name to that URL), which is what
// Argo CD's cluster secrets usually hold.
func clusterAliases(cfg *config.Config, hosts map[string]string) map[string]string {
	out := map[string]string{}
	for _, c := range cfg.Clusters {
		if h := strings.TrimSuffix(hosts[c.Name], "/"); h != "" {
			out[h] = c.Name
		}
	}
	// Explicit configuration wins over what the kubeconfig implies.
	for _, c := range cfg.Clusters {
		if c.ArgocdName != "" {
			out[c.ArgocdName] = c.Name
		}
		if c.ArgocdServer != "" {
			out[strings.TrimSuffix(c.ArgocdServer, "/")] = c.Name
		}
	}
	return out
}

// discoveryFilter keeps the GitOps objects the config's discovery section points at. An empty
// list for an operator means "wherever they are found": fleetdeck discovers operators rather
// than assuming them, and the config only narrows the search.
type discoveryFilter struct {
	argo, flux []config.DiscoverySource
}

func newDiscoveryFilter(d config.Discovery) discoveryFilter {
	return discoveryFilter{argo: d.ArgoCD, flux: d.Flux}
}

func (f discoveryFilter) apply(s *watch.ClusterSnapshot) {
	s.Applications = keep(s.Applications, s.Cluster, f.argo)
	s.Kustomizations = keep(s.Kustomizations, s.Cluster, f.flux)
	s.HelmReleases = keep(s.HelmReleases, s.Cluster, f.flux)
}

func keep(objs []*unstructured.Unstructured, cluster string, sources []config.DiscoverySource) []*unstructured.Unstructured {
	if len(sources) == 0 || len(objs) == 0 {
		return objs
	}
	var namespaces []string
	found, all := false, false
	for _, src := range sources {
		if src.Cluster != cluster {
			continue
		}
		found = true
		if len(src.Namespaces) == 0 {
			all = true
		}
		namespaces = append(namespaces, src.Namespaces...)
	}
	switch {
	case !found:
		return nil
	case all:
		return objs
	}
	out := make([]*unstructured.Unstructured, 0, len(objs))
	for _, o := range objs {
		if slices.Contains(namespaces, o.GetNamespace()) {
			out = append(out, o)
		}
	}
	return out
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
