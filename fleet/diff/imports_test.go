package diff

import (
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// allowedImports are the only non-standard imports of the package's own files: YAML output
// and resource quantities, both pure. Like fleet, diff does no I/O and holds no client.
var allowedImports = []string{
	"sigs.k8s.io/yaml",
	"k8s.io/apimachinery/pkg/api/resource",
}

// forbiddenDeps may not appear anywhere in the dependency graph.
var forbiddenDeps = []string{
	"k8s.io/client-go/", "k8s.io/api/", "github.com/go-git/", "helm.sh/", "sigs.k8s.io/kustomize/",
	"github.com/charmbracelet/", "charm.land/", "net/http",
}

func TestImportsArePure(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("list package files: %v (found %d)", err, len(files))
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatalf("parse %s: %v", f, err)
		}
		for _, imp := range src.Imports {
			p := strings.Trim(imp.Path.Value, `"`)
			if strings.Contains(p, ".") && !slices.Contains(allowedImports, p) {
				t.Errorf("%s imports %s: fleet/diff allows only the standard library and %v", f, p, allowedImports)
			}
			if p == "os" || p == "net" || p == "os/exec" {
				t.Errorf("%s imports %s: fleet/diff does no I/O", f, p)
			}
		}
	}
}

func TestDependenciesArePure(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found in PATH; TestImportsArePure still checks direct imports")
	}
	out, err := exec.Command(goTool, "list", "-deps", "-f", "{{.ImportPath}}", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatal("go list -deps listed no packages")
	}
	for _, d := range deps {
		for _, f := range forbiddenDeps {
			if strings.HasPrefix(d, f) || d == strings.TrimSuffix(f, "/") {
				t.Errorf("fleet/diff depends on %s", d)
			}
		}
	}
}
