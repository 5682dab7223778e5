package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/fleetdeck/fleetdeck/config"
	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/internal/engine"
	"github.com/fleetdeck/fleetdeck/internal/notify"
)

// watchShutdownGrace is how long queued notifications may still be delivered after SIGTERM
// (well within systemd's and Kubernetes' default stop timeouts).
const watchShutdownGrace = 5 * time.Second

type watchOptions struct {
	Notify   []string
	Debounce time.Duration
	Once     bool
	State    string
	LogJSON  bool
	Verbose  bool
	Timeout  time.Duration
}

func newWatchCmd(streams *IOStreams, gopts *GlobalOptions) *cobra.Command {
	opts := &watchOptions{}
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Post a chat message when an application drifts, goes out of sync, degrades, or a cluster stops answering",
		Long: `watch follows every configured cluster and repository, as the terminal UI does, and
posts a message to each webhook when an application instance changes state:

  drift-appeared / drift-cleared   an image tag or field differs from git, or latest
                                   is used / live matches git again
  out-of-sync / synced             the sync status changed
  degraded / recovered             health became Degraded or Missing (a crash-looping
                                   pod counts) / came back
  unreachable / reachable          a cluster stopped answering / answers again

A change is announced once it has lasted --debounce; one undone within it is only
logged; one that flaps is collapsed into one summary. The changes of one instance
that settle together make one message. At start, the problems that already exist
are sent as one digest.

Webhooks: --notify URL, --notify env:NAME (the URL is read from the variable NAME,
so the secret stays out of the command line), each optionally prefixed with the
format: slack=… or json=…. Without --notify, the targets of the config's notify
section are used. The format is slack (an incoming-webhook payload: text and
blocks) for hooks.slack.com URLs and json (fleetdeck's event document, see the
README) for any other unless given. Each webhook has its own queue: a slow or
failing one never holds up the watch. 5xx answers, 408, 429 and timeouts are
retried with backoff (a 429's Retry-After is honoured); after the last attempt
the message is dropped with a logged error. URLs are masked in the log.

The log goes to stderr, as JSON with --log-json. SIGTERM or SIGINT stop watch
cleanly (exit 0) after up to 5s for queued messages.

--once reads the fleet once, posts, waits for delivery and exits: with --state,
the changes since the previous run (the first run sends the digest); without it,
the digest when there are problems. Exit status: 0 no problems; 1 problems exist;
2 fleetdeck failed (bad flags or config, a message could not be delivered).
--state also lets a restarted watch continue without a new digest.`,
		Example: `  export SLACK_WEBHOOK_URL=https://hooks.slack.com/services/…
  fleetdeck watch --notify env:SLACK_WEBHOOK_URL
  fleetdeck watch --notify env:SLACK_WEBHOOK_URL --notify json=https://events.example.com/fleetdeck --log-json
  fleetdeck watch --once --state /var/lib/fleetdeck/watch.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runWatch(cmd.Context(), streams, gopts, opts)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&opts.Notify, "notify", nil, "webhook: [slack=|json=]URL or [slack=|json=]env:NAME (repeatable; replaces the config's notify.targets)")
	f.DurationVar(&opts.Debounce, "debounce", 0, "how long a change must last before it is announced (default: the config's notify.debounce, 30s)")
	f.BoolVar(&opts.Once, "once", false, "read the fleet once, post, and exit (for cron)")
	f.StringVar(&opts.State, "state", "", "file remembering what was announced, so that the next run (or --once) posts only what changed since")
	f.BoolVar(&opts.LogJSON, "log-json", false, "log to stderr as JSON lines")
	f.BoolVarP(&opts.Verbose, "verbose", "v", false, "log every change seen, not only what is posted")
	f.DurationVar(&opts.Timeout, "timeout", 30*time.Second, "how long to wait for the clusters at start; those not done by then count as unreachable")
	return cmd
}

func runWatch(ctx context.Context, streams *IOStreams, gopts *GlobalOptions, opts *watchOptions) error {
	if opts.Debounce < 0 {
		return withExitCode(ExitError, fmt.Errorf("--debounce must not be negative, got %s", opts.Debounce))
	}
	if opts.Timeout <= 0 {
		return withExitCode(ExitError, fmt.Errorf("--timeout must be positive, got %s", opts.Timeout))
	}
	cfg, _, err := config.Load(gopts.ConfigPath, streams.Getenv)
	if err != nil {
		return withExitCode(ExitError, err)
	}
	targets, err := watchTargets(cfg, opts, streams.Getenv)
	if err != nil {
		return withExitCode(ExitError, err)
	}
	debounce := cfg.Notify.Debounce
	if opts.Debounce > 0 {
		debounce = opts.Debounce
	}
	var known fleet.States
	if opts.State != "" {
		if known, err = notify.LoadStates(opts.State); err != nil {
			return withExitCode(ExitError, err)
		}
	}
	log := newWatchLogger(streams, opts)

	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	eng, stopEngine, err := startEngine(ctx, cfg, engine.Options{Getenv: streams.Getenv})
	if err != nil {
		return err
	}
	defer stopEngine()
	var names []string
	for _, t := range targets {
		names = append(names, t.Name()+" ("+string(t.Format)+")")
	}
	log.Info("watch starting", "clusters", len(cfg.Clusters), "targets", strings.Join(names, ", "),
		"debounce", debounce.String(), "once", opts.Once)

	baseline, err := eng.Snapshot(ctx, opts.Timeout)
	if err != nil {
		if ctx.Err() != nil {
			log.Info("stopped before the fleet was read")
			return nil
		}
		return withExitCode(ExitError, err)
	}
	for _, r := range eng.Repositories() {
		if r.Err != nil {
			log.Warn("git facts may be incomplete", "error", r.Err.Error())
		}
	}
	for _, c := range baseline.Clusters {
		if c.State == fleet.ConnUnreachable {
			log.Warn("cluster unreachable at start", "cluster", c.Name, "error", c.Err)
		}
	}

	disp := notify.NewDispatcher(targets, notify.DeliveryOptions{Attempts: cfg.Notify.Attempts, Timeout: cfg.Notify.Timeout,
		UserAgent: "fleetdeck/" + Version}, log)
	// Delivery outlives the signal: queued messages get watchShutdownGrace after it.
	disp.Start(context.WithoutCancel(ctx))
	nopts := notify.Options{Debounce: debounce, Binary: "fleetdeck", Known: known, Log: log}
	if opts.State != "" {
		nopts.Save = func(s fleet.States) error { return notify.SaveStates(opts.State, s, time.Now()) }
	}

	if opts.Once {
		msgs, states := notify.Once(baseline, nopts)
		for _, m := range msgs {
			disp.Send(m)
		}
		stopEngine()
		delivered, dropped := disp.Close(0)
		log.Info("watch done", "messages", len(msgs), "delivered", delivered, "dropped", dropped, "severity", baseline.Severity.String())
		if dropped > 0 {
			// The state is not saved, so the next run tries these changes again.
			return withExitCode(ExitError, fmt.Errorf("%s could not be delivered (see the log)", counted(int(dropped), "message")))
		}
		if nopts.Save != nil {
			if err := nopts.Save(states); err != nil {
				return withExitCode(ExitError, err)
			}
		}
		if baseline.Severity >= fleet.SeverityWarning {
			return withExitCode(ExitProblems, nil)
		}
		return nil
	}

	notify.Watch(ctx, baseline, eng.Subscribe(ctx), disp.Send, nopts)
	log.Info("watch stopping", "reason", stopReason(ctx))
	stopEngine()
	delivered, dropped := disp.Close(watchShutdownGrace)
	log.Info("watch stopped", "delivered", delivered, "dropped", dropped)
	return nil
}

// watchTargets reads the webhooks from --notify, else from the config.
func watchTargets(cfg *config.Config, opts *watchOptions, getenv func(string) string) ([]notify.Target, error) {
	var targets []notify.Target
	if len(opts.Notify) > 0 {
		for _, spec := range opts.Notify {
			t, err := notify.ParseTarget(spec, getenv)
			if err != nil {
				return nil, fmt.Errorf("--notify: %w", err)
			}
			targets = append(targets, t)
		}
		return targets, nil
	}
	for i, ct := range cfg.Notify.Targets {
		f, err := notify.ParseFormat(ct.Format)
		if err != nil {
			return nil, fmt.Errorf("notify.targets[%d]: %w", i, err)
		}
		t, err := notify.NewTarget(ct.URL, ct.URLEnv, f, getenv)
		if err != nil {
			return nil, fmt.Errorf("notify.targets[%d]: %w", i, err)
		}
		targets = append(targets, t)
	}
	if len(targets) == 0 {
		return nil, fmt.Errorf("no webhook to notify: pass --notify env:SLACK_WEBHOOK_URL (or a URL), or add notify.targets to the config")
	}
	return targets, nil
}

func newWatchLogger(streams *IOStreams, opts *watchOptions) *slog.Logger {
	level := slog.LevelInfo
	if opts.Verbose {
		level = slog.LevelDebug
	}
	ho := &slog.HandlerOptions{Level: level}
	if opts.LogJSON {
		return slog.New(slog.NewJSONHandler(streams.ErrOut, ho))
	}
	return slog.New(slog.NewTextHandler(streams.ErrOut, ho))
}

func stopReason(ctx context.Context) string {
	if err := context.Cause(ctx); err != nil {
		return err.Error()
	}
	return "the engine stopped"
}
