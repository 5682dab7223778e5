package config

import (
	"fmt"
	"os"
	"strings"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// kubeconfigFile is one parsed kubeconfig, or why it could not be read.
type kubeconfigFile struct {
	cfg    *clientcmdapi.Config
	reason string
	hint   string
}

// kubeconfigPath is the absolute kubeconfig of a cluster and how to name it
// to the user (as written in the file, or the default's origin).
func (c *checker) kubeconfigPath(cl Cluster) (abs, shown string) {
	if cl.Kubeconfig == "" {
		return DefaultKubeconfig(c.getenv)
	}
	return ResolvePath(cl.Kubeconfig, c.src.Dir, c.getenv), cl.Kubeconfig
}

func readKubeconfig(abs, shown string) *kubeconfigFile {
	data, err := os.ReadFile(abs)
	if err != nil {
		return &kubeconfigFile{reason: osReason(err)}
	}
	cfg, err := clientcmd.Load(data)
	if err != nil {
		// The decoder's message can quote the file, and kubeconfigs hold
		// tokens: name the file, not its content.
		return &kubeconfigFile{reason: "not a valid kubeconfig",
			hint: "check it with: kubectl config view --kubeconfig " + shown}
	}
	return &kubeconfigFile{cfg: cfg}
}

// checkKubeconfig checks that the cluster's kubeconfig can be read and
// holds its context, and records the effective context.
func (c *checker) checkKubeconfig(i int, cl Cluster) {
	before := c.problems.Errors()
	defer func() {
		if c.problems.Errors() > before {
			if c.src.unusable == nil {
				c.src.unusable = map[int]bool{}
			}
			c.src.unusable[i] = true
		}
	}()
	abs, shown := c.kubeconfigPath(cl)
	kf := c.kubeconfigs[abs]
	if kf == nil {
		kf = readKubeconfig(abs, shown)
		c.kubeconfigs[abs] = kf
	}
	if kf.cfg == nil {
		hint := kf.hint
		if hint == "" {
			if cl.Kubeconfig == "" {
				hint = "set kubeconfig: to the file that holds this cluster's context, or export KUBECONFIG"
			} else {
				hint = "relative paths are relative to the config file's directory and ~ is your home; remove the key to use $KUBECONFIG or ~/.kube/config"
			}
		}
		c.errorAt(loc("clusters", i, "kubeconfig"), hint, "cluster %q: cannot read kubeconfig %s: %s", cl.Name, shown, kf.reason)
		return
	}
	contexts := sortedKeys(kf.cfg.Contexts)
	ctxName := cl.Context
	if ctxName == "" {
		ctxName = kf.cfg.CurrentContext
		if ctxName == "" {
			c.errorAt(loc("clusters", i, "context"), contextsHint("set context: to one of", contexts),
				"cluster %q names no context and kubeconfig %s has no current-context", cl.Name, shown)
			return
		}
	}
	kctx, ok := kf.cfg.Contexts[ctxName]
	if !ok {
		hint := contextsHint("available contexts:", contexts)
		if s, ok := closest(ctxName, contexts); ok {
			hint = fmt.Sprintf("did you mean %q? %s", s, hint)
		}
		where := "kubeconfig " + shown
		if cl.Context == "" {
			where = "current-context of kubeconfig " + shown
		}
		c.errorAt(loc("clusters", i, "context"), hint, "cluster %q: context %q not found (%s)", cl.Name, ctxName, where)
		return
	}
	c.contexts[i] = ctxName
	if _, ok := kf.cfg.Clusters[kctx.Cluster]; !ok {
		c.errorAt(loc("clusters", i, "context"), "fix the context's cluster: entry in the kubeconfig",
			"cluster %q: context %q refers to cluster %q, which kubeconfig %s does not define", cl.Name, ctxName, kctx.Cluster, shown)
	}
	if kctx.AuthInfo != "" {
		if _, ok := kf.cfg.AuthInfos[kctx.AuthInfo]; !ok {
			c.warnAt(loc("clusters", i, "context"), "requests will be anonymous; fix the context's user: entry in the kubeconfig",
				"cluster %q: context %q refers to user %q, which kubeconfig %s does not define", cl.Name, ctxName, kctx.AuthInfo, shown)
		}
	}
}

func contextsHint(prefix string, contexts []string) string {
	if len(contexts) == 0 {
		return "the kubeconfig defines no contexts"
	}
	return prefix + " " + strings.Join(contexts, ", ")
}
