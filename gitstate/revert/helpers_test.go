package revert

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fleetdeck/fleetdeck/config"
	"github.com/fleetdeck/fleetdeck/gitstate/repo"
)

const gitBin = "/usr/bin/git"

// world is a bare remote, a work clone the tests commit in with the git CLI,
// and fleetdeck's clone of the remote.
type world struct {
	t      testing.TB
	home   string
	remote string // bare
	work   string // a clone that commits and pushes
	cache  string
	clone  *repo.Repo
}

func gitEnv(home string) []string {
	return append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.com")
}

// git runs the git CLI in dir and fails the test on error.
func (w *world) git(dir string, args ...string) string {
	w.t.Helper()
	out, err := w.tryGit(dir, args...)
	if err != nil {
		w.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// gitEnv runs git in the work clone with extra environment.
func (w *world) gitEnv(env []string, args ...string) string {
	w.t.Helper()
	out, err := w.tryGitEnv(w.work, env, args...)
	if err != nil {
		w.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (w *world) tryGit(dir string, args ...string) (string, error) {
	return w.tryGitEnv(dir, nil, args...)
}

func (w *world) tryGitEnv(dir string, env []string, args ...string) (string, error) {
	cmd := exec.Command(gitBin, append([]string{"-C", dir}, args...)...)
	cmd.Env = append(gitEnv(w.home), env...)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func newWorld(t testing.TB) *world {
	t.Helper()
	if _, err := os.Stat(gitBin); err != nil {
		t.Skipf("git CLI not available: %v", err)
	}
	base := t.TempDir()
	w := &world{t: t, home: filepath.Join(base, "home"), remote: filepath.Join(base, "remote.git"),
		work: filepath.Join(base, "work"), cache: filepath.Join(base, "cache")}
	if err := os.MkdirAll(w.home, 0o755); err != nil {
		t.Fatal(err)
	}
	w.git(base, "init", "-q", "--bare", "-b", "main", w.remote)
	w.git(base, "clone", "-q", w.remote, w.work)
	w.git(w.work, "checkout", "-q", "-b", "main")
	return w
}

func (w *world) write(name, content string) {
	w.t.Helper()
	p := filepath.Join(w.work, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		w.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) remove(name string) {
	w.t.Helper()
	w.git(w.work, "rm", "-q", name)
}

// commit commits everything in the work clone and pushes it; it returns the sha.
func (w *world) commit(msg string) string {
	w.t.Helper()
	h := w.commitLocal(msg)
	w.git(w.work, "push", "-q", "origin", "main")
	return h
}

func (w *world) commitLocal(msg string) string {
	w.t.Helper()
	w.git(w.work, "add", "-A")
	w.git(w.work, "commit", "-q", "--allow-empty", "-m", msg)
	return w.git(w.work, "rev-parse", "HEAD")
}

// commitQuiet commits without asking for the sha (the git CLI is slow on a
// loaded machine: histories read their shas once at the end).
func (w *world) commitQuiet(msg string) {
	w.t.Helper()
	w.git(w.work, "add", "-A")
	w.git(w.work, "commit", "-q", "--allow-empty", "-m", msg)
}

// open opens fleetdeck's clone of the remote.
func (w *world) open() *repo.Repo {
	w.t.Helper()
	r, err := repo.Open(context.Background(), w.cfg(), w.cache, func(string) string { return "" })
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { r.Close() })
	w.clone = r
	return r
}

func (w *world) cfg() config.Repository {
	return config.Repository{Name: "fleet", URL: w.remote, Branch: "main"}
}

var testWhen = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func (w *world) reverter(readOnly bool) *Reverter {
	w.t.Helper()
	v, err := New(w.clone, w.cfg(), Options{ReadOnly: readOnly, Identity: Identity{Name: "Ada Ops", Email: "ada@example.com"},
		Version: "v0.0.0-test", Getenv: func(string) string { return "" }, Now: func() time.Time { return testWhen }})
	if err != nil {
		w.t.Fatal(err)
	}
	return v
}

// randomHistory commits n random changes to values-like files under
// apps/a, apps/b and shared: lines edited, inserted and deleted, files
// added and removed (never in a way git would take for a rename), and
// returns the commits oldest first.
func (w *world) randomHistory(seed int64, n int) []string {
	w.t.Helper()
	rng := rand.New(rand.NewSource(seed))
	files := map[string][]string{}
	word := func() string { return fmt.Sprintf("%x", rng.Int63()) }
	newFile := func() []string {
		lines := make([]string, 4+rng.Intn(8))
		for i := range lines {
			lines[i] = fmt.Sprintf("key-%s: %s", word(), word())
		}
		return lines
	}
	dirs := []string{"apps/a", "apps/b", "shared"}
	for i, d := range dirs {
		name := fmt.Sprintf("%s/values-%d.yaml", d, i)
		files[name] = newFile()
	}
	flush := func() {
		for name, lines := range files {
			w.write(name, strings.Join(lines, "\n")+"\n")
		}
	}
	flush()
	w.commitQuiet("initial")
	names := func() []string {
		var out []string
		for n := range files {
			out = append(out, n)
		}
		slices.Sort(out)
		return out
	}
	for i := 1; i < n; i++ {
		touched := 1 + rng.Intn(2)
		for range touched {
			ns := names()
			name := ns[rng.Intn(len(ns))]
			lines := files[name]
			switch op := rng.Intn(10); {
			case op < 5 && len(lines) > 0: // a bump: change one line's value
				j := rng.Intn(len(lines))
				key, _, _ := strings.Cut(lines[j], ":")
				lines[j] = key + ": " + word()
			case op < 7: // insert a line
				j := rng.Intn(len(lines) + 1)
				lines = append(lines[:j], append([]string{"added-" + word() + ": " + word()}, lines[j:]...)...)
			case op < 8 && len(lines) > 1: // delete a line
				j := rng.Intn(len(lines))
				lines = append(lines[:j], lines[j+1:]...)
			case op < 9 && len(files) < 8: // a new file
				d := dirs[rng.Intn(len(dirs))]
				files[fmt.Sprintf("%s/new-%s.yaml", d, word()[:6])] = newFile()
				continue
			case len(files) > 3: // remove a file
				delete(files, name)
				w.remove(name)
				continue
			}
			files[name] = lines
		}
		flush()
		w.commitQuiet(fmt.Sprintf("change %d", i))
	}
	w.git(w.work, "push", "-q", "origin", "main")
	return strings.Fields(w.git(w.work, "rev-list", "--reverse", "HEAD"))
}
