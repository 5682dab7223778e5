package render

import (
	"strings"
	"testing"
	"testing/fstest"
)

// where reports whether an error names the place it comes from: the app's path or a file.
func where(err error, places ...string) bool {
	for _, p := range places {
		if strings.Contains(err.Error(), p) {
			return true
		}
	}
	return false
}

// FuzzDecode: manifests with wrong types, broken YAML, lists, JSON and big documents decode
// or fail with the file name; nothing panics and every object has a kind.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		deployment("web", "reg.example/web:1"),
		"apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n- 42\n",
		"apiVersion: v1\nkind: List\nitems: notalist\n",
		"---\n---\n# only comments\n",
		"kind: [1, 2]\nmetadata: 7\n",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replicas: many\n  template: {spec: {containers: {name: c}}}\n",
		"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"}}",
		"a: &a [*a, *a]\n",
		"key: \"\x1b[31m\"\n\t- tab indent\n",
		"- just\n- a list\n",
		"42",
		"apiVersion: v1\nkind: ConfigMap\ndata:\n  big: " + strings.Repeat("x", 1<<16) + "\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		objs, err := Decode("apps/web/manifest.yaml", []byte(data))
		if err != nil {
			if !where(err, "apps/web/manifest.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, o := range objs {
			if o == nil || o.Object == nil {
				t.Fatal("nil object")
			}
		}
		_ = Images(objs)
	})
}

// FuzzRenderHelmValues: a values file of any shape over a real chart renders or fails naming
// the app's path; nothing panics.
func FuzzRenderHelmValues(f *testing.F) {
	for _, s := range []string{
		"image:\n  tag: prod-1\n",
		"image: notamap\n",
		"replicas: [1, 2]\nenv: 7\n",
		"image:\n  repository: {a: b}\n  tag: null\n",
		"env:\n  \"\x1b[2J\": \"\u202e\"\n",
		"{{ .Values }}",
		": : :\n",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, values string) {
		fsys := chartFS()
		fsys["k8s/svc/values-prod.yaml"] = file(values)
		objs, err := Render(fsys, Source{Kind: Helm, Path: "k8s/svc", ValuesFiles: []string{"values-prod.yaml"}, Namespace: "shop"})
		if err != nil {
			if !where(err, "k8s/svc", "values-prod.yaml") {
				t.Fatalf("error does not say where: %v", err)
			}
			return
		}
		_ = Images(objs)
	})
}

// FuzzRenderKustomization: a kustomization of any shape over a real base renders or fails
// naming the app's path; nothing panics and nothing outside the file system is read.
func FuzzRenderKustomization(f *testing.F) {
	for _, s := range []string{
		"namespace: catalog\nresources:\n- ../../base\nimages:\n- name: reg.example/cat\n  newTag: \"2.0\"\n",
		"resources: notalist\n",
		"resources:\n- https://github.com/evil/repo//base\n",
		"resources:\n- ../../../../../../etc\n",
		"resources:\n- ../../base\npatches:\n- patch: |-\n    - op: replace\n      path: /spec/replicas\n      value: x\n  target: {kind: Deployment}\n",
		"resources:\n- ../../base\nreplicas:\n- name: cat\n  count: -1\n",
		"generators:\n- plugin.yaml\n",
		"helmCharts:\n- name: x\n  repo: https://charts.example\n",
		"kind: [\n",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, kustomization string) {
		fsys := fstest.MapFS{
			"k8s/cat/base/kustomization.yaml":          file("resources:\n- deploy.yaml\n"),
			"k8s/cat/base/deploy.yaml":                 file(deployment("cat", "reg.example/cat:1.0")),
			"k8s/cat/overlays/prod/kustomization.yaml": file(kustomization),
		}
		objs, err := Render(fsys, Source{Kind: Kustomize, Path: "k8s/cat/overlays/prod"})
		if err != nil {
			if !where(err, "k8s/cat", "kustomization") {
				t.Fatalf("error does not say where: %v", err)
			}
			return
		}
		_ = Images(objs)
	})
}
