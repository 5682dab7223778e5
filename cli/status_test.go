package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/fleetdeck/fleetdeck/fleet"
)

// Golden files are rewritten with: go test ./cli -run TestStatus -update

var statusNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func sha(c byte) string { return strings.Repeat(string(c), 40) }

// statusInstance is a compact way to write one instance of the fixture.
type statusInstance struct {
	app, cluster, ns string
	op               fleet.Operator
	sync             fleet.SyncStatus
	health           fleet.HealthStatus
	sev              fleet.Severity
	head, live       string
	behind           int
	gitImg, liveImg  string
	pods, ready      int
	restarts         int32
	podAge           time.Duration
	problems         []fleet.Problem
	fields           []fleet.FieldDiff
	state            fleet.ConnState
}

func (s statusInstance) build() fleet.Instance {
	in := fleet.Instance{App: s.app, Cluster: s.cluster, Namespace: s.ns,
		Source:  fleet.Source{Operator: s.op, Cluster: s.cluster},
		RepoURL: "https://git.example/shop.git", Path: "k8s/" + s.app, Branch: "main",
		Sync:     fleet.Sync{Status: s.sync, Fields: s.fields},
		Health:   fleet.Health{Status: s.health},
		Revision: fleet.Revision{Head: s.head, Live: s.live, Behind: s.behind},
		Problems: s.problems, Severity: s.sev,
		ClusterState: fleet.ClusterState{Name: s.cluster, State: s.state},
	}
	switch s.op {
	case fleet.OperatorArgoCD:
		in.Source = fleet.Source{Operator: s.op, Kind: "Application", Cluster: "prod-eu", Namespace: "argocd", Name: s.app + "-" + s.cluster}
	case fleet.OperatorFlux:
		in.Source = fleet.Source{Operator: s.op, Kind: "HelmRelease", Cluster: s.cluster, Namespace: "flux-system", Name: s.app}
	}
	if in.ClusterState.State == "" {
		in.ClusterState.State = fleet.ConnSynced
	}
	ref := fleet.ObjectRef{Kind: "Deployment", Namespace: s.ns, Name: s.app}
	if s.gitImg != "" || s.liveImg != "" {
		in.Images = []fleet.ImageState{fleet.CompareImage(ref, s.app, s.gitImg, s.liveImg)}
	}
	ws := fleet.WorkloadState{Ref: ref, Replicas: int32(s.pods), Ready: int32(s.ready)}
	for i := range s.pods {
		ws.Pods = append(ws.Pods, fleet.PodState{Name: s.app + "-" + string(rune('a'+i)), Ready: i < s.ready,
			Restarts: s.restarts / int32(s.pods), Created: statusNow.Add(-s.podAge - time.Duration(i)*time.Hour)})
	}
	if s.pods > 0 {
		in.Workloads = []fleet.WorkloadState{ws}
	}
	return in
}

const img = "registry.example/shop/"

// statusModel is a fleet with one instance of each kind of problem, an unreachable cluster and
// a cluster with forbidden resources, in the model's worst-first order.
func statusModel() fleet.Model {
	p := func(sev fleet.Severity, text string) []fleet.Problem {
		return []fleet.Problem{{Severity: sev, Text: text}}
	}
	apps := [][]statusInstance{
		{
			{app: "notification-worker", cluster: "prod-us", ns: "notifications", op: fleet.OperatorArgoCD, sync: fleet.Synced, health: fleet.Progressing,
				sev: fleet.SeverityCritical, head: sha('1'), live: sha('1'), gitImg: img + "notification-worker:1.4.0-does-not-exist",
				liveImg: img + "notification-worker:1.4.0-does-not-exist", pods: 1, podAge: 3 * time.Minute,
				problems: p(fleet.SeverityCritical, "Deployment notifications/notification-worker: 1 pod(s) ImagePullBackOff, 0 of 1 replicas ready")},
			{app: "notification-worker", cluster: "staging", ns: "notifications", op: fleet.OperatorArgoCD, sync: fleet.Synced, health: fleet.Healthy,
				head: sha('1'), live: sha('1'), gitImg: img + "notification-worker:1.4.0", liveImg: img + "notification-worker:1.4.0",
				pods: 1, ready: 1, podAge: 26 * time.Hour},
		},
		{
			{app: "auth-service", cluster: "staging", ns: "auth", op: fleet.OperatorArgoCD, sync: fleet.Synced, health: fleet.Degraded,
				sev: fleet.SeverityError, head: sha('2'), live: sha('2'), gitImg: img + "auth-service:1.4.0", liveImg: img + "auth-service:1.4.0",
				pods: 2, ready: 1, restarts: 14, podAge: 90 * time.Second,
				problems: p(fleet.SeverityError, "Deployment auth/auth-service: 1 pod(s) CrashLoopBackOff (7 restarts)")},
			{app: "auth-service", cluster: "prod-eu", ns: "auth", op: fleet.OperatorArgoCD, sync: fleet.Synced, health: fleet.Healthy,
				head: sha('2'), live: sha('2'), gitImg: img + "auth-service:1.4.0", liveImg: img + "auth-service:1.4.0", pods: 2, ready: 2, podAge: 3 * 24 * time.Hour},
		},
		{
			{app: "checkout-web", cluster: "prod-eu", ns: "checkout", op: fleet.OperatorArgoCD, sync: fleet.OutOfSync, health: fleet.Healthy,
				sev: fleet.SeverityWarning, head: sha('3'), live: sha('4'), behind: 2, gitImg: img + "checkout-web:1.4.0", liveImg: img + "checkout-web:1.2.0",
				pods: 2, ready: 2, podAge: 5 * time.Hour, problems: p(fleet.SeverityWarning, "OutOfSync: 2 commits behind")},
		},
		{
			{app: "ledger", cluster: "dr-eu", ns: "ledger", op: fleet.OperatorDeclared, sync: fleet.SyncUnknown, health: fleet.Unknown,
				sev: fleet.SeverityWarning, head: sha('5'), behind: -1, state: fleet.ConnUnreachable,
				problems: p(fleet.SeverityWarning, "cluster dr-eu is unreachable: dial tcp 127.0.0.1:6443: connection refused")},
			{app: "ledger", cluster: "prod-eu", ns: "ledger", op: fleet.OperatorDeclared, sync: fleet.OutOfSync, health: fleet.Healthy,
				sev: fleet.SeverityWarning, head: sha('5'), live: sha('6'), behind: 1, gitImg: img + "ledger:2.0.0", liveImg: img + "ledger:2.0.0",
				pods: 1, ready: 1, podAge: 40 * time.Minute, problems: p(fleet.SeverityWarning, "OutOfSync: replicas, containers[ledger].env.LOG_LEVEL differ"),
				fields: []fleet.FieldDiff{
					{Object: fleet.ObjectRef{Kind: "Deployment", Namespace: "ledger", Name: "ledger"}, Field: "replicas", Git: "2", Live: "1"},
					{Object: fleet.ObjectRef{Kind: "Deployment", Namespace: "ledger", Name: "ledger"}, Field: "containers[ledger].env.LOG_LEVEL", Git: "info", Live: "debug"},
				}},
		},
		{
			{app: "payments-api", cluster: "prod-us", ns: "payments", op: fleet.OperatorArgoCD, sync: fleet.OutOfSync, health: fleet.Healthy,
				sev: fleet.SeverityWarning, head: sha('7'), live: sha('7'), gitImg: img + "payments-api:1.4.0", liveImg: img + "payments-api:hotfix-manual-1",
				pods: 2, ready: 2, podAge: 20 * time.Minute, problems: p(fleet.SeverityWarning, "image drift on payments-api/payments-api: git 1.4.0, live hotfix-manual-1"),
				fields: []fleet.FieldDiff{{Object: fleet.ObjectRef{Kind: "Deployment", Namespace: "payments", Name: "payments-api"},
					Field: "containers[payments-api].image", Git: img + "payments-api:1.4.0", Live: img + "payments-api:hotfix-manual-1"}}},
		},
		{
			{app: "search-indexer", cluster: "staging", ns: "search", op: fleet.OperatorFlux, sync: fleet.Synced, health: fleet.Healthy,
				sev: fleet.SeverityWarning, head: sha('8'), live: sha('8'), gitImg: img + "search-indexer:latest", liveImg: img + "search-indexer:latest",
				pods: 1, ready: 1, podAge: 2 * time.Hour, problems: p(fleet.SeverityWarning, "image search-indexer/search-indexer uses latest")},
		},
		{
			{app: "catalog-api", cluster: "prod-eu", ns: "catalog", op: fleet.OperatorArgoCD, sync: fleet.Synced, health: fleet.Healthy,
				head: sha('9'), live: sha('9'), gitImg: img + "catalog-api@sha256:" + strings.Repeat("ab", 32),
				liveImg: img + "catalog-api@sha256:" + strings.Repeat("ab", 32), pods: 2, ready: 2, podAge: 9 * 24 * time.Hour},
			{app: "catalog-api", cluster: "staging", ns: "catalog", op: fleet.OperatorFlux, sync: fleet.Synced, health: fleet.Healthy,
				sev: fleet.SeverityInfo, head: sha('9'), live: sha('9'), gitImg: img + "catalog-api:3.1.0", liveImg: img + "catalog-api:3.1.0",
				pods: 2, ready: 2, podAge: 9 * 24 * time.Hour, problems: p(fleet.SeverityInfo, "cannot read events on staging (forbidden)")},
		},
	}
	m := fleet.Model{GeneratedAt: statusNow, Clusters: []fleet.ClusterState{
		{Name: "prod-eu", State: fleet.ConnSynced, LastEvent: statusNow.Add(-time.Second)},
		{Name: "prod-us", State: fleet.ConnSynced, LastEvent: statusNow.Add(-2 * time.Second)},
		{Name: "staging", State: fleet.ConnSynced, Forbidden: []string{"events"}, LastEvent: statusNow.Add(-time.Second)},
		{Name: "dr-eu", State: fleet.ConnUnreachable, Err: "dial tcp 127.0.0.1:6443: connection refused"},
	}}
	for _, group := range apps {
		a := fleet.Application{Name: group[0].app}
		for _, s := range group {
			in := s.build()
			a.Instances = append(a.Instances, in)
			a.Severity = max(a.Severity, in.Severity)
		}
		m.Apps = append(m.Apps, a)
		m.Severity = max(m.Severity, a.Severity)
	}
	return m
}

func TestStatusGolden(t *testing.T) {
	tests := []struct {
		name   string
		output string
		colour bool
		filter statusFilter
		exit   int
	}{
		{name: "table", output: "table", exit: ExitProblems},
		{name: "table-colour", output: "table", colour: true, exit: ExitProblems},
		{name: "wide", output: "wide", exit: ExitProblems},
		{name: "json", output: "json", exit: ExitProblems},
		{name: "problems", output: "table", filter: statusFilter{problemsOnly: true}, exit: ExitProblems},
		{name: "cluster-app", output: "table", filter: statusFilter{clusters: []string{"prod-eu", "staging"}, apps: []string{"catalog-*", "auth-service"}}, exit: ExitProblems},
		{name: "healthy", output: "table", filter: statusFilter{clusters: []string{"prod-eu"}, apps: []string{"catalog-api"}}, exit: ExitOK},
		{name: "unmatched", output: "json", filter: statusFilter{clusters: []string{"prod-eu"}, apps: []string{"catalog-api", "no-such-app"}}, exit: ExitProblems},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := NewStatusReport(statusModel(), tt.filter)
			var buf bytes.Buffer
			if err := writeStatus(&buf, newPalette(tt.colour), tt.output, rep); err != nil {
				t.Fatal(err)
			}
			checkGoldenIn(t, "status", tt.name, buf.String())
			if code := exitCodeOf(exitFor(rep)); code != tt.exit {
				t.Errorf("exit %d, want %d", code, tt.exit)
			}
			if !tt.colour && strings.Contains(buf.String(), "\x1b[") {
				t.Error("escape sequences without colour")
			}
		})
	}
}

func exitCodeOf(err error) int {
	if err == nil {
		return ExitOK
	}
	if ee, ok := err.(*exitError); ok {
		return ee.code
	}
	return ExitError
}

// TestStatusReportContent checks the report's facts directly, so a golden refreshed without
// care still cannot hide a wrong fact.
func TestStatusReportContent(t *testing.T) {
	rep := NewStatusReport(statusModel(), statusFilter{})
	if rep.SchemaVersion != 1 || rep.Instances != 11 || rep.Problems != 7 || rep.Severity != fleet.SeverityCritical {
		t.Errorf("report header: schema %d, %d instances, %d problems, severity %s; want 1, 11, 7, critical",
			rep.SchemaVersion, rep.Instances, rep.Problems, rep.Severity)
	}
	if rep.Apps[0].Name != "notification-worker" || rep.Apps[len(rep.Apps)-1].Name != "catalog-api" {
		t.Errorf("apps not worst first: %s … %s", rep.Apps[0].Name, rep.Apps[len(rep.Apps)-1].Name)
	}
	find := func(app, cluster string) InstanceReport {
		for _, a := range rep.Apps {
			for _, in := range a.Instances {
				if in.App == app && in.Cluster == cluster {
					return in
				}
			}
		}
		t.Fatalf("no instance %s on %s", app, cluster)
		return InstanceReport{}
	}
	if in := find("payments-api", "prod-us"); !in.Drift || driftText(in) != "1.4.0→hotfix-manual-1" {
		t.Errorf("hand patch: drift %v %q", in.Drift, driftText(in))
	}
	if in := find("search-indexer", "staging"); driftText(in) != "latest" {
		t.Errorf("latest: %q", driftText(in))
	}
	if in := find("checkout-web", "prod-eu"); liveText(in.Revision) != "4444444 (2 behind)" {
		t.Errorf("behind: %q", liveText(in.Revision))
	}
	if in := find("ledger", "prod-eu"); driftText(in) != "2 fields" {
		t.Errorf("declared field drift: %q", driftText(in))
	}
	if in := find("ledger", "dr-eu"); in.ClusterState != fleet.ConnUnreachable || liveText(in.Revision) != "?" {
		t.Errorf("unreachable: %+v", in)
	}
	if in := find("auth-service", "staging"); in.Pods.Total != 2 || in.Pods.Ready != 1 || in.Pods.Restarts != 14 {
		t.Errorf("pods %+v", in.Pods)
	}
	var decoded StatusReport
	var buf bytes.Buffer
	if err := writeStatus(&buf, newPalette(false), "json", rep); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(buf.Bytes(), &decoded); err != nil {
		t.Fatalf("json does not read back: %v", err)
	}
	if decoded.changeKey() != rep.changeKey() {
		t.Error("json round trip changed the report")
	}
}

func TestStatusChangeKeyIgnoresTimeOnly(t *testing.T) {
	a := NewStatusReport(statusModel(), statusFilter{})
	m := statusModel()
	m.GeneratedAt = m.GeneratedAt.Add(time.Minute)
	m.Clusters[0].LastEvent = m.GeneratedAt
	if b := NewStatusReport(m, statusFilter{}); a.changeKey() != b.changeKey() {
		t.Error("a new time alone changed the key: --watch would reprint for nothing")
	}
	m.Apps[0].Instances[0].Health.Status = fleet.Degraded
	if b := NewStatusReport(m, statusFilter{}); a.changeKey() == b.changeKey() {
		t.Error("a health change did not change the key")
	}
}

func TestStatusFlagErrors(t *testing.T) {
	env := testEnv(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad output", []string{"status", "-o", "yaml"}, `unknown output "yaml"`},
		{"bad timeout", []string{"status", "--timeout", "0s"}, "--timeout must be positive"},
		{"bad glob", []string{"status", "--app", "[x"}, `--app "[x"`},
		{"unknown cluster", []string{"status", "--config", "../config.example.yaml", "--cluster", "nope"}, `--cluster "nope": no such cluster`},
		{"missing config", []string{"status", "--config", "testdata/status/none.yaml"}, "none.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := runCLI(t, env, tt.args...)
			if !strings.Contains(out, tt.want) || !strings.HasSuffix(out, "--- exit 2\n") {
				t.Errorf("want %q and exit 2, got:\n%s", tt.want, out)
			}
		})
	}
}

func TestShortAge(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-time.Second: "0s", 90 * time.Second: "90s", 5 * time.Minute: "5m", 3 * time.Hour: "3h", 50 * time.Hour: "2d",
	} {
		if got := shortAge(d); got != want {
			t.Errorf("shortAge(%s) = %q, want %q", d, got, want)
		}
	}
}
