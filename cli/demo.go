package cli

import "github.com/spf13/cobra"

func newDemoCmd(streams *IOStreams, opts *GlobalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a real three-cluster sandbox fleet on this machine",
	}
	return cmd
}
