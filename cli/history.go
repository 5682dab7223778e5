package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/fleetdeck/fleetdeck/config"
	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/gitstate/facts"
	"github.com/fleetdeck/fleetdeck/gitstate/repo"
	"github.com/fleetdeck/fleetdeck/gitstate/revert"
	"github.com/fleetdeck/fleetdeck/internal/engine"
	"github.com/fleetdeck/fleetdeck/internal/sanitize"
)

type historyOptions struct {
	Cluster string
	Limit   int
	Output  string
	Timeout time.Duration
}

func newHistoryCmd(streams *IOStreams, gopts *GlobalOptions) *cobra.Command {
	opts := &historyOptions{}
	cmd := &cobra.Command{
		Use:   "history APP",
		Short: "List the commits that changed an application, with the image tags each one set",
		Long: `history lists the commits of the tracked branch that touched the application's
paths (its directory, and values files kept elsewhere), newest first, as
` + "`git log -n N -- PATHS`" + ` lists them: author, date, subject and the image tags
the commit changed on each cluster (rendered before and after the commit).

HEAD marks the newest commit of the paths on the branch; "live on CLUSTER"
marks the commit whose content each cluster runs, from the live revision the
operator reports (or the render the live objects match, for declared apps).

Revert one of them with ` + "`fleetdeck revert APP COMMIT`" + `.`,
		Example: `  fleetdeck history auth-service
  fleetdeck history auth-service --cluster staging -n 5
  fleetdeck history auth-service -o json | jq '.commits[0]'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runHistory(cmd.Context(), streams, gopts, opts, args[0], nil)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Cluster, "cluster", "", "only the application's instance on this cluster")
	f.IntVarP(&opts.Limit, "limit", "n", 20, "show at most N commits (0: all)")
	f.StringVarP(&opts.Output, "output", "o", "text", "output format: text or json")
	f.DurationVar(&opts.Timeout, "timeout", config.DefaultTimeout, "how long to wait for clusters (live revisions)")
	return cmd
}

// appSource gives the git verbs an application's instances and the clone
// of their repository. The engine-backed one is used in production; tests
// pass their own.
type appSource interface {
	// Targets returns the instances of app (on cluster, when not empty) and
	// the name of their repository.
	Targets(ctx context.Context, app, cluster string) (repoName string, targets []revert.Target, err error)
	// Repo returns an open clone and its configuration.
	Repo(name string) (*repo.Repo, config.Repository, bool)
	// Reader renders applications at any commit.
	Reader() *facts.Reader
	// Close stops whatever the source started.
	Close()
}

// engineSource runs the engine for one snapshot: the live revisions come from
// the clusters, the clones and renders from the engine's git side.
type engineSource struct {
	cfg     *config.Config
	stop    func()
	eng     *engine.Engine
	timeout time.Duration

	mu     sync.Mutex
	repos  map[string]*repo.Repo
	reader *facts.Reader
}

func newEngineSource(ctx context.Context, cfg *config.Config, getenv func(string) string, timeout time.Duration) (*engineSource, error) {
	s := &engineSource{cfg: cfg, timeout: timeout}
	eng, stop, err := startEngine(ctx, cfg, engine.Options{Getenv: getenv, GitFacts: func(c *config.Config, repos map[string]*repo.Repo) engine.GitFacts {
		r := facts.New(c, repos, facts.Options{})
		s.mu.Lock()
		s.repos, s.reader = repos, r
		s.mu.Unlock()
		return r
	}})
	if err != nil {
		return nil, err
	}
	s.eng, s.stop = eng, stop
	return s, nil
}

func (s *engineSource) Close() {
	s.stop()
}

func (s *engineSource) Reader() *facts.Reader {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reader
}

func (s *engineSource) Repo(name string) (*repo.Repo, config.Repository, bool) {
	s.mu.Lock()
	r := s.repos[name]
	s.mu.Unlock()
	rc, ok := s.cfg.Repository(name)
	return r, rc, r != nil && ok
}

func (s *engineSource) Targets(ctx context.Context, app, cluster string) (string, []revert.Target, error) {
	snap, err := s.eng.Inputs(ctx, s.timeout)
	if err != nil {
		return "", nil, err
	}
	for _, r := range s.eng.Repositories() {
		if !r.Open && r.Err != nil {
			return "", nil, fmt.Errorf("repository %s: %w", r.Name, r.Err)
		}
	}
	reader := s.Reader()
	if reader == nil {
		return "", nil, errors.New("no git repository is configured or could be opened")
	}
	model := fleet.Build(snap)
	return targetsOf(model, fleet.InstanceSources(snap), reader, app, cluster)
}

// targetsOf picks the instances of app from a snapshot's sources.
func targetsOf(model fleet.Model, srcs []fleet.InstanceSource, reader *facts.Reader, app, cluster string) (string, []revert.Target, error) {
	a, ok := model.App(app)
	if !ok {
		var names []string
		for _, x := range model.Apps {
			names = append(names, x.Name)
		}
		return "", nil, fmt.Errorf("no application %q (applications: %s)", app, strings.Join(names, ", "))
	}
	var repoName string
	var out []revert.Target
	var skipped []string
	for _, src := range srcs {
		if src.Key.App != app || (cluster != "" && src.Key.Cluster != cluster) {
			continue
		}
		q, ok := reader.Request(src)
		if !ok {
			skipped = append(skipped, src.Key.Cluster)
			continue
		}
		if repoName != "" && q.Repo != repoName {
			return "", nil, fmt.Errorf("application %s comes from repositories %s and %s: pick one instance with --cluster", app, repoName, q.Repo)
		}
		repoName = q.Repo
		t := revert.Target{Cluster: src.Key.Cluster, Request: q}
		if in, ok := a.Instance(src.Key.Cluster); ok {
			t.Live = in.Revision.Live
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		switch {
		case cluster != "" && !slices.ContainsFunc(a.Instances, func(in fleet.Instance) bool { return in.Cluster == cluster }):
			var cs []string
			for _, in := range a.Instances {
				cs = append(cs, in.Cluster)
			}
			return "", nil, fmt.Errorf("application %s does not run on cluster %q (clusters: %s)", app, cluster, strings.Join(cs, ", "))
		case len(skipped) > 0:
			return "", nil, fmt.Errorf("application %s has no source in a configured repository on %s", app, strings.Join(skipped, ", "))
		}
		return "", nil, fmt.Errorf("application %s has no git source fleetdeck can read", app)
	}
	slices.SortFunc(out, func(x, y revert.Target) int { return strings.Compare(x.Cluster, y.Cluster) })
	return repoName, out, nil
}

// openSource loads the configuration and starts the engine-backed source,
// unless a test passed one.
func openSource(ctx context.Context, streams *IOStreams, gopts *GlobalOptions, timeout time.Duration, src appSource) (appSource, *config.Config, error) {
	cfg, _, err := config.Load(gopts.ConfigPath, streams.Getenv)
	if err != nil {
		return nil, nil, err
	}
	if src != nil {
		return src, cfg, nil
	}
	if timeout <= 0 {
		return nil, nil, fmt.Errorf("--timeout must be positive, got %s", timeout)
	}
	s, err := newEngineSource(ctx, cfg, streams.Getenv, timeout)
	if err != nil {
		return nil, nil, err
	}
	return s, cfg, nil
}

func runHistory(ctx context.Context, streams *IOStreams, gopts *GlobalOptions, opts *historyOptions, app string, src appSource) error {
	if opts.Output != "text" && opts.Output != "json" {
		return withExitCode(ExitError, fmt.Errorf("unknown output %q (want text or json)", opts.Output))
	}
	if opts.Limit < 0 {
		return withExitCode(ExitError, fmt.Errorf("-n must not be negative, got %d", opts.Limit))
	}
	if ctx == nil {
		ctx = context.Background()
	}
	src, _, err := openSource(ctx, streams, gopts, opts.Timeout, src)
	if err != nil {
		return withExitCode(ExitError, err)
	}
	defer src.Close()
	repoName, targets, err := src.Targets(ctx, app, opts.Cluster)
	if err != nil {
		return withExitCode(ExitError, err)
	}
	r, _, ok := src.Repo(repoName)
	if !ok {
		return withExitCode(ExitError, fmt.Errorf("repository %s is not cloned", repoName))
	}
	h, err := revert.ReadHistory(ctx, r, src.Reader(), app, targets, opts.Limit)
	if err != nil {
		return withExitCode(ExitError, err)
	}
	rep := newHistoryReport(h, targets)
	if opts.Output == "json" {
		enc := json.NewEncoder(streams.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return withExitCode(ExitError, fmt.Errorf("write json: %w", err))
		}
		return nil
	}
	printHistory(streams.Out, newPalette(streams.ColorEnabled() && !gopts.NoColor), rep)
	return nil
}

// HistoryReport is the document `fleetdeck history -o json` prints, schema
// version 1. Shas are full; times RFC 3339.
type HistoryReport struct {
	SchemaVersion int    `json:"schemaVersion"`
	App           string `json:"app"`
	Repo          string `json:"repo"`
	Branch        string `json:"branch"`
	// Head is the branch head.
	Head  string   `json:"head"`
	Paths []string `json:"paths"`
	// Clusters are the instances listed, with their live revision ("" unknown).
	Clusters []HistoryCluster `json:"clusters"`
	Commits  []HistoryCommit  `json:"commits"`
}

// HistoryCluster is one instance's live revision.
type HistoryCluster struct {
	Name string `json:"name"`
	Live string `json:"live"`
}

// HistoryCommit is one commit that touched the application's paths.
type HistoryCommit struct {
	SHA     string    `json:"sha"`
	Author  string    `json:"author"`
	Email   string    `json:"email"`
	Date    time.Time `json:"date"`
	Subject string    `json:"subject"`
	// Head: the newest commit of the paths on the branch.
	Head bool `json:"head"`
	// LiveOn: clusters running this commit's content of the paths.
	LiveOn       []string          `json:"liveOn"`
	Images       []HistoryImage    `json:"images"`
	RenderErrors map[string]string `json:"renderErrors,omitempty"`
}

// HistoryImage is one container image the commit changed on one cluster.
type HistoryImage struct {
	Cluster   string       `json:"cluster"`
	Workload  ObjectReport `json:"workload"`
	Container string       `json:"container"`
	From      string       `json:"from"`
	To        string       `json:"to"`
	FromTag   string       `json:"fromTag"`
	ToTag     string       `json:"toTag"`
}

func newHistoryReport(h *revert.History, targets []revert.Target) HistoryReport {
	rep := HistoryReport{SchemaVersion: 1, App: h.App, Repo: h.Repo, Branch: h.Branch, Head: h.HeadCommit.String(),
		Paths: h.Paths, Clusters: []HistoryCluster{}, Commits: []HistoryCommit{}}
	for _, t := range targets {
		live := t.Live
		if l, ok := h.Live[t.Cluster]; ok {
			live = l.String()
		}
		rep.Clusters = append(rep.Clusters, HistoryCluster{Name: t.Cluster, Live: live})
	}
	for _, e := range h.Entries {
		c := HistoryCommit{SHA: e.Hash.String(), Author: e.Author, Email: e.Email, Date: e.When, Subject: e.Subject,
			Head: e.Head, LiveOn: append([]string{}, e.LiveOn...), Images: []HistoryImage{}, RenderErrors: e.RenderErrors}
		for _, im := range e.Images {
			c.Images = append(c.Images, HistoryImage{Cluster: im.Cluster, Workload: objectReport(im.Workload),
				Container: im.Container, From: im.From, To: im.To, FromTag: im.FromTag, ToTag: im.ToTag})
		}
		rep.Commits = append(rep.Commits, c)
	}
	return rep
}

// printHistory prints one block per commit: sha, date, author, subject and
// marks, then the image changes, clusters with the same change on one line.
func printHistory(w io.Writer, pal palette, rep HistoryReport) {
	fmt.Fprintf(w, "%s  %s %s  head %s  paths %s\n", rep.App, rep.Repo, rep.Branch, fleet.ShortSHA(rep.Head), strings.Join(rep.Paths, ", "))
	var live []string
	for _, c := range rep.Clusters {
		l := fleet.ShortSHA(c.Live)
		if l == "" {
			l = "unknown"
		}
		live = append(live, c.Name+" "+l)
	}
	fmt.Fprintf(w, "live: %s\n\n", strings.Join(live, ", "))
	if len(rep.Commits) == 0 {
		fmt.Fprintln(w, "No commit touched these paths.")
		return
	}
	for _, c := range rep.Commits {
		var marks []string
		if c.Head {
			marks = append(marks, pal.green("HEAD"))
		}
		if len(c.LiveOn) > 0 {
			marks = append(marks, pal.yellow("live on "+strings.Join(c.LiveOn, ", ")))
		}
		line := fmt.Sprintf("%s  %s  %s  %s", pal.yellow(fleet.ShortSHA(c.SHA)), c.Date.UTC().Format("2006-01-02 15:04"),
			truncateCell(clean(c.Author), 20), clean(c.Subject))
		if len(marks) > 0 {
			line += "  (" + strings.Join(marks, ", ") + ")"
		}
		fmt.Fprintln(w, line)
		for _, l := range imageLines(c.Images) {
			fmt.Fprintln(w, "         "+l)
		}
		for _, cl := range sortedKeys(c.RenderErrors) {
			fmt.Fprintf(w, "         %s: %s\n", cl, pal.red("render failed: "+clean(c.RenderErrors[cl])))
		}
	}
}

// imageLines groups identical changes of several clusters:
// "prod-eu, staging: auth-service/app v1.4.2 → v1.5.0".
func imageLines(ims []HistoryImage) []string {
	type change struct{ what, from, to string }
	var order []change
	clusters := map[change][]string{}
	for _, im := range ims {
		what := im.Workload.Name + "/" + im.Container
		ch := change{what: what, from: tagOrImage(im.FromTag, im.From), to: tagOrImage(im.ToTag, im.To)}
		if _, ok := clusters[ch]; !ok {
			order = append(order, ch)
		}
		if !slices.Contains(clusters[ch], im.Cluster) {
			clusters[ch] = append(clusters[ch], im.Cluster)
		}
	}
	var out []string
	for _, ch := range order {
		out = append(out, fmt.Sprintf("%s: %s %s → %s", strings.Join(clusters[ch], ", "), clean(ch.what), clean(ch.from), clean(ch.to)))
	}
	return out
}

func tagOrImage(tag, image string) string {
	switch {
	case image == "":
		return "(none)"
	case tag == "":
		return image
	}
	return tag
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// clean makes text that comes from git one printable line: commit subjects and author names
// are anyone's input, and an escape sequence's payload or a bidi override must not reach the
// terminal either (see internal/sanitize).
func clean(s string) string { return sanitize.Line(s) }
