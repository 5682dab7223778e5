package watch

import (
	"context"
	"errors"
	"regexp"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Phase is how the watch of one cluster is doing as a whole.
type Phase string

const (
	// Connecting: some first list has not finished yet and it is too early to call it slow.
	Connecting Phase = "connecting"
	// Synced: every readable resource is listed and watched.
	Synced Phase = "synced"
	// Slow: the server answers but some first list has not finished after Options.SlowAfter.
	Slow Phase = "slow"
	// Unreachable: the API server does not answer (or answers not ready). What is cached
	// stays available but may be stale.
	Unreachable Phase = "unreachable"
	// Forbidden: synced, except for resources the credentials may not list (see
	// State.Forbidden). The cluster is otherwise usable.
	Forbidden Phase = "forbidden"
)

// ResourceState is the state of one cached resource on one cluster.
type ResourceState struct {
	// Name is the plural resource with its group: "pods", "deployments.apps",
	// "applications.argoproj.io".
	Name string
	// Synced is true once the first list finished (in every watched namespace). It stays true
	// across reconnections: the cache keeps serving the last known objects.
	Synced bool
	// Forbidden: the credentials may not list or watch it (in at least one watched namespace).
	Forbidden bool
	// Missing: the cluster does not serve it (a GitOps CRD that is not installed).
	Missing bool
	// Objects is how many objects are cached.
	Objects int
	// Err is the last error of this resource, with secrets masked; empty when none.
	Err string
}

// settled reports whether the resource needs nothing more before the model is complete.
func (r ResourceState) settled() bool { return r.Synced || r.Forbidden || r.Missing }

// State is the connection state of one cluster.
type State struct {
	Phase Phase
	// Forbidden and Missing list resource names (see ResourceState.Name), sorted.
	Forbidden []string
	Missing   []string
	// Resources has one entry per resource, sorted by name.
	Resources []ResourceState
	// LastEvent is when the last list or watch event changed the cache; zero before any.
	LastEvent time.Time
	// LastContact is when the API server last answered anything (probe, list, watch, bookmark).
	LastContact time.Time
	// Since is when the cluster entered its current phase.
	Since time.Time
	// Err is the error behind the phase (why it is unreachable, or the first resource error),
	// with tokens and passwords masked; empty when none.
	Err string
}

// Complete reports whether every resource that can be read has been listed: the cache then
// holds the whole readable state of the cluster (possibly stale if Unreachable).
func (s State) Complete() bool {
	if len(s.Resources) == 0 {
		return false
	}
	for _, r := range s.Resources {
		if !r.settled() {
			return false
		}
	}
	return true
}

// Settled reports whether waiting longer is pointless for a first screen: the cluster is
// complete, or it does not answer.
func (s State) Settled() bool { return s.Phase == Unreachable || s.Complete() }

// errClass is what an error from a list, watch or probe says about the cluster.
type errClass int

const (
	errNone        errClass = iota
	errIgnore               // our own cancellation, or a normal event such as 410 Gone
	errForbidden            // 403 or 401: the credentials may not read the resource
	errMissing              // 404: the resource is not served
	errUnreachable          // no answer: network failure, timeout, server not ready
	errServer               // the server answered with another error
)

func classify(ctx context.Context, err error) errClass {
	switch {
	case err == nil:
		return errNone
	case ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ctx.Err())):
		return errIgnore
	case apierrors.IsGone(err), apierrors.IsResourceExpired(err), apierrors.IsTooManyRequests(err):
		// 410: the reflector relists; 429: it backs off. Neither says anything about reach.
		return errIgnore
	case apierrors.IsForbidden(err), apierrors.IsUnauthorized(err):
		return errForbidden
	case apierrors.IsNotFound(err):
		return errMissing
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) && status.Status().Code != 0 {
		// The server answered. A 5xx on one list is that resource's problem; the probe
		// decides whether the server as a whole is down.
		return errServer
	}
	return errUnreachable
}

// probeFailed reports whether a probe error means the server is not usable: no answer, or
// an answer saying it is not ready (5xx). 401 and 403 on /readyz prove the server answers.
func probeFailed(ctx context.Context, err error) bool {
	switch classify(ctx, err) {
	case errUnreachable:
		return true
	case errServer:
		var status apierrors.APIStatus
		return errors.As(err, &status) && status.Status().Code >= 500
	}
	return false
}

var secretPatterns = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`(?i)(bearer\s+)[^\s"',]+`), "${1}***"},
	{regexp.MustCompile(`(?i)((?:access_token|id_token|refresh_token|token|password|passwd|secret|client_secret)["']?\s*[=:]\s*["']?)[^\s"'&,]+`), "${1}***"},
	{regexp.MustCompile(`(://)[^/@\s]+@`), "${1}***@"},
}

// maskSecrets removes bearer tokens, passwords and URL credentials from an error text, so
// errors can be shown and logged.
func maskSecrets(s string) string {
	for _, p := range secretPatterns {
		s = p.re.ReplaceAllString(s, p.with)
	}
	return s
}

// errText is err's masked text, bounded so a huge server message cannot flood a screen.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return truncate(maskSecrets(err.Error()), 300)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
