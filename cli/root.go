// Package cli holds fleetdeck's command-line verbs. Each verb lives in its own
// file with an options struct and a run function; streams are injected.
package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

// Exit codes shared by every verb.
const (
	ExitOK       = 0 // success; for status-like verbs: all healthy
	ExitProblems = 1 // the verb ran and found problems (invalid config, drift…)
	ExitError    = 2 // fleetdeck itself failed (bad flags, I/O error)
)

// ExitError carries an exit code through cobra without printing twice.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// withExitCode wraps err so Main exits with code. A nil err with a non-zero
// code means "already reported, just exit".
func withExitCode(code int, err error) error { return &exitError{code: code, err: err} }

// GlobalOptions are the flags every verb shares.
type GlobalOptions struct {
	ConfigPath string
	NoColor    bool
	ReadOnly   bool
}

// NewRootCmd builds the command tree.
func NewRootCmd(streams *IOStreams) *cobra.Command {
	opts := &GlobalOptions{}
	root := &cobra.Command{
		Use:   "fleetdeck",
		Short: "One terminal screen for a fleet of GitOps-managed Kubernetes clusters",
		Long: `fleetdeck merges every configured cluster into one tree of applications with
their sync and health, git revision against live revision and image tag in git
against image tag live; it tails logs across clusters and rolls back by writing
revert commits.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	pf := root.PersistentFlags()
	pf.StringVar(&opts.ConfigPath, "config", "", "config file (default $FLEETDECK_CONFIG, else $XDG_CONFIG_HOME/fleetdeck/config.yaml)")
	pf.BoolVar(&opts.NoColor, "no-color", false, "disable colour (also NO_COLOR=1)")
	pf.BoolVar(&opts.ReadOnly, "readonly", false, "disable every write (reverts, pushes, syncs)")

	root.AddCommand(
		newVersionCmd(streams),
		newConfigCmd(streams, opts),
		newDemoCmd(streams, opts),
		newStatusCmd(streams, opts),
		newLogsCmd(streams, opts),
		newHistoryCmd(streams, opts),
		newRevertCmd(streams, opts),
		newDiffCmd(streams, opts),
		newSyncCmd(streams, opts),
		newWatchCmd(streams, opts),
	)
	// Without a verb fleetdeck opens the terminal UI (also "fleetdeck ui").
	addTUI(root, streams, opts)
	return root
}

// Main runs the CLI and returns the process exit code.
func Main(streams *IOStreams, args []string) int {
	root := NewRootCmd(streams)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(streams.ErrOut, "fleetdeck:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(streams.ErrOut, "fleetdeck:", err)
	return ExitError
}
