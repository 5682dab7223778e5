package repo

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"go.uber.org/goleak"

	"github.com/fleetdeck/fleetdeck/config"
)

// remoteWithCommits makes a working repository (the "remote") with n commits
// touching app/values.yaml.
func remoteWithCommits(t *testing.T, n int) *cliRepo {
	c := newCLIRepo(t)
	for i := range n {
		c.write("app/values.yaml", strings.Repeat("v", i+1))
		c.commit("bump")
	}
	return c
}

func repoCfg(url string) config.Repository {
	return config.Repository{Name: "fleet-gitops", URL: url, Branch: "main"}
}

func TestOpenClonesWithPrivatePermissions(t *testing.T) {
	remote := remoteWithCommits(t, 2)
	cache := filepath.Join(t.TempDir(), "fleetdeck", "git")
	r, err := Open(context.Background(), repoCfg(remote.dir), cache, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	want := strings.TrimSpace(remote.git("rev-parse", "HEAD"))
	if r.Head().String() != want {
		t.Errorf("Head = %s, want %s", r.Head(), want)
	}
	if !strings.HasPrefix(filepath.Base(r.Dir()), "fleet-gitops-") || filepath.Dir(r.Dir()) != cache {
		t.Errorf("clone dir %s, want %s/fleet-gitops-<hash>", r.Dir(), cache)
	}
	for _, d := range []string{cache, r.Dir()} {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o700 {
			t.Errorf("%s has mode %o, want 700", d, perm)
		}
	}
	// A full clone: every commit is there (not shallow).
	if n := strings.TrimSpace(gitCLI(t, r.Dir(), gitEnv(t.TempDir()), "rev-list", "--count", "HEAD")); n != "2" {
		t.Errorf("clone has %s commits, want 2", n)
	}
	if _, err := os.Stat(filepath.Join(r.Dir(), "shallow")); err == nil {
		t.Error("clone is shallow")
	}
	st := r.Status()
	if st.LastFetch.IsZero() || st.Err != nil || st.Recovered != "" {
		t.Errorf("Status = %+v, want a successful fetch", st)
	}
	if other := CloneDir(cache, repoCfg(remote.dir+"/")); other == r.Dir() {
		t.Error("a different URL maps to the same clone directory")
	}
}

func TestDefaultDir(t *testing.T) {
	env := map[string]string{"XDG_CACHE_HOME": "/x/cache"}
	d, err := DefaultDir(func(k string) string { return env[k] })
	if err != nil || d != "/x/cache/fleetdeck/git" {
		t.Errorf("DefaultDir = %q, %v", d, err)
	}
}

func TestFetchPicksUpNewCommits(t *testing.T) {
	remote := remoteWithCommits(t, 1)
	r := openRemote(t, remote.dir)
	changed, err := r.Fetch(context.Background())
	if err != nil || changed {
		t.Fatalf("Fetch with nothing new = %v, %v; want false, nil", changed, err)
	}
	remote.write("app/values.yaml", "new")
	c2 := remote.commit("bump again")
	changed, err = r.Fetch(context.Background())
	if err != nil || !changed {
		t.Fatalf("Fetch after a push = %v, %v; want true, nil", changed, err)
	}
	if r.Head().String() != c2 {
		t.Errorf("Head = %s, want %s", r.Head(), c2)
	}
	got, err := r.PathCommitHashes(plumbing.ZeroHash, []string{"app"}, 0)
	if err != nil || len(got) != 2 || got[0].String() != c2 {
		t.Errorf("PathCommitHashes after fetch = %v, %v; want 2 commits, newest %s", got, err, c2)
	}
	// Reopening an existing clone fetches too.
	remote.write("app/values.yaml", "newer")
	c3 := remote.commit("bump 3")
	r2, err := Open(context.Background(), repoCfg(remote.dir), filepath.Dir(r.Dir()), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if r2.Head().String() != c3 || r2.Dir() != r.Dir() {
		t.Errorf("reopened: Head %s dir %s, want %s in %s", r2.Head(), r2.Dir(), c3, r.Dir())
	}
}

func TestRunNotifiesChanges(t *testing.T) {
	defer goleak.VerifyNone(t)
	remote := remoteWithCommits(t, 1)
	r := openRemote(t, remote.dir)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx, 20*time.Millisecond) }()
	defer func() { cancel(); <-done }()

	remote.write("app/values.yaml", "new")
	c2 := remote.commit("bump")
	select {
	case <-r.Changed():
	case <-time.After(10 * time.Second):
		t.Fatal("no change notified after a push")
	}
	if r.Head().String() != c2 {
		t.Errorf("Head = %s, want %s", r.Head(), c2)
	}
	// The fetch error appearing is a change too.
	if err := os.RemoveAll(filepath.Join(remote.dir, ".git")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.Changed():
	case <-time.After(10 * time.Second):
		t.Fatal("no change notified when the remote went away")
	}
	if r.Status().Err == nil {
		t.Error("Status().Err is nil after the remote went away")
	}
}

// closedPort returns a 127.0.0.1 port nobody listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

func TestUnreachableRemoteKeepsCachedData(t *testing.T) {
	remote := remoteWithCommits(t, 3)
	r := openRemote(t, remote.dir)
	head := r.Head()
	if err := os.RemoveAll(remote.dir); err != nil {
		t.Fatal(err)
	}
	changed, err := r.Fetch(context.Background())
	var fe *FetchError
	if changed || !errors.As(err, &fe) {
		t.Fatalf("Fetch from a removed remote = %v, %v; want a *FetchError", changed, err)
	}
	if !strings.Contains(err.Error(), "repository fleet-gitops") || !strings.Contains(err.Error(), "using cached data from") {
		t.Errorf("error %q should name the repository and the age of the cached data", err)
	}
	if r.Head() != head {
		t.Errorf("Head changed to %s after a failed fetch", r.Head())
	}
	if got, err := r.PathCommitHashes(plumbing.ZeroHash, []string{"app"}, 0); err != nil || len(got) != 3 {
		t.Errorf("history after a failed fetch = %d commits, %v; want 3", len(got), err)
	}
	if st := r.Status(); st.Err == nil || st.LastAttempt.Before(st.LastFetch) {
		t.Errorf("Status = %+v, want the error and a later attempt", st)
	}
	// Reopening with the remote gone still serves the clone, with the error.
	r2, err := Open(context.Background(), repoCfg(remote.dir), filepath.Dir(r.Dir()), nil)
	if r2 == nil || !errors.As(err, &fe) {
		t.Fatalf("Open with the remote gone = %v, %v; want the cached clone and a *FetchError", r2, err)
	}
	defer r2.Close()
	if r2.Head() != head {
		t.Errorf("reopened Head = %s, want %s", r2.Head(), head)
	}
}

func TestUnreachableHTTPRemoteMasksCredentials(t *testing.T) {
	addr := closedPort(t)
	tests := []struct {
		name   string
		cfg    config.Repository
		env    map[string]string
		secret string
	}{
		{"password in URL", config.Repository{Name: "infra", URL: "http://deploy:s3cr3t-pw@" + addr + "/org/infra.git"}, nil, "s3cr3t-pw"},
		{"token from env", config.Repository{Name: "infra", URL: "http://" + addr + "/org/infra.git",
			Auth: config.RepoAuth{Method: config.AuthToken, TokenEnv: "GIT_TOKEN", Username: "bot"}},
			map[string]string{"GIT_TOKEN": "tok-abcdef123"}, "tok-abcdef123"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			r, err := Open(ctx, tt.cfg, t.TempDir(), func(k string) string { return tt.env[k] }, Options{FetchTimeout: 10 * time.Second})
			if r != nil || err == nil {
				t.Fatalf("Open of an unreachable remote = %v, %v; want an error", r, err)
			}
			msg := err.Error()
			if strings.Contains(msg, tt.secret) {
				t.Errorf("error leaks the secret: %s", msg)
			}
			if !strings.Contains(msg, "repository infra") || !strings.Contains(msg, addr) {
				t.Errorf("error %q should name the repository and the remote", msg)
			}
		})
	}
	// A token env var that is unset is reported before any network access.
	_, err := Open(context.Background(), config.Repository{Name: "infra", URL: "https://example.invalid/x.git",
		Auth: config.RepoAuth{Method: config.AuthToken, TokenEnv: "MISSING_TOKEN"}}, t.TempDir(), func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "MISSING_TOKEN") {
		t.Errorf("Open with an unset token variable: %v", err)
	}
}

func TestMaskCredentials(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://user:pw@github.com/o/r.git", "https://***@github.com/o/r.git"},
		{`Get "https://x-access-token:ghs_123@host/r/info/refs": EOF`, `Get "https://***@host/r/info/refs": EOF`},
		{"ssh://git@host:22/r.git", "ssh://***@host:22/r.git"},
		{"git@github.com:o/r.git", "git@github.com:o/r.git"},
		{"fetch /srv/git/r.git: not found", "fetch /srv/git/r.git: not found"},
		{"token SECRET in text", "token *** in text"},
	}
	for _, tt := range tests {
		if got := MaskCredentials(tt.in, "SECRET"); got != tt.want {
			t.Errorf("MaskCredentials(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCorruptCloneIsClonedAgain(t *testing.T) {
	tests := []struct {
		name    string
		corrupt func(t *testing.T, dir string)
	}{
		{"missing objects", func(t *testing.T, dir string) {
			for _, sub := range []string{"objects/pack"} {
				if err := os.RemoveAll(filepath.Join(dir, sub)); err != nil {
					t.Fatal(err)
				}
			}
			entries, _ := os.ReadDir(filepath.Join(dir, "objects"))
			for _, e := range entries {
				if len(e.Name()) == 2 { // loose objects
					_ = os.RemoveAll(filepath.Join(dir, "objects", e.Name()))
				}
			}
		}},
		{"broken branch ref", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "refs/remotes/origin/main"), "not a sha\n")
			_ = os.Remove(filepath.Join(dir, "packed-refs"))
		}},
		{"broken HEAD", func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "HEAD"), "garbage") }},
		{"no config", func(t *testing.T, dir string) { _ = os.Remove(filepath.Join(dir, "config")) }},
		{"garbage config", func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "config"), "[[[ nope") }},
		{"not a repository", func(t *testing.T, dir string) {
			_ = os.RemoveAll(dir)
			writeFile(t, filepath.Join(dir, "stray.txt"), "x")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			remote := remoteWithCommits(t, 2)
			r := openRemote(t, remote.dir)
			dir, head := r.Dir(), r.Head()
			_ = r.Close()
			tt.corrupt(t, dir)
			r2, err := Open(context.Background(), repoCfg(remote.dir), filepath.Dir(dir), nil)
			if err != nil {
				t.Fatalf("Open of a corrupt clone: %v", err)
			}
			defer r2.Close()
			if r2.Head() != head || r2.Dir() != dir {
				t.Errorf("after recovery Head %s dir %s, want %s in %s", r2.Head(), r2.Dir(), head, dir)
			}
			if rec := r2.Status().Recovered; !strings.Contains(rec, "cloned again") {
				t.Errorf("Status().Recovered = %q, want the reason", rec)
			}
			if got, err := r2.PathCommitHashes(plumbing.ZeroHash, []string{"app"}, 0); err != nil || len(got) != 2 {
				t.Errorf("history after recovery = %d, %v", len(got), err)
			}
			if leftovers, _ := filepath.Glob(dir + ".clone-*"); len(leftovers) > 0 {
				t.Errorf("temporary clone directories left: %v", leftovers)
			}
		})
	}
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptionFoundByAWalkReclonesOnNextFetch(t *testing.T) {
	remote := remoteWithCommits(t, 3)
	r := openRemote(t, remote.dir)
	// Simulate what a walk does when a parent's object is missing.
	r.mu.Lock()
	r.markCorrupt(plumbing.ErrObjectNotFound)
	r.mu.Unlock()
	if _, err := r.Fetch(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Status().Recovered, "cloned again") {
		t.Errorf("Recovered = %q", r.Status().Recovered)
	}
	if got, err := r.PathCommitHashes(plumbing.ZeroHash, []string{"app"}, 0); err != nil || len(got) != 3 {
		t.Errorf("history after re-clone = %d, %v", len(got), err)
	}
}

// TestAnyFetchNotifies: a fetch outside Run (a revert fetching back what it pushed) that moves
// the head notifies Changed, so the engine renders the new head; Run's next fetch, which finds
// nothing new, must not be the only chance.
func TestAnyFetchNotifies(t *testing.T) {
	remote := remoteWithCommits(t, 1)
	r := openRemote(t, remote.dir)
	select {
	case <-r.Changed():
		t.Fatal("Open left a change notification: the head it returned with is no change")
	default:
	}
	remote.write("app/values.yaml", "pushed by a revert")
	c2 := remote.commit("revert")
	if changed, err := r.Fetch(context.Background()); err != nil || !changed {
		t.Fatalf("Fetch = %v, %v; want a moved head", changed, err)
	}
	select {
	case <-r.Changed():
	default:
		t.Fatal("a fetch that moved the head to " + c2 + " did not notify Changed")
	}
	if changed, err := r.Fetch(context.Background()); err != nil || changed {
		t.Fatalf("second Fetch = %v, %v; want nothing new", changed, err)
	}
	select {
	case <-r.Changed():
		t.Fatal("a fetch that found nothing new notified Changed")
	default:
	}
}
