package diff

import (
	"encoding/base64"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func obj(t *testing.T, s string) map[string]any {
	t.Helper()
	if s == "" {
		return nil
	}
	var m map[string]any
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return m
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run with -update after checking):\n--- got\n%s--- want\n%s", path, got, want)
	}
}

const gitDeployment = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}, creationTimestamp: null}
    spec:
      containers:
      - name: web
        image: reg/web:1.2
        ports: [{containerPort: 8080, name: http}]
        env: [{name: MODE, value: prod}]
        resources: {requests: {cpu: 0.5, memory: 64Mi}, limits: {memory: 128Mi}}
      - name: sidecar
        image: reg/proxy:3
`

// liveDeployment is gitDeployment as an API server returns it after a server-side apply by
// argocd-controller, with what the server and the operator added.
const liveDeployment = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  uid: 0d7c
  resourceVersion: "812"
  generation: 4
  creationTimestamp: "2026-01-02T03:04:05Z"
  labels: {app: web, app.kubernetes.io/instance: web-prod}
  annotations:
    deployment.kubernetes.io/revision: "4"
    argocd.argoproj.io/tracking-id: "web-prod:apps/Deployment:shop/web"
  managedFields:
  - manager: argocd-controller
    operation: Apply
    apiVersion: apps/v1
    fieldsType: FieldsV1
    fieldsV1:
      f:metadata: {f:labels: {f:app: {}, f:app.kubernetes.io/instance: {}}, f:annotations: {f:argocd.argoproj.io/tracking-id: {}}}
      f:spec:
        f:replicas: {}
        f:selector: {}
        f:template:
          f:metadata: {f:labels: {f:app: {}}}
          f:spec:
            f:containers:
              k:{"name":"web"}:
                .: {}
                f:image: {}
                f:name: {}
                f:env:
                  k:{"name":"MODE"}: {.: {}, f:name: {}, f:value: {}}
                f:ports:
                  k:{"containerPort":8080,"protocol":"TCP"}: {.: {}, f:containerPort: {}, f:name: {}, f:protocol: {}}
                f:resources: {f:requests: {f:cpu: {}, f:memory: {}}, f:limits: {f:memory: {}}}
              k:{"name":"sidecar"}: {.: {}, f:image: {}, f:name: {}}
  - manager: kube-controller-manager
    operation: Update
    subresource: status
    fieldsV1: {f:status: {f:replicas: {}}}
spec:
  replicas: 2
  progressDeadlineSeconds: 600
  revisionHistoryLimit: 10
  selector: {matchLabels: {app: web}}
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 25%, maxUnavailable: 25%}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: sidecar
        image: reg/proxy:3
        imagePullPolicy: IfNotPresent
        terminationMessagePath: /dev/termination-log
        terminationMessagePolicy: File
        resources: {}
      - name: web
        image: reg/web:1.2
        imagePullPolicy: IfNotPresent
        env: [{name: MODE, value: prod}]
        ports: [{containerPort: 8080, name: http, protocol: TCP}]
        resources: {requests: {cpu: 500m, memory: 64Mi}, limits: {memory: 128Mi}}
        terminationMessagePath: /dev/termination-log
        terminationMessagePolicy: File
      dnsPolicy: ClusterFirst
      restartPolicy: Always
      schedulerName: default-scheduler
      securityContext: {}
      terminationGracePeriodSeconds: 30
status: {replicas: 2, readyReplicas: 2, observedGeneration: 4}
`

// edit applies old→new replacements to a fixture, failing when one does not apply.
func edit(t *testing.T, s string, pairs ...string) string {
	t.Helper()
	for i := 0; i < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("fixture edit: %q not found", pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

func TestCompare(t *testing.T) {
	for _, tc := range []struct {
		name       string
		git, live  string
		opts       Options
		status     Status
		golden     string   // compare Diff with testdata/<golden>.golden
		wantLines  []string // else: exactly these -/+ lines
		wantWarned bool
	}{
		{name: "server defaults and operator metadata are not differences",
			git: gitDeployment, live: liveDeployment, status: Same},
		{name: "hand-patched image shows as one line",
			git: gitDeployment, live: edit(t, liveDeployment, "image: reg/web:1.2", "image: reg/web:hotfix"),
			status: Changed, golden: "hand-patch"},
		{name: "a change in git",
			git: edit(t, gitDeployment, "replicas: 2", "replicas: 3", "value: prod", "value: canary"), live: liveDeployment,
			status: Changed, wantLines: []string{"-  replicas: 2", "+  replicas: 3", "-          value: prod", "+          value: canary"}},
		{name: "a field git removed since the last apply shows as removed",
			git: edit(t, gitDeployment, "env: [{name: MODE, value: prod}]", ""), live: liveDeployment,
			status: Changed, wantLines: []string{"-      - env:", "-        - name: MODE", "-          value: prod", "-        image: reg/web:1.2", "+      - image: reg/web:1.2"}},
		{name: "a field someone else added is not a sync difference",
			git: gitDeployment, live: edit(t, liveDeployment, "env: [{name: MODE, value: prod}]", "env: [{name: MODE, value: prod}, {name: DEBUG, value: '1'}]"),
			status: Same},
		{name: "only in git",
			git: gitDeployment, status: OnlyInGit, golden: "only-in-git"},
		{name: "only live",
			live: liveDeployment, status: OnlyLive, golden: "only-live"},
		{name: "ignoreDifferences json pointer",
			git: gitDeployment, live: edit(t, liveDeployment, "replicas: 2\n  progress", "replicas: 5\n  progress"),
			opts:   Options{Ignore: []Ignore{{Group: "apps", Kind: "Deployment", JSONPointers: []string{"/spec/replicas"}}}},
			status: Same},
		{name: "ignoreDifferences on another kind does not apply",
			git: gitDeployment, live: edit(t, liveDeployment, "replicas: 2\n  progress", "replicas: 5\n  progress"),
			opts:   Options{Ignore: []Ignore{{Group: "", Kind: "Service", JSONPointers: []string{"/spec/replicas"}}}},
			status: Changed, wantLines: []string{"-  replicas: 5", "+  replicas: 2"}},
		{name: "ignoreDifferences jq select",
			git: gitDeployment, live: edit(t, liveDeployment, "image: reg/web:1.2", "image: reg/web:hotfix"),
			opts: Options{Ignore: []Ignore{{Group: "apps", Kind: "Deployment", Name: "web",
				JQPathExpressions: []string{`.spec.template.spec.containers[] | select(.name == "web") | .image`}}}},
			status: Same},
		{name: "ignoreDifferences jq select of another container keeps the difference",
			git: gitDeployment, live: edit(t, liveDeployment, "image: reg/web:1.2", "image: reg/web:hotfix"),
			opts: Options{Ignore: []Ignore{{Group: "apps", Kind: "Deployment",
				JQPathExpressions: []string{`.spec.template.spec.containers[] | select(.name == "sidecar") | .image`}}}},
			status: Changed, wantLines: []string{"-        image: reg/web:hotfix", "+        image: reg/web:1.2"}},
		{name: "ignoreDifferences unsupported jq is reported",
			git: gitDeployment, live: liveDeployment,
			opts:   Options{Ignore: []Ignore{{Group: "apps", Kind: "Deployment", JQPathExpressions: []string{`.spec | del(.replicas)`}}}},
			status: Same, wantWarned: true},
		{name: "ignoreDifferences managedFieldsManagers",
			git: gitDeployment,
			live: edit(t, liveDeployment, "image: reg/web:1.2", "image: reg/web:hotfix", "  - manager: kube-controller-manager",
				"  - manager: kubectl-patch\n    operation: Update\n    fieldsV1:\n      f:spec:\n        f:template:\n          f:spec:\n            f:containers:\n              k:{\"name\":\"web\"}: {f:image: {}}\n  - manager: kube-controller-manager"),
			opts:   Options{Ignore: []Ignore{{Group: "apps", Kind: "Deployment", ManagedFieldsManagers: []string{"kubectl-patch"}}}},
			status: Same},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, warnings := Compare(obj(t, tc.git), obj(t, tc.live), tc.opts)
			if o.Status != tc.status {
				t.Errorf("status %s, want %s; diff:\n%s", o.Status, tc.status, o.Diff)
			}
			if (len(warnings) > 0) != tc.wantWarned {
				t.Errorf("warnings %q, want warned=%v", warnings, tc.wantWarned)
			}
			if tc.status == Same && o.Diff != "" {
				t.Errorf("same but a diff:\n%s", o.Diff)
			}
			switch {
			case tc.golden != "":
				checkGolden(t, tc.golden, o.Diff)
			case tc.wantLines != nil:
				got := changedLines(o.Diff)
				if strings.Join(got, "\n") != strings.Join(tc.wantLines, "\n") {
					t.Errorf("changed lines\n%s\nwant\n%s\ndiff:\n%s", strings.Join(got, "\n"), strings.Join(tc.wantLines, "\n"), o.Diff)
				}
			}
		})
	}
}

// changedLines are the -/+ lines of a unified diff, without its headers.
func changedLines(d string) []string {
	var out []string
	for _, l := range strings.Split(d, "\n") {
		if (strings.HasPrefix(l, "-") || strings.HasPrefix(l, "+")) && !strings.HasPrefix(l, "---") && !strings.HasPrefix(l, "+++") {
			out = append(out, l)
		}
	}
	return out
}

func TestObjects(t *testing.T) {
	svc := `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {ports: [{port: 80, targetPort: 8080}], selector: {app: web}}
`
	liveSvc := `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop, uid: x}
spec:
  clusterIP: 10.0.0.7
  clusterIPs: [10.0.0.7]
  ipFamilies: [IPv4]
  ipFamilyPolicy: SingleStack
  internalTrafficPolicy: Cluster
  sessionAffinity: None
  type: ClusterIP
  ports: [{port: 80, targetPort: 8080, protocol: TCP}]
  selector: {app: web}
`
	oldCM := `
apiVersion: v1
kind: ConfigMap
metadata: {name: old, namespace: shop}
data: {a: b}
`
	objs, warnings := Objects(
		[]map[string]any{obj(t, gitDeployment), obj(t, svc)},
		[]map[string]any{obj(t, liveSvc), obj(t, oldCM)}, Options{})
	if len(warnings) > 0 {
		t.Errorf("warnings: %q", warnings)
	}
	var got []string
	for _, o := range objs {
		got = append(got, string(o.Status)+" "+o.Ref.String())
	}
	want := []string{"only-live ConfigMap shop/old", "only-in-git Deployment.apps shop/web", "same Service shop/web"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("objects\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !Differs(objs) || Differs(objs[2:]) {
		t.Errorf("Differs is wrong")
	}
}

func TestQuantitiesAndNumbers(t *testing.T) {
	for _, tc := range []struct {
		git, live any
		equal     bool
	}{
		{"0.5", "500m", true}, {0.5, "500m", true}, {int64(1), "1", true}, {"1Gi", "1024Mi", true},
		{"1G", "1Gi", false}, {"100m", "0.2", false},
	} {
		g := normalizeValue(map[string]any{"requests": map[string]any{"cpu": tc.git}}, "")
		l := normalizeValue(map[string]any{"requests": map[string]any{"cpu": tc.live}}, "")
		gy, _ := toYAML(g)
		ly, _ := toYAML(l)
		if (gy == ly) != tc.equal {
			t.Errorf("%v vs %v: equal=%v, want %v (%q %q)", tc.git, tc.live, gy == ly, tc.equal, gy, ly)
		}
	}
	if got := normalizeValue(map[string]any{"a": 2.0, "b": 2.5, "c": nil, "d": map[string]any{}, "e": []any{}}, ""); len(got.(map[string]any)) != 2 {
		t.Errorf("normalizeValue kept %v, want a and b", got)
	}
}

func TestParseJQ(t *testing.T) {
	o := obj(t, liveDeployment)
	for _, tc := range []struct {
		expr  string
		paths []string
		err   bool
	}{
		{expr: ".spec.replicas", paths: []string{`["spec","replicas"]`}},
		{expr: `.metadata.annotations["deployment.kubernetes.io/revision"]`, paths: []string{`["metadata","annotations","deployment.kubernetes.io/revision"]`}},
		{expr: `.metadata.annotations."deployment.kubernetes.io/revision"`, paths: []string{`["metadata","annotations","deployment.kubernetes.io/revision"]`}},
		{expr: ".spec.template.spec.containers[1].image", paths: []string{`["spec","template","spec","containers",1,"image"]`}},
		{expr: ".spec.template.spec.containers[].name", paths: []string{`["spec","template","spec","containers",0,"name"]`, `["spec","template","spec","containers",1,"name"]`}},
		{expr: `.spec.template.spec.containers[] | select(.name != "web") | .imagePullPolicy`, paths: []string{`["spec","template","spec","containers",0,"imagePullPolicy"]`}},
		{expr: `.spec.template.spec.containers[] | select(.ports[].containerPort == 8080)`, paths: []string{`["spec","template","spec","containers",1]`}},
		{expr: ".spec.nothere", paths: nil},
		{expr: "spec", err: true},
		{expr: ".spec | del(.x)", err: true},
		{expr: ".a[-1]", err: true},
		{expr: `select(.a > 1)`, err: true},
	} {
		e, err := parseJQ(tc.expr)
		if (err != nil) != tc.err {
			t.Errorf("%s: err %v, want error=%v", tc.expr, err, tc.err)
			continue
		}
		if err != nil {
			continue
		}
		var got []string
		for _, p := range e.paths(o) {
			got = append(got, p.key())
		}
		if strings.Join(got, " ") != strings.Join(tc.paths, " ") {
			t.Errorf("%s: paths %v, want %v", tc.expr, got, tc.paths)
		}
	}
}

// TestUnifiedAgainstDiffU checks the hunks against diff -u on the same texts.
func TestUnifiedAgainstDiffU(t *testing.T) {
	tool, err := exec.LookPath("diff")
	if err != nil {
		t.Skip("diff not installed")
	}
	base := strings.Split(strings.TrimSpace(liveDeployment), "\n")
	mutate := func(f func([]string) []string) string {
		return strings.Join(f(append([]string(nil), base...)), "\n") + "\n"
	}
	a := strings.Join(base, "\n") + "\n"
	for name, b := range map[string]string{
		"one line":   mutate(func(l []string) []string { l[5] = "  uid: changed"; return l }),
		"far apart":  mutate(func(l []string) []string { l[2] = "x"; l[len(l)-3] = "y"; return l }),
		"near":       mutate(func(l []string) []string { l[10] = "x"; l[15] = "y"; return l }),
		"insert":     mutate(func(l []string) []string { return append(l[:8], append([]string{"new: 1", "new: 2"}, l[8:]...)...) }),
		"delete end": mutate(func(l []string) []string { return l[:len(l)-4] }),
		"delete top": mutate(func(l []string) []string { return l[3:] }),
		"empty":      "",
	} {
		dir := t.TempDir()
		pa, pb := filepath.Join(dir, "a"), filepath.Join(dir, "b")
		if err := os.WriteFile(pa, []byte(a), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(pb, []byte(b), 0o600); err != nil {
			t.Fatal(err)
		}
		out, _ := exec.Command(tool, "-u", "--label", "a", "--label", "b", pa, pb).Output()
		if got := Unified("a", "b", a, b, 3); got != string(out) {
			t.Errorf("%s: Unified differs from diff -u:\n--- got\n%s--- diff -u\n%s", name, got, out)
		}
	}
	if Unified("a", "b", "x\n", "x\n", 3) != "" {
		t.Error("equal texts gave a diff")
	}
}

// TestTrackingLabel: Argo CD's label tracking overwrites the chart's app.kubernetes.io/instance
// on what it applies; that is no difference, but a hand change of the label is.
func TestTrackingLabel(t *testing.T) {
	obj := func(instance string) map[string]any {
		return map[string]any{"apiVersion": "v1", "kind": "Service",
			"metadata": map[string]any{"name": "web", "namespace": "shop",
				"labels": map[string]any{ArgoTrackingLabel: instance, "app": "web"}},
			"spec": map[string]any{"selector": map[string]any{"app": "web"}}}
	}
	tracking := Options{Tracking: Label{Key: ArgoTrackingLabel, Value: "web-prod-eu"}}
	for _, tc := range []struct {
		name       string
		git, live  string
		opts       Options
		want       Status
		wantInDiff string
	}{
		{"label tracking wrote the Application's name", "web", "web-prod-eu", tracking, Same, ""},
		{"annotation tracking: the chart's label stands", "web", "web", tracking, Same, ""},
		{"changed by hand", "web", "someone-else", tracking, Changed, "-    app.kubernetes.io/instance: someone-else"},
		{"no tracking option: compared as written", "web", "web-prod-eu", Options{}, Changed, "+    app.kubernetes.io/instance: web"},
	} {
		git := obj(tc.git)
		o, warnings := Compare(git, obj(tc.live), tc.opts)
		if o.Status != tc.want || len(warnings) > 0 || !strings.Contains(o.Diff, tc.wantInDiff) {
			t.Errorf("%s: status %s warnings %v, want %s with %q; diff:\n%s", tc.name, o.Status, warnings, tc.want, tc.wantInDiff, o.Diff)
		}
		if got := git["metadata"].(map[string]any)["labels"].(map[string]any)[ArgoTrackingLabel]; got != tc.git {
			t.Errorf("%s: Compare changed its git input's label to %v", tc.name, got)
		}
	}
}

// TestSecretsNeverShown: a Secret's values never reach the diff, yet a changed value shows
// as a changed digest; stringData in git compares with data live.
func TestSecretsNeverShown(t *testing.T) {
	secret := func(field string, values map[string]any) map[string]any {
		return map[string]any{"apiVersion": "v1", "kind": "Secret",
			"metadata": map[string]any{"name": "db", "namespace": "shop", "annotations": map[string]any{
				LastAppliedAnnotation: `{"data":{"password":"aHVudGVyMg=="}}`}},
			field: values}
	}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	same, _ := Compare(secret("stringData", map[string]any{"password": "hunter2"}),
		secret("data", map[string]any{"password": b64("hunter2")}), Options{})
	if same.Status != Same {
		t.Errorf("stringData against the same data live: %s\n%s", same.Status, same.Diff)
	}
	changed, _ := Compare(secret("stringData", map[string]any{"password": "hunter2", "user": "app"}),
		secret("data", map[string]any{"password": b64("s3cr3t-by-hand"), "user": b64("app")}), Options{})
	if changed.Status != Changed || !strings.Contains(changed.Diff, "-  password: <secret, sha256:") {
		t.Errorf("a changed password: %s, want a changed digest:\n%s", changed.Status, changed.Diff)
	}
	only, _ := Compare(nil, secret("data", map[string]any{"password": b64("hunter2")}), Options{})
	for _, o := range []Object{same, changed, only} {
		for _, leak := range []string{"hunter2", "s3cr3t-by-hand", b64("hunter2"), b64("s3cr3t-by-hand"), "aHVudGVyMg"} {
			if strings.Contains(o.Diff+o.Git+o.Live, leak) {
				t.Errorf("%s diff shows %q:\n%s", o.Status, leak, o.Diff+o.Git+o.Live)
			}
		}
	}
}
