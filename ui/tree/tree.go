// Package tree turns the fleet model into the rows of fleetdeck's main list: Applications →
// Instances → workloads → pods, filtered and expanded as the user asked, and renders one row.
//
// Rows are identified by a Key made of names, not positions, so that selection and expansion
// survive a new model in which rows moved, appeared or vanished.
package tree

import (
	"strings"

	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/ui/fuzzy"
)

// Level is a row's depth in the tree.
type Level int

const (
	LevelApp Level = iota
	LevelInstance
	LevelWorkload
	LevelPod
)

// Key identifies a row across model updates: the fields of the levels above and at the row's
// own level are set, the others are zero.
type Key struct {
	App      string
	Cluster  string
	Operator fleet.Operator
	Workload fleet.ObjectRef
	Pod      string // namespace/name
}

// Level is the depth of the row the key names.
func (k Key) Level() Level {
	switch {
	case k.Pod != "":
		return LevelPod
	case k.Workload != (fleet.ObjectRef{}):
		return LevelWorkload
	case k.Cluster != "" || k.Operator != "":
		return LevelInstance
	}
	return LevelApp
}

// Parent is the key of the row above this one (the app's key is its own parent).
func (k Key) Parent() Key {
	switch k.Level() {
	case LevelPod:
		k.Pod = ""
	case LevelWorkload:
		k.Workload = fleet.ObjectRef{}
	case LevelInstance:
		k.Cluster, k.Operator = "", ""
	}
	return k
}

// Row is one visible line of the tree. The pointers of the row's level and of the levels above
// are set; they point into the model the rows were made from.
type Row struct {
	Key        Key
	Level      Level
	Expandable bool // has children under the current filters
	Expanded   bool

	App      *fleet.Application
	Instance *fleet.Instance
	Workload *fleet.WorkloadState
	Pod      *fleet.PodState

	// Note is a word from the ui about the row, shown first among its extras, such as
	// "revert pushed, waiting for sync".
	Note string
}

// Severity is the row's severity, for its marker.
func (r Row) Severity() fleet.Severity {
	switch r.Level {
	case LevelApp:
		return r.App.Severity
	case LevelInstance:
		return r.Instance.Severity
	case LevelWorkload:
		return r.Workload.Severity
	}
	switch r.Pod.Health.Status {
	case fleet.Degraded:
		return fleet.SeverityError
	case fleet.Healthy, "":
		if r.Pod.Restarts > 0 {
			return fleet.SeverityWarning
		}
		return fleet.SeverityOK
	case fleet.Progressing, fleet.Suspended:
		return fleet.SeverityInfo
	}
	return fleet.SeverityWarning
}

// Filter is what the user narrowed the tree to.
type Filter struct {
	// Expanded holds the keys of expanded rows.
	Expanded map[Key]bool
	// ProblemsOnly hides what is fine: applications, instances and workloads with severity OK,
	// and healthy pods that never restarted.
	ProblemsOnly bool
	// Query is a fuzzy pattern matched against the app name, cluster, namespace and images.
	Query string
	// Cluster, when set, keeps only instances on that cluster.
	Cluster string
}

// Active reports whether anything hides rows.
func (f Filter) Active() bool { return f.ProblemsOnly || f.Query != "" || f.Cluster != "" }

// InstanceKey is the key of an instance row.
func InstanceKey(in *fleet.Instance) Key {
	return Key{App: in.App, Cluster: in.Cluster, Operator: in.Source.Operator}
}

// WorkloadKey is the key of a workload row.
func WorkloadKey(in *fleet.Instance, w *fleet.WorkloadState) Key {
	k := InstanceKey(in)
	k.Workload = w.Ref
	return k
}

// PodKey is the key of a pod row.
func PodKey(in *fleet.Instance, w *fleet.WorkloadState, p *fleet.PodState) Key {
	k := WorkloadKey(in, w)
	k.Pod = p.Namespace + "/" + p.Name
	return k
}

// Flatten lists the visible rows of m, in the model's order (worst first at every level).
func Flatten(m *fleet.Model, f Filter) []Row {
	rows := make([]Row, 0, len(m.Apps))
	for ai := range m.Apps {
		a := &m.Apps[ai]
		if f.ProblemsOnly && a.Severity == fleet.SeverityOK {
			continue
		}
		nameMatches := f.Query == ""
		if !nameMatches {
			_, nameMatches = fuzzy.Score(f.Query, a.Name)
		}
		var insts []*fleet.Instance
		for ii := range a.Instances {
			in := &a.Instances[ii]
			if f.Cluster != "" && in.Cluster != f.Cluster {
				continue
			}
			if f.ProblemsOnly && in.Severity == fleet.SeverityOK {
				continue
			}
			if !nameMatches && !instanceMatches(f.Query, in) {
				continue
			}
			insts = append(insts, in)
		}
		if len(insts) == 0 && (f.Cluster != "" || !nameMatches || len(a.Instances) > 0) {
			continue
		}
		key := Key{App: a.Name}
		open := f.Expanded[key]
		rows = append(rows, Row{Key: key, Level: LevelApp, Expandable: len(insts) > 0, Expanded: open && len(insts) > 0, App: a})
		if !open {
			continue
		}
		for _, in := range insts {
			rows = appendInstance(rows, f, a, in)
		}
	}
	return rows
}

func appendInstance(rows []Row, f Filter, a *fleet.Application, in *fleet.Instance) []Row {
	key := InstanceKey(in)
	var wls []*fleet.WorkloadState
	for wi := range in.Workloads {
		w := &in.Workloads[wi]
		if f.ProblemsOnly && w.Severity == fleet.SeverityOK && w.Health.Status == fleet.Healthy {
			continue
		}
		wls = append(wls, w)
	}
	open := f.Expanded[key]
	rows = append(rows, Row{Key: key, Level: LevelInstance, Expandable: len(wls) > 0, Expanded: open && len(wls) > 0, App: a, Instance: in})
	if !open {
		return rows
	}
	for _, w := range wls {
		wkey := WorkloadKey(in, w)
		var pods []*fleet.PodState
		for pi := range w.Pods {
			p := &w.Pods[pi]
			if f.ProblemsOnly && p.Health.Status == fleet.Healthy && p.Restarts == 0 {
				continue
			}
			pods = append(pods, p)
		}
		wopen := f.Expanded[wkey]
		rows = append(rows, Row{Key: wkey, Level: LevelWorkload, Expandable: len(pods) > 0, Expanded: wopen && len(pods) > 0,
			App: a, Instance: in, Workload: w})
		if !wopen {
			continue
		}
		for _, p := range pods {
			rows = append(rows, Row{Key: PodKey(in, w, p), Level: LevelPod, App: a, Instance: in, Workload: w, Pod: p})
		}
	}
	return rows
}

// instanceMatches reports whether the fuzzy query matches the instance's cluster, namespace or
// one of its images (git or live).
func instanceMatches(q string, in *fleet.Instance) bool {
	if _, ok := fuzzy.Best(q, in.Cluster, in.Namespace); ok {
		return true
	}
	for _, im := range in.Images {
		if imageMatches(q, im.GitImage) || imageMatches(q, im.LiveImage) {
			return true
		}
	}
	for _, w := range in.Workloads {
		if _, ok := fuzzy.Best(q, w.Ref.Namespace); ok {
			return true
		}
		for _, image := range w.Images {
			if imageMatches(q, image) {
				return true
			}
		}
	}
	return false
}

// imageMatches matches an image reference: fuzzily on its last path element (name and tag),
// literally on the whole reference. The registry and project prefix are usually the same for
// the whole fleet; matched fuzzily, their letters would let almost any query match every image.
func imageMatches(q, image string) bool {
	if image == "" {
		return false
	}
	if strings.Contains(strings.ToLower(image), strings.ToLower(q)) {
		return true
	}
	_, ok := fuzzy.Score(q, image[strings.LastIndexByte(image, '/')+1:])
	return ok
}

// Index returns the position of key in rows, or -1.
func Index(rows []Row, key Key) int {
	for i := range rows {
		if rows[i].Key == key {
			return i
		}
	}
	return -1
}

// Locate finds where the selection should go after rows changed: the row with key, else its
// nearest ancestor still shown, else -1.
func Locate(rows []Row, key Key) int {
	for {
		if i := Index(rows, key); i >= 0 {
			return i
		}
		if key.Level() == LevelApp {
			return -1
		}
		key = key.Parent()
	}
}
