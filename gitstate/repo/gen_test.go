package repo

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/memory"
)

const gitBin = "/usr/bin/git"

// gitEnv isolates the git CLI from the machine's configuration.
func gitEnv(home string) []string {
	return append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+home,
		"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.com")
}

func needGit(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(gitBin); err != nil {
		t.Skipf("git CLI not available: %v", err)
	}
}

// gitCLI runs the git CLI in dir, the oracle for history questions.
func gitCLI(t testing.TB, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(gitBin, append([]string{"-C", dir}, args...)...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func lines(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// genRepo writes random histories straight into git objects: fast enough for
// thousands of commits, with merges (clean, conflicting, "ours", evil, with
// the side branch first), renames, deletions and recreations, equal and
// out-of-order committer dates.
type genRepo struct {
	st      *memory.Storage
	order   []plumbing.Hash
	seen    map[plumbing.Hash]bool
	r       *rand.Rand
	when    time.Time
	commits int
}

func newGenRepo(seed int64) *genRepo {
	return &genRepo{st: memory.NewStorage(), seen: map[plumbing.Hash]bool{}, r: rand.New(rand.NewSource(seed)),
		when: time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)}
}

func (g *genRepo) put(obj plumbing.EncodedObject) plumbing.Hash {
	h := obj.Hash()
	if !g.seen[h] {
		if _, err := g.st.SetEncodedObject(obj); err != nil {
			panic(err)
		}
		g.seen[h] = true
		g.order = append(g.order, h)
	}
	return h
}

func (g *genRepo) blob(content string) plumbing.Hash {
	obj := &plumbing.MemoryObject{}
	obj.SetType(plumbing.BlobObject)
	_, _ = obj.Write([]byte(content))
	return g.put(obj)
}

// tree writes the files (path → content) as nested trees and returns the root.
func (g *genRepo) tree(files map[string]string) plumbing.Hash {
	return g.dir(files, "")
}

func (g *genRepo) dir(files map[string]string, prefix string) plumbing.Hash {
	subdirs := map[string]bool{}
	var entries []object.TreeEntry
	for p, c := range files {
		if !strings.HasPrefix(p, prefix) {
			continue
		}
		rest := p[len(prefix):]
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			subdirs[rest[:i]] = true
			continue
		}
		entries = append(entries, object.TreeEntry{Name: rest, Mode: filemode.Regular, Hash: g.blob(c)})
	}
	for d := range subdirs {
		entries = append(entries, object.TreeEntry{Name: d, Mode: filemode.Dir, Hash: g.dir(files, prefix+d+"/")})
	}
	// git orders entries by name, directories compared as "name/".
	key := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.Slice(entries, func(i, j int) bool { return key(entries[i]) < key(entries[j]) })
	t := &object.Tree{Entries: entries}
	obj := &plumbing.MemoryObject{}
	if err := t.Encode(obj); err != nil {
		panic(err)
	}
	return g.put(obj)
}

func (g *genRepo) commit(files map[string]string, when time.Time, msg string, parents ...plumbing.Hash) plumbing.Hash {
	sig := object.Signature{Name: "Gen", Email: "gen@example.com", When: when.Add(-time.Duration(g.r.Intn(3)) * time.Hour)}
	c := &object.Commit{Author: sig, Committer: object.Signature{Name: "Gen", Email: "gen@example.com", When: when},
		Message: msg + "\n", TreeHash: g.tree(files), ParentHashes: parents}
	obj := &plumbing.MemoryObject{}
	if err := c.Encode(obj); err != nil {
		panic(err)
	}
	g.commits++
	return g.put(obj)
}

// tick advances the clock: often not at all (equal dates), sometimes by a
// second, a minute or an hour.
func (g *genRepo) tick() time.Time {
	g.when = g.when.Add([]time.Duration{0, 0, time.Second, time.Minute, time.Hour}[g.r.Intn(5)])
	return g.when
}

var genApps = []string{"k8s/auth", "k8s/pay", "k8s/web", "k8s/search"}

func initialFiles() map[string]string {
	files := map[string]string{"README.md": "hello\n"}
	for _, a := range genApps {
		for _, f := range []string{"Chart.yaml", "values.yaml", "values-prod.yaml", "values-stage.yaml", "templates/deploy.yaml"} {
			files[a+"/"+f] = a + " " + f + " v0\n"
		}
	}
	for i := range 4 {
		files[fmt.Sprintf("docs/x%d.md", i)] = fmt.Sprintf("doc %d\n", i)
	}
	return files
}

// mutate applies one random change, and returns a message.
func (g *genRepo) mutate(files map[string]string, n int) string {
	keys := make([]string, 0, len(files))
	for k := range files {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	switch op := g.r.Intn(20); {
	case op < 13 && len(keys) > 0:
		k := keys[g.r.Intn(len(keys))]
		files[k] = fmt.Sprintf("%s edit %d\n", k, n)
		return "edit " + k
	case op < 15:
		k := fmt.Sprintf("%s/extra-%d.yaml", genApps[g.r.Intn(len(genApps))], g.r.Intn(4))
		files[k] = fmt.Sprintf("added %d\n", n)
		return "add " + k
	case op < 16 && len(keys) > 1:
		k := keys[g.r.Intn(len(keys))]
		delete(files, k)
		return "delete " + k
	case op < 18:
		// Rename an unrelated file.
		for _, k := range keys {
			if strings.HasPrefix(k, "docs/") {
				nk := fmt.Sprintf("docs/r%d-%s", n, path.Base(k))
				files[nk] = files[k]
				delete(files, k)
				return "rename " + k
			}
		}
		files["docs/new.md"] = "new\n"
		return "add docs"
	case op < 19:
		// Delete a whole app; recreated by a later commit.
		a := genApps[g.r.Intn(len(genApps))]
		for _, k := range keys {
			if strings.HasPrefix(k, a+"/") {
				delete(files, k)
			}
		}
		return "delete " + a
	default:
		a := genApps[g.r.Intn(len(genApps))]
		files[a+"/Chart.yaml"] = fmt.Sprintf("%s recreated %d\n", a, n)
		files[a+"/values-prod.yaml"] = fmt.Sprintf("%s prod %d\n", a, n)
		return "recreate " + a
	}
}

// changedSince lists paths whose content differs between two file sets.
func changedSince(base, now map[string]string) []string {
	var out []string
	for k, v := range now {
		if bv, ok := base[k]; !ok || bv != v {
			out = append(out, k)
		}
	}
	for k := range base {
		if _, ok := now[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// history makes about n commits on main, returning the head.
func (g *genRepo) history(n int) plumbing.Hash {
	files := initialFiles()
	head := g.commit(files, g.tick(), "initial")
	for g.commits < n {
		if g.r.Intn(12) != 0 {
			head = g.commit(files, g.tick(), g.mutate(files, g.commits), head)
			continue
		}
		// A side branch from head, main moving on, then a merge.
		forkFiles := clone(files)
		side, sideFiles := head, clone(files)
		sideWhen := g.when
		for range 1 + g.r.Intn(4) {
			// Side commits may be dated before main's newer commits.
			sideWhen = sideWhen.Add(time.Duration(g.r.Intn(3)) * time.Minute)
			side = g.commit(sideFiles, sideWhen, "side: "+g.mutate(sideFiles, g.commits), side)
		}
		for range g.r.Intn(4) {
			head = g.commit(files, g.tick(), g.mutate(files, g.commits), head)
		}
		merged := clone(files)
		kind := g.r.Intn(10)
		if kind > 0 { // kind 0: "ours", side discarded
			mainChanged := changedSince(forkFiles, files)
			for _, p := range changedSince(forkFiles, sideFiles) {
				v, ok := sideFiles[p]
				switch {
				case slices.Contains(mainChanged, p) && g.r.Intn(2) == 0:
					merged[p] = fmt.Sprintf("%s resolved %d\n", p, g.commits)
				case ok:
					merged[p] = v
				default:
					delete(merged, p)
				}
			}
		}
		if kind == 1 { // evil merge: a change of its own
			g.mutate(merged, g.commits)
		}
		when := g.when
		if g.r.Intn(3) == 0 {
			when = g.tick()
		}
		parents := []plumbing.Hash{head, side}
		if kind == 2 {
			parents = []plumbing.Hash{side, head} // side branch first
		}
		head = g.commit(merged, when, "merge", parents...)
		files = merged
	}
	return head
}

func clone(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// write stores the objects as one packfile in a new bare repository at dir
// with refs/heads/main at head.
func (g *genRepo) write(t testing.TB, dir string, head plumbing.Hash) {
	t.Helper()
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{Bare: true,
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")}})
	if err != nil {
		t.Fatal(err)
	}
	w, err := repo.Storer.(storer.PackfileWriter).PackfileWriter()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := packfile.NewEncoder(w, g.st, false).Encode(g.order, 10); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := repo.Storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName("main"), head)); err != nil {
		t.Fatal(err)
	}
}

// generated makes a bare repository with about n random commits.
func generated(t testing.TB, seed int64, n int) (dir string, head plumbing.Hash) {
	t.Helper()
	g := newGenRepo(seed)
	head = g.history(n)
	dir = t.TempDir() + "/remote.git"
	g.write(t, dir, head)
	return dir, head
}
