package treefs_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/fleetdeck/fleetdeck/gitstate/treefs"
)

const gitBin = "/usr/bin/git"

// submoduleSHA is the commit a submodule entry points at; it need not exist.
const submoduleSHA = "0123456789abcdef0123456789abcdef01234567"

// fixture is a repository made with the git CLI, committed once, whose
// checkout serves as the oracle for what the commit's tree must look like.
type fixture struct {
	dir    string // the work tree (also the checkout compared with)
	repo   *git.Repository
	commit plumbing.Hash
}

func run(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(gitBin, append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir,
		"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// newFixture builds a tree with nested directories, an executable, names
// that sort differently in git and in fs order, symlinks to files and
// directories inside the tree, symlinks leaving it (relative and absolute), a
// symlink loop, a dangling link and a submodule entry.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	if _, err := os.Stat(gitBin); err != nil {
		t.Skipf("git CLI not available: %v", err)
	}
	dir := t.TempDir()
	run(t, dir, "init", "-q", "-b", "main")
	files := map[string]string{
		"README.md":                          "# fleet\n",
		"k8s/auth/Chart.yaml":                "apiVersion: v2\nname: auth\nversion: 0.1.0\n",
		"k8s/auth/values.yaml":               "image:\n  tag: v1\n",
		"k8s/auth/values-stage.yaml":         "image:\n  tag: v2\n",
		"k8s/auth/templates/deployment.yaml": "kind: Deployment\n",
		"k8s/auth.txt":                       "sorts before k8s/auth/ in fs order, after it in git order\n",
		"k8s/auth-b/x.yaml":                  "x: 1\n",
		"scripts/run.sh":                     "#!/bin/sh\necho hi\n",
		"empty.txt":                          "",
	}
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(dir, "scripts/run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{
		"k8s/auth/values-prod.yaml": "values.yaml",   // a file in the same directory
		"k8s/current":               "auth",          // a directory
		"k8s/auth/shared":           "../../scripts", // a directory elsewhere in the tree
		"k8s/via-link.yaml":         "current/values.yaml",
		"escape":                    "../outside",     // leaves the tree
		"escape-deep":               "k8s/../../x",    // leaves it through a subdirectory
		"absolute":                  "/etc/hostname",  // absolute
		"loop-a":                    "loop-b",         // a cycle
		"loop-b":                    "loop-a",         //
		"dangling":                  "does-not-exist", // target missing
		"k8s/chain":                 "../k8s/via-link.yaml",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, filepath.FromSlash(name))); err != nil {
			t.Fatal(err)
		}
	}
	run(t, dir, "add", "-A")
	run(t, dir, "update-index", "--add", "--cacheinfo", "160000,"+submoduleSHA+",vendor/lib")
	run(t, dir, "commit", "-q", "-m", "fixture")
	repo, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{dir: dir, repo: repo, commit: plumbing.NewHash(run(t, dir, "rev-parse", "HEAD"))}
}

func (f *fixture) fs(t testing.TB) fs.FS {
	t.Helper()
	fsys, h, err := treefs.AtRevision(f.repo, "main")
	if err != nil {
		t.Fatal(err)
	}
	if h != f.commit {
		t.Fatalf("AtRevision(main) = %s, want %s", h, f.commit)
	}
	return fsys
}

// reachable are the regular files the tree holds, reached through links inside it too.
var reachable = []string{
	"README.md", "empty.txt", "k8s/auth.txt", "k8s/auth-b/x.yaml",
	"k8s/auth/Chart.yaml", "k8s/auth/values.yaml", "k8s/auth/values-stage.yaml",
	"k8s/auth/values-prod.yaml", "k8s/auth/templates/deployment.yaml",
	"k8s/auth/shared/run.sh", "k8s/current/values.yaml", "k8s/current/shared/run.sh",
	"k8s/via-link.yaml", "k8s/chain", "scripts/run.sh",
}

func TestTestFS(t *testing.T) {
	f := newFixture(t)
	fsys := f.fs(t)
	// The links that leave the tree or loop do not exist for Open, so TestFS
	// must not find them listed either: test the subtrees that hold none.
	for _, dir := range []string{"k8s", "scripts"} {
		sub, err := fs.Sub(fsys, dir)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, p := range reachable {
			// fs.WalkDir, which TestFS uses, does not descend into linked directories.
			if rest, ok := strings.CutPrefix(p, dir+"/"); ok && !strings.Contains(rest, "shared/") && !strings.HasPrefix(rest, "current/") {
				want = append(want, rest)
			}
		}
		if err := fstest.TestFS(sub, want...); err != nil {
			t.Errorf("fstest.TestFS(%s): %v", dir, err)
		}
	}
}

// TestMatchesCheckout compares every name of the tree, as Open, Stat, Lstat,
// ReadLink, ReadFile and ReadDir see it, with the git CLI's checkout read
// through os.DirFS (which follows links the same way), except for the links
// leaving the tree, which os.DirFS follows and treefs must not.
func TestMatchesCheckout(t *testing.T) {
	f := newFixture(t)
	fsys := f.fs(t)
	disk := os.DirFS(f.dir)
	leaves := map[string]bool{"escape": true, "escape-deep": true, "absolute": true, "loop-a": true, "loop-b": true, "dangling": true}

	for _, name := range append(slices.Clone(reachable), "k8s", "k8s/auth", "k8s/current", "k8s/auth/shared", ".") {
		want, werr := fs.Stat(disk, name)
		got, gerr := fs.Stat(fsys, name)
		if werr != nil || gerr != nil {
			t.Errorf("Stat(%s): disk err %v, treefs err %v", name, werr, gerr)
			continue
		}
		if got.IsDir() != want.IsDir() || (!got.IsDir() && got.Size() != want.Size()) {
			t.Errorf("Stat(%s) = dir %v size %d, checkout has dir %v size %d", name, got.IsDir(), got.Size(), want.IsDir(), want.Size())
		}
		if got.Mode().Perm()&0o100 != want.Mode().Perm()&0o100 && !got.IsDir() {
			t.Errorf("Stat(%s) mode %v, checkout %v: executable bit differs", name, got.Mode(), want.Mode())
		}
		if got.IsDir() {
			ge, err := fs.ReadDir(fsys, name)
			if err != nil {
				t.Fatalf("ReadDir(%s): %v", name, err)
			}
			we, _ := fs.ReadDir(disk, name)
			var gn, wn []string
			for _, e := range ge {
				gn = append(gn, e.Name()+" "+e.Type().String())
			}
			for _, e := range we {
				if name == "." && e.Name() == ".git" {
					continue
				}
				wn = append(wn, e.Name()+" "+e.Type().String())
			}
			if name == "." || name == "vendor" {
				wn = slices.DeleteFunc(wn, func(s string) bool { return strings.HasPrefix(s, "vendor ") })
				gn = slices.DeleteFunc(gn, func(s string) bool { return strings.HasPrefix(s, "vendor ") })
			}
			if !slices.Equal(gn, wn) {
				t.Errorf("ReadDir(%s) =\n%v\ncheckout:\n%v", name, gn, wn)
			}
			continue
		}
		gb, err := fs.ReadFile(fsys, name)
		if err != nil {
			t.Fatalf("ReadFile(%s): %v", name, err)
		}
		wb, _ := fs.ReadFile(disk, name)
		if !bytes.Equal(gb, wb) {
			t.Errorf("ReadFile(%s) = %q, checkout %q", name, gb, wb)
		}
	}

	for name := range leaves {
		if _, err := fsys.Open(name); !errors.Is(err, fs.ErrNotExist) && !strings.Contains(fmt.Sprint(err), "too many levels") {
			t.Errorf("Open(%s) err = %v, want not exist (or a loop error)", name, err)
		}
		if _, err := fs.ReadFile(fsys, name); err == nil {
			t.Errorf("ReadFile(%s) succeeded for a link leaving the tree", name)
		}
		fi, err := fs.Lstat(fsys, name)
		if err != nil || fi.Mode().Type() != fs.ModeSymlink {
			t.Errorf("Lstat(%s) = %v, %v; want a symlink", fi, err, name)
		}
		target, err := fs.ReadLink(fsys, name)
		want, _ := os.Readlink(filepath.Join(f.dir, name))
		if err != nil || target != want {
			t.Errorf("ReadLink(%s) = %q, %v; want %q", name, target, err, want)
		}
	}
}

func TestLinksAndErrors(t *testing.T) {
	f := newFixture(t)
	fsys := f.fs(t)
	tests := []struct {
		name    string
		op      func() (string, error)
		want    string
		wantErr error
	}{
		{"readlink of a file is invalid", func() (string, error) { return fs.ReadLink(fsys, "README.md") }, "", fs.ErrInvalid},
		{"readlink in a linked directory", func() (string, error) { return fs.ReadLink(fsys, "k8s/current/values-prod.yaml") }, "values.yaml", nil},
		{"lstat of a link to a directory", func() (string, error) {
			fi, err := fs.Lstat(fsys, "k8s/current")
			if err != nil {
				return "", err
			}
			return fi.Mode().Type().String(), nil
		}, fs.ModeSymlink.String(), nil},
		{"stat follows a link to a directory", func() (string, error) {
			fi, err := fs.Stat(fsys, "k8s/current")
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("%v %s", fi.IsDir(), fi.Name()), nil
		}, "true current", nil},
		{"chain of links", func() (string, error) { b, err := fs.ReadFile(fsys, "k8s/chain"); return string(b), err }, "image:\n  tag: v1\n", nil},
		{"missing file", func() (string, error) { _, err := fs.ReadFile(fsys, "nope.yaml"); return "", err }, "", fs.ErrNotExist},
		{"file used as a directory", func() (string, error) { _, err := fs.ReadFile(fsys, "README.md/x"); return "", err }, "", fs.ErrNotExist},
		{"invalid path", func() (string, error) { _, err := fs.ReadFile(fsys, "../README.md"); return "", err }, "", fs.ErrInvalid},
		{"invalid path with a slash", func() (string, error) { _, err := fsys.Open("/README.md"); return "", err }, "", fs.ErrInvalid},
		{"through a link leaving the tree", func() (string, error) { _, err := fs.ReadFile(fsys, "escape/x"); return "", err }, "", fs.ErrNotExist},
		{"readfile of a directory", func() (string, error) { _, err := fs.ReadFile(fsys, "k8s"); return "", err }, "", nil},
		{"submodule reads empty", func() (string, error) { b, err := fs.ReadFile(fsys, "vendor/lib"); return fmt.Sprintf("%q", b), err }, `""`, nil},
		{"submodule is irregular", func() (string, error) {
			fi, err := fs.Stat(fsys, "vendor/lib")
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("%v %d", fi.Mode().Type() == fs.ModeIrregular, fi.Size()), nil
		}, "true 0", nil},
		{"nothing below a submodule", func() (string, error) { _, err := fsys.Open("vendor/lib/README"); return "", err }, "", fs.ErrNotExist},
		{"executable mode", func() (string, error) {
			fi, err := fs.Stat(fsys, "scripts/run.sh")
			if err != nil {
				return "", err
			}
			return fi.Mode().String(), nil
		}, "-r-xr-xr-x", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.op()
			if tt.name == "readfile of a directory" {
				if err == nil {
					t.Fatal("ReadFile of a directory succeeded")
				}
				return
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestSubmoduleListed(t *testing.T) {
	f := newFixture(t)
	es, err := fs.ReadDir(f.fs(t), "vendor")
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Name() != "lib" || es[0].Type() != fs.ModeIrregular || es[0].IsDir() {
		t.Fatalf("vendor lists %v, want one irregular entry lib", es)
	}
}

func TestOpenFileContract(t *testing.T) {
	f := newFixture(t)
	fsys := f.fs(t)
	fl, err := fsys.Open("k8s/auth/values.yaml")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 3)
	if n, err := fl.Read(buf); n != 3 || err != nil || string(buf) != "ima" {
		t.Fatalf("Read = %d %v %q", n, err, buf)
	}
	rest, err := io.ReadAll(fl)
	if err != nil || string(rest) != "ge:\n  tag: v1\n" {
		t.Fatalf("rest = %q, %v", rest, err)
	}
	if err := fl.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := fl.Read(buf); !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("Read after Close: %v, want ErrClosed", err)
	}
	if err := fl.Close(); !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("second Close: %v, want ErrClosed", err)
	}

	d, err := fsys.Open("k8s")
	if err != nil {
		t.Fatal(err)
	}
	rd := d.(fs.ReadDirFile)
	var names []string
	for {
		es, err := rd.ReadDir(2)
		for _, e := range es {
			names = append(names, e.Name())
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"auth", "auth-b", "auth.txt", "chain", "current", "via-link.yaml"}
	if !slices.Equal(names, want) {
		t.Fatalf("ReadDir(2) pages = %v, want %v (fs order: auth < auth-b < auth.txt)", names, want)
	}
	if _, err := d.Read(buf); err == nil {
		t.Fatal("Read on a directory succeeded")
	}
}

func TestAtRevisionErrors(t *testing.T) {
	f := newFixture(t)
	if _, _, err := treefs.AtRevision(nil, "main"); err == nil {
		t.Fatal("nil repository accepted")
	}
	_, _, err := treefs.AtRevision(f.repo, "no-such-branch")
	if err == nil || !strings.Contains(err.Error(), `"no-such-branch"`) {
		t.Fatalf("err = %v, want one naming the revision", err)
	}
	short := f.commit.String()[:8]
	if _, h, err := treefs.AtRevision(f.repo, short); err != nil || h != f.commit {
		t.Fatalf("AtRevision(%s) = %s, %v", short, h, err)
	}
}

// TestConcurrent reads the same files from many goroutines, through one FS
// and through several FS over the same repository, which share its
// (not goroutine-safe) object storer. Run with -race.
func TestConcurrent(t *testing.T) {
	f := newFixture(t)
	shared := f.fs(t)
	want := map[string][]byte{}
	for _, name := range reachable {
		b, err := os.ReadFile(filepath.Join(f.dir, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		want[name] = b
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 16 {
		fsys := shared
		if g%2 == 1 {
			fsys = f.fs(t)
		}
		wg.Go(func() {
			for i := range 20 {
				name := reachable[(g+i)%len(reachable)]
				got, err := fs.ReadFile(fsys, name)
				if err != nil {
					errs <- fmt.Errorf("goroutine %d: %s: %w", g, name, err)
					return
				}
				if !bytes.Equal(got, want[name]) {
					errs <- fmt.Errorf("goroutine %d: %s = %q, want %q", g, name, got, want[name])
					return
				}
				if _, err := fs.ReadDir(fsys, "k8s/current"); err != nil {
					errs <- fmt.Errorf("goroutine %d: readdir: %w", g, err)
					return
				}
				if err := fs.WalkDir(fsys, "k8s", func(string, fs.DirEntry, error) error { return nil }); err != nil {
					errs <- fmt.Errorf("goroutine %d: walk: %w", g, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
