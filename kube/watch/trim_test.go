package watch

import (
	"reflect"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

var t0 = metav1.NewTime(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))

// fatMeta is metadata as a real API server returns it.
func fatMeta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name: name, Namespace: "shop", UID: types.UID("u-" + name), ResourceVersion: "42", Generation: 3,
		CreationTimestamp: t0,
		Labels:            map[string]string{"app": name},
		Annotations: map[string]string{
			lastApplied:                      strings.Repeat("x", 4000),
			"argocd.argoproj.io/tracking-id": "shop:apps/Deployment:shop/" + name,
		},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: "Apply",
			FieldsV1: &metav1.FieldsV1{Raw: []byte(strings.Repeat("{}", 1000))}}},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: name + "-rs",
			UID: "rs", Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}},
		Finalizers: []string{"x"},
	}
}

func fatPod(name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: fatMeta(name),
		Spec: corev1.PodSpec{
			NodeName:      "node-1",
			RestartPolicy: corev1.RestartPolicyAlways,
			Volumes:       []corev1.Volume{{Name: "token"}},
			Containers: []corev1.Container{{
				Name: "app", Image: "registry/app:1.2", Command: []string{"/app"},
				Env:            []corev1.EnvVar{{Name: "DB_PASSWORD", Value: "hunter2"}},
				LivenessProbe:  &corev1.Probe{},
				VolumeMounts:   []corev1.VolumeMount{{Name: "token", MountPath: "/var/run"}},
				Resources:      corev1.ResourceRequirements{Limits: corev1.ResourceList{"cpu": resource.MustParse("1")}},
				ReadinessProbe: &corev1.Probe{},
			}},
			InitContainers: []corev1.Container{{Name: "init", Image: "busybox:1", Command: []string{"true"}}},
			Tolerations:    []corev1.Toleration{{Key: "k"}},
		},
		Status: corev1.PodStatus{
			Phase:   corev1.PodRunning,
			PodIP:   "10.0.0.1",
			HostIP:  "127.0.0.1",
			Message: strings.Repeat("m", 600),
			Conditions: []corev1.PodCondition{
				{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
				{Type: corev1.PodReady, Status: corev1.ConditionFalse, Reason: "ContainersNotReady"},
			},
			ContainerStatuses: []corev1.ContainerStatus{{
				Name: "app", Image: "registry/app:1.2", ImageID: "sha256:abc", ContainerID: "cri://1",
				Ready: false, RestartCount: 7, Started: ptr.To(false),
				State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off"}},
				LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", ContainerID: "cri://0"}},
			}},
		},
	}
}

func TestTrimPod(t *testing.T) {
	got := trimPod(fatPod("web-1"))
	want := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: "web-1", Namespace: "shop", UID: "u-web-1", ResourceVersion: "42", Generation: 3,
			CreationTimestamp: t0, Labels: map[string]string{"app": "web-1"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet",
				Name: "web-1-rs", UID: "rs", Controller: ptr.To(true)}},
		},
		Spec: corev1.PodSpec{
			NodeName: "node-1", RestartPolicy: corev1.RestartPolicyAlways,
			Containers:     []corev1.Container{{Name: "app", Image: "registry/app:1.2"}},
			InitContainers: []corev1.Container{{Name: "init", Image: "busybox:1"}},
		},
		Status: corev1.PodStatus{
			Phase:      corev1.PodRunning,
			Message:    strings.Repeat("m", maxMessage) + "…",
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse, Reason: "ContainersNotReady"}},
			ContainerStatuses: []corev1.ContainerStatus{{
				Name: "app", Image: "registry/app:1.2", Ready: false, RestartCount: 7, Started: ptr.To(false),
				State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off"}},
				LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error"}},
			}},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("trimPod:\n got %+v\nwant %+v", got, want)
	}
	if again := trimPod(got); !reflect.DeepEqual(again, got) {
		t.Fatalf("trimPod is not idempotent:\n got %+v\nwant %+v", again, got)
	}
}

func TestTrimDeploymentKeepsTemplateMasksSecrets(t *testing.T) {
	d := &appsv1.Deployment{
		ObjectMeta: fatMeta("web"),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}, Annotations: map[string]string{"a": "b"}},
				Spec:       fatPod("x").Spec,
			},
		},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 3, Replicas: 3, ReadyReplicas: 2,
			Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: "False",
				Reason: "ProgressDeadlineExceeded", LastUpdateTime: t0}}},
	}
	d.Spec.Template.Spec.Containers[0].Env = append(d.Spec.Template.Spec.Containers[0].Env,
		corev1.EnvVar{Name: "LOG_LEVEL", Value: "debug"},
		corev1.EnvVar{Name: "API_TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "creds"}, Key: "token"}}})
	got := trimDeployment(d)

	if _, ok := got.Annotations[lastApplied]; ok {
		t.Error("last-applied annotation kept")
	}
	if got.Annotations["argocd.argoproj.io/tracking-id"] == "" {
		t.Error("tracking annotation dropped")
	}
	if got.ManagedFields != nil || got.Finalizers != nil || got.Spec.Selector != nil {
		t.Errorf("managed fields, finalizers or selector kept: %+v", got.ObjectMeta)
	}
	c := got.Spec.Template.Spec.Containers[0]
	wantEnv := []corev1.EnvVar{
		{Name: "DB_PASSWORD", Value: MaskedEnvValue("DB_PASSWORD", "hunter2")},
		{Name: "LOG_LEVEL", Value: "debug"},
		{Name: "API_TOKEN", ValueFrom: d.Spec.Template.Spec.Containers[0].Env[2].ValueFrom},
	}
	if !reflect.DeepEqual(c.Env, wantEnv) {
		t.Errorf("env = %+v, want %+v", c.Env, wantEnv)
	}
	if strings.Contains(c.Env[0].Value, "hunter2") || !strings.HasPrefix(c.Env[0].Value, "masked:sha256:") {
		t.Errorf("secret env not masked: %q", c.Env[0].Value)
	}
	if c.LivenessProbe != nil || c.VolumeMounts != nil || c.Command != nil || got.Spec.Template.Spec.Volumes != nil {
		t.Errorf("template kept probes, mounts, command or volumes: %+v", c)
	}
	if q := c.Resources.Limits["cpu"]; q.String() != "1" {
		t.Errorf("cpu limit = %s, want 1", q.String())
	}
	if *got.Spec.Replicas != 3 || got.Status.ReadyReplicas != 2 || got.Status.Conditions[0].Reason != "ProgressDeadlineExceeded" {
		t.Errorf("counters or conditions lost: %+v", got.Status)
	}
	if !reflect.DeepEqual(trimDeployment(got), got) {
		t.Error("trimDeployment is not idempotent")
	}
}

func TestMaskedEnvValue(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		masked      bool
	}{
		{"LOG_LEVEL", "debug", false},
		{"DB_PASSWORD", "hunter2", true},
		{"GITHUB_TOKEN", "ghp_x", true},
		{"STRIPE_API_KEY", "sk_live", true},
		{"client_secret", "s", true},
		{"DB_PASSWORD", "", false},
	} {
		got := MaskedEnvValue(tc.name, tc.value)
		if masked := got != tc.value; masked != tc.masked {
			t.Errorf("MaskedEnvValue(%q, %q) = %q, masked=%v want %v", tc.name, tc.value, got, masked, tc.masked)
		}
		if tc.masked && MaskedEnvValue(tc.name, tc.value+"!") == got {
			t.Errorf("MaskedEnvValue(%q): different values give the same digest", tc.name)
		}
	}
}

func TestTrimReplicaSetDropsTemplateOfControlledSets(t *testing.T) {
	rs := &appsv1.ReplicaSet{ObjectMeta: fatMeta("web-abc"), Spec: appsv1.ReplicaSetSpec{
		Replicas: ptr.To[int32](2), Template: corev1.PodTemplateSpec{Spec: fatPod("x").Spec}}}
	if got := trimReplicaSet(rs); got.Spec.Template.Spec.Containers != nil || got.Annotations != nil {
		t.Errorf("controlled ReplicaSet kept its template or annotations: %+v", got)
	}
	rs.OwnerReferences = nil
	if got := trimReplicaSet(rs); len(got.Spec.Template.Spec.Containers) != 1 {
		t.Errorf("standalone ReplicaSet lost its template: %+v", got.Spec.Template)
	}
}

func TestTrimUnstructured(t *testing.T) {
	app := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
		"metadata": map[string]any{"name": "auth-service-prod-eu", "namespace": "argocd",
			"labels":        map[string]any{"app": "auth-service"},
			"annotations":   map[string]any{lastApplied: "{}", "note": "x"},
			"managedFields": []any{map[string]any{"manager": "argocd"}}},
		"spec": map[string]any{
			"project":     "default",
			"source":      map[string]any{"repoURL": "https://git/x", "path": "k8s/auth", "targetRevision": "main"},
			"destination": map[string]any{"name": "prod-eu", "namespace": "auth"},
			"syncPolicy":  map[string]any{"automated": map[string]any{}},
		},
		"status": map[string]any{
			"sync":    map[string]any{"status": "Synced", "revision": "abc"},
			"health":  map[string]any{"status": "Healthy"},
			"history": []any{map[string]any{"id": 1}},
			"operationState": map[string]any{"phase": "Succeeded",
				"syncResult": map[string]any{"revision": "abc", "resources": []any{map[string]any{"kind": "Deployment"}}}},
			"summary": map[string]any{"images": []any{"a:1"}, "externalURLs": []any{"https://x"}},
		},
	}}
	want := map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
		"metadata": map[string]any{"name": "auth-service-prod-eu", "namespace": "argocd",
			"labels": map[string]any{"app": "auth-service"}, "annotations": map[string]any{"note": "x"}},
		"spec": map[string]any{
			"project":     "default",
			"source":      map[string]any{"repoURL": "https://git/x", "path": "k8s/auth", "targetRevision": "main"},
			"destination": map[string]any{"name": "prod-eu", "namespace": "auth"},
		},
		"status": map[string]any{
			"sync":           map[string]any{"status": "Synced", "revision": "abc"},
			"health":         map[string]any{"status": "Healthy"},
			"operationState": map[string]any{"phase": "Succeeded", "syncResult": map[string]any{"revision": "abc"}},
			"summary":        map[string]any{"images": []any{"a:1"}},
		},
	}
	got := trimArgoApp(app)
	if !reflect.DeepEqual(got.Object, want) {
		t.Fatalf("trimArgoApp:\n got %v\nwant %v", got.Object, want)
	}
	if again := trimArgoApp(got); !reflect.DeepEqual(again.Object, want) {
		t.Fatalf("trimArgoApp is not idempotent: %v", again.Object)
	}

	ks := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
		"metadata": map[string]any{"name": "catalog", "namespace": "flux-system"},
		"spec":     map[string]any{"path": "./k8s/catalog", "interval": "1m"},
		"status": map[string]any{"lastAppliedRevision": "main@sha1:abc",
			"inventory": map[string]any{"entries": []any{map[string]any{"id": "catalog_api_apps_Deployment", "v": "v1"}}}},
	}}
	gotKs := trimKustomization(ks)
	entries, _, _ := unstructured.NestedSlice(gotKs.Object, "status", "inventory", "entries")
	if !reflect.DeepEqual(entries, []any{map[string]any{"id": "catalog_api_apps_Deployment"}}) {
		t.Errorf("inventory = %v", entries)
	}
	if _, found, _ := unstructured.NestedString(gotKs.Object, "spec", "interval"); found {
		t.Error("spec.interval kept")
	}

	hist := make([]any, 10)
	for i := range hist {
		hist[i] = map[string]any{"version": int64(10 - i)}
	}
	hr := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
		"metadata": map[string]any{"name": "search", "namespace": "flux-system"},
		"status":   map[string]any{"history": hist},
	}}
	h, _, _ := unstructured.NestedSlice(trimHelmRelease(hr).Object, "status", "history")
	if len(h) != 5 || h[0].(map[string]any)["version"] != int64(10) {
		t.Errorf("history = %v, want the newest 5", h)
	}
}

func TestTrimEventAndEventTime(t *testing.T) {
	later := metav1.NewTime(t0.Add(time.Minute))
	for _, tc := range []struct {
		name string
		ev   corev1.Event
		want metav1.Time
	}{
		{"lastTimestamp", corev1.Event{LastTimestamp: later, FirstTimestamp: t0}, later},
		{"series", corev1.Event{LastTimestamp: t0, Series: &corev1.EventSeries{LastObservedTime: metav1.NewMicroTime(later.Time)}}, later},
		{"eventTime", corev1.Event{EventTime: metav1.NewMicroTime(later.Time)}, later},
		{"creation", corev1.Event{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: t0}}, t0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := EventTime(&tc.ev); !got.Equal(&tc.want) {
				t.Errorf("EventTime = %v, want %v", got, tc.want)
			}
		})
	}
	e := &corev1.Event{ObjectMeta: fatMeta("web.1"), Type: "Warning", Reason: "BackOff",
		Message: "Back-off restarting failed container", Count: 4, LastTimestamp: later,
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: "web-1", FieldPath: "spec.containers{app}"},
		Source:         corev1.EventSource{Component: "kubelet", Host: "node-1"}}
	got := trimEvent(e)
	if got.Labels != nil || got.Annotations != nil || got.InvolvedObject.FieldPath != "" || got.Source.Host != "" {
		t.Errorf("trimEvent kept unused fields: %+v", got)
	}
	if got.Reason != "BackOff" || got.Count != 4 || got.InvolvedObject.Name != "web-1" || !got.LastTimestamp.Equal(&later) {
		t.Errorf("trimEvent lost fields: %+v", got)
	}
}
