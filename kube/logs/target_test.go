package logs

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/fleetdeck/fleetdeck/fleet"
)

func running(names ...string) []fleet.ContainerStatus {
	var out []fleet.ContainerStatus
	for _, n := range names {
		out = append(out, fleet.ContainerStatus{Name: n, Running: true})
	}
	return out
}

func pod(name string, cs ...fleet.ContainerStatus) fleet.PodState {
	return fleet.PodState{Name: name, Namespace: "shop", Containers: cs}
}

func instance(cluster string, pods ...fleet.PodState) fleet.Instance {
	return fleet.Instance{App: "api", Cluster: cluster, Namespace: "shop",
		Workloads: []fleet.WorkloadState{{Ref: fleet.ObjectRef{Kind: "Deployment", Namespace: "shop", Name: "api"}, Pods: pods}}}
}

func model(clusters []fleet.ClusterState, ins ...fleet.Instance) fleet.Model {
	return fleet.Model{Clusters: clusters, Apps: []fleet.Application{
		{Name: "api", Instances: ins},
		{Name: "other", Instances: []fleet.Instance{{App: "other", Cluster: "eu", Namespace: "o",
			Workloads: []fleet.WorkloadState{{Pods: []fleet.PodState{pod("other-1", running("o")...)}}}}}},
	}}
}

func live(names ...string) []fleet.ClusterState {
	var out []fleet.ClusterState
	for _, n := range names {
		out = append(out, fleet.ClusterState{Name: n, State: fleet.ConnSynced})
	}
	return out
}

func names(srcs []Source) []string {
	var out []string
	for _, s := range srcs {
		out = append(out, s.Cluster+"/"+s.Pod+"/"+s.Container)
	}
	return out
}

func TestTrackerSelects(t *testing.T) {
	m := model(live("eu", "us"),
		instance("eu", pod("api-1", running("api", "proxy")...), pod("api-2", running("api")...)),
		instance("us", pod("api-1", append(running("api"),
			fleet.ContainerStatus{Name: "init", Init: true, TerminatedReason: "Completed"},
			fleet.ContainerStatus{Name: "pulling", WaitingReason: "ImagePullBackOff"},
			fleet.ContainerStatus{Name: "crashed", WaitingReason: "CrashLoopBackOff", RestartCount: 4})...)),
	)
	tests := []struct {
		name string
		sel  Selector
		want []string
	}{
		{"app everywhere", Selector{App: "api"},
			[]string{"eu/api-1/api", "eu/api-1/proxy", "eu/api-2/api", "us/api-1/api", "us/api-1/crashed"}},
		{"one instance", Selector{App: "api", Clusters: []string{"us"}}, []string{"us/api-1/api", "us/api-1/crashed"}},
		{"one pod", Selector{App: "api", Clusters: []string{"eu"}, Pod: regexp.MustCompile(`^api-2$`)}, []string{"eu/api-2/api"}},
		{"container", Selector{App: "api", Container: regexp.MustCompile(`^proxy$`)}, []string{"eu/api-1/proxy"}},
		{"unknown app", Selector{App: "nope"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTracker(tt.sel)
			u := tr.Update(m, true)
			if got := names(u.Sources); !slices.Equal(got, tt.want) {
				t.Errorf("sources %q, want %q", got, tt.want)
			}
			if tr.Found() != (tt.sel.App == "api") {
				t.Errorf("Found = %v", tr.Found())
			}
		})
	}
}

func TestTrackerFollowsChanges(t *testing.T) {
	tr := NewTracker(Selector{App: "api"})
	base := model(live("eu", "us"), instance("eu", pod("api-1", running("api")...)), instance("us", pod("api-9", running("api")...)))
	if got := names(tr.Update(base, false).Sources); !slices.Equal(got, []string{"eu/api-1/api", "us/api-9/api"}) {
		t.Fatalf("start: %q", got)
	}
	// A rollout on eu: a new pod comes, the old one goes; us becomes unreachable and keeps
	// its containers, reported once.
	down := []fleet.ClusterState{{Name: "eu", State: fleet.ConnSynced}, {Name: "us", State: fleet.ConnUnreachable, Err: "dial tcp: refused"}}
	next := model(down, instance("eu", pod("api-2", running("api")...)))
	u := tr.Update(next, true)
	if got := names(u.Sources); !slices.Equal(got, []string{"eu/api-2/api", "us/api-9/api"}) {
		t.Errorf("after rollout: %q", got)
	}
	if len(u.Notices) != 1 || !u.Notices[0].Problem || !strings.Contains(u.Notices[0].Text, "cluster us is unreachable: dial tcp: refused") {
		t.Errorf("notices %+v", u.Notices)
	}
	if u := tr.Update(next, true); len(u.Notices) != 0 {
		t.Errorf("notice repeated: %+v", u.Notices)
	}
	// us answers again, without the pod; later it fails again and is reported again.
	back := model(live("eu", "us"), instance("eu", pod("api-2", running("api")...)))
	if got := names(tr.Update(back, true).Sources); !slices.Equal(got, []string{"eu/api-2/api"}) {
		t.Errorf("after us came back: %q", got)
	}
	if u := tr.Update(next, true); len(u.Notices) != 1 {
		t.Errorf("second outage not reported: %+v", u.Notices)
	}
}

func TestTrackerForbiddenPodsOnlyWhenSettled(t *testing.T) {
	cs := []fleet.ClusterState{{Name: "eu", State: fleet.ConnSynced, Forbidden: []string{"pods"}}}
	tr := NewTracker(Selector{App: "api"})
	if u := tr.Update(model(cs), false); len(u.Notices) != 0 {
		t.Errorf("unsettled model reported %+v", u.Notices)
	}
	u := tr.Update(model(cs), true)
	if len(u.Notices) != 1 || !strings.Contains(u.Notices[0].Text, "may not list pods") {
		t.Errorf("notices %+v", u.Notices)
	}
}
