package integration

import (
	"context"
	"fmt"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/fleetdeck/fleetdeck/config"
	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/internal/engine"
	"github.com/fleetdeck/fleetdeck/internal/sandbox"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

// steadyArgo is what the stand-in reports for an Argo CD instance once the scenario has
// settled (a failing rollout turns Degraded when its progress deadline passes).
func steadyArgo(app, cluster string) (fleet.SyncStatus, fleet.HealthStatus) {
	p, ok := scenario.ProblemOn(app, cluster)
	if !ok {
		return fleet.Synced, fleet.Healthy
	}
	switch p.Kind {
	case scenario.HandPatch, scenario.Behind:
		return fleet.OutOfSync, fleet.Healthy
	case scenario.BadBump, scenario.PullFailure:
		return fleet.Synced, fleet.Degraded
	}
	return fleet.Synced, fleet.Healthy // LatestTag: committed so in git, runs fine
}

// checkOwnRulesAgree judges every Argo CD instance of the sandbox twice from the same live
// objects and git facts: as the stand-in operator reports it, and with fleetdeck's own rules
// for apps nobody applies (fleet.AsDeclared). It waits until the operator's reports have
// settled into the scenario's steady state, then requires both judgements to agree.
func checkOwnRulesAgree(t *testing.T, f *sandbox.Fleet) {
	cfg, _, err := config.Load(f.ConfigPath, os.Getenv)
	if err != nil {
		t.Fatalf("load %s: %v", f.ConfigPath, err)
	}
	cache := t.TempDir()
	eng, err := engine.New(cfg, engine.Options{GitFacts: engine.GitstateFacts, CacheDir: cache,
		Getenv: func(k string) string {
			if k == "XDG_CACHE_HOME" {
				return cache
			}
			return os.Getenv(k)
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = eng.Run(ctx) }()
	defer func() { cancel(); <-done }()

	var disagree, unsettled []string
	checked := 0
	deadline := time.Now().Add(3 * time.Minute)
	for {
		s, err := eng.Inputs(ctx, 20*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		op, own := fleet.Build(s), fleet.Build(fleet.AsDeclared(s))
		disagree, unsettled, checked = disagree[:0], unsettled[:0], 0
		for _, a := range op.Apps {
			for _, in := range a.Instances {
				if in.Source.Operator != fleet.OperatorArgoCD {
					continue
				}
				checked++
				if ws, wh := steadyArgo(a.Name, in.Cluster); in.Sync.Status != ws || in.Health.Status != wh {
					unsettled = append(unsettled, fmt.Sprintf("%s/%s: Argo CD reports %s/%s, the scenario settles at %s/%s",
						a.Name, in.Cluster, in.Sync.Status, in.Health.Status, ws, wh))
				}
				oa, _ := own.App(a.Name)
				o, ok := oa.Instance(in.Cluster)
				switch {
				case !ok:
					disagree = append(disagree, fmt.Sprintf("%s/%s: missing from fleetdeck's own judgement", a.Name, in.Cluster))
				case o.Sync.Status != in.Sync.Status || o.Health.Status != in.Health.Status:
					disagree = append(disagree, fmt.Sprintf("%s/%s: fleetdeck judges %s/%s (sync: %s; health: %s; fields %v), Argo CD reports %s/%s",
						a.Name, in.Cluster, o.Sync.Status, o.Health.Status, o.Sync.Reason, o.Health.Message, o.Sync.Fields,
						in.Sync.Status, in.Health.Status))
				}
			}
		}
		if (len(disagree) == 0 && len(unsettled) == 0) || time.Now().After(deadline) {
			break
		}
		time.Sleep(3 * time.Second)
	}
	want := 0
	for _, a := range scenario.Apps {
		for _, op := range a.Instances {
			if op == scenario.ArgoCD {
				want++
			}
		}
	}
	if checked != want {
		t.Errorf("judged %d Argo CD instances, the scenario has %d", checked, want)
	}
	sort.Strings(unsettled)
	for _, u := range unsettled {
		t.Errorf("not settled within 3 minutes: %s", u)
	}
	sort.Strings(disagree)
	for _, d := range disagree {
		t.Error(d)
	}
}
