// Package integration breaks the real sandbox fleet while `fleetdeck status --watch -o json`
// runs as its own process: a killed API server, a killed etcd (shared by every cluster) and an
// API server behind a loopback proxy that answers late. Every fault is undone before its test
// ends, and every measured delay is logged (go test -v) for the README.
package integration

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/fleetdeck/fleetdeck/cli"
	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/internal/faults"
	"github.com/fleetdeck/fleetdeck/internal/sandbox"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/controlplane"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/sandboxtest"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

func TestMain(m *testing.M) { sandboxtest.Main(m) }

// Bounds asserted on the watch's reports (the figures; etcdRecovery is measured, see
// the test).
const (
	unreachableWithin = 5 * time.Second  // a killed API server shows unreachable
	resyncWithin      = 10 * time.Second // a restarted one shows synced again, from the restart
	updateWithin      = 5 * time.Second  // a change on a healthy cluster shows while another is down
	podsWithin        = 20 * time.Second // …and its new pod (controller-manager, scheduler, kwok)
	etcdDown          = 10 * time.Second // how long etcd stays killed
	etcdRecovery      = 20 * time.Second // every cluster synced again, from etcd's restart (measured 6–10 s)
	slowTimeout       = 20 * time.Second // status --timeout with the slow cluster
)

// slowDelay is the proxy's delay: every answer is later than SlowResponse (1s) and, on an open
// connection, earlier than ProbeTimeout (5s). The first probe on a new connection pays it twice
// (the TLS handshake, then /readyz), so 2s would leave it under a second below ProbeTimeout on
// a loaded machine; see TestKnownBugSlowFirstConnection for what happens past it.
const slowDelay = 1500 * time.Millisecond

func synced(r report, clusters ...string) bool {
	for _, c := range clusters {
		if r.state(c) != fleet.ConnSynced {
			return false
		}
	}
	return true
}

func allSynced(r report) bool { return synced(r, scenario.Clusters...) }

func others(victim string) []string {
	var out []string
	for _, c := range scenario.Clusters {
		if c != victim {
			out = append(out, c)
		}
	}
	return out
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }

// TestFaultsOnTheSandbox runs one `status --watch -o json` process through every fault, in
// order, and stops it with SIGTERM at the end.
func TestFaultsOnTheSandbox(t *testing.T) {
	f := sandboxtest.Fleet(t)
	bin := sandboxtest.Binary(t)
	w := startWatch(t, bin, f.ConfigPath)
	stopped := false
	defer func() {
		if !stopped {
			w.kill()
		}
		if t.Failed() {
			t.Logf("status --watch's stderr:\n%s", w.stderr.String())
		}
	}()

	// The stand-in may still be writing statuses when the fleet is up; wait for every cluster.
	first, _ := w.waitView(t, "a first report", w.start, 60*time.Second, func(report) bool { return true })
	ready, _ := w.waitView(t, "every cluster synced at start", w.start, 90*time.Second, allSynced)
	t.Logf("watch: first report %s after start (%s), every cluster synced %s after start",
		secs(first.at.Sub(w.start)), first.states(), secs(ready.at.Sub(w.start)))

	t.Run("killed API server: unreachable, the others keep updating, synced after restart", func(t *testing.T) {
		testKilledAPIServer(t, f, w)
	})
	t.Run("killed etcd: the watch survives and every cluster recovers", func(t *testing.T) {
		testKilledEtcd(t, f, w)
	})
	t.Run("slow API server behind a delaying proxy: slow, not unreachable, not hung", func(t *testing.T) {
		testSlowAPIServer(t, f, bin)
	})

	if !w.running() {
		t.Fatalf("the watch process exited during the faults: %v", w.exitErr())
	}
	last, _ := w.last()
	all, _ := w.snapshot()
	code, err := w.stop(15 * time.Second)
	stopped = true
	if err != nil {
		t.Fatalf("status --watch after SIGTERM: %v", err)
	}
	// status --watch exits with the status of the last report it printed (cli.watchStatus):
	// 1 when it shows problems, which the sandbox's injected ones are.
	want := 0
	if last.rep.Severity >= fleet.SeverityWarning || len(last.rep.Unmatched) > 0 {
		want = cli.ExitProblems
	}
	if code != want {
		t.Errorf("status --watch exited %d after SIGTERM, want %d (the last report's severity is %s)", code, want, last.rep.Severity)
	}
	w.mu.Lock()
	decodeErr := w.decodeErr
	w.mu.Unlock()
	if decodeErr != nil {
		t.Errorf("stdout is not a stream of JSON reports: %v", decodeErr)
	}
	t.Logf("watch: %d reports over %s, exit %d on SIGTERM", len(all), secs(time.Since(w.start)), code)
}

// testKilledAPIServer kills prod-us's API server, changes a Deployment on staging while it is
// down, and starts it again.
func testKilledAPIServer(t *testing.T, f *sandbox.Fleet, w *watchProcess) {
	victim := scenario.ProdUS
	w.waitView(t, "every cluster synced before the kill", time.Now(), 30*time.Second, allSynced)

	killed := time.Now()
	if err := f.CP.Kill(controlplane.APIServerProcess(victim)); err != nil {
		t.Fatal(err)
	}
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			sandboxtest.RestartAPIServer(t, f, victim)
		}
	})
	down, _ := w.waitView(t, victim+" unreachable while the others are synced", killed, unreachableWithin, func(r report) bool {
		return r.state(victim) == fleet.ConnUnreachable && synced(r, others(victim)...)
	})
	t.Logf("%s API server killed: unreachable in a report %s later: %s", victim, secs(down.at.Sub(killed)), down.states())
	if in, ok := sandboxtest.Instance(down.rep, scenario.HealthyApp, victim); !ok || in.ClusterState != fleet.ConnUnreachable {
		t.Errorf("%s on the killed %s: present %v, cluster state %q; want it kept and marked unreachable", scenario.HealthyApp, victim, ok, in.ClusterState)
	}

	// A cluster that is up must not stall: a Deployment scaled on staging shows at once.
	d := findDeployment(t, f, scenario.HealthyApp, scenario.Staging)
	want := d.replicas + 1
	scaled := time.Now()
	d.scale(t, want)
	restored := false
	t.Cleanup(func() {
		if !restored {
			d.scale(t, d.replicas)
		}
	})
	seen, _ := w.waitView(t, fmt.Sprintf("%s on %s scaled to %d", scenario.HealthyApp, scenario.Staging, want), scaled, updateWithin, func(r report) bool {
		in, _ := sandboxtest.Instance(r.rep, scenario.HealthyApp, scenario.Staging)
		return liveReplicas(in) == fmt.Sprint(want) || in.Pods.Total == want
	})
	pods, _ := w.waitView(t, fmt.Sprintf("%s on %s with %d pods", scenario.HealthyApp, scenario.Staging, want), scaled, podsWithin, func(r report) bool {
		in, _ := sandboxtest.Instance(r.rep, scenario.HealthyApp, scenario.Staging)
		return in.Pods.Total == want
	})
	t.Logf("%s scaled to %d on %s while %s is down: the replica change in a report %s later, the new pod %s later",
		scenario.HealthyApp, want, scenario.Staging, victim, secs(seen.at.Sub(scaled)), secs(pods.at.Sub(scaled)))
	d.scale(t, d.replicas)
	restored = true

	restarting := time.Now()
	sandboxtest.RestartAPIServer(t, f, victim)
	restarted = true
	if t.Failed() {
		t.FailNow()
	}
	answered := time.Now()
	back, _ := w.waitView(t, victim+" synced again after the restart", restarting, resyncWithin, allSynced)
	t.Logf("%s API server restarted: it answered %s after the restart, the watch showed it synced %s after the restart (%s after it answered)",
		victim, secs(answered.Sub(restarting)), secs(back.at.Sub(restarting)), secs(max(0, back.at.Sub(answered))))

	// The others never went away while the victim was down.
	for _, r := range w.since(killed) {
		for _, c := range others(victim) {
			if s := r.state(c); s != fleet.ConnSynced && s != fleet.ConnSlow {
				t.Errorf("%s was %s in a report %s after %s's API server was killed: %s", c, s, secs(r.at.Sub(killed)), victim, r.states())
			}
		}
	}
	if !w.running() {
		t.Fatalf("the watch process exited: %v", w.exitErr())
	}
}

// testKilledEtcd kills the etcd every API server stores in for etcdDown, then starts it again.
func testKilledEtcd(t *testing.T, f *sandbox.Fleet, w *watchProcess) {
	w.waitView(t, "every cluster synced before etcd is killed", time.Now(), 30*time.Second, allSynced)

	killed := time.Now()
	if err := f.CP.Kill(controlplane.EtcdProcess); err != nil {
		t.Fatal(err)
	}
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			restartEtcd(t, f)
		}
	})
	// The watch must stay alive for the whole outage.
	select {
	case <-w.done:
		t.Fatalf("the watch process exited %s after etcd was killed: %v\nreports:\n%s", secs(time.Since(killed)), w.exitErr(), w.dump(killed))
	case <-time.After(time.Until(killed.Add(etcdDown))):
	}
	during := w.since(killed)
	t.Logf("etcd down for %s: %d reports:\n%s", secs(time.Since(killed)), len(during), w.dump(killed))

	restarting := time.Now()
	restartEtcd(t, f)
	restarted = true
	if t.Failed() {
		t.FailNow()
	}
	answered := time.Now()
	for _, c := range scenario.Clusters {
		if p, ok := f.CP.Process(controlplane.APIServerProcess(c)); !ok || !p.Alive() {
			t.Errorf("the API server of %s did not survive etcd's outage", c)
			t.Cleanup(func() { sandboxtest.RestartAPIServer(t, f, c) })
		}
	}

	// While etcd is down every API server fails /readyz (its etcd check), which fleetdeck's probe
	// reads as not ready: every cluster must have been shown unreachable (or slow while the
	// probe waited), and never lost from the report.
	for _, c := range scenario.Clusters {
		noticed := false
		for _, r := range during {
			if s := r.state(c); s == fleet.ConnUnreachable || s == fleet.ConnSlow {
				noticed = true
			}
			if r.state(c) == "" {
				t.Errorf("a report during etcd's outage does not list %s", c)
			}
		}
		if !noticed {
			t.Errorf("no report during etcd's %s outage showed %s unreachable or slow:\n%s", etcdDown, c, w.dump(killed))
		}
	}

	back, _ := w.waitView(t, "every cluster synced after etcd is back", restarting, etcdRecovery, allSynced)
	var each []string
	for _, c := range scenario.Clusters {
		for _, r := range w.since(answered) {
			if r.state(c) == fleet.ConnSynced {
				each = append(each, c+" "+secs(r.at.Sub(answered)))
				break
			}
		}
	}
	t.Logf("etcd restarted: it answered %s after the restart; every cluster synced in a report %s after the restart, %s after it answered (%s after the kill; each cluster's first synced report after it answered: %s); reports since:\n%s",
		secs(answered.Sub(restarting)), secs(back.at.Sub(restarting)), secs(max(0, back.at.Sub(answered))), secs(back.at.Sub(killed)), strings.Join(each, ", "), w.dump(answered))
	if !w.running() {
		t.Fatalf("the watch process exited: %v", w.exitErr())
	}
}

// testSlowAPIServer puts prod-us's API server behind a proxy that delays every answer by
// slowDelay and runs `status -o json` on a config that reaches it there: once, then --watch.
func testSlowAPIServer(t *testing.T, f *sandbox.Fleet, bin string) {
	victim := scenario.ProdUS
	var server string
	for _, c := range f.CP.Clusters {
		if c.Name == victim {
			server = c.Server
		}
	}
	u, err := url.Parse(server)
	if err != nil || u.Host == "" {
		t.Fatalf("the server of %s: %q: %v", victim, server, err)
	}
	// TCP below TLS: the client still verifies the API server's certificate, whose SANs hold
	// 127.0.0.1 (any port), which is where the proxy listens.
	p, err := faults.NewProxy(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	p.SetDelay(slowDelay)
	configPath := proxiedConfig(t, f, victim, "https://"+p.Addr())

	rep, r := sandboxtest.Status(t, configPath, "--timeout", slowTimeout.String())
	states := report{rep: rep}.states()
	t.Logf("status --timeout %s with %s's answers %s late: took %s, exit %d, %d connections through the proxy: %s",
		slowTimeout, victim, slowDelay, secs(r.Took), r.Code, p.Total(), states)
	if r.Took > slowTimeout+time.Second {
		t.Errorf("status took %s with --timeout %s", secs(r.Took), slowTimeout)
	}
	if p.Total() == 0 {
		t.Fatalf("nothing went through the proxy: the config does not reach %s through it", victim)
	}
	for _, c := range rep.Clusters {
		want := fleet.ConnSynced
		if c.Name == victim {
			want = fleet.ConnSlow
		}
		if c.State != want {
			t.Errorf("cluster %s: %s (%s), want %s", c.Name, c.State, c.Error, want)
		}
		if c.Name == victim && !strings.Contains(c.Error, "slowly") && !strings.Contains(c.Error, "has not answered") {
			t.Errorf("slow cluster %s says %q, want why it is slow", c.Name, c.Error)
		}
	}
	// Slow is not "no data": the cluster's whole state is there, late.
	if in, ok := sandboxtest.Instance(rep, scenario.HealthyApp, victim); !ok || in.Health.Status != fleet.Healthy || in.Pods.Total == 0 {
		t.Errorf("%s on the slow %s: present %v, health %s, %d pods; want its live state", scenario.HealthyApp, victim, ok, in.Health.Status, in.Pods.Total)
	}
	if r.Code != cli.ExitProblems {
		t.Errorf("exit %d, want %d (the sandbox's problems)", r.Code, cli.ExitProblems)
	}

	// The live model (status --watch, the TUI) has no deadline: there the cluster is slow for as
	// long as its answers are late, and never unreachable.
	lw := startWatch(t, bin, configPath)
	defer lw.kill()
	slow, _ := lw.waitView(t, victim+" slow in status --watch through the proxy", lw.start, slowTimeout, func(r report) bool {
		return r.state(victim) == fleet.ConnSlow && synced(r, others(victim)...)
	})
	// Two more probe intervals (2s each): it stays slow.
	settle := slow.at.Add(5 * time.Second)
	select {
	case <-lw.done:
		t.Fatalf("status --watch through the proxy exited: %v\n%s", lw.exitErr(), lw.stderr.String())
	case <-time.After(time.Until(settle)):
	}
	reports := lw.since(lw.start)
	for i, r := range reports {
		if r.state(victim) != fleet.ConnUnreachable {
			continue
		}
		// Known: the first report is the one-shot snapshot (cli.runStatus → engine.Snapshot with
		// the default --timeout), which reports a cluster not complete by its deadline as
		// unreachable even though its probe answers; the live reports after it say slow.
		if i == 0 && strings.Contains(clusterError(r, victim), "no complete answer within") {
			t.Logf("known issue: the first report of status --watch shows the slow %s unreachable (%s), the next one, %s later, slow",
				victim, truncate(clusterError(r, victim), 80), secs(reports[min(1, len(reports)-1)].at.Sub(r.at)))
			continue
		}
		t.Errorf("status --watch showed the slow %s unreachable %s after start: %s", victim, secs(r.at.Sub(lw.start)), r.states())
	}
	if now, _ := lw.last(); now.state(victim) != fleet.ConnSlow {
		t.Errorf("status --watch through the proxy shows %s %s, want slow: %s", victim, now.state(victim), now.states())
	}
	// Nothing but the slow cluster's message changes in the settle window; count the reprints.
	t.Logf("status --watch with %s's answers %s late: slow in a report %s after start, still slow 5s later; %d reports in those 5s; reports:\n%s",
		victim, slowDelay, secs(slow.at.Sub(lw.start)), len(lw.since(slow.at.Add(time.Nanosecond))), lw.dump(lw.start))
	if _, err := lw.stop(15 * time.Second); err != nil {
		t.Errorf("status --watch through the proxy: %v", err)
	}

	// For the record: with the default --timeout a cluster this slow may not finish its first
	// lists in time, and is then reported unreachable (documented: "a cluster not done by then
	// is reported unreachable").
	conns := p.Total()
	rep, r = sandboxtest.Status(t, configPath)
	t.Logf("status with the default --timeout and %s's answers %s late: took %s, %d connections through the proxy: %s",
		victim, slowDelay, secs(r.Took), p.Total()-conns, report{rep: rep}.states())
}

// clusterError is the error the report gives for a cluster.
func clusterError(r report, cluster string) string {
	for _, c := range r.rep.Clusters {
		if c.Name == cluster {
			return c.Error
		}
	}
	return ""
}

// proxiedConfig writes a copy of the fleet's kubeconfig whose cluster serves at server, and a
// copy of its config that reads that kubeconfig.
func proxiedConfig(t *testing.T, f *sandbox.Fleet, cluster, server string) string {
	t.Helper()
	kc, err := clientcmd.LoadFromFile(f.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	ctx, ok := kc.Contexts[cluster]
	if !ok || kc.Clusters[ctx.Cluster] == nil {
		t.Fatalf("no context %s with a cluster in %s", cluster, f.Kubeconfig)
	}
	kc.Clusters[ctx.Cluster].Server = server
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, kubeconfig); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(kubeconfig, 0o600); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(f.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(data), "kubeconfig: kubeconfig\n", "kubeconfig: "+kubeconfig+"\n")
	if text == string(data) {
		t.Fatalf("%s names no relative kubeconfig to replace", f.ConfigPath)
	}
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// restartEtcd starts the killed etcd again (same port and data) and waits, up to 30 s, until
// it reports itself healthy. It reports failures with t.Errorf, so it can run in a cleanup.
func restartEtcd(t *testing.T, f *sandbox.Fleet) {
	t.Helper()
	if _, err := f.CP.Restart(controlplane.EtcdProcess); err != nil {
		t.Errorf("restart etcd: %v", err)
		return
	}
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := hc.Get(f.CP.EtcdURL + "/health")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.Contains(string(body), `"health":"true"`) {
				return
			}
			err = fmt.Errorf("%s: %s", resp.Status, body)
		}
		if time.Now().After(deadline) {
			t.Errorf("the restarted etcd is not healthy: %v", err)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// deployment is the Deployment that runs an app's image on a cluster.
type deployment struct {
	cs              kubernetes.Interface
	namespace, name string
	replicas        int
}

func findDeployment(t *testing.T, f *sandbox.Fleet, appName, cluster string) deployment {
	t.Helper()
	app, ok := scenario.AppByName(appName)
	if !ok {
		t.Fatalf("no app %s in the scenario", appName)
	}
	cs, err := f.Clientset(cluster)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	list, err := cs.AppsV1().Deployments(app.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("cluster %s: list deployments: %v", cluster, err)
	}
	for _, d := range list.Items {
		for _, c := range d.Spec.Template.Spec.Containers {
			if strings.HasPrefix(c.Image, app.Image()+":") {
				replicas := 1
				if d.Spec.Replicas != nil {
					replicas = int(*d.Spec.Replicas)
				}
				return deployment{cs: cs, namespace: d.Namespace, name: d.Name, replicas: replicas}
			}
		}
	}
	t.Fatalf("cluster %s: no deployment in %s runs %s", cluster, app.Namespace, app.Image())
	return deployment{}
}

// scale sets the Deployment's replicas by hand, as `kubectl scale` does.
func (d deployment) scale(t *testing.T, replicas int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	patch := fmt.Sprintf(`{"spec":{"replicas":%d}}`, replicas)
	if _, err := d.cs.AppsV1().Deployments(d.namespace).Patch(ctx, d.name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Errorf("scale %s/%s to %d: %v", d.namespace, d.name, replicas, err)
	}
}

// liveReplicas is the live replica count the instance's sync fields report ("" when its
// replicas do not differ from git).
func liveReplicas(in cli.InstanceReport) string {
	for _, fd := range in.Sync.Fields {
		if fd.Field == "replicas" && fd.Object.Kind == "Deployment" {
			return fd.Live
		}
	}
	return ""
}

// TestSlowFirstConnectionIsNeverSynced: an API server whose every answer is 2.5s late (under
// ProbeTimeout on an open connection) is never shown synced. The first probe on the new
// connection pays the delay twice (TLS handshake, then /readyz) and times out; the lists that
// complete next must leave the cluster slow, not synced.
func TestSlowFirstConnectionIsNeverSynced(t *testing.T) {
	f := sandboxtest.Fleet(t)
	bin := sandboxtest.Binary(t)
	victim := scenario.ProdUS
	var server string
	for _, c := range f.CP.Clusters {
		if c.Name == victim {
			server = c.Server
		}
	}
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	p, err := faults.NewProxy(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	p.SetDelay(2500 * time.Millisecond)
	w := startWatch(t, bin, proxiedConfig(t, f, victim, "https://"+p.Addr()))
	defer w.kill()
	w.waitView(t, victim+" slow", w.start, 20*time.Second, func(r report) bool { return r.state(victim) == fleet.ConnSlow })
	for _, r := range w.since(w.start) {
		if r.state(victim) == fleet.ConnSynced {
			t.Errorf("%s, whose answers are 2.5s late, shown synced %s after start; reports:\n%s", victim, secs(r.at.Sub(w.start)), w.dump(w.start))
			break
		}
	}
}
