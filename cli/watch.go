package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

func newWatchCmd(streams *IOStreams, gopts *GlobalOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "watch",
		Short:  "Not available yet",
		Hidden: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withExitCode(ExitError, errors.New("watch: not available yet"))
		},
	}
}
