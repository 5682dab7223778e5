package kube

import (
	"os"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestClusterRolesInREADME: the README shows exactly what `fleetdeck config clusterrole`
// prints, so the documented roles can never drift from the code.
func TestClusterRolesInREADME(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```yaml\n"+ClusterRolesYAML()+"```\n") {
		t.Errorf("README.md does not show the ClusterRoles as `fleetdeck config clusterrole` prints them:\n%s", ClusterRolesYAML())
	}
}

// TestClusterRolesYAML: the text parses as two ClusterRoles whose rules are the Go ones, and
// the read-only role has no write verb and no secrets.
func TestClusterRolesYAML(t *testing.T) {
	docs := strings.Split(ClusterRolesYAML(), "---\n")
	if len(docs) != 2 {
		t.Fatalf("%d documents, want 2", len(docs))
	}
	for i, want := range [][]Rule{ReadRules, SyncRules} {
		var role struct {
			Kind     string
			Metadata struct{ Name string }
			Rules    []struct {
				APIGroups []string `json:"apiGroups"`
				Resources []string
				Verbs     []string
			}
		}
		if err := yaml.Unmarshal([]byte(docs[i]), &role); err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		if role.Kind != "ClusterRole" || len(role.Rules) != len(want) {
			t.Fatalf("document %d: %s %s with %d rules, want a ClusterRole with %d", i, role.Kind, role.Metadata.Name, len(role.Rules), len(want))
		}
		for j, r := range role.Rules {
			if strings.Join(r.APIGroups, ",") != strings.Join(want[j].Groups, ",") ||
				strings.Join(r.Resources, ",") != strings.Join(want[j].Resources, ",") ||
				strings.Join(r.Verbs, ",") != strings.Join(want[j].Verbs, ",") {
				t.Errorf("%s rule %d: %+v, want %+v", role.Metadata.Name, j, r, want[j])
			}
		}
	}
	for _, r := range ReadRules {
		for _, v := range r.Verbs {
			if v != "get" && v != "list" && v != "watch" {
				t.Errorf("the read-only role has verb %s on %v", v, r.Resources)
			}
		}
		for _, res := range r.Resources {
			if res == "secrets" {
				t.Error("the read-only role reads secrets")
			}
		}
	}
	// Every kind the engine watches is in the read role.
	for _, n := range NeededResources {
		if !hasRule(ReadRules, n.Group, n.Resource+subresource(n), n.Verbs) {
			t.Errorf("%s (%v) is checked by config check but not in %s", n.Name, n.Verbs, ViewerRoleName)
		}
	}
}

func subresource(r Resource) string {
	if r.Subresource == "" {
		return ""
	}
	return "/" + r.Subresource
}

func hasRule(rules []Rule, group, resource string, verbs []string) bool {
	for _, v := range verbs {
		found := false
		for _, r := range rules {
			if slices.Contains(r.Groups, group) && slices.Contains(r.Resources, resource) && slices.Contains(r.Verbs, v) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}
