package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/fleetdeck/fleetdeck/config"
	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/gitstate/repo"
	"github.com/fleetdeck/fleetdeck/gitstate/revert"
	"github.com/fleetdeck/fleetdeck/internal/sanitize"
)

type revertOptions struct {
	Commit      string
	To          string
	Cluster     string
	AppOnly     bool
	WholeCommit bool
	DryRun      bool
	Push        bool
	Yes         bool
	Reason      string
	Timeout     time.Duration
}

func newRevertCmd(streams *IOStreams, gopts *GlobalOptions) *cobra.Command {
	opts := &revertOptions{}
	cmd := &cobra.Command{
		Use:   "revert APP [COMMIT]",
		Short: "Roll an application back by a revert commit, optionally pushed",
		Long: `revert writes a new commit on the tracked branch that undoes a commit of the
application (the newest commit touching its paths when none is named), or with
--to restores the application's paths to their content at an older commit. It
never rewrites history and never force-pushes: the GitOps operator then rolls
the clusters back.

fleetdeck works in its own clone of the repository (its cache), never in a
working copy. It shows the unified diff of the commit it will write and asks
for confirmation; --yes confirms for scripts (without it, a non-terminal is
refused), --dry-run only shows the diff. The commit message says what, for
which application and clusters, why (--reason) and who (git config user.name
and user.email, else $USER), with trailers (Reverts:, Fleetdeck-App:, ...).

When the reverted commit also changed other applications' paths, revert asks
whether to revert only this application's part (--app-only) or the whole
commit (--whole-commit).

--push pushes the commit to the tracked branch as a fast-forward only, never
forced. When someone else pushed first, fleetdeck fetches, plans the same
revert on the new head and, when it still applies cleanly with the diff shown,
commits it there and pushes once more; if the branch moves again, the revert
conflicts or is already there, it stops and says so, nothing pushed. When the
new commits changed the files the revert changes, the new diff is shown and
confirmed again (with --yes it stops). When the remote refuses the branch
(protection, hooks), the commit is pushed to a fleetdeck/revert-APP-SHA branch
for a pull request instead.

Read-only mode (--readonly, readOnly in the config) refuses every revert.

Exit status: 0 written (and pushed when asked); 1 refused (conflict, branch
moved, push rejected, cancelled); 2 fleetdeck failed or was used wrongly
(bad flags, read-only mode, no terminal without --yes).`,
		Example: `  fleetdeck revert auth-service --cluster staging --dry-run
  fleetdeck revert auth-service 1a2b3c4 --push --reason "crashloop after bump"
  fleetdeck revert auth-service --to 5d6e7f8 --push --yes`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 2 {
				if opts.Commit != "" && opts.Commit != args[1] {
					return withExitCode(ExitError, fmt.Errorf("commit given twice: %s and --commit %s", args[1], opts.Commit))
				}
				opts.Commit = args[1]
			}
			return runRevert(cmd.Context(), streams, gopts, opts, args[0], nil)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Commit, "commit", "", "the commit to revert (default: the newest commit touching the application)")
	f.StringVar(&opts.To, "to", "", "restore the application's paths to their content at this commit instead")
	f.StringVar(&opts.Cluster, "cluster", "", "the application's instance on this cluster (its paths and values file)")
	f.BoolVar(&opts.AppOnly, "app-only", false, "revert only the commit's changes to this application's paths")
	f.BoolVar(&opts.WholeCommit, "whole-commit", false, "revert the whole commit even when it changed other applications too")
	f.BoolVar(&opts.DryRun, "dry-run", false, "show the revert's diff and write nothing")
	f.BoolVar(&opts.Push, "push", false, "push the revert commit to the tracked branch (fast-forward only)")
	f.BoolVarP(&opts.Yes, "yes", "y", false, "do not ask for confirmation (scripts)")
	f.StringVar(&opts.Reason, "reason", "", "why, for the commit message")
	f.StringVarP(&opts.Reason, "message", "m", "", "same as --reason")
	f.DurationVar(&opts.Timeout, "timeout", config.DefaultTimeout, "how long to wait for clusters")
	return cmd
}

// stdinIsTerminal says whether confirmation can be asked; tests replace it.
var stdinIsTerminal = func(s *IOStreams) bool {
	f, ok := s.In.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// testHookBeforePush lets tests move the remote between commit and push,
// testHookBeforeCommit between the confirmation and the commit.
var testHookBeforePush, testHookBeforeCommit func()

// errCancelled is the user answering no.
var errCancelled = errors.New("cancelled: nothing was written")

// maxReplans bounds how often a revert whose diff a moving branch changed is
// shown and confirmed again.
const maxReplans = 3

func runRevert(ctx context.Context, streams *IOStreams, gopts *GlobalOptions, opts *revertOptions, app string, src appSource) error {
	switch {
	case opts.Commit != "" && opts.To != "":
		return withExitCode(ExitError, errors.New("--commit and --to exclude each other: revert one commit, or roll back to one"))
	case opts.AppOnly && opts.WholeCommit:
		return withExitCode(ExitError, errors.New("--app-only and --whole-commit exclude each other"))
	case opts.To != "" && (opts.AppOnly || opts.WholeCommit):
		return withExitCode(ExitError, errors.New("--to restores only the application's paths; --app-only and --whole-commit apply to reverting a commit"))
	case opts.DryRun && opts.Push:
		return withExitCode(ExitError, errors.New("--dry-run writes nothing, so it cannot --push"))
	}
	if ctx == nil {
		ctx = context.Background()
	}
	cfg, _, err := config.Load(gopts.ConfigPath, streams.Getenv)
	if err != nil {
		return withExitCode(ExitError, err)
	}
	readOnly := gopts.ReadOnly || cfg.ReadOnly
	if readOnly && !opts.DryRun {
		return withExitCode(ExitError, errors.New("read-only mode (--readonly or readOnly in the config): revert writes commits, so it is disabled; --dry-run shows what it would write"))
	}
	interactive := stdinIsTerminal(streams)
	if !interactive && !opts.Yes && !opts.DryRun {
		return withExitCode(ExitError, errors.New("revert asks for confirmation, but the input is not a terminal: pass --yes to confirm in a script, or --dry-run to see the diff"))
	}
	src, _, err = openSource(ctx, streams, gopts, opts.Timeout, src)
	if err != nil {
		return withExitCode(ExitError, err)
	}
	defer src.Close()
	repoName, targets, err := src.Targets(ctx, app, opts.Cluster)
	if err != nil {
		return withExitCode(ExitError, err)
	}
	r, rc, ok := src.Repo(repoName)
	if !ok {
		return withExitCode(ExitError, fmt.Errorf("repository %s is not cloned", repoName))
	}
	v, err := revert.New(r, rc, revert.Options{ReadOnly: readOnly, Version: currentVersion().Version, Getenv: streams.Getenv})
	if err != nil {
		return withExitCode(ExitError, err)
	}
	rv := &reverting{streams: streams, opts: opts, src: src, repo: r, v: v, app: app, targets: targets,
		pal: newPalette(streams.ColorEnabled() && !gopts.NoColor), interactive: interactive && !opts.Yes}
	return rv.run(ctx)
}

// reverting is one run of the verb.
type reverting struct {
	streams     *IOStreams
	opts        *revertOptions
	src         appSource
	repo        *repo.Repo
	v           *revert.Reverter
	app         string
	targets     []revert.Target
	pal         palette
	interactive bool
	in          *bufio.Reader
}

func (rv *reverting) run(ctx context.Context) error {
	q, err := rv.request()
	if err != nil {
		return err
	}
	// Both retries go only as far as the diff the user saw: a revert whose
	// diff changed on the new head is shown and confirmed again (a terminal)
	// or refused (--yes confirmed the diff shown, not a new one).
	sameDiff := revert.RetryOptions{SameDiff: true}
	for attempt := 0; ; attempt++ {
		plan, err := rv.plan(ctx, &q)
		if err != nil {
			return err
		}
		rv.show(plan)
		if rv.opts.DryRun {
			fmt.Fprintln(rv.streams.ErrOut, "dry run: nothing was written")
			return nil
		}
		if err := rv.confirm(plan); err != nil {
			return err
		}
		if testHookBeforeCommit != nil {
			testHookBeforeCommit()
		}
		// The clone may have been fetched since the plan (by the engine), and
		// the remote may have moved while the user read the diff: fetch now,
		// so a commit never lands behind the remote.
		if _, err := rv.repo.Fetch(ctx); err != nil {
			return withExitCode(ExitProblems, fmt.Errorf("fetch before committing: %w", err))
		}
		if head := rv.repo.Head(); head != plan.Parent {
			np, err := rv.v.Replan(ctx, plan, sameDiff)
			var changed *revert.DiffChangedError
			switch {
			case errors.As(err, &changed):
				if err := rv.replan(err, attempt); err != nil {
					return err
				}
				continue
			case err != nil:
				return withExitCode(ExitProblems, err)
			}
			fmt.Fprintf(rv.streams.ErrOut, "the branch moved (someone pushed %s); the revert still applies on the new head, with the same diff\n",
				fleet.ShortSHA(head.String()))
			plan = np
		}
		res, err := rv.v.Commit(ctx, plan)
		var moved *revert.MovedError
		if errors.As(err, &moved) {
			if err := rv.replan(moved, attempt); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return withExitCode(ExitProblems, err)
		}
		fmt.Fprintf(rv.streams.ErrOut, "committed %s on %s (local branch %s in fleetdeck's clone)\n",
			fleet.ShortSHA(res.Commit.String()), plan.Branch, res.LocalBranch)
		if !rv.opts.Push {
			fmt.Fprintln(rv.streams.ErrOut, "not pushed (use --push): the operator will not see this revert until it is on the remote")
			return nil
		}
		if testHookBeforePush != nil {
			testHookBeforePush()
		}
		// Another push winning the race is retried once on the new head.
		out, err := rv.v.PushRetrying(ctx, res, sameDiff)
		var rejected *revert.RejectedError
		var changed *revert.DiffChangedError
		switch {
		case errors.As(err, &changed):
			if err := rv.replan(err, attempt); err != nil {
				return err
			}
			continue
		case errors.As(err, &rejected):
			return rv.pushBranch(ctx, out, rejected)
		case err != nil:
			return withExitCode(ExitProblems, err)
		}
		if out.Superseded != nil {
			fmt.Fprintf(rv.streams.ErrOut, "the branch moved (someone pushed %s); the revert still applies on the new head: pushed %s\n",
				fleet.ShortSHA(out.Plan.Parent.String()), fleet.ShortSHA(out.Commit.String()))
		}
		fmt.Fprintf(rv.streams.ErrOut, "pushed %s to %s: the operator rolls %s back on %s at its next sync\n",
			fleet.ShortSHA(out.Commit.String()), out.Pushed, rv.app, strings.Join(out.Plan.Clusters, ", "))
		fmt.Fprintln(rv.streams.Out, out.Commit.String())
		return nil
	}
}

// replan decides what happens when the branch moved and the revert is not
// the one shown any more: show the new one and ask again on a terminal, stop
// otherwise (--yes confirmed the diff shown, not a new one).
func (rv *reverting) replan(why error, attempt int) error {
	if !rv.interactive || attempt+1 >= maxReplans {
		return withExitCode(ExitProblems, why)
	}
	fmt.Fprintf(rv.streams.ErrOut, "%s\nplanning again on %s…\n\n", rv.pal.yellow(why.Error()), fleet.ShortSHA(rv.repo.Head().String()))
	return nil
}

// pushBranch keeps a refused revert on a branch of its own on the remote.
func (rv *reverting) pushBranch(ctx context.Context, res *revert.Result, rejected *revert.RejectedError) error {
	fmt.Fprintf(rv.streams.ErrOut, "%s\n", rv.pal.red(rejected.Error()))
	if err := rv.v.PushBranch(ctx, res); err != nil {
		return withExitCode(ExitProblems, fmt.Errorf("%v; pushing branch %s failed too: %w (the commit is kept on local branch %s in %s)",
			rejected, res.LocalBranch, err, res.LocalBranch, rv.repo.Dir()))
	}
	return withExitCode(ExitProblems, fmt.Errorf("pushed the revert to branch %s instead: open a pull (merge) request from %s into %s",
		res.Pushed, res.Pushed, res.Plan.Branch))
}

// request resolves the flags into a revert.Request.
func (rv *reverting) request() (revert.Request, error) {
	q := revert.Request{App: rv.app, Reason: rv.opts.Reason, AppOnly: rv.opts.AppOnly}
	for _, t := range rv.targets {
		q.Clusters = append(q.Clusters, t.Cluster)
		for _, p := range revert.HistoryPaths(t.Request) {
			if !contains(q.Paths, p) {
				q.Paths = append(q.Paths, p)
			}
		}
	}
	resolve := func(flag, rev string) (plumbing.Hash, error) {
		h, err := rv.repo.ResolveRevision(rev)
		if err != nil {
			return h, withExitCode(ExitError, fmt.Errorf("%s %s: not a commit of branch %s as fetched: %w", flag, rev, rv.repo.Branch(), err))
		}
		return h, nil
	}
	var err error
	switch {
	case rv.opts.To != "":
		q.To, err = resolve("--to", rv.opts.To)
	case rv.opts.Commit != "":
		q.Commit, err = resolve("commit", rv.opts.Commit)
	default:
		hs, herr := rv.repo.PathCommitHashes(plumbing.ZeroHash, q.Paths, 1)
		if herr != nil || len(hs) == 0 {
			return q, withExitCode(ExitError, fmt.Errorf("no commit touches %s: name one to revert", strings.Join(q.Paths, ", ")))
		}
		q.Commit = hs[0]
		fmt.Fprintf(rv.streams.ErrOut, "reverting the newest commit touching %s: %s\n", rv.app, fleet.ShortSHA(q.Commit.String()))
	}
	return q, err
}

// plan plans q and settles a commit that also touched other applications.
func (rv *reverting) plan(ctx context.Context, q *revert.Request) (*revert.Plan, error) {
	plan, err := rv.v.Plan(ctx, *q)
	if err == nil && q.Kind() == revert.KindRevert && !q.AppOnly && len(plan.OtherPaths) > 0 && !rv.opts.WholeCommit {
		others := strings.Join(plan.OtherPaths, ", ")
		if !rv.interactive {
			return nil, withExitCode(ExitProblems, fmt.Errorf("commit %s also changed %s outside %s's paths: pass --app-only to revert only %s's part, or --whole-commit to revert all of it",
				fleet.ShortSHA(q.Commit.String()), others, rv.app, rv.app))
		}
		fmt.Fprintf(rv.streams.ErrOut, "commit %s also changed %s, outside %s's paths.\n", fleet.ShortSHA(q.Commit.String()), others, rv.app)
		answer, aerr := rv.ask(fmt.Sprintf("Revert only %s's part [a], the whole commit [w], or cancel [N]? ", rv.app))
		if aerr != nil {
			return nil, aerr
		}
		switch answer {
		case "a", "app", "app-only":
			q.AppOnly = true
			plan, err = rv.v.Plan(ctx, *q)
		case "w", "whole":
			rv.opts.WholeCommit = true
		default:
			return nil, withExitCode(ExitProblems, errCancelled)
		}
	}
	if err != nil {
		var conflict *revert.ConflictError
		if errors.As(err, &conflict) || errors.Is(err, revert.ErrNothingToRevert) {
			return nil, withExitCode(ExitProblems, err)
		}
		return nil, withExitCode(ExitError, err)
	}
	if q.Kind() == revert.KindRollback {
		plan.Summary = imageSummary(revert.ImageDiff(ctx, rv.src.Reader(), rv.app, rv.targets, plan.Parent, q.To))
	} else if !plan.Target.IsZero() {
		plan.Summary = imageSummary(revert.ImageDiff(ctx, rv.src.Reader(), rv.app, rv.targets, q.Commit, plan.Target))
	}
	if len(plan.Summary) > 0 {
		// The summary is part of the message: plan again with it.
		q.Summary = plan.Summary
		if plan, err = rv.v.Plan(ctx, *q); err != nil {
			return nil, withExitCode(ExitProblems, err)
		}
	}
	return plan, nil
}

// imageSummary words image changes for the message: "staging: auth-service/app v1.5.0 → v1.4.2".
func imageSummary(ims []revert.ImageChange) []string {
	var hs []HistoryImage
	for _, im := range ims {
		hs = append(hs, HistoryImage{Cluster: im.Cluster, Workload: objectReport(im.Workload), Container: im.Container,
			From: im.From, To: im.To, FromTag: im.FromTag, ToTag: im.ToTag})
	}
	return imageLines(hs)
}

// show prints what the revert will write: the summary to stderr, the diff to stdout.
func (rv *reverting) show(p *revert.Plan) {
	w := rv.streams.ErrOut
	switch p.Kind() {
	case revert.KindRollback:
		fmt.Fprintf(w, "Roll back %s to %s %q\n", p.App, fleet.ShortSHA(p.To.String()), clean(p.Subject))
	default:
		what := "Revert"
		if p.AppOnly {
			what = "Revert (" + p.App + "'s paths only)"
		}
		fmt.Fprintf(w, "%s %s %q of %s\n", what, fleet.ShortSHA(p.Commit.String()), clean(p.Subject), p.App)
	}
	fmt.Fprintf(w, "  on branch %s at %s of repository %s, as %s\n", p.Branch, fleet.ShortSHA(p.Parent.String()), p.Repo, p.Author)
	fmt.Fprintf(w, "  clusters: %s\n", strings.Join(p.Clusters, ", "))
	for _, s := range p.Summary {
		fmt.Fprintf(w, "  image %s\n", s)
	}
	for _, c := range p.Changes {
		fmt.Fprintf(w, "  %-6s %s\n", c.Action, clean(c.Path))
	}
	fmt.Fprintln(w)
	printDiff(rv.streams.Out, rv.pal, p.Diff)
}

// printDiff prints a unified diff line by line, cleaned: file names and contents come from
// git and may carry escape sequences. Colour is added after cleaning, by the line's prefix.
func printDiff(w io.Writer, pal palette, diff string) {
	if diff == "" {
		return
	}
	for _, l := range sanitize.Lines(diff) {
		switch {
		case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"), strings.HasPrefix(l, "diff "), strings.HasPrefix(l, "index "):
			l = pal.wrap("1", l)
		case strings.HasPrefix(l, "@@"):
			l = pal.wrap("36", l)
		case strings.HasPrefix(l, "+"):
			l = pal.green(l)
		case strings.HasPrefix(l, "-"):
			l = pal.red(l)
		}
		fmt.Fprintln(w, l)
	}
}

// confirm asks before writing, unless --yes.
func (rv *reverting) confirm(p *revert.Plan) error {
	if !rv.interactive {
		return nil
	}
	q := "Commit this revert? [y/N] "
	if rv.opts.Push {
		q = fmt.Sprintf("Commit this revert and push it to %s? [y/N] ", p.Branch)
	}
	answer, err := rv.ask(q)
	if err != nil {
		return err
	}
	if answer != "y" && answer != "yes" {
		return withExitCode(ExitProblems, errCancelled)
	}
	return nil
}

// ask prints a question on stderr and reads one answer line.
func (rv *reverting) ask(question string) (string, error) {
	if rv.in == nil {
		rv.in = bufio.NewReader(rv.streams.In)
	}
	fmt.Fprint(rv.streams.ErrOut, question)
	line, err := rv.in.ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		fmt.Fprintln(rv.streams.ErrOut)
		return "", withExitCode(ExitProblems, errCancelled)
	}
	return strings.ToLower(strings.TrimSpace(line)), nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
