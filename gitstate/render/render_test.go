package render

import (
	"encoding/json"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

const deploy = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: %s
spec:
  replicas: 2
  template:
    spec:
      initContainers:
      - name: migrate
        image: reg.example:5000/team/migrate:v1
      containers:
      - name: app
        image: %s
`

func deployment(name, image string) string {
	return strings.NewReplacer("%s", name).Replace(strings.Replace(deploy, "image: %s", "image: "+image, 1))
}

// summary lists kind/namespace/name per object, the shape tests compare.
func summary(objs []*unstructured.Unstructured) string {
	var b strings.Builder
	for _, o := range objs {
		b.WriteString(o.GetKind() + "/" + o.GetNamespace() + "/" + o.GetName() + "\n")
	}
	return b.String()
}

func TestRenderYAML(t *testing.T) {
	fsys := fstest.MapFS{
		"apps/web/a.yaml":           file(deployment("web", "nginx:1.27") + "---\n# only a comment\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n"),
		"apps/web/b.json":           file(`{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"}},{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"web"}}]}`),
		"apps/web/README.md":        file("# not a manifest"),
		"apps/web/nested/skip.yaml": file(deployment("nested", "x")),
		"apps/web/explicit.yml":     file("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: other\n"),
		"apps/web/rbac.yaml":        file("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: reader\n"),
	}
	objs, err := Render(fsys, Source{Kind: YAML, Path: "apps/web", Namespace: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	want := "ClusterRole//reader\nConfigMap/shop/cm\nDeployment/shop/web\nNamespace//web\nSecret/other/s\nService/shop/web\n"
	if got := summary(objs); got != want {
		t.Errorf("objects:\n%s\nwant:\n%s", got, want)
	}
}

func TestRenderErrorsNameWhatAndWhere(t *testing.T) {
	fsys := fstest.MapFS{
		"bad/a.yaml":              file("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n---\nkind: [oops\n"),
		"nokind/a.yaml":           file("metadata:\n  name: x\n"),
		"chart/Chart.yaml":        file("apiVersion: v2\nname: c\nversion: 0.1.0\n"),
		"chart/values.yaml":       file("x: 1\n"),
		"chart/templates/t.yaml":  file("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.missing.deeper }}\n"),
		"kust/kustomization.yaml": file("resources:\n- nothere.yaml\n"),
		"file.yaml":               file("x: 1\n"),
	}
	cases := []struct {
		name string
		src  Source
		want []string
	}{
		{"bad yaml", Source{Kind: YAML, Path: "bad"}, []string{"bad/a.yaml", "document 2"}},
		{"no kind", Source{Kind: YAML, Path: "nokind"}, []string{"nokind/a.yaml", "no kind"}},
		{"template error", Source{Kind: Helm, Path: "chart"}, []string{"chart", "t.yaml"}},
		{"missing values file", Source{Kind: Helm, Path: "chart", ValuesFiles: []string{"values-prod.yaml"}}, []string{"chart/values-prod.yaml"}},
		{"values file escapes", Source{Kind: Helm, Path: "chart", ValuesFiles: []string{"../../etc/passwd"}}, []string{"leaves the repository"}},
		{"kustomize missing resource", Source{Kind: Kustomize, Path: "kust"}, []string{"kustomize kust", "nothere.yaml"}},
		{"missing dir", Source{Kind: YAML, Path: "nope"}, []string{"nope"}},
		{"not a dir", Source{Kind: YAML, Path: "file.yaml"}, []string{"file.yaml: not a directory"}},
		{"escape", Source{Kind: YAML, Path: "../x"}, []string{"leaves the repository"}},
		{"unknown kind", Source{Kind: "jsonnet", Path: "bad"}, []string{`unknown render kind "jsonnet"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Render(fsys, c.src)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func chartFS() fstest.MapFS {
	return fstest.MapFS{
		"k8s/svc/Chart.yaml":             file("apiVersion: v2\nname: svc\nversion: 1.2.3\n"),
		"k8s/svc/values.yaml":            file("image:\n  repository: reg.example/svc\n  tag: base\nreplicas: 1\nenv:\n  LOG: info\n  MODE: base\n"),
		"k8s/svc/values-prod.yaml":       file("image:\n  tag: prod-abc-1\nenv:\n  MODE: prod\n"),
		"k8s/svc/values-hotfix.yaml":     file("replicas: 5\n"),
		"k8s/svc/.helmignore":            file("ignored/\n"),
		"k8s/svc/ignored/broken.yaml":    file("{{ this does not parse"),
		"k8s/svc/templates/_helpers.tpl": file(`{{- define "svc.name" -}}{{ .Release.Name }}{{- end -}}`),
		"k8s/svc/templates/NOTES.txt":    file("installed {{ .Release.Name }}"),
		"k8s/svc/templates/deploy.yaml": file(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "svc.name" . }}
  namespace: {{ .Release.Namespace }}
spec:
  replicas: {{ .Values.replicas }}
  template:
    spec:
      containers:
      - name: svc
        image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
        env:
        {{- range $k, $v := .Values.env }}
        - name: {{ $k }}
          value: {{ $v | quote }}
        {{- end }}
`),
	}
}

func TestRenderHelmValuesOrder(t *testing.T) {
	objs, err := Render(chartFS(), Source{Kind: Helm, Path: "k8s/svc", ValuesFiles: []string{"values-prod.yaml", "values-hotfix.yaml"}, ReleaseName: "svc-eu", Namespace: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	if got := summary(objs); got != "Deployment/shop/svc-eu\n" {
		t.Fatalf("objects: %s", got)
	}
	spec := objs[0].Object["spec"].(map[string]any)
	if spec["replicas"] != int64(5) {
		t.Errorf("replicas = %v, want 5 from the last values file", spec["replicas"])
	}
	imgs := Images(objs)
	if len(imgs) != 1 || imgs[0].Image != "reg.example/svc:prod-abc-1" || imgs[0].Tag != "prod-abc-1" {
		t.Errorf("images = %+v", imgs)
	}
	env, _ := json.Marshal(spec["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["env"])
	if string(env) != `[{"name":"LOG","value":"info"},{"name":"MODE","value":"prod"}]` {
		t.Errorf("env = %s: values files must merge deeply over the chart's values", env)
	}
}

func TestRenderKustomizeReadsOnlyWhatItNeeds(t *testing.T) {
	fsys := fstest.MapFS{
		"k8s/cat/base/kustomization.yaml":          file("resources:\n- deploy.yaml\n"),
		"k8s/cat/base/deploy.yaml":                 file(deployment("cat", "reg.example/cat:1.0")),
		"k8s/cat/overlays/prod/kustomization.yaml": file("namespace: catalog\nresources:\n- ../../base\nimages:\n- name: reg.example/cat\n  newTag: \"2.0\"\nreplicas:\n- name: cat\n  count: 4\n"),
		"unrelated/huge.bin":                       &fstest.MapFile{Data: make([]byte, MaxFileSize+1)},
	}
	counting := &countFS{FS: fsys, opened: map[string]int{}}
	objs, err := Render(counting, Source{Kind: Kustomize, Path: "k8s/cat/overlays/prod"})
	if err != nil {
		t.Fatal(err)
	}
	if got := summary(objs); got != "Deployment/catalog/cat\n" {
		t.Fatalf("objects: %s", got)
	}
	var tags []string
	for _, ci := range Images(objs) {
		tags = append(tags, ci.Container+"="+ci.Tag)
	}
	if strings.Join(tags, ",") != "migrate=v1,app=2.0" {
		t.Errorf("tags = %v", tags)
	}
	if n := counting.opened["unrelated/huge.bin"]; n != 0 {
		t.Errorf("kustomize read an unrelated directory (%d opens)", n)
	}
}

type countFS struct {
	fs.FS
	opened map[string]int
}

func (c *countFS) Open(name string) (fs.File, error) {
	c.opened[name]++
	return c.FS.Open(name)
}

func TestImagesOfEveryWorkloadKind(t *testing.T) {
	objs, err := Decode("w.yaml", []byte(`apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: ops}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{name: job, image: "ops/job:7"}]
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: ops}
spec:
  containers: [{name: c, image: "busybox@sha256:0123"}]
---
apiVersion: v1
kind: Service
metadata: {name: s}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := Images(objs)
	if len(got) != 2 || got[0].Workload != "nightly" || got[0].Tag != "7" || got[1].Digest != "sha256:0123" || got[1].Kind != "Pod" {
		t.Errorf("Images = %+v", got)
	}
}
