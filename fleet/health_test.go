package fleet

import (
	"strings"
	"testing"
)

func i32(v int32) *int32 { return &v }

func TestIsWorseOrder(t *testing.T) {
	order := []HealthStatus{Healthy, Suspended, Progressing, Missing, Degraded, Unknown}
	for i := range order {
		for j := range order {
			if got, want := IsWorse(order[i], order[j]), j > i; got != want {
				t.Errorf("IsWorse(%s, %s) = %v, want %v", order[i], order[j], got, want)
			}
		}
	}
	if got := Worst(Health{Healthy, ""}, Health{}, Health{Degraded, "boom"}, Health{Progressing, ""}); got != (Health{Degraded, "boom"}) {
		t.Errorf("Worst = %+v, want Degraded boom", got)
	}
	if got := Worst(Health{}, Health{}); got.Status != "" {
		t.Errorf("Worst of no-rule healths = %+v, want zero", got)
	}
	if ParseHealth("") != Unknown || ParseHealth("Degraded") != Degraded || ParseHealth("weird") != Unknown {
		t.Error("ParseHealth maps unknown strings to Unknown")
	}
}

func TestHealthOfDeployment(t *testing.T) {
	ok := Workload{Kind: "Deployment", Name: "api", Generation: 2, ObservedGeneration: 2,
		Replicas: 2, StatusReplicas: 2, UpdatedReplicas: 2, AvailableReplicas: 2, ReadyReplicas: 2}
	tests := []struct {
		name   string
		mutate func(*Workload)
		want   HealthStatus
		msg    string
	}{
		{"rolled out", func(*Workload) {}, Healthy, ""},
		{"paused", func(w *Workload) { w.Paused = true }, Suspended, "paused"},
		{"generation not observed", func(w *Workload) { w.Generation = 3 }, Progressing, "observed generation"},
		{"progress deadline exceeded", func(w *Workload) {
			w.Conditions = []Condition{{Type: "Progressing", Status: "False", Reason: "ProgressDeadlineExceeded"}}
			w.AvailableReplicas = 1
		}, Degraded, "exceeded its progress deadline"},
		{"new replicas not yet updated", func(w *Workload) { w.UpdatedReplicas = 1 }, Progressing, "1 out of 2 new replicas"},
		{"old replicas pending termination", func(w *Workload) { w.StatusReplicas = 3 }, Progressing, "1 old replicas"},
		{"updated not available", func(w *Workload) { w.AvailableReplicas = 1 }, Progressing, "1 of 2 updated replicas available"},
		{"progressing condition without deadline", func(w *Workload) {
			w.Conditions = []Condition{{Type: "Progressing", Status: "True", Reason: "NewReplicaSetAvailable"}}
		}, Healthy, ""},
		{"deleting", func(w *Workload) { w.Deleting = true }, Progressing, "deletion"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := ok
			tt.mutate(&w)
			got := HealthOfWorkload(w)
			if got.Status != tt.want || !strings.Contains(got.Message, tt.msg) {
				t.Errorf("got %+v, want %s with message containing %q", got, tt.want, tt.msg)
			}
		})
	}
}

func TestHealthOfStatefulSet(t *testing.T) {
	ok := Workload{Kind: "StatefulSet", Name: "db", Generation: 1, ObservedGeneration: 1, Replicas: 3,
		ReadyReplicas: 3, UpdatedReplicas: 3, UpdateStrategy: "RollingUpdate", CurrentRevision: "db-1", UpdateRevision: "db-1"}
	tests := []struct {
		name   string
		mutate func(*Workload)
		want   HealthStatus
	}{
		{"rolled out", func(*Workload) {}, Healthy},
		{"zero observed generation", func(w *Workload) { w.ObservedGeneration = 0 }, Progressing},
		{"stale generation", func(w *Workload) { w.Generation = 2 }, Progressing},
		{"not all ready", func(w *Workload) { w.ReadyReplicas = 2 }, Progressing},
		{"partition not rolled", func(w *Workload) { w.Partition = i32(1); w.UpdatedReplicas = 1 }, Progressing},
		{"partition rolled", func(w *Workload) { w.Partition = i32(1); w.UpdatedReplicas = 2; w.UpdateRevision = "db-2" }, Healthy},
		{"revisions differ", func(w *Workload) { w.UpdateRevision = "db-2" }, Progressing},
		{"OnDelete ignores revisions", func(w *Workload) { w.UpdateStrategy = "OnDelete"; w.UpdateRevision = "db-2" }, Healthy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := ok
			tt.mutate(&w)
			if got := HealthOfWorkload(w); got.Status != tt.want {
				t.Errorf("got %+v, want %s", got, tt.want)
			}
		})
	}
}

func TestHealthOfDaemonSet(t *testing.T) {
	ok := Workload{Kind: "DaemonSet", Name: "agent", Generation: 4, ObservedGeneration: 4, Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 3}
	tests := []struct {
		name   string
		mutate func(*Workload)
		want   HealthStatus
	}{
		{"rolled out", func(*Workload) {}, Healthy},
		{"stale generation", func(w *Workload) { w.Generation = 5 }, Progressing},
		{"not all updated", func(w *Workload) { w.UpdatedReplicas = 2 }, Progressing},
		{"not all available", func(w *Workload) { w.AvailableReplicas = 1 }, Progressing},
		{"OnDelete", func(w *Workload) { w.UpdateStrategy = "OnDelete"; w.UpdatedReplicas = 0 }, Healthy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := ok
			tt.mutate(&w)
			if got := HealthOfWorkload(w); got.Status != tt.want {
				t.Errorf("got %+v, want %s", got, tt.want)
			}
		})
	}
}

func TestHealthOfReplicaSet(t *testing.T) {
	ok := Workload{Kind: "ReplicaSet", Name: "api-7d9", Generation: 1, ObservedGeneration: 1, Replicas: 2, AvailableReplicas: 2}
	tests := []struct {
		name   string
		mutate func(*Workload)
		want   HealthStatus
	}{
		{"available", func(*Workload) {}, Healthy},
		{"replica failure", func(w *Workload) {
			w.Conditions = []Condition{{Type: "ReplicaFailure", Status: "True", Message: "pods forbidden: exceeded quota"}}
		}, Degraded},
		{"replica failure false", func(w *Workload) { w.Conditions = []Condition{{Type: "ReplicaFailure", Status: "False"}} }, Healthy},
		{"not available", func(w *Workload) { w.AvailableReplicas = 1 }, Progressing},
		{"stale generation", func(w *Workload) { w.Generation = 2 }, Progressing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := ok
			tt.mutate(&w)
			if got := HealthOfWorkload(w); got.Status != tt.want {
				t.Errorf("got %+v, want %s", got, tt.want)
			}
		})
	}
}

func TestHealthOfJobAndCronJob(t *testing.T) {
	tests := []struct {
		name string
		w    Workload
		want HealthStatus
	}{
		{"running", Workload{Kind: "Job"}, Progressing},
		{"complete", Workload{Kind: "Job", Conditions: []Condition{{Type: "Complete", Status: "True"}}}, Healthy},
		{"failed", Workload{Kind: "Job", Conditions: []Condition{{Type: "Failed", Status: "True", Message: "BackoffLimitExceeded"}}}, Degraded},
		{"suspended condition", Workload{Kind: "Job", Conditions: []Condition{{Type: "Suspended", Status: "True"}}}, Suspended},
		{"suspended spec", Workload{Kind: "Job", Paused: true}, Suspended},
		{"cronjob has no rule", Workload{Kind: "CronJob"}, ""},
		{"cronjob suspended", Workload{Kind: "CronJob", Paused: true}, Suspended},
		{"unknown kind has no rule", Workload{Kind: "Widget"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HealthOfWorkload(tt.w); got.Status != tt.want {
				t.Errorf("got %+v, want %q", got, tt.want)
			}
		})
	}
}

func TestHealthOfPod(t *testing.T) {
	tests := []struct {
		name string
		pod  Pod
		want HealthStatus
		msg  string
	}{
		{"running ready", Pod{Phase: "Running", Ready: true}, Healthy, ""},
		{"crash loop", Pod{Phase: "Running", Containers: []ContainerStatus{{Name: "app", WaitingReason: "CrashLoopBackOff", WaitingMessage: "back-off 5m0s", LastTerminated: true}}}, Degraded, "CrashLoopBackOff"},
		{"image pull backoff while pending", Pod{Phase: "Pending", Containers: []ContainerStatus{{Name: "app", WaitingReason: "ImagePullBackOff"}}}, Degraded, "ImagePullBackOff"},
		{"err image pull", Pod{Phase: "Pending", Containers: []ContainerStatus{{Name: "app", WaitingReason: "ErrImagePull"}}}, Degraded, "ErrImagePull"},
		{"config error", Pod{Phase: "Pending", Containers: []ContainerStatus{{Name: "app", WaitingReason: "CreateContainerConfigError"}}}, Degraded, "CreateContainerConfigError"},
		{"backoff with restartPolicy Never is not judged by waiting", Pod{Phase: "Pending", RestartPolicy: "Never", Containers: []ContainerStatus{{Name: "app", WaitingReason: "ImagePullBackOff"}}}, Progressing, ""},
		{"container creating", Pod{Phase: "Pending", Containers: []ContainerStatus{{Name: "app", WaitingReason: "ContainerCreating"}}}, Progressing, ""},
		{"succeeded", Pod{Phase: "Succeeded"}, Healthy, ""},
		{"failed with message", Pod{Phase: "Failed", Message: "evicted"}, Degraded, "evicted"},
		{"failed container", Pod{Phase: "Failed", Containers: []ContainerStatus{{Name: "app", TerminatedReason: "OOMKilled"}}}, Degraded, "OOMKilled"},
		{"running not ready after a restart", Pod{Phase: "Running", Containers: []ContainerStatus{{Name: "app", LastTerminated: true, LastTerminatedReason: "Error"}}}, Degraded, "restarted"},
		{"running not ready yet", Pod{Phase: "Running"}, Progressing, ""},
		{"running with OnFailure", Pod{Phase: "Running", RestartPolicy: "OnFailure", Ready: true}, Progressing, ""},
		{"unknown phase", Pod{Phase: "Unknown"}, Unknown, ""},
		{"deleting", Pod{Phase: "Running", Ready: true, Deleting: true}, Progressing, "deletion"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := HealthOfPod(tt.pod)
			if got.Status != tt.want || !strings.Contains(got.Message, tt.msg) {
				t.Errorf("got %+v, want %s with message containing %q", got, tt.want, tt.msg)
			}
		})
	}
}

func TestHealthOfFlux(t *testing.T) {
	ready := func(status, msg string) *Condition { return &Condition{Type: "Ready", Status: status, Message: msg} }
	tests := []struct {
		name string
		f    FluxObject
		want HealthStatus
	}{
		{"ready", FluxObject{Ready: ready("True", "Applied revision: main@sha1:abc")}, Healthy},
		{"ready false", FluxObject{Ready: ready("False", "kustomize build failed")}, Degraded},
		{"ready false while retrying", FluxObject{Ready: ready("False", "health check failed"), Reconciling: true}, Degraded},
		{"stalled", FluxObject{Ready: ready("True", ""), Stalled: true}, Degraded},
		{"reconciling", FluxObject{Ready: ready("True", ""), Reconciling: true}, Progressing},
		{"ready unknown", FluxObject{Ready: ready("Unknown", "reconciliation in progress")}, Progressing},
		{"suspended wins", FluxObject{Ready: ready("False", "stale"), Suspended: true}, Suspended},
		{"no ready condition", FluxObject{}, Unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HealthOfFlux(tt.f); got.Status != tt.want {
				t.Errorf("got %+v, want %s", got, tt.want)
			}
		})
	}
}
