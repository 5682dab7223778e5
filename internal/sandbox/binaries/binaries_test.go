package binaries

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// repoGoMod finds the go.mod of the repository this package is in.
func repoGoMod(t *testing.T) []byte {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil {
			return data
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the package directory")
		}
		dir = parent
	}
}

func minor(v string) string {
	parts := strings.Split(strings.TrimPrefix(v, "v"), ".")
	if len(parts) < 2 {
		return ""
	}
	return parts[1]
}

// The sandbox must serve the Kubernetes minor that client-go speaks.
func TestKubernetesMinorMatchesClientGo(t *testing.T) {
	m := regexp.MustCompile(`(?m)^\s*(?:require\s+)?k8s\.io/client-go\s+(v\S+)`).FindSubmatch(repoGoMod(t))
	if m == nil {
		t.Fatal("k8s.io/client-go not required in go.mod")
	}
	clientGo := string(m[1])
	if got, want := minor(KubernetesVersion), minor(clientGo); got != want {
		t.Errorf("KubernetesVersion %s has minor %s, client-go %s has minor %s", KubernetesVersion, got, clientGo, want)
	}
	if StagingVersion != clientGo {
		t.Errorf("StagingVersion = %s, go.mod has k8s.io/client-go %s", StagingVersion, clientGo)
	}
	if got, want := "v0."+minor(KubernetesVersion)+"."+strings.Split(KubernetesVersion, ".")[2], StagingVersion; got != want {
		t.Errorf("staging version for %s is %s, constant says %s", KubernetesVersion, got, want)
	}
}

func TestParseStaging(t *testing.T) {
	gomod := []byte(`module k8s.io/kubernetes

require (
	k8s.io/api v0.0.0
	k8s.io/client-go v0.0.0
)

replace (
	k8s.io/api => ./staging/src/k8s.io/api
	k8s.io/client-go => ./staging/src/k8s.io/client-go
	k8s.io/api => ./staging/src/k8s.io/api
	github.com/x/y => github.com/x/y v1.0.0
)

replace k8s.io/kms => ./staging/src/k8s.io/kms
`)
	got := parseStaging(gomod)
	want := []string{"k8s.io/api", "k8s.io/client-go", "k8s.io/kms"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("parseStaging = %v, want %v", got, want)
	}
	mod := kubernetesGoMod(got)
	for _, line := range []string{
		"require k8s.io/kubernetes " + KubernetesVersion,
		"\tk8s.io/client-go => k8s.io/client-go " + StagingVersion,
		"\tk8s.io/kms => k8s.io/kms " + StagingVersion,
	} {
		if !strings.Contains(mod, line) {
			t.Errorf("generated go.mod lacks %q:\n%s", line, mod)
		}
	}
}

func TestDefaultCacheDir(t *testing.T) {
	tag := VersionTag()
	if tag != "k8s-"+KubernetesVersion+"_etcd-"+EtcdVersion+"_kwok-"+KwokVersion {
		t.Fatalf("VersionTag = %s", tag)
	}
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"xdg", map[string]string{"XDG_CACHE_HOME": "/c", "HOME": "/h"}, "/c/fleetdeck/sandbox/" + tag},
		{"home", map[string]string{"HOME": "/h"}, "/h/.cache/fleetdeck/sandbox/" + tag},
		{"relative xdg is ignored", map[string]string{"XDG_CACHE_HOME": "rel", "HOME": "/h"}, "/h/.cache/fleetdeck/sandbox/" + tag},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DefaultCacheDir(func(k string) string { return tt.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("DefaultCacheDir = %s, want %s", got, tt.want)
			}
		})
	}
}

func fakeProgs(t *testing.T, dir string, names ...string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// A complete cache is used as is: no go command runs, no lock is taken.
func TestEnsureUsesCompleteCacheAndAssets(t *testing.T) {
	cache := t.TempDir()
	all := []string{EtcdName, KubeAPIServerName, KubeControllerManagerName, KubeSchedulerName, KwokName, KubectlName}
	fakeProgs(t, filepath.Join(cache, "bin"), all...)
	for _, g := range groups {
		if err := os.WriteFile(stampPath(filepath.Join(cache, "bin"), g), []byte(g.recipe), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	assets := t.TempDir()
	fakeProgs(t, assets, KubeAPIServerName, EtcdName)
	partialAssets := t.TempDir()
	fakeProgs(t, partialAssets, KubeAPIServerName)

	tests := []struct {
		name              string
		assets            string
		wantAPI, wantEtcd string
	}{
		{"cache only", "", filepath.Join(cache, "bin", KubeAPIServerName), filepath.Join(cache, "bin", EtcdName)},
		{"KUBEBUILDER_ASSETS", assets, filepath.Join(assets, KubeAPIServerName), filepath.Join(assets, EtcdName)},
		{"assets without etcd are ignored", partialAssets, filepath.Join(cache, "bin", KubeAPIServerName), filepath.Join(cache, "bin", EtcdName)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var progress bytes.Buffer
			p, err := Ensure(context.Background(), Options{CacheDir: cache, Progress: &progress,
				Getenv: func(k string) string {
					if k == "KUBEBUILDER_ASSETS" {
						return tt.assets
					}
					return ""
				}})
			if err != nil {
				t.Fatal(err)
			}
			if p.KubeAPIServer != tt.wantAPI || p.Etcd != tt.wantEtcd {
				t.Errorf("apiserver %s etcd %s, want %s %s", p.KubeAPIServer, p.Etcd, tt.wantAPI, tt.wantEtcd)
			}
			if p.Kwok != filepath.Join(cache, "bin", KwokName) || p.Dir != filepath.Join(cache, "bin") {
				t.Errorf("kwok %s dir %s", p.Kwok, p.Dir)
			}
			if progress.Len() != 0 {
				t.Errorf("no build expected, progress says:\n%s", progress.String())
			}
		})
	}
}

// Programs built by an older recipe (or without a stamp) are rebuilt; this
// only checks the decision, not the build.
func TestMissingGroupsChecksRecipe(t *testing.T) {
	bin := t.TempDir()
	all := []string{EtcdName, KubeAPIServerName, KubeControllerManagerName, KubeSchedulerName, KwokName, KubectlName}
	fakeProgs(t, bin, all...)
	p := Paths{Etcd: filepath.Join(bin, EtcdName), KubeAPIServer: filepath.Join(bin, KubeAPIServerName),
		KubeControllerManager: filepath.Join(bin, KubeControllerManagerName), KubeScheduler: filepath.Join(bin, KubeSchedulerName),
		Kwok: filepath.Join(bin, KwokName), Kubectl: filepath.Join(bin, KubectlName), Dir: bin}
	names := func(gs []group) string {
		var out []string
		for _, g := range gs {
			out = append(out, g.key)
		}
		return strings.Join(out, ",")
	}
	if got := names(missingGroups(p, bin)); got != "kubernetes,etcd,kwok" {
		t.Errorf("without stamps: missing %q", got)
	}
	for _, g := range groups {
		recipe := g.recipe
		if g.key == "kubernetes" {
			recipe = "an older recipe"
		}
		if err := os.WriteFile(stampPath(bin, g), []byte(recipe), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got := names(missingGroups(p, bin)); got != "kubernetes" {
		t.Errorf("with an old kubernetes stamp: missing %q", got)
	}
	if err := os.Remove(filepath.Join(bin, KwokName)); err != nil {
		t.Fatal(err)
	}
	if got := names(missingGroups(p, bin)); got != "kubernetes,kwok" {
		t.Errorf("without kwok: missing %q", got)
	}
}

// The lock serialises holders: the second waits until the first releases.
func TestLockSerialises(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".lock")
	ctx := context.Background()
	unlock1, err := lock(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	var progress syncBuffer
	acquired := make(chan time.Time, 1)
	go func() {
		unlock2, err := lock(ctx, path, &progress)
		if err != nil {
			t.Error(err)
			acquired <- time.Time{}
			return
		}
		acquired <- time.Now()
		unlock2()
	}()
	time.Sleep(600 * time.Millisecond)
	released := time.Now()
	unlock1()
	got := <-acquired
	if got.Before(released) {
		t.Errorf("second lock acquired %s before the first was released", released.Sub(got))
	}
	if !strings.Contains(progress.String(), "waiting") {
		t.Errorf("waiting holder did not say so: %q", progress.String())
	}

	// A cancelled context ends the wait with an error naming the lock.
	unlock3, err := lock(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock3()
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := lock(cctx, path, nil); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("lock with cancelled ctx: err = %v", err)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestEnsureBuilds builds (or finds) the real programs in the user cache and
// checks each one runs and reports the pinned version.
func TestEnsureBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the control-plane binaries (minutes when cold)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	p, err := Ensure(ctx, Options{Progress: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		args []string
		want string
	}{
		{p.KubeAPIServer, []string{"--version"}, "Kubernetes " + KubernetesVersion},
		{p.KubeControllerManager, []string{"--version"}, "Kubernetes " + KubernetesVersion},
		{p.KubeScheduler, []string{"--version"}, "Kubernetes " + KubernetesVersion},
		{p.Kubectl, []string{"version", "--client"}, "Client Version: " + KubernetesVersion},
		{p.Etcd, []string{"--version"}, "etcd Version: " + strings.TrimPrefix(EtcdVersion, "v")},
		{p.Kwok, []string{"--version"}, strings.TrimPrefix(KwokVersion, "v")},
	}
	for _, tt := range tests {
		out, err := exec.CommandContext(ctx, tt.path, tt.args...).CombinedOutput()
		if err != nil {
			t.Errorf("%s %v: %v\n%s", tt.path, tt.args, err, out)
			continue
		}
		if !strings.Contains(string(out), tt.want) {
			t.Errorf("%s %v printed %q, want it to contain %q", tt.path, tt.args, out, tt.want)
		}
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
