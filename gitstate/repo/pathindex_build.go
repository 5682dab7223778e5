package repo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	commitgraph "github.com/go-git/go-git/v5/plumbing/format/commitgraph/v2"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// emptyTree is git's well-known empty tree, which a repository need not store.
var emptyTree = plumbing.NewHash("4b825dc642cb6eb9a060e54bf8d69288fbce0490")

// maxTreeCache bounds the raw tree objects an index update keeps: commits
// are indexed parents first, so a commit's first parent's trees were read
// for the previous commit and are still here.
const maxTreeCache = 32 << 20

// indexBuilder reads what an index update needs from a storage of its own,
// so the clone's readers are not held while thousands of commits are read.
type indexBuilder struct {
	st        *filesystem.Storage
	graph     commitgraph.Index
	trees     map[plumbing.Hash][]byte
	treeBytes int
	paths     map[string]uint32 // every path id, old and new
	pathList  []string          // new paths, in id order after the old ones
	oldPaths  int
}

func newIndexBuilder(dir string) (*indexBuilder, error) {
	st, _, err := openRepo(dir, false)
	if err != nil {
		return nil, err
	}
	b := &indexBuilder{st: st, trees: map[plumbing.Hash][]byte{}}
	// The commit-graph file, when git wrote one, gives parents, tree and
	// time without inflating commit objects.
	if g, err := commitgraph.OpenChainOrFileIndex(st.Filesystem()); err == nil {
		b.graph = g
	}
	return b, nil
}

func (b *indexBuilder) close() {
	if b.graph != nil {
		_ = b.graph.Close()
	}
	_ = b.st.Close()
}

// readNode reads a commit's tree, parents and committer time, from the
// commit-graph file when it has the commit, else from the commit object.
func readNode(st storer.EncodedObjectStorer, graph commitgraph.Index, h plumbing.Hash) (*node, error) {
	if graph != nil {
		if i, err := graph.GetIndexByHash(h); err == nil {
			if cd, err := graph.GetCommitDataByIndex(i); err == nil {
				return &node{tree: cd.TreeHash, parents: cd.ParentHashes, when: cd.When.Unix()}, nil
			}
		}
	}
	obj, err := st.EncodedObject(plumbing.CommitObject, h)
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", h, err)
	}
	data, err := readObject(obj)
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", h, err)
	}
	n, err := parseCommitHeader(data)
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", h, err)
	}
	return n, nil
}

func (b *indexBuilder) tree(h plumbing.Hash) ([]byte, error) {
	if h.IsZero() || h == emptyTree {
		return nil, nil
	}
	if d, ok := b.trees[h]; ok {
		return d, nil
	}
	obj, err := b.st.EncodedObject(plumbing.TreeObject, h)
	if err != nil {
		return nil, fmt.Errorf("tree %s: %w", h, err)
	}
	d, err := readObject(obj)
	if err != nil {
		return nil, fmt.Errorf("tree %s: %w", h, err)
	}
	if b.treeBytes+len(d) > maxTreeCache {
		clear(b.trees)
		b.treeBytes = 0
	}
	b.trees[h] = d
	b.treeBytes += len(d)
	return d, nil
}

// rawEntry is one tree entry, its name pointing into the tree's bytes.
type rawEntry struct {
	name []byte
	mode uint32
	hash plumbing.Hash
}

func (e rawEntry) isDir() bool { return e.mode == 0o40000 }

// nextEntry parses the first entry of a tree object's remaining bytes.
func nextEntry(data []byte) (rawEntry, []byte, error) {
	sp := bytes.IndexByte(data, ' ')
	if sp <= 0 {
		return rawEntry{}, nil, errBadTree
	}
	var e rawEntry
	for _, c := range data[:sp] {
		if c < '0' || c > '7' || e.mode > 0o7777777 {
			return rawEntry{}, nil, errBadTree
		}
		e.mode = e.mode<<3 | uint32(c-'0')
	}
	rest := data[sp+1:]
	nul := bytes.IndexByte(rest, 0)
	if nul < 0 || len(rest) < nul+1+20 {
		return rawEntry{}, nil, errBadTree
	}
	e.name = rest[:nul]
	copy(e.hash[:], rest[nul+1:nul+21])
	return e, rest[nul+21:], nil
}

// compareEntries orders entries as git sorts a tree: by name, a directory's
// name compared as if followed by '/'. Equal means the same name and both
// directories or both not.
func compareEntries(a, b rawEntry) int {
	n := min(len(a.name), len(b.name))
	if c := bytes.Compare(a.name[:n], b.name[:n]); c != 0 {
		return c
	}
	next := func(e rawEntry) byte {
		switch {
		case len(e.name) > n:
			return e.name[n]
		case e.isDir():
			return '/'
		}
		return 0
	}
	ca, cb := next(a), next(b)
	if ca != cb {
		return int(ca) - int(cb)
	}
	return len(a.name) - len(b.name)
}

// diff records every path whose entry differs between trees a and b (zero:
// absent), at every depth, as samePath compares them: a directory on one side
// only contributes everything below it, and nothing lies below a file.
func (b *indexBuilder) diff(prefix string, ha, hb plumbing.Hash, rec func(string)) error {
	if ha == hb {
		return nil
	}
	da, err := b.tree(ha)
	if err != nil {
		return err
	}
	db, err := b.tree(hb)
	if err != nil {
		return err
	}
	join := func(name []byte) string {
		if prefix == "" {
			return string(name)
		}
		return prefix + "/" + string(name)
	}
	var ea, eb rawEntry
	okA, okB := len(da) > 0, len(db) > 0
	if okA {
		if ea, da, err = nextEntry(da); err != nil {
			return fmt.Errorf("tree %s: %w", ha, err)
		}
	}
	if okB {
		if eb, db, err = nextEntry(db); err != nil {
			return fmt.Errorf("tree %s: %w", hb, err)
		}
	}
	advance := func(data *[]byte, e *rawEntry, ok *bool, h plumbing.Hash) error {
		if len(*data) == 0 {
			*ok = false
			return nil
		}
		var err error
		if *e, *data, err = nextEntry(*data); err != nil {
			return fmt.Errorf("tree %s: %w", h, err)
		}
		return nil
	}
	for okA || okB {
		c := 0
		switch {
		case !okA:
			c = 1
		case !okB:
			c = -1
		default:
			c = compareEntries(ea, eb)
		}
		switch {
		case c == 0:
			if ea.hash != eb.hash || ea.mode != eb.mode {
				p := join(ea.name)
				rec(p)
				if ea.isDir() && eb.isDir() {
					if err := b.diff(p, ea.hash, eb.hash, rec); err != nil {
						return err
					}
				}
			}
			if err := advance(&da, &ea, &okA, ha); err != nil {
				return err
			}
			if err := advance(&db, &eb, &okB, hb); err != nil {
				return err
			}
		case c < 0:
			p := join(ea.name)
			rec(p)
			if ea.isDir() {
				if err := b.diff(p, ea.hash, plumbing.ZeroHash, rec); err != nil {
					return err
				}
			}
			if err := advance(&da, &ea, &okA, ha); err != nil {
				return err
			}
		default:
			p := join(eb.name)
			rec(p)
			if eb.isDir() {
				if err := b.diff(p, plumbing.ZeroHash, eb.hash, rec); err != nil {
					return err
				}
			}
			if err := advance(&db, &eb, &okB, hb); err != nil {
				return err
			}
		}
	}
	return nil
}

// changedPathIDs lists the sorted ids of the paths that differ between a
// commit's tree and its first parent's ("" for the root when they differ).
func (b *indexBuilder) changedPathIDs(parentTree, tree plumbing.Hash, ids []uint32) ([]uint32, error) {
	ids = ids[:0]
	rec := func(p string) {
		id, ok := b.paths[p]
		if !ok {
			id = uint32(b.oldPaths + len(b.pathList))
			b.paths[p] = id
			b.pathList = append(b.pathList, p)
		}
		ids = append(ids, id)
	}
	if parentTree != tree {
		rec("")
		if err := b.diff("", parentTree, tree, rec); err != nil {
			return nil, err
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// buildNode is a commit the update indexes.
type buildNode struct {
	hash    plumbing.Hash
	tree    plumbing.Hash
	parents []plumbing.Hash
	when    int64
}

// updateStats says what an index update did.
type updateStats struct {
	added   int // commits indexed
	dropped int // unreachable commits removed (after a force push)
}

// update returns old extended with every commit reachable from head that it
// lacks (old nil: all of them), without the commits no longer reachable
// from head. old is not modified.
func (b *indexBuilder) update(ctx context.Context, old *pathIndex, head plumbing.Hash) (*pathIndex, updateStats, error) {
	if old == nil {
		old = &pathIndex{}
	}
	indexed := func(h plumbing.Hash) bool {
		_, ok := old.lookup(h)
		return ok
	}
	// The commits to add, parents before children (iterative post-order DFS:
	// a history can be far deeper than the goroutine stack should go).
	type frame struct {
		h plumbing.Hash
		n *buildNode
	}
	added := map[plumbing.Hash]uint32{}
	visited := map[plumbing.Hash]bool{}
	var order []*buildNode
	stack := []frame{{h: head}}
	for steps := 0; len(stack) > 0; steps++ {
		if steps%4096 == 0 && ctx.Err() != nil {
			return nil, updateStats{}, ctx.Err()
		}
		top := &stack[len(stack)-1]
		if top.n != nil {
			added[top.h] = uint32(old.len() + len(order))
			order = append(order, top.n)
			stack = stack[:len(stack)-1]
			continue
		}
		if visited[top.h] || indexed(top.h) {
			stack = stack[:len(stack)-1]
			continue
		}
		n, err := readNode(b.st, b.graph, top.h)
		if err != nil {
			return nil, updateStats{}, err
		}
		bn := &buildNode{hash: top.h, tree: n.tree, parents: n.parents, when: n.when}
		visited[top.h] = true
		top.n = bn
		for i := len(n.parents) - 1; i >= 0; i-- {
			if p := n.parents[i]; !visited[p] && !indexed(p) {
				stack = append(stack, frame{h: p})
			}
		}
	}
	pos := func(h plumbing.Hash) uint32 {
		if p, ok := added[h]; ok {
			return p
		}
		p, _ := old.lookup(h) // present: every parent was indexed before or above
		return p
	}

	b.paths = make(map[string]uint32, len(old.pathEnd))
	for id := range uint32(len(old.pathEnd)) {
		b.paths[string(old.pathBytes(id))] = id
	}
	b.oldPaths = len(old.pathEnd)

	ix := &pathIndex{
		tip:       head,
		hashes:    slices.Grow(slices.Clone(old.hashes), len(order)),
		when:      slices.Grow(slices.Clone(old.when), len(order)),
		p1:        slices.Grow(slices.Clone(old.p1), len(order)),
		p2:        slices.Grow(slices.Clone(old.p2), len(order)),
		changeEnd: slices.Grow(slices.Clone(old.changeEnd), len(order)),
		changes:   slices.Clone(old.changes),
		extra:     slices.Clone(old.extra),
	}
	var ids []uint32
	for i, bn := range order {
		if i%1024 == 0 && ctx.Err() != nil {
			return nil, updateStats{}, ctx.Err()
		}
		var parentTree plumbing.Hash // the empty tree for a root commit
		p1, p2 := noParent, noParent
		if len(bn.parents) > 0 {
			first := bn.parents[0]
			if j, ok := added[first]; ok {
				parentTree = order[int(j)-old.len()].tree
			} else {
				pn, err := readNode(b.st, b.graph, first)
				if err != nil {
					return nil, updateStats{}, fmt.Errorf("parent of %s: %w", bn.hash, err)
				}
				parentTree = pn.tree
			}
			p1 = pos(first)
		}
		switch len(bn.parents) {
		case 0, 1:
		case 2:
			p2 = pos(bn.parents[1])
		default:
			p2 = octopus | uint32(len(ix.extra))
			for k, p := range bn.parents[1:] {
				v := pos(p)
				if k == len(bn.parents)-2 {
					v |= octopus
				}
				ix.extra = append(ix.extra, v)
			}
		}
		var err error
		if ids, err = b.changedPathIDs(parentTree, bn.tree, ids); err != nil {
			return nil, updateStats{}, fmt.Errorf("commit %s: %w", bn.hash, err)
		}
		ix.hashes = append(ix.hashes, bn.hash)
		ix.when = append(ix.when, bn.when)
		ix.p1 = append(ix.p1, p1)
		ix.p2 = append(ix.p2, p2)
		ix.changes = append(ix.changes, ids...)
		ix.changeEnd = append(ix.changeEnd, uint32(len(ix.changes)))
	}
	ix.pathData = slices.Clone(old.pathData)
	ix.pathEnd = slices.Clone(old.pathEnd)
	for _, p := range b.pathList {
		ix.pathData = append(ix.pathData, p...)
		ix.pathEnd = append(ix.pathEnd, uint32(len(ix.pathData)))
	}
	if len(ix.pathData) > int(^uint32(0)>>1) || len(ix.changes) > int(^uint32(0)>>1) {
		return nil, updateStats{}, errors.New("history too large for the path index")
	}
	stats := updateStats{added: len(order)}
	headPos, ok := added[head]
	if !ok {
		headPos = pos(head)
	}
	if old.len() > 0 {
		var dropped int
		ix, dropped = ix.reachableFrom(headPos)
		stats.dropped = dropped
	}
	ix.sortTables()
	return ix, stats, nil
}

// reachableFrom returns ix without the commits not reachable from head
// (left behind by a force push), and how many it dropped. Paths that only
// those commits changed are dropped too.
func (ix *pathIndex) reachableFrom(head uint32) (*pathIndex, int) {
	n := ix.len()
	keep := make([]bool, n)
	keep[head] = true
	stack := []uint32{head}
	var buf []uint32
	kept := 1
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		buf = ix.parents(c, buf[:0])
		for _, p := range buf {
			if !keep[p] {
				keep[p] = true
				kept++
				stack = append(stack, p)
			}
		}
	}
	if kept == n {
		return ix, 0
	}
	// Positions and path ids are renumbered in their old order, which keeps
	// parents before children and every change list sorted.
	newPos := make([]uint32, n)
	next := uint32(0)
	for i := range n {
		newPos[i] = next
		if keep[i] {
			next++
		}
	}
	usedPath := make([]bool, len(ix.pathEnd))
	for i := range n {
		if keep[i] {
			for _, id := range ix.changeList(uint32(i)) {
				usedPath[id] = true
			}
		}
	}
	newID := make([]uint32, len(ix.pathEnd))
	out := &pathIndex{tip: ix.tip}
	for id := range uint32(len(ix.pathEnd)) {
		newID[id] = uint32(len(out.pathEnd))
		if usedPath[id] {
			out.pathData = append(out.pathData, ix.pathBytes(id)...)
			out.pathEnd = append(out.pathEnd, uint32(len(out.pathData)))
		}
	}
	var parents []uint32
	for i := range n {
		if !keep[i] {
			continue
		}
		out.hashes = append(out.hashes, ix.hashes[i])
		out.when = append(out.when, ix.when[i])
		parents = ix.parents(uint32(i), parents[:0])
		p1, p2 := noParent, noParent
		if len(parents) > 0 {
			p1 = newPos[parents[0]]
		}
		switch len(parents) {
		case 0, 1:
		case 2:
			p2 = newPos[parents[1]]
		default:
			p2 = octopus | uint32(len(out.extra))
			for k, p := range parents[1:] {
				v := newPos[p]
				if k == len(parents)-2 {
					v |= octopus
				}
				out.extra = append(out.extra, v)
			}
		}
		out.p1 = append(out.p1, p1)
		out.p2 = append(out.p2, p2)
		for _, id := range ix.changeList(uint32(i)) {
			out.changes = append(out.changes, newID[id])
		}
		out.changeEnd = append(out.changeEnd, uint32(len(out.changes)))
	}
	return out, n - kept
}

// sortTables rebuilds the lookup tables: commits by hash, paths by name.
func (ix *pathIndex) sortTables() {
	ix.byHash = make([]uint32, ix.len())
	for i := range ix.byHash {
		ix.byHash[i] = uint32(i)
	}
	slices.SortFunc(ix.byHash, func(a, b uint32) int { return bytes.Compare(ix.hashes[a][:], ix.hashes[b][:]) })
	ix.byPath = make([]uint32, len(ix.pathEnd))
	for i := range ix.byPath {
		ix.byPath[i] = uint32(i)
	}
	slices.SortFunc(ix.byPath, func(a, b uint32) int { return bytes.Compare(ix.pathBytes(a), ix.pathBytes(b)) })
}

// pathKey is the index's name of a cleaned path split into components.
func pathKey(comps []string) string { return strings.Join(comps, "/") }
