package cli

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/fleet/diff"
	"github.com/fleetdeck/fleetdeck/internal/engine"
	kubesync "github.com/fleetdeck/fleetdeck/kube/sync"
	"github.com/fleetdeck/fleetdeck/ui/diffpane"
	"github.com/fleetdeck/fleetdeck/ui/syncpane"
)

func newTestTUISync(req *fakeRequester) *tuiSync {
	return &tuiSync{model: func(context.Context) (fleet.Model, error) { return syncModel(), nil }, requester: req,
		now: func() time.Time { return syncClock }}
}

// TestTUISyncPlan: the dialog's plan is the verb's, declared instances included, by cluster.
func TestTUISyncPlan(t *testing.T) {
	s := newTestTUISync(&fakeRequester{})
	tests := []struct {
		app, cluster string
		want         []string // cluster: object
		err          string
	}{
		{app: "payments-api", want: []string{
			"prod-eu: Argo CD Application argocd/payments-api-prod-eu on prod-eu",
			"prod-us: Argo CD Application argocd/payments-api-prod-us on prod-eu"}},
		{app: "catalog-api", cluster: "staging", want: []string{"staging: Flux Kustomization flux-system/catalog-api on staging"}},
		{app: "ledger", want: []string{
			"prod-eu: no operator: fleetdeck never applies manifests",
			"staging: no operator: fleetdeck never applies manifests"}},
		{app: "nope", err: `no application "nope"`},
		{app: "payments-api", cluster: "staging", err: `does not run on cluster "staging"`},
	}
	for _, tt := range tests {
		p, err := s.Plan(context.Background(), tt.app, tt.cluster)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s/%s: error %v, want %q", tt.app, tt.cluster, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s/%s: %v", tt.app, tt.cluster, err)
		}
		var got []string
		for _, tg := range p.Targets {
			got = append(got, tg.Cluster+": "+tg.Object())
		}
		if p.App != tt.app || strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("%s/%s: plan %s %q, want %q", tt.app, tt.cluster, p.App, got, tt.want)
		}
	}
}

// TestTUISyncProgress: Sync requests the target through kube/sync and passes on its phases in
// the verb's words; a refused request is one Refused phase.
func TestTUISyncProgress(t *testing.T) {
	req := &fakeRequester{
		phases: map[string][]kubesync.Phase{"staging": {
			{State: kubesync.StateRunning, Step: "Kustomization flux-system/catalog-api", Message: "reconciliation in progress", At: at(time.Second)},
			{State: kubesync.StateSucceeded, Step: "Kustomization flux-system/catalog-api", Message: "Applied revision",
				Revision: "main@sha1:" + strings.Repeat("9f8e7d6c5b", 4), Health: "True", At: at(2 * time.Second)},
		}},
		errs: map[string]error{"prod-eu": errors.New("Application argocd/catalog-api-prod-eu on prod-eu: " + kubesync.ErrInProgress.Error())},
	}
	s := newTestTUISync(req)
	p, err := s.Plan(context.Background(), "catalog-api", "")
	if err != nil {
		t.Fatal(err)
	}
	collect := func(tg syncpane.Target) []syncpane.Phase {
		var out []syncpane.Phase
		done := time.After(5 * time.Second)
		ch := s.Sync(context.Background(), tg)
		for {
			select {
			case ph, ok := <-ch:
				if !ok {
					return out
				}
				out = append(out, ph)
			case <-done:
				t.Fatalf("%s: the channel was not closed", tg.Cluster)
			}
		}
	}
	var flux, argo syncpane.Target
	for _, tg := range p.Targets {
		switch tg.Cluster {
		case "staging":
			flux = tg
		case "prod-eu":
			argo = tg
		}
	}
	got := collect(flux)
	want := []syncpane.Phase{
		{State: syncpane.StateRequested, Text: "Kustomization flux-system/catalog-api on staging", At: syncClock},
		{State: syncpane.StateRunning, Text: "Kustomization flux-system/catalog-api: reconciliation in progress", At: at(time.Second)},
		{State: syncpane.StateSucceeded, Text: "Kustomization flux-system/catalog-api: Applied revision (Ready, at main@sha1:9f8e7d6)",
			Health: "Ready", Revision: "main@sha1:9f8e7d6", At: at(2 * time.Second)},
	}
	if len(got) != len(want) {
		t.Fatalf("phases %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("phase %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	got = collect(argo)
	if len(got) != 1 || got[0].State != syncpane.StateRefused || !strings.Contains(got[0].Text, "another operation is already in progress") {
		t.Errorf("refused request: %+v", got)
	}
	if c := req.clusters(); strings.Join(c, ",") != "staging,prod-eu" {
		t.Errorf("requested %v", c)
	}
}

// TestTUISyncStopsWithItsContext: a cancelled follow closes the channel without waiting for
// the operator.
func TestTUISyncStopsWithItsContext(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	s := &tuiSync{requester: &blockingRequester{block: block}, now: time.Now}
	ctx, cancel := context.WithCancel(context.Background())
	ch := s.Sync(ctx, syncpane.Target{App: "a", Cluster: "c", Operator: fleet.OperatorArgoCD, Kind: "Application"})
	if p := <-ch; p.State != syncpane.StateRequested {
		t.Fatalf("first phase %+v", p)
	}
	cancel()
	select {
	case _, ok := <-ch:
		if ok {
			t.Error("a phase after cancel")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the channel stayed open after cancel")
	}
}

// blockingRequester accepts requests and reports nothing until its context ends.
type blockingRequester struct{ block chan struct{} }

func (b *blockingRequester) Request(_ context.Context, t kubesync.Target) (kubesync.Handle, error) {
	return kubesync.Handle{Target: t}, nil
}

func (b *blockingRequester) Progress(ctx context.Context, _ kubesync.Handle) <-chan kubesync.Phase {
	ch := make(chan kubesync.Phase)
	go func() {
		defer close(ch)
		select {
		case <-ctx.Done():
		case <-b.block:
		}
	}()
	return ch
}

// TestTUIDiffs: the pane gets engine.Diff's comparison for the instance asked, object by
// object, with the verb's diff text.
func TestTUIDiffs(t *testing.T) {
	fx := diffFixture(t)
	var asked []string
	d := &tuiDiffs{timeout: time.Second, diff: func(_ context.Context, app string, clusters []string, _ time.Duration) ([]engine.InstanceDiff, error) {
		asked = append(asked, app+"/"+strings.Join(clusters, ","))
		if app == "nope" {
			return nil, engine.ErrNoApp
		}
		return fx, nil
	}}
	res, err := d.Diff(context.Background(), "payments-api", "prod-us")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Diff(context.Background(), "nope", ""); !errors.Is(err, engine.ErrNoApp) {
		t.Errorf("unknown app: %v", err)
	}
	if strings.Join(asked, " ") != "payments-api/prod-us nope/" {
		t.Errorf("asked the engine %v", asked)
	}
	if len(res.Instances) != 2 || res.Instances[0].Cluster != "prod-us" || res.Instances[0].Revision != fx[0].Revision {
		t.Fatalf("instances %+v", res.Instances)
	}
	statuses := map[string]diffpane.Status{}
	for i, o := range res.Instances[0].Objects {
		statuses[o.Ref()] = o.Status
		if want := fx[0].Objects[i]; o.Diff != want.Diff || o.Ref() != want.Ref.String() {
			t.Errorf("object %d: %q %q, want %q %q", i, o.Ref(), o.Diff, want.Ref.String(), want.Diff)
		}
	}
	for ref, want := range map[string]diffpane.Status{
		"Deployment.apps payments/payments-api": diffpane.Changed,
		"ConfigMap payments/payments-flags":     diffpane.OnlyInGit,
		"ConfigMap payments/payments-legacy":    diffpane.OnlyLive,
		"Service payments/payments-api":         diffpane.Same,
	} {
		if statuses[ref] != want {
			t.Errorf("%s: status %q, want %q (all: %v)", ref, statuses[ref], want, statuses)
		}
	}
	for _, s := range []diff.Status{diff.Same, diff.Changed, diff.OnlyInGit, diff.OnlyLive} {
		if string(paneStatus(s)) != string(s) {
			t.Errorf("status %q became %q", s, paneStatus(s))
		}
	}
}
