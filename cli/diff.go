package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

func newDiffCmd(streams *IOStreams, gopts *GlobalOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "diff",
		Short:  "Not available yet",
		Hidden: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withExitCode(ExitError, errors.New("diff: not available yet"))
		},
	}
}
