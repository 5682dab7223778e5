// Package monorepo generates the sandbox's GitOps monorepo: a bare git
// repository with Helm, kustomize and plain-YAML services under k8s/ and
// months of CI image bumps and human changes, identical for a given seed.
//
// The history carries the scenario's git-side problems (a crashing bump, a
// `latest` tag, a tag missing from the registry, an instance left behind)
// and Result reports the commits and tags the sandbox and tests need.
package monorepo

import (
	"fmt"
	"io/fs"
	"maps"
	"testing/fstest"
	"time"
)

// Options tunes the generated history. Zero values take the defaults.
type Options struct {
	Seed    int64     // default 1
	Commits int       // total commits (merge and feature-branch commits included), default 360, at least 300
	Start   time.Time // author date of the first commit, default 2026-03-02T09:00:00Z; commits spread over ~6 months, weekdays/work hours mostly
}

// Defaults applied by Generate.
const (
	DefaultSeed    = 1
	DefaultCommits = 360
	MinCommits     = 300
)

// DefaultStart is the author date of the first commit when Options.Start is zero.
var DefaultStart = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// Result describes the generated repository.
type Result struct {
	Head    string // sha of the branch (scenario.Branch)
	Commits int    // commits reachable from Head

	// Tags: app -> env ("prod"/"stage") -> image tag at HEAD. For kustomize
	// the tag in overlays/<overlay>; for plain YAML the tag in the
	// deployment (the same for both environments).
	Tags map[string]map[string]string
	// Replicas: app -> env -> replicas declared at HEAD.
	Replicas map[string]map[string]int

	// BadBumpCommit bumped scenario.BadBump's app, in its environment, to
	// BadTag; it is the newest commit touching that app.
	BadBumpCommit    string
	BadTag           string
	GoodTagBeforeBad string
	// BehindRevision is the commit the scenario.Behind instance is live at:
	// scenario.BehindBy commits touching the app's path older than the
	// newest, and every newer one changes what that environment renders.
	BehindRevision string
	// PullFailureTag is set in git for scenario.PullFailure's app and
	// environment and is absent from RegistryTags.
	PullFailureTag    string
	PullFailureCommit string
	// LatestTagCommit set scenario.LatestTag's app to `latest`.
	LatestTagCommit string
	// MergeCommit is the two-parent merge of a feature branch into the branch.
	MergeCommit string
	// RegistryTags: app -> every tag CI pushed, oldest first: all tags
	// bot-bumped or present at the first commit, plus "latest" (CI pushes it
	// with every build), never PullFailureTag.
	RegistryTags map[string][]string

	files map[string]string
}

// Files returns the files of the repository at Head (path -> content).
func (r *Result) Files() map[string]string { return maps.Clone(r.files) }

// FS returns the files of the repository at Head as a file system.
func (r *Result) FS() fs.FS {
	m := fstest.MapFS{}
	for p, c := range r.files {
		m[p] = &fstest.MapFile{Data: []byte(c), Mode: 0o644}
	}
	return m
}

// Generate writes a bare repository at dir (created; it must not exist or
// must be empty) whose branch scenario.Branch holds the generated history,
// with HEAD pointing at that branch.
func Generate(dir string, opts Options) (*Result, error) {
	g, err := generate(opts)
	if err != nil {
		return nil, err
	}
	if err := g.objs.writeRepo(dir, g.branch, g.mainHead); err != nil {
		return nil, err
	}
	return g.res, nil
}

// Files generates the history in memory only and returns the files at
// its head (path -> content), for tests that render without git.
func Files(opts Options) (map[string]string, error) {
	g, err := generate(opts)
	if err != nil {
		return nil, err
	}
	return g.res.Files(), nil
}

func (o Options) withDefaults() (Options, error) {
	if o.Seed == 0 {
		o.Seed = DefaultSeed
	}
	if o.Commits == 0 {
		o.Commits = DefaultCommits
	}
	if o.Commits < MinCommits {
		return o, fmt.Errorf("monorepo: %d commits requested, at least %d needed", o.Commits, MinCommits)
	}
	if o.Start.IsZero() {
		o.Start = DefaultStart
	}
	return o, nil
}
