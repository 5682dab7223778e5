package render

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/loader/archive"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	"helm.sh/helm/v4/pkg/ignore"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

var utf8bom = []byte{0xEF, 0xBB, 0xBF}

// renderHelm loads the chart at src.Path (honouring .helmignore, like
// `helm template` loading a directory), merges the values files over the
// chart's defaults and renders every template but NOTES.txt.
func renderHelm(fsys fs.FS, src Source) ([]*unstructured.Unstructured, error) {
	dir := src.Path
	files, err := chartFiles(fsys, dir)
	if err != nil {
		return nil, err
	}
	ch, err := loader.LoadFiles(files)
	if err != nil {
		return nil, fmt.Errorf("load chart %s: %w", dir, err)
	}
	vals := map[string]any{}
	for _, vf := range src.ValuesFiles {
		name := path.Join(dir, vf)
		if !fs.ValidPath(name) {
			return nil, fmt.Errorf("chart %s: values file %q leaves the repository", dir, vf)
		}
		data, err := readFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("chart %s: values file: %w", dir, err)
		}
		v, err := common.ReadValues(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		vals = mergeMaps(vals, v)
	}
	release := src.ReleaseName
	if release == "" {
		release = path.Base(dir)
	}
	ns := src.Namespace
	if ns == "" {
		ns = "default"
	}
	rv, err := util.ToRenderValues(ch, vals, common.ReleaseOptions{
		Name: release, Namespace: ns, Revision: 1, IsInstall: true,
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("chart %s: values: %w", dir, err)
	}
	manifests, err := engine.Render(ch, rv)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", dir, err)
	}
	names := make([]string, 0, len(manifests))
	for name := range manifests {
		names = append(names, name)
	}
	slices.Sort(names)
	var out []*unstructured.Unstructured
	for _, name := range names {
		if strings.HasSuffix(name, "NOTES.txt") || strings.HasPrefix(path.Base(name), "_") {
			continue
		}
		objs, err := Decode(path.Join(path.Dir(dir), name), []byte(manifests[name]))
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}

// chartFiles reads the chart directory as Helm's directory loader does.
func chartFiles(fsys fs.FS, dir string) ([]*archive.BufferedFile, error) {
	rules := ignore.Empty()
	if data, err := fs.ReadFile(fsys, path.Join(dir, ignore.HelmIgnore)); err == nil {
		r, err := ignore.Parse(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path.Join(dir, ignore.HelmIgnore), err)
		}
		rules = r
	}
	rules.AddDefaults()
	var files []*archive.BufferedFile
	var total int64
	err := fs.WalkDir(fsys, dir, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(name, dir), "/")
		if dir == "." {
			rel = name
		}
		if rel == "" || rel == "." {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			if rules.Ignore(rel, fi) {
				return fs.SkipDir
			}
			return nil
		}
		if rules.Ignore(rel, fi) {
			return nil
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("chart %s: cannot load irregular file %s", dir, rel)
		}
		total += fi.Size()
		if total > MaxTotalSize {
			return fmt.Errorf("chart %s: larger than %d bytes", dir, MaxTotalSize)
		}
		data, err := readFile(fsys, name)
		if err != nil {
			return err
		}
		files = append(files, &archive.BufferedFile{Name: rel, Data: bytes.TrimPrefix(data, utf8bom)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read chart %s: %w", dir, err)
	}
	return files, nil
}

// mergeMaps merges b into a recursively, b winning, as the Helm CLI merges
// several -f values files.
func mergeMaps(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if vm, ok := v.(map[string]any); ok {
			if om, ok := out[k].(map[string]any); ok {
				out[k] = mergeMaps(om, vm)
				continue
			}
		}
		out[k] = v
	}
	return out
}
