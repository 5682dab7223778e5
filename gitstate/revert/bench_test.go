package revert

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
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

	"github.com/fleetdeck/fleetdeck/config"
	"github.com/fleetdeck/fleetdeck/gitstate/repo"
)

// bigRepo writes a linear history of n commits over 40 applications'
// values files (k8s/<app>/values.yaml), one file changed per commit; the app
// "auth" is changed by about touched of them. It returns the bare repository.
func bigRepo(tb testing.TB, n, touched int) string {
	tb.Helper()
	st := memory.NewStorage()
	var order []plumbing.Hash
	seen := map[plumbing.Hash]bool{}
	put := func(obj plumbing.EncodedObject) plumbing.Hash {
		h, err := st.SetEncodedObject(obj)
		if err != nil {
			tb.Fatal(err)
		}
		if !seen[h] {
			seen[h] = true
			order = append(order, h)
		}
		return h
	}
	blob := func(s string) plumbing.Hash {
		obj := st.NewEncodedObject()
		obj.SetType(plumbing.BlobObject)
		w, _ := obj.Writer()
		_, _ = w.Write([]byte(s))
		_ = w.Close()
		return put(obj)
	}
	tree := func(entries []object.TreeEntry) plumbing.Hash {
		sort.Sort(object.TreeEntrySorter(entries))
		obj := st.NewEncodedObject()
		if err := (&object.Tree{Entries: entries}).Encode(obj); err != nil {
			tb.Fatal(err)
		}
		return put(obj)
	}
	apps := []string{"auth"}
	for i := 1; i < 40; i++ {
		apps = append(apps, fmt.Sprintf("svc-%02d", i))
	}
	appTrees := map[string]plumbing.Hash{}
	for _, a := range apps {
		appTrees[a] = tree([]object.TreeEntry{{Name: "values.yaml", Mode: filemode.Regular, Hash: blob("image:\n  tag: v0\n")}})
	}
	rng := rand.New(rand.NewSource(1))
	when := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var parent plumbing.Hash
	for i := range n {
		app := apps[1+rng.Intn(len(apps)-1)]
		if rng.Intn(n) < touched {
			app = "auth"
		}
		appTrees[app] = tree([]object.TreeEntry{{Name: "values.yaml", Mode: filemode.Regular, Hash: blob(fmt.Sprintf("image:\n  tag: v%d\n", i))}})
		var k8s []object.TreeEntry
		for _, a := range apps {
			k8s = append(k8s, object.TreeEntry{Name: a, Mode: filemode.Dir, Hash: appTrees[a]})
		}
		root := tree([]object.TreeEntry{{Name: "k8s", Mode: filemode.Dir, Hash: tree(k8s)}})
		when = when.Add(time.Minute)
		sig := object.Signature{Name: "CI", Email: "ci@example.com", When: when}
		c := &object.Commit{Author: sig, Committer: sig, Message: fmt.Sprintf("bump %s to v%d\n", app, i), TreeHash: root}
		if !parent.IsZero() {
			c.ParentHashes = []plumbing.Hash{parent}
		}
		obj := st.NewEncodedObject()
		if err := c.Encode(obj); err != nil {
			tb.Fatal(err)
		}
		parent = put(obj)
	}
	dir := filepath.Join(tb.TempDir(), "big.git")
	g, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{Bare: true,
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")}})
	if err != nil {
		tb.Fatal(err)
	}
	w, err := g.Storer.(storer.PackfileWriter).PackfileWriter()
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := packfile.NewEncoder(w, st, false).Encode(order, 10); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := g.Storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName("main"), parent)); err != nil {
		tb.Fatal(err)
	}
	return dir
}

func exitStderr(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkHistoryVsGit measures the targets on a generated
// 30,000-commit repository whose app path is touched by about 1,180 commits:
// the newest 50 commits of the path with `git log -n 50 -- PATH` against
// fleetdeck's first listing in a process, a later listing, and the first
// listing after a restart (the clone reopened), plus planning and committing
// a revert. The figures are printed, not asserted: the machine's load decides
// them. Run: go test ./gitstate/revert -run '^$' -bench HistoryVsGit -benchtime 1x
func BenchmarkHistoryVsGit(b *testing.B) {
	if _, err := os.Stat(gitBin); err != nil {
		b.Skipf("git CLI not available: %v", err)
	}
	const commits, touched, limit = 30000, 1180, 50
	start := time.Now()
	remote := bigRepo(b, commits, touched)
	b.Logf("generated %d commits in %s", commits, time.Since(start).Round(time.Millisecond))
	path := "k8s/auth"

	gitLog := func() ([]string, time.Duration) {
		t0 := time.Now()
		out, err := exec.Command(gitBin, "-C", remote, "log", "-n", fmt.Sprint(limit), "--format=%H", "--", path).Output()
		if err != nil {
			b.Fatalf("git log: %v %s", err, exitStderr(err))
		}
		return strings.Fields(string(out)), time.Since(t0)
	}
	var gitTimes []time.Duration
	var want []string
	for range 5 {
		w, d := gitLog()
		want = w
		gitTimes = append(gitTimes, d)
	}
	total, err := exec.Command(gitBin, "-C", remote, "rev-list", "--count", "HEAD", "--", path).Output()
	if err != nil {
		b.Fatal(err)
	}

	cache := b.TempDir()
	cfg := config.Repository{Name: "big", URL: remote, Branch: "main"}
	open := func() *repo.Repo {
		r, err := repo.Open(context.Background(), cfg, cache, func(string) string { return "" })
		if err != nil {
			b.Fatal(err)
		}
		return r
	}
	list := func(r *repo.Repo) time.Duration {
		t0 := time.Now()
		hs, err := r.PathCommitHashes(plumbing.ZeroHash, []string{path}, limit)
		d := time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		var got []string
		for _, h := range hs {
			got = append(got, h.String())
		}
		if !slices.Equal(got, want) {
			b.Fatalf("fleetdeck lists %d commits, git %d; first differences: %v vs %v", len(got), len(want), got[:min(3, len(got))], want[:min(3, len(want))])
		}
		return d
	}
	t0 := time.Now()
	r := open()
	cloneTime := time.Since(t0)
	built := r.IndexInfo()
	if built.Err != nil || built.Commits != commits {
		b.Fatalf("path index after the clone: %+v", built)
	}
	first := list(r)
	var later []time.Duration
	for range 5 {
		later = append(later, list(r))
	}
	// A revert of the newest commit of the path, planned, committed and
	// pushed: the fetch after the push indexes the one new commit.
	v, err := New(r, cfg, Options{Identity: Identity{Name: "Bench", Email: "bench@example.com"}, Getenv: func(string) string { return "" }})
	if err != nil {
		b.Fatal(err)
	}
	t0 = time.Now()
	plan, err := v.Plan(context.Background(), Request{App: "auth", Paths: []string{path}, Commit: plumbing.NewHash(want[0])})
	if err != nil {
		b.Fatal(err)
	}
	planTime := time.Since(t0)
	t0 = time.Now()
	res, err := v.Commit(context.Background(), plan)
	if err != nil {
		b.Fatal(err)
	}
	commitTime := time.Since(t0)
	if err := v.Push(context.Background(), res); err != nil {
		b.Fatal(err)
	}
	incr := r.IndexInfo()
	if incr.Added != 1 || incr.Commits != commits+1 {
		b.Fatalf("path index after pushing one commit: %+v", incr)
	}
	// The revert touched the path: git's list changed; time git again.
	for range 5 {
		w, d := gitLog()
		want = w
		gitTimes = append(gitTimes, d)
	}
	afterPush := list(r)
	_ = r.Close()
	r2 := open()
	defer r2.Close()
	restart := list(r2)
	loaded := r2.IndexInfo()

	g := median(gitTimes)
	ratio := func(d time.Duration) string { return fmt.Sprintf("%.1f× git", float64(d)/float64(g)) }
	fmt.Printf("history of %s (%s commits touch it) in %d commits, newest %d:\n", path, strings.TrimSpace(string(total)), commits, limit)
	fmt.Printf("  git log -n %d -- %s           %8s (median of 10)\n", limit, path, g.Round(time.Microsecond))
	fmt.Printf("  fleetdeck first in a process     %8s  %s (target ≤ 10× git)\n", first.Round(time.Microsecond), ratio(first))
	fmt.Printf("  fleetdeck later listings         %8s  %s (median of 5; target ≤ 2× git)\n", median(later).Round(time.Microsecond), ratio(median(later)))
	fmt.Printf("  fleetdeck after a pushed revert  %8s  %s (target ≤ 2× git)\n", afterPush.Round(time.Microsecond), ratio(afterPush))
	fmt.Printf("  fleetdeck first after a restart  %8s  %s (target ≤ 2× git; reads the index file)\n", restart.Round(time.Microsecond), ratio(restart))
	fmt.Printf("  clone into the cache             %8s (of which building the path index %s)\n", cloneTime.Round(time.Millisecond), built.LastUpdate.Round(time.Millisecond))
	fmt.Printf("path index: %d commits, %d paths, %d bytes on disk (%.1f bytes/commit); update after a fetch of 1 commit %s\n",
		loaded.Commits, loaded.Paths, incr.Bytes, float64(incr.Bytes)/float64(loaded.Commits), incr.LastUpdate.Round(time.Microsecond))
	fmt.Printf("revert of the newest commit: plan %s, commit %s\n", planTime.Round(time.Microsecond), commitTime.Round(time.Microsecond))
	for i := 0; i < b.N; i++ {
		_ = list(r2)
	}
}
