package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/fleetdeck/fleetdeck/internal/sandbox"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/binaries"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

type demoOptions struct {
	Dir  string
	Pods int
	Seed int64
}

// defaultDemoDir is $XDG_STATE_HOME/fleetdeck/demo (~/.local/state/…).
func defaultDemoDir(getenv func(string) string) string {
	if d := getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "fleetdeck", "demo")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "fleetdeck-demo")
	}
	return filepath.Join(home, ".local", "state", "fleetdeck", "demo")
}

func newDemoCmd(streams *IOStreams, gopts *GlobalOptions) *cobra.Command {
	opts := &demoOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a real three-cluster sandbox fleet on this machine",
		Long: `demo starts a real fleet on this machine: etcd and, per cluster (prod-eu,
prod-us, staging), a kube-apiserver, controller-manager, scheduler and kwok;
a generated GitOps monorepo with months of history; a stand-in GitOps operator
that applies it and writes Argo CD and Flux objects; and the problems teams
meet in real fleets (hand patches, :latest, a crashlooping bump, an app behind
git, an image that cannot be pulled).

The control-plane binaries are built from the Go module proxy on first use
into $XDG_CACHE_HOME/fleetdeck/sandbox (several minutes, once).

Without a subcommand it runs the fleet in the foreground and, on a terminal,
opens the terminal UI on it (elsewhere it waits for Ctrl-C); quitting stops
every process it started. "demo up" leaves the fleet running for scripts; "demo
down" stops it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDemoForeground(cmd.Context(), streams, gopts, opts)
		},
	}
	addDemoFlags := func(c *cobra.Command, withStart bool) {
		c.Flags().StringVar(&opts.Dir, "dir", "", "directory of the fleet (default $XDG_STATE_HOME/fleetdeck/demo)")
		if withStart {
			c.Flags().IntVar(&opts.Pods, "pods", 0, "extra filler pods per cluster (for benchmarks)")
			c.Flags().Int64Var(&opts.Seed, "seed", 1, "seed of the generated monorepo (same seed, same commit hashes)")
		}
	}
	addDemoFlags(cmd, true)

	up := &cobra.Command{
		Use:   "up",
		Short: "Start the sandbox fleet and leave it running",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDemoUp(cmd.Context(), streams, opts)
		},
	}
	addDemoFlags(up, true)
	down := &cobra.Command{
		Use:   "down",
		Short: "Stop every process of the sandbox fleet",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := demoDir(streams, opts)
			if err := sandbox.Down(dir, 30*time.Second); err != nil {
				return withExitCode(ExitError, err)
			}
			fmt.Fprintf(streams.Out, "sandbox fleet in %s stopped\n", dir)
			return nil
		},
	}
	addDemoFlags(down, false)
	env := &cobra.Command{
		Use:   "env",
		Short: "Print shell exports for the running sandbox (eval \"$(fleetdeck demo env)\")",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := sandbox.Load(demoDir(streams, opts))
			if err != nil {
				return withExitCode(ExitError, err)
			}
			fmt.Fprintf(streams.Out, "export KUBECONFIG=%q\nexport FLEETDECK_CONFIG=%q\n", f.Kubeconfig, f.ConfigPath)
			return nil
		},
	}
	addDemoFlags(env, false)
	agent := &cobra.Command{
		Use:    "agent",
		Short:  "Run the sandbox's stand-in operator and pod log writers (started by demo up)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if err := sandbox.RunAgent(ctx, demoDir(streams, opts)); err != nil {
				return withExitCode(ExitError, err)
			}
			return nil
		},
	}
	addDemoFlags(agent, false)
	prepare := &cobra.Command{
		Use:   "prepare",
		Short: "Build the sandbox's control-plane binaries into the cache (done by demo on first use)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			start := time.Now()
			paths, err := binaries.Ensure(cmd.Context(), binaries.Options{Progress: streams.ErrOut, Getenv: streams.Getenv})
			if err != nil {
				return withExitCode(ExitError, err)
			}
			fmt.Fprintf(streams.Out, "sandbox binaries ready in %s (%.1fs)\n", paths.Dir, time.Since(start).Seconds())
			return nil
		},
	}
	cmd.AddCommand(up, down, env, agent, prepare)
	return cmd
}

func demoDir(streams *IOStreams, opts *demoOptions) string {
	if opts.Dir != "" {
		return opts.Dir
	}
	return defaultDemoDir(streams.Getenv)
}

func runDemoUp(ctx context.Context, streams *IOStreams, opts *demoOptions) error {
	dir := demoDir(streams, opts)
	if running, _ := sandbox.Running(dir); running {
		f, err := sandbox.Load(dir)
		if err != nil {
			return withExitCode(ExitError, err)
		}
		fmt.Fprintf(streams.Out, "A sandbox fleet is already running in %s; reusing it.\n\n", f.Dir)
		printDemoInfo(streams.Out, f)
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return withExitCode(ExitError, err)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	f, err := sandbox.Up(ctx, sandbox.Options{
		Dir: dir, Seed: opts.Seed, Pods: opts.Pods, Progress: streams.ErrOut,
		Agent: sandbox.AgentDetached, AgentCommand: []string{exe, "demo", "agent", "--dir", dir},
		Getenv: streams.Getenv,
	})
	if err != nil {
		return withExitCode(ExitError, err)
	}
	fmt.Fprintf(streams.Out, "Sandbox fleet up in %s (%.0fs).\n\n", f.Dir, time.Since(start).Seconds())
	printDemoInfo(streams.Out, f)
	fmt.Fprintf(streams.Out, "\nStop it with: fleetdeck demo down --dir %s\n", f.Dir)
	return nil
}

// runDemoForeground starts the fleet, owned by this process, and opens the terminal UI on it
// when stdout is a terminal (else it prints how to use it and waits for Ctrl-C); the fleet
// stops when the UI quits or on Ctrl-C.
func runDemoForeground(ctx context.Context, streams *IOStreams, gopts *GlobalOptions, opts *demoOptions) error {
	dir := demoDir(streams, opts)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	f, err := sandbox.Up(ctx, sandbox.Options{
		Dir: dir, Seed: opts.Seed, Pods: opts.Pods, Progress: streams.ErrOut,
		StopOnSignal: true, Agent: sandbox.AgentInProcess, Getenv: streams.Getenv,
	})
	if err != nil {
		return withExitCode(ExitError, err)
	}
	var uiErr error
	if streams.OutIsTerminal {
		g := *gopts
		g.ConfigPath = f.ConfigPath
		uiErr = runTUI(ctx, streams, &g, &tuiOptions{})
	} else {
		printDemoInfo(streams.Out, f)
		fmt.Fprintln(streams.Out, "\nThe fleet runs until Ctrl-C.")
		<-ctx.Done()
	}
	fmt.Fprintln(streams.ErrOut, "stopping the sandbox fleet…")
	if err := f.Down(30 * time.Second); err != nil {
		return withExitCode(ExitError, err)
	}
	return uiErr
}

func printDemoInfo(w io.Writer, f *sandbox.Fleet) {
	kubectl := "kubectl"
	if f.Bins.Kubectl != "" {
		kubectl = f.Bins.Kubectl
	}
	fmt.Fprintf(w, "  clusters     %v\n", f.Clusters)
	fmt.Fprintf(w, "  kubeconfig   %s  (contexts %s, %s, %s; add -viewer for the read-only user)\n",
		f.Kubeconfig, scenario.ProdEU, scenario.ProdUS, scenario.Staging)
	fmt.Fprintf(w, "  config       %s\n", f.ConfigPath)
	fmt.Fprintf(w, "  git remote   %s  (%d commits, branch %s)\n", f.RemoteDir, f.Repo.Commits, scenario.Branch)
	fmt.Fprintf(w, "  logs         %s\n", filepath.Join(f.Dir, "logs"))
	fmt.Fprintf(w, "\nTry:\n")
	fmt.Fprintf(w, "  export KUBECONFIG=%s FLEETDECK_CONFIG=%s\n", f.Kubeconfig, f.ConfigPath)
	fmt.Fprintf(w, "  %s --context %s get pods -A\n", kubectl, scenario.ProdUS)
	fmt.Fprintf(w, "  %s --context %s -n auth logs -f deploy/auth-service\n", kubectl, scenario.ProdEU)
	fmt.Fprintf(w, "  %s --context %s -n argocd get applications\n", kubectl, scenario.ArgoHub)
	fmt.Fprintf(w, "  git -C %s log --oneline -- k8s/auth-service/values-stage.yaml | head\n", f.RemoteDir)
	fmt.Fprintf(w, "  fleetdeck config check\n")
	fmt.Fprintf(w, "\nInjected problems:\n")
	for _, p := range scenario.Problems {
		fmt.Fprintf(w, "  %-20s on %-8s %s\n", p.App, p.Cluster, problemText(p.Kind))
	}
	fmt.Fprintf(w, "  %-20s everywhere: healthy and in sync\n", scenario.HealthyApp)
}

func problemText(k scenario.ProblemKind) string {
	switch k {
	case scenario.HandPatch:
		return "image changed by hand on the live Deployment (drift; git unchanged)"
	case scenario.LatestTag:
		return "container runs :latest"
	case scenario.BadBump:
		return "newest CI image bump crashloops (CrashLoopBackOff, Degraded)"
	case scenario.Behind:
		return "live revision two commits behind git (OutOfSync)"
	case scenario.PullFailure:
		return "image tag not in the registry (ImagePullBackOff)"
	}
	return string(k)
}
