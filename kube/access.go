package kube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/fleetdeck/fleetdeck/config"
)

// Resource is one kind of object fleetdeck reads, with the verbs it needs
// cluster-wide.
type Resource struct {
	// Name labels the resource in tables: "pods", "pods/log", "applications".
	Name        string
	Group       string
	Resource    string
	Subresource string
	Verbs       []string
	// CRD resources exist only where their operator is installed; when
	// absent they are "not installed", not an error.
	CRD bool
}

var listWatch = []string{"list", "watch"}

// NeededResources are the resources fleetdeck lists and watches, in the
// order of the config check table.
var NeededResources = []Resource{
	{Name: "pods", Resource: "pods", Verbs: listWatch},
	{Name: "pods/log", Resource: "pods", Subresource: "log", Verbs: []string{"get"}},
	{Name: "events", Resource: "events", Verbs: listWatch},
	{Name: "deployments", Group: "apps", Resource: "deployments", Verbs: listWatch},
	{Name: "statefulsets", Group: "apps", Resource: "statefulsets", Verbs: listWatch},
	{Name: "daemonsets", Group: "apps", Resource: "daemonsets", Verbs: listWatch},
	{Name: "replicasets", Group: "apps", Resource: "replicasets", Verbs: listWatch},
	{Name: "applications", Group: "argoproj.io", Resource: "applications", Verbs: listWatch, CRD: true},
	{Name: "kustomizations", Group: "kustomize.toolkit.fluxcd.io", Resource: "kustomizations", Verbs: listWatch, CRD: true},
	{Name: "helmreleases", Group: "helm.toolkit.fluxcd.io", Resource: "helmreleases", Verbs: listWatch, CRD: true},
}

// Access is what the user may do with one resource.
type Access string

// Access values, as printed in the config check table.
const (
	AccessOK           Access = "ok"
	AccessForbidden    Access = "forbidden"
	AccessNotInstalled Access = "n/a"
	AccessUnknown      Access = "-"
)

// ResourceAccess is the outcome for one resource.
type ResourceAccess struct {
	Resource Resource `json:"-"`
	Name     string   `json:"resource"`
	Access   Access   `json:"access"`
	// Denied lists the verbs the authorizer refused.
	Denied []string `json:"denied,omitempty"`
	// Reason explains forbidden or unknown access.
	Reason string `json:"reason,omitempty"`
}

// AccessReport is the outcome of probing one cluster.
type AccessReport struct {
	// Host is the API server address probed.
	Host string `json:"host"`
	// Reachable says the API server answered at all.
	Reachable bool `json:"reachable"`
	// Version is the server's gitVersion, e.g. v1.37.2.
	Version string `json:"version,omitempty"`
	// Error says why the cluster is unusable (unreachable, credentials
	// rejected); credentials are redacted.
	Error string `json:"error,omitempty"`
	// Elapsed is how long the probe took.
	Elapsed time.Duration `json:"elapsedNanos"`
	// Resources follows NeededResources' order.
	Resources []ResourceAccess `json:"resources"`
}

// CheckAccess asks one API server for its version, then which of
// NeededResources the user may list and watch (SelfSubjectAccessReview)
// and which CRDs are installed (discovery). Each of the two phases is
// bounded by timeout, so a dead cluster costs at most timeout. The error
// is non-nil when the cluster cannot be used at all; the report is filled
// in either case.
func CheckAccess(ctx context.Context, cfg *rest.Config, timeout time.Duration) (AccessReport, error) {
	start := time.Now()
	rep := AccessReport{Host: hostOf(cfg)}
	defer func() { rep.Elapsed = time.Since(start) }()
	unknown := func(reason string) {
		rep.Resources = rep.Resources[:0]
		for _, r := range NeededResources {
			rep.Resources = append(rep.Resources, ResourceAccess{Resource: r, Name: r.Name, Access: AccessUnknown, Reason: reason})
		}
	}

	c := rest.CopyConfig(cfg)
	c.Timeout = timeout
	// The probe sends a burst of ~20 reviews once; client-go's default
	// limiter (5 QPS) would spread them over seconds.
	c.QPS, c.Burst = max(c.QPS, clientQPS), max(c.Burst, clientBurst)
	cs, err := kubernetes.NewForConfig(c)
	if err != nil {
		rep.Error = Redact(err).Error()
		unknown(rep.Error)
		return rep, fmt.Errorf("%s: client: %s", rep.Host, rep.Error)
	}

	vctx, cancel := context.WithTimeout(ctx, timeout)
	raw, err := cs.Discovery().RESTClient().Get().AbsPath("/version").Do(vctx).Raw()
	cancel()
	if err != nil {
		rep.Reachable = answered(err)
		rep.Error = describeErr(err, timeout)
		unknown(rep.Error)
		return rep, fmt.Errorf("%s: %s", rep.Host, rep.Error)
	}
	rep.Reachable = true
	var info version.Info
	if err := json.Unmarshal(raw, &info); err != nil {
		rep.Error = fmt.Sprintf("/version: not a Kubernetes API server: %v", err)
		unknown(rep.Error)
		return rep, fmt.Errorf("%s: %s", rep.Host, rep.Error)
	}
	rep.Version = info.GitVersion

	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var (
		wg        sync.WaitGroup
		installed map[string]bool
		discErr   error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		installed, discErr = crdResources(actx, cs.Discovery().RESTClient())
	}()
	type verdict struct {
		allowed bool
		reason  string
		err     error
	}
	verdicts := make([][]verdict, len(NeededResources))
	for i, r := range NeededResources {
		verdicts[i] = make([]verdict, len(r.Verbs))
		for j, verb := range r.Verbs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				allowed, reason, err := review(actx, cs, r, verb)
				verdicts[i][j] = verdict{allowed, reason, err}
			}()
		}
	}
	wg.Wait()

	for i, r := range NeededResources {
		ra := ResourceAccess{Resource: r, Name: r.Name, Access: AccessOK}
		if r.CRD {
			switch {
			case discErr != nil:
				ra.Access, ra.Reason = AccessUnknown, "discovery: "+describeErr(discErr, timeout)
				rep.Resources = append(rep.Resources, ra)
				continue
			case !installed[r.Group+"/"+r.Resource]:
				ra.Access, ra.Reason = AccessNotInstalled, "CRD not installed"
				rep.Resources = append(rep.Resources, ra)
				continue
			}
		}
		var reasons []string
		for j, v := range verdicts[i] {
			switch {
			case v.err != nil:
				ra.Access = AccessUnknown
				reasons = append(reasons, r.Verbs[j]+": "+describeErr(v.err, timeout))
			case !v.allowed:
				ra.Denied = append(ra.Denied, r.Verbs[j])
				if v.reason != "" {
					reasons = append(reasons, r.Verbs[j]+": "+v.reason)
				}
			}
		}
		if ra.Access == AccessOK && len(ra.Denied) > 0 {
			ra.Access = AccessForbidden
			if len(reasons) == 0 {
				reasons = append(reasons, strings.Join(ra.Denied, ", ")+" denied")
			}
		}
		ra.Reason = strings.Join(reasons, "; ")
		rep.Resources = append(rep.Resources, ra)
	}
	return rep, nil
}

// review asks whether the user may perform verb on r in all namespaces.
func review(ctx context.Context, cs kubernetes.Interface, r Resource, verb string) (bool, string, error) {
	ssar := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Verb: verb, Group: r.Group, Resource: r.Resource, Subresource: r.Subresource,
		},
	}}
	res, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, ssar, metav1.CreateOptions{})
	if err != nil {
		return false, "", err
	}
	reason := res.Status.Reason
	if res.Status.EvaluationError != "" && !res.Status.Allowed {
		reason = strings.TrimSpace(reason + " " + res.Status.EvaluationError)
	}
	return res.Status.Allowed, reason, nil
}

// crdResources reports which CRD resources of NeededResources the server
// serves, as "group/resource". A group missing from /apis is simply absent.
func crdResources(ctx context.Context, rc rest.Interface) (map[string]bool, error) {
	var groups metav1.APIGroupList
	raw, err := rc.Get().AbsPath("/apis").Do(ctx).Raw()
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &groups); err != nil {
		return nil, fmt.Errorf("/apis: %w", err)
	}
	want := map[string]bool{}
	for _, r := range NeededResources {
		if r.CRD {
			want[r.Group] = true
		}
	}
	out := map[string]bool{}
	for _, g := range groups.Groups {
		if !want[g.Name] {
			continue
		}
		gv := g.PreferredVersion.GroupVersion
		if gv == "" && len(g.Versions) > 0 {
			gv = g.Versions[0].GroupVersion
		}
		raw, err := rc.Get().AbsPath("/apis/" + gv).Do(ctx).Raw()
		if err != nil {
			if apierrors.IsNotFound(err) {
				continue // group registered but its version is being removed
			}
			return nil, err
		}
		var list metav1.APIResourceList
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, fmt.Errorf("/apis/%s: %w", gv, err)
		}
		for _, res := range list.APIResources {
			out[g.Name+"/"+res.Name] = true
		}
	}
	return out, nil
}

// answered says whether err came back from the server (an HTTP status)
// rather than from failing to reach it.
func answered(err error) bool {
	var se apierrors.APIStatus
	return errors.As(err, &se)
}

// describeErr turns a request error into a short, stable, redacted cause.
func describeErr(err error, timeout time.Duration) string {
	var dnsErr *net.DNSError
	var netErr net.Error
	switch {
	case apierrors.IsUnauthorized(err):
		return "credentials rejected (401 Unauthorized)"
	case apierrors.IsForbidden(err):
		return "forbidden (403): " + Redact(err).Error()
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Sprintf("no answer within %s", timeout)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("cannot resolve host %s", dnsErr.Name)
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return Redact(err).Error()
}

// ClusterAccess is the probe result of one configured cluster.
type ClusterAccess struct {
	Cluster string
	Report  AccessReport
	// Err is set when the cluster could not be probed: bad client
	// configuration, unreachable, credentials rejected.
	Err error
}

// CheckClusters probes every cluster concurrently with CheckAccess and
// returns the results in the clusters' order; one slow cluster delays
// only itself.
func CheckClusters(ctx context.Context, clusters []config.Cluster, timeout time.Duration) []ClusterAccess {
	out := make([]ClusterAccess, len(clusters))
	var wg sync.WaitGroup
	for i, cl := range clusters {
		out[i].Cluster = cl.Name
		rc, err := RESTConfig(cl)
		if err != nil {
			out[i].Err = err
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i].Report, out[i].Err = CheckAccess(ctx, rc, timeout)
		}()
	}
	wg.Wait()
	return out
}
