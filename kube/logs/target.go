package logs

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/fleetdeck/fleetdeck/fleet"
)

// Selector says whose logs to follow: an application on every cluster it runs on, on some
// clusters (one instance when one cluster is named), or down to pods and containers.
type Selector struct {
	App string
	// Clusters limits the clusters; empty means all.
	Clusters []string
	// Pod and Container, when set, must match the pod's and the container's name.
	Pod, Container *regexp.Regexp
}

func (s Selector) cluster(name string) bool {
	return len(s.Clusters) == 0 || slices.Contains(s.Clusters, name)
}

// Tracker turns successive fleet models into target sets for Stream: the containers of the
// selected application's pods, as the engine's model resolves application → instances →
// workloads → pods. It is not safe for concurrent use.
type Tracker struct {
	sel      Selector
	current  map[Source]bool
	reported map[string]bool
	found    bool
}

// NewTracker starts tracking what sel selects.
func NewTracker(sel Selector) *Tracker {
	return &Tracker{sel: sel, current: map[Source]bool{}, reported: map[string]bool{}}
}

// Found reports whether any model given so far had the application.
func (t *Tracker) Found() bool { return t.found }

// Sources is the current target set, sorted.
func (t *Tracker) Sources() []Source {
	out := make([]Source, 0, len(t.current))
	for s := range t.current {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Source) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// Update reads a model and returns the target set it implies. Clusters whose state is not
// live (still connecting, or unreachable) keep the containers they had: a model that cannot
// see a cluster says nothing about its pods. Once settled is true (the model is complete, as
// engine.Snapshot returns it, or any later one), clusters that are unreachable or forbid
// listing pods are reported, each once per state, as notices with Problem set.
func (t *Tracker) Update(m fleet.Model, settled bool) Update {
	var u Update
	app, ok := m.App(t.sel.App)
	if ok {
		t.found = true
	}
	for _, c := range m.Clusters {
		if !t.sel.cluster(c.Name) {
			continue
		}
		if !c.Live() {
			if settled && c.State == fleet.ConnUnreachable {
				msg := "unreachable"
				if c.Err != "" {
					msg += ": " + c.Err
				}
				u.Notices = t.notice(u.Notices, "unreachable/"+c.Name,
					fmt.Sprintf("cluster %s is %s; its pods are not known", c.Name, msg), c.Name)
			}
			continue
		}
		delete(t.reported, "unreachable/"+c.Name)
		if settled && c.IsForbidden("Pod") {
			u.Notices = t.notice(u.Notices, "forbidden/"+c.Name,
				fmt.Sprintf("cluster %s: may not list pods, so its logs cannot be found", c.Name), c.Name)
		}
		// The cluster is live: its containers are exactly what the model shows.
		for s := range t.current {
			if s.Cluster == c.Name {
				delete(t.current, s)
			}
		}
		if !ok {
			continue
		}
		for i := range app.Instances {
			in := &app.Instances[i]
			if in.Cluster != c.Name {
				continue
			}
			for _, w := range in.Workloads {
				for _, p := range w.Pods {
					if t.sel.Pod != nil && !t.sel.Pod.MatchString(p.Name) {
						continue
					}
					for _, ct := range p.Containers {
						if ct.Init || !hasLog(ct) {
							continue
						}
						if t.sel.Container != nil && !t.sel.Container.MatchString(ct.Name) {
							continue
						}
						ns := p.Namespace
						if ns == "" {
							ns = in.Namespace
						}
						t.current[Source{Cluster: c.Name, Namespace: ns, Pod: p.Name, Container: ct.Name}] = true
					}
				}
			}
		}
	}
	u.Sources = t.Sources()
	return u
}

// hasLog reports whether a container has run, so that there is a log to read: a container
// that never started (its image cannot be pulled, its pod is being created) has none yet.
func hasLog(c fleet.ContainerStatus) bool {
	return c.Running || c.RestartCount > 0 || c.LastTerminated || c.TerminatedReason != ""
}

func (t *Tracker) notice(out []Entry, key, text, cluster string) []Entry {
	if t.reported[key] {
		return out
	}
	t.reported[key] = true
	return append(out, Entry{Kind: KindNotice, Source: Source{Cluster: cluster}, Text: text, Problem: true})
}
