package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

func newSyncCmd(streams *IOStreams, gopts *GlobalOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "sync",
		Short:  "Not available yet",
		Hidden: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withExitCode(ExitError, errors.New("sync: not available yet"))
		},
	}
}
