package watch

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
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
	// Slow: the server answers, but late: some first list has not finished after
	// Options.SlowAfter, or the health probe takes longer than Options.SlowResponse. A cluster
	// that is Slow and Complete serves its whole cache, which follows changes late.
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
	// Synced is true once the first list finished (in every namespace it is read in). It stays
	// true across reconnections: the cache keeps serving the last known objects.
	Synced bool
	// Forbidden: the credentials may not list or watch it somewhere: cluster-wide with no
	// namespace to fall back on, or in the namespaces of ForbiddenNamespaces.
	Forbidden bool
	// Namespaces are the namespaces it is read in one by one, sorted: those of
	// Options.Namespaces, or, when listing it cluster-wide is forbidden, those it may be read
	// in. Nil when it is read cluster-wide.
	Namespaces []string
	// ForbiddenNamespaces are the namespaces it may not be read in, sorted, when it is read
	// namespace by namespace. A resource that is Forbidden with no Namespaces is unreadable
	// everywhere.
	ForbiddenNamespaces []string
	// Missing: the cluster does not serve it (a GitOps CRD that is not installed).
	Missing bool
	// Objects is how many objects are cached.
	Objects int
	// Err is the last error of this resource, with secrets masked; empty when none.
	Err string
}

// settled reports whether the resource needs nothing more before the model is complete: it
// is listed wherever it may be read, or it may be read nowhere, or it is not served.
func (r ResourceState) settled() bool {
	return r.Synced || r.Missing || (r.Forbidden && len(r.Namespaces) == 0)
}

// ForbiddenIn reports whether objects of the resource in namespace ns may be missing from
// the cache because the credentials may not read them there: the resource is forbidden and
// is not read in ns. ns "" asks about cluster-scoped objects.
func (r ResourceState) ForbiddenIn(ns string) bool {
	return r.Forbidden && !slices.Contains(r.Namespaces, ns)
}

// State is the connection state of one cluster.
type State struct {
	Phase Phase
	// Forbidden lists the resources the credentials may not read somewhere, and Missing those
	// the cluster does not serve, by name (see ResourceState.Name), sorted.
	Forbidden []string
	Missing   []string
	// ForbiddenIn maps the resources of Forbidden that are read in some namespaces to the
	// namespaces they may not be read in ("pods" → ["payments"]). A resource of Forbidden
	// without an entry may be read nowhere.
	ForbiddenIn map[string][]string
	// Resources has one entry per resource, sorted by name.
	Resources []ResourceState
	// LastEvent is when the last list or watch event changed the cache; zero before any.
	LastEvent time.Time
	// LastContact is when the API server last answered anything (probe, list, watch, bookmark).
	LastContact time.Time
	// Since is when the cluster entered its current phase.
	Since time.Time
	// Err is the error behind the phase, with tokens and passwords masked; empty when none:
	// why it is unreachable, else the first resource error, else what is forbidden where
	// ("events, pods: forbidden in kube-system, payments").
	Err string
}

// ForbiddenAt reports whether objects of resource (a ResourceState.Name) in namespace ns may
// be missing from the cache because the credentials may not read them there.
func (s State) ForbiddenAt(resource, ns string) bool {
	for _, r := range s.Resources {
		if r.Name == resource {
			return r.ForbiddenIn(ns)
		}
	}
	return false
}

// forbiddenSummary says which resources are forbidden where, resources with the same
// namespaces grouped, in resource order: "events, pods: forbidden in payments; secrets:
// forbidden". Empty when nothing is forbidden.
func forbiddenSummary(resources []ResourceState) string {
	var groups []string
	byWhere := map[string][]string{}
	for _, r := range resources {
		if !r.Forbidden {
			continue
		}
		where := "forbidden"
		if len(r.Namespaces) > 0 && len(r.ForbiddenNamespaces) > 0 {
			where = "forbidden in " + joinNames(r.ForbiddenNamespaces)
		}
		if byWhere[where] == nil {
			groups = append(groups, where)
		}
		byWhere[where] = append(byWhere[where], r.Name)
	}
	parts := make([]string, 0, len(groups))
	for _, where := range groups {
		parts = append(parts, strings.Join(byWhere[where], ", ")+": "+where)
	}
	return truncate(strings.Join(parts, "; "), 300)
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
