package standin

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func mustObj(t *testing.T, y string) *unstructured.Unstructured {
	t.Helper()
	// Through JSON so numbers are int64, as they are in objects read from
	// the API server.
	j, err := yaml.YAMLToJSON([]byte(y))
	if err != nil {
		t.Fatalf("bad fixture: %v\n%s", err, y)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(j); err != nil {
		t.Fatalf("bad fixture: %v\n%s", err, y)
	}
	return u
}

func TestResourceHealth(t *testing.T) {
	tests := []struct {
		name    string
		obj     string
		want    Health
		wantMsg string
		noRule  bool
	}{
		{name: "deployment healthy", want: Healthy, obj: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, generation: 2}
spec: {replicas: 2}
status: {observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2}`},
		{name: "deployment paused", want: Suspended, wantMsg: "Deployment is paused", obj: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, generation: 2}
spec: {replicas: 2, paused: true}
status: {observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2}`},
		{name: "deployment generation not observed", want: Progressing,
			wantMsg: "Waiting for rollout to finish: observed deployment generation less than desired generation", obj: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, generation: 3}
spec: {replicas: 2}
status: {observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2}`},
		{name: "deployment progress deadline exceeded", want: Degraded,
			wantMsg: `Deployment "web" exceeded its progress deadline`, obj: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, generation: 2}
spec: {replicas: 2}
status:
  observedGeneration: 2
  replicas: 3
  updatedReplicas: 1
  availableReplicas: 2
  conditions: [{type: Progressing, status: "False", reason: ProgressDeadlineExceeded}]`},
		{name: "deployment updating", want: Progressing,
			wantMsg: "Waiting for rollout to finish: 1 out of 2 new replicas have been updated...", obj: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, generation: 2}
spec: {replicas: 2}
status: {observedGeneration: 2, replicas: 3, updatedReplicas: 1, availableReplicas: 2}`},
		{name: "deployment old replicas terminating", want: Progressing,
			wantMsg: "Waiting for rollout to finish: 1 old replicas are pending termination...", obj: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, generation: 2}
spec: {replicas: 2}
status: {observedGeneration: 2, replicas: 3, updatedReplicas: 2, availableReplicas: 2}`},
		{name: "deployment waiting for available", want: Progressing,
			wantMsg: "Waiting for rollout to finish: 0 of 2 updated replicas are available...", obj: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, generation: 1}
spec: {replicas: 2}
status: {observedGeneration: 1, replicas: 2, updatedReplicas: 2}`},
		{name: "deployment being deleted", want: Progressing, wantMsg: "Pending deletion", obj: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, generation: 1, deletionTimestamp: "2026-01-01T00:00:00Z"}
spec: {replicas: 2}
status: {observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2}`},
		{name: "replicaset failure", want: Degraded, wantMsg: "quota exceeded", obj: `
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web-1, generation: 1}
spec: {replicas: 2}
status:
  observedGeneration: 1
  conditions: [{type: ReplicaFailure, status: "True", message: quota exceeded}]`},
		{name: "replicaset not available", want: Progressing, obj: `
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web-1, generation: 1}
spec: {replicas: 2}
status: {observedGeneration: 1, availableReplicas: 1}`},
		{name: "replicaset healthy", want: Healthy, obj: `
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web-1, generation: 1}
spec: {replicas: 2}
status: {observedGeneration: 1, availableReplicas: 2}`},
		{name: "pod crashloop", want: Degraded, wantMsg: "back-off 40s restarting failed container", obj: `
apiVersion: v1
kind: Pod
metadata: {name: p}
spec: {restartPolicy: Always}
status:
  phase: Running
  containerStatuses:
  - name: app
    state: {waiting: {reason: CrashLoopBackOff, message: back-off 40s restarting failed container}}`},
		{name: "pod image pull backoff", want: Degraded, obj: `
apiVersion: v1
kind: Pod
metadata: {name: p}
spec: {}
status:
  phase: Pending
  containerStatuses:
  - name: app
    state: {waiting: {reason: ImagePullBackOff, message: "Back-off pulling image"}}`},
		{name: "pod ErrImagePull", want: Degraded, obj: `
apiVersion: v1
kind: Pod
metadata: {name: p}
spec: {}
status:
  phase: Pending
  containerStatuses:
  - name: app
    state: {waiting: {reason: ErrImagePull}}`},
		{name: "pod pending", want: Progressing, obj: `
apiVersion: v1
kind: Pod
metadata: {name: p}
spec: {}
status: {phase: Pending}`},
		{name: "pod running ready", want: Healthy, obj: `
apiVersion: v1
kind: Pod
metadata: {name: p}
spec: {restartPolicy: Always}
status:
  phase: Running
  conditions: [{type: Ready, status: "True"}]`},
		{name: "pod running not ready after a crash", want: Degraded, obj: `
apiVersion: v1
kind: Pod
metadata: {name: p}
spec: {restartPolicy: Always}
status:
  phase: Running
  conditions: [{type: Ready, status: "False"}]
  containerStatuses:
  - name: app
    state: {running: {}}
    lastState: {terminated: {exitCode: 1}}`},
		{name: "pod running not ready", want: Progressing, obj: `
apiVersion: v1
kind: Pod
metadata: {name: p}
spec: {restartPolicy: Always}
status:
  phase: Running
  conditions: [{type: Ready, status: "False"}]
  containerStatuses: [{name: app, state: {running: {}}}]`},
		{name: "pod run-once running", want: Progressing, obj: `
apiVersion: v1
kind: Pod
metadata: {name: p}
spec: {restartPolicy: Never}
status:
  phase: Running
  containerStatuses: [{name: app, state: {waiting: {reason: CrashLoopBackOff}}}]`},
		{name: "pod failed", want: Degraded, wantMsg: "OOMKilled", obj: `
apiVersion: v1
kind: Pod
metadata: {name: p}
spec: {restartPolicy: Never}
status:
  phase: Failed
  containerStatuses: [{name: app, state: {terminated: {message: OOMKilled}}}]`},
		{name: "pod succeeded", want: Healthy, obj: `
apiVersion: v1
kind: Pod
metadata: {name: p}
spec: {restartPolicy: Never}
status: {phase: Succeeded}`},
		{name: "statefulset not observed", want: Progressing, obj: `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, generation: 1}
spec: {replicas: 1}
status: {}`},
		{name: "statefulset not ready", want: Progressing, wantMsg: "Waiting for 1 pods to be ready...", obj: `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, generation: 1}
spec: {replicas: 2}
status: {observedGeneration: 1, readyReplicas: 1}`},
		{name: "statefulset rolling", want: Progressing, obj: `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, generation: 1}
spec: {replicas: 1, updateStrategy: {type: RollingUpdate}}
status: {observedGeneration: 1, readyReplicas: 1, updatedReplicas: 0, currentRevision: a, updateRevision: b}`},
		{name: "statefulset partition rolled", want: Healthy, obj: `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, generation: 1}
spec: {replicas: 3, updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 2}}}
status: {observedGeneration: 1, readyReplicas: 3, updatedReplicas: 1, currentRevision: a, updateRevision: b}`},
		{name: "statefulset on delete", want: Healthy, obj: `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, generation: 1}
spec: {replicas: 1, updateStrategy: {type: OnDelete}}
status: {observedGeneration: 1, readyReplicas: 1, currentRevision: a, updateRevision: b}`},
		{name: "statefulset healthy", want: Healthy, obj: `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, generation: 1}
spec: {replicas: 1}
status: {observedGeneration: 1, readyReplicas: 1, currentRevision: a, updateRevision: a}`},
		{name: "daemonset updating", want: Progressing, obj: `
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, generation: 1}
status: {observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 2, numberAvailable: 3}`},
		{name: "daemonset unavailable", want: Progressing, obj: `
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, generation: 1}
status: {observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 2}`},
		{name: "daemonset healthy", want: Healthy, obj: `
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, generation: 1}
status: {observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3}`},
		{name: "service cluster ip", want: Healthy, obj: `
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {type: ClusterIP}`},
		{name: "service load balancer pending", want: Progressing, obj: `
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {type: LoadBalancer}
status: {loadBalancer: {}}`},
		{name: "service load balancer ready", want: Healthy, obj: `
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {type: LoadBalancer}
status: {loadBalancer: {ingress: [{ip: 10.0.0.1}]}}`},
		{name: "ingress without address", want: Progressing, obj: `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
status: {}`},
		{name: "pvc bound", want: Healthy, obj: `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
status: {phase: Bound}`},
		{name: "pvc lost", want: Degraded, obj: `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
status: {phase: Lost}`},
		{name: "pvc pending", want: Progressing, obj: `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
status: {phase: Pending}`},
		{name: "job running", want: Progressing, obj: `
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
status: {active: 1}`},
		{name: "job failed", want: Degraded, wantMsg: "BackoffLimitExceeded", obj: `
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
status: {conditions: [{type: Failed, status: "True", message: BackoffLimitExceeded}]}`},
		{name: "job complete", want: Healthy, obj: `
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
status: {conditions: [{type: Complete, status: "True"}]}`},
		{name: "job suspended", want: Suspended, obj: `
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
status: {conditions: [{type: Suspended, status: "True"}]}`},
		{name: "hpa failing", want: Degraded, obj: `
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
status: {conditions: [{type: AbleToScale, status: "True", reason: SucceededGetScale}, {type: ScalingActive, status: "False", reason: FailedGetResourceMetric}]}`},
		{name: "hpa able to scale", want: Healthy, obj: `
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
status: {conditions: [{type: AbleToScale, status: "True", reason: SucceededGetScale}]}`},
		{name: "hpa without conditions", want: Progressing, obj: `
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
status: {}`},
		{name: "configmap has no rule", noRule: true, obj: `
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ResourceHealth(mustObj(t, tt.obj))
			if ok == tt.noRule {
				t.Fatalf("rule found = %v, want %v", ok, !tt.noRule)
			}
			if tt.noRule {
				return
			}
			if got.Status != tt.want {
				t.Errorf("status = %s (%q), want %s", got.Status, got.Message, tt.want)
			}
			if tt.wantMsg != "" && got.Message != tt.wantMsg {
				t.Errorf("message = %q, want %q", got.Message, tt.wantMsg)
			}
		})
	}
}

func TestAppHealth(t *testing.T) {
	healthy := `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, generation: 1}
spec: {replicas: 1}
status: {observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1}`
	progressing := `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, generation: 1}
spec: {replicas: 1}
status: {observedGeneration: 1, replicas: 1, updatedReplicas: 1}`
	degraded := `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, generation: 1}
spec: {replicas: 1}
status: {observedGeneration: 1, conditions: [{type: Progressing, status: "False", reason: ProgressDeadlineExceeded}]}`
	ignored := `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, generation: 1, annotations: {argocd.argoproj.io/ignore-healthcheck: "true"}}
spec: {replicas: 1}
status: {observedGeneration: 1, conditions: [{type: Progressing, status: "False", reason: ProgressDeadlineExceeded}]}`
	cm := `
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}`
	tests := []struct {
		name string
		objs []string // "" stands for a desired object that is not live
		want Health
	}{
		{name: "all healthy", objs: []string{healthy, cm}, want: Healthy},
		{name: "worst child wins", objs: []string{healthy, progressing, degraded}, want: Degraded},
		{name: "progressing beats healthy", objs: []string{healthy, progressing}, want: Progressing},
		{name: "not-yet-live objects are skipped", objs: []string{healthy, ""}, want: Healthy},
		{name: "nothing live is missing", objs: []string{"", ""}, want: Missing},
		{name: "ignore-healthcheck annotation", objs: []string{healthy, ignored}, want: Healthy},
		{name: "kinds without rule only", objs: []string{cm}, want: Healthy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var live []*unstructured.Unstructured
			for _, y := range tt.objs {
				if y == "" {
					live = append(live, nil)
					continue
				}
				live = append(live, mustObj(t, y))
			}
			if got := AppHealth(live); got.Status != tt.want {
				t.Errorf("AppHealth = %s (%q), want %s", got.Status, got.Message, tt.want)
			}
		})
	}
}
