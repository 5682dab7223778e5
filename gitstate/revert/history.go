package revert

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/gitstate/facts"
	"github.com/fleetdeck/fleetdeck/gitstate/repo"
)

// Target is one instance of an application whose history is listed: how it
// renders (a facts.Request, as facts.Reader.Request makes it from the
// engine's instance sources) and the revision live on its cluster.
type Target struct {
	Cluster string
	Request facts.Request
	// Live is the sha (or sha prefix) the cluster runs, "" when unknown.
	Live string
}

// ImageChange is one container whose image a commit changed on a cluster.
type ImageChange struct {
	Cluster   string
	Workload  fleet.ObjectRef
	Container string
	// From and To are the images before and after the commit ("" when the
	// container was added or removed); FromTag and ToTag their tags.
	From, To       string
	FromTag, ToTag string
}

// Entry is one commit of an application's history, newest first.
type Entry struct {
	repo.Commit
	// Images are the image changes the commit made, per cluster.
	Images []ImageChange
	// Head marks the newest commit of the paths: what the branch head declares.
	Head bool
	// LiveOn lists the clusters whose live revision has this commit's content
	// of the paths (the live revision itself, or a later commit that did not
	// touch them).
	LiveOn []string
	// RenderErrors are renders that failed at this commit, per cluster.
	RenderErrors map[string]string
}

// History is an application's path history with what each commit changed.
type History struct {
	App    string
	Repo   string
	Branch string
	// HeadCommit is the branch head; the entry marked Head is the newest
	// commit touching Paths at or before it.
	HeadCommit plumbing.Hash
	Paths      []string
	Entries    []Entry
	// Live maps each cluster to its live revision as resolved in the clone
	// (zero when unknown or not fetched).
	Live map[string]plumbing.Hash
}

// HistoryPaths are the paths whose commits change what a request renders:
// its directory and values files kept outside it.
func HistoryPaths(q facts.Request) []string {
	paths := []string{q.Path}
	for _, vf := range q.ValuesFiles {
		p := path.Join(q.Path, vf)
		if p != q.Path && !strings.HasPrefix(p, q.Path+"/") && q.Path != "." && fs.ValidPath(p) {
			paths = append(paths, p)
		}
	}
	return repo.CleanPaths(paths)
}

// ReadHistory lists the newest limit commits touching the targets' paths
// (all of them when limit <= 0; git's `git log -n limit -- paths`, see
// repo.PathCommits), with the image changes each made on each target's
// cluster, rendered with reader before and after the commit, and marks the
// head and the commits live on each cluster.
func ReadHistory(ctx context.Context, r *repo.Repo, reader *facts.Reader, app string, targets []Target, limit int) (*History, error) {
	if len(targets) == 0 {
		return nil, fmt.Errorf("history of %s: no instance to read", app)
	}
	var paths []string
	for _, t := range targets {
		for _, p := range HistoryPaths(t.Request) {
			if !slices.Contains(paths, p) {
				paths = append(paths, p)
			}
		}
	}
	head := r.Head()
	h := &History{App: app, Repo: r.Name(), Branch: r.Branch(), HeadCommit: head, Paths: paths, Live: map[string]plumbing.Hash{}}
	commits, err := r.PathCommits(head, paths, limit)
	if err != nil {
		return nil, err
	}
	index := map[plumbing.Hash]int{}
	for i, c := range commits {
		h.Entries = append(h.Entries, Entry{Commit: c})
		index[c.Hash] = i
	}
	if len(h.Entries) > 0 {
		h.Entries[0].Head = true
	}
	// effective finds the commit whose content of the paths a revision has.
	effective := func(rev plumbing.Hash) (plumbing.Hash, error) {
		hs, err := r.PathCommitHashes(rev, paths, 1)
		if err != nil || len(hs) == 0 {
			return plumbing.ZeroHash, err
		}
		return hs[0], nil
	}
	for _, t := range targets {
		if t.Live == "" {
			continue
		}
		live, err := r.ResolveRevision(t.Live)
		if err != nil {
			continue // not fetched: shown as unknown
		}
		h.Live[t.Cluster] = live
		eff, err := effective(live)
		if err != nil {
			continue
		}
		if i, ok := index[eff]; ok {
			h.Entries[i].LiveOn = append(h.Entries[i].LiveOn, t.Cluster)
		}
	}

	// Renders: at every listed commit and at the commit whose content each
	// one's parent has, per target; the reader caches and parallelises them.
	before := make([]plumbing.Hash, len(h.Entries))
	revs := map[plumbing.Hash]bool{}
	for i, e := range h.Entries {
		revs[e.Hash] = true
		c, err := r.Commit(e.Hash)
		if err != nil {
			return nil, err
		}
		if c.NumParents() == 0 {
			continue
		}
		if before[i], err = effective(c.ParentHashes[0]); err != nil {
			return nil, err
		}
		if !before[i].IsZero() {
			revs[before[i]] = true
		}
	}
	var reqs []facts.Request
	for _, t := range targets {
		for rev := range revs {
			q := t.Request
			q.Revision = rev.String()
			q.Declared = false
			q.Key = fleet.GitKey{App: app, Cluster: t.Cluster + "@" + rev.String()}
			reqs = append(reqs, q)
		}
	}
	got := reader.Read(ctx, reqs)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	at := func(cluster string, rev plumbing.Hash) (fleet.GitFacts, bool) {
		f, ok := got[fleet.GitKey{App: app, Cluster: cluster + "@" + rev.String()}]
		return f, ok
	}
	for i := range h.Entries {
		e := &h.Entries[i]
		for _, t := range targets {
			after, ok := at(t.Cluster, e.Hash)
			if !ok {
				continue
			}
			if after.RenderError != "" {
				if e.RenderErrors == nil {
					e.RenderErrors = map[string]string{}
				}
				e.RenderErrors[t.Cluster] = after.RenderError
				continue
			}
			var prev []fleet.DesiredObject
			if !before[i].IsZero() {
				if b, ok := at(t.Cluster, before[i]); ok && b.RenderError == "" {
					prev = b.Desired
				}
			}
			e.Images = append(e.Images, imageChanges(t.Cluster, prev, after.Desired)...)
		}
	}
	return h, nil
}

// imageChanges compares the containers of two renders.
func imageChanges(cluster string, before, after []fleet.DesiredObject) []ImageChange {
	type key struct {
		ref       fleet.ObjectRef
		container string
		init      bool
	}
	images := func(objs []fleet.DesiredObject) (map[key]string, []key) {
		m := map[key]string{}
		var order []key
		for _, o := range objs {
			for _, c := range o.Containers {
				k := key{o.Ref(), c.Name, c.Init}
				if _, ok := m[k]; !ok {
					order = append(order, k)
				}
				m[k] = c.Image
			}
		}
		return m, order
	}
	b, border := images(before)
	a, aorder := images(after)
	var out []ImageChange
	add := func(k key) {
		from, to := b[k], a[k]
		if from == to {
			return
		}
		_, ft, fd := fleet.ParseImage(from)
		_, tt, td := fleet.ParseImage(to)
		out = append(out, ImageChange{Cluster: cluster, Workload: k.ref, Container: k.container,
			From: from, To: to, FromTag: firstNonEmpty(ft, fd), ToTag: firstNonEmpty(tt, td)})
	}
	for _, k := range aorder {
		add(k)
	}
	for _, k := range border {
		if _, ok := a[k]; !ok {
			add(k)
		}
	}
	return out
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// ImageDiff renders the targets at from and at to and lists the images that
// differ, per cluster: what a revert from → to changes on the clusters.
// Instances that fail to render at either commit are left out.
func ImageDiff(ctx context.Context, reader *facts.Reader, app string, targets []Target, from, to plumbing.Hash) []ImageChange {
	var reqs []facts.Request
	key := func(cluster string, rev plumbing.Hash) fleet.GitKey {
		return fleet.GitKey{App: app, Cluster: cluster + "@" + rev.String()}
	}
	for _, t := range targets {
		for _, rev := range []plumbing.Hash{from, to} {
			q := t.Request
			q.Revision, q.Declared, q.Key = rev.String(), false, key(t.Cluster, rev)
			reqs = append(reqs, q)
		}
	}
	got := reader.Read(ctx, reqs)
	var out []ImageChange
	for _, t := range targets {
		a, aok := got[key(t.Cluster, from)]
		b, bok := got[key(t.Cluster, to)]
		if !aok || !bok || a.RenderError != "" || b.RenderError != "" {
			continue
		}
		out = append(out, imageChanges(t.Cluster, a.Desired, b.Desired)...)
	}
	return out
}
