package repo

import (
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
)

// workClone clones a remote with the git CLI, to add commits to it and push
// them, dated after the generated histories.
func workClone(t *testing.T, remote string) *cliRepo {
	needGit(t)
	c := &cliRepo{t: t, dir: t.TempDir(), env: gitEnv(t.TempDir()), when: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	c.git("clone", "-q", remote, ".")
	c.git("checkout", "-q", "main")
	return c
}

// moreHistory adds commits on main in c: edits to the generated apps, a side
// branch merged with a change of each side to the same app, and one
// merge that keeps main's side only.
func (c *cliRepo) moreHistory(tag string) {
	c.t.Helper()
	c.write("k8s/auth/values.yaml", "auth "+tag+"\n")
	c.commit(tag + ": bump auth")
	c.write("docs/"+tag+".md", tag)
	c.commit(tag + ": docs")
	c.git("checkout", "-q", "-b", "side-"+tag)
	c.write("k8s/pay/values.yaml", "pay side "+tag+"\n")
	c.commit(tag + ": side pay")
	c.write("k8s/web/new-"+tag+".yaml", "web side "+tag+"\n")
	c.commit(tag + ": side web")
	c.git("checkout", "-q", "main")
	c.write("k8s/pay/values-prod.yaml", "pay main "+tag+"\n")
	c.commit(tag + ": main pay")
	c.merge("side-" + tag)
	c.git("checkout", "-q", "-b", "ours-"+tag)
	c.write("k8s/search/values.yaml", "discarded "+tag+"\n")
	c.commit(tag + ": discarded search")
	c.git("checkout", "-q", "main")
	c.merge("-s", "ours", "ours-"+tag)
	c.git("rm", "-q", "-r", "k8s/web")
	c.commit(tag + ": delete web")
}

func (c *cliRepo) count(rev string) int {
	c.t.Helper()
	n, err := strconv.Atoi(strings.TrimSpace(c.git("rev-list", "--count", rev)))
	if err != nil {
		c.t.Fatal(err)
	}
	return n
}

func checkIndexFile(t *testing.T, r *Repo) {
	t.Helper()
	info := r.IndexInfo()
	fi, err := os.Stat(info.File)
	if err != nil {
		t.Fatalf("index file: %v", err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("index file mode %o, want 600", perm)
	}
	di, err := os.Stat(filepath.Dir(info.File))
	if err != nil {
		t.Fatal(err)
	}
	if perm := di.Mode().Perm(); perm != 0o700 {
		t.Errorf("index directory mode %o, want 700", perm)
	}
	if _, err := loadPathIndex(info.File); err != nil {
		t.Errorf("index file unreadable: %v", err)
	}
	if tmp, _ := filepath.Glob(filepath.Join(filepath.Dir(info.File), ".*")); len(tmp) > 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
}

var indexPathSets = [][]string{
	{"k8s/auth"}, {"k8s/auth/values.yaml"}, {"k8s/pay"}, {"k8s/web"}, {"k8s/search"}, {"docs"},
	{"k8s"}, {""}, {"no/such/path"}, {"k8s/auth", "docs"},
}

// TestPathIndexLifecycle follows the index through a clone (built from
// nothing), a restart (read from disk on the first question), fetched
// commits (only those are indexed) and a force-pushed branch (the rewritten
// commits indexed, the unreachable ones dropped); at every step the
// listings equal git log's, through the index and without it.
func TestPathIndexLifecycle(t *testing.T) {
	needGit(t)
	remote, head := generated(t, 7, 300)
	work := workClone(t, remote)
	cache := t.TempDir()
	open := func() *Repo {
		r, err := Open(context.Background(), repoCfg(remote), cache, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Close() })
		return r
	}

	r := open()
	total := work.count("main")
	if info := r.IndexInfo(); info.Commits != total || info.Added != total || info.Tip != head || info.Err != nil || info.Bytes == 0 {
		t.Fatalf("after the clone: %+v, want all %d commits indexed for %s", info, total, head)
	}
	checkIndexFile(t, r)
	checkAgainstGit(t, r, head, indexPathSets)

	// A restart: the index is read on the first question, not rebuilt.
	_ = r.Close()
	r = open()
	r.mu.Lock()
	lazy := r.ix == nil && r.ixDisk
	r.mu.Unlock()
	if !lazy {
		t.Fatal("after a restart the index was read (or rebuilt) before any question")
	}
	checkAgainstGit(t, r, head, indexPathSets)
	if info := r.IndexInfo(); info.Commits != total || info.Added != 0 || info.Err != nil {
		t.Fatalf("after a restart: %+v, want the %d commits read from disk", info, total)
	}

	// New commits fetched: only they are indexed.
	work.moreHistory("a")
	work.git("push", "-q", "origin", "main")
	if changed, err := r.Fetch(context.Background()); err != nil || !changed {
		t.Fatalf("Fetch = %v, %v", changed, err)
	}
	newHead := r.Head()
	added := work.count(head.String() + "..main")
	if info := r.IndexInfo(); info.Added != added || info.Commits != total+added || info.Tip != newHead || info.Rebuilt != "" {
		t.Fatalf("after a fetch of %d commits: %+v", added, info)
	}
	checkIndexFile(t, r)
	checkAgainstGit(t, r, newHead, indexPathSets)
	checkAgainstGit(t, r, head, indexPathSets[:3]) // an older start, inside the index

	// The remote branch rewritten: three commits dropped, others pushed.
	work.git("reset", "-q", "--hard", "HEAD~3")
	work.moreHistory("b")
	work.git("push", "-q", "--force", "origin", "main")
	if _, err := r.Fetch(context.Background()); err != nil {
		t.Fatal(err)
	}
	forced := r.Head()
	info := r.IndexInfo()
	if info.Dropped == 0 || info.Commits != work.count("main") || info.Tip != forced {
		t.Fatalf("after a force push: %+v, want the unreachable commits dropped and %d indexed", info, work.count("main"))
	}
	checkIndexFile(t, r)
	checkAgainstGit(t, r, forced, indexPathSets)

	// And after another restart, from disk.
	_ = r.Close()
	r = open()
	checkAgainstGit(t, r, forced, indexPathSets)
}

// TestPathIndexPartialCoverage: commits the index lacks (a local branch of
// the clone, or an index older than the head) are read from the objects,
// with the same answers.
func TestPathIndexPartialCoverage(t *testing.T) {
	needGit(t)
	remote, head := generated(t, 11, 200)
	work := workClone(t, remote)
	r := openRemote(t, remote)
	r.mu.Lock()
	old := r.ix
	r.mu.Unlock()

	work.moreHistory("a")
	work.git("push", "-q", "origin", "main")
	if _, err := r.Fetch(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The index as it was before the fetch: every new commit is unknown to it.
	r.mu.Lock()
	r.ix = old
	r.mu.Unlock()
	if _, ok := old.lookup(r.Head()); ok {
		t.Fatal("the old index has the new head")
	}
	checkAgainstGit(t, r, r.Head(), indexPathSets)

	// A commit only in the clone, on a branch fetches never touch.
	env := gitEnv(t.TempDir())
	tree := strings.TrimSpace(gitCLI(t, r.Dir(), env, "rev-parse", head.String()+"^{tree}"))
	local := strings.TrimSpace(gitCLI(t, r.Dir(), env, "commit-tree", "-p", r.Head().String(), "-m", "local", tree))
	gitCLI(t, r.Dir(), env, "update-ref", "refs/heads/fleetdeck/local", local)
	r.mu.Lock()
	r.ix = nil
	r.ixDisk = true
	r.mu.Unlock()
	checkAgainstGit(t, r, plumbing.NewHash(local), indexPathSets)
}

// TestPathIndexUnreadableIsRebuilt: a damaged file or one of another format
// version is never used: history walks the trees meanwhile, and the index is
// built again by the next fetch (or at once, when the header says so).
func TestPathIndexUnreadableIsRebuilt(t *testing.T) {
	needGit(t)
	tests := []struct {
		name   string
		damage func(t *testing.T, data []byte) []byte
		// atOpen: the header shows the damage, so Open rebuilds at once.
		atOpen bool
	}{
		{"flipped byte", func(t *testing.T, d []byte) []byte { d[len(d)/2] ^= 0x40; return d }, false},
		{"truncated", func(t *testing.T, d []byte) []byte { return d[:len(d)-9] }, false},
		{"other format version", func(t *testing.T, d []byte) []byte {
			binary.LittleEndian.PutUint32(d[8:], indexVersion+1)
			return d
		}, true},
		{"not an index", func(t *testing.T, d []byte) []byte { return []byte("garbage") }, true},
		{"empty", func(t *testing.T, d []byte) []byte { return nil }, true},
	}
	remote, head := generated(t, 3, 150)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache := t.TempDir()
			r, err := Open(context.Background(), repoCfg(remote), cache, nil)
			if err != nil {
				t.Fatal(err)
			}
			file := r.IndexInfo().File
			_ = r.Close()
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, tt.damage(t, data), 0o600); err != nil {
				t.Fatal(err)
			}
			r, err = Open(context.Background(), repoCfg(remote), cache, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if tt.atOpen {
				if info := r.IndexInfo(); info.Rebuilt == "" || info.Commits == 0 {
					t.Fatalf("Open with a bad header: %+v, want the index rebuilt and why", info)
				}
			}
			checkAgainstGit(t, r, head, indexPathSets[:2])
			if !tt.atOpen {
				if info := r.IndexInfo(); info.Err == nil || info.Commits != 0 {
					t.Fatalf("a damaged index was used: %+v", info)
				}
				if _, err := r.Fetch(context.Background()); err != nil {
					t.Fatal(err)
				}
				if info := r.IndexInfo(); info.Commits == 0 || info.Err != nil {
					t.Fatalf("the next fetch did not rebuild the index: %+v", info)
				}
			}
			checkIndexFile(t, r)
			checkAgainstGit(t, r, head, indexPathSets[:2])
		})
	}
}

// testIndex is a small valid index: a root, a child, and a merge.
func testIndex() *pathIndex {
	h := func(b byte) plumbing.Hash { var x plumbing.Hash; x[0] = b; return x }
	ix := &pathIndex{
		tip:       h(3),
		hashes:    []plumbing.Hash{h(9), h(5), h(3)},
		when:      []int64{1, 2, 3},
		p1:        []uint32{noParent, 0, 1},
		p2:        []uint32{noParent, noParent, 0},
		changeEnd: []uint32{2, 3, 3},
		changes:   []uint32{0, 1, 1},
		pathData:  []byte("k8s/a"),
		pathEnd:   []uint32{0, 5},
	}
	ix.sortTables()
	return ix
}

// TestDecodeRefusesBadIndexes: whatever the bytes, decoding never panics,
// and references out of range are refused even with a valid checksum.
func TestDecodeRefusesBadIndexes(t *testing.T) {
	good := testIndex().encode()
	if ix, err := decodePathIndex(good); err != nil || ix.len() != 3 {
		t.Fatalf("decode of a good index: %v", err)
	}
	reseal := func(d []byte) []byte {
		d = d[:len(d)-4]
		return binary.LittleEndian.AppendUint32(d, crc32.Checksum(d, crcTable))
	}
	mutate := func(f func(ix *pathIndex)) []byte {
		ix := testIndex()
		f(ix)
		return ix.encode()
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"parent out of range", mutate(func(ix *pathIndex) { ix.p1[1] = 7 }), "out of range"},
		{"second parent without first", mutate(func(ix *pathIndex) { ix.p2[0] = 1 }), "without a first"},
		{"unterminated octopus", mutate(func(ix *pathIndex) { ix.p2[2] = octopus; ix.extra = []uint32{1} }), "unterminated"},
		{"unsorted change list", mutate(func(ix *pathIndex) { ix.changes[0], ix.changes[1] = 1, 0 }), "bad change list"},
		{"path id out of range", mutate(func(ix *pathIndex) { ix.changes[2] = 9 }), "bad change list"},
		{"change offsets backwards", mutate(func(ix *pathIndex) { ix.changeEnd[1] = 1 }), "out of range"},
		{"hash order", mutate(func(ix *pathIndex) { ix.byHash[0], ix.byHash[1] = ix.byHash[1], ix.byHash[0] }), "hash order"},
		{"tip not indexed", mutate(func(ix *pathIndex) { ix.tip[5] = 1 }), "tip"},
		{"counts beyond the file", reseal(func() []byte { d := append([]byte{}, good...); d[12] = 200; return d }()), "size"},
		{"checksum", func() []byte { d := append([]byte{}, good...); d[headerSize] ^= 1; return d }(), "checksum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := decodePathIndex(tt.data); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("decode = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	// Random damage, checksum resealed: refused or decoded, never a panic.
	rng := rand.New(rand.NewSource(1))
	for i := range 2000 {
		d := append([]byte{}, good...)
		for range 1 + rng.Intn(3) {
			d[8+rng.Intn(len(d)-12)] = byte(rng.Intn(256))
		}
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("case %d: decode panicked: %v", i, p)
				}
			}()
			if ix, err := decodePathIndex(reseal(d)); err == nil {
				for pos := range uint32(ix.len()) {
					_ = ix.parents(pos, nil)
					_ = ix.changedAny(pos, []uint32{0, 1})
				}
			}
		}()
	}
	if _, err := decodePathIndex(good[:10]); err == nil {
		t.Error("a short file decoded")
	}
	var verr error
	d := append([]byte{}, good...)
	binary.LittleEndian.PutUint32(d[8:], 2)
	if _, verr = decodePathIndex(reseal(d)); !errors.Is(verr, errIndexVersion) {
		t.Errorf("other version: %v", verr)
	}
}

func TestCompareEntriesIsGitOrder(t *testing.T) {
	e := func(name string, dir bool) rawEntry {
		m := uint32(0o100644)
		if dir {
			m = 0o40000
		}
		return rawEntry{name: []byte(name), mode: m}
	}
	// git's order: "a-b" < "a" (dir, as "a/") < "a0"; a file "a" sorts before "a-b".
	sorted := []rawEntry{e("a", false), e("a-b", false), e("a", true), e("a0", false), e("b", true), e("ba", false)}
	for i := range sorted {
		for j := range sorted {
			got := compareEntries(sorted[i], sorted[j])
			if (i < j) != (got < 0) || (i == j) != (got == 0) {
				t.Errorf("compare(%s dir=%v, %s dir=%v) = %d", sorted[i].name, sorted[i].isDir(), sorted[j].name, sorted[j].isDir(), got)
			}
		}
	}
}
