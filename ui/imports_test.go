package ui

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// forbiddenDeps keep the ui a view: it draws the fleet model it is given and never reaches a
// cluster, a repository or the engine itself, so it cannot block on I/O and its tests need
// neither a cluster nor a clone.
var forbiddenDeps = []string{
	"k8s.io/",
	"sigs.k8s.io/",
	"helm.sh/",
	"github.com/go-git/",
	"github.com/spf13/",
	"github.com/fleetdeck/fleetdeck/kube",
	"github.com/fleetdeck/fleetdeck/gitstate",
	"github.com/fleetdeck/fleetdeck/config",
	"github.com/fleetdeck/fleetdeck/cli",
	"github.com/fleetdeck/fleetdeck/internal/engine",
}

func forbiddenDep(path string) bool {
	for _, p := range forbiddenDeps {
		if path == p || strings.HasPrefix(path, strings.TrimSuffix(p, "/")+"/") {
			return true
		}
	}
	return false
}

func TestForbiddenDepMatcher(t *testing.T) {
	for path, want := range map[string]bool{
		"k8s.io/client-go/kubernetes":                    true,
		"github.com/go-git/go-git/v5/plumbing":           true,
		"github.com/fleetdeck/fleetdeck/kube/watch":      true,
		"github.com/fleetdeck/fleetdeck/internal/engine": true,
		"github.com/fleetdeck/fleetdeck/kubeish":         false,
		"github.com/fleetdeck/fleetdeck/fleet":           false,
		"charm.land/bubbletea/v2":                        false,
		"strings":                                        false,
	} {
		if got := forbiddenDep(path); got != want {
			t.Errorf("forbiddenDep(%q) = %v, want %v", path, got, want)
		}
	}
}

// TestDependencies asks the go command for the dependency graph of every ui package, tests
// included, so an import through another package is caught too.
func TestDependencies(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
		if _, statErr := os.Stat(goTool); os.Getenv("GOROOT") == "" || statErr != nil {
			t.Skip("go command not found in PATH or GOROOT")
		}
	}
	for _, args := range [][]string{
		{"list", "-deps", "-f", "{{.ImportPath}}", "./..."},
		{"list", "-deps", "-test", "-f", "{{.ImportPath}}", "./..."},
	} {
		cmd := exec.Command(goTool, args...)
		out, err := cmd.Output()
		if err != nil {
			msg := ""
			if ee, ok := err.(*exec.ExitError); ok {
				msg = string(ee.Stderr)
			}
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, msg)
		}
		deps := strings.Fields(string(out))
		// The list must be the ui's: its own package and the model it draws.
		for _, want := range []string{"github.com/fleetdeck/fleetdeck/ui", "github.com/fleetdeck/fleetdeck/fleet"} {
			if !slices.Contains(deps, want) {
				t.Fatalf("go %s did not list %s; listed %d packages", strings.Join(args, " "), want, len(deps))
			}
		}
		for _, d := range deps {
			if forbiddenDep(d) {
				t.Errorf("the ui depends on %s (go %s)", d, strings.Join(args, " "))
			}
		}
	}
}
