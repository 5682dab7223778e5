package fleet

import (
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// forbiddenPrefixes keep the model pure: no Kubernetes client or API types, no git, Helm,
// kustomize or terminal UI. Adapters in kube/, gitstate/ and ui/ convert to and from fleet's
// plain types.
var forbiddenPrefixes = []string{
	"k8s.io/",
	"github.com/go-git/",
	"helm.sh/",
	"sigs.k8s.io/",
	"github.com/charmbracelet/",
	"charm.land/",
}

func forbiddenImport(path string) bool {
	for _, p := range forbiddenPrefixes {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// TestImportsArePure parses the package's own files: nothing outside the standard library,
// and never the sandbox (which only the tests may model).
func TestImportsArePure(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("list package files: %v (found %d)", err, len(files))
	}
	fset := token.NewFileSet()
	for _, f := range files {
		src, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatalf("parse %s: %v", f, err)
		}
		test := strings.HasSuffix(f, "_test.go")
		for _, imp := range src.Imports {
			path := strings.Trim(imp.Path.Value, `"`)
			switch {
			case forbiddenImport(path):
				t.Errorf("%s imports %s: fleet must stay free of I/O libraries", f, path)
			case !test && strings.Contains(path, "."):
				t.Errorf("%s imports %s: fleet's non-test files use the standard library only", f, path)
			}
		}
	}
}

// TestDependenciesArePure asks the go command for the full dependency graph, test
// dependencies included, so an indirect import is caught too.
func TestDependenciesArePure(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		if root := os.Getenv("GOROOT"); root != "" {
			goTool = filepath.Join(root, "bin", "go")
		} else {
			t.Skip("go command not found in PATH; TestImportsArePure still checks direct imports")
		}
	}
	for _, args := range [][]string{
		{"list", "-deps", "-f", "{{.ImportPath}}", "."},
		{"list", "-deps", "-test", "-f", "{{.ImportPath}}", "."},
	} {
		out, err := exec.Command(goTool, args...).Output()
		if err != nil {
			msg := ""
			if ee, ok := err.(*exec.ExitError); ok {
				msg = string(ee.Stderr)
			}
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, msg)
		}
		deps := strings.Fields(string(out))
		if len(deps) == 0 {
			t.Fatalf("go %s listed no packages", strings.Join(args, " "))
		}
		for _, d := range deps {
			if forbiddenImport(d) {
				t.Errorf("fleet depends on %s (go %s)", d, strings.Join(args, " "))
			}
		}
	}
}

func TestForbiddenImportMatcher(t *testing.T) {
	for path, want := range map[string]bool{
		"k8s.io/client-go/kubernetes":        true,
		"sigs.k8s.io/yaml":                   true,
		"github.com/go-git/go-git/v5":        true,
		"helm.sh/helm/v4/pkg/action":         true,
		"github.com/charmbracelet/bubbletea": true,
		"charm.land/bubbletea/v2":            true,
		"strings":                            false,
		"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario": false,
	} {
		if got := forbiddenImport(path); got != want {
			t.Errorf("forbiddenImport(%q) = %v, want %v", path, got, want)
		}
	}
}
