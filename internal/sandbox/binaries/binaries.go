// Package binaries provides the programs of the sandbox's local control
// planes (etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
// kwok, kubectl), built once from the Go module proxy into a user cache.
//
// Nothing is downloaded as a prebuilt binary: each program is compiled with
// the local Go toolchain from its published module, in throwaway modules
// generated inside the cache directory. A build takes several minutes the
// first time and is reused afterwards while the versions below are unchanged.
package binaries

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Versions of the programs. KubernetesVersion's minor matches the minor of
// the k8s.io/client-go in go.mod (StagingVersion), so the sandbox serves the
// API the product is built against.
const (
	KubernetesVersion = "v1.37.2"
	// StagingVersion is the version of the k8s.io/* staging modules
	// (client-go, api, apiserver, …) published with KubernetesVersion.
	StagingVersion = "v0.37.2"
	EtcdVersion    = "v3.7.3"
	KwokVersion    = "v0.8.0"
)

// VersionTag names the cache directory of one set of versions.
func VersionTag() string {
	return "k8s-" + KubernetesVersion + "_etcd-" + EtcdVersion + "_kwok-" + KwokVersion
}

// Program file names inside a bin directory.
const (
	EtcdName                  = "etcd"
	KubeAPIServerName         = "kube-apiserver"
	KubeControllerManagerName = "kube-controller-manager"
	KubeSchedulerName         = "kube-scheduler"
	KwokName                  = "kwok"
	KubectlName               = "kubectl"
)

// Options configure Ensure.
type Options struct {
	// CacheDir is the versioned directory holding bin/ and the build
	// modules. Default: $XDG_CACHE_HOME/fleetdeck/sandbox/<VersionTag>
	// (XDG_CACHE_HOME defaults to ~/.cache).
	CacheDir string
	// Progress receives one line per build step with its elapsed time; nil
	// discards.
	Progress io.Writer
	// Getenv reads XDG_CACHE_HOME, HOME and KUBEBUILDER_ASSETS; nil means
	// os.Getenv.
	Getenv func(string) string
}

// Paths are absolute paths of the programs.
type Paths struct {
	Etcd                  string
	KubeAPIServer         string
	KubeControllerManager string
	KubeScheduler         string
	Kwok                  string
	Kubectl               string
	// Dir is the cache's bin directory (programs taken from
	// KUBEBUILDER_ASSETS live elsewhere).
	Dir string
}

// DefaultCacheDir is the versioned cache directory Ensure uses when
// Options.CacheDir is empty.
func DefaultCacheDir(getenv func(string) string) (string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	base := getenv("XDG_CACHE_HOME")
	if base == "" || !filepath.IsAbs(base) {
		home := getenv("HOME")
		if home == "" {
			h, err := os.UserHomeDir()
			if err != nil {
				return "", fmt.Errorf("binaries: no cache directory: neither XDG_CACHE_HOME nor HOME is set: %w", err)
			}
			home = h
		}
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "fleetdeck", "sandbox", VersionTag()), nil
}

// group is a set of programs produced by one build step.
type group struct {
	key   string   // names the group's stamp file
	name  string   // shown in progress lines
	progs []string // file names it produces
	// recipe changes whenever the way the group is built changes (flags,
	// packages), so binaries built the old way in the same versioned cache
	// directory are rebuilt.
	recipe string
	build  func(ctx context.Context, b *builder, out string) error
}

var groups = []group{
	{key: "kubernetes", name: "kubernetes " + KubernetesVersion,
		progs:  []string{KubeAPIServerName, KubeControllerManagerName, KubeSchedulerName, KubectlName},
		recipe: "2 " + strings.Join(kubernetesLDFlags(), " "), build: buildKubernetes},
	{key: "etcd", name: "etcd " + EtcdVersion, progs: []string{EtcdName}, recipe: "1", build: buildEtcd},
	{key: "kwok", name: "kwok " + KwokVersion, progs: []string{KwokName}, recipe: "1", build: buildKwok},
}

// stampPath records which recipe built a group's programs in bin.
func stampPath(bin string, g group) string { return filepath.Join(bin, ".recipe-"+g.key) }

// Ensure returns the paths of every program, building the missing ones into
// the cache first. Concurrent calls (two test binaries, two terminals) are
// serialised by a lock file, so a build runs once; programs are installed by
// rename, so a reader never sees a half-written binary.
//
// When KUBEBUILDER_ASSETS names a directory with kube-apiserver and etcd
// (the envtest convention), those two are used; the others still come from
// the cache.
func Ensure(ctx context.Context, opts Options) (Paths, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	dir := opts.CacheDir
	if dir == "" {
		d, err := DefaultCacheDir(getenv)
		if err != nil {
			return Paths{}, err
		}
		dir = d
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return Paths{}, fmt.Errorf("binaries: cache dir %s: %w", dir, err)
	}
	bin := filepath.Join(dir, "bin")
	p := Paths{
		Etcd:                  filepath.Join(bin, EtcdName),
		KubeAPIServer:         filepath.Join(bin, KubeAPIServerName),
		KubeControllerManager: filepath.Join(bin, KubeControllerManagerName),
		KubeScheduler:         filepath.Join(bin, KubeSchedulerName),
		Kwok:                  filepath.Join(bin, KwokName),
		Kubectl:               filepath.Join(bin, KubectlName),
		Dir:                   bin,
	}
	if assets := getenv("KUBEBUILDER_ASSETS"); assets != "" {
		api, etcd := filepath.Join(assets, KubeAPIServerName), filepath.Join(assets, EtcdName)
		if isExecutable(api) && isExecutable(etcd) {
			p.KubeAPIServer, p.Etcd = api, etcd
		}
	}

	needed := missingGroups(p, bin)
	if len(needed) == 0 {
		return p, nil
	}
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return Paths{}, fmt.Errorf("binaries: create %s: %w", bin, err)
	}
	unlock, err := lock(ctx, filepath.Join(dir, ".lock"), opts.Progress)
	if err != nil {
		return Paths{}, err
	}
	defer unlock()
	// Another process may have built them while this one waited.
	needed = missingGroups(p, bin)
	if len(needed) == 0 {
		return p, nil
	}
	b, err := newBuilder(dir, opts.Progress)
	if err != nil {
		return Paths{}, err
	}
	defer b.close()
	start := time.Now()
	b.logf("building sandbox binaries into %s (once; a cold build takes several minutes, output in %s)", bin, b.logPath)
	for _, g := range needed {
		if err := b.buildGroup(ctx, g, bin); err != nil {
			return Paths{}, err
		}
	}
	b.logf("sandbox binaries ready (%s)", round(time.Since(start)))
	if missing := missingGroups(p, bin); len(missing) > 0 {
		return Paths{}, fmt.Errorf("binaries: %s still missing in %s after the build", missing[0].progs[0], bin)
	}
	return p, nil
}

// missingGroups lists the build steps whose programs are not all present in
// the places p points to, or were built into bin by another recipe.
func missingGroups(p Paths, bin string) []group {
	have := map[string]string{
		EtcdName: p.Etcd, KubeAPIServerName: p.KubeAPIServer, KubeControllerManagerName: p.KubeControllerManager,
		KubeSchedulerName: p.KubeScheduler, KwokName: p.Kwok, KubectlName: p.Kubectl,
	}
	var out []group
	for _, g := range groups {
		fromCache := false
		complete := true
		for _, prog := range g.progs {
			if !isExecutable(have[prog]) {
				complete = false
			}
			if filepath.Dir(have[prog]) == bin {
				fromCache = true
			}
		}
		if complete && fromCache {
			stamp, err := os.ReadFile(stampPath(bin, g))
			complete = err == nil && string(stamp) == g.recipe
		}
		if !complete {
			out = append(out, g)
		}
	}
	return out
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// lock takes an exclusive flock on path, polling so ctx can cancel the wait.
func lock(ctx context.Context, path string, progress io.Writer) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("binaries: open lock file: %w", err)
	}
	told := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				_ = f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			_ = f.Close()
			return nil, fmt.Errorf("binaries: lock %s: %w", path, err)
		}
		if !told && progress != nil {
			fmt.Fprintf(progress, "binaries: another process is building the sandbox binaries; waiting for it (lock %s)\n", path)
			told = true
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("binaries: waiting for lock %s: %w", path, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func round(d time.Duration) time.Duration {
	if d > time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(100 * time.Millisecond)
}

// ErrNoGo is returned when a build is needed but no go command is found.
var ErrNoGo = errors.New("the go command is needed to build the sandbox binaries once (or set KUBEBUILDER_ASSETS for kube-apiserver and etcd)")

func joinLines(lines []string) string { return strings.Join(lines, "\n") }
