// Package treefs exposes the tree of a git commit as a read-only io/fs.FS, so
// an application can be rendered at any revision without a checkout.
//
// Directories are git trees and files are blobs read from the repository's
// object storer only when a file is first read. Symbolic links are followed
// inside the tree by Open, Stat and ReadFile (as os.DirFS follows them on
// disk); Lstat and ReadLink report the link itself. A link whose target
// leaves the tree does not exist as far as this file system is concerned.
// Submodule entries appear as empty irregular files. Modification times are
// zero: a tree carries none.
//
// go-git's object storers are not safe for concurrent use, so every access
// to git objects made through this package is serialised by one lock. Other
// code that reads the same repository concurrently must bring its own.
package treefs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// gitMu serialises all object reads made by this package (see package doc).
var gitMu sync.Mutex

// maxLinkHops bounds symlink resolution, like the kernel's ELOOP limit.
const maxLinkHops = 40

// FS is the file system returned by New. Its methods are safe for concurrent use.
type FS struct {
	root *object.Tree

	mu    sync.Mutex
	trees map[string]*object.Tree // subtree cache by slash path; "." is root
}

var (
	_ fs.FS         = (*FS)(nil)
	_ fs.ReadDirFS  = (*FS)(nil)
	_ fs.ReadFileFS = (*FS)(nil)
	_ fs.StatFS     = (*FS)(nil)
	_ fs.ReadLinkFS = (*FS)(nil)
)

// New returns a read-only fs.FS over tree (for a commit: commit.Tree()).
// It implements fs.ReadDirFS, fs.ReadFileFS, fs.StatFS and fs.ReadLinkFS.
func New(tree *object.Tree) fs.FS {
	return &FS{root: tree, trees: map[string]*object.Tree{".": tree}}
}

// AtRevision resolves rev in repo (a branch, tag, full or short hash, HEAD~2,
// anything go-git's ResolveRevision accepts) and returns the file system of
// that commit's tree together with the commit hash.
func AtRevision(repo *git.Repository, rev string) (fs.FS, plumbing.Hash, error) {
	if repo == nil {
		return nil, plumbing.ZeroHash, errors.New("treefs: nil repository")
	}
	gitMu.Lock()
	defer gitMu.Unlock()
	h, err := repo.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		return nil, plumbing.ZeroHash, fmt.Errorf("resolve revision %q: %w", rev, err)
	}
	c, err := repo.CommitObject(*h)
	if err != nil {
		return nil, plumbing.ZeroHash, fmt.Errorf("revision %q: commit %s: %w", rev, h, err)
	}
	t, err := c.Tree()
	if err != nil {
		return nil, plumbing.ZeroHash, fmt.Errorf("revision %q: tree of commit %s: %w", rev, h, err)
	}
	return New(t), c.Hash, nil
}

// node is one resolved path: either the root, or an entry of a parent tree.
type node struct {
	name   string // slash path inside the FS, "." for the root
	parent *object.Tree
	entry  object.TreeEntry // zero for the root
	root   bool
}

func (n node) isDir() bool  { return n.root || n.entry.Mode == filemode.Dir }
func (n node) isLink() bool { return !n.root && n.entry.Mode == filemode.Symlink }

func (n node) mode() fs.FileMode {
	if n.root {
		return fs.ModeDir | 0o555
	}
	return entryMode(n.entry.Mode)
}

func entryMode(m filemode.FileMode) fs.FileMode {
	switch m {
	case filemode.Dir:
		return fs.ModeDir | 0o555
	case filemode.Executable:
		return 0o555
	case filemode.Symlink:
		return fs.ModeSymlink | 0o777
	case filemode.Submodule:
		return fs.ModeIrregular | 0o444
	default:
		return 0o444
	}
}

// subtree returns the tree of the directory at p, using and filling the cache.
// The caller holds gitMu.
func (f *FS) subtree(p string, parent *object.Tree, e object.TreeEntry) (*object.Tree, error) {
	f.mu.Lock()
	t, ok := f.trees[p]
	f.mu.Unlock()
	if ok {
		return t, nil
	}
	t, err := parent.Tree(e.Name)
	if err != nil {
		return nil, fmt.Errorf("read tree %s: %w", p, err)
	}
	f.mu.Lock()
	f.trees[p] = t
	f.mu.Unlock()
	return t, nil
}

// lookup finds name without following a symlink in its last element; links
// in intermediate elements are followed. The caller holds gitMu.
func (f *FS) lookup(op, name string, hops *int) (node, error) {
	if !fs.ValidPath(name) {
		return node{}, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	if name == "." {
		return node{name: ".", root: true}, nil
	}
	cur := node{name: ".", root: true}
	parts := strings.Split(name, "/")
	for i, part := range parts {
		dir, err := f.dirTree(op, name, cur, hops)
		if err != nil {
			return node{}, err
		}
		idx := slices.IndexFunc(dir.Entries, func(e object.TreeEntry) bool { return e.Name == part })
		if idx < 0 {
			return node{}, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
		p := part
		if !cur.root {
			p = cur.name + "/" + part
		}
		cur = node{name: p, parent: dir, entry: dir.Entries[idx]}
		if i < len(parts)-1 && cur.isLink() {
			if cur, err = f.follow(op, name, cur, hops); err != nil {
				return node{}, err
			}
		}
	}
	return cur, nil
}

// dirTree returns the tree behind a directory node.
func (f *FS) dirTree(op, name string, n node, hops *int) (*object.Tree, error) {
	if n.root {
		return f.root, nil
	}
	if !n.isDir() {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	}
	return f.subtree(n.name, n.parent, n.entry)
}

// follow resolves the symlink n until it names a non-link.
func (f *FS) follow(op, name string, n node, hops *int) (node, error) {
	for n.isLink() {
		*hops++
		if *hops > maxLinkHops {
			return node{}, &fs.PathError{Op: op, Path: name, Err: errors.New("too many levels of symbolic links")}
		}
		target, err := readBlob(n)
		if err != nil {
			return node{}, &fs.PathError{Op: op, Path: name, Err: err}
		}
		t := string(target)
		if path.IsAbs(t) {
			return node{}, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
		joined := path.Join(path.Dir(n.name), t)
		if joined == ".." || strings.HasPrefix(joined, "../") {
			return node{}, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
		if n, err = f.lookup(op, joined, hops); err != nil {
			return node{}, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
	}
	return n, nil
}

// resolve is lookup followed by following a final symlink.
func (f *FS) resolve(op, name string) (node, error) {
	hops := 0
	n, err := f.lookup(op, name, &hops)
	if err != nil {
		return node{}, err
	}
	return f.follow(op, name, n, &hops)
}

// readBlob reads the whole blob of a file or link entry. The caller holds gitMu.
func readBlob(n node) ([]byte, error) {
	file, err := n.parent.TreeEntryFile(&n.entry)
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", n.entry.Hash, err)
	}
	r, err := file.Reader()
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", n.entry.Hash, err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", n.entry.Hash, err)
	}
	return data, nil
}

// blobSize returns the size of a blob without reading its contents. The caller holds gitMu.
func blobSize(n node) (int64, error) {
	if n.root || n.isDir() || n.entry.Mode == filemode.Submodule {
		return 0, nil
	}
	file, err := n.parent.TreeEntryFile(&n.entry)
	if err != nil {
		return 0, fmt.Errorf("read blob %s: %w", n.entry.Hash, err)
	}
	return file.Size, nil
}

// info builds the FileInfo of n (the name shown is the base name).
func (f *FS) info(op string, n node) (*fileInfo, error) {
	size, err := blobSize(n)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: n.name, Err: err}
	}
	return &fileInfo{name: path.Base(n.name), size: size, mode: n.mode()}, nil
}

// Open opens the named file or directory for reading, following symlinks.
func (f *FS) Open(name string) (fs.File, error) {
	gitMu.Lock()
	defer gitMu.Unlock()
	n, err := f.resolve("open", name)
	if err != nil {
		return nil, err
	}
	fi, err := f.info("open", n)
	if err != nil {
		return nil, err
	}
	// Report the opened name's base, as os.DirFS does for a followed link.
	fi.name = path.Base(name)
	if n.isDir() {
		return &dirFile{fsys: f, n: n, info: fi, path: name}, nil
	}
	return &file{n: n, info: fi, path: name}, nil
}

// Stat returns the FileInfo of name, following symlinks.
func (f *FS) Stat(name string) (fs.FileInfo, error) {
	gitMu.Lock()
	defer gitMu.Unlock()
	n, err := f.resolve("stat", name)
	if err != nil {
		return nil, err
	}
	fi, err := f.info("stat", n)
	if err != nil {
		return nil, err
	}
	fi.name = path.Base(name)
	return fi, nil
}

// Lstat returns the FileInfo of name without following a final symlink.
func (f *FS) Lstat(name string) (fs.FileInfo, error) {
	gitMu.Lock()
	defer gitMu.Unlock()
	hops := 0
	n, err := f.lookup("lstat", name, &hops)
	if err != nil {
		return nil, err
	}
	return f.info("lstat", n)
}

// ReadLink returns the target of the symbolic link name.
func (f *FS) ReadLink(name string) (string, error) {
	gitMu.Lock()
	defer gitMu.Unlock()
	hops := 0
	n, err := f.lookup("readlink", name, &hops)
	if err != nil {
		return "", err
	}
	if !n.isLink() {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	target, err := readBlob(n)
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: err}
	}
	return string(target), nil
}

// ReadFile reads the whole named file, following symlinks.
func (f *FS) ReadFile(name string) ([]byte, error) {
	gitMu.Lock()
	defer gitMu.Unlock()
	n, err := f.resolve("read", name)
	if err != nil {
		return nil, err
	}
	if n.isDir() {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("is a directory")}
	}
	if n.entry.Mode == filemode.Submodule {
		return []byte{}, nil
	}
	data, err := readBlob(n)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return data, nil
}

// ReadDir lists the named directory sorted by name, following symlinks to it.
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	gitMu.Lock()
	defer gitMu.Unlock()
	n, err := f.resolve("readdir", name)
	if err != nil {
		return nil, err
	}
	if !n.isDir() {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	return f.entries(n)
}

// entries lists a directory node. The caller holds gitMu.
func (f *FS) entries(n node) ([]fs.DirEntry, error) {
	hops := 0
	t, err := f.dirTree("readdir", n.name, n, &hops)
	if err != nil {
		return nil, err
	}
	out := make([]fs.DirEntry, 0, len(t.Entries))
	for _, e := range t.Entries {
		p := e.Name
		if !n.root {
			p = n.name + "/" + e.Name
		}
		out = append(out, &dirEntry{fsys: f, n: node{name: p, parent: t, entry: e}})
	}
	// Git orders a directory "a" as "a/", which differs from fs.ReadDir's
	// plain name order when a sibling such as "a.txt" or "a-b" exists.
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

type fileInfo struct {
	name string
	size int64
	mode fs.FileMode
}

func (i *fileInfo) Name() string       { return i.name }
func (i *fileInfo) Size() int64        { return i.size }
func (i *fileInfo) Mode() fs.FileMode  { return i.mode }
func (i *fileInfo) ModTime() time.Time { return time.Time{} }
func (i *fileInfo) IsDir() bool        { return i.mode.IsDir() }
func (i *fileInfo) Sys() any           { return nil }

type dirEntry struct {
	fsys *FS
	n    node
}

func (d *dirEntry) Name() string      { return d.n.entry.Name }
func (d *dirEntry) IsDir() bool       { return d.n.isDir() }
func (d *dirEntry) Type() fs.FileMode { return d.n.mode().Type() }
func (d *dirEntry) Info() (fs.FileInfo, error) {
	gitMu.Lock()
	defer gitMu.Unlock()
	return d.fsys.info("stat", d.n)
}
func (d *dirEntry) String() string { return fs.FormatDirEntry(d) }

// file is an open regular file; its blob is read on the first Read.
type file struct {
	n      node
	info   *fileInfo
	path   string
	r      *bytes.Reader
	closed bool
}

func (f *file) Stat() (fs.FileInfo, error) {
	if f.closed {
		return nil, &fs.PathError{Op: "stat", Path: f.path, Err: fs.ErrClosed}
	}
	return f.info, nil
}

func (f *file) load(op string) error {
	if f.closed {
		return &fs.PathError{Op: op, Path: f.path, Err: fs.ErrClosed}
	}
	if f.r != nil {
		return nil
	}
	if f.n.entry.Mode == filemode.Submodule {
		f.r = bytes.NewReader(nil)
		return nil
	}
	gitMu.Lock()
	data, err := readBlob(f.n)
	gitMu.Unlock()
	if err != nil {
		return &fs.PathError{Op: op, Path: f.path, Err: err}
	}
	f.r = bytes.NewReader(data)
	return nil
}

func (f *file) Read(p []byte) (int, error) {
	if err := f.load("read"); err != nil {
		return 0, err
	}
	return f.r.Read(p)
}

func (f *file) ReadAt(p []byte, off int64) (int, error) {
	if err := f.load("read"); err != nil {
		return 0, err
	}
	return f.r.ReadAt(p, off)
}

func (f *file) Seek(offset int64, whence int) (int64, error) {
	if err := f.load("seek"); err != nil {
		return 0, err
	}
	return f.r.Seek(offset, whence)
}

func (f *file) Close() error {
	if f.closed {
		return &fs.PathError{Op: "close", Path: f.path, Err: fs.ErrClosed}
	}
	f.closed = true
	f.r = nil
	return nil
}

// dirFile is an open directory.
type dirFile struct {
	fsys    *FS
	n       node
	info    *fileInfo
	path    string
	entries []fs.DirEntry
	listed  bool
	closed  bool
}

func (d *dirFile) Stat() (fs.FileInfo, error) {
	if d.closed {
		return nil, &fs.PathError{Op: "stat", Path: d.path, Err: fs.ErrClosed}
	}
	return d.info, nil
}

func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.path, Err: errors.New("is a directory")}
}

func (d *dirFile) Close() error {
	if d.closed {
		return &fs.PathError{Op: "close", Path: d.path, Err: fs.ErrClosed}
	}
	d.closed = true
	return nil
}

// ReadDir follows the fs.ReadDirFile contract: n > 0 returns at most n
// entries and io.EOF at the end; n <= 0 returns all remaining entries.
func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	if d.closed {
		return nil, &fs.PathError{Op: "readdir", Path: d.path, Err: fs.ErrClosed}
	}
	if !d.listed {
		gitMu.Lock()
		es, err := d.fsys.entries(d.n)
		gitMu.Unlock()
		if err != nil {
			return nil, err
		}
		d.entries, d.listed = es, true
	}
	if n <= 0 {
		out := d.entries
		d.entries = nil
		return out, nil
	}
	if len(d.entries) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(d.entries))
	out := d.entries[:n:n]
	d.entries = d.entries[n:]
	return out, nil
}
