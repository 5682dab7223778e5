package cli

import "github.com/spf13/cobra"

func newConfigCmd(streams *IOStreams, opts *GlobalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Inspect and validate fleetdeck's configuration",
	}
	return cmd
}
