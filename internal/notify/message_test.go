package notify

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/fleet/fleettest"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n%s", name, got)
	}
}

func indent(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// sandboxModel is the sandbox fleet after fn changed its snapshot.
func sandboxModel(fn func(s *fleet.Snapshot)) fleet.Model {
	s := fleettest.SandboxSnapshot()
	if fn != nil {
		fn(&s)
	}
	return fleet.Build(s)
}

func handPatch(s *fleet.Snapshot, app, cluster, tag string) {
	a, _ := scenario.AppByName(app)
	for i := range s.Workloads {
		if w := &s.Workloads[i]; w.Cluster == cluster && w.Name == app {
			w.Containers[0].Image = a.Image() + ":" + tag
		}
	}
	for i := range s.ArgoApps {
		if s.ArgoApps[i].Name == scenario.ArgoAppName(app, cluster) {
			s.ArgoApps[i].SyncStatus = "OutOfSync"
		}
	}
}

func crashLoop(s *fleet.Snapshot, app, cluster string) {
	a, _ := scenario.AppByName(app)
	for i := range s.Pods {
		p := &s.Pods[i]
		if p.Cluster == cluster && p.Namespace == a.Namespace {
			p.Ready = false
			p.Containers[0] = fleet.ContainerStatus{Name: p.Containers[0].Name, Image: p.Containers[0].Image, RestartCount: 4,
				WaitingReason: "CrashLoopBackOff", LastTerminated: true, LastTerminatedReason: "Error", LastTerminatedExitCode: 1}
		}
	}
}

func unreachable(s *fleet.Snapshot, cluster string) {
	for i := range s.Clusters {
		if s.Clusters[i].Name == cluster {
			s.Clusters[i].State, s.Clusters[i].Err = fleet.ConnUnreachable, `Get "https://127.0.0.1:6443/readyz": dial tcp: connection refused`
		}
	}
}

// changeMessages are the messages for a hand patch (drift and OutOfSync together), a crash
// loop, and a cluster going away.
func changeMessages() []Message {
	next := sandboxModel(func(s *fleet.Snapshot) {
		handPatch(s, scenario.HealthyApp, scenario.ProdEU, "hotfix-7")
		crashLoop(s, scenario.Ledger, scenario.Staging)
		unreachable(s, scenario.ProdUS)
	})
	var events []Event
	for _, tr := range fleet.Diff(sandboxModel(nil), next) {
		events = append(events, Event{Transition: tr, Changes: 1, First: t0, At: at(30)})
	}
	return Messages(events, "fleetdeck")
}

func TestMessagesGolden(t *testing.T) {
	msgs := changeMessages()
	if len(msgs) != 3 {
		t.Fatalf("want 3 messages (cluster, drifted app, crashed app), got %d: %+v", len(msgs), msgs)
	}
	golden(t, "changes.json.golden", indent(t, msgs))
	var slack []SlackPayload
	for _, m := range msgs {
		slack = append(slack, Slack(m))
	}
	golden(t, "changes.slack.golden", indent(t, slack))

	d := Digest(sandboxModel(func(s *fleet.Snapshot) { unreachable(s, scenario.ProdUS) }), t0, "fleetdeck")
	golden(t, "digest.json.golden", indent(t, d))
	golden(t, "digest.slack.golden", indent(t, Slack(d)))
}

// TestMessageContents states what the golden files must show, so that -update cannot bless a
// regression unseen.
func TestMessageContents(t *testing.T) {
	msgs := changeMessages()
	byApp := map[string]Message{}
	for _, m := range msgs {
		byApp[m.App] = m
	}
	drift := byApp[scenario.HealthyApp]
	if len(drift.Changes) != 2 || drift.Changes[0].Kind != fleet.TransitionDriftAppeared || drift.Changes[1].Kind != fleet.TransitionOutOfSync {
		t.Fatalf("drift message changes = %+v", drift.Changes)
	}
	for _, want := range []string{scenario.HealthyApp, scenario.ProdEU, "git 1.4.0", "live hotfix-7"} {
		if !strings.Contains(drift.Summary, want) {
			t.Errorf("drift summary %q does not name %q", drift.Summary, want)
		}
	}
	if !drift.Problem || drift.Severity != fleet.SeverityWarning || !strings.Contains(drift.Command, "--app "+scenario.HealthyApp+" --cluster "+scenario.ProdEU) {
		t.Errorf("drift message: problem %v severity %s command %q", drift.Problem, drift.Severity, drift.Command)
	}
	body, _ := json.Marshal(Slack(drift))
	for _, want := range []string{`"blocks"`, `*Git* (` + scenario.HealthyApp + `)`, ":1.4.0`", ":hotfix-7`", "fleetdeck status --app"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("slack payload lacks %q: %s", want, body)
		}
	}
	crash := byApp[scenario.Ledger]
	if len(crash.Changes) != 1 || crash.Changes[0].Kind != fleet.TransitionDegraded || !strings.Contains(crash.Summary, "CrashLoopBackOff") ||
		!strings.HasPrefix(crash.Command, "fleetdeck logs "+scenario.Ledger) {
		t.Errorf("crash message = %+v", crash)
	}
	cl := byApp[""]
	if cl.Cluster != scenario.ProdUS || cl.Changes[0].Kind != fleet.TransitionUnreachable || !strings.Contains(cl.Summary, "connection refused") {
		t.Errorf("cluster message = %+v", cl)
	}
}

func TestPhrases(t *testing.T) {
	tests := []struct {
		c    Change
		want string
	}{
		{Change{Kind: fleet.TransitionDriftAppeared, To: "latest", Images: []Image{{Container: "web", Latest: true, LiveTag: "latest"}}}, "drift appeared: web uses latest"},
		{Change{Kind: fleet.TransitionDriftAppeared, To: "2 fields", Fields: []Field{{Field: "replicas"}, {Field: "labels.x"}}}, "drift appeared: 2 fields differ from git"},
		{Change{Kind: fleet.TransitionDriftAppeared, To: "1 field", Fields: []Field{{Field: "replicas", Git: "2", Live: "3"}}}, "drift appeared: replicas git 2, live 3"},
		{Change{Kind: fleet.TransitionDriftCleared, From: "1.4.0→x", To: "none", Images: []Image{{Drift: true, GitTag: "1.4.0", LiveTag: "x"}}}, "drift cleared (was git 1.4.0, live x)"},
		{Change{Kind: fleet.TransitionSynced, From: "OutOfSync", To: "Synced"}, "Synced again (was OutOfSync)"},
		{Change{Kind: fleet.TransitionRecovered, From: "Degraded", To: "Healthy"}, "recovered: Healthy (was Degraded)"},
		{Change{Kind: fleet.TransitionDegraded, To: "Missing"}, "Missing"},
		{Change{Kind: fleet.TransitionReachable, From: "unreachable", To: "synced"}, "reachable again"},
		{Change{Kind: fleet.TransitionOutOfSync, From: "Synced", To: "OutOfSync", Flaps: 5}, "flapping (5 changes in the window), now OutOfSync (was Synced)"},
	}
	for _, tt := range tests {
		if got := tt.c.Phrase(); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.c.Kind, got, tt.want)
		}
	}
}

func TestSlackEscapesAndClips(t *testing.T) {
	m := Message{Type: TypeChange, App: "a<b>", Cluster: "c&d", Problem: true, Severity: fleet.SeverityError,
		Changes: []Change{{Kind: fleet.TransitionDegraded, To: "Degraded", Reason: strings.Repeat("<x>", 2000)}}}
	p := Slack(m)
	text := p.Blocks[0].Text.Text
	if strings.Contains(text, "<x>") || !strings.Contains(text, "*a&lt;b&gt;* on *c&amp;d*") {
		t.Errorf("not escaped: %.200s", text)
	}
	if len(text) > slackMax+len("…") {
		t.Errorf("section text is %d bytes, over Slack's limit", len(text))
	}
}
