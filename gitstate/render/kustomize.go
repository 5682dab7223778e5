package render

import (
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// renderKustomize runs kustomize's krusty on dir with its default options
// (as `kustomize build`): load restrictions to the kustomization root, no
// plugins, no Helm inflation.
func renderKustomize(fsys fs.FS, dir string) ([]*unstructured.Unstructured, error) {
	lfs := newLazyFS(fsys)
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(lfs, "/"+dir)
	if err != nil {
		if lfs.err != nil {
			// A file kustomize needed may have been left out: say why.
			return nil, fmt.Errorf("kustomize %s: %w (reading the repository: %v)", dir, err, lfs.err)
		}
		return nil, fmt.Errorf("kustomize %s: %w", dir, err)
	}
	y, err := rm.AsYaml()
	if err != nil {
		return nil, fmt.Errorf("kustomize %s: %w", dir, err)
	}
	return Decode(path.Join(dir, "kustomization.yaml"), y)
}

// lazyFS is a kustomize file system over an fs.FS that copies a directory
// into memory the first time kustomize touches a path in it, so rendering
// one overlay of a large monorepo reads only the directories it refers to.
// Writes go to memory only and never reach the source.
type lazyFS struct {
	filesys.FileSystem // in memory, rooted at "/"
	src                fs.FS

	mu     sync.Mutex
	loaded map[string]bool // slash dirs of src already copied
	total  int64
	err    error // the first file left out of memory, reported with kustomize's error
}

func newLazyFS(src fs.FS) *lazyFS {
	return &lazyFS{FileSystem: filesys.MakeFsInMemory(), src: src, loaded: map[string]bool{}}
}

// srcPath maps an absolute kustomize path to a path in src.
func srcPath(p string) (string, bool) {
	p = filepath.ToSlash(filepath.Clean(p))
	if !strings.HasPrefix(p, "/") {
		return "", false
	}
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return ".", true
	}
	return p, fs.ValidPath(p)
}

// ensure copies every directory from the root down to p (and p itself when
// it is a directory) into memory; with recursive, everything below p too.
func (l *lazyFS) ensure(p string, recursive bool) {
	sp, ok := srcPath(p)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	dirs := []string{"."}
	if sp != "." {
		parts := strings.Split(sp, "/")
		for i := range parts {
			dirs = append(dirs, strings.Join(parts[:i+1], "/"))
		}
	}
	for i, d := range dirs {
		if !l.loadDir(d, recursive && i == len(dirs)-1) {
			return
		}
	}
}

// loadDir copies one directory's files; it reports false when d is not a
// directory of src.
func (l *lazyFS) loadDir(d string, recursive bool) bool {
	if l.loaded[d] && !recursive {
		return true
	}
	fi, err := fs.Stat(l.src, d)
	if err != nil || !fi.IsDir() {
		return false
	}
	if !l.loaded[d] {
		entries, err := fs.ReadDir(l.src, d)
		if err != nil {
			l.fail(err)
			return false
		}
		if err := l.FileSystem.MkdirAll("/" + d); err != nil {
			l.fail(err)
			return false
		}
		for _, e := range entries {
			name := path.Join(d, e.Name())
			if e.IsDir() {
				if err := l.FileSystem.MkdirAll("/" + name); err != nil {
					l.fail(err)
				}
				continue
			}
			data, err := readFile(l.src, name)
			if err != nil {
				l.fail(err)
				continue
			}
			l.total += int64(len(data))
			if l.total > MaxTotalSize {
				l.fail(fmt.Errorf("more than %d bytes read", MaxTotalSize))
				return false
			}
			if err := l.FileSystem.WriteFile("/"+name, data); err != nil {
				l.fail(err)
			}
		}
		l.loaded[d] = true
	}
	if recursive {
		entries, _ := fs.ReadDir(l.src, d)
		for _, e := range entries {
			if e.IsDir() {
				l.loadDir(path.Join(d, e.Name()), true)
			}
		}
	}
	return true
}

func (l *lazyFS) fail(err error) {
	if l.err == nil {
		l.err = err
	}
}

func (l *lazyFS) Open(p string) (filesys.File, error) {
	l.ensure(filepath.Dir(p), false)
	return l.FileSystem.Open(p)
}

func (l *lazyFS) IsDir(p string) bool {
	l.ensure(p, false)
	return l.FileSystem.IsDir(p)
}

func (l *lazyFS) ReadDir(p string) ([]string, error) {
	l.ensure(p, false)
	return l.FileSystem.ReadDir(p)
}

func (l *lazyFS) CleanedAbs(p string) (filesys.ConfirmedDir, string, error) {
	l.ensure(p, false)
	l.ensure(filepath.Dir(p), false)
	return l.FileSystem.CleanedAbs(p)
}

func (l *lazyFS) Exists(p string) bool {
	l.ensure(filepath.Dir(p), false)
	l.ensure(p, false)
	return l.FileSystem.Exists(p)
}

func (l *lazyFS) Glob(pattern string) ([]string, error) {
	// Load the pattern's literal prefix directory and everything below it.
	dir := pattern
	if i := strings.IndexAny(pattern, "*?["); i >= 0 {
		dir = filepath.Dir(pattern[:i+1])
	}
	l.ensure(dir, true)
	return l.FileSystem.Glob(pattern)
}

func (l *lazyFS) ReadFile(p string) ([]byte, error) {
	l.ensure(filepath.Dir(p), false)
	return l.FileSystem.ReadFile(p)
}

func (l *lazyFS) Walk(p string, fn filepath.WalkFunc) error {
	l.ensure(p, true)
	return l.FileSystem.Walk(p, fn)
}
