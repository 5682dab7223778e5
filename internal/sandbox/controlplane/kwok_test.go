package controlplane

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"

	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

var testKwok = KwokOptions{
	CrashImages:    []string{"registry.fleetdeck.test/shop/auth-service:1.4.2"},
	PullFailImages: []string{"registry.fleetdeck.test/shop/notification-worker:9.9.9-missing", "example.org/x:1"},
	LogTargets: []LogTarget{
		{Cluster: "c1", Namespace: "auth", Container: "auth-service", File: "/logs/c1/auth/auth-service.log"},
		{Cluster: "c2", Namespace: "auth", Container: "auth-service", File: "/logs/c2/auth/auth-service.log"},
		{Namespace: "shared", Container: "web", File: "/logs/shared/web.log", PreviousFile: "/logs/shared/web.previous.log"},
	},
}

func splitDocs(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, doc := range bytes.Split(data, []byte("\n---\n")) {
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		var m map[string]any
		if err := yaml.Unmarshal(doc, &m); err != nil {
			t.Fatalf("document is not YAML: %v\n%s", err, doc)
		}
		out = append(out, m)
	}
	return out
}

func TestKwokConfigGolden(t *testing.T) {
	got, err := kwokConfig("c1", testKwok)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "kwok-c1.yaml")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("kwok config differs from %s (run with -update after checking the change)", golden)
	}
}

func TestKwokConfig(t *testing.T) {
	got, err := kwokConfig("c1", testKwok)
	if err != nil {
		t.Fatal(err)
	}
	docs := splitDocs(t, got)
	stages := map[string]map[string]any{}
	var logs []map[string]any
	for _, d := range docs {
		meta := d["metadata"].(map[string]any)
		switch d["kind"] {
		case "Stage":
			stages[meta["name"].(string)] = d
		case "ClusterLogs":
			logs = append(logs, d)
		default:
			t.Errorf("unexpected kind %v", d["kind"])
		}
	}
	for _, name := range []string{"node-initialize", "node-heartbeat-with-lease", "pod-ready", "pod-complete", "pod-delete",
		"fleetdeck-crashloop-start", "fleetdeck-crashloop-exit", "fleetdeck-crashloop-restart",
		"fleetdeck-imagepull-error", "fleetdeck-imagepull-backoff", "fleetdeck-imagepull-retry"} {
		if stages[name] == nil {
			t.Errorf("stage %s missing", name)
		}
	}
	// pod-ready must not race the crash-loop and pull-failure stages.
	exprs := stages["pod-ready"]["spec"].(map[string]any)["selector"].(map[string]any)["matchExpressions"].([]any)
	last := exprs[len(exprs)-1].(map[string]any)
	if last["key"] != ".spec.containers.[].image" || last["operator"] != "NotIn" || len(last["values"].([]any)) != 3 {
		t.Errorf("pod-ready does not exclude the special images: %v", last)
	}
	for _, name := range []string{"pod-delete", "node-initialize"} {
		if strings.Contains(string(mustYAML(t, stages[name])), "NotIn\n  values:\n  - registry") {
			t.Errorf("%s should be unchanged", name)
		}
	}
	// Only the log targets of c1 and of every cluster.
	if len(logs) != 2 {
		t.Fatalf("got %d ClusterLogs, want 2", len(logs))
	}
	spec := logs[0]["spec"].(map[string]any)
	l := spec["logs"].([]any)[0].(map[string]any)
	if l["logsFile"] != "/logs/c1/auth/auth-service.log" || l["follow"] != true || l["containers"].([]any)[0] != "auth-service" {
		t.Errorf("ClusterLogs for auth: %v", l)
	}
	if ns := spec["selector"].(map[string]any)["matchNamespaces"].([]any); len(ns) != 1 || ns[0] != "auth" {
		t.Errorf("ClusterLogs selector: %v", ns)
	}
	if l := logs[1]["spec"].(map[string]any)["logs"].([]any)[0].(map[string]any); l["previousLogsFile"] != "/logs/shared/web.previous.log" {
		t.Errorf("previous logs file not set: %v", l)
	}
}

func mustYAML(t *testing.T, v any) []byte {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The statusTemplates are kwok's Go templates: check they parse with the
// functions kwok provides, so a typo fails here and not in a running kwok.
func TestStageTemplatesParse(t *testing.T) {
	got, err := kwokConfig("c1", testKwok)
	if err != nil {
		t.Fatal(err)
	}
	stub := func(...any) any { return nil }
	funcs := template.FuncMap{}
	for _, name := range []string{"Now", "Quote", "YAML", "Version", "NodeConditions", "NodeIP", "NodeName", "NodePort",
		"NodeIPsWith", "PodIPsWith", "NodeIPWith", "PodIPWith", "list", "has", "add1", "dig", "or", "not", "printf", "index"} {
		funcs[name] = stub
	}
	n := 0
	for _, d := range splitDocs(t, got) {
		next, _ := d["spec"].(map[string]any)["next"].(map[string]any)
		tpl, _ := next["statusTemplate"].(string)
		if tpl == "" {
			continue
		}
		n++
		if _, err := template.New("x").Funcs(funcs).Parse(tpl); err != nil {
			t.Errorf("stage %v: %v", d["metadata"], err)
		}
	}
	if n < 9 {
		t.Errorf("only %d status templates found", n)
	}
}

func TestKwokConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		o    KwokOptions
		want string
	}{
		{"duplicate log target", KwokOptions{LogTargets: []LogTarget{
			{Namespace: "a", Container: "b", File: "/x"}, {Cluster: "c1", Namespace: "a", Container: "b", File: "/y"}}}, "two log targets"},
		{"incomplete log target", KwokOptions{LogTargets: []LogTarget{{Namespace: "a", File: "/x"}}}, "required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := kwokConfig("c1", tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
	if err := validateImages(KwokOptions{CrashImages: []string{"a'b"}}); err == nil {
		t.Error("an image with a quote must be refused")
	}
}

func TestNoSpecialImagesKeepsDefaults(t *testing.T) {
	got, err := kwokConfig("c1", KwokOptions{})
	if err != nil {
		t.Fatal(err)
	}
	docs := splitDocs(t, got)
	if len(docs) != len(defaultStages) {
		t.Errorf("got %d documents, want the %d default stages", len(docs), len(defaultStages))
	}
	if strings.Contains(string(got), "NotIn\n      values:\n      - registry") || strings.Contains(string(got), "fleetdeck-") {
		t.Error("default stages changed without special images")
	}
}
