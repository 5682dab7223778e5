package repo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
)

// IndexInfo describes a clone's path index (see PathCommits).
type IndexInfo struct {
	// File is where the index lives, inside the clone.
	File string
	// Tip is the head the index was last updated for; Commits and Paths are
	// what it holds (zero until it is read: it is read on the first history
	// question after a restart).
	Tip     plumbing.Hash
	Commits int
	Paths   int
	// Bytes is the file's size after the last update.
	Bytes int64
	// LastUpdate is how long the last update took, Added how many commits it
	// indexed and Dropped how many unreachable ones it removed (a force push).
	LastUpdate time.Duration
	Added      int
	Dropped    int
	// Rebuilt says why the last update started from nothing although a file
	// was there (corrupt, other format version).
	Rebuilt string
	// Err is the last failure to read or update the index; history questions
	// then walk the trees, with the same answers, more slowly.
	Err error
}

// IndexInfo reports the path index.
func (r *Repo) IndexInfo() IndexInfo {
	r.smu.Lock()
	info := r.ixInfo
	r.smu.Unlock()
	info.File = r.indexFile()
	r.mu.Lock()
	if r.ix != nil {
		info.Tip, info.Commits, info.Paths = r.ix.tip, r.ix.len(), len(r.ix.pathEnd)
	}
	r.mu.Unlock()
	return info
}

func (r *Repo) indexFile() string { return filepath.Join(r.dir, indexDirName, indexFileName) }

func (r *Repo) setIndexErr(err error) {
	r.smu.Lock()
	r.ixInfo.Err = err
	r.smu.Unlock()
}

// loadedIndex is the path index, read from disk on first use after a
// restart. A file that cannot be read is removed, so the next fetch builds
// a new one; meanwhile history walks the trees. Callers hold r.mu.
func (r *Repo) loadedIndex() *pathIndex {
	if r.ix == nil && r.ixDisk {
		r.ixDisk = false
		ix, err := loadPathIndex(r.indexFile())
		if err != nil {
			_ = os.Remove(r.indexFile())
			r.setIndexErr(fmt.Errorf("%w (history walks the trees until the next fetch rebuilds it)", err))
			return nil
		}
		r.ix = ix
	}
	return r.ix
}

// updateIndex brings the path index up to head after a fetch: only the
// commits it lacks are read. Callers hold r.fetchMu. A failure is recorded
// in IndexInfo, never returned: history works without the index.
func (r *Repo) updateIndex(ctx context.Context, head plumbing.Hash) {
	if head.IsZero() {
		return
	}
	start := time.Now()
	file := r.indexFile()
	r.mu.Lock()
	cur := r.ix
	r.mu.Unlock()
	if cur != nil && cur.tip == head {
		return
	}
	rebuilt := ""
	if cur == nil {
		tip, err := readIndexHeader(file)
		switch {
		case err == nil && tip == head:
			// Up to date on disk: read it on the first history question.
			r.mu.Lock()
			r.ixDisk = true
			r.mu.Unlock()
			return
		case err == nil:
			if cur, err = loadPathIndex(file); err != nil {
				rebuilt = err.Error()
			}
		case !errors.Is(err, os.ErrNotExist):
			rebuilt = err.Error()
		}
	}
	b, err := newIndexBuilder(r.dir)
	if err != nil {
		r.setIndexErr(fmt.Errorf("update path index: %w", err))
		return
	}
	ix, stats, err := b.update(ctx, cur, head)
	b.close()
	if err != nil {
		r.setIndexErr(fmt.Errorf("update path index to %s: %w", head, err))
		return
	}
	size, werr := writePathIndex(file, ix)
	r.mu.Lock()
	r.ix, r.ixDisk = ix, false
	r.mu.Unlock()
	r.smu.Lock()
	r.ixInfo = IndexInfo{Bytes: size, LastUpdate: time.Since(start), Added: stats.added, Dropped: stats.dropped, Rebuilt: rebuilt, Err: werr}
	r.smu.Unlock()
}
