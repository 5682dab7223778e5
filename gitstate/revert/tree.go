package revert

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// overlay keeps the objects a plan creates in memory over the clone's
// storage, so planning writes nothing: Commit copies them into the clone.
type overlay struct {
	base  storer.EncodedObjectStorer
	mem   map[plumbing.Hash]plumbing.EncodedObject
	order []plumbing.Hash
}

func newOverlay(base storer.EncodedObjectStorer) *overlay {
	return &overlay{base: base, mem: map[plumbing.Hash]plumbing.EncodedObject{}}
}

func (o *overlay) NewEncodedObject() plumbing.EncodedObject { return &plumbing.MemoryObject{} }

func (o *overlay) SetEncodedObject(obj plumbing.EncodedObject) (plumbing.Hash, error) {
	h := obj.Hash()
	if _, ok := o.mem[h]; !ok {
		o.mem[h] = obj
		o.order = append(o.order, h)
	}
	return h, nil
}

func (o *overlay) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	if obj, ok := o.mem[h]; ok && (t == plumbing.AnyObject || obj.Type() == t) {
		return obj, nil
	}
	return o.base.EncodedObject(t, h)
}

func (o *overlay) IterEncodedObjects(t plumbing.ObjectType) (storer.EncodedObjectIter, error) {
	return nil, errors.New("revert: listing objects is not supported")
}

func (o *overlay) HasEncodedObject(h plumbing.Hash) error {
	if _, ok := o.mem[h]; ok {
		return nil
	}
	return o.base.HasEncodedObject(h)
}

func (o *overlay) EncodedObjectSize(h plumbing.Hash) (int64, error) {
	if obj, ok := o.mem[h]; ok {
		return obj.Size(), nil
	}
	return o.base.EncodedObjectSize(h)
}

func (o *overlay) AddAlternate(string) error {
	return errors.New("revert: alternates are not supported")
}

// entry is a tree entry; the zero entry means absent.
type entry struct {
	mode filemode.FileMode
	hash plumbing.Hash
}

func (e entry) present() bool { return e.mode != 0 }
func (e entry) isDir() bool   { return e.mode == filemode.Dir }
func (e entry) isFile() bool {
	return e.mode == filemode.Regular || e.mode == filemode.Executable || e.mode == filemode.Deprecated
}

// treeEntries reads a tree as name → entry; the zero hash is the empty tree.
func treeEntries(st storer.EncodedObjectStorer, h plumbing.Hash) (map[string]entry, error) {
	out := map[string]entry{}
	if h.IsZero() {
		return out, nil
	}
	t, err := object.GetTree(st, h)
	if err != nil {
		return nil, fmt.Errorf("tree %s: %w", h, err)
	}
	for _, e := range t.Entries {
		out[e.Name] = entry{mode: e.Mode, hash: e.Hash}
	}
	return out, nil
}

// writeTree stores a tree (sorted as git sorts) and returns its hash; an
// empty tree is the zero hash, since git records no empty directories.
func writeTree(st storer.EncodedObjectStorer, entries map[string]entry) (plumbing.Hash, error) {
	if len(entries) == 0 {
		return plumbing.ZeroHash, nil
	}
	t := &object.Tree{}
	for name, e := range entries {
		t.Entries = append(t.Entries, object.TreeEntry{Name: name, Mode: e.mode, Hash: e.hash})
	}
	sort.Sort(object.TreeEntrySorter(t.Entries))
	obj := st.NewEncodedObject()
	if err := t.Encode(obj); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("encode tree: %w", err)
	}
	return st.SetEncodedObject(obj)
}

// rootTree writes the empty tree object when a whole commit tree is empty
// (git does record that one).
func rootTree(st storer.EncodedObjectStorer, h plumbing.Hash) (plumbing.Hash, error) {
	if !h.IsZero() {
		return h, nil
	}
	obj := st.NewEncodedObject()
	if err := (&object.Tree{}).Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return st.SetEncodedObject(obj)
}

func readBlob(st storer.EncodedObjectStorer, h plumbing.Hash) ([]byte, error) {
	obj, err := st.EncodedObject(plumbing.BlobObject, h)
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", h, err)
	}
	r, err := obj.Reader()
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", h, err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", h, err)
	}
	return data, nil
}

func writeBlob(st storer.EncodedObjectStorer, data []byte) (plumbing.Hash, error) {
	obj := st.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := w.Write(data); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return st.SetEncodedObject(obj)
}

// merger merges three trees as git's merge does without rename detection,
// collecting the paths that conflict.
type merger struct {
	st        storer.EncodedObjectStorer
	conflicts []string
}

// mergeTrees merges the changes base→ours and base→theirs of the directory dir.
func (m *merger) mergeTrees(dir string, base, ours, theirs plumbing.Hash) (plumbing.Hash, error) {
	if ours == theirs || base == theirs {
		return ours, nil
	}
	if base == ours {
		return theirs, nil
	}
	eb, err := treeEntries(m.st, base)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	eo, err := treeEntries(m.st, ours)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	et, err := treeEntries(m.st, theirs)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	names := map[string]bool{}
	for _, es := range []map[string]entry{eb, eo, et} {
		for n := range es {
			names[n] = true
		}
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	slices.Sort(sorted)
	out := map[string]entry{}
	for _, name := range sorted {
		p := name
		if dir != "" {
			p = dir + "/" + name
		}
		e, err := m.mergeEntry(p, eb[name], eo[name], et[name])
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if e.present() {
			out[name] = e
		}
	}
	return writeTree(m.st, out)
}

// dirOrAbsent says whether e is a directory or nothing.
func dirOrAbsent(e entry) bool { return !e.present() || e.isDir() }

func (m *merger) mergeEntry(p string, b, o, t entry) (entry, error) {
	switch {
	case o == t || b == t:
		return o, nil
	case b == o:
		return t, nil
	case dirOrAbsent(b) && dirOrAbsent(o) && dirOrAbsent(t) && (o.isDir() || t.isDir()):
		// Both sides changed the directory (one may have removed it): merge
		// inside, where a file changed on one side and removed on the other
		// conflicts.
		h, err := m.mergeTrees(p, b.hash, o.hash, t.hash)
		if err != nil || h.IsZero() {
			return entry{}, err
		}
		return entry{mode: filemode.Dir, hash: h}, nil
	case o.isFile() && t.isFile() && (b.isFile() || !b.present()):
		mode, ok := o.mode, true
		switch {
		case o.mode == t.mode:
		case b.mode == o.mode:
			mode = t.mode
		case b.mode == t.mode:
		default:
			ok = false
		}
		var base []byte
		var err error
		if b.present() {
			if base, err = readBlob(m.st, b.hash); err != nil {
				return entry{}, err
			}
		}
		ours, err := readBlob(m.st, o.hash)
		if err != nil {
			return entry{}, err
		}
		theirs, err := readBlob(m.st, t.hash)
		if err != nil {
			return entry{}, err
		}
		merged, clean := merge3(base, ours, theirs)
		if !ok || !clean {
			m.conflicts = append(m.conflicts, p)
			return o, nil
		}
		h, err := writeBlob(m.st, merged)
		if err != nil {
			return entry{}, err
		}
		return entry{mode: mode, hash: h}, nil
	}
	// Changed on one side, removed on the other; a file against a directory;
	// symbolic links or submodules changed differently.
	m.conflicts = append(m.conflicts, p)
	return o, nil
}

// findEntry returns the entry at a slash path of a tree (absent when missing).
func findEntry(st storer.EncodedObjectStorer, root plumbing.Hash, p string) (entry, error) {
	cur := entry{mode: filemode.Dir, hash: root}
	for _, name := range strings.Split(p, "/") {
		if !cur.isDir() {
			return entry{}, nil
		}
		es, err := treeEntries(st, cur.hash)
		if err != nil {
			return entry{}, err
		}
		cur = es[name]
	}
	return cur, nil
}

// setEntry returns root with the entry at p replaced by e (removed when e is
// absent), writing the changed trees. Directories left empty disappear.
func setEntry(st storer.EncodedObjectStorer, root plumbing.Hash, p string, e entry) (plumbing.Hash, error) {
	name, rest, nested := strings.Cut(p, "/")
	es, err := treeEntries(st, root)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if nested {
		var sub plumbing.Hash
		if cur := es[name]; cur.isDir() {
			sub = cur.hash
		}
		h, err := setEntry(st, sub, rest, e)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		e = entry{}
		if !h.IsZero() {
			e = entry{mode: filemode.Dir, hash: h}
		}
	}
	if e.present() {
		es[name] = e
	} else {
		delete(es, name)
	}
	return writeTree(st, es)
}

// withPaths returns root with every path set to its entry in source: the
// tree `git checkout --no-overlay source -- paths` leaves in the index.
func withPaths(st storer.EncodedObjectStorer, root, source plumbing.Hash, paths []string) (plumbing.Hash, error) {
	for _, p := range paths {
		if p == "" {
			root = source
			continue
		}
		e, err := findEntry(st, source, p)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if root, err = setEntry(st, root, p, e); err != nil {
			return plumbing.ZeroHash, err
		}
	}
	return root, nil
}

// under reports whether the slash path p is one of paths or inside one.
func under(p string, paths []string) bool {
	for _, q := range paths {
		if q == "" || p == q || strings.HasPrefix(p, q+"/") {
			return true
		}
	}
	return false
}
