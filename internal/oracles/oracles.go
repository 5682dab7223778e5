// Package oracles builds the reference command-line tools that tests compare
// fleetdeck's own code against: the Helm CLI (`helm template`) and the
// kustomize CLI (`kustomize build`), from the Go module proxy, once, into
// the user's cache directory.
package oracles

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// The tool versions: Helm matches the SDK in go.mod; kustomize v5.8.1 is the
// CLI release built on the kustomize API fleetdeck uses.
const (
	HelmModule      = "helm.sh/helm/v4/cmd/helm"
	HelmVersion     = "v4.3.1"
	KustomizeModule = "sigs.k8s.io/kustomize/kustomize/v5"
	KustomizeVer    = "v5.8.1"
)

// Paths are the built executables.
type Paths struct {
	Helm      string
	Kustomize string
}

// Options configure Ensure.
type Options struct {
	// CacheDir defaults to $XDG_CACHE_HOME/fleetdeck/tools (~/.cache when unset).
	CacheDir string
	// Progress receives a line per build; nil discards them.
	Progress io.Writer
	// Getenv reads XDG_CACHE_HOME and HOME; nil means os.Getenv.
	Getenv func(string) string
}

var mu sync.Mutex // one build at a time within a process

// Ensure builds the tools that are not in the cache yet and returns their paths.
func Ensure(ctx context.Context, opts Options) (Paths, error) {
	mu.Lock()
	defer mu.Unlock()
	dir := opts.CacheDir
	if dir == "" {
		getenv := opts.Getenv
		if getenv == nil {
			getenv = os.Getenv
		}
		base := getenv("XDG_CACHE_HOME")
		if base == "" || !filepath.IsAbs(base) {
			home := getenv("HOME")
			if home == "" {
				return Paths{}, fmt.Errorf("oracles: no cache directory: neither XDG_CACHE_HOME nor HOME is set")
			}
			base = filepath.Join(home, ".cache")
		}
		dir = filepath.Join(base, "fleetdeck", "tools")
	}
	progress := opts.Progress
	if progress == nil {
		progress = io.Discard
	}
	helm, err := install(ctx, dir, "helm", HelmModule, HelmVersion, progress)
	if err != nil {
		return Paths{}, err
	}
	kust, err := install(ctx, dir, "kustomize", KustomizeModule, KustomizeVer, progress)
	if err != nil {
		return Paths{}, err
	}
	return Paths{Helm: helm, Kustomize: kust}, nil
}

// install runs `go install module@version` into dir/name-version/ unless
// the executable is already there. The build happens in a fresh GOBIN and is
// renamed into place, so an interrupted build never leaves a half binary.
func install(ctx context.Context, dir, name, module, version string, progress io.Writer) (string, error) {
	final := filepath.Join(dir, name+"-"+version)
	bin := filepath.Join(final, name)
	if fi, err := os.Stat(bin); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("oracles: %w", err)
	}
	tmp, err := os.MkdirTemp(dir, name+"-build-")
	if err != nil {
		return "", fmt.Errorf("oracles: %w", err)
	}
	defer os.RemoveAll(tmp)
	start := time.Now()
	fmt.Fprintf(progress, "building %s %s from the Go module proxy…\n", name, version)
	cmd := exec.CommandContext(ctx, "go", "install", module+"@"+version)
	cmd.Dir = tmp // outside any module: go install pkg@version uses the tool's own go.mod
	cmd.Env = append(os.Environ(), "GOBIN="+filepath.Join(tmp, "bin"), "GOFLAGS=", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("oracles: go install %s@%s: %w\n%s", module, version, err, strings.TrimSpace(string(out)))
	}
	if err := os.MkdirAll(filepath.Join(tmp, "final"), 0o755); err != nil {
		return "", err
	}
	if err := os.Rename(filepath.Join(tmp, "bin", name), filepath.Join(tmp, "final", name)); err != nil {
		return "", fmt.Errorf("oracles: %w", err)
	}
	_ = os.RemoveAll(final)
	if err := os.Rename(filepath.Join(tmp, "final"), final); err != nil {
		return "", fmt.Errorf("oracles: %w", err)
	}
	fmt.Fprintf(progress, "built %s %s in %s\n", name, version, time.Since(start).Round(time.Second))
	return bin, nil
}
