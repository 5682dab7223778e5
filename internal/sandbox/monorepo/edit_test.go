package monorepo

import (
	"strings"
	"testing"
)

const valuesDoc = `# comment
image:
  repository: example/app
  tag: old-tag

replicaCount: 2

extraEnv:
  - name: ENVIRONMENT
    value: production
  - name: LOG_LEVEL
    value: info

resources:
  requests:
    cpu: 250m
  limits:
    memory: 512Mi
config:
  A: "1"
`

func TestSetScalar(t *testing.T) {
	tests := []struct {
		name    string
		path    []string
		value   string
		want    string // the changed line
		wantErr bool
	}{
		{"nested", []string{"image", "tag"}, "new-tag", "  tag: new-tag", false},
		{"top level", []string{"replicaCount"}, "3", "replicaCount: 3", false},
		{"deep", []string{"resources", "limits", "memory"}, "768Mi", "    memory: 768Mi", false},
		{"missing", []string{"image", "digest"}, "x", "", true},
		{"any depth below", []string{"resources", "memory"}, "1Gi", "    memory: 1Gi", false},
		{"not below", []string{"config", "memory"}, "x", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := setScalar(valuesDoc, tt.value, tt.path...)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("want error, got %q", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			assertOneLineChanged(t, valuesDoc, got, tt.want)
			v, err := getScalar(got, tt.path...)
			if err != nil || v != tt.value {
				t.Errorf("getScalar after set = %q, %v; want %q", v, err, tt.value)
			}
		})
	}
}

func TestListItemKeys(t *testing.T) {
	doc := "images:\n  - name: example/app\n    newTag: t1\npatches:\n  - path: p.yaml\n"
	got, err := setScalar(doc, "t2", "images", "newTag")
	if err != nil {
		t.Fatal(err)
	}
	assertOneLineChanged(t, doc, got, "    newTag: t2")
	img := "        - name: app\n          image: example/app:v1\n"
	got, err = setScalar(img, "example/app:v2", "image")
	if err != nil {
		t.Fatal(err)
	}
	assertOneLineChanged(t, img, got, "          image: example/app:v2")
}

func TestEnvEdits(t *testing.T) {
	got, err := setEnv(valuesDoc, "LOG_LEVEL", "debug")
	if err != nil {
		t.Fatal(err)
	}
	assertOneLineChanged(t, valuesDoc, got, "    value: debug")
	if v, _ := getEnv(got, "LOG_LEVEL"); v != "debug" {
		t.Errorf("getEnv = %q", v)
	}
	if _, err := setEnv(valuesDoc, "NOPE", "x"); err == nil {
		t.Error("setEnv of a missing variable: want error")
	}

	got, err = appendEnv(valuesDoc, "FEATURE_X", `"true"`, "extraEnv")
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(valuesDoc, "    value: info\n", "    value: info\n  - name: FEATURE_X\n    value: \"true\"\n", 1)
	if got != want {
		t.Errorf("appendEnv:\n%s\nwant:\n%s", got, want)
	}
	if !hasEnv(got, "FEATURE_X") || hasEnv(valuesDoc, "FEATURE_X") {
		t.Error("hasEnv does not see the appended variable")
	}
	if _, err := appendEnv("extraEnv:\nnext: 1\n", "A", "b", "extraEnv"); err == nil {
		t.Error("appendEnv to an empty list: want error")
	}
}

func TestAddMapKey(t *testing.T) {
	got, err := addMapKey(valuesDoc, "B", `"2"`, "config")
	if err != nil {
		t.Fatal(err)
	}
	if want := valuesDoc + "  B: \"2\"\n"; got != want {
		t.Errorf("addMapKey:\n%s\nwant:\n%s", got, want)
	}
	if _, err := addMapKey(valuesDoc, "A", "x", "config"); err == nil {
		t.Error("adding an existing key: want error")
	}
	got, err = addMapKey(valuesDoc, "cpu2", "1", "resources", "requests")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, "    cpu: 250m\n    cpu2: 1\n  limits:") {
		t.Errorf("addMapKey in a nested block:\n%s", got)
	}
}

// assertOneLineChanged checks that after differs from before in exactly
// one line, which now reads want.
func assertOneLineChanged(t *testing.T, before, after, want string) {
	t.Helper()
	b, a := splitLines(before), splitLines(after)
	if len(a) != len(b) {
		t.Fatalf("line count changed from %d to %d:\n%s", len(b), len(a), after)
	}
	changed := 0
	for i := range a {
		if a[i] != b[i] {
			changed++
			if a[i] != want {
				t.Errorf("line %d = %q, want %q", i+1, a[i], want)
			}
		}
	}
	if changed != 1 {
		t.Errorf("%d lines changed, want 1", changed)
	}
}
