package controlplane

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/fleetdeck/fleetdeck/internal/sandbox/binaries"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

// serviceIP is the first address of the service range: the in-cluster
// "kubernetes" service.
const (
	serviceCIDR = "10.96.0.0/16"
	serviceIP   = "10.96.0.1"
)

// portAttempts bounds retries when a chosen port is taken before the
// program binds it.
const portAttempts = 4

// startEtcd starts the fleet's single etcd; each cluster's apiserver keeps
// its data under its own prefix.
func (f *Fleet) startEtcd(ctx context.Context, bin string) (*Process, error) {
	data := filepath.Join(f.Dir, "etcd")
	for attempt := 1; ; attempt++ {
		ports, err := freePorts(2)
		if err != nil {
			return nil, err
		}
		client := "http://127.0.0.1:" + strconv.Itoa(ports[0])
		peer := "http://127.0.0.1:" + strconv.Itoa(ports[1])
		p, err := f.spawn("etcd", bin,
			"--name=sandbox",
			"--data-dir="+data,
			"--listen-client-urls="+client, "--advertise-client-urls="+client,
			"--listen-peer-urls="+peer, "--initial-advertise-peer-urls="+peer,
			"--initial-cluster=sandbox="+peer,
			// A throwaway store: durability is not worth the fsync latency.
			"--unsafe-no-fsync",
			"--log-level=warn",
		)
		if err != nil {
			return nil, err
		}
		f.mu.Lock()
		f.EtcdURL = client
		f.mu.Unlock()
		hc := &http.Client{Timeout: 2 * time.Second}
		err = waitFor(ctx, "etcd health", []*Process{p}, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
			body, code, err := get(ctx, hc, client+"/health", "")
			return err == nil && code == http.StatusOK && strings.Contains(body, `"health":"true"`), err
		})
		if err == nil {
			return p, nil
		}
		if attempt < portAttempts && p.addrInUse() {
			f.forget(p)
			_ = os.RemoveAll(data)
			continue
		}
		return nil, err
	}
}

// clusterRun starts and checks one cluster.
type clusterRun struct {
	f     *Fleet
	name  string
	index int
	ca    *ca
	bins  binaries.Paths
	kwok  KwokOptions
	etcd  *Process

	dir    string
	tokens map[string]string // user → token
	info   Cluster
	rest   *rest.Config
	client kubernetes.Interface
}

// Users of a cluster's token file. Components get their own names so the
// apiserver's audit and logs say who did what.
var users = []struct {
	name   string
	groups string
}{
	{"admin", "system:masters"},
	{ViewerUser, "fleetdeck:viewers"},
	{"system:kube-controller-manager", "system:masters"},
	{"system:kube-scheduler", "system:masters"},
	{"kwok", "system:masters"},
}

func (c *clusterRun) start(ctx context.Context) error {
	begin := time.Now()
	c.dir = filepath.Join(c.f.Dir, "clusters", c.name)
	if err := c.writeFiles(); err != nil {
		return err
	}
	api, err := c.startAPIServer(ctx)
	if err != nil {
		return err
	}
	c.f.logf("%s: kube-apiserver ready at %s (%s)", c.name, c.info.Server, since(begin))
	for _, comp := range []string{"kube-controller-manager", "kube-scheduler", "kwok"} {
		user := "system:" + comp
		if comp == "kwok" {
			user = "kwok"
		}
		if err := writeComponentKubeconfig(filepath.Join(c.dir, comp+".kubeconfig"), c.info.Server, c.ca.certPEM, user, c.tokens[user]); err != nil {
			return err
		}
	}
	kcm, err := c.f.spawn(c.name+"-kube-controller-manager", c.bins.KubeControllerManager,
		"--kubeconfig="+filepath.Join(c.dir, "kube-controller-manager.kubeconfig"),
		// nodeipam would want a cluster CIDR; kwok assigns pod IPs itself.
		// nodelifecycle stays on: it lifts the not-ready taint.
		"--controllers=*,-nodeipam",
		"--leader-elect=false",
		"--secure-port=0",
		"--cluster-name="+c.name,
		"--service-account-private-key-file="+filepath.Join(c.dir, "sa.key"),
		"--root-ca-file="+filepath.Join(c.f.Dir, "pki", "ca.crt"),
		"--use-service-account-credentials=false",
	)
	if err != nil {
		return err
	}
	sched, err := c.f.spawn(c.name+"-kube-scheduler", c.bins.KubeScheduler,
		"--kubeconfig="+filepath.Join(c.dir, "kube-scheduler.kubeconfig"),
		"--leader-elect=false",
		"--secure-port=0",
	)
	if err != nil {
		return err
	}
	if err := c.setupViewer(ctx); err != nil {
		return err
	}
	if err := c.startKwok(ctx, []*Process{c.etcd, api, kcm, sched}); err != nil {
		return err
	}
	// The ServiceAccount admission plugin rejects pods in a namespace until
	// the controller-manager has created its default service account.
	err = waitFor(ctx, "the default service account in namespace default", []*Process{c.etcd, api, kcm}, 200*time.Millisecond,
		func(ctx context.Context) (bool, error) {
			_, err := c.client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return false, nil
			}
			return err == nil, err
		})
	if err != nil {
		return err
	}
	c.f.logf("%s: ready: node %s Ready, default service account present (%s)", c.name, c.info.NodeName, since(begin))
	return nil
}

// writeFiles writes the cluster's serving cert, service-account keys and
// token file.
func (c *clusterRun) writeFiles() error {
	certPEM, keyPEM, err := c.ca.servingCert("kube-apiserver-" + c.name)
	if err != nil {
		return err
	}
	saPub, saKey, err := serviceAccountKeys()
	if err != nil {
		return err
	}
	c.tokens = map[string]string{}
	var csv strings.Builder
	for i, u := range users {
		tok, err := newToken()
		if err != nil {
			return err
		}
		c.tokens[u.name] = tok
		// token,user,uid,"group1,group2"
		fmt.Fprintf(&csv, "%s,%s,%d,%q\n", tok, u.name, 1000+i, u.groups)
	}
	return writeFiles(c.dir, map[string][]byte{
		"apiserver.crt": certPEM, "apiserver.key": keyPEM,
		"sa.pub": saPub, "sa.key": saKey,
		"tokens.csv": []byte(csv.String()),
	})
}

func (c *clusterRun) startAPIServer(ctx context.Context) (*Process, error) {
	for attempt := 1; ; attempt++ {
		ports, err := freePorts(1)
		if err != nil {
			return nil, err
		}
		port := ports[0]
		p, err := c.f.spawn(c.name+"-kube-apiserver", c.bins.KubeAPIServer,
			"--etcd-servers="+c.f.EtcdURL,
			"--etcd-prefix=/"+c.name,
			"--bind-address=127.0.0.1",
			"--advertise-address=127.0.0.1",
			"--secure-port="+strconv.Itoa(port),
			"--cert-dir="+filepath.Join(c.dir, "certs"),
			"--tls-cert-file="+filepath.Join(c.dir, "apiserver.crt"),
			"--tls-private-key-file="+filepath.Join(c.dir, "apiserver.key"),
			"--client-ca-file="+filepath.Join(c.f.Dir, "pki", "ca.crt"),
			"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
			"--service-account-key-file="+filepath.Join(c.dir, "sa.pub"),
			"--service-account-signing-key-file="+filepath.Join(c.dir, "sa.key"),
			"--token-auth-file="+filepath.Join(c.dir, "tokens.csv"),
			"--authorization-mode=RBAC",
			"--service-cluster-ip-range="+serviceCIDR,
			// The kwok node's name does not resolve; reach it by its IP.
			"--kubelet-preferred-address-types=InternalIP",
			// Endpoints of the kubernetes service may not be loopback
			// addresses; nothing in the sandbox needs them.
			"--endpoint-reconciler-type=none",
			"--profiling=false",
		)
		if err != nil {
			return nil, err
		}
		c.info = Cluster{
			Name: c.name, Server: "https://127.0.0.1:" + strconv.Itoa(port), APIServerPort: port,
			NodeName: NodeName(c.name), Context: c.name, ViewerContext: ViewerContext(c.name),
		}
		hc, err := c.httpClient()
		if err != nil {
			return nil, err
		}
		err = waitFor(ctx, "kube-apiserver /readyz", []*Process{c.etcd, p}, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
			_, code, err := get(ctx, hc, c.info.Server+"/readyz", c.tokens["admin"])
			return err == nil && code == http.StatusOK, err
		})
		if err == nil {
			c.rest = &rest.Config{Host: c.info.Server, BearerToken: c.tokens["admin"],
				TLSClientConfig: rest.TLSClientConfig{CAData: c.ca.certPEM}, QPS: 100, Burst: 200}
			c.client, err = kubernetes.NewForConfig(c.rest)
			if err != nil {
				return nil, err
			}
			return p, nil
		}
		if attempt < portAttempts && p.addrInUse() {
			c.f.forget(p)
			continue
		}
		return nil, err
	}
}

func (c *clusterRun) httpClient() (*http.Client, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(c.ca.certPEM) {
		return nil, errors.New("bad CA certificate")
	}
	return &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
	}}, nil
}

// startKwok creates the cluster's fake node and the kwok process that
// plays its kubelet, and waits for the node to be Ready.
func (c *clusterRun) startKwok(ctx context.Context, watch []*Process) error {
	cfg, err := kwokConfig(c.name, c.kwok)
	if err != nil {
		return err
	}
	cfgPath := filepath.Join(c.dir, "kwok.yaml")
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		if err := c.createNode(ctx); err != nil {
			return err
		}
		ports, err := freePorts(1)
		if err != nil {
			return err
		}
		port := strconv.Itoa(ports[0])
		p, err := c.f.spawn(c.name+"-kwok", c.bins.Kwok,
			"--kubeconfig="+filepath.Join(c.dir, "kwok.kubeconfig"),
			"--config="+cfgPath,
			"--manage-nodes-with-annotation-selector="+kwokNodeAnnotation+"=fake",
			"--node-ip=127.0.0.1",
			"--node-port="+port,
			"--server-address=127.0.0.1:"+port,
			// A /16 per cluster: room for the thousands of pods of the
			// benchmarks, and pod IPs that differ between clusters.
			fmt.Sprintf("--cidr=10.%d.0.0/16", 64+c.index),
			"--node-lease-duration-seconds=40",
		)
		if err != nil {
			return err
		}
		c.info.KwokPort = ports[0]
		err = waitFor(ctx, "node "+c.info.NodeName+" Ready", append(watch, p), 200*time.Millisecond, func(ctx context.Context) (bool, error) {
			n, err := c.client.CoreV1().Nodes().Get(ctx, c.info.NodeName, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			for _, cond := range n.Status.Conditions {
				if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
					return true, nil
				}
			}
			return false, nil
		})
		if err == nil {
			return nil
		}
		if attempt < portAttempts && p.addrInUse() {
			// The node may already carry the dead port as its kubelet
			// endpoint; make it anew for the next kwok.
			c.f.forget(p)
			if derr := c.client.CoreV1().Nodes().Delete(ctx, c.info.NodeName, metav1.DeleteOptions{}); derr != nil && !apierrors.IsNotFound(derr) {
				return errors.Join(err, derr)
			}
			continue
		}
		return err
	}
}

// Capacity of each fake node: enough for the benchmarks' thousands of pods.
var nodeCapacity = corev1.ResourceList{
	corev1.ResourceCPU:    resource.MustParse("32"),
	corev1.ResourceMemory: resource.MustParse("256Gi"),
	corev1.ResourcePods:   resource.MustParse("2000"),
}

func (c *clusterRun) createNode(ctx context.Context) error {
	name := c.info.NodeName
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{kwokNodeAnnotation: "fake", "node.alpha.kubernetes.io/ttl": "0"},
			Labels: map[string]string{
				"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
				"node-role.kubernetes.io/agent": "", "type": "kwok",
			},
		},
		Status: corev1.NodeStatus{Capacity: nodeCapacity, Allocatable: nodeCapacity,
			// kwok keeps node info that is set; without it nodes report
			// "kwok-v0.8.0" as their kubelet version.
			NodeInfo: corev1.NodeSystemInfo{
				KubeletVersion: binaries.KubernetesVersion, ContainerRuntimeVersion: "kwok://" + binaries.KwokVersion,
				OSImage: "fleetdeck sandbox (kwok)", OperatingSystem: "linux", Architecture: "amd64",
			}},
	}
	_, err := c.client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create node %s: %w", name, err)
	}
	return nil
}

// ViewerDeniedNamespace is the app namespace the restricted user may not
// read: the payments team keeps its namespace to itself.
func ViewerDeniedNamespace() string {
	a, _ := scenario.AppByName(scenario.PaymentsAPI)
	return a.Namespace
}

// ViewerNamespaces are the namespaces the restricted user may read: every
// app namespace of the scenario except ViewerDeniedNamespace.
func ViewerNamespaces() []string {
	var out []string
	seen := map[string]bool{}
	for _, a := range scenario.Apps {
		if a.Namespace == ViewerDeniedNamespace() || seen[a.Namespace] {
			continue
		}
		seen[a.Namespace] = true
		out = append(out, a.Namespace)
	}
	return out
}

var readVerbs = []string{"get", "list", "watch"}

// viewerRules are what the restricted user reads in its namespaces: the
// workload kinds, never secrets and never pods/log.
var viewerRules = []rbacv1.PolicyRule{
	{APIGroups: []string{""}, Verbs: readVerbs, Resources: []string{
		"pods", "services", "endpoints", "configmaps", "events", "serviceaccounts",
		"persistentvolumeclaims", "replicationcontrollers", "resourcequotas", "limitranges"}},
	{APIGroups: []string{"apps"}, Verbs: readVerbs, Resources: []string{"deployments", "replicasets", "statefulsets", "daemonsets"}},
	{APIGroups: []string{"batch"}, Verbs: readVerbs, Resources: []string{"jobs", "cronjobs"}},
	{APIGroups: []string{"autoscaling"}, Verbs: readVerbs, Resources: []string{"horizontalpodautoscalers"}},
	{APIGroups: []string{"policy"}, Verbs: readVerbs, Resources: []string{"poddisruptionbudgets"}},
	{APIGroups: []string{"networking.k8s.io"}, Verbs: readVerbs, Resources: []string{"ingresses", "networkpolicies"}},
	{APIGroups: []string{"discovery.k8s.io"}, Verbs: readVerbs, Resources: []string{"endpointslices"}},
	{APIGroups: []string{"events.k8s.io"}, Verbs: readVerbs, Resources: []string{"events"}},
	{APIGroups: []string{"argoproj.io"}, Verbs: readVerbs, Resources: []string{"applications", "applicationsets", "appprojects"}},
	{APIGroups: []string{"kustomize.toolkit.fluxcd.io", "helm.toolkit.fluxcd.io", "source.toolkit.fluxcd.io"}, Verbs: readVerbs, Resources: []string{"*"}},
}

const viewerRole = "fleetdeck-viewer"

// setupViewer creates the app namespaces and gives the restricted user
// read access to some of them (RoleBindings) and to namespaces and nodes.
func (c *clusterRun) setupViewer(ctx context.Context) error {
	rbac := c.client.RbacV1()
	labels := map[string]string{"app.kubernetes.io/managed-by": "fleetdeck-sandbox"}
	objs := []func() error{
		func() error {
			_, err := rbac.ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
				ObjectMeta: metav1.ObjectMeta{Name: viewerRole, Labels: labels}, Rules: viewerRules}, metav1.CreateOptions{})
			return err
		},
		func() error {
			_, err := rbac.ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
				ObjectMeta: metav1.ObjectMeta{Name: viewerRole + "-cluster", Labels: labels},
				Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Verbs: readVerbs, Resources: []string{"namespaces", "nodes"}}},
			}, metav1.CreateOptions{})
			return err
		},
		func() error {
			_, err := rbac.ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
				ObjectMeta: metav1.ObjectMeta{Name: viewerRole + "-cluster", Labels: labels},
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: viewerRole + "-cluster"},
				Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: ViewerUser}},
			}, metav1.CreateOptions{})
			return err
		},
	}
	namespaces := map[string]bool{}
	for _, a := range scenario.Apps {
		namespaces[a.Namespace] = true
	}
	for ns := range namespaces {
		objs = append(objs, func() error {
			_, err := c.client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{
				ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
			return err
		})
	}
	for _, ns := range ViewerNamespaces() {
		objs = append(objs, func() error {
			_, err := rbac.RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
				ObjectMeta: metav1.ObjectMeta{Name: viewerRole, Namespace: ns, Labels: labels},
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: viewerRole},
				Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: ViewerUser}},
			}, metav1.CreateOptions{})
			return err
		})
	}
	for _, create := range objs {
		if err := create(); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("set up the %s user: %w", ViewerUser, err)
		}
	}
	return nil
}

// waitFor polls cond until it holds, ctx ends, or one of the watched
// processes exits (then the error shows that process's last log lines).
func waitFor(ctx context.Context, what string, watch []*Process, every time.Duration, cond func(context.Context) (bool, error)) error {
	var lastErr error
	for {
		for _, p := range watch {
			if p != nil && !p.Alive() {
				return fmt.Errorf("waiting for %s: %w", what, p.exitedErr())
			}
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		ok, err := cond(cctx)
		cancel()
		if ok {
			return nil
		}
		if err != nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return fmt.Errorf("waiting for %s: %w (last error: %v)", what, ctx.Err(), lastErr)
			}
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-time.After(every):
		}
	}
}

// get fetches url with an optional bearer token.
func get(ctx context.Context, hc *http.Client, url, token string) (string, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", 0, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return string(body), resp.StatusCode, err
}
