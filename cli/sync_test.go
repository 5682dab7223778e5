package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/fleetdeck/fleetdeck/fleet"
	kubesync "github.com/fleetdeck/fleetdeck/kube/sync"
)

var syncClock = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// fakeRequester answers requests from a script, per cluster.
type fakeRequester struct {
	mu        gosync.Mutex
	phases    map[string][]kubesync.Phase // cluster → phases sent by Progress
	errs      map[string]error            // cluster → Request's error
	requested []string                    // clusters requested, in order
}

func (f *fakeRequester) Request(_ context.Context, t kubesync.Target) (kubesync.Handle, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requested = append(f.requested, t.Cluster)
	if err := f.errs[t.Cluster]; err != nil {
		return kubesync.Handle{}, err
	}
	return kubesync.Handle{Target: t, RequestedAt: syncClock, Token: "tok"}, nil
}

func (f *fakeRequester) Progress(ctx context.Context, h kubesync.Handle) <-chan kubesync.Phase {
	ch := make(chan kubesync.Phase)
	go func() {
		defer close(ch)
		for _, p := range f.phases[h.Target.Cluster] {
			p.Target = h.Target
			select {
			case ch <- p:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch
}

func (f *fakeRequester) clusters() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requested...)
}

func instance(app, cluster string, src fleet.Source) fleet.Instance {
	return fleet.Instance{App: app, Cluster: cluster, Source: src}
}

// syncModel is a fleet with an Argo CD app on two clusters, a Flux and Argo CD app, and a
// declared one.
func syncModel() fleet.Model {
	argo := func(app, cluster string) fleet.Instance {
		return instance(app, cluster, fleet.Source{Operator: fleet.OperatorArgoCD, Kind: "Application", Cluster: "prod-eu", Namespace: "argocd", Name: app + "-" + cluster})
	}
	return fleet.Model{Apps: []fleet.Application{
		{Name: "payments-api", Instances: []fleet.Instance{argo("payments-api", "prod-us"), argo("payments-api", "prod-eu")}},
		{Name: "catalog-api", Instances: []fleet.Instance{
			instance("catalog-api", "staging", fleet.Source{Operator: fleet.OperatorFlux, Kind: "Kustomization", Cluster: "staging", Namespace: "flux-system", Name: "catalog-api"}),
			argo("catalog-api", "prod-eu"),
		}},
		{Name: "ledger", Instances: []fleet.Instance{
			instance("ledger", "prod-eu", fleet.Source{Operator: fleet.OperatorDeclared, Cluster: "prod-eu"}),
			instance("ledger", "staging", fleet.Source{Operator: fleet.OperatorDeclared, Cluster: "staging"}),
		}},
	}}
}

func syncConfig(t *testing.T, extra string) string {
	t.Helper()
	kubeconfig, err := filepath.Abs("testdata/config/kubeconfig.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("clusters:\n")
	for _, c := range []string{"prod-eu", "prod-us", "staging"} {
		fmt.Fprintf(&b, "  - name: %s\n    kubeconfig: %s\n    context: %s\n", c, kubeconfig, c)
	}
	b.WriteString(extra)
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

type syncRun struct {
	gopts    GlobalOptions
	opts     syncOptions
	app      string
	terminal bool
	in       string
	config   string // extra config text
}

// runSyncTest runs the verb against req and returns the transcript and exit code.
func runSyncTest(t *testing.T, r syncRun, req *fakeRequester) (string, int) {
	t.Helper()
	old := stdinIsTerminal
	stdinIsTerminal = func(*IOStreams) bool { return r.terminal }
	defer func() { stdinIsTerminal = old }()
	if r.opts.Timeout == 0 {
		r.opts.Timeout = time.Second
	}
	if r.opts.Wait == 0 {
		r.opts.Wait = 5 * time.Second
	}
	r.gopts.ConfigPath = syncConfig(t, r.config)
	var out, errOut bytes.Buffer
	streams := &IOStreams{In: strings.NewReader(r.in), Out: &out, ErrOut: &errOut, Getenv: func(string) string { return "" }}
	be := &syncBackend{
		model:     func(context.Context) (fleet.Model, error) { return syncModel(), nil },
		requester: req,
		now:       func() time.Time { return syncClock },
	}
	err := runSync(context.Background(), streams, &r.gopts, &r.opts, r.app, be)
	code := exitCodeOf(err)
	if err != nil {
		fmt.Fprintln(&errOut, "fleetdeck:", err)
	}
	s := out.String()
	if errOut.Len() > 0 {
		s += "--- stderr\n" + errOut.String()
	}
	return s + fmt.Sprintf("--- exit %d\n", code), code
}

func TestSyncRefusals(t *testing.T) {
	tests := []struct {
		name string
		run  syncRun
		code int
		want string
	}{
		{"read-only flag", syncRun{gopts: GlobalOptions{ReadOnly: true}, opts: syncOptions{Yes: true}, app: "payments-api"}, ExitError, "read-only mode"},
		{"read-only config", syncRun{opts: syncOptions{Yes: true}, app: "payments-api", config: "readOnly: true\n"}, ExitError, "read-only mode"},
		{"not a terminal", syncRun{app: "payments-api"}, ExitError, "the input is not a terminal: pass --yes"},
		{"unknown app", syncRun{opts: syncOptions{Yes: true}, app: "nope"}, ExitError, `no application "nope" (applications: catalog-api, ledger, payments-api)`},
		{"unknown cluster", syncRun{opts: syncOptions{Yes: true, Clusters: []string{"mars"}}, app: "payments-api"}, ExitError, `--cluster "mars": no such cluster`},
		{"not on that cluster", syncRun{opts: syncOptions{Yes: true, Clusters: []string{"staging"}}, app: "payments-api"}, ExitError, `does not run on cluster "staging" (clusters: prod-us, prod-eu)`},
		{"declared app", syncRun{opts: syncOptions{Yes: true}, app: "ledger"}, ExitError, "ledger on prod-eu, staging is declared in fleetdeck's config and applied by no GitOps operator fleetdeck knows of: fleetdeck never applies manifests itself"},
		{"bad wait", syncRun{opts: syncOptions{Yes: true, Wait: -time.Second}, app: "payments-api"}, ExitError, "--wait must be positive"},
		{"declined", syncRun{app: "payments-api", terminal: true, in: "n\n"}, ExitProblems, "cancelled: nothing was requested"},
		{"no answer", syncRun{app: "payments-api", terminal: true, in: ""}, ExitProblems, "cancelled: nothing was requested"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &fakeRequester{}
			got, code := runSyncTest(t, tt.run, req)
			if code != tt.code || !strings.Contains(got, tt.want) {
				t.Fatalf("exit %d:\n%s\nwant exit %d and %q", code, got, tt.code, tt.want)
			}
			if r := req.clusters(); len(r) > 0 {
				t.Errorf("refused sync requested %v", r)
			}
		})
	}
}

func TestSyncMixedDeclaredNamesTheOthers(t *testing.T) {
	m := syncModel()
	m.Apps[2].Instances[1] = instance("ledger", "staging", fleet.Source{Operator: fleet.OperatorFlux, Kind: "Kustomization", Cluster: "staging", Namespace: "flux-system", Name: "ledger"})
	_, err := syncTargets(m, "ledger", nil)
	if err == nil || !strings.Contains(err.Error(), "ledger on prod-eu is declared") || !strings.Contains(err.Error(), "--cluster staging") {
		t.Fatalf("error = %v", err)
	}
	ts, err := syncTargets(m, "ledger", []string{"staging"})
	if err != nil || len(ts) != 1 || ts[0].Kind != "Kustomization" {
		t.Fatalf("--cluster staging: %v %+v", err, ts)
	}
}

func at(d time.Duration) time.Time { return syncClock.Add(d) }

func TestSyncGolden(t *testing.T) {
	argoOK := []kubesync.Phase{
		{State: kubesync.StatePending, Step: "sync operation", Message: "waiting for Argo CD's application controller to start the operation", At: at(0)},
		{State: kubesync.StateRunning, Step: "sync operation", Message: "one or more tasks are running", At: at(1200 * time.Millisecond)},
		{State: kubesync.StateSucceeded, Step: "sync operation", Message: "successfully synced (all tasks run)", Revision: strings.Repeat("1a2b3c4d5e", 4),
			Sync: "Synced", Health: "Healthy", At: at(2300 * time.Millisecond)},
	}
	fluxOK := []kubesync.Phase{
		{State: kubesync.StatePending, Step: "source GitRepository flux-system/fleet-gitops", Message: "waiting for source-controller to fetch", At: at(0)},
		{State: kubesync.StatePending, Step: "Kustomization flux-system/catalog-api", Message: "source at main@sha1:" + strings.Repeat("9f8e7d6c5b", 4) + "; reconcile requested",
			Revision: "main@sha1:" + strings.Repeat("9f8e7d6c5b", 4), At: at(2 * time.Second)},
		{State: kubesync.StateRunning, Step: "Kustomization flux-system/catalog-api", Message: "Running health checks", Health: "Unknown", At: at(3 * time.Second)},
		{State: kubesync.StateSucceeded, Step: "Kustomization flux-system/catalog-api", Message: "Applied revision: main@sha1:" + strings.Repeat("9f8e7d6c5b", 4),
			Revision: "main@sha1:" + strings.Repeat("9f8e7d6c5b", 4), Health: "True", At: at(4500 * time.Millisecond)},
	}
	argoFailed := []kubesync.Phase{
		{State: kubesync.StateRunning, Step: "sync operation", Message: "one or more tasks are running", At: at(time.Second)},
		{State: kubesync.StateFailed, Step: "sync operation", Message: `one or more objects failed to apply, reason: Deployment.apps "payments-api" is invalid`,
			Revision: strings.Repeat("1a2b3c4d5e", 4), Sync: "OutOfSync", Health: "Healthy", At: at(2 * time.Second)},
	}
	tests := []struct {
		name   string
		run    syncRun
		phases map[string][]kubesync.Phase
		errs   map[string]error
		code   int
	}{
		{"argo", syncRun{opts: syncOptions{Yes: true, Clusters: []string{"prod-us"}}, app: "payments-api"}, map[string][]kubesync.Phase{"prod-us": argoOK}, nil, ExitOK},
		{"flux", syncRun{opts: syncOptions{Yes: true, Clusters: []string{"staging"}}, app: "catalog-api"}, map[string][]kubesync.Phase{"staging": fluxOK}, nil, ExitOK},
		{"failed", syncRun{opts: syncOptions{Yes: true, Clusters: []string{"prod-us"}}, app: "payments-api"}, map[string][]kubesync.Phase{"prod-us": argoFailed}, nil, ExitProblems},
		{"refused", syncRun{opts: syncOptions{Yes: true, Clusters: []string{"prod-us"}}, app: "payments-api"}, nil,
			map[string]error{"prod-us": fmt.Errorf("sync payments-api on prod-us: Application argocd/payments-api-prod-us on prod-eu: %w (initiated by automated sync)", kubesync.ErrInProgress)}, ExitProblems},
		{"unfinished", syncRun{opts: syncOptions{Yes: true, Clusters: []string{"prod-us"}}, app: "payments-api"}, map[string][]kubesync.Phase{"prod-us": argoOK[:2]}, nil, ExitProblems},
		{"confirmed", syncRun{terminal: true, in: "y\n", opts: syncOptions{Clusters: []string{"prod-us"}}, app: "payments-api"}, map[string][]kubesync.Phase{"prod-us": argoOK}, nil, ExitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &fakeRequester{phases: tt.phases, errs: tt.errs}
			got, code := runSyncTest(t, tt.run, req)
			if code != tt.code {
				t.Errorf("exit %d, want %d:\n%s", code, tt.code, got)
			}
			checkGoldenIn(t, "sync", tt.name, got)
		})
	}
}

func TestSyncEveryInstance(t *testing.T) {
	done := func(d time.Duration) []kubesync.Phase {
		return []kubesync.Phase{{State: kubesync.StateSucceeded, Step: "sync operation", Sync: "Synced", Health: "Healthy", At: at(d)}}
	}
	req := &fakeRequester{phases: map[string][]kubesync.Phase{"prod-us": done(2 * time.Second), "prod-eu": done(time.Second)}}
	got, code := runSyncTest(t, syncRun{opts: syncOptions{Yes: true}, app: "payments-api"}, req)
	if code != ExitOK {
		t.Fatalf("exit %d:\n%s", code, got)
	}
	if r := req.clusters(); strings.Join(r, ",") != "prod-eu,prod-us" {
		t.Errorf("requested %v, want both clusters in order", r)
	}
	table := strings.Split(got, "--- stderr")[0]
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "prod-eu") || !strings.HasPrefix(lines[2], "prod-us") ||
		!strings.Contains(lines[1], "Succeeded") || !strings.Contains(lines[2], "2.0s") {
		t.Errorf("outcome table:\n%s", table)
	}
	if !strings.Contains(got, "Sync payments-api on 2 clusters:") {
		t.Errorf("plan does not name both clusters:\n%s", got)
	}
}

func TestSyncUsername(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"USER": "alice"}, "alice (fleetdeck)"},
		{map[string]string{"LOGNAME": "bob"}, "bob (fleetdeck)"},
		{nil, "fleetdeck"},
	}
	for _, tt := range tests {
		if got := syncUsername(func(k string) string { return tt.env[k] }); got != tt.want {
			t.Errorf("%v: %q, want %q", tt.env, got, tt.want)
		}
	}
}
