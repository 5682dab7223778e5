// Package historypane is the history pane of fleetdeck's TUI: an application's commits, newest
// first, and the revert or rollback of one of them, previewed as a diff and confirmed by a key.
//
// The pane reads and writes through a Backend of plain values, so that the ui never imports
// go-git or the gitstate packages; the command line adapts gitstate/revert to it. Every call
// runs in a tea.Cmd with a context the pane cancels when it is closed.
package historypane

import (
	"context"
	"time"
)

// Mode says what a revert does.
type Mode int

const (
	// Revert undoes one commit: a new commit with its reverse, as `git revert` makes it.
	Revert Mode = iota
	// AppOnly undoes one commit in the application's paths only, leaving its changes to
	// other applications in place.
	AppOnly
	// Rollback restores the application's paths to their content at a commit.
	Rollback
)

// String is the mode in the user's words.
func (m Mode) String() string {
	switch m {
	case Revert:
		return "revert"
	case AppOnly:
		return "app-only revert"
	case Rollback:
		return "rollback"
	}
	return "unknown mode"
}

// ImageChange is one container whose image a commit changed on a cluster.
type ImageChange struct {
	Cluster   string
	Container string
	// From and To are the tags (or images) before and after the commit; "" when the container
	// was added or removed.
	From, To string
}

// Commit is one commit that touched an application's paths.
type Commit struct {
	SHA, Short string
	Author     string
	When       time.Time
	Subject    string
	// Images are the image changes the commit made, per cluster.
	Images []ImageChange
	// LiveOn lists the clusters whose live revision has this commit's content of the paths.
	LiveOn []string
	// OtherApps are the other applications whose paths the commit touched too.
	OtherApps []string
}

// Preview is a revert planned but not written: what the confirmation dialog shows.
type Preview struct {
	SHA  string
	Mode Mode
	// Title is one line saying what will be written, such as
	// `Revert 1a2b3c4 "ci: bump auth-service to 1.5.0"`; "" lets the pane make one.
	Title string
	// Diff is the unified diff of the commit to be written, without colour.
	Diff string
	// Clusters are the application's clusters the commit affects.
	Clusters []string
	// OtherApps are the other applications the commit would change (a full revert of a commit
	// that touched them too).
	OtherApps []string
	// Conflicts are the paths where the revert does not apply on the branch head. A preview
	// with conflicts cannot be confirmed.
	Conflicts []string
	// Err says why nothing can be written (such as "nothing to revert"); "" when the preview
	// can be confirmed.
	Err string
}

// Result is a revert written by Backend.Apply.
type Result struct {
	// Commit is the new commit's sha.
	Commit string
	// Branch is the local branch holding the commit in fleetdeck's clone.
	Branch string
	// Pushed is the tracked branch the commit was pushed to; "" when it was not pushed there
	// (not asked, or the remote refused it and the commit went to a side branch).
	Pushed string
	// Message says what happened and what to do next, in a sentence or two.
	Message string
}

// Backend is the repository side of the pane. Each call gets a context that ends when the pane
// closes or the call's time limit passes; implementations must return soon after it ends.
type Backend interface {
	// History lists the newest limit commits touching app's paths, newest first.
	History(ctx context.Context, app string, limit int) ([]Commit, error)
	// Preview plans a revert of sha (or a rollback to it) without writing anything.
	Preview(ctx context.Context, app, sha string, mode Mode) (Preview, error)
	// Apply writes the revert the last Preview of the same app, sha and mode showed, and
	// pushes it when push is true. It must refuse (an error) when the branch moved since.
	Apply(ctx context.Context, app, sha string, mode Mode, reason string, push bool) (Result, error)
}

// ClosedMsg is sent when the user closes the pane (esc or q in the list).
type ClosedMsg struct{ App string }

// RevertDoneMsg is sent when a revert was written. Pushed is true when it reached the tracked
// branch: the parent can mark the application "revert pushed, waiting for sync" until the
// operator's revision reaches Result.Commit.
type RevertDoneMsg struct {
	App    string
	Result Result
	Pushed bool
}
