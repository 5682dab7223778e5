package repo

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestCacheIsPrivate: the clone cache holds the fleet's manifests (and a Helm values file can
// hold anything). Even under a umask of 0 the cache directory and everything fleetdeck puts
// directly in it (clones, path indexes) are 0700 directories or 0600 files, so nothing below
// them can be reached by another user — go-git creates the files inside a clone with the
// umask's modes, which is why the check is on the entries of the cache, not on every file.
func TestCacheIsPrivate(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	remote := remoteWithCommits(t, 3)
	cache := filepath.Join(t.TempDir(), "fleetdeck", "git")
	r, err := Open(context.Background(), repoCfg(remote.dir), cache, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.PathCommits(r.Head(), []string{"f"}, 10); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(cache)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatal("the cache is empty: no clone?")
	}
	paths := []string{cache}
	for _, e := range entries {
		paths = append(paths, filepath.Join(cache, e.Name()))
	}
	for _, p := range paths {
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		want := fs.FileMode(0o600)
		if fi.IsDir() {
			want = 0o700
		}
		if perm := fi.Mode().Perm(); perm != want {
			t.Errorf("%s has mode %o, want %o", p, perm, want)
		}
	}
}
