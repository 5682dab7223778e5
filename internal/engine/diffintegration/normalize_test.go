package diffintegration

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/fleetdeck/fleetdeck/fleet/diff"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/sandboxtest"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

// The objects git declares, with as little as a chart usually writes: the API server fills in
// the rest.
const (
	gitDeployment = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: diff-defaults
  namespace: default
  labels: {app: diff-defaults}
spec:
  selector: {matchLabels: {app: diff-defaults}}
  template:
    metadata: {labels: {app: diff-defaults}}
    spec:
      containers:
      - name: app
        image: registry.fleetdeck.test/shop/diff-defaults:1.0.0
        ports: [{name: http, containerPort: 8080}]
        env: [{name: MODE, value: prod}]
        resources: {requests: {cpu: "0.5", memory: 64Mi}, limits: {memory: 128Mi}}
        readinessProbe: {httpGet: {path: /healthz, port: http}}
        livenessProbe: {tcpSocket: {port: 8080}}
        volumeMounts: [{name: config, mountPath: /etc/app}]
      volumes:
      - name: config
        configMap: {name: diff-defaults}
      - name: scratch
        emptyDir: {}
`
	gitService = `
apiVersion: v1
kind: Service
metadata: {name: diff-defaults, namespace: default}
spec:
  selector: {app: diff-defaults}
  ports: [{name: http, port: 80}]
`
	gitNodePortService = `
apiVersion: v1
kind: Service
metadata: {name: diff-defaults-np, namespace: default}
spec:
  type: NodePort
  selector: {app: diff-defaults}
  ports: [{port: 8443, targetPort: 8443, protocol: TCP}]
`
	gitStatefulSet = `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: diff-defaults, namespace: default}
spec:
  serviceName: diff-defaults
  replicas: 1
  selector: {matchLabels: {app: diff-defaults-db}}
  template:
    metadata: {labels: {app: diff-defaults-db}}
    spec:
      containers:
      - name: db
        image: registry.fleetdeck.test/shop/db:2
        ports: [{containerPort: 5432}]
        volumeMounts: [{name: data, mountPath: /var/lib/db}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
`
)

// handChanged is, per kind, a field the git objects above set, for a change by hand.
var handChanged = map[string][]string{
	"Deployment":  {"metadata", "labels", "app"},
	"Service":     {"spec", "selector", "app"},
	"StatefulSet": {"spec", "serviceName"},
}

// TestNormalisationAgainstAPIServer creates each object on a sandbox API server (a dry run:
// nothing is stored), once with create as kubectl create does and once with server-side apply
// as Argo CD and Flux do, reads back what the server made of it, and requires the comparison
// with git to find nothing. It also requires that the server defaulted at least 15 fields
// git did not set, so the test checks the normalisation of real defaults.
func TestNormalisationAgainstAPIServer(t *testing.T) {
	f := sandboxtest.Fleet(t)
	rc, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: f.Kubeconfig},
		&clientcmd.ConfigOverrides{CurrentContext: scenario.Staging}).ClientConfig()
	if err != nil {
		t.Fatalf("kubeconfig %s: %v", f.Kubeconfig, err)
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	resources := map[string]schema.GroupVersionResource{
		"Deployment":  {Group: "apps", Version: "v1", Resource: "deployments"},
		"StatefulSet": {Group: "apps", Version: "v1", Resource: "statefulsets"},
		"Service":     {Version: "v1", Resource: "services"},
	}
	defaulted := map[string]bool{}
	for _, src := range []string{gitDeployment, gitService, gitNodePortService, gitStatefulSet} {
		git := unstructuredOf(t, src)
		ri := dyn.Resource(resources[git.GetKind()]).Namespace(git.GetNamespace())
		for _, mode := range []string{"create", "server-side apply"} {
			t.Run(git.GetKind()+" "+git.GetName()+" "+mode, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				var live *unstructured.Unstructured
				var err error
				if mode == "create" {
					live, err = ri.Create(ctx, git.DeepCopy(), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldManager: "kubectl-create"})
				} else {
					live, err = ri.Apply(ctx, git.GetName(), git.DeepCopy(), metav1.ApplyOptions{DryRun: []string{metav1.DryRunAll},
						FieldManager: "argocd-controller", Force: true})
				}
				if err != nil {
					t.Fatalf("%s %s: %v", mode, git.GetName(), err)
				}
				o, warnings := diff.Compare(git.Object, live.Object, diff.Options{})
				if o.Status != diff.Same || len(warnings) > 0 {
					t.Errorf("status %s, warnings %q, want same; diff:\n%s", o.Status, warnings, o.Diff)
				}
				// The same object with a field git sets changed by hand must still differ.
				patched := live.DeepCopy()
				if err := unstructured.SetNestedField(patched.Object, "changed-by-hand", handChanged[git.GetKind()]...); err != nil {
					t.Fatal(err)
				}
				if o, _ := diff.Compare(git.Object, patched.Object, diff.Options{}); o.Status != diff.Changed {
					t.Errorf("a hand-changed label is not a difference:\n%s", o.Diff)
				}
				for _, p := range extraLeaves(live.Object, git.Object, "") {
					defaulted[git.GetKind()+" "+p] = true
				}
			})
		}
	}
	var list []string
	for k := range defaulted {
		list = append(list, k)
	}
	sort.Strings(list)
	t.Logf("%d fields the API server set that git did not:\n  %s", len(list), strings.Join(list, "\n  "))
	for _, kind := range []string{"Deployment", "Service", "StatefulSet"} {
		if !slices.ContainsFunc(list, func(s string) bool { return strings.HasPrefix(s, kind+" ") }) {
			t.Errorf("the server defaulted nothing in a %s", kind)
		}
	}
	if len(list) < 15 {
		t.Errorf("only %d defaulted fields checked, want at least 15", len(list))
	}
}

// extraLeaves lists the leaf paths of live that git does not have, outside status and the
// server's metadata (list items by position).
func extraLeaves(live, git any, at string) []string {
	switch l := live.(type) {
	case map[string]any:
		g, _ := git.(map[string]any)
		var out []string
		for k, v := range l {
			p := at + "." + k
			if p == ".status" || p == ".metadata.managedFields" || p == ".metadata.uid" || p == ".metadata.resourceVersion" ||
				p == ".metadata.creationTimestamp" || p == ".metadata.generation" {
				continue
			}
			gv, ok := g[k]
			if !ok {
				out = append(out, p)
				continue
			}
			out = append(out, extraLeaves(v, gv, p)...)
		}
		return out
	case []any:
		g, _ := git.([]any)
		var out []string
		for i, v := range l {
			var gv any
			if i < len(g) {
				gv = g[i]
			}
			out = append(out, extraLeaves(v, gv, fmt.Sprintf("%s[%d]", at, i))...)
		}
		return out
	}
	return nil
}
