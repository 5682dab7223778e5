package binaries

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

// builder runs go commands for one Ensure call, logging their output to
// DIR/build.log and a line per step to the progress writer.
type builder struct {
	dir      string // versioned cache dir
	goCmd    string
	logPath  string
	log      *os.File
	progress io.Writer
	mu       sync.Mutex // serialises progress lines from the heartbeat
}

func newBuilder(dir string, progress io.Writer) (*builder, error) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		// A test binary or a `go run` knows its toolchain's GOROOT.
		cand := filepath.Join(runtime.GOROOT(), "bin", "go")
		if !isExecutable(cand) {
			return nil, fmt.Errorf("binaries: %w", ErrNoGo)
		}
		goCmd = cand
	}
	logPath := filepath.Join(dir, "build.log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("binaries: open build log: %w", err)
	}
	return &builder{dir: dir, goCmd: goCmd, logPath: logPath, log: f, progress: progress}, nil
}

func (b *builder) close() { _ = b.log.Close() }

func (b *builder) logf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	fmt.Fprintf(b.log, "=== %s %s\n", time.Now().Format(time.RFC3339), line)
	if b.progress == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	fmt.Fprintln(b.progress, "binaries: "+line)
}

// buildGroup builds g into a temporary directory beside bin and renames
// each program into bin.
func (b *builder) buildGroup(ctx context.Context, g group, bin string) error {
	start := time.Now()
	tmp, err := os.MkdirTemp(b.dir, "tmp-")
	if err != nil {
		return fmt.Errorf("binaries: %s: %w", g.name, err)
	}
	defer os.RemoveAll(tmp)
	if err := g.build(ctx, b, tmp); err != nil {
		return fmt.Errorf("binaries: build %s: %w", g.name, err)
	}
	for _, prog := range g.progs {
		if err := os.Rename(filepath.Join(tmp, prog), filepath.Join(bin, prog)); err != nil {
			return fmt.Errorf("binaries: install %s: %w", prog, err)
		}
	}
	if err := os.WriteFile(stampPath(bin, g), []byte(g.recipe), 0o644); err != nil {
		return fmt.Errorf("binaries: install %s: %w", g.name, err)
	}
	b.logf("%s: installed %s (%s)", g.name, strings.Join(g.progs, ", "), round(time.Since(start)))
	return nil
}

// goEnv is the environment of every go command: static binaries, no
// workspace of the caller, the caller's GOFLAGS ignored (a -mod=vendor there
// would break the throwaway modules).
func goEnv(extra ...string) []string {
	drop := map[string]bool{"CGO_ENABLED": true, "GOFLAGS": true, "GOWORK": true, "GOOS": true, "GOARCH": true, "GOBIN": true}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !drop[k] {
			env = append(env, kv)
		}
	}
	env = append(env, "CGO_ENABLED=0", "GOFLAGS=", "GOWORK=off")
	return append(env, extra...)
}

// run runs one go command in dir as a named step, with a heartbeat line
// every 30 s so a multi-minute compile does not look hung.
func (b *builder) run(ctx context.Context, step, dir string, env []string, args ...string) ([]byte, error) {
	start := time.Now()
	b.logf("%s …", step)
	fmt.Fprintf(b.log, "=== go %s (in %s)\n", strings.Join(args, " "), dir)
	cmd := exec.CommandContext(ctx, b.goCmd, args...)
	cmd.Dir = dir
	cmd.Env = env
	var stdout bytes.Buffer
	tail := &tailWriter{max: 30}
	cmd.Stdout = &stdout
	cmd.Stderr = io.MultiWriter(b.log, tail)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(30 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				b.logf("%s: still running (%s)", step, round(time.Since(start)))
			}
		}
	}()
	err := cmd.Run()
	close(done)
	wg.Wait()
	if err != nil {
		return nil, fmt.Errorf("%s: go %s in %s: %w\n%s", step, strings.Join(args, " "), dir, err, joinLines(tail.lines))
	}
	b.logf("%s: done (%s)", step, round(time.Since(start)))
	return stdout.Bytes(), nil
}

// tailWriter keeps the last max lines written to it.
type tailWriter struct {
	max     int
	lines   []string
	partial string
}

func (t *tailWriter) Write(p []byte) (int, error) {
	s := t.partial + string(p)
	parts := strings.Split(s, "\n")
	t.partial = parts[len(parts)-1]
	t.lines = append(t.lines, parts[:len(parts)-1]...)
	if len(t.lines) > t.max {
		t.lines = t.lines[len(t.lines)-t.max:]
	}
	return len(p), nil
}

// writeModule (re)creates a throwaway module directory with the given files.
func writeModule(dir string, files map[string]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// go.sum from an earlier run is kept: tidy rewrites it, and keeping it
	// saves nothing but also costs nothing. go.mod is always regenerated.
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// moduleGoVersion is the go directive of the throwaway modules: the running
// toolchain's language version, so tidy does not ask for another toolchain.
func moduleGoVersion() string {
	v := strings.TrimPrefix(runtime.Version(), "go")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) >= 2 {
		return parts[0] + "." + parts[1]
	}
	return "1.26"
}

var stagingRE = regexp.MustCompile(`(?m)^\s*(?:replace\s+)?(k8s\.io/[A-Za-z0-9._/-]+)\s+=>\s+\./staging/`)

// stagingModules reads the staging modules that k8s.io/kubernetes' go.mod
// replaces with its own ./staging directories; a consumer of the published
// module must replace each with the published k8s.io/X StagingVersion.
func (b *builder) stagingModules(ctx context.Context, work string) ([]string, error) {
	out, err := b.run(ctx, "kubernetes: read staging modules", work, goEnv(),
		"mod", "download", "-json", "k8s.io/kubernetes@"+KubernetesVersion)
	if err != nil {
		return nil, err
	}
	var info struct{ GoMod, Error string }
	if err := json.Unmarshal(out, &info); err != nil {
		return nil, fmt.Errorf("parse go mod download output: %w", err)
	}
	if info.Error != "" {
		return nil, fmt.Errorf("download k8s.io/kubernetes@%s: %s", KubernetesVersion, info.Error)
	}
	data, err := os.ReadFile(info.GoMod)
	if err != nil {
		return nil, fmt.Errorf("read k8s.io/kubernetes go.mod: %w", err)
	}
	return parseStaging(data), nil
}

func parseStaging(gomod []byte) []string {
	seen := map[string]bool{}
	var mods []string
	for _, m := range stagingRE.FindAllSubmatch(gomod, -1) {
		name := string(m[1])
		if !seen[name] {
			seen[name] = true
			mods = append(mods, name)
		}
	}
	sort.Strings(mods)
	return mods
}

func kubernetesGoMod(staging []string) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "module fleetdeck.local/sandbox-kubernetes\n\ngo %s\n\nrequire k8s.io/kubernetes %s\n\nreplace (\n", moduleGoVersion(), KubernetesVersion)
	for _, m := range staging {
		fmt.Fprintf(&sb, "\t%s => %s %s\n", m, m, StagingVersion)
	}
	sb.WriteString(")\n")
	return sb.String()
}

var kubernetesCmds = []string{
	"k8s.io/kubernetes/cmd/kube-apiserver",
	"k8s.io/kubernetes/cmd/kube-controller-manager",
	"k8s.io/kubernetes/cmd/kube-scheduler",
	"k8s.io/kubernetes/cmd/kubectl",
}

func toolsGo(imports []string) string {
	var sb strings.Builder
	sb.WriteString("//go:build tools\n\n// Package tools pins the programs built from this throwaway module.\npackage tools\n\nimport (\n")
	for _, imp := range imports {
		fmt.Fprintf(&sb, "\t_ %q\n", imp)
	}
	sb.WriteString(")\n")
	return sb.String()
}

// kubernetesLDFlags stamp the version the way Kubernetes' release build
// does, so `kubectl version` and the apiservers' /version say v1.37.x and
// not v0.0.0-master.
func kubernetesLDFlags() []string {
	major, minor := "1", ""
	if parts := strings.Split(strings.TrimPrefix(KubernetesVersion, "v"), "."); len(parts) >= 2 {
		major, minor = parts[0], parts[1]
	}
	var flags []string
	for _, pkg := range []string{"k8s.io/component-base/version", "k8s.io/client-go/pkg/version"} {
		flags = append(flags,
			"-X", pkg+".gitVersion="+KubernetesVersion,
			"-X", pkg+".gitMajor="+major,
			"-X", pkg+".gitMinor="+minor,
			"-X", pkg+".gitTreeState=clean")
	}
	return flags
}

// buildKubernetes builds kube-apiserver, kube-controller-manager,
// kube-scheduler and kubectl in one go build (they share most packages).
func buildKubernetes(ctx context.Context, b *builder, out string) error {
	work := filepath.Join(b.dir, "src", "kubernetes")
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	staging, err := b.stagingModules(ctx, work)
	if err != nil {
		return err
	}
	if len(staging) == 0 {
		return fmt.Errorf("no staging modules found in k8s.io/kubernetes@%s go.mod", KubernetesVersion)
	}
	b.logf("kubernetes: %d staging modules replaced with %s", len(staging), StagingVersion)
	if err := writeModule(work, map[string]string{
		"go.mod":   kubernetesGoMod(staging),
		"tools.go": toolsGo(kubernetesCmds),
	}); err != nil {
		return err
	}
	env := goEnv()
	if _, err := b.run(ctx, "kubernetes: resolve modules", work, env, "mod", "tidy"); err != nil {
		return err
	}
	args := append([]string{"build", "-trimpath", "-ldflags=" + strings.Join(kubernetesLDFlags(), " "),
		"-o", out + string(filepath.Separator)}, kubernetesCmds...)
	_, err = b.run(ctx, "kubernetes: compile kube-apiserver, kube-controller-manager, kube-scheduler, kubectl (the long step)", work, env, args...)
	return err
}

// etcdMain is the package whose main is the etcd server binary (server/v3's
// root package wraps etcdmain).
const etcdMain = "go.etcd.io/etcd/server/v3"

func buildEtcd(ctx context.Context, b *builder, out string) error {
	work := filepath.Join(b.dir, "src", "etcd")
	gomod := fmt.Sprintf("module fleetdeck.local/sandbox-etcd\n\ngo %s\n\nrequire %s %s\n", moduleGoVersion(), etcdMain, EtcdVersion)
	// tools.go imports etcdmain (a main package cannot be imported) so tidy
	// keeps every module the etcd binary needs.
	if err := writeModule(work, map[string]string{
		"go.mod":   gomod,
		"tools.go": toolsGo([]string{etcdMain + "/etcdmain"}),
	}); err != nil {
		return err
	}
	env := goEnv()
	if _, err := b.run(ctx, "etcd: resolve modules", work, env, "mod", "tidy"); err != nil {
		return err
	}
	_, err := b.run(ctx, "etcd: compile", work, env, "build", "-trimpath", "-o", filepath.Join(out, EtcdName), etcdMain)
	return err
}

func buildKwok(ctx context.Context, b *builder, out string) error {
	// kwok's go.mod has no replace directives, so `go install pkg@version`
	// builds it with exactly its own requirements.
	_, err := b.run(ctx, "kwok: download and compile", b.dir, goEnv("GOBIN="+out),
		"install", "-trimpath", "sigs.k8s.io/kwok/cmd/kwok@"+KwokVersion)
	return err
}
