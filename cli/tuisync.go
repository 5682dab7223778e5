package cli

import (
	"context"
	"errors"
	"time"

	"github.com/fleetdeck/fleetdeck/config"
	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/internal/engine"
	kubesync "github.com/fleetdeck/fleetdeck/kube/sync"
	"github.com/fleetdeck/fleetdeck/ui/syncpane"
)

// tuiSync is the sync dialog's backend: kube/sync on the engine's newest model, planned like
// `fleetdeck sync` plans (planSync) and worded like it (phaseText).
type tuiSync struct {
	// model is the fleet as the UI shows it now.
	model     func(ctx context.Context) (fleet.Model, error)
	requester kubesync.Requester
	now       func() time.Time
}

var _ syncpane.Backend = (*tuiSync)(nil)

func newTUISync(eng *engine.Engine, cfg *config.Config, readOnly bool, getenv func(string) string) *tuiSync {
	return &tuiSync{
		model: func(ctx context.Context) (fleet.Model, error) { return currentModel(ctx, eng) },
		requester: kubesync.New(cfg, kubesync.Options{
			ReadOnly: readOnly, // the dialog refuses first; the write path refuses again by itself
			Username: syncUsername(getenv),
		}),
		now: time.Now,
	}
}

// currentModel is the engine's model as it is now: the one a new subscriber gets first.
func currentModel(ctx context.Context, eng *engine.Engine) (fleet.Model, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	select {
	case m, ok := <-eng.Subscribe(ctx):
		if !ok {
			if err := ctx.Err(); err != nil {
				return fleet.Model{}, err
			}
			return fleet.Model{}, errors.New("the engine has stopped")
		}
		return m, nil
	case <-ctx.Done():
		return fleet.Model{}, ctx.Err()
	}
}

// Plan implements syncpane.Backend.
func (s *tuiSync) Plan(ctx context.Context, app, cluster string) (syncpane.Plan, error) {
	m, err := s.model(ctx)
	if err != nil {
		return syncpane.Plan{}, err
	}
	var clusters []string
	if cluster != "" {
		clusters = []string{cluster}
	}
	ts, err := planSync(m, app, clusters)
	if err != nil {
		return syncpane.Plan{}, err
	}
	p := syncpane.Plan{App: app}
	for _, t := range ts {
		p.Targets = append(p.Targets, paneTarget(t))
	}
	return p, nil
}

// Sync implements syncpane.Backend: Request, then Progress, as `fleetdeck sync` does for each
// instance.
func (s *tuiSync) Sync(ctx context.Context, t syncpane.Target) <-chan syncpane.Phase {
	ch := make(chan syncpane.Phase)
	go func() {
		defer close(ch)
		send := func(p syncpane.Phase) bool {
			select {
			case ch <- p:
				return true
			case <-ctx.Done():
				return false
			}
		}
		kt := kubeTarget(t)
		h, err := s.requester.Request(ctx, kt)
		if err != nil {
			send(syncpane.Phase{State: syncpane.StateRefused, Text: err.Error(), At: s.now()})
			return
		}
		at := h.RequestedAt
		if at.IsZero() {
			at = s.now()
		}
		if !send(syncpane.Phase{State: syncpane.StateRequested, Text: kt.Object(), At: at}) {
			return
		}
		// Progress stops by itself when ctx ends; reading it to its end is not required.
		for p := range s.requester.Progress(ctx, h) {
			if !send(panePhase(p)) {
				return
			}
		}
	}()
	return ch
}

// panePhase is a kube/sync phase as the dialog shows it, in the verb's words.
func panePhase(p kubesync.Phase) syncpane.Phase {
	return syncpane.Phase{State: syncpane.State(p.State), Text: phaseText(p), Sync: p.Sync, Health: healthText(p),
		Revision: syncRevision(p.Revision), At: p.At}
}

func paneTarget(t kubesync.Target) syncpane.Target {
	return syncpane.Target{App: t.App, Cluster: t.Cluster, Operator: t.Operator, Kind: t.Kind,
		ObjectCluster: t.ObjectCluster, Namespace: t.Namespace, Name: t.Name}
}

func kubeTarget(t syncpane.Target) kubesync.Target {
	return kubesync.Target{App: t.App, Cluster: t.Cluster, Operator: t.Operator, Kind: t.Kind,
		ObjectCluster: t.ObjectCluster, Namespace: t.Namespace, Name: t.Name}
}
