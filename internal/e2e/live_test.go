package e2e

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/fleetdeck/fleetdeck/internal/sandbox"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

// liveDeadline is how long a change made on a cluster may take to reach the screen, with no
// key pressed: the acceptance figure.
const liveDeadline = 3 * time.Second

// screenPoll is how often the live tests read the screen while timing a change.
const screenPoll = 100 * time.Millisecond

// workloadUnderTest is the Deployment of an app on one cluster that the live tests change and
// restore.
type workloadUnderTest struct {
	cs        *kubernetes.Clientset
	app       scenario.App
	cluster   string
	name      string
	selector  string // the Deployment's pod selector, as a label selector string
	container string // the app's main container
	replicas  int32  // replicas before any change
	image     string // the main container's image before any change
}

// findWorkload finds the Deployment that runs app's image on cluster.
func findWorkload(t *testing.T, f *sandbox.Fleet, app scenario.App, cluster string) *workloadUnderTest {
	t.Helper()
	cs, err := f.Clientset(cluster)
	if err != nil {
		t.Fatalf("cluster %s: clientset: %v", cluster, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	list, err := cs.AppsV1().Deployments(app.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("cluster %s: list deployments in %s: %v", cluster, app.Namespace, err)
	}
	var found []*workloadUnderTest
	for i := range list.Items {
		d := &list.Items[i]
		for _, c := range d.Spec.Template.Spec.Containers {
			if !strings.HasPrefix(c.Image, app.Image()+":") {
				continue
			}
			sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
			if err != nil {
				t.Fatalf("cluster %s: deployment %s/%s: selector: %v", cluster, d.Namespace, d.Name, err)
			}
			w := &workloadUnderTest{cs: cs, app: app, cluster: cluster, name: d.Name,
				selector: sel.String(), container: c.Name, replicas: 1, image: c.Image}
			if d.Spec.Replicas != nil {
				w.replicas = *d.Spec.Replicas
			}
			found = append(found, w)
		}
	}
	if len(found) != 1 {
		t.Fatalf("cluster %s: want one deployment in %s running %s, found %d", cluster, app.Namespace, app.Image(), len(found))
	}
	return found[0]
}

// pods lists the workload's pods that are not being deleted, by name.
func (w *workloadUnderTest) pods(ctx context.Context) ([]corev1.Pod, error) {
	list, err := w.cs.CoreV1().Pods(w.app.Namespace).List(ctx, metav1.ListOptions{LabelSelector: w.selector})
	if err != nil {
		return nil, fmt.Errorf("cluster %s: list pods of deployment %s/%s: %w", w.cluster, w.app.Namespace, w.name, err)
	}
	var out []corev1.Pod
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func (w *workloadUnderTest) scale(ctx context.Context, replicas int32) error {
	deploys := w.cs.AppsV1().Deployments(w.app.Namespace)
	// The controllers update the Deployment all the time during a rollout: read and write
	// again on a conflict, as kubectl scale does.
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		s, err := deploys.GetScale(ctx, w.name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("cluster %s: get scale of deployment %s/%s: %w", w.cluster, w.app.Namespace, w.name, err)
		}
		s.Spec.Replicas = replicas
		if _, err := deploys.UpdateScale(ctx, w.name, s, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("cluster %s: scale deployment %s/%s to %d: %w", w.cluster, w.app.Namespace, w.name, replicas, err)
		}
		return nil
	})
}

// setImage sets the main container's image, as `kubectl set image` does.
func (w *workloadUnderTest) setImage(ctx context.Context, image string) error {
	patch := fmt.Sprintf(`{"spec":{"template":{"spec":{"containers":[{"name":%q,"image":%q}]}}}}`, w.container, image)
	_, err := w.cs.AppsV1().Deployments(w.app.Namespace).Patch(ctx, w.name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{})
	if err != nil {
		return fmt.Errorf("cluster %s: set image of deployment %s/%s to %s: %w", w.cluster, w.app.Namespace, w.name, image, err)
	}
	return nil
}

// waitSettled waits until the Deployment has rolled out its current spec with every replica
// available and no other pods left.
func (w *workloadUnderTest) waitSettled(ctx context.Context) error {
	var last string
	for {
		d, err := w.cs.AppsV1().Deployments(w.app.Namespace).Get(ctx, w.name, metav1.GetOptions{})
		if err == nil {
			pods, perr := w.pods(ctx)
			want := int32(1)
			if d.Spec.Replicas != nil {
				want = *d.Spec.Replicas
			}
			st := d.Status
			if perr == nil && st.ObservedGeneration >= d.Generation && st.UpdatedReplicas == want &&
				st.Replicas == want && st.AvailableReplicas == want && st.ReadyReplicas == want && int32(len(pods)) == want {
				return nil
			}
			last = fmt.Sprintf("generation %d observed %d, replicas %d: status %d updated %d ready %d available %d, %d pods",
				d.Generation, st.ObservedGeneration, want, st.Replicas, st.UpdatedReplicas, st.ReadyReplicas, st.AvailableReplicas, len(pods))
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster %s: deployment %s/%s did not settle: %s", w.cluster, w.app.Namespace, w.name, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// restore puts the Deployment back as it was found and waits until it has settled, so that
// the tests after this one see the scenario's fleet.
func (w *workloadUnderTest) restore(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := w.setImage(ctx, w.image); err != nil {
		t.Errorf("restore: %v", err)
	}
	if err := w.scale(ctx, w.replicas); err != nil {
		t.Errorf("restore: %v", err)
	}
	if err := w.waitSettled(ctx); err != nil {
		t.Errorf("restore: %v", err)
	}
}

// waitShownRestored waits until the screen shows the instance Synced and Healthy without
// drift again, as the scenario has it: the cluster is back and so is what fleetdeck makes of it.
func (w *workloadUnderTest) waitShownRestored(t *testing.T, term *terminal) {
	t.Helper()
	term.waitFor(w.app.Name+" on "+w.cluster+" Synced and Healthy again", time.Minute, func(s []string) bool {
		row := instanceRow(s, w.cluster)
		return strings.Contains(row, "Synced") && strings.Contains(row, "Healthy") && !strings.Contains(row, "DRIFT")
	})
}

// sighting is when the test's watch first saw an object in a state, and which object.
type sighting struct {
	at   time.Time
	name string
}

// watchFor watches w until match accepts an object and sends that moment once. The goroutine
// ends with ctx.
func watchFor[T any](ctx context.Context, w watch.Interface, match func(T) bool, name func(T) string) <-chan sighting {
	out := make(chan sighting, 1)
	go func() {
		defer w.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.ResultChan():
				if !ok {
					return
				}
				obj, isT := any(ev.Object).(T)
				if !isT || ev.Type == watch.Deleted || !match(obj) {
					continue
				}
				out <- sighting{at: time.Now(), name: name(obj)}
				return
			}
		}
	}()
	return out
}

// cursorRow is the tree part of the selected row ("" when none is shown).
func cursorRow(screen []string) string {
	for _, line := range screen[2 : len(screen)-1] {
		if left := treeLeft(line); strings.HasPrefix(left, "›") {
			return strings.TrimRight(left, " ")
		}
	}
	return ""
}

// treeRowWith is the tree part of the first row whose name column shows name ("" when none).
func treeRowWith(screen []string, name string) string {
	re := regexp.MustCompile(`(^|\s)` + regexp.QuoteMeta(name) + `(\s|$)`)
	for _, line := range screen[2 : len(screen)-1] {
		if left := treeLeft(line); re.MatchString(left) {
			return strings.TrimRight(left, " ")
		}
	}
	return ""
}

// moveCursorTo presses j until the selected row satisfies ok, failing after max presses.
func (term *terminal) moveCursorTo(what string, limit int, ok func(row string) bool) {
	term.t.Helper()
	for range limit {
		s := term.screen()
		row := cursorRow(s)
		if ok(row) {
			return
		}
		term.keys("j")
		term.waitFor("the cursor moved off "+row, 10*time.Second, func(s []string) bool { return cursorRow(s) != row })
	}
	if !ok(cursorRow(term.screen())) {
		term.t.Fatalf("the cursor did not reach %s after %d presses of j:\n%s", what, limit, strings.Join(term.screen(), "\n"))
	}
}

// expandToPods filters the tree to w's app, expands it, moves to its instance on w's cluster,
// expands that, moves to the Deployment and expands it: the tree then shows its pods.
func expandToPods(t *testing.T, term *terminal, w *workloadUnderTest) {
	term.keys("/")
	term.typeText(w.app.Name)
	term.keys("Enter")
	term.waitFor("only "+w.app.Name, 10*time.Second, func(s []string) bool {
		apps := treeApps(s)
		return len(apps) == 1 && apps[0] == w.app.Name
	})
	term.keys("Right")
	term.waitFor("the instance on "+w.cluster, 10*time.Second, func(s []string) bool { return instanceRow(s, w.cluster) != "" })
	instance := regexp.MustCompile(`[▸▾]\s+` + regexp.QuoteMeta(w.cluster) + `\s`)
	term.moveCursorTo("the instance on "+w.cluster, len(w.app.Instances)+1, instance.MatchString)
	term.keys("Right")
	deploy := "deploy/" + w.name
	term.waitFor("the Deployment "+deploy, 10*time.Second, func(s []string) bool { return treeRowWith(s, deploy) != "" })
	term.moveCursorTo("the Deployment "+deploy, 10, func(row string) bool { return strings.Contains(row, "▸ "+deploy) })
	term.keys("Right")
	term.waitFor("the Deployment "+deploy+" expanded", 10*time.Second, func(s []string) bool {
		return strings.Contains(treeRowWith(s, deploy), "▾ "+deploy)
	})
}

// timeScreen reads the screen every screenPoll until ok accepts it or timeout passes and
// returns when it was first accepted (zero when it never was) and the last screen read.
func (term *terminal) timeScreen(timeout time.Duration, ok func([]string) bool) (time.Time, []string) {
	term.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		at := time.Now()
		s := term.screen()
		if ok(s) {
			return at, s
		}
		if at.After(deadline) {
			return time.Time{}, s
		}
		time.Sleep(time.Until(at.Add(screenPoll)))
	}
}

// testLive runs the live subtests on app's Deployment on cluster: expansion to its pods, then
// changes made on the cluster that must reach the screen without a key press. The Deployment
// is restored, and the tree's filter cleared and the app collapsed, when it returns.
func testLive(t *testing.T, f *sandbox.Fleet, term *terminal, app scenario.App, cluster string) {
	w := findWorkload(t, f, app, cluster)
	t.Cleanup(func() {
		term.keys("g", "h", "Escape")
		term.waitFor("every application after the live tests", 10*time.Second, allApps)
	})

	if !t.Run("expand to pods on "+cluster, func(t *testing.T) {
		expandToPods(t, term, w)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		pods, err := w.pods(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(pods) == 0 {
			t.Fatalf("cluster %s: deployment %s/%s has no pods", cluster, app.Namespace, w.name)
		}
		s := term.waitFor("every pod of deploy/"+w.name, 10*time.Second, func(s []string) bool {
			for _, p := range pods {
				if treeRowWith(s, p.Name) == "" {
					return false
				}
			}
			return true
		})
		for _, p := range pods {
			if row := treeRowWith(s, p.Name); !strings.Contains(row, "Healthy") {
				t.Errorf("pod %s of the healthy %s is not shown Healthy: %q", p.Name, app.Name, row)
			}
		}
	}) {
		return
	}

	t.Run("scale shows without a key press", func(t *testing.T) {
		t.Cleanup(func() { w.restore(t); w.waitShownRestored(t, term) })
		deploy := "deploy/" + w.name
		want := w.replicas + 3
		before := fmt.Sprintf("%d/%d ready", w.replicas, w.replicas)
		term.waitFor(deploy+" "+before, 30*time.Second, func(s []string) bool {
			return strings.Contains(treeRowWith(s, deploy), before)
		})

		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		dw, err := w.cs.AppsV1().Deployments(app.Namespace).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + w.name})
		if err != nil {
			t.Fatalf("cluster %s: watch deployment %s/%s: %v", cluster, app.Namespace, w.name, err)
		}
		allReady := watchFor(ctx, dw, func(d *appsv1.Deployment) bool {
			return d.Status.ReadyReplicas == want && d.Status.AvailableReplicas == want
		}, func(d *appsv1.Deployment) string { return d.Name })

		start := time.Now()
		if err := w.scale(ctx, want); err != nil {
			t.Fatal(err)
		}
		specShown, s := term.timeScreen(15*time.Second, func(s []string) bool {
			return strings.Contains(treeRowWith(s, deploy), fmt.Sprintf("/%d ready", want))
		})
		if specShown.IsZero() {
			t.Fatalf("after 15s %s still does not show %d replicas:\n%s", deploy, want, strings.Join(s, "\n"))
		}
		specDelay := specShown.Sub(start)

		// Then the pods: the cluster makes them ready in its own time; the screen must follow
		// within the deadline of the moment the cluster reports them ready.
		wantReady := fmt.Sprintf("%d/%d ready", want, want)
		readyShown, s := term.timeScreen(time.Minute, func(s []string) bool {
			return strings.Contains(treeRowWith(s, deploy), wantReady)
		})
		if readyShown.IsZero() {
			t.Fatalf("after a minute %s still does not show %s:\n%s", deploy, wantReady, strings.Join(s, "\n"))
		}
		var clusterReady sighting
		select {
		case clusterReady = <-allReady:
		case <-time.After(10 * time.Second):
			t.Fatalf("the screen shows %s but the cluster's watch never reported %d ready replicas", wantReady, want)
		}
		readyDelay := max(0, readyShown.Sub(clusterReady.at))
		pods, err := w.pods(ctx)
		if err != nil {
			t.Fatal(err)
		}
		shownPods := 0
		for _, p := range pods {
			if treeRowWith(s, p.Name) != "" {
				shownPods++
			}
		}
		t.Logf("scale %s on %s from %d to %d: new replica count on screen %s after the request; cluster ready after %s, on screen %s later; %d of %d pods listed",
			w.name, cluster, w.replicas, want, specDelay.Round(time.Millisecond), clusterReady.at.Sub(start).Round(time.Millisecond),
			readyDelay.Round(time.Millisecond), shownPods, len(pods))
		if specDelay > liveDeadline {
			t.Errorf("the new replica count took %s to reach the screen, want ≤ %s", specDelay.Round(time.Millisecond), liveDeadline)
		}
		if readyDelay > liveDeadline {
			t.Errorf("%s took %s after the cluster reported it to reach the screen, want ≤ %s", wantReady, readyDelay.Round(time.Millisecond), liveDeadline)
		}
		if shownPods != int(want) || len(pods) != int(want) {
			t.Errorf("the tree lists %d of the deployment's %d pods, want %d:\n%s", shownPods, len(pods), want, strings.Join(s, "\n"))
		}
	})

	t.Run("crashing pod shows without a key press", func(t *testing.T) {
		t.Cleanup(func() { w.restore(t); w.waitShownRestored(t, term) })
		// The sandbox's kwok makes every pod running the bad bump's image crash-loop.
		var bad scenario.Problem
		for _, p := range scenario.Problems {
			if p.Kind == scenario.BadBump {
				bad = p
			}
		}
		badApp, _ := scenario.AppByName(bad.App)
		crashImage := badApp.Image() + ":" + f.Repo.BadTag

		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		pw, err := w.cs.CoreV1().Pods(app.Namespace).Watch(ctx, metav1.ListOptions{LabelSelector: w.selector})
		if err != nil {
			t.Fatalf("cluster %s: watch pods of deployment %s/%s: %v", cluster, app.Namespace, w.name, err)
		}
		crashed := watchFor(ctx, pw, func(p *corev1.Pod) bool {
			for _, c := range p.Status.ContainerStatuses {
				if c.Image == crashImage && (c.RestartCount > 0 || (c.State.Waiting != nil && c.State.Waiting.Reason == "CrashLoopBackOff")) {
					return true
				}
			}
			return false
		}, func(p *corev1.Pod) string { return p.Name })

		start := time.Now()
		if err := w.setImage(ctx, crashImage); err != nil {
			t.Fatal(err)
		}
		var crash sighting
		select {
		case crash = <-crashed:
		case <-ctx.Done():
			t.Fatalf("cluster %s: no pod of deployment %s/%s crashed within a minute of setting image %s", cluster, app.Namespace, w.name, crashImage)
		}
		shown, s := term.timeScreen(15*time.Second, func(s []string) bool {
			row := treeRowWith(s, crash.name)
			return strings.Contains(row, "CrashLoopBackOff") || strings.Contains(row, "restart")
		})
		if shown.IsZero() {
			t.Fatalf("after 15s the tree still does not show pod %s crashing:\n%s", crash.name, strings.Join(s, "\n"))
		}
		delay := max(0, shown.Sub(crash.at))
		t.Logf("pod %s on %s crashed %s after the image change (cluster's time); on screen %s later: %q",
			crash.name, cluster, crash.at.Sub(start).Round(time.Millisecond), delay.Round(time.Millisecond), treeRowWith(s, crash.name))
		if delay > liveDeadline {
			t.Errorf("the crash of pod %s took %s to reach the screen, want ≤ %s", crash.name, delay.Round(time.Millisecond), liveDeadline)
		}
	})
}
