package monorepo

import (
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

const gitBin = "/usr/bin/git"

// gitCLI runs the git CLI, the oracle for what the generated repository holds.
func gitCLI(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(gitBin, append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+t.TempDir())
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

var (
	defaultOnce sync.Once
	defaultDir  string
	defaultRes  *Result
	defaultTook time.Duration
	defaultErr  error
)

// generated returns the repository generated with default options, made
// once for the whole test binary.
func generated(t *testing.T) (string, *Result) {
	t.Helper()
	if _, err := os.Stat(gitBin); err != nil {
		t.Skipf("git CLI not available: %v", err)
	}
	defaultOnce.Do(func() {
		base, err := os.MkdirTemp("", "monorepo-test-")
		if err != nil {
			defaultErr = err
			return
		}
		defaultDir = filepath.Join(base, "fleet-gitops.git")
		start := time.Now()
		defaultRes, defaultErr = Generate(defaultDir, Options{})
		defaultTook = time.Since(start)
	})
	if defaultErr != nil {
		t.Fatal(defaultErr)
	}
	return defaultDir, defaultRes
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if defaultDir != "" {
		_ = os.RemoveAll(filepath.Dir(defaultDir))
	}
	os.Exit(code)
}

func TestGenerationTime(t *testing.T) {
	_, res := generated(t)
	t.Logf("Generate: %d commits in %v", res.Commits, defaultTook)
	if defaultTook > 5*time.Second {
		t.Errorf("Generate took %v for %d commits, want well under 5s", defaultTook, res.Commits)
	}
}

func TestDeterministic(t *testing.T) {
	dir, want := generated(t)
	againDir := filepath.Join(t.TempDir(), "r")
	again, err := Generate(againDir, Options{Seed: 1, Commits: DefaultCommits, Start: DefaultStart})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, want) {
		t.Errorf("same seed, different result: head %s vs %s", again.Head, want.Head)
	}
	// Even the packfile is byte-identical (its name is its checksum).
	packs := func(d string) []string {
		m, _ := filepath.Glob(filepath.Join(d, "objects", "pack", "*.pack"))
		for i := range m {
			m[i] = filepath.Base(m[i])
		}
		return m
	}
	if a, b := packs(dir), packs(againDir); len(a) != 1 || !slices.Equal(a, b) {
		t.Errorf("packfiles %v and %v, want one identical pack", a, b)
	}
	other, err := Generate(filepath.Join(t.TempDir(), "r"), Options{Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if other.Head == want.Head {
		t.Errorf("seeds 1 and 2 gave the same head %s", want.Head)
	}
	files, err := Files(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(files, want.Files()) {
		t.Error("Files(Options{}) differs from the generated repository's files")
	}
}

// TestGolden pins the default repository, so a change of the generator or
// of anything it depends on (math/rand, go-git's encoding) that changes
// commit hashes is noticed. Run with -update after an intended change.
func TestGolden(t *testing.T) {
	_, res := generated(t)
	got, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "default-result.json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("result differs from %s (run go test -update if intended):\n%s", path, got)
	}
}

func TestOptions(t *testing.T) {
	if _, err := Generate(filepath.Join(t.TempDir(), "r"), Options{Commits: 50}); err == nil {
		t.Error("50 commits: want an error")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(dir, Options{}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("non-empty directory: err = %v, want 'not empty'", err)
	}
	empty := t.TempDir()
	res, err := Generate(empty, Options{Commits: 1000, Seed: 7, Start: time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatalf("existing empty directory, 1000 commits: %v", err)
	}
	if n := gitCLI(t, empty, "rev-list", "--count", "main"); strings.TrimSpace(n) != "1000" || res.Commits != 1000 {
		t.Errorf("rev-list --count = %s, Result.Commits = %d, want 1000", n, res.Commits)
	}
	if first := lines(gitCLI(t, empty, "log", "--reverse", "--format=%aI"))[0]; first != "2025-01-06T10:00:00+01:00" {
		t.Errorf("first commit date %s, want Options.Start", first)
	}
}

func TestRepositoryShape(t *testing.T) {
	dir, res := generated(t)
	if out := gitCLI(t, dir, "fsck", "--strict", "--no-dangling"); strings.TrimSpace(out) != "" {
		t.Errorf("git fsck --strict: %s", out)
	}
	if got := strings.TrimSpace(gitCLI(t, dir, "symbolic-ref", "HEAD")); got != "refs/heads/"+scenario.Branch {
		t.Errorf("HEAD -> %s", got)
	}
	if got := lines(gitCLI(t, dir, "for-each-ref", "--format=%(refname)")); !slices.Equal(got, []string{"refs/heads/" + scenario.Branch}) {
		t.Errorf("refs = %v, want only the branch", got)
	}
	if got := strings.TrimSpace(gitCLI(t, dir, "rev-parse", scenario.Branch)); got != res.Head {
		t.Errorf("branch at %s, Result.Head %s", got, res.Head)
	}
	n, _ := strconv.Atoi(strings.TrimSpace(gitCLI(t, dir, "rev-list", "--count", scenario.Branch)))
	if n < MinCommits || n != res.Commits {
		t.Errorf("rev-list --count = %d, Result.Commits = %d, want >= %d and equal", n, res.Commits, MinCommits)
	}
	clone := filepath.Join(t.TempDir(), "clone")
	gitCLI(t, dir, "clone", "--quiet", dir, clone)
	if got := strings.TrimSpace(gitCLI(t, clone, "rev-parse", "HEAD")); got != res.Head {
		t.Errorf("clone checks out %s, want %s", got, res.Head)
	}
	if out := gitCLI(t, clone, "status", "--porcelain"); out != "" {
		t.Errorf("fresh clone is dirty: %s", out)
	}
	top := lines(gitCLI(t, dir, "ls-tree", "--name-only", "HEAD"))
	if !slices.Equal(top, []string{"README.md", "ci", "k8s"}) {
		t.Errorf("top level = %v, want README.md ci k8s", top)
	}
	for _, a := range scenario.Apps {
		if out := gitCLI(t, dir, "ls-tree", "-d", "--name-only", "HEAD", a.Path); strings.TrimSpace(out) != a.Path {
			t.Errorf("no directory %s at HEAD", a.Path)
		}
	}
}

func TestMergeCommit(t *testing.T) {
	dir, res := generated(t)
	merges := lines(gitCLI(t, dir, "rev-list", "--merges", scenario.Branch))
	if !slices.Equal(merges, []string{res.MergeCommit}) {
		t.Fatalf("merges = %v, want [%s]", merges, res.MergeCommit)
	}
	parents := strings.Fields(gitCLI(t, dir, "log", "-1", "--format=%P", res.MergeCommit))
	if len(parents) != 2 {
		t.Fatalf("merge has parents %v", parents)
	}
	// The feature branch forked from the branch and was merged later: its
	// commits are reachable only through the second parent.
	side := lines(gitCLI(t, dir, "rev-list", parents[1], "^"+parents[0]))
	if len(side) < 2 {
		t.Errorf("feature branch has %d commits of its own, want >= 2", len(side))
	}
	fp, _ := strconv.Atoi(strings.TrimSpace(gitCLI(t, dir, "rev-list", "--count", "--first-parent", scenario.Branch)))
	if fp != res.Commits-len(side) {
		t.Errorf("first-parent history has %d commits, want %d", fp, res.Commits-len(side))
	}
	// `git merge` of the two parents gives the same tree: the merge is clean.
	tree := strings.TrimSpace(gitCLI(t, dir, "rev-parse", res.MergeCommit+"^{tree}"))
	mt := lines(gitCLI(t, dir, "merge-tree", "--write-tree", parents[0], parents[1]))
	if len(mt) == 0 || mt[0] != tree {
		t.Errorf("git merge-tree of the parents = %v, merge commit tree %s", mt, tree)
	}
}

func TestHistory(t *testing.T) {
	dir, _ := generated(t)
	type info struct {
		author, email, date, parents string
	}
	commits := map[string]info{}
	var order []string
	bots := 0
	for _, l := range lines(gitCLI(t, dir, "log", "--format=%H|%an|%ae|%at|%cn|%ce|%ct|%P", scenario.Branch)) {
		f := strings.Split(l, "|")
		if f[1] != f[4] || f[2] != f[5] || f[3] != f[6] {
			t.Errorf("commit %s: committer %s <%s> %s differs from author %s <%s> %s", f[0], f[4], f[5], f[6], f[1], f[2], f[3])
		}
		commits[f[0]] = info{f[1], f[2], f[3], f[7]}
		order = append(order, f[0])
		if f[1] == bot.name {
			bots++
		}
	}
	if share := float64(bots) / float64(len(order)); share < 0.75 || share > 0.92 {
		t.Errorf("bot commits %d of %d (%.0f%%), want about 85%%", bots, len(order), 100*share)
	}
	weekdays := 0
	for _, h := range order {
		c := commits[h]
		at, _ := strconv.ParseInt(c.date, 10, 64)
		for _, p := range strings.Fields(c.parents) {
			pt, _ := strconv.ParseInt(commits[p].date, 10, 64)
			if at <= pt {
				t.Errorf("commit %s dated %d, not after its parent %s (%d)", h, at, p, pt)
			}
		}
		if wd := time.Unix(at, 0).UTC().Weekday(); wd != time.Saturday && wd != time.Sunday {
			weekdays++
		}
	}
	if weekdays != len(order) {
		t.Errorf("%d of %d commits on weekdays, want all", weekdays, len(order))
	}
	first, _ := strconv.ParseInt(commits[order[len(order)-1]].date, 10, 64)
	last, _ := strconv.ParseInt(commits[order[0]].date, 10, 64)
	if span := time.Duration(last-first) * time.Second; span < 150*24*time.Hour || span > 200*24*time.Hour {
		t.Errorf("history spans %v, want about 6 months", span)
	}
	humanNames := map[string]bool{}
	for _, c := range commits {
		if c.author != bot.name {
			humanNames[c.author] = true
		}
	}
	if len(humanNames) < 3 {
		t.Errorf("human authors %v, want a few", humanNames)
	}

	// Acceptance: the prod values file of a chart is mostly bumped by CI.
	authors := lines(gitCLI(t, dir, "log", "--format=%an", "--", "k8s/auth-service/values-prod.yaml"))
	nb := 0
	for _, a := range authors {
		if a == bot.name {
			nb++
		}
	}
	if len(authors) < 10 || nb*10 < len(authors)*7 {
		t.Errorf("values-prod.yaml of auth-service: %d of %d commits by the bot, want most", nb, len(authors))
	}
}

// TestBotCommitsAreOneLineBumps checks that every CI commit changes exactly
// one line of one file, to a tag named after the commit's own time.
func TestBotCommitsAreOneLineBumps(t *testing.T) {
	dir, _ := generated(t)
	out := gitCLI(t, dir, "log", "--author="+bot.email, "-p", "--format=@@C %H %at %s", "--unified=0", scenario.Branch)
	var hash, at, subject string
	var added, removed []string
	check := func() {
		if hash == "" {
			return
		}
		if len(added) != 1 || len(removed) != 1 {
			t.Errorf("bot commit %s changes +%v -%v, want one line", hash, added, removed)
			return
		}
		tag := subject[strings.LastIndex(subject, " ")+1:]
		if !strings.HasSuffix(added[0], ":"+tag) && !strings.HasSuffix(added[0], ": "+tag) {
			t.Errorf("bot commit %s %q adds %q", hash, subject, added[0])
		}
		if !strings.HasSuffix(tag, "-"+at) {
			t.Errorf("bot commit %s: tag %s does not end with its time %s", hash, tag, at)
		}
	}
	n := 0
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, "@@C "):
			check()
			f := strings.SplitN(l, " ", 4)
			hash, at, subject = f[1], f[2], f[3]
			added, removed = nil, nil
			n++
		case strings.HasPrefix(l, "+++") || strings.HasPrefix(l, "---"):
		case strings.HasPrefix(l, "+"):
			added = append(added, l[1:])
		case strings.HasPrefix(l, "-"):
			removed = append(removed, l[1:])
		}
	}
	check()
	if n < 250 {
		t.Errorf("%d bot commits, want most of the history", n)
	}
}

func TestBadBump(t *testing.T) {
	dir, res := generated(t)
	app, _ := scenario.AppByName(problem(t, scenario.BadBump).App)
	env := scenario.Env(problem(t, scenario.BadBump).Cluster)
	newest := strings.TrimSpace(gitCLI(t, dir, "log", "-1", "--format=%H", "--", app.Path))
	if newest != res.BadBumpCommit {
		t.Errorf("newest commit on %s = %s, BadBumpCommit = %s", app.Path, newest, res.BadBumpCommit)
	}
	if got := strings.TrimSpace(gitCLI(t, dir, "log", "-1", "--format=%an", res.BadBumpCommit)); got != bot.name {
		t.Errorf("bad bump by %s", got)
	}
	file := app.Path + "/" + app.ValuesFile(problem(t, scenario.BadBump).Cluster)
	if got := lines(gitCLI(t, dir, "diff-tree", "--no-commit-id", "--name-only", "-r", res.BadBumpCommit)); !slices.Equal(got, []string{file}) {
		t.Errorf("bad bump changes %v, want [%s]", got, file)
	}
	diff := gitCLI(t, dir, "show", "--format=", "--unified=0", res.BadBumpCommit)
	if !strings.Contains(diff, "\n-  tag: "+res.GoodTagBeforeBad+"\n+  tag: "+res.BadTag+"\n") {
		t.Errorf("bad bump diff does not go from %s to %s:\n%s", res.GoodTagBeforeBad, res.BadTag, diff)
	}
	if !strings.HasPrefix(res.BadTag, env+"-") || res.Tags[app.Name][env] != res.BadTag {
		t.Errorf("BadTag %s, Tags[%s][%s] = %s", res.BadTag, app.Name, env, res.Tags[app.Name][env])
	}
	subject := strings.TrimSpace(gitCLI(t, dir, "log", "-1", "--format=%s", res.BadBumpCommit))
	if want := "ci(" + app.Name + "): bump " + env + " image to " + res.BadTag; subject != want {
		t.Errorf("subject %q, want %q", subject, want)
	}
	url := strings.TrimSpace(gitCLI(t, dir, "log", "-1", "--format=%(trailers:key=Build-Url,valueonly)", res.BadBumpCommit))
	if !strings.HasPrefix(url, "https://ci.example.com/") {
		t.Errorf("Build-Url trailer = %q", url)
	}
	if !slices.Contains(res.RegistryTags[app.Name], res.BadTag) || !slices.Contains(res.RegistryTags[app.Name], res.GoodTagBeforeBad) {
		t.Error("bad and good tags must both exist in the registry")
	}
}

func TestBehind(t *testing.T) {
	dir, res := generated(t)
	p := problem(t, scenario.Behind)
	app, _ := scenario.AppByName(p.App)
	for _, path := range []string{app.Path, app.Path + "/" + app.ValuesFile(p.Cluster)} {
		hist := lines(gitCLI(t, dir, "log", "--format=%H", "--", path))
		if len(hist) <= scenario.BehindBy || hist[scenario.BehindBy] != res.BehindRevision {
			t.Errorf("git log -- %s: entry %d is not BehindRevision %s: %v", path, scenario.BehindBy, res.BehindRevision, hist[:min(len(hist), 4)])
		}
	}
	// Both newer commits change what the instance renders.
	hist := lines(gitCLI(t, dir, "log", "--format=%H", "--", app.Path))
	for _, h := range hist[:scenario.BehindBy] {
		files := lines(gitCLI(t, dir, "diff-tree", "--no-commit-id", "--name-only", "-r", h))
		want := app.Path + "/" + app.ValuesFile(p.Cluster)
		if !slices.Equal(files, []string{want}) {
			t.Errorf("commit %s after BehindRevision changes %v, want [%s]", h, files, want)
		}
	}
	env := scenario.Env(p.Cluster)
	tagThen := gitCLI(t, dir, "show", res.BehindRevision+":"+app.Path+"/"+app.ValuesFile(p.Cluster))
	if strings.Contains(tagThen, "tag: "+res.Tags[app.Name][env]+"\n") {
		t.Errorf("BehindRevision already has HEAD's tag %s", res.Tags[app.Name][env])
	}
}

func TestLatestAndPullFailure(t *testing.T) {
	dir, res := generated(t)
	lp := problem(t, scenario.LatestTag)
	app, _ := scenario.AppByName(lp.App)
	env := scenario.Env(lp.Cluster)
	if res.Tags[app.Name][env] != "latest" {
		t.Errorf("Tags[%s][%s] = %s, want latest", app.Name, env, res.Tags[app.Name][env])
	}
	values := gitCLI(t, dir, "show", "HEAD:"+app.Path+"/"+app.ValuesFile(lp.Cluster))
	if !strings.Contains(values, "\n  tag: latest\n") {
		t.Errorf("%s at HEAD does not say tag: latest:\n%s", app.ValuesFile(lp.Cluster), values)
	}
	if a := strings.TrimSpace(gitCLI(t, dir, "log", "-1", "--format=%an", res.LatestTagCommit)); a == bot.name {
		t.Error("latest tag set by the bot, want a human")
	}

	pp := problem(t, scenario.PullFailure)
	papp, _ := scenario.AppByName(pp.App)
	penv := scenario.Env(pp.Cluster)
	if res.PullFailureTag == "" || res.Tags[papp.Name][penv] != res.PullFailureTag {
		t.Errorf("Tags[%s][%s] = %s, PullFailureTag %s", papp.Name, penv, res.Tags[papp.Name][penv], res.PullFailureTag)
	}
	if slices.Contains(res.RegistryTags[papp.Name], res.PullFailureTag) {
		t.Errorf("PullFailureTag %s is in the registry", res.PullFailureTag)
	}
	if newest := strings.TrimSpace(gitCLI(t, dir, "log", "-1", "--format=%H", "-G", "tag:", "--", papp.Path+"/"+papp.ValuesFile(pp.Cluster))); newest != res.PullFailureCommit {
		t.Errorf("newest tag change of %s = %s, want PullFailureCommit %s", papp.ValuesFile(pp.Cluster), newest, res.PullFailureCommit)
	}
	// Every other tag at HEAD exists in the registry.
	for name, byEnv := range res.Tags {
		for e, tag := range byEnv {
			if tag != res.PullFailureTag && !slices.Contains(res.RegistryTags[name], tag) {
				t.Errorf("Tags[%s][%s] = %s is not in the registry", name, e, tag)
			}
		}
	}
}

func problem(t *testing.T, kind scenario.ProblemKind) scenario.Problem {
	t.Helper()
	for _, p := range scenario.Problems {
		if p.Kind == kind {
			return p
		}
	}
	t.Fatalf("scenario has no %s problem", kind)
	return scenario.Problem{}
}

// TestSeeds generates other seeds in memory: the scenario's constraints
// must hold whatever the random choices.
func TestSeeds(t *testing.T) {
	for seed := int64(2); seed <= 12; seed++ {
		g, err := generate(Options{Seed: seed})
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		res := g.res
		bad := problem(t, scenario.BadBump)
		if res.Tags[bad.App][scenario.Env(bad.Cluster)] != res.BadTag || res.BadTag == res.GoodTagBeforeBad {
			t.Errorf("seed %d: bad bump %s -> %s, tag at head %s", seed, res.GoodTagBeforeBad, res.BadTag, res.Tags[bad.App][scenario.Env(bad.Cluster)])
		}
		lt := problem(t, scenario.LatestTag)
		if res.Tags[lt.App][scenario.Env(lt.Cluster)] != "latest" {
			t.Errorf("seed %d: %s not on latest", seed, lt.App)
		}
		pf := problem(t, scenario.PullFailure)
		if res.Tags[pf.App][scenario.Env(pf.Cluster)] != res.PullFailureTag || slices.Contains(res.RegistryTags[pf.App], res.PullFailureTag) {
			t.Errorf("seed %d: pull failure tag %s, tag at head %s", seed, res.PullFailureTag, res.Tags[pf.App][scenario.Env(pf.Cluster)])
		}
		if res.MergeCommit == "" || res.BehindRevision == "" {
			t.Errorf("seed %d: merge %q, behind %q", seed, res.MergeCommit, res.BehindRevision)
		}
	}
}
