// Package syncintegration runs `fleetdeck sync` against the sandbox fleet, whose stand-in
// operator honours Argo CD sync operations and Flux reconcile requests.
package syncintegration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/fleetdeck/fleetdeck/cli"
	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/internal/sandbox"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/sandboxtest"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
	"github.com/fleetdeck/fleetdeck/kube"
)

func TestMain(m *testing.M) { sandboxtest.Main(m) }

// syncDeadline is the bound: from the request to the instance Synced and healthy.
const syncDeadline = 30 * time.Second

// waitInstance polls status until the instance satisfies ok, and fails after within.
func waitInstance(t *testing.T, f *sandbox.Fleet, app, cluster string, within time.Duration, what string, ok func(cli.InstanceReport) bool) time.Duration {
	t.Helper()
	start := time.Now()
	var last cli.InstanceReport
	for {
		rep, _ := sandboxtest.Status(t, f.ConfigPath, "--app", app, "--timeout", "10s")
		in, found := sandboxtest.Instance(rep, app, cluster)
		if found && ok(in) {
			return time.Since(start)
		}
		last = in
		if time.Since(start) > within {
			t.Fatalf("%s on %s not %s within %s: sync %s (%s), health %s (%s), drift %v, images %+v",
				app, cluster, what, within, last.Sync.Status, last.Sync.Reason, last.Health.Status, last.Health.Message, last.Drift, last.Images)
		}
		time.Sleep(time.Second)
	}
}

func settled(in cli.InstanceReport) bool {
	return in.Sync.Status == fleet.Synced && in.Health.Status == fleet.Healthy && !in.Drift
}

// sync runs the verb for one instance, confirmed, without a terminal.
func sync(t *testing.T, f *sandbox.Fleet, app, cluster string) sandboxtest.Result {
	t.Helper()
	r := sandboxtest.Run(t, "sync", app, "--cluster", cluster, "--yes", "--config", f.ConfigPath, "--wait", syncDeadline.String())
	t.Logf("fleetdeck sync %s --cluster %s (exit %d, %s):\n%s%s", app, cluster, r.Code, r.Took.Round(time.Millisecond), r.Stdout, r.Stderr)
	if r.Code != cli.ExitOK {
		t.Fatalf("sync exited %d:\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	return r
}

func TestSyncOnTheSandbox(t *testing.T) {
	f := sandboxtest.Fleet(t)

	t.Run("Argo CD: the hand-patched app is synced back to git", func(t *testing.T) {
		var p scenario.Problem
		for _, pr := range scenario.Problems {
			if pr.Kind == scenario.HandPatch {
				p = pr
			}
		}
		waitInstance(t, f, p.App, p.Cluster, 90*time.Second, "drifted by the hand patch", func(in cli.InstanceReport) bool {
			return in.Drift && in.Sync.Status == fleet.OutOfSync
		})
		start := time.Now()
		r := sync(t, f, p.App, p.Cluster)
		for _, want := range []string{p.App, p.Cluster, "Application", "Succeeded"} {
			if !strings.Contains(r.Stdout+r.Stderr, want) {
				t.Errorf("sync's output does not mention %q", want)
			}
		}
		waitInstance(t, f, p.App, p.Cluster, syncDeadline-time.Since(start), "Synced, Healthy and without drift", settled)
		t.Logf("%s on %s Synced and Healthy %s after the request", p.App, p.Cluster, time.Since(start).Round(time.Millisecond))
	})

	t.Run("Flux: a Kustomization re-applies git over a hand patch", func(t *testing.T) {
		app, _ := scenario.AppByName(scenario.CatalogAPI)
		cluster := scenario.Staging
		if app.Instances[cluster] != scenario.Flux {
			t.Fatalf("scenario: %s on %s is not applied by Flux", app.Name, cluster)
		}
		patchImage(t, f, app, cluster, "hotfix-sync-1")
		waitInstance(t, f, app.Name, cluster, 30*time.Second, "drifted", func(in cli.InstanceReport) bool { return in.Drift })
		start := time.Now()
		r := sync(t, f, app.Name, cluster)
		for _, want := range []string{"Kustomization", "GitRepository"} {
			if !strings.Contains(r.Stdout+r.Stderr, want) {
				t.Errorf("sync's output does not mention %q", want)
			}
		}
		waitInstance(t, f, app.Name, cluster, syncDeadline-time.Since(start), "Ready, Healthy and without drift", settled)
		t.Logf("%s on %s back to git %s after the request", app.Name, cluster, time.Since(start).Round(time.Millisecond))
	})

	t.Run("read-only mode refuses before any request", func(t *testing.T) {
		r := sandboxtest.Run(t, "sync", scenario.CatalogAPI, "--cluster", scenario.ProdEU, "--yes", "--readonly", "--config", f.ConfigPath)
		if r.Code != cli.ExitError || !strings.Contains(r.Stderr, "read-only") {
			t.Errorf("sync --readonly: exit %d, stderr %q; want exit 2 naming read-only mode", r.Code, r.Stderr)
		}
	})

	t.Run("an app no operator applies is refused", func(t *testing.T) {
		r := sandboxtest.Run(t, "sync", scenario.Ledger, "--yes", "--config", f.ConfigPath)
		if r.Code == cli.ExitOK || !strings.Contains(r.Stdout+r.Stderr, "never applies manifests") {
			t.Errorf("sync %s: exit %d, output %q; want a refusal saying fleetdeck never applies manifests", scenario.Ledger, r.Code, r.Stdout+r.Stderr)
		}
	})
}

// patchImage changes the app's main container image on the live Deployment by hand.
func patchImage(t *testing.T, f *sandbox.Fleet, app scenario.App, cluster, tag string) {
	t.Helper()
	cs, err := f.Clientset(cluster)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	list, err := cs.AppsV1().Deployments(app.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range list.Items {
		for _, c := range d.Spec.Template.Spec.Containers {
			if strings.HasPrefix(c.Image, app.Image()+":") {
				patch := fmt.Sprintf(`{"spec":{"template":{"spec":{"containers":[{"name":%q,"image":%q}]}}}}`, c.Name, app.Image()+":"+tag)
				if _, err := cs.AppsV1().Deployments(d.Namespace).Patch(ctx, d.Name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
					t.Fatal(err)
				}
				return
			}
		}
	}
	t.Fatalf("cluster %s: no deployment in %s runs %s", cluster, app.Namespace, app.Image())
}

// rbacUser is the user the documented ClusterRoles are bound to; the sandbox's admin
// impersonates it, so every request is authorised as that user alone.
const rbacUser = "fleetdeck-rbac-test"

// TestDocumentedClusterRolesAreEnough binds exactly the ClusterRoles of `fleetdeck config
// clusterrole` (and the README) to a user with no other rights and runs every view and sync
// as that user: nothing is forbidden, so fleetdeck asks for no right beyond those listed.
func TestDocumentedClusterRolesAreEnough(t *testing.T) {
	f := sandboxtest.Fleet(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, c := range f.Clusters {
		cs, err := f.Clientset(c)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []struct {
			name  string
			rules []kube.Rule
		}{{kube.ViewerRoleName, kube.ReadRules}, {kube.SyncRoleName, kube.SyncRules}} {
			// Named apart from the sandbox's own viewer role.
			name := r.name + "-documented"
			role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: kube.PolicyRules(r.rules)}
			if _, err := cs.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
				t.Fatalf("cluster %s: create ClusterRole %s: %v", c, name, err)
			}
			binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
				RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: name},
				Subjects: []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "User", Name: rbacUser}}}
			if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
				t.Fatalf("cluster %s: bind ClusterRole %s: %v", c, name, err)
			}
		}
	}
	path := impersonatingConfig(t, f, rbacUser)

	rep, r := sandboxtest.Status(t, path, "--timeout", "15s")
	for _, c := range rep.Clusters {
		if c.State != fleet.ConnSynced || len(c.Forbidden) > 0 {
			t.Errorf("status as %s: cluster %s %s, forbidden %v (%s)", rbacUser, c.Name, c.State, c.Forbidden, c.Error)
		}
	}
	for _, a := range rep.Apps {
		for _, in := range a.Instances {
			if strings.Contains(in.Health.Message, "forbidden") || in.Health.Status == fleet.Unknown {
				t.Errorf("status as %s: %s on %s %s: %s", rbacUser, in.App, in.Cluster, in.Health.Status, in.Health.Message)
			}
		}
	}
	if strings.Contains(r.Stderr, "forbidden") {
		t.Errorf("status as %s warns: %s", rbacUser, r.Stderr)
	}

	logs := sandboxtest.Run(t, "logs", scenario.CatalogAPI, "--no-follow", "--tail", "3", "--config", path)
	if logs.Code != cli.ExitOK || strings.Contains(logs.Stderr, "forbidden") {
		t.Errorf("logs as %s: exit %d, stderr %q", rbacUser, logs.Code, logs.Stderr)
	}
	for _, c := range f.Clusters {
		if !strings.Contains(logs.Stdout, c+" ") {
			t.Errorf("logs as %s: no line from %s", rbacUser, c)
		}
	}

	var behind scenario.Problem
	for _, p := range scenario.Problems {
		if p.Kind == scenario.Behind {
			behind = p
		}
	}
	d := sandboxtest.Run(t, "diff", behind.App, "--cluster", behind.Cluster, "--config", path)
	if d.Code != cli.ExitProblems || !strings.Contains(d.Stdout, "image:") || strings.Contains(d.Stdout+d.Stderr, "forbidden") {
		t.Errorf("diff as %s: exit %d, want 1 with the image change and nothing forbidden:\n%s%s", rbacUser, d.Code, d.Stdout, d.Stderr)
	}

	s := sandboxtest.Run(t, "sync", scenario.CatalogAPI, "--cluster", scenario.ProdEU, "--yes", "--config", path, "--wait", syncDeadline.String())
	if s.Code != cli.ExitOK {
		t.Errorf("sync as %s: exit %d:\n%s%s", rbacUser, s.Code, s.Stdout, s.Stderr)
	}
}

// impersonatingConfig writes a copy of the sandbox's config whose kubeconfig impersonates
// user on every context.
func impersonatingConfig(t *testing.T, f *sandbox.Fleet, user string) string {
	t.Helper()
	kc, err := clientcmd.LoadFromFile(f.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range kc.Contexts {
		if ai, ok := kc.AuthInfos[c.AuthInfo]; ok {
			ai.Impersonate = user
		}
	}
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, kubeconfig); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(f.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "config.yaml")
	text := strings.ReplaceAll(string(data), "kubeconfig: kubeconfig", "kubeconfig: "+kubeconfig)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
