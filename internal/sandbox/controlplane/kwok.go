package controlplane

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/template"

	"sigs.k8s.io/yaml"
)

// KwokOptions shape what the fake kubelet (kwok) does with pods.
type KwokOptions struct {
	// CrashImages are container images (with tag, exactly as in the pod
	// spec) that crash-loop: the pod is Running but not Ready, the container
	// restarts every few seconds (restartCount grows), waits with reason
	// CrashLoopBackOff, and its lastState is terminated with exit code 1.
	CrashImages []string
	// PullFailImages are images that cannot be pulled: the pod stays
	// Pending, the container waits with ErrImagePull, then ImagePullBackOff.
	PullFailImages []string
	// LogTargets say which file kwok serves for `kubectl logs` of a
	// container in a namespace. All pods of that container in that
	// namespace (of that cluster) share the file, so `logs -f` on any
	// replica follows the same stream.
	LogTargets []LogTarget
}

// LogTarget maps a container of a namespace to a log file in CRI format
// (`RFC3339Nano stdout F message` per line; see podlogs.Line).
type LogTarget struct {
	// Cluster limits the target to one cluster; empty means every cluster.
	Cluster   string
	Namespace string
	Container string
	// File is served for `kubectl logs`; it is created empty when missing.
	File string
	// PreviousFile, when set, is served for `kubectl logs --previous`.
	PreviousFile string
}

//go:embed stages/*.yaml stages/*.yaml.tmpl
var stageFS embed.FS

// defaultStages are kwok's own "fast" stages; kwok loads no stages unless
// its --config lists them.
var defaultStages = []string{
	"node-initialize.yaml", "node-heartbeat-with-lease.yaml",
	"pod-ready.yaml", "pod-complete.yaml", "pod-delete.yaml",
}

// Stages that must not race the crash-loop and pull-failure stages: they
// get an extra selector excluding those images.
var excludeFromStages = map[string]bool{"pod-ready": true, "pod-complete": true}

// kwokConfig renders kwok's --config for one cluster: the default stages
// (pod-ready and pod-complete excluding special images), the crash-loop and
// pull-failure stages, and one ClusterLogs per log target of the cluster.
func kwokConfig(cluster string, o KwokOptions) ([]byte, error) {
	var docs [][]byte
	special := append(slices.Clone(o.CrashImages), o.PullFailImages...)
	for _, name := range defaultStages {
		raw, err := stageFS.ReadFile("stages/" + name)
		if err != nil {
			return nil, err
		}
		var stage map[string]any
		if err := yaml.Unmarshal(raw, &stage); err != nil {
			return nil, fmt.Errorf("stage %s: %w", name, err)
		}
		meta, _ := stage["metadata"].(map[string]any)
		if meta != nil && excludeFromStages[fmt.Sprint(meta["name"])] && len(special) > 0 {
			if err := addMatchExpression(stage, map[string]any{
				"key": ".spec.containers.[].image", "operator": "NotIn", "values": special,
			}); err != nil {
				return nil, fmt.Errorf("stage %s: %w", name, err)
			}
		}
		out, err := yaml.Marshal(stage)
		if err != nil {
			return nil, err
		}
		docs = append(docs, out)
	}
	for _, s := range []struct {
		file   string
		images []string
	}{{"crashloop.yaml.tmpl", o.CrashImages}, {"imagepull.yaml.tmpl", o.PullFailImages}} {
		if len(s.images) == 0 {
			continue
		}
		out, err := renderStageTemplate(s.file, s.images)
		if err != nil {
			return nil, err
		}
		docs = append(docs, out)
	}
	seen := map[string]bool{}
	for _, t := range o.LogTargets {
		if t.Cluster != "" && t.Cluster != cluster {
			continue
		}
		if t.Namespace == "" || t.Container == "" || t.File == "" {
			return nil, fmt.Errorf("log target %+v: namespace, container and file are required", t)
		}
		name := dnsName("fleetdeck-logs-" + t.Namespace + "-" + t.Container)
		if seen[name] {
			return nil, fmt.Errorf("two log targets for container %s in namespace %s of cluster %s", t.Container, t.Namespace, cluster)
		}
		seen[name] = true
		follow := true
		log := map[string]any{"containers": []string{t.Container}, "logsFile": t.File, "follow": follow}
		if t.PreviousFile != "" {
			log["previousLogsFile"] = t.PreviousFile
		}
		out, err := yaml.Marshal(map[string]any{
			"apiVersion": "kwok.x-k8s.io/v1alpha1",
			"kind":       "ClusterLogs",
			"metadata":   map[string]any{"name": name},
			"spec": map[string]any{
				"selector": map[string]any{"matchNamespaces": []string{t.Namespace}},
				"logs":     []any{log},
			},
		})
		if err != nil {
			return nil, err
		}
		docs = append(docs, out)
	}
	return bytes.Join(docs, []byte("---\n")), nil
}

func addMatchExpression(stage map[string]any, expr map[string]any) error {
	spec, ok := stage["spec"].(map[string]any)
	if !ok {
		return fmt.Errorf("no spec")
	}
	sel, _ := spec["selector"].(map[string]any)
	if sel == nil {
		sel = map[string]any{}
		spec["selector"] = sel
	}
	exprs, _ := sel["matchExpressions"].([]any)
	sel["matchExpressions"] = append(exprs, expr)
	return nil
}

// renderStageTemplate fills the [[ ]] placeholders of a stage file with
// the image list in the three syntaxes the stage needs: a YAML list for a
// selector's values, a jq array, and a sprig list for kwok's template.
func renderStageTemplate(file string, images []string) ([]byte, error) {
	raw, err := stageFS.ReadFile("stages/" + file)
	if err != nil {
		return nil, err
	}
	tmpl, err := template.New(file).Delims("[[", "]]").Parse(string(raw))
	if err != nil {
		return nil, fmt.Errorf("stage template %s: %w", file, err)
	}
	quoted := make([]string, len(images))
	for i, img := range images {
		b, err := json.Marshal(img)
		if err != nil {
			return nil, err
		}
		quoted[i] = string(b)
	}
	var buf bytes.Buffer
	err = tmpl.Execute(&buf, map[string]string{
		// JSON is YAML: a flow sequence of double-quoted strings.
		"ImagesYAML": "[" + strings.Join(quoted, ", ") + "]",
		// Inside single-quoted YAML scalars: double quotes need no escape,
		// and image references contain no single quotes.
		"JQList":    "[" + strings.Join(quoted, ", ") + "]",
		"SprigList": "list " + strings.Join(quoted, " "),
	})
	if err != nil {
		return nil, fmt.Errorf("stage template %s: %w", file, err)
	}
	return buf.Bytes(), nil
}

var nonDNS = regexp.MustCompile(`[^a-z0-9-]+`)

// dnsName turns s into a valid object name.
func dnsName(s string) string {
	s = strings.Trim(nonDNS.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if len(s) > 63 {
		s = strings.TrimRight(s[:63], "-")
	}
	return s
}

// prepareLogFiles creates the log files (empty) and their directories, so
// `kubectl logs` answers before the first line is written.
func prepareLogFiles(targets []LogTarget) error {
	for _, t := range targets {
		for _, f := range []string{t.File, t.PreviousFile} {
			if f == "" {
				continue
			}
			if err := os.MkdirAll(filepath.Dir(f), 0o700); err != nil {
				return fmt.Errorf("log file for %s/%s: %w", t.Namespace, t.Container, err)
			}
			fh, err := os.OpenFile(f, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
			if err != nil {
				return fmt.Errorf("log file for %s/%s: %w", t.Namespace, t.Container, err)
			}
			_ = fh.Close()
		}
	}
	return nil
}

// validateImages rejects image references that would break the stage
// selectors (kwok's jq keys sit in single-quoted YAML).
func validateImages(o KwokOptions) error {
	for _, img := range append(slices.Clone(o.CrashImages), o.PullFailImages...) {
		if img == "" || strings.ContainsAny(img, "'\n") {
			return fmt.Errorf("kwok: invalid image reference %q", img)
		}
	}
	return nil
}
