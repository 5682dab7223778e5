// Package syncpane is the sync dialog of fleetdeck's TUI: it names the application, its clusters
// and the operator objects a sync asks, waits for y, then shows each operator's progress until
// every one reports its outcome. fleetdeck never applies manifests itself.
//
// The pane works through a Backend of plain values, so that the ui never imports client-go; the
// command line adapts kube/sync to it. Every call runs in a tea.Cmd with a context the pane
// cancels when it is closed.
package syncpane

import (
	"context"
	"time"

	"github.com/fleetdeck/fleetdeck/fleet"
)

// Target is one instance to sync and the operator object that applies it (the fields of
// kube/sync's Target).
type Target struct {
	App     string
	Cluster string
	// Operator is argocd, flux or declared (no operator: nothing to ask).
	Operator fleet.Operator
	// The operator object: an Argo CD Application (on the hub), a Flux Kustomization or
	// HelmRelease (on Cluster). Empty for declared instances.
	Kind, ObjectCluster, Namespace, Name string
}

// Declared reports whether no operator applies the instance: a sync cannot be asked for.
func (t Target) Declared() bool { return t.Operator == fleet.OperatorDeclared || t.Kind == "" }

// Object names the operator object in the user's words:
// "Argo CD Application argocd/payments-api-prod-us on prod-eu".
func (t Target) Object() string {
	if t.Declared() {
		return "no operator: fleetdeck never applies manifests"
	}
	who := string(t.Operator)
	switch t.Operator {
	case fleet.OperatorArgoCD:
		who = "Argo CD"
	case fleet.OperatorFlux:
		who = "Flux"
	}
	obj := t.Kind + " " + t.Name
	if t.Namespace != "" {
		obj = t.Kind + " " + t.Namespace + "/" + t.Name
	}
	if t.ObjectCluster != "" {
		obj += " on " + t.ObjectCluster
	}
	return who + " " + obj
}

// Plan is what a sync of an application asks of whom, before anything is written.
type Plan struct {
	App string
	// Targets are the instances, by cluster; declared ones are listed and never requested.
	Targets []Target
}

// Syncable are the targets an operator applies.
func (p Plan) Syncable() []Target {
	var out []Target
	for _, t := range p.Targets {
		if !t.Declared() {
			out = append(out, t)
		}
	}
	return out
}

// State is where a request stands.
type State string

const (
	// StateRequested: the request was written; the operator has not reported on it yet.
	StateRequested State = "Requested"
	// StateRefused: the request could not be written (another operation in progress,
	// suspended, forbidden, read-only); final.
	StateRefused State = "Refused"
	// StatePending: the operator has not started on the request yet.
	StatePending State = "Pending"
	// StateRunning: the operator works on it.
	StateRunning State = "Running"
	// StateSucceeded, StateFailed and StateError are final, as kube/sync reports them.
	StateSucceeded State = "Succeeded"
	StateFailed    State = "Failed"
	StateError     State = "Error"
)

// Done reports whether the state is final.
func (s State) Done() bool {
	return s == StateSucceeded || s == StateFailed || s == StateError || s == StateRefused
}

// Phase is one step of a request's progress.
type Phase struct {
	State State
	// Text is the step and the operator's words: "sync operation: one or more tasks are
	// running (Synced, Healthy, at 1a2b3c4)".
	Text string
	// Sync and Health are the application's sync and health once the operator finished
	// ("Synced", "Healthy"; Flux: "Ready"/"NotReady"); Revision the revision applied.
	Sync, Health, Revision string
	At                     time.Time
}

// Backend plans and requests syncs. Every call must return soon after its context ends.
type Backend interface {
	// Plan says what a sync of app (on cluster; every cluster when "") would ask of whom,
	// without writing anything. Declared instances are part of the plan.
	Plan(ctx context.Context, app, cluster string) (Plan, error)
	// Sync asks t's operator to sync now and follows the request. It returns at once with a
	// channel that receives the request's outcome first (StateRequested, or StateRefused and
	// nothing else), then each phase the operator reports, and is closed after a final phase
	// or when ctx ends.
	Sync(ctx context.Context, t Target) <-chan Phase
}

// ClosedMsg is sent when the user closes the pane.
type ClosedMsg struct{ App string }
