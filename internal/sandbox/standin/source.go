package standin

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

// source is what the stand-in needs from git. The git-backed implementation
// reads the bare monorepo; tests substitute a fixed one.
type source interface {
	// Head is the sha the tracked branch points at now.
	Head() (string, error)
	// Render returns the app's objects for a cluster at a commit.
	Render(rev string, app scenario.App, cluster string) ([]*unstructured.Unstructured, error)
	// Chart returns Chart.yaml facts of a Helm app at a commit.
	Chart(rev string, app scenario.App) (chartMeta, error)
	// ReadFile returns a repo-relative file at a commit.
	ReadFile(rev, name string) ([]byte, error)
	// Resolve expands an abbreviated commit sha.
	Resolve(short string) (string, error)
	// Parent returns the first parent of a commit ("" for a root commit).
	Parent(rev string) (string, error)
}

// chartMeta is the part of Chart.yaml the HelmRelease status shows.
type chartMeta struct {
	Name       string `json:"name"`
	Version    string `json:"version"`
	AppVersion string `json:"appVersion"`
}

func deepCopyAll(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, len(objs))
	for i, o := range objs {
		out[i] = o.DeepCopy()
	}
	return out
}

// short abbreviates a sha for messages.
func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}
