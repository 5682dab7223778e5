package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"

	"github.com/fleetdeck/fleetdeck/config"
	"github.com/fleetdeck/fleetdeck/kube/logs"
	"github.com/fleetdeck/fleetdeck/ui"
)

// tuiLogTail is how many lines of each container's past the log pane starts with.
const tuiLogTail = 200

type tuiOptions struct {
	// Theme overrides the config's ui.theme when set.
	Theme string
}

const tuiLong = `ui opens the terminal UI on the configured fleet: one tree of applications across
every cluster, worst first, with sync, health, git revision against live revision
and image drift, kept current from the clusters' watches. "fleetdeck" without a
verb does the same.

Clusters appear as connecting until their first listing arrives; a slow or
unreachable cluster delays nothing else. Press ? for every key, / to filter,
p for problems only, d for git against live, S to sync, q or Ctrl-C to quit.

The UI needs a terminal. For a report that can be piped or scripted, use
"fleetdeck status" (or "fleetdeck status --watch").`

// addTUI makes root open the terminal UI when run without a verb and adds the
// equivalent "ui" verb; both take --theme.
func addTUI(root *cobra.Command, streams *IOStreams, gopts *GlobalOptions) {
	rootOpts := &tuiOptions{}
	root.RunE = func(cmd *cobra.Command, args []string) error {
		return runTUI(cmd.Context(), streams, gopts, rootOpts)
	}
	addThemeFlag(root, rootOpts)

	opts := &tuiOptions{}
	cmd := &cobra.Command{
		Use:   "ui",
		Short: "Open the terminal UI on the configured fleet (the default verb)",
		Long:  tuiLong,
		Example: `  fleetdeck
  fleetdeck ui --theme light
  NO_COLOR=1 fleetdeck --readonly`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTUI(cmd.Context(), streams, gopts, opts)
		},
	}
	addThemeFlag(cmd, opts)
	root.AddCommand(cmd)
}

func addThemeFlag(cmd *cobra.Command, opts *tuiOptions) {
	cmd.Flags().StringVar(&opts.Theme, "theme", "",
		fmt.Sprintf("colour theme: %s (default: the config's ui.theme, else %s)", strings.Join(ui.Themes, ", "), config.DefaultTheme))
}

// runTUI loads the config, starts the engine, runs the ui until the user quits and stops the
// engine before returning, so nothing it started outlives the call.
func runTUI(ctx context.Context, streams *IOStreams, gopts *GlobalOptions, opts *tuiOptions) error {
	if !streams.OutIsTerminal {
		return withExitCode(ExitError, errors.New(
			"the terminal UI needs a terminal on standard output; for output that can be piped use `fleetdeck status` (or `fleetdeck status --watch`)"))
	}
	if opts.Theme != "" && !slices.Contains(ui.Themes, opts.Theme) {
		return withExitCode(ExitError, fmt.Errorf("--theme %q: unknown theme (want one of %s)", opts.Theme, strings.Join(ui.Themes, ", ")))
	}
	cfg, _, err := config.Load(gopts.ConfigPath, streams.Getenv)
	if err != nil {
		return withExitCode(ExitError, err)
	}
	uopts := ui.Options{
		ReadOnly: gopts.ReadOnly || cfg.ReadOnly,
		Theme:    string(cfg.UI.Theme),
		NoColor:  gopts.NoColor || (streams.Getenv != nil && streams.Getenv("NO_COLOR") != ""),
		Version:  Version,
		Environ:  terminalEnviron(streams),
	}
	if opts.Theme != "" {
		uopts.Theme = opts.Theme
	}

	if ctx == nil {
		ctx = context.Background()
	}
	// Ctrl-C is a key while the terminal is raw and the ui quits on it; SIGINT and SIGTERM from
	// elsewhere, and SIGHUP when the terminal goes away, end the context, which ends the ui.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	src, err := newEngineSource(ctx, cfg, streams.Getenv, config.DefaultTimeout)
	if err != nil {
		return err
	}
	uopts.History = newTUIHistory(src, uopts.ReadOnly, streams.Getenv)
	uopts.Diffs = newTUIDiffs(src.eng)
	uopts.Sync = newTUISync(src.eng, cfg, uopts.ReadOnly, streams.Getenv)
	uopts.Logs = &tuiLogs{eng: src.eng, clients: logClients(cfg, nil),
		opts: logs.Options{Follow: true, Tail: tuiLogTail, TailSet: true}}
	uopts.LogRing = cfg.Logs.BufferLines // logs.bufferLines bounds the log pane's buffer
	// Subscribe before the ui starts: the first model (every cluster connecting) is then ready
	// by the time the first frame is drawn.
	updates := src.eng.Subscribe(ctx)
	uiErr := ui.Run(ctx, ui.ChanSource(updates), uopts, streams.In, streams.Out)
	cancel()
	src.Close()

	if uiErr != nil && !errors.Is(uiErr, tea.ErrInterrupted) {
		return withExitCode(ExitError, fmt.Errorf("terminal UI: %w", uiErr))
	}
	return nil
}

// terminalEnviron is the process environment with the variables that decide colours and
// terminal features read through streams, so the ui sees what the streams say.
func terminalEnviron(streams *IOStreams) []string {
	if streams.Getenv == nil {
		return nil
	}
	keys := []string{"TERM", "COLORTERM", "NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "TERM_PROGRAM", "TMUX"}
	env := make([]string, 0, len(os.Environ())+len(keys))
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(keys, k) {
			env = append(env, kv)
		}
	}
	for _, k := range keys {
		if v := streams.Getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}
