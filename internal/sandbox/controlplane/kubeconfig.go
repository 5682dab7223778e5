package controlplane

import (
	"fmt"
	"os"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// writeKubeconfig writes the fleet's kubeconfig: per cluster a context named
// after it (admin) and a "<cluster>-viewer" context (restricted user), with
// the CA embedded. The first cluster is the current context.
func writeKubeconfig(path string, caPEM []byte, clusters []*clusterRun) error {
	cfg := clientcmdapi.NewConfig()
	for _, c := range clusters {
		cfg.Clusters[c.name] = &clientcmdapi.Cluster{Server: c.info.Server, CertificateAuthorityData: caPEM}
		admin, viewer := c.name+"-admin", c.name+"-"+ViewerUser
		cfg.AuthInfos[admin] = &clientcmdapi.AuthInfo{Token: c.tokens["admin"]}
		cfg.AuthInfos[viewer] = &clientcmdapi.AuthInfo{Token: c.tokens[ViewerUser]}
		cfg.Contexts[c.info.Context] = &clientcmdapi.Context{Cluster: c.name, AuthInfo: admin, Namespace: "default"}
		cfg.Contexts[c.info.ViewerContext] = &clientcmdapi.Context{Cluster: c.name, AuthInfo: viewer, Namespace: "default"}
	}
	if len(clusters) > 0 {
		cfg.CurrentContext = clusters[0].info.Context
	}
	return writeConfig(path, cfg)
}

// writeComponentKubeconfig writes the single-context kubeconfig a
// controller-manager, scheduler or kwok logs in with.
func writeComponentKubeconfig(path, server string, caPEM []byte, user, token string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["sandbox"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["sandbox"] = &clientcmdapi.Context{Cluster: "sandbox", AuthInfo: user}
	cfg.CurrentContext = "sandbox"
	return writeConfig(path, cfg)
}

func writeConfig(path string, cfg *clientcmdapi.Config) error {
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return fmt.Errorf("encode kubeconfig %s: %w", path, err)
	}
	// Tokens inside: owner only.
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	return os.Chmod(path, 0o600)
}

// RESTConfig returns the client configuration of a context of the fleet's
// kubeconfig (a cluster name for admin, ViewerContext(name) for the
// restricted user).
func (f *Fleet) RESTConfig(context string) (*rest.Config, error) {
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: f.Kubeconfig},
		&clientcmd.ConfigOverrides{CurrentContext: context}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("controlplane: kubeconfig %s, context %s: %w", f.Kubeconfig, context, err)
	}
	return cfg, nil
}
