package repo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/go-git/go-git/v5/plumbing"
)

// The path index is what makes path history fast after a restart: for every
// commit reachable from the tracked branch it stores the parents, the
// committer time, and the exact list of paths (directories and files, at
// every depth, plus "" for the root) whose tree entry differs from the first
// parent's (from the empty tree for a root commit). A history walk then
// reads no commit and no tree object for indexed commits: it only looks up
// path ids in short sorted lists. Merges are compared with their other
// parents through the trees, as git does with its changed-path Bloom
// filters, which are also computed against the first parent only.
//
// Every record is a pure function of the commit's hash (a commit's parents,
// time and first-parent diff never change), so a record can never be stale,
// only missing: a walk that meets a commit without a record reads it from the
// object store. The file is rebuilt when it is corrupt or of another format
// version, and compacted when a force push left commits unreachable.
//
// File format (little-endian), version 1:
//
//	magic "FDPATHIX", u32 version, u32 commits (n), u32 paths (p),
//	u32 changes (c), u32 extra parents (e), u32 path bytes (b), [20]byte tip
//	n × [20]byte   commit hashes, parents before children
//	n × i64        committer time, unix seconds
//	n × u32        first parent position (noParent for a root)
//	n × u32        second parent position, noParent, or octopus|start in extra
//	n × u32        end offset of the commit's changed path ids in changes
//	n × u32        commit positions sorted by hash (lookup by binary search)
//	c × u32        changed path ids, sorted within each commit
//	e × u32        parents 2.. of octopus merges; the last of a list has the octopus bit
//	p × u32        end offset of each path in the path bytes
//	p × u32        path ids sorted by path
//	b bytes        the paths, concatenated
//	u32            CRC-32C of everything before it
const (
	indexMagic   = "FDPATHIX"
	indexVersion = 1
	headerSize   = 8 + 4*6 + 20
	noParent     = ^uint32(0)
	octopus      = uint32(1) << 31
	// indexDirName and indexFileName place the index inside the clone, so a
	// clone discarded as broken takes its index with it.
	indexDirName  = "fleetdeck"
	indexFileName = "path-index"
	filePerm      = 0o600
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// pathIndex is the decoded index. It is immutable once built: an update makes
// a new one, so readers never see a half-updated index.
type pathIndex struct {
	tip       plumbing.Hash
	hashes    []plumbing.Hash
	when      []int64
	p1, p2    []uint32
	changeEnd []uint32
	byHash    []uint32
	changes   []uint32
	extra     []uint32
	pathEnd   []uint32
	byPath    []uint32
	pathData  []byte
}

func (ix *pathIndex) len() int { return len(ix.hashes) }

// lookup finds a commit's position.
func (ix *pathIndex) lookup(h plumbing.Hash) (uint32, bool) {
	i, found := slices.BinarySearchFunc(ix.byHash, h, func(pos uint32, h plumbing.Hash) int {
		return bytes.Compare(ix.hashes[pos][:], h[:])
	})
	if !found {
		return 0, false
	}
	return ix.byHash[i], true
}

func (ix *pathIndex) pathBytes(id uint32) []byte {
	start := uint32(0)
	if id > 0 {
		start = ix.pathEnd[id-1]
	}
	return ix.pathData[start:ix.pathEnd[id]]
}

// pathID finds a path's id; a path without one never changed in any indexed
// commit.
func (ix *pathIndex) pathID(p string) (uint32, bool) {
	i, found := slices.BinarySearchFunc(ix.byPath, p, func(id uint32, p string) int {
		return bytes.Compare(ix.pathBytes(id), []byte(p))
	})
	if !found {
		return 0, false
	}
	return ix.byPath[i], true
}

// parents appends the positions of a commit's parents to buf.
func (ix *pathIndex) parents(pos uint32, buf []uint32) []uint32 {
	if ix.p1[pos] == noParent {
		return buf
	}
	buf = append(buf, ix.p1[pos])
	p2 := ix.p2[pos]
	switch {
	case p2 == noParent:
	case p2&octopus == 0:
		buf = append(buf, p2)
	default:
		for _, e := range ix.extra[p2&^octopus:] {
			buf = append(buf, e&^octopus)
			if e&octopus != 0 {
				break
			}
		}
	}
	return buf
}

func (ix *pathIndex) changeList(pos uint32) []uint32 {
	start := uint32(0)
	if pos > 0 {
		start = ix.changeEnd[pos-1]
	}
	return ix.changes[start:ix.changeEnd[pos]]
}

// changedAny reports whether any of the path ids changed in the commit
// against its first parent.
func (ix *pathIndex) changedAny(pos uint32, ids []uint32) bool {
	list := ix.changeList(pos)
	for _, id := range ids {
		if _, found := slices.BinarySearch(list, id); found {
			return true
		}
	}
	return false
}

// encode serialises the index, checksum included.
func (ix *pathIndex) encode() []byte {
	n := ix.len()
	size := headerSize + n*(20+8+4*4) + 4*(len(ix.changes)+len(ix.extra)+2*len(ix.pathEnd)) + len(ix.pathData) + 4
	b := make([]byte, 0, size)
	b = append(b, indexMagic...)
	for _, v := range []int{indexVersion, n, len(ix.pathEnd), len(ix.changes), len(ix.extra), len(ix.pathData)} {
		b = binary.LittleEndian.AppendUint32(b, uint32(v))
	}
	b = append(b, ix.tip[:]...)
	for _, h := range ix.hashes {
		b = append(b, h[:]...)
	}
	for _, t := range ix.when {
		b = binary.LittleEndian.AppendUint64(b, uint64(t))
	}
	for _, s := range [][]uint32{ix.p1, ix.p2, ix.changeEnd, ix.byHash, ix.changes, ix.extra, ix.pathEnd, ix.byPath} {
		for _, v := range s {
			b = binary.LittleEndian.AppendUint32(b, v)
		}
	}
	b = append(b, ix.pathData...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
}

var errIndexVersion = errors.New("path index of another format version")

// readIndexHeader reads only the version and tip: enough to know whether
// the file is for the current head without reading all of it.
func readIndexHeader(file string) (plumbing.Hash, error) {
	f, err := os.Open(file)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	defer f.Close()
	var h [headerSize]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("path index %s: header: %w", file, err)
	}
	if string(h[:8]) != indexMagic {
		return plumbing.ZeroHash, fmt.Errorf("path index %s: not a path index", file)
	}
	if v := binary.LittleEndian.Uint32(h[8:]); v != indexVersion {
		return plumbing.ZeroHash, fmt.Errorf("path index %s: version %d: %w", file, v, errIndexVersion)
	}
	var tip plumbing.Hash
	copy(tip[:], h[headerSize-20:])
	return tip, nil
}

// loadPathIndex reads and checks an index file. Nothing in it is trusted:
// the checksum, every count, offset, position and order is checked, so a
// damaged file is refused rather than misread.
func loadPathIndex(file string) (*pathIndex, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	ix, err := decodePathIndex(data)
	if err != nil {
		return nil, fmt.Errorf("path index %s: %w", file, err)
	}
	return ix, nil
}

func decodePathIndex(data []byte) (*pathIndex, error) {
	if len(data) < headerSize+4 || string(data[:8]) != indexMagic {
		return nil, errors.New("not a path index")
	}
	u32 := binary.LittleEndian.Uint32
	if v := u32(data[8:]); v != indexVersion {
		return nil, fmt.Errorf("version %d: %w", v, errIndexVersion)
	}
	body := data[:len(data)-4]
	if crc32.Checksum(body, crcTable) != u32(data[len(data)-4:]) {
		return nil, errors.New("checksum mismatch")
	}
	n, np, nc, ne, nb := uint64(u32(data[12:])), uint64(u32(data[16:])), uint64(u32(data[20:])), uint64(u32(data[24:])), uint64(u32(data[28:]))
	if want := uint64(headerSize) + n*(20+8+4*4) + 4*(nc+ne+2*np) + nb + 4; want != uint64(len(data)) {
		return nil, fmt.Errorf("size %d, the header says %d", len(data), want)
	}
	ix := &pathIndex{}
	copy(ix.tip[:], data[headerSize-20:headerSize])
	off := headerSize
	ix.hashes = make([]plumbing.Hash, n)
	for i := range ix.hashes {
		copy(ix.hashes[i][:], data[off:])
		off += 20
	}
	ix.when = make([]int64, n)
	for i := range ix.when {
		ix.when[i] = int64(binary.LittleEndian.Uint64(data[off:]))
		off += 8
	}
	u32s := func(k uint64) []uint32 {
		s := make([]uint32, k)
		for i := range s {
			s[i] = u32(data[off:])
			off += 4
		}
		return s
	}
	ix.p1, ix.p2, ix.changeEnd, ix.byHash = u32s(n), u32s(n), u32s(n), u32s(n)
	ix.changes, ix.extra = u32s(nc), u32s(ne)
	ix.pathEnd, ix.byPath = u32s(np), u32s(np)
	ix.pathData = data[off : off+int(nb)]
	if err := ix.check(); err != nil {
		return nil, err
	}
	return ix, nil
}

// check validates every reference inside the index, so that lookups can
// index slices without bounds surprises.
func (ix *pathIndex) check() error {
	n := uint32(ix.len())
	for i := range n {
		p1, p2 := ix.p1[i], ix.p2[i]
		switch {
		case p1 == noParent && p2 != noParent:
			return fmt.Errorf("commit %d: second parent without a first", i)
		case p1 != noParent && p1 >= n:
			return fmt.Errorf("commit %d: parent out of range", i)
		case p2 == noParent:
		case p2&octopus == 0:
			if p2 >= n {
				return fmt.Errorf("commit %d: parent out of range", i)
			}
		default:
			start := p2 &^ octopus
			if uint64(start) >= uint64(len(ix.extra)) {
				return fmt.Errorf("commit %d: octopus parents out of range", i)
			}
			ended := false
			for _, e := range ix.extra[start:] {
				if e&^octopus >= n {
					return fmt.Errorf("commit %d: parent out of range", i)
				}
				if e&octopus != 0 {
					ended = true
					break
				}
			}
			if !ended {
				return fmt.Errorf("commit %d: unterminated parent list", i)
			}
		}
	}
	np := uint32(len(ix.pathEnd))
	prev := uint32(0)
	for i, end := range ix.changeEnd {
		if end < prev || uint64(end) > uint64(len(ix.changes)) {
			return fmt.Errorf("commit %d: change list out of range", i)
		}
		list := ix.changes[prev:end]
		for j, id := range list {
			if id >= np || j > 0 && list[j-1] >= id {
				return fmt.Errorf("commit %d: bad change list", i)
			}
		}
		prev = end
	}
	if uint64(prev) != uint64(len(ix.changes)) {
		return errors.New("change lists do not cover the changes")
	}
	for i, pos := range ix.byHash {
		if pos >= n || i > 0 && bytes.Compare(ix.hashes[ix.byHash[i-1]][:], ix.hashes[pos][:]) >= 0 {
			return errors.New("hash order broken")
		}
	}
	prev = 0
	for _, end := range ix.pathEnd {
		if end < prev || uint64(end) > uint64(len(ix.pathData)) {
			return errors.New("path table out of range")
		}
		prev = end
	}
	if uint64(prev) != uint64(len(ix.pathData)) {
		return errors.New("path table does not cover the path bytes")
	}
	for i, id := range ix.byPath {
		if id >= np || i > 0 && bytes.Compare(ix.pathBytes(ix.byPath[i-1]), ix.pathBytes(id)) >= 0 {
			return errors.New("path order broken")
		}
	}
	if _, ok := ix.lookup(ix.tip); !ok {
		return errors.New("the tip is not indexed")
	}
	return nil
}

// writePathIndex replaces the index file atomically: a private temporary
// file in the same directory, synced, then renamed over the old one, so a
// crash leaves either the old index or the new one.
func writePathIndex(file string, ix *pathIndex) (int64, error) {
	dir := filepath.Dir(file)
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return 0, err
	}
	if err := os.Chmod(dir, dirPerm); err != nil {
		return 0, err
	}
	f, err := os.CreateTemp(dir, "."+indexFileName+"-*")
	if err != nil {
		return 0, err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename there is nothing left to remove
	data := ix.encode()
	err = f.Chmod(filePerm)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, file)
	}
	if err != nil {
		return 0, fmt.Errorf("write path index %s: %w", file, err)
	}
	return int64(len(data)), nil
}
