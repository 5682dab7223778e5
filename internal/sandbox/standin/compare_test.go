package standin

import (
	"strings"
	"testing"
)

func TestCompareObject(t *testing.T) {
	const desired = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: payments-api
  namespace: payments
  labels: {app.kubernetes.io/name: payments-api, app.kubernetes.io/instance: payments-api-prod-us}
spec:
  replicas: 2
  template:
    metadata: {labels: {app: payments-api}}
    spec:
      containers:
      - name: payments-api
        image: registry.fleetdeck.test/shop/payments-api:1.4.2
        env:
        - {name: LOG_LEVEL, value: info}
        - name: POD_NAME
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        resources:
          limits: {cpu: "0.5", memory: 256Mi}`
	const liveSame = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: payments-api
  namespace: payments
  labels: {app.kubernetes.io/name: payments-api, app.kubernetes.io/instance: payments-api-prod-us, extra: ok}
spec:
  replicas: 2
  template:
    metadata: {labels: {app: payments-api}}
    spec:
      containers:
      - name: payments-api
        image: registry.fleetdeck.test/shop/payments-api:1.4.2
        imagePullPolicy: IfNotPresent
        env:
        - {name: LOG_LEVEL, value: info}
        - name: POD_NAME
          valueFrom: {fieldRef: {apiVersion: v1, fieldPath: metadata.name}}
        resources:
          limits: {cpu: 500m, memory: 256Mi}
          requests: {cpu: 500m, memory: 256Mi}`
	tests := []struct {
		name     string
		live     string
		wantDiff string // substring of one difference; "" means in sync
	}{
		{name: "same after server defaults", live: liveSame},
		{name: "missing", live: "", wantDiff: "missing from the cluster"},
		{name: "hand-patched image", live: strings.Replace(liveSame, "payments-api:1.4.2", "payments-api:hotfix-manual-1", 1),
			wantDiff: "image: git registry.fleetdeck.test/shop/payments-api:1.4.2, live registry.fleetdeck.test/shop/payments-api:hotfix-manual-1"},
		{name: "scaled by hand", live: strings.Replace(liveSame, "replicas: 2", "replicas: 5", 1), wantDiff: "spec.replicas"},
		{name: "env changed", live: strings.Replace(liveSame, "value: info", "value: debug", 1), wantDiff: "env differs"},
		{name: "limit changed", live: strings.Replace(liveSame, "limits: {cpu: 500m", "limits: {cpu: 750m", 1), wantDiff: "resources differ"},
		{name: "label changed", live: strings.Replace(liveSame, "instance: payments-api-prod-us", "instance: other", 1), wantDiff: "label app.kubernetes.io/instance"},
		{name: "template label changed", live: strings.Replace(liveSame, "{labels: {app: payments-api}}", "{labels: {app: other}}", 1), wantDiff: "template label app"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustObj(t, desired)
			var diffs []string
			if tt.live == "" {
				diffs = CompareObject(d, nil)
			} else {
				diffs = CompareObject(d, mustObj(t, tt.live))
			}
			if tt.wantDiff == "" {
				if len(diffs) != 0 {
					t.Fatalf("want in sync, got %q", diffs)
				}
				return
			}
			if !strings.Contains(strings.Join(diffs, "\n"), tt.wantDiff) {
				t.Fatalf("differences %q do not mention %q", diffs, tt.wantDiff)
			}
		})
	}
}

func TestCompareConfigMap(t *testing.T) {
	d := mustObj(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {a: "1"}}`)
	if diffs := CompareObject(d, mustObj(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {a: "1"}}`)); len(diffs) != 0 {
		t.Errorf("same data: got %q", diffs)
	}
	if diffs := CompareObject(d, mustObj(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {a: "2"}}`)); len(diffs) != 1 {
		t.Errorf("changed data: got %q, want one difference", diffs)
	}
	if diffs := CompareObject(d, mustObj(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {a: "1", b: "x"}}`)); len(diffs) != 1 {
		t.Errorf("extra key: got %q, want one difference", diffs)
	}
}
