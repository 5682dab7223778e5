// Package integration runs `fleetdeck watch` against the sandbox fleet with a local webhook
// receiver: real clusters change, the receiver counts what is posted.
package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/internal/notify"
	"github.com/fleetdeck/fleetdeck/internal/sandbox"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/controlplane"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/sandboxtest"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

func TestMain(m *testing.M) { sandboxtest.Main(m) }

// debounce is short so the test runs in a minute or two; the default is 30s.
const debounce = 3 * time.Second

// The secret parts of the webhook URLs: they must never show in the log.
const (
	jsonSecret  = "json-secret-7f3a"
	slackSecret = "slack-secret-91bc"
)

// received is one message the receiver accepted, with when it came.
type received struct {
	at  time.Time
	msg notify.Message
}

// receiver is the local webhook: it decodes JSON events, and can be told to answer the next
// matching post with an error first.
type receiver struct {
	mu       sync.Mutex
	accepted []received
	attempts map[string][]time.Time // by summary: every post, accepted or not
	slack    []string               // texts of the Slack payloads
	// fail answers the first post whose summary matches with this status (and Retry-After).
	fail []failRule
}

type failRule struct {
	match      func(notify.Message) bool
	status     int
	retryAfter string
	used       bool
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if strings.Contains(r.URL.Path, slackSecret) {
		var p struct{ Text string }
		_ = json.Unmarshal(body, &p)
		rc.slack = append(rc.slack, p.Text)
		return
	}
	var m notify.Message
	if err := json.Unmarshal(body, &m); err != nil {
		http.Error(w, "bad JSON: "+err.Error(), http.StatusBadRequest)
		return
	}
	rc.attempts[m.Summary] = append(rc.attempts[m.Summary], time.Now())
	for i := range rc.fail {
		f := &rc.fail[i]
		if !f.used && f.match(m) {
			f.used = true
			if f.retryAfter != "" {
				w.Header().Set("Retry-After", f.retryAfter)
			}
			w.WriteHeader(f.status)
			return
		}
	}
	rc.accepted = append(rc.accepted, received{at: time.Now(), msg: m})
}

func (rc *receiver) failNext(status int, retryAfter string, match func(notify.Message) bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.fail = append(rc.fail, failRule{match: match, status: status, retryAfter: retryAfter})
}

// matching lists the accepted messages since t that match.
func (rc *receiver) matching(since time.Time, match func(notify.Message) bool) []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []received
	for _, r := range rc.accepted {
		if !r.at.Before(since) && match(r.msg) {
			out = append(out, r)
		}
	}
	return out
}

// waitOne waits until a matching message arrives after since and returns it; then it waits
// quiet more and fails when a second one came.
func (rc *receiver) waitOne(t *testing.T, what string, since time.Time, within, quiet time.Duration, match func(notify.Message) bool) received {
	t.Helper()
	deadline := time.Now().Add(within)
	for len(rc.matching(since, match)) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s; accepted since then:\n%s", what, within, rc.dump(since))
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(quiet)
	got := rc.matching(since, match)
	if len(got) != 1 {
		t.Errorf("%d messages for %s, want 1:\n%s", len(got), what, rc.dump(since))
	}
	return got[0]
}

func (rc *receiver) dump(since time.Time) string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var b strings.Builder
	for _, r := range rc.accepted {
		if !r.at.Before(since) {
			fmt.Fprintf(&b, "  %s %s\n", r.at.Format("15:04:05.000"), r.msg.Summary)
		}
	}
	return b.String()
}

// about matches change messages of one instance (app "" for the cluster) with a change kind.
func about(app, cluster string, kind fleet.TransitionKind) func(notify.Message) bool {
	return func(m notify.Message) bool {
		if m.Type != notify.TypeChange || m.App != app || m.Cluster != cluster {
			return false
		}
		return slices.ContainsFunc(m.Changes, func(c notify.Change) bool { return c.Kind == kind })
	}
}

func change(m notify.Message, kind fleet.TransitionKind) notify.Change {
	for _, c := range m.Changes {
		if c.Kind == kind {
			return c
		}
	}
	return notify.Change{}
}

// deployment is the Deployment that runs app's image on a cluster.
type deployment struct {
	cs              kubernetes.Interface
	namespace, name string
	container       string
	image           string // as git has it (the app is healthy and in sync)
}

func findDeployment(t *testing.T, f *sandbox.Fleet, app scenario.App, cluster string) deployment {
	t.Helper()
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
				return deployment{cs: cs, namespace: d.Namespace, name: d.Name, container: c.Name, image: c.Image}
			}
		}
	}
	t.Fatalf("cluster %s: no deployment in %s runs %s", cluster, app.Namespace, app.Image())
	return deployment{}
}

// setImage changes the live image by hand, as `kubectl set image` does.
func (d deployment) setImage(t *testing.T, image string) {
	t.Helper()
	patch := fmt.Sprintf(`{"spec":{"template":{"spec":{"containers":[{"name":%q,"image":%q}]}}}}`, d.container, image)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := d.cs.AppsV1().Deployments(d.namespace).Patch(ctx, d.name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatalf("set image of %s/%s to %s: %v", d.namespace, d.name, image, err)
	}
}

func tagOf(image string) string {
	_, tag, _ := strings.Cut(image[strings.LastIndex(image, "/")+1:], ":")
	return tag
}

// watchProcess is `fleetdeck watch` running as its own process.
type watchProcess struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestWatchNotifiesOnTheSandbox(t *testing.T) {
	f := sandboxtest.Fleet(t)
	bin := sandboxtest.Binary(t)
	rc := &receiver{attempts: map[string][]time.Time{}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	jsonURL := srv.URL + "/events/" + jsonSecret
	slackURL := srv.URL + "/services/T000/B000/" + slackSecret

	// The first digest is answered 500 and must then be delivered exactly once.
	rc.failNext(http.StatusInternalServerError, "", func(m notify.Message) bool { return m.Type == notify.TypeDigest })

	cache := t.TempDir()
	cmd := exec.Command(bin, "watch", "--config", f.ConfigPath, "--debounce", debounce.String(), "--log-json",
		"--notify", "json="+jsonURL, "--notify", "slack=env:FLEETDECK_TEST_SLACK_URL")
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+cache, "FLEETDECK_TEST_SLACK_URL="+slackURL)
	w := &watchProcess{cmd: cmd, stderr: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = w.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { w.done <- cmd.Wait() }()
	stopped := false
	defer func() {
		if !stopped {
			_ = cmd.Process.Kill()
			<-w.done
		}
		if t.Failed() {
			t.Logf("watch's log:\n%s", w.stderr.String())
		}
	}()

	start := time.Now()
	digest := rc.waitOne(t, "start digest", start, 90*time.Second, time.Second, func(m notify.Message) bool { return m.Type == notify.TypeDigest })
	if n := len(rc.attempts[digest.msg.Summary]); n != 2 {
		t.Errorf("the digest was posted %d times, want 2 (500, then delivered)", n)
	}
	// The stand-in may still be rolling a problem out when watch starts, so the digest must
	// list problems but not necessarily every injected one yet.
	if len(digest.msg.Problems) == 0 {
		t.Errorf("the digest lists no problem, but the sandbox has %d", len(scenario.Problems))
	}
	for _, p := range scenario.Problems {
		if !slices.ContainsFunc(digest.msg.Problems, func(e notify.DigestEntry) bool { return e.App == p.App && e.Cluster == p.Cluster }) {
			t.Logf("the digest does not list %s on %s (%s) yet", p.App, p.Cluster, p.Kind)
		}
	}
	t.Logf("digest delivered %.1fs after start: %s", digest.at.Sub(start).Seconds(), digest.msg.Summary)

	app, _ := scenario.AppByName(scenario.HealthyApp)
	cluster := scenario.ProdUS
	d := findDeployment(t, f, app, cluster)
	gitTag := tagOf(d.image)
	restored := false
	defer func() {
		if !restored {
			d.setImage(t, d.image)
		}
	}()

	// A hand patch of the image: one drift message naming app, cluster, git tag and live tag.
	const handTag = "hotfix-watch-1"
	patched := time.Now()
	d.setImage(t, app.Image()+":"+handTag)
	drift := rc.waitOne(t, "drift-appeared for "+app.Name+" on "+cluster, patched, debounce+5*time.Second, debounce+2*time.Second,
		about(app.Name, cluster, fleet.TransitionDriftAppeared))
	t.Logf("drift message %.1fs after the patch (debounce %s): %s", drift.at.Sub(patched).Seconds(), debounce, drift.msg.Summary)
	if c := change(drift.msg, fleet.TransitionDriftAppeared); !slices.ContainsFunc(c.Images, func(im notify.Image) bool {
		return im.GitTag == gitTag && im.LiveTag == handTag
	}) {
		t.Errorf("the drift message names images %+v, want git tag %s and live tag %s", c.Images, gitTag, handTag)
	}
	for _, want := range []string{app.Name, cluster} {
		if !strings.Contains(drift.msg.Summary, want) {
			t.Errorf("summary %q does not name %s", drift.msg.Summary, want)
		}
	}

	// Re-applying git clears it: one message. Its first post is answered 429 with
	// Retry-After, which watch must honour.
	rc.failNext(http.StatusTooManyRequests, "2", about(app.Name, cluster, fleet.TransitionDriftCleared))
	cleared := time.Now()
	d.setImage(t, d.image)
	clear := rc.waitOne(t, "drift-cleared for "+app.Name+" on "+cluster, cleared, debounce+10*time.Second, debounce+2*time.Second,
		about(app.Name, cluster, fleet.TransitionDriftCleared))
	if posts := rc.attempts[clear.msg.Summary]; len(posts) != 2 {
		t.Errorf("drift-cleared posted %d times, want 2 (429, then delivered)", len(posts))
	} else if gap := posts[1].Sub(posts[0]); gap < 2*time.Second-100*time.Millisecond {
		t.Errorf("the retry after a 429 with Retry-After: 2 came %s later, want ≥ 2s", gap.Round(time.Millisecond))
	}

	// A crashing pod: one degraded message, then recovered once git's image runs again.
	var badApp scenario.App
	for _, p := range scenario.Problems {
		if p.Kind == scenario.BadBump {
			badApp, _ = scenario.AppByName(p.App)
		}
	}
	crashed := time.Now()
	d.setImage(t, badApp.Image()+":"+f.Repo.BadTag)
	deg := rc.waitOne(t, "degraded for "+app.Name+" on "+cluster, crashed, 60*time.Second, debounce+2*time.Second,
		about(app.Name, cluster, fleet.TransitionDegraded))
	t.Logf("degraded message %.1fs after the crashing image was set: %s", deg.at.Sub(crashed).Seconds(), deg.msg.Summary)
	recovering := time.Now()
	d.setImage(t, d.image)
	restored = true
	rc.waitOne(t, "recovered for "+app.Name+" on "+cluster, recovering, 60*time.Second, time.Second,
		about(app.Name, cluster, fleet.TransitionRecovered))

	// A cluster whose API server stops: one unreachable message, one reachable after restart.
	victim := scenario.Staging
	killed := time.Now()
	if err := f.CP.Kill(controlplane.APIServerProcess(victim)); err != nil {
		t.Fatal(err)
	}
	restarted := false
	defer func() {
		if !restarted {
			sandboxtest.RestartAPIServer(t, f, victim)
		}
	}()
	un := rc.waitOne(t, victim+" unreachable", killed, 30*time.Second, debounce+2*time.Second, about("", victim, fleet.TransitionUnreachable))
	t.Logf("unreachable message %.1fs after the kill: %s", un.at.Sub(killed).Seconds(), un.msg.Summary)
	back := time.Now()
	sandboxtest.RestartAPIServer(t, f, victim)
	restarted = true
	rc.waitOne(t, victim+" reachable again", back, 60*time.Second, time.Second, about("", victim, fleet.TransitionReachable))

	rc.mu.Lock()
	slackTexts := slices.Clone(rc.slack)
	rc.mu.Unlock()
	if !slices.ContainsFunc(slackTexts, func(s string) bool { return strings.Contains(s, app.Name) && strings.Contains(s, handTag) }) {
		t.Errorf("no Slack payload names %s and the live tag %s; texts: %q", app.Name, handTag, slackTexts)
	}

	// SIGTERM stops watch cleanly.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-w.done:
		stopped = true
		if err != nil {
			t.Errorf("watch after SIGTERM: %v, want exit 0", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("watch did not stop within 15s of SIGTERM")
	}
	log := w.stderr.String()
	for _, secret := range []string{jsonSecret, slackSecret, "/services/"} {
		if strings.Contains(log, secret) {
			t.Errorf("the log shows the webhook secret %q", secret)
		}
	}
	sc := bufio.NewScanner(strings.NewReader(log))
	for sc.Scan() {
		if line := sc.Text(); line != "" && !json.Valid([]byte(line)) {
			t.Errorf("--log-json wrote a line that is not JSON: %q", line)
		}
	}
}
