package sandbox_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fleetdeck/fleetdeck/gitstate/render"
	"github.com/fleetdeck/fleetdeck/gitstate/treefs"
	"github.com/fleetdeck/fleetdeck/internal/sandbox"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/sandboxtest"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

// gitImage renders app on cluster at rev from the fleet's remote and returns
// the image of the app's main container as git declares it.
func gitImage(t *testing.T, f *sandbox.Fleet, appName, cluster, rev string) string {
	t.Helper()
	repo, err := git.PlainOpen(f.RemoteDir)
	if err != nil {
		t.Fatal(err)
	}
	fsys, _, err := treefs.AtRevision(repo, rev)
	if err != nil {
		t.Fatal(err)
	}
	app, _ := scenario.AppByName(appName)
	src := render.Source{Kind: render.Kind(app.Render), Path: app.SourcePath(cluster), Namespace: app.Namespace, ReleaseName: app.Name}
	if vf := app.ValuesFile(cluster); vf != "" {
		src.ValuesFiles = []string{vf}
	}
	objs, err := render.Render(fsys, src)
	if err != nil {
		t.Fatalf("render %s on %s at %s: %v", appName, cluster, rev, err)
	}
	for _, ci := range render.Images(objs) {
		if ci.Kind == "Deployment" && ci.Container == app.Name {
			return ci.Image
		}
	}
	t.Fatalf("render %s on %s: no Deployment container %q", appName, cluster, app.Name)
	return ""
}

func liveImage(t *testing.T, f *sandbox.Fleet, appName, cluster string) string {
	t.Helper()
	cs, err := f.Clientset(cluster)
	if err != nil {
		t.Fatal(err)
	}
	app, _ := scenario.AppByName(appName)
	d, err := cs.AppsV1().Deployments(app.Namespace).Get(context.Background(), app.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("cluster %s: get deployment %s/%s: %v", cluster, app.Namespace, app.Name, err)
	}
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Name == app.Name {
			return c.Image
		}
	}
	t.Fatalf("cluster %s: deployment %s has no container %s", cluster, app.Name, app.Name)
	return ""
}

// podWaiting waits until some pod of the app on cluster has its main container
// waiting with reason, and returns that pod's container status.
func podWaiting(t *testing.T, f *sandbox.Fleet, appName, cluster, reason string, timeout time.Duration) corev1.ContainerStatus {
	t.Helper()
	cs, err := f.Clientset(cluster)
	if err != nil {
		t.Fatal(err)
	}
	app, _ := scenario.AppByName(appName)
	var found corev1.ContainerStatus
	eventually(t, timeout, func() string {
		pods, err := cs.CoreV1().Pods(app.Namespace).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return err.Error()
		}
		var seen []string
		for _, p := range pods.Items {
			for _, st := range p.Status.ContainerStatuses {
				if st.Name != app.Name {
					continue
				}
				if st.State.Waiting != nil && st.State.Waiting.Reason == reason {
					found = st
					return ""
				}
				seen = append(seen, fmt.Sprintf("%s: %+v", p.Name, st.State))
			}
		}
		return fmt.Sprintf("no %s pod waiting with %s; seen %v", appName, reason, seen)
	})
	return found
}

func TestProblemHandPatchDrift(t *testing.T) {
	f := sandboxtest.Fleet(t)
	p := problem(t, scenario.HandPatch)
	live := liveImage(t, f, p.App, p.Cluster)
	want := gitImage(t, f, p.App, p.Cluster, "HEAD")
	if live == want {
		t.Fatalf("%s on %s: live image %s equals git's; want a hand-patched drift", p.App, p.Cluster, live)
	}
	if !strings.HasSuffix(live, ":"+scenario.HandPatchTag) {
		t.Errorf("live image %s, want tag %s", live, scenario.HandPatchTag)
	}
	// The other clusters run what git says.
	for _, c := range scenario.Clusters {
		if c == p.Cluster {
			continue
		}
		if l, g := liveImage(t, f, p.App, c), gitImage(t, f, p.App, c, "HEAD"); l != g {
			t.Errorf("%s on %s: live %s != git %s", p.App, c, l, g)
		}
	}
	app := argoApp(t, f, p.App, p.Cluster)
	eventually(t, 30*time.Second, func() string {
		app = argoApp(t, f, p.App, p.Cluster)
		if s := str(app, "status", "sync", "status"); s != "OutOfSync" {
			return "Argo CD sync status " + s + ", want OutOfSync"
		}
		return ""
	})
}

func TestProblemLatestTag(t *testing.T) {
	f := sandboxtest.Fleet(t)
	p := problem(t, scenario.LatestTag)
	if live := liveImage(t, f, p.App, p.Cluster); !strings.HasSuffix(live, ":latest") {
		t.Errorf("%s on %s runs %s, want :latest", p.App, p.Cluster, live)
	}
	if g := gitImage(t, f, p.App, p.Cluster, "HEAD"); !strings.HasSuffix(g, ":latest") {
		t.Errorf("git declares %s for %s on %s, want :latest", g, p.App, p.Cluster)
	}
}

func TestProblemBadBumpCrashloops(t *testing.T) {
	f := sandboxtest.Fleet(t)
	p := problem(t, scenario.BadBump)
	if live, g := liveImage(t, f, p.App, p.Cluster), gitImage(t, f, p.App, p.Cluster, "HEAD"); live != g || !strings.HasSuffix(g, ":"+f.Repo.BadTag) {
		t.Fatalf("%s on %s: live %s, git %s, want both the bad tag %s", p.App, p.Cluster, live, g, f.Repo.BadTag)
	}
	first := podWaiting(t, f, p.App, p.Cluster, "CrashLoopBackOff", 60*time.Second)
	if first.LastTerminationState.Terminated == nil || first.LastTerminationState.Terminated.ExitCode == 0 {
		t.Errorf("crashlooping container's last state %+v, want terminated with a non-zero exit code", first.LastTerminationState)
	}
	eventually(t, 60*time.Second, func() string {
		now := podWaiting(t, f, p.App, p.Cluster, "CrashLoopBackOff", 10*time.Second)
		if now.RestartCount <= first.RestartCount {
			return fmt.Sprintf("restartCount stays %d", now.RestartCount)
		}
		return ""
	})
	// Degraded comes when the rollout passes its progress deadline (60 s).
	eventually(t, 150*time.Second, func() string {
		if h := str(argoApp(t, f, p.App, p.Cluster), "status", "health", "status"); h != "Degraded" {
			return "Argo CD health " + h + ", want Degraded"
		}
		return ""
	})
}

func TestProblemBehindIsOutOfSync(t *testing.T) {
	f := sandboxtest.Fleet(t)
	p := problem(t, scenario.Behind)
	eventually(t, 30*time.Second, func() string {
		app := argoApp(t, f, p.App, p.Cluster)
		if s := str(app, "status", "sync", "status"); s != "OutOfSync" {
			return "sync " + s + ", want OutOfSync"
		}
		if r := str(app, "status", "operationState", "syncResult", "revision"); r != f.Repo.BehindRevision {
			return "synced revision " + r + ", want " + f.Repo.BehindRevision
		}
		if r := str(app, "status", "sync", "revision"); r != f.Repo.Head {
			return "compared revision " + r + ", want HEAD " + f.Repo.Head
		}
		return ""
	})
	live := liveImage(t, f, p.App, p.Cluster)
	if old := gitImage(t, f, p.App, p.Cluster, f.Repo.BehindRevision); live != old {
		t.Errorf("live %s, want the image at the behind revision %s", live, old)
	}
	if head := gitImage(t, f, p.App, p.Cluster, "HEAD"); live == head {
		t.Errorf("live %s equals HEAD's image; the instance should be behind", live)
	}
}

func TestProblemImagePullBackOff(t *testing.T) {
	f := sandboxtest.Fleet(t)
	p := problem(t, scenario.PullFailure)
	st := podWaiting(t, f, p.App, p.Cluster, "ImagePullBackOff", 60*time.Second)
	if !strings.HasSuffix(st.Image, ":"+f.Repo.PullFailureTag) {
		t.Errorf("waiting container image %s, want tag %s", st.Image, f.Repo.PullFailureTag)
	}
}

func TestHealthyAppEverywhere(t *testing.T) {
	f := sandboxtest.Fleet(t)
	app, _ := scenario.AppByName(scenario.HealthyApp)
	for c, op := range app.Instances {
		if l, g := liveImage(t, f, app.Name, c), gitImage(t, f, app.Name, c, "HEAD"); l != g {
			t.Errorf("%s on %s: live %s != git %s", app.Name, c, l, g)
		}
		switch op {
		case scenario.ArgoCD:
			eventually(t, 30*time.Second, func() string {
				a := argoApp(t, f, app.Name, c)
				if s, h := str(a, "status", "sync", "status"), str(a, "status", "health", "status"); s != "Synced" || h != "Healthy" {
					return fmt.Sprintf("%s on %s: %s/%s, want Synced/Healthy", app.Name, c, s, h)
				}
				return ""
			})
		case scenario.Flux:
			eventually(t, 30*time.Second, func() string {
				k := getObj(t, dyn(t, f, c), fluxKs, scenario.FluxNamespace, app.Name)
				if ready := readyCondition(k); ready != "True" {
					return fmt.Sprintf("%s on %s: Flux Ready=%s, want True", app.Name, c, ready)
				}
				if rev := str(k, "status", "lastAppliedRevision"); rev != scenario.Branch+"@sha1:"+f.Repo.Head {
					return "lastAppliedRevision " + rev
				}
				return ""
			})
		}
	}
}

func TestDeclaredAppRunsWithoutOperator(t *testing.T) {
	f := sandboxtest.Fleet(t)
	app, _ := scenario.AppByName(scenario.Ledger)
	for c := range app.Instances {
		if l, g := liveImage(t, f, app.Name, c), gitImage(t, f, app.Name, c, "HEAD"); l != g {
			t.Errorf("%s on %s: live %s != git %s", app.Name, c, l, g)
		}
	}
}

func TestFluxHelmReleaseShape(t *testing.T) {
	f := sandboxtest.Fleet(t)
	for _, a := range scenario.Apps {
		for c, op := range a.Instances {
			if op != scenario.Flux || a.Render != scenario.Helm {
				continue
			}
			hr := getObj(t, dyn(t, f, c), fluxHR, scenario.FluxNamespace, a.Name)
			if readyCondition(hr) == "" {
				t.Errorf("HelmRelease %s on %s has no Ready condition", a.Name, c)
			}
			if h, _, _ := nestedSlice(hr, "status", "history"); len(h) == 0 {
				t.Errorf("HelmRelease %s on %s has no status.history", a.Name, c)
			}
		}
	}
}

func problem(t *testing.T, k scenario.ProblemKind) scenario.Problem {
	for _, p := range scenario.Problems {
		if p.Kind == k {
			return p
		}
	}
	t.Fatalf("scenario has no %s problem", k)
	return scenario.Problem{}
}
