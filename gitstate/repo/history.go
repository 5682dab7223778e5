package repo

import (
	"bytes"
	"container/heap"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Commit is one commit of a path's history.
type Commit struct {
	Hash    plumbing.Hash
	Author  string
	Email   string
	When    time.Time // author date
	Subject string    // first line of the message
}

// node is what the history walk needs of a commit, from the commit-graph
// file when there is one, else from the commit object's header.
type node struct {
	tree    plumbing.Hash
	parents []plumbing.Hash
	when    int64 // committer time, unix seconds: git's walk order
}

type entryKey struct {
	tree plumbing.Hash
	name string
}

// entry is a tree entry found (or not) by name.
type entry struct {
	hash  plumbing.Hash
	mode  uint32
	found bool
}

func (e entry) isDir() bool { return e.found && e.mode == 0o40000 }

// Bounds of the per-repository caches; when one is exceeded it starts over.
// 1M entries is roughly 100 MB at worst; GitOps repositories with a few
// thousand commits use a few MB.
const (
	maxNodes   = 1 << 20
	maxEntries = 1 << 20
)

// CleanPaths normalises repository paths as git pathspecs are written
// ("./k8s/app/" → "k8s/app"); "" and "." stand for the whole tree.
func CleanPaths(paths []string) []string {
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		p = path.Clean("/" + strings.TrimSpace(p))[1:]
		out = append(out, p)
	}
	return out
}

// PathCommits lists the commits reachable from from (the head when zero)
// that touch any of paths, newest first, at most limit (all when limit <= 0).
// The list equals `git log --format=%H -n limit -- paths...`: commits are
// visited in committer-date order, and at a merge whose paths equal those of
// some parent only that parent is followed and the merge is not listed
// (git's default history simplification).
func (r *Repo) PathCommits(from plumbing.Hash, paths []string, limit int) ([]Commit, error) {
	hashes, err := r.PathCommitHashes(from, paths, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Commit, 0, len(hashes))
	err = r.Do(func(_ *git.Repository) error {
		for _, h := range hashes {
			c, err := object.GetCommit(r.st, h)
			if err != nil {
				return fmt.Errorf("commit %s: %w", h, err)
			}
			out = append(out, commitOf(c))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("repository %s: %w", r.name, err)
	}
	return out, nil
}

func commitOf(c *object.Commit) Commit {
	subject, _, _ := strings.Cut(strings.TrimLeft(c.Message, "\n"), "\n")
	return Commit{Hash: c.Hash, Author: c.Author.Name, Email: c.Author.Email, When: c.Author.When,
		Subject: strings.TrimSpace(subject)}
}

// PathCommitHashes is PathCommits without reading the commits' messages.
func (r *Repo) PathCommitHashes(from plumbing.Hash, paths []string, limit int) ([]plumbing.Hash, error) {
	if from.IsZero() {
		from = r.Head()
	}
	if from.IsZero() {
		return nil, fmt.Errorf("repository %s: no commit fetched yet", r.name)
	}
	specs := make([][]string, 0, len(paths))
	for _, p := range CleanPaths(paths) {
		if p == "" {
			specs = append(specs, nil) // the whole tree
			continue
		}
		specs = append(specs, strings.Split(p, "/"))
	}
	if len(specs) == 0 {
		specs = append(specs, nil)
	}
	var out []plumbing.Hash
	err := r.Do(func(_ *git.Repository) error {
		var err error
		out, err = r.walkPaths(from, specs, limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("repository %s: history of %s from %s: %w", r.name, strings.Join(paths, ", "), from, err)
	}
	return out, nil
}

// queue orders commits as git's revision walk does: newest committer date
// first, and first in, first out among equal dates.
type queue []queued

type queued struct {
	n   *walkNode
	seq uint64
}

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if q[i].n.when != q[j].n.when {
		return q[i].n.when > q[j].n.when
	}
	return q[i].seq < q[j].seq
}
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(queued)) }
func (q *queue) Pop() any {
	old := *q
	it := old[len(old)-1]
	*q = old[:len(old)-1]
	return it
}

// walkNode is a commit of the walk, from the path index when it has the
// commit (pos set), else read from the object store.
type walkNode struct {
	hash    plumbing.Hash
	pos     uint32 // position in the path index; noParent when not indexed
	parents []plumbing.Hash
	when    int64
}

// walkNode reads a commit for the walk. Callers hold r.mu.
func (r *Repo) walkNode(ix *pathIndex, h plumbing.Hash, buf *[]uint32) (*walkNode, error) {
	if ix != nil {
		if pos, ok := ix.lookup(h); ok {
			*buf = ix.parents(pos, (*buf)[:0])
			w := &walkNode{hash: h, pos: pos, when: ix.when[pos], parents: make([]plumbing.Hash, len(*buf))}
			for i, p := range *buf {
				w.parents[i] = ix.hashes[p]
			}
			return w, nil
		}
	}
	n, err := r.node(h)
	if err != nil {
		return nil, err
	}
	return &walkNode{hash: h, pos: noParent, parents: n.parents, when: n.when}, nil
}

// walkPaths is git's limited revision walk with TREESAME simplification.
// Commits in the path index are compared with their first parent through
// its changed-path lists; other comparisons (merges with their other
// parents, commits not indexed) read the trees along the paths.
// Callers hold r.mu.
func (r *Repo) walkPaths(from plumbing.Hash, specs [][]string, limit int) ([]plumbing.Hash, error) {
	ix := r.loadedIndex()
	var ids []uint32 // the paths' ids; a path without one never changed in an indexed commit
	if ix != nil {
		for _, comps := range specs {
			if id, ok := ix.pathID(pathKey(comps)); ok {
				ids = append(ids, id)
			}
		}
	}
	var buf []uint32
	start, err := r.walkNode(ix, from, &buf)
	if err != nil {
		return nil, err
	}
	var (
		q    = queue{{n: start}}
		seq  uint64
		seen = map[plumbing.Hash]bool{from: true}
		out  []plumbing.Hash
	)
	for q.Len() > 0 && (limit <= 0 || len(out) < limit) {
		c := heap.Pop(&q).(queued).n
		parents := c.parents
		show := true
		if len(parents) == 0 {
			// A root commit is shown when it has any of the paths.
			if c.pos != noParent {
				show = ix.changedAny(c.pos, ids)
			} else {
				same, err := r.sameCommits(c.hash, plumbing.ZeroHash, specs)
				if err != nil {
					return nil, err
				}
				show = !same
			}
		}
		for i, p := range parents {
			var same bool
			if i == 0 && c.pos != noParent {
				same = !ix.changedAny(c.pos, ids)
			} else if same, err = r.sameCommits(c.hash, p, specs); err != nil {
				return nil, fmt.Errorf("compare %s with parent %s: %w", c.hash, p, err)
			}
			if same {
				// TREESAME to this parent: it brought every change to the
				// paths, so the others are not followed and c is not shown.
				parents, show = parents[i:i+1], false
				break
			}
		}
		for i, p := range parents {
			if seen[p] {
				continue
			}
			seen[p] = true
			pn, err := r.walkNode(ix, p, &buf)
			if err != nil {
				// The commit is in the clone, so its parents must be too.
				r.markCorrupt(err)
				return nil, fmt.Errorf("parent %d of %s: %w", i+1, c.hash, err)
			}
			seq++
			heap.Push(&q, queued{n: pn, seq: seq})
		}
		if show {
			out = append(out, c.hash)
		}
	}
	return out, nil
}

// sameCommits compares the paths in commit c's tree with parent p's (zero:
// the empty tree). Callers hold r.mu.
func (r *Repo) sameCommits(c, p plumbing.Hash, specs [][]string) (bool, error) {
	cn, err := r.node(c)
	if err != nil {
		return false, err
	}
	var ptree plumbing.Hash
	if !p.IsZero() {
		pn, err := r.node(p)
		if err != nil {
			// The commit is in the clone, so its parents must be too.
			r.markCorrupt(err)
			return false, err
		}
		ptree = pn.tree
	}
	return r.sameTrees(ptree, cn.tree, specs)
}

// sameTrees reports whether every path has the same entry (hash and mode, or
// absence) in trees a and b. ZeroHash stands for the empty tree.
func (r *Repo) sameTrees(a, b plumbing.Hash, specs [][]string) (bool, error) {
	if a == b {
		return true, nil
	}
	for _, comps := range specs {
		same, err := r.samePath(a, b, comps)
		if err != nil || !same {
			return same, err
		}
	}
	return true, nil
}

// samePath descends both trees along comps, comparing only the entries on the
// path: equal subtree hashes end the comparison without reading deeper trees.
func (r *Repo) samePath(a, b plumbing.Hash, comps []string) (bool, error) {
	for i, name := range comps {
		if a == b {
			return true, nil
		}
		ea, err := r.child(a, name)
		if err != nil {
			return false, err
		}
		eb, err := r.child(b, name)
		if err != nil {
			return false, err
		}
		if i == len(comps)-1 {
			return ea == eb, nil
		}
		// Only trees lead further down; a file (or submodule) where a directory
		// of the path is expected means the path is absent below it.
		a, b = plumbing.ZeroHash, plumbing.ZeroHash
		if ea.isDir() {
			a = ea.hash
		}
		if eb.isDir() {
			b = eb.hash
		}
	}
	return a == b, nil
}

// child finds name in a tree, reading the raw tree object: no per-entry
// allocation, and the answer is cached by (tree, name) because unchanged
// subtrees recur in thousands of commits. Callers hold r.mu.
func (r *Repo) child(tree plumbing.Hash, name string) (entry, error) {
	if tree.IsZero() || tree == emptyTree {
		return entry{}, nil
	}
	k := entryKey{tree, name}
	if e, ok := r.entries[k]; ok {
		return e, nil
	}
	obj, err := r.st.EncodedObject(plumbing.TreeObject, tree)
	if err != nil {
		r.markCorrupt(err) // trees of commits in the clone must be there
		return entry{}, fmt.Errorf("tree %s: %w", tree, err)
	}
	data, err := readObject(obj)
	if err != nil {
		return entry{}, fmt.Errorf("tree %s: %w", tree, err)
	}
	e, err := findEntry(data, name)
	if err != nil {
		return entry{}, fmt.Errorf("tree %s: %w", tree, err)
	}
	if len(r.entries) >= maxEntries {
		clear(r.entries)
	}
	r.entries[k] = e
	return e, nil
}

func readObject(obj plumbing.EncodedObject) ([]byte, error) {
	rd, err := obj.Reader()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	buf := bytes.NewBuffer(make([]byte, 0, obj.Size()))
	if _, err := io.Copy(buf, rd); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

var errBadTree = errors.New("malformed tree object")

// findEntry scans a tree object ("<octal mode> <name>\0<20-byte hash>"...).
func findEntry(data []byte, name string) (entry, error) {
	for len(data) > 0 {
		sp := bytes.IndexByte(data, ' ')
		if sp <= 0 {
			return entry{}, errBadTree
		}
		mode := data[:sp]
		rest := data[sp+1:]
		nul := bytes.IndexByte(rest, 0)
		if nul < 0 || len(rest) < nul+1+20 {
			return entry{}, errBadTree
		}
		if string(rest[:nul]) == name {
			m, err := strconv.ParseUint(string(mode), 8, 32)
			if err != nil {
				return entry{}, errBadTree
			}
			var h plumbing.Hash
			copy(h[:], rest[nul+1:nul+21])
			return entry{hash: h, mode: uint32(m), found: true}, nil
		}
		data = rest[nul+21:]
	}
	return entry{}, nil
}

// node reads what the walk needs of a commit. Callers hold r.mu.
func (r *Repo) node(h plumbing.Hash) (*node, error) {
	if n, ok := r.nodes[h]; ok {
		return n, nil
	}
	n, err := readNode(r.st, r.graph, h)
	if err != nil {
		return nil, err
	}
	if len(r.nodes) >= maxNodes {
		clear(r.nodes)
	}
	r.nodes[h] = n
	return n, nil
}

// parseCommitHeader reads the tree, parents and committer time of a commit
// object, stopping at the blank line before the message.
func parseCommitHeader(data []byte) (*node, error) {
	n := &node{}
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if len(line) == 0 {
			break
		}
		key, val, _ := bytes.Cut(line, []byte{' '})
		switch string(key) {
		case "tree":
			h, ok := parseHash(val)
			if !ok {
				return nil, fmt.Errorf("bad tree line %q", line)
			}
			n.tree = h
		case "parent":
			h, ok := parseHash(val)
			if !ok {
				return nil, fmt.Errorf("bad parent line %q", line)
			}
			n.parents = append(n.parents, h)
		case "committer":
			// "Name <email> 1700000000 +0000": the time follows the last '>'.
			if i := bytes.LastIndexByte(val, '>'); i >= 0 {
				f := bytes.Fields(val[i+1:])
				if len(f) > 0 {
					n.when, _ = strconv.ParseInt(string(f[0]), 10, 64)
				}
			}
		}
	}
	if n.tree.IsZero() {
		return nil, errors.New("commit has no tree")
	}
	return n, nil
}

func parseHash(b []byte) (plumbing.Hash, bool) {
	if len(b) != 40 {
		return plumbing.ZeroHash, false
	}
	return plumbing.NewHash(string(b)), plumbing.IsHash(string(b))
}

// FirstParents lists the first-parent history from from (the head when zero),
// newest first, at most limit commits: the branch as it moved, which places a
// revision an operator applied even when it did not touch an app's path.
func (r *Repo) FirstParents(from plumbing.Hash, limit int) ([]plumbing.Hash, error) {
	if from.IsZero() {
		from = r.Head()
	}
	if from.IsZero() {
		return nil, fmt.Errorf("repository %s: no commit fetched yet", r.name)
	}
	var out []plumbing.Hash
	err := r.Do(func(_ *git.Repository) error {
		ix := r.loadedIndex()
		h := from
		for limit <= 0 || len(out) < limit {
			if ix != nil {
				if pos, ok := ix.lookup(h); ok {
					out = append(out, h)
					if ix.p1[pos] == noParent {
						break
					}
					h = ix.hashes[ix.p1[pos]]
					continue
				}
			}
			n, err := r.node(h)
			if err != nil {
				if len(out) > 0 {
					r.markCorrupt(err)
				}
				return err
			}
			out = append(out, h)
			if len(n.parents) == 0 {
				break
			}
			h = n.parents[0]
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("repository %s: first-parent history from %s: %w", r.name, from, err)
	}
	return out, nil
}
