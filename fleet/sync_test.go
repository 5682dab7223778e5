package fleet

import (
	"fmt"
	"reflect"
	"testing"
)

func TestCompareObjects(t *testing.T) {
	ref := ObjectRef{Kind: "Deployment", Namespace: "ledger", Name: "ledger"}
	base := func() DesiredObject {
		return DesiredObject{Kind: "Deployment", Namespace: "ledger", Name: "ledger", Replicas: i32(2),
			Labels: map[string]string{"team": "core"},
			Containers: []Container{{Name: "app", Image: "reg/ledger:1.0",
				Env:       map[string]string{"LOG_LEVEL": "info"},
				Resources: map[string]string{"requests.cpu": "100m", "limits.memory": "256Mi"}}}}
	}
	liveOf := func(d DesiredObject) *Workload {
		w := &Workload{Kind: d.Kind, Namespace: d.Namespace, Name: d.Name, Replicas: *d.Replicas,
			Labels: map[string]string{"team": "core", "pod-template-hash": "x"}}
		for _, c := range d.Containers {
			lc := Container{Name: c.Name, Image: c.Image, Env: map[string]string{"INJECTED": "1"}, Resources: map[string]string{}}
			for k, v := range c.Env {
				lc.Env[k] = v
			}
			for k, v := range c.Resources {
				lc.Resources[k] = v
			}
			w.Containers = append(w.Containers, lc)
		}
		return w
	}
	tests := []struct {
		name   string
		mutate func(*Workload)
		want   []FieldDiff
	}{
		{"identical (extra live labels and env are not drift)", func(*Workload) {}, nil},
		{"image", func(w *Workload) { w.Containers[0].Image = "reg/ledger:hotfix" },
			[]FieldDiff{{ref, "containers[app].image", "reg/ledger:1.0", "reg/ledger:hotfix"}}},
		{"replicas", func(w *Workload) { w.Replicas = 5 },
			[]FieldDiff{{ref, "replicas", "2", "5"}}},
		{"env changed and removed", func(w *Workload) { w.Containers[0].Env = map[string]string{} },
			[]FieldDiff{{ref, "containers[app].env.LOG_LEVEL", "info", absent}}},
		{"resources", func(w *Workload) { w.Containers[0].Resources["requests.cpu"] = "1" },
			[]FieldDiff{{ref, "containers[app].resources.requests.cpu", "100m", "1"}}},
		{"label", func(w *Workload) { w.Labels["team"] = "other" },
			[]FieldDiff{{ref, "labels.team", "core", "other"}}},
		{"container missing", func(w *Workload) { w.Containers[0].Name = "renamed" },
			[]FieldDiff{{ref, "containers[app]", "present", absent}}},
		{"several, ordered by field", func(w *Workload) { w.Replicas = 1; w.Containers[0].Image = "reg/ledger:2.0" },
			[]FieldDiff{{ref, "containers[app].image", "reg/ledger:1.0", "reg/ledger:2.0"}, {ref, "replicas", "2", "1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := base()
			w := liveOf(d)
			tt.mutate(w)
			got := CompareObjects([]DesiredObject{d}, map[ObjectRef]*Workload{ref: w})
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
	t.Run("object not live", func(t *testing.T) {
		got := CompareObjects([]DesiredObject{base()}, nil)
		want := []FieldDiff{{ref, "object", "present", absent}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %+v, want %+v", got, want)
		}
		if s := summarizeDiffs(got); s != "Deployment ledger/ledger missing live" {
			t.Errorf("summary = %q", s)
		}
	})
	t.Run("replicas not set in git are not compared", func(t *testing.T) {
		d := base()
		w := liveOf(d)
		d.Replicas = nil
		w.Replicas = 7
		if got := CompareObjects([]DesiredObject{d}, map[ObjectRef]*Workload{ref: w}); len(got) != 0 {
			t.Errorf("got %+v, want no diff (an HPA may own replicas)", got)
		}
	})
}

func TestParseSync(t *testing.T) {
	for in, want := range map[string]SyncStatus{"Synced": Synced, "OutOfSync": OutOfSync, "Unknown": SyncUnknown, "": SyncUnknown} {
		if got := ParseSync(in); got != want {
			t.Errorf("ParseSync(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestAsApplied: Argo CD's label tracking writes the Application's name over the chart's
// app.kubernetes.io/instance; that is no drift, but any other value live still is.
func TestAsApplied(t *testing.T) {
	desired := []DesiredObject{{Kind: "Deployment", Namespace: "shop", Name: "web",
		Labels: map[string]string{TrackingLabel: "web", "app": "web"}}}
	ref := desired[0].Ref()
	for _, tc := range []struct {
		name      string
		live      string
		trackedBy string
		want      []string // fields that differ
	}{
		{"label tracking wrote the Application's name", "web-prod-eu", "web-prod-eu", nil},
		{"as the chart says (annotation tracking)", "web", "web-prod-eu", nil},
		{"changed by hand", "other", "web-prod-eu", []string{"labels." + TrackingLabel}},
		{"no operator: compared as written", "web-prod-eu", "", []string{"labels." + TrackingLabel}},
	} {
		live := map[ObjectRef]*Workload{ref: {Kind: "Deployment", Namespace: "shop", Name: "web",
			Labels: map[string]string{TrackingLabel: tc.live, "app": "web"}}}
		var got []string
		for _, d := range CompareObjects(AsApplied(desired, live, tc.trackedBy), live) {
			got = append(got, d.Field)
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: differing fields %v, want %v", tc.name, got, tc.want)
		}
		if desired[0].Labels[TrackingLabel] != "web" {
			t.Fatalf("%s: AsApplied changed its input", tc.name)
		}
	}
}
