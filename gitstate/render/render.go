// Package render turns an application's directory in git into the Kubernetes
// objects it declares: plain YAML, a kustomization, or a Helm chart with
// values files, rendered with the kustomize API and the Helm SDK exactly as
// `kustomize build` and `helm template` do.
//
// Render reads from an io/fs.FS, so the same code renders a checkout on disk
// (os.DirFS) or any commit of a repository without a checkout (gitstate/treefs).
// Nothing is executed and nothing is fetched: Helm charts must carry their
// dependencies in charts/, and kustomize remote bases and exec plugins are
// refused.
package render

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Kind says how an application's manifests are produced.
type Kind string

// The render kinds, named as in the configuration file.
const (
	YAML      Kind = "yaml"
	Kustomize Kind = "kustomize"
	Helm      Kind = "helm"
)

// Source says what to render and how.
type Source struct {
	Kind Kind
	// Path is the slash-separated directory inside the file system: the
	// chart, the kustomization, or the directory of YAML files.
	Path string
	// ValuesFiles are Helm values files relative to Path, applied in order
	// over the chart's values.yaml (as `helm template -f a -f b`).
	ValuesFiles []string
	// ReleaseName is the Helm release name; it defaults to the base name of Path.
	ReleaseName string
	// Namespace is the target namespace: Helm's release namespace, and the
	// namespace given to namespaced objects that name none (as Argo CD and
	// Flux do when they apply).
	Namespace string
}

// MaxFileSize bounds a single file read for rendering, and MaxTotalSize the
// sum of files read for one render, so a stray binary in the repository
// cannot exhaust memory.
const (
	MaxFileSize  = 16 << 20
	MaxTotalSize = 100 << 20
)

// Render renders src from fsys and returns its objects sorted by kind,
// namespace and name. Errors name the source path and, where known, the file.
func Render(fsys fs.FS, src Source) ([]*unstructured.Unstructured, error) {
	if fsys == nil {
		return nil, errors.New("render: nil file system")
	}
	dir, err := cleanPath(src.Path)
	if err != nil {
		return nil, err
	}
	src.Path = dir
	if fi, err := fs.Stat(fsys, dir); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("%s: not a directory", dir)
	}
	var objs []*unstructured.Unstructured
	switch src.Kind {
	case YAML:
		objs, err = renderYAML(fsys, dir)
	case Kustomize:
		objs, err = renderKustomize(fsys, dir)
	case Helm:
		objs, err = renderHelm(fsys, src)
	default:
		return nil, fmt.Errorf("%s: unknown render kind %q (want yaml, kustomize or helm)", dir, src.Kind)
	}
	if err != nil {
		return nil, err
	}
	if src.Namespace != "" {
		for _, o := range objs {
			if o.GetNamespace() == "" && !clusterScoped(o.GroupVersionKind().Group, o.GetKind()) {
				o.SetNamespace(src.Namespace)
			}
		}
	}
	sortObjects(objs)
	return objs, nil
}

// cleanPath validates a slash path inside the file system.
func cleanPath(p string) (string, error) {
	if p == "" || p == "/" {
		return ".", nil
	}
	c := path.Clean(strings.TrimPrefix(p, "/"))
	if !fs.ValidPath(c) {
		return "", fmt.Errorf("path %q leaves the repository", p)
	}
	return c, nil
}

// renderYAML reads every .yaml, .yml and .json file directly in dir, as Argo
// CD's directory source does without recursion.
func renderYAML(fsys fs.FS, dir string) ([]*unstructured.Unstructured, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	var out []*unstructured.Unstructured
	for _, e := range entries {
		ext := path.Ext(e.Name())
		if e.IsDir() || (ext != ".yaml" && ext != ".yml" && ext != ".json") {
			continue
		}
		name := path.Join(dir, e.Name())
		data, err := readFile(fsys, name)
		if err != nil {
			return nil, err
		}
		objs, err := Decode(name, data)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}

func readFile(fsys fs.FS, name string) ([]byte, error) {
	fi, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, err
	}
	if fi.Size() > MaxFileSize {
		return nil, fmt.Errorf("%s: %d bytes is over the %d byte limit for a manifest", name, fi.Size(), MaxFileSize)
	}
	return fs.ReadFile(fsys, name)
}

// Decode parses a stream of YAML (or JSON) documents into objects. Empty
// documents and lists are handled like kubectl does: a v1 List is expanded.
// Errors carry the file name and the document's index.
func Decode(name string, data []byte) ([]*unstructured.Unstructured, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var out []*unstructured.Unstructured
	for i := 1; ; i++ {
		doc, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", name, i, err)
		}
		js, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", name, i, err)
		}
		// utiljson keeps integers as int64, as the API machinery expects.
		var m map[string]any
		if err := utiljson.Unmarshal(js, &m); err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", name, i, err)
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if u.GetKind() == "" || u.GetAPIVersion() == "" {
			return nil, fmt.Errorf("%s: document %d: object has no kind or apiVersion", name, i)
		}
		if u.IsList() {
			list, err := u.ToList()
			if err != nil {
				return nil, fmt.Errorf("%s: document %d: %w", name, i, err)
			}
			for j := range list.Items {
				out = append(out, &list.Items[j])
			}
			continue
		}
		out = append(out, u)
	}
}

func sortObjects(objs []*unstructured.Unstructured) {
	slices.SortStableFunc(objs, func(a, b *unstructured.Unstructured) int {
		if c := strings.Compare(a.GetKind(), b.GetKind()); c != 0 {
			return c
		}
		if c := strings.Compare(a.GetNamespace(), b.GetNamespace()); c != 0 {
			return c
		}
		return strings.Compare(a.GetName(), b.GetName())
	})
}

// clusterScoped lists the built-in kinds that have no namespace. Custom
// resources are assumed namespaced, which is what a rendered manifest
// without a namespace usually means for them.
func clusterScoped(group, kind string) bool {
	switch group + "/" + kind {
	case "/Namespace", "/Node", "/PersistentVolume", "/ComponentStatus",
		"rbac.authorization.k8s.io/ClusterRole", "rbac.authorization.k8s.io/ClusterRoleBinding",
		"apiextensions.k8s.io/CustomResourceDefinition", "apiregistration.k8s.io/APIService",
		"storage.k8s.io/StorageClass", "storage.k8s.io/CSIDriver", "storage.k8s.io/CSINode",
		"storage.k8s.io/VolumeAttachment", "scheduling.k8s.io/PriorityClass",
		"networking.k8s.io/IngressClass", "node.k8s.io/RuntimeClass",
		"admissionregistration.k8s.io/ValidatingWebhookConfiguration",
		"admissionregistration.k8s.io/MutatingWebhookConfiguration",
		"admissionregistration.k8s.io/ValidatingAdmissionPolicy",
		"admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding",
		"certificates.k8s.io/CertificateSigningRequest", "flowcontrol.apiserver.k8s.io/FlowSchema",
		"flowcontrol.apiserver.k8s.io/PriorityLevelConfiguration":
		return true
	}
	return false
}
