package facts

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
)

// lockedFS serialises every read of a commit's tree with the repository's
// own lock (repo.Repo.Do): go-git storage is not safe for concurrent use, and
// the same storage also serves history walks. Each call holds the lock only
// for one file or directory, so renders of several applications of one
// repository interleave instead of queueing behind each other. Files are read
// whole when opened and directory entries are copied, so nothing returned
// touches the storage afterwards.
type lockedFS struct {
	fsys fs.FS
	lock func(func() error) error
	// storageErr is set (under lock) when a read failed for a reason other
	// than the file's absence: such a render is not cached.
	storageErr *error
}

func (l lockedFS) do(fn func() error) error {
	return l.lock(func() error {
		err := fn()
		if err != nil && isStorageError(err) && *l.storageErr == nil {
			*l.storageErr = err
		}
		return err
	})
}

// isStorageError tells a broken or closed clone apart from a missing file.
func isStorageError(err error) bool {
	return errors.Is(err, plumbing.ErrObjectNotFound) || errors.Is(err, os.ErrClosed) || errors.Is(err, errRepoClosed)
}

var errRepoClosed = errors.New("repository closed")

func (l lockedFS) Open(name string) (fs.File, error) {
	var f fs.File
	err := l.do(func() error {
		fi, err := fs.Stat(l.fsys, name)
		if err != nil {
			return err
		}
		info := staticInfo(fi)
		if fi.IsDir() {
			entries, err := l.readDir(name)
			if err != nil {
				return err
			}
			f = &memDir{info: info, entries: entries}
			return nil
		}
		data, err := fs.ReadFile(l.fsys, name)
		if err != nil {
			return err
		}
		f = &memFile{info: info, r: bytes.NewReader(data)}
		return nil
	})
	return f, err
}

func (l lockedFS) ReadFile(name string) ([]byte, error) {
	var data []byte
	err := l.do(func() error {
		var err error
		data, err = fs.ReadFile(l.fsys, name)
		return err
	})
	return data, err
}

func (l lockedFS) Stat(name string) (fs.FileInfo, error) {
	var fi fs.FileInfo
	err := l.do(func() error {
		s, err := fs.Stat(l.fsys, name)
		if err == nil {
			fi = staticInfo(s)
		}
		return err
	})
	return fi, err
}

func (l lockedFS) ReadDir(name string) ([]fs.DirEntry, error) {
	var out []fs.DirEntry
	err := l.do(func() error {
		var err error
		out, err = l.readDir(name)
		return err
	})
	return out, err
}

// readDir lists a directory with each entry's info read now. The caller
// holds the lock.
func (l lockedFS) readDir(name string) ([]fs.DirEntry, error) {
	entries, err := fs.ReadDir(l.fsys, name)
	if err != nil {
		return nil, err
	}
	out := make([]fs.DirEntry, 0, len(entries))
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			return nil, err
		}
		out = append(out, fs.FileInfoToDirEntry(staticInfo(fi)))
	}
	return out, nil
}

type fileInfo struct {
	name string
	size int64
	mode fs.FileMode
}

func staticInfo(fi fs.FileInfo) *fileInfo {
	return &fileInfo{name: fi.Name(), size: fi.Size(), mode: fi.Mode()}
}

func (i *fileInfo) Name() string       { return i.name }
func (i *fileInfo) Size() int64        { return i.size }
func (i *fileInfo) Mode() fs.FileMode  { return i.mode }
func (i *fileInfo) ModTime() time.Time { return time.Time{} }
func (i *fileInfo) IsDir() bool        { return i.mode.IsDir() }
func (i *fileInfo) Sys() any           { return nil }

type memFile struct {
	info *fileInfo
	r    *bytes.Reader
}

func (f *memFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *memFile) Read(p []byte) (int, error) { return f.r.Read(p) }
func (f *memFile) Close() error               { return nil }

type memDir struct {
	info    *fileInfo
	entries []fs.DirEntry
	off     int
}

func (d *memDir) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *memDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: errors.New("is a directory")}
}
func (d *memDir) Close() error { return nil }

// ReadDir follows fs.ReadDirFile: n <= 0 returns the rest, n > 0 at most n
// entries and io.EOF at the end.
func (d *memDir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.off:]
	if n <= 0 {
		d.off = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(rest))
	d.off += n
	return rest[:n], nil
}
