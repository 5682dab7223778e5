// Package diffpane is the diff pane of fleetdeck's TUI: how an application's live objects differ
// from git, object by object, as a unified YAML diff computed the way `fleetdeck diff` does it.
//
// The pane reads through a Backend of plain values, so that the ui never imports the engine,
// client-go or go-git; the command line adapts engine.Diff to it. The call runs in a tea.Cmd with
// a context the pane cancels when it is closed.
package diffpane

import (
	"context"

	"github.com/fleetdeck/fleetdeck/fleet"
)

// Status says how an object's two sides compare (the values of fleet/diff).
type Status string

const (
	// Same: git and live agree; the pane does not show the object.
	Same Status = "same"
	// Changed: both exist and differ.
	Changed Status = "changed"
	// OnlyInGit: git renders the object and it is not live (a sync creates it).
	OnlyInGit Status = "only-in-git"
	// OnlyLive: the operator tracks the live object and git no longer renders it (a sync with
	// pruning deletes it).
	OnlyLive Status = "only-live"
)

// Object is one object's comparison.
type Object struct {
	Group, Kind, Namespace, Name string
	Status                       Status
	// Diff is the unified diff from live to git, without colour ("" when Same): "-" lines are
	// live, "+" lines what git wants.
	Diff string
}

// Ref is the object as `fleetdeck diff` names it: "Kind[.group] namespace/name".
func (o Object) Ref() string {
	kind := o.Kind
	if o.Group != "" {
		kind += "." + o.Group
	}
	if o.Namespace == "" {
		return kind + " " + o.Name
	}
	return kind + " " + o.Namespace + "/" + o.Name
}

// Instance is one instance's comparison: git at Revision against what is live on Cluster.
type Instance struct {
	App, Cluster string
	// Branch is the tracked branch (or the operator's target revision).
	Branch string
	// Revision is the commit rendered from git; LiveRevision the one the operator reports
	// applied ("" when unknown).
	Revision, LiveRevision string
	// Objects are every object compared, sorted by kind, namespace and name.
	Objects []Object
	// Warnings name objects that could not be read and settings not applied.
	Warnings []string
	// Err says why the instance could not be compared at all (no Objects then).
	Err string
}

// Result is what Backend.Diff found: one entry per instance compared.
type Result struct {
	Instances []Instance
}

// Backend computes diffs. Diff must return soon after ctx ends.
type Backend interface {
	// Diff compares app's instance on cluster (every instance when cluster is "") with git.
	// The error is for a comparison that could not start at all (unknown app, fleet not
	// readable); an instance that could not be compared has Instance.Err set.
	Diff(ctx context.Context, app, cluster string) (Result, error)
}

// Target is what the pane compares: an application on every cluster, one instance, or one
// instance with the view opened on one of its objects (a workload row).
type Target struct {
	App     string
	Cluster string
	// Object, when set, is the object the view starts on (a workload); the instance's other
	// objects are shown too.
	Object fleet.ObjectRef
}

// String names the target the way the pane's title shows it.
func (t Target) String() string {
	if t.Cluster == "" {
		return t.App + " on every cluster"
	}
	return t.App + " on " + t.Cluster
}

// ClosedMsg is sent when the user closes the pane (esc or q).
type ClosedMsg struct{ App string }
