package monorepo

import (
	"fmt"
	"maps"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/memory"
)

// objects collects every object of the repository in memory, in creation
// order, so the whole repository can be written as one packfile at the end.
type objects struct {
	st    *memory.Storage
	order []plumbing.Hash
	seen  map[plumbing.Hash]bool
}

func newObjects() *objects {
	return &objects{st: memory.NewStorage(), seen: map[plumbing.Hash]bool{}}
}

// put stores an object once and remembers the order objects were made in.
func (o *objects) put(obj plumbing.EncodedObject) (plumbing.Hash, error) {
	h := obj.Hash()
	if o.seen[h] {
		return h, nil
	}
	if _, err := o.st.SetEncodedObject(obj); err != nil {
		return h, fmt.Errorf("store %s %s: %w", obj.Type(), h, err)
	}
	o.seen[h] = true
	o.order = append(o.order, h)
	return h, nil
}

func (o *objects) blob(content string) (plumbing.Hash, error) {
	obj := &plumbing.MemoryObject{}
	obj.SetType(plumbing.BlobObject)
	if _, err := obj.Write([]byte(content)); err != nil {
		return plumbing.ZeroHash, err
	}
	return o.put(obj)
}

// tree is the content of one branch's worktree: files by repo path, plus
// the hashes of directories already written, dropped when a file below
// them changes, so a commit only re-encodes the trees on its changed paths.
type tree struct {
	files map[string]string
	dirs  map[string]plumbing.Hash
}

func newTree() *tree { return &tree{files: map[string]string{}, dirs: map[string]plumbing.Hash{}} }

func (t *tree) clone() *tree {
	return &tree{files: maps.Clone(t.files), dirs: maps.Clone(t.dirs)}
}

// set writes a file and invalidates its directories.
func (t *tree) set(p, content string) {
	t.files[p] = content
	for d := path.Dir(p); ; d = path.Dir(d) {
		delete(t.dirs, d)
		if d == "." {
			return
		}
	}
}

// write stores the blobs and trees of the worktree and returns the root tree.
func (t *tree) write(o *objects) (plumbing.Hash, error) {
	// children[dir] = direct entries (files and subdirectories) of dir.
	children := map[string]map[string]bool{}
	for p := range t.files {
		for d, name := path.Dir(p), path.Base(p); ; d, name = path.Dir(d), path.Base(d) {
			if children[d] == nil {
				children[d] = map[string]bool{}
			}
			children[d][name] = true
			if d == "." {
				break
			}
		}
	}
	return t.writeDir(o, ".", children)
}

func (t *tree) writeDir(o *objects, dir string, children map[string]map[string]bool) (plumbing.Hash, error) {
	if h, ok := t.dirs[dir]; ok {
		return h, nil
	}
	// Visit names in order so objects are stored, and packed, in the same
	// order on every run.
	names := slices.Sorted(maps.Keys(children[dir]))
	var entries []object.TreeEntry
	for _, name := range names {
		p := name
		if dir != "." {
			p = dir + "/" + name
		}
		if content, ok := t.files[p]; ok {
			h, err := o.blob(content)
			if err != nil {
				return h, fmt.Errorf("blob %s: %w", p, err)
			}
			mode := filemode.Regular
			if strings.HasSuffix(p, ".sh") {
				mode = filemode.Executable
			}
			entries = append(entries, object.TreeEntry{Name: name, Mode: mode, Hash: h})
			continue
		}
		h, err := t.writeDir(o, p, children)
		if err != nil {
			return h, err
		}
		entries = append(entries, object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h})
	}
	// Git orders entries by name, comparing a directory as if its name
	// ended in "/"; fsck rejects any other order.
	sortKey := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	slices.SortFunc(entries, func(a, b object.TreeEntry) int { return strings.Compare(sortKey(a), sortKey(b)) })
	obj := &plumbing.MemoryObject{}
	if err := (&object.Tree{Entries: entries}).Encode(obj); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("encode tree %s: %w", dir, err)
	}
	h, err := o.put(obj)
	if err != nil {
		return h, fmt.Errorf("tree %s: %w", dir, err)
	}
	t.dirs[dir] = h
	return h, nil
}

// commit stores a commit object.
func (o *objects) commit(c *object.Commit) (plumbing.Hash, error) {
	obj := &plumbing.MemoryObject{}
	if err := c.Encode(obj); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("encode commit: %w", err)
	}
	return o.put(obj)
}

// writeRepo creates a bare repository at dir holding every object in one
// packfile, with the branch pointing at head and HEAD pointing at the branch.
func (o *objects) writeRepo(dir, branch string, head plumbing.Hash) error {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("create repository %s: directory is not empty", dir)
	} else if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("create repository %s: %w", dir, err)
	}
	ref := plumbing.NewBranchReferenceName(branch)
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		Bare:        true,
		InitOptions: git.InitOptions{DefaultBranch: ref},
	})
	if err != nil {
		return fmt.Errorf("init repository %s: %w", dir, err)
	}
	pw, ok := repo.Storer.(storer.PackfileWriter)
	if !ok {
		return fmt.Errorf("repository %s: storage cannot write packfiles", dir)
	}
	w, err := pw.PackfileWriter()
	if err != nil {
		return fmt.Errorf("repository %s: open packfile: %w", dir, err)
	}
	if _, err := packfile.NewEncoder(w, o.st, false).Encode(o.order, 10); err != nil {
		_ = w.Close()
		return fmt.Errorf("repository %s: write packfile: %w", dir, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("repository %s: close packfile: %w", dir, err)
	}
	if err := repo.Storer.SetReference(plumbing.NewHashReference(ref, head)); err != nil {
		return fmt.Errorf("repository %s: set %s: %w", dir, ref, err)
	}
	return nil
}
