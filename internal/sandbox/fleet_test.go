package sandbox_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/fleetdeck/fleetdeck/internal/sandbox"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/sandboxtest"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

func TestMain(m *testing.M) { sandboxtest.Main(m) }

var (
	argoApps = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}
	fluxKs   = schema.GroupVersionResource{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Resource: "kustomizations"}
	fluxHR   = schema.GroupVersionResource{Group: "helm.toolkit.fluxcd.io", Version: "v2", Resource: "helmreleases"}
)

func kubectl(t *testing.T, f *sandbox.Fleet, args ...string) string {
	t.Helper()
	bin := f.Bins.Kubectl
	if bin == "" {
		bin = "kubectl"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"--kubeconfig", f.Kubeconfig}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// eventually polls cond until it returns "" (success) or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		if last = cond(); last == "" {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("after %s: %s", timeout, last)
}

func TestKubectlSeesRunningPodsOnKwokNodes(t *testing.T) {
	f := sandboxtest.Fleet(t)
	eventually(t, 60*time.Second, func() string {
		out := kubectl(t, f, "--context", scenario.ProdUS, "get", "pods", "-A", "-o", "wide", "--no-headers")
		running := 0
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if strings.Contains(line, " Running ") && strings.Contains(line, "kwok-") {
				running++
			}
		}
		if running < 4 {
			return "fewer than 4 Running pods on kwok nodes:\n" + out
		}
		return ""
	})
}

func TestLogsFollowStreamsNewLines(t *testing.T) {
	f := sandboxtest.Fleet(t)
	cs, err := f.Clientset(scenario.ProdEU)
	if err != nil {
		t.Fatal(err)
	}
	app, _ := scenario.AppByName(scenario.HealthyApp)
	var pod corev1.Pod
	eventually(t, 60*time.Second, func() string {
		pods, err := cs.CoreV1().Pods(app.Namespace).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return err.Error()
		}
		for _, p := range pods.Items {
			if p.Status.Phase == corev1.PodRunning {
				pod = p
				return ""
			}
		}
		return "no running pod of " + app.Name
	})
	bin := f.Bins.Kubectl
	if bin == "" {
		bin = "kubectl"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--kubeconfig", f.Kubeconfig, "--context", scenario.ProdEU,
		"-n", app.Namespace, "logs", "-f", "--since=1s", pod.Name, "-c", app.Name)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	start := time.Now()
	sc := bufio.NewScanner(stdout)
	var lines []string
	for len(lines) < 3 && sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) < 3 {
		t.Fatalf("kubectl logs -f gave %d lines in %s: %q", len(lines), time.Since(start), lines)
	}
	if lines[0] == lines[2] {
		t.Errorf("expected distinct new lines, got %q", lines)
	}
}

func TestViewerMayListButNotDelete(t *testing.T) {
	f := sandboxtest.Fleet(t)
	app, _ := scenario.AppByName(scenario.HealthyApp)
	ctx := scenario.ProdUS + "-viewer"
	if out := strings.TrimSpace(kubectlAllowFail(t, f, "--context", ctx, "auth", "can-i", "list", "deployments", "-n", app.Namespace)); out != "yes" {
		t.Errorf("viewer list deployments in %s: %q, want yes", app.Namespace, out)
	}
	if out := strings.TrimSpace(kubectlAllowFail(t, f, "--context", ctx, "auth", "can-i", "delete", "pods", "-n", app.Namespace)); out != "no" {
		t.Errorf("viewer delete pods: %q, want no", out)
	}
	cs, err := f.ClientsetAs(scenario.ProdUS, "-viewer")
	if err != nil {
		t.Fatal(err)
	}
	err = cs.CoreV1().Pods(app.Namespace).DeleteCollection(context.Background(), metav1.DeleteOptions{}, metav1.ListOptions{})
	if err == nil || !strings.Contains(err.Error(), "forbidden") {
		t.Errorf("viewer delete: err = %v, want forbidden", err)
	}
}

func kubectlAllowFail(t *testing.T, f *sandbox.Fleet, args ...string) string {
	t.Helper()
	bin := f.Bins.Kubectl
	if bin == "" {
		bin = "kubectl"
	}
	out, _ := exec.Command(bin, append([]string{"--kubeconfig", f.Kubeconfig}, args...)...).Output()
	return string(out)
}

func TestSecondUpInSameDirRefuses(t *testing.T) {
	f := sandboxtest.Fleet(t)
	_, err := sandbox.Up(context.Background(), sandbox.Options{Dir: f.Dir})
	if err == nil || !strings.Contains(err.Error(), "already running") || !strings.Contains(err.Error(), "demo down") {
		t.Fatalf("second Up: err = %v, want a clear 'already running … demo down' refusal", err)
	}
}

func TestGeneratedConfigNamesTheFleet(t *testing.T) {
	f := sandboxtest.Fleet(t)
	b, err := os.ReadFile(f.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"name: prod-eu", "name: prod-us", "name: staging", "kubeconfig: kubeconfig",
		"url: " + f.RepoURL, "name: ledger", "render: yaml", "namespaces: [argocd]"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("config.yaml lacks %q:\n%s", want, b)
		}
	}
}

func dyn(t *testing.T, f *sandbox.Fleet, cluster string) dynamic.Interface {
	t.Helper()
	cfg, err := f.RESTConfig(cluster)
	if err != nil {
		t.Fatal(err)
	}
	d, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func getObj(t *testing.T, d dynamic.Interface, gvr schema.GroupVersionResource, ns, name string) *unstructured.Unstructured {
	t.Helper()
	u, err := d.Resource(gvr).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get %s %s/%s: %v", gvr.Resource, ns, name, err)
	}
	return u
}

func str(u *unstructured.Unstructured, path ...string) string {
	s, _, _ := unstructured.NestedString(u.Object, path...)
	return s
}

func argoApp(t *testing.T, f *sandbox.Fleet, app, cluster string) *unstructured.Unstructured {
	t.Helper()
	return getObj(t, dyn(t, f, scenario.ArgoHub), argoApps, scenario.ArgoNamespace, scenario.ArgoAppName(app, cluster))
}

func readyCondition(u *unstructured.Unstructured) string {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Ready" {
			s, _ := m["status"].(string)
			return s
		}
	}
	return ""
}

func nestedSlice(u *unstructured.Unstructured, path ...string) ([]any, bool, error) {
	return unstructured.NestedSlice(u.Object, path...)
}
