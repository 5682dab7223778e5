package fleet

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
)

// SyncStatus follows Argo CD's sync codes.
type SyncStatus string

const (
	Synced      SyncStatus = "Synced"
	OutOfSync   SyncStatus = "OutOfSync"
	SyncUnknown SyncStatus = "Unknown"
)

// ParseSync maps an operator's sync string to a SyncStatus; anything else is Unknown.
func ParseSync(s string) SyncStatus {
	switch st := SyncStatus(s); st {
	case Synced, OutOfSync:
		return st
	}
	return SyncUnknown
}

// Sync is an instance's sync state with the reason and, when git was rendered, the fields
// fleetdeck owns that differ between git and live.
type Sync struct {
	Status SyncStatus
	Reason string
	Fields []FieldDiff
}

// FieldDiff is one differing field. Field paths are short and stable:
// "object" (present in git, absent live), "replicas", "labels.<key>",
// "containers[<name>]" (container missing), "containers[<name>].image",
// "containers[<name>].env.<NAME>", "containers[<name>].resources.<requests.cpu>".
type FieldDiff struct {
	Object ObjectRef
	Field  string
	Git    string
	Live   string
}

// String renders the diff for a one-line display.
func (d FieldDiff) String() string {
	return fmt.Sprintf("%s %s: git %q, live %q", d.Object, d.Field, d.Git, d.Live)
}

// absent is how a missing value is shown in a FieldDiff.
const absent = "<none>"

// CompareObjects compares desired workloads with live ones on the fields fleetdeck owns
// (images, replicas, env, resources, labels). Only keys present in git are compared: labels,
// env entries or resources that controllers or admission add live are not drift. live is
// looked up by ObjectRef; a desired object with no live counterpart yields one "object" diff.
// The result is ordered by object, then field.
func CompareObjects(desired []DesiredObject, live map[ObjectRef]*Workload) []FieldDiff {
	var out []FieldDiff
	for _, d := range desired {
		w := live[d.Ref()]
		if w == nil {
			out = append(out, FieldDiff{Object: d.Ref(), Field: "object", Git: "present", Live: absent})
			continue
		}
		out = append(out, compareObject(d, w)...)
	}
	if len(out) > 1 {
		slices.SortStableFunc(out, func(a, b FieldDiff) int {
			return cmp.Or(compareRef(a.Object, b.Object), strings.Compare(a.Field, b.Field))
		})
	}
	return out
}

// TrackingLabel is the label Argo CD's label tracking writes on every object it applies,
// set to the Application's name over what the manifests say.
const TrackingLabel = "app.kubernetes.io/instance"

// AsApplied returns desired as an operator whose label tracking names trackedBy applies it:
// where the live object carries TrackingLabel with that value, the desired one does too, so
// the operator's own label is no difference. With trackedBy empty (no label tracking) desired
// is returned as it is.
func AsApplied(desired []DesiredObject, live map[ObjectRef]*Workload, trackedBy string) []DesiredObject {
	if trackedBy == "" {
		return desired
	}
	var out []DesiredObject
	for i, d := range desired {
		w := live[d.Ref()]
		if w == nil || w.Labels[TrackingLabel] != trackedBy || d.Labels[TrackingLabel] == trackedBy {
			continue
		}
		if out == nil {
			out = slices.Clone(desired)
		}
		labels := maps.Clone(d.Labels)
		if labels == nil {
			labels = map[string]string{}
		}
		labels[TrackingLabel] = trackedBy
		out[i].Labels = labels
	}
	if out == nil {
		return desired
	}
	return out
}

func compareObject(d DesiredObject, w *Workload) []FieldDiff {
	var out []FieldDiff
	ref := d.Ref()
	add := func(field, git, live string) {
		out = append(out, FieldDiff{Object: ref, Field: field, Git: git, Live: live})
	}
	if d.Replicas != nil && *d.Replicas != w.Replicas {
		add("replicas", fmt.Sprint(*d.Replicas), fmt.Sprint(w.Replicas))
	}
	for _, k := range sortedKeys(d.Labels) {
		if lv, ok := w.Labels[k]; !ok || lv != d.Labels[k] {
			add("labels."+k, d.Labels[k], valueOr(lv, ok))
		}
	}
	for _, dc := range d.Containers {
		var lc *Container
		for i := range w.Containers {
			if w.Containers[i].Name == dc.Name && w.Containers[i].Init == dc.Init {
				lc = &w.Containers[i]
				break
			}
		}
		field := "containers[" + dc.Name + "]"
		if lc == nil {
			add(field, "present", absent)
			continue
		}
		if dc.Image != "" && !SameImage(dc.Image, lc.Image) {
			add(field+".image", dc.Image, lc.Image)
		}
		for _, k := range sortedKeys(dc.Env) {
			if lv, ok := lc.Env[k]; !ok || lv != dc.Env[k] {
				add(field+".env."+k, dc.Env[k], valueOr(lv, ok))
			}
		}
		for _, k := range sortedKeys(dc.Resources) {
			if lv, ok := lc.Resources[k]; !ok || lv != dc.Resources[k] {
				add(field+".resources."+k, dc.Resources[k], valueOr(lv, ok))
			}
		}
	}
	return out
}

func valueOr(v string, ok bool) string {
	if !ok {
		return absent
	}
	return v
}

func sortedKeys(m map[string]string) []string {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// summarizeDiffs says what differs in a few words: "image of Deployment a/b and 2 more fields".
func summarizeDiffs(ds []FieldDiff) string {
	if len(ds) == 0 {
		return ""
	}
	first := ds[0]
	s := first.Field + " of " + first.Object.String()
	if first.Field == "object" {
		s = first.Object.String() + " missing live"
	}
	if n := len(ds) - 1; n == 1 {
		s += " and 1 more field"
	} else if n > 1 {
		s += fmt.Sprintf(" and %d more fields", n)
	}
	return strings.TrimSpace(s)
}
