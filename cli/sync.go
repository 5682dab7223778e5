package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/fleetdeck/fleetdeck/config"
	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/internal/engine"
	kubesync "github.com/fleetdeck/fleetdeck/kube/sync"
)

type syncOptions struct {
	Clusters []string
	Yes      bool
	Timeout  time.Duration
	Wait     time.Duration
}

// defaultSyncWait is how long sync follows its requests by default (the flux CLI's default
// timeout).
const defaultSyncWait = 5 * time.Minute

func newSyncCmd(streams *IOStreams, gopts *GlobalOptions) *cobra.Command {
	opts := &syncOptions{}
	cmd := &cobra.Command{
		Use:   "sync APP",
		Short: "Ask the GitOps operator to sync an application now, and show its progress",
		Long: `sync asks the operator that applies each instance of the application to sync it
with git now, and shows the operator's progress until it reports the outcome.
fleetdeck never applies manifests itself.

  Argo CD  sets a sync operation of the tracked revision on the Application
           (.operation, as Argo CD's API server and kubectl clients do) and
           follows .status.operationState: Running, then Succeeded, Failed or
           Error, then the application's sync and health.
  Flux     sets reconcile.fluxcd.io/requestedAt on the Kustomization's or
           HelmRelease's source (GitRepository, HelmRepository...), then, once
           the source has fetched, on the object itself, like
           "flux reconcile --with-source", and follows
           .status.lastHandledReconcileAt until the request is handled and Ready
           is True or False.

Applications declared only in fleetdeck's config have no operator: sync refuses
them.

sync names the application, its clusters and the operator objects, and asks for
confirmation; --yes confirms for scripts (without it, a non-terminal input is
refused). Read-only mode (--readonly, readOnly in the config) refuses every
sync. Progress goes to stderr, one line per change; the outcome per cluster is a
table on stdout.

Permissions: patch on applications.argoproj.io (on the Argo CD hub), and on
kustomizations.kustomize.toolkit.fluxcd.io, helmreleases.helm.toolkit.fluxcd.io
and the sources they use (gitrepositories, helmrepositories...
.source.toolkit.fluxcd.io), besides the read access every verb needs.

Exit status: 0 every sync succeeded; 1 a sync failed, was refused by the
cluster (another operation in progress, suspended, forbidden) or did not finish
within --wait, or the confirmation was declined; 2 fleetdeck failed or was used
wrongly (bad flags, unknown application or cluster, an application without
operator, read-only mode, no terminal without --yes).`,
		Example: `  fleetdeck sync payments-api --cluster prod-us
  fleetdeck sync catalog-api --cluster staging --yes --wait 1m
  fleetdeck sync checkout-web`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSync(cmd.Context(), streams, gopts, opts, args[0], nil)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&opts.Clusters, "cluster", nil, "sync only the instances on these clusters (repeatable or comma-separated)")
	f.BoolVarP(&opts.Yes, "yes", "y", false, "do not ask for confirmation (scripts)")
	f.DurationVar(&opts.Timeout, "timeout", config.DefaultTimeout, "how long to wait for clusters when finding the application")
	f.DurationVar(&opts.Wait, "wait", defaultSyncWait, "how long to follow the operators' progress")
	return cmd
}

// syncBackend is what the verb needs from the fleet; tests pass their own.
type syncBackend struct {
	// model reads the fleet once.
	model func(ctx context.Context) (fleet.Model, error)
	// requester reaches the operators.
	requester kubesync.Requester
	// now is the clock of the progress lines.
	now   func() time.Time
	close func()
}

// newSyncBackend starts the engine without git (the operator objects are all sync needs)
// and a kube/sync Syncer.
func newSyncBackend(ctx context.Context, cfg *config.Config, streams *IOStreams, timeout time.Duration, readOnly bool) (*syncBackend, error) {
	eng, err := engine.New(cfg, engine.Options{Getenv: streams.Getenv})
	if err != nil {
		return nil, withExitCode(ExitError, err)
	}
	ectx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = eng.Run(ectx)
	}()
	return &syncBackend{
		model: func(ctx context.Context) (fleet.Model, error) { return eng.Snapshot(ctx, timeout) },
		requester: kubesync.New(cfg, kubesync.Options{
			ReadOnly: readOnly, // refused above already; the write path refuses again by itself
			Username: syncUsername(streams.Getenv),
		}),
		now:   time.Now,
		close: func() { cancel(); <-done },
	}, nil
}

// syncUsername is the Argo CD operation's initiatedBy.username: the local user, marked as
// coming through fleetdeck.
func syncUsername(getenv func(string) string) string {
	for _, k := range []string{"USER", "LOGNAME"} {
		if u := strings.TrimSpace(getenv(k)); u != "" {
			return u + " (fleetdeck)"
		}
	}
	return "fleetdeck"
}

func runSync(ctx context.Context, streams *IOStreams, gopts *GlobalOptions, opts *syncOptions, app string, be *syncBackend) error {
	switch {
	case opts.Timeout <= 0:
		return withExitCode(ExitError, fmt.Errorf("--timeout must be positive, got %s", opts.Timeout))
	case opts.Wait <= 0:
		return withExitCode(ExitError, fmt.Errorf("--wait must be positive, got %s (a Flux sync annotates its object only after following its source)", opts.Wait))
	}
	if ctx == nil {
		ctx = context.Background()
	}
	cfg, _, err := config.Load(gopts.ConfigPath, streams.Getenv)
	if err != nil {
		return withExitCode(ExitError, err)
	}
	readOnly := gopts.ReadOnly || cfg.ReadOnly
	if readOnly {
		return withExitCode(ExitError, errors.New("read-only mode (--readonly or readOnly in the config): sync asks operators to apply git, so it is disabled"))
	}
	interactive := stdinIsTerminal(streams)
	if !interactive && !opts.Yes {
		return withExitCode(ExitError, errors.New("sync asks for confirmation, but the input is not a terminal: pass --yes to confirm in a script"))
	}
	if err := checkClusterFlags(cfg, opts.Clusters); err != nil {
		return err
	}
	if be == nil {
		if be, err = newSyncBackend(ctx, cfg, streams, opts.Timeout, readOnly); err != nil {
			return err
		}
	}
	if be.close != nil {
		defer be.close()
	}
	if be.now == nil {
		be.now = time.Now
	}
	m, err := be.model(ctx)
	if err != nil {
		return withExitCode(ExitError, err)
	}
	targets, err := syncTargets(m, app, opts.Clusters)
	if err != nil {
		return withExitCode(ExitError, err)
	}
	pal := newPalette(streams.ColorEnabled() && !gopts.NoColor)
	showSyncPlan(streams.ErrOut, app, targets)
	if interactive && !opts.Yes {
		q := fmt.Sprintf("Sync %s on %s? [y/N] ", app, strings.Join(syncClusters(targets), ", "))
		if answer, err := askLine(streams, q); err != nil || (answer != "y" && answer != "yes") {
			return withExitCode(ExitProblems, errors.New("cancelled: nothing was requested"))
		}
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, opts.Wait)
	defer cancel()
	s := &syncing{streams: streams, pal: pal, be: be, opts: opts, start: be.now()}
	return s.run(ctx, targets)
}

// planSync is every instance of app (on clusters, when not empty) a sync concerns, by cluster,
// declared ones included (they have no operator object). The verb and the terminal UI's sync
// dialog both start from it. The error names an unknown application, or a cluster it does not
// run on.
func planSync(m fleet.Model, app string, clusters []string) ([]kubesync.Target, error) {
	a, ok := m.App(app)
	if !ok {
		var names []string
		for _, x := range m.Apps {
			names = append(names, x.Name)
		}
		slices.Sort(names)
		return nil, fmt.Errorf("no application %q (applications: %s)", app, strings.Join(names, ", "))
	}
	var out []kubesync.Target
	var running []string
	for _, in := range a.Instances {
		running = append(running, in.Cluster)
		if len(clusters) > 0 && !slices.Contains(clusters, in.Cluster) {
			continue
		}
		out = append(out, kubesync.TargetOf(in))
	}
	for _, c := range clusters {
		if !slices.Contains(running, c) {
			return nil, fmt.Errorf("application %s does not run on cluster %q (clusters: %s)", app, c, strings.Join(running, ", "))
		}
	}
	slices.SortStableFunc(out, func(x, y kubesync.Target) int { return strings.Compare(x.Cluster, y.Cluster) })
	return out, nil
}

// declaredTarget is an instance no operator applies: there is nobody to ask.
func declaredTarget(t kubesync.Target) bool {
	return t.Operator == fleet.OperatorDeclared || t.Kind == ""
}

// syncTargets picks the instances of app to sync and refuses those no operator applies.
func syncTargets(m fleet.Model, app string, clusters []string) ([]kubesync.Target, error) {
	all, err := planSync(m, app, clusters)
	if err != nil {
		return nil, err
	}
	var out []kubesync.Target
	var declared, others []string
	for _, t := range all {
		if declaredTarget(t) {
			declared = append(declared, t.Cluster)
			continue
		}
		others = append(others, t.Cluster)
		out = append(out, t)
	}
	if len(declared) > 0 {
		msg := fmt.Sprintf("%s on %s is declared in fleetdeck's config and applied by no GitOps operator fleetdeck knows of: "+
			"fleetdeck never applies manifests itself; apply it the way your team does, or let Argo CD or Flux manage it",
			app, strings.Join(declared, ", "))
		if len(others) > 0 {
			msg += fmt.Sprintf(" (sync the other instances with --cluster %s)", strings.Join(others, " --cluster "))
		}
		return nil, errors.New(msg)
	}
	return out, nil
}

func syncClusters(ts []kubesync.Target) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Cluster)
	}
	return out
}

// showSyncPlan names what will be asked of whom.
func showSyncPlan(w io.Writer, app string, ts []kubesync.Target) {
	fmt.Fprintf(w, "Sync %s on %s:\n", clean(app), counted(len(ts), "cluster"))
	width := 0
	for _, t := range ts {
		width = max(width, len(t.Cluster))
	}
	for _, t := range ts {
		how := "Argo CD sync operation of the tracked revision on"
		if t.Operator == fleet.OperatorFlux {
			how = "Flux reconcile, source first, of"
		}
		fmt.Fprintf(w, "  %-*s  %s %s\n", width, clean(t.Cluster), how, clean(t.Object()))
	}
}

// askLine prints a question on stderr and reads one answer line.
func askLine(streams *IOStreams, question string) (string, error) {
	fmt.Fprint(streams.ErrOut, question)
	line, err := bufio.NewReader(streams.In).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		fmt.Fprintln(streams.ErrOut)
		return "", err
	}
	return strings.ToLower(strings.TrimSpace(line)), nil
}

// syncing is one run of the verb after confirmation.
type syncing struct {
	streams *IOStreams
	pal     palette
	be      *syncBackend
	opts    *syncOptions
	start   time.Time
	width   int // of the cluster column in progress lines
}

// syncResult is where one target ended.
type syncResult struct {
	target  kubesync.Target
	handle  kubesync.Handle
	last    kubesync.Phase
	seen    bool
	failure string // why the request itself failed
}

func (s *syncing) run(ctx context.Context, targets []kubesync.Target) error {
	results := make([]*syncResult, len(targets))
	for i, t := range targets {
		s.width = max(s.width, len(t.Cluster))
		results[i] = &syncResult{target: t}
	}
	for _, r := range results {
		h, err := s.be.requester.Request(ctx, r.target)
		if err != nil {
			r.failure = err.Error()
			s.line(s.be.now(), r.target, s.pal.red("Refused"), err.Error())
			continue
		}
		r.handle = h
		s.line(s.be.now(), r.target, "Requested", "("+r.target.Object()+")")
	}

	type update struct {
		i int
		p kubesync.Phase
	}
	updates := make(chan update)
	var wg sync.WaitGroup
	for i, r := range results {
		if r.failure != "" {
			continue
		}
		ch := s.be.requester.Progress(ctx, r.handle)
		wg.Go(func() {
			for p := range ch {
				select {
				case updates <- update{i, p}:
				case <-ctx.Done():
				}
			}
		})
	}
	go func() {
		wg.Wait()
		close(updates)
	}()
	for u := range updates {
		r := results[u.i]
		r.last, r.seen = u.p, true
		s.line(u.p.At, r.target, s.stateCell(u.p.State), phaseText(u.p))
	}
	return s.finish(ctx, results)
}

// line prints one progress line on stderr.
func (s *syncing) line(at time.Time, t kubesync.Target, state, text string) {
	fmt.Fprintf(s.streams.ErrOut, "%6.1fs  %-*s  %-9s  %s\n", at.Sub(s.start).Seconds(), s.width, clean(t.Cluster), state, clean(text))
}

func (s *syncing) stateCell(st kubesync.State) string {
	text := fmt.Sprintf("%-9s", st)
	switch st {
	case kubesync.StateSucceeded:
		return s.pal.green(text)
	case kubesync.StateFailed, kubesync.StateError:
		return s.pal.red(text)
	}
	return text
}

// phaseText words a phase: "sync operation: one or more tasks are running".
func phaseText(p kubesync.Phase) string {
	text := p.Step
	if p.Message != "" {
		text += ": " + p.Message
	}
	var facts []string
	if p.Sync != "" {
		facts = append(facts, p.Sync)
	}
	if h := healthText(p); h != "" && p.State.Done() {
		facts = append(facts, h)
	}
	if p.Revision != "" && p.State.Done() {
		facts = append(facts, "at "+syncRevision(p.Revision))
	}
	if len(facts) > 0 {
		text += " (" + strings.Join(facts, ", ") + ")"
	}
	return text
}

// healthText is Argo CD's health, or Flux's Ready condition as a word.
func healthText(p kubesync.Phase) string {
	if p.Target.Operator == fleet.OperatorFlux {
		switch p.Health {
		case "True":
			return "Ready"
		case "False":
			return "NotReady"
		case "":
			return ""
		}
		return "Ready " + p.Health
	}
	return p.Health
}

// syncRevision shortens shas: "main@sha1:1a2b3c4", "1a2b3c4"; chart versions stay.
func syncRevision(rev string) string {
	if before, sha, ok := strings.Cut(rev, "sha1:"); ok {
		return before + "sha1:" + fleet.ShortSHA(sha)
	}
	if len(rev) == 40 && strings.Trim(rev, "0123456789abcdef") == "" {
		return fleet.ShortSHA(rev)
	}
	return rev
}

// finish prints the outcome table and picks the exit status.
func (s *syncing) finish(ctx context.Context, results []*syncResult) error {
	rows := [][]string{{"CLUSTER", "OPERATOR", "OBJECT", "RESULT", "SYNC", "HEALTH", "REVISION", "TOOK"}}
	failed := 0
	for _, r := range results {
		t := r.target
		object := t.Kind + " " + t.Namespace + "/" + t.Name
		result, took := string(r.last.State), "-"
		switch {
		case r.failure != "":
			result = "Refused"
		case !r.seen || !r.last.State.Done():
			result = "Unfinished"
			why := "did not finish within --wait " + s.opts.Wait.String()
			if ctx.Err() != nil && !errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
				why = "interrupted"
			}
			fmt.Fprintf(s.streams.ErrOut, "fleetdeck: sync %s on %s %s; last: %s\n", clean(t.App), clean(t.Cluster), why, clean(phaseText(r.last)))
		default:
			took = fmt.Sprintf("%.1fs", r.last.At.Sub(r.handle.RequestedAt).Seconds())
		}
		if result != string(kubesync.StateSucceeded) {
			failed++
		}
		rows = append(rows, []string{t.Cluster, string(t.Operator), object, result,
			orDash(r.last.Sync), orDash(healthText(r.last)), orDash(syncRevision(r.last.Revision)), took})
	}
	printAligned(s.streams.Out, rows, func(col int, v string) string {
		if col != 3 {
			return v
		}
		switch v {
		case string(kubesync.StateSucceeded):
			return s.pal.green(v)
		case "Refused", "Unfinished", string(kubesync.StateFailed), string(kubesync.StateError):
			return s.pal.red(v)
		}
		return v
	})
	if failed > 0 {
		return withExitCode(ExitProblems, fmt.Errorf("%d of %s did not succeed", failed, counted(len(results), "sync")))
	}
	return nil
}
