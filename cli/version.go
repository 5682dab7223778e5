package cli

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Set at link time by the Makefile (-X); "dev" otherwise.
var (
	Version = "dev"
	Commit  = ""
)

type versionInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
	ClientGo  string `json:"clientGo,omitempty"`
}

func currentVersion() versionInfo {
	v := versionInfo{Version: Version, Commit: Commit, GoVersion: runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "k8s.io/client-go" {
				v.ClientGo = d.Version
			}
		}
	}
	return v
}

func newVersionCmd(streams *IOStreams) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print fleetdeck's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			v := currentVersion()
			switch output {
			case "json":
				enc := json.NewEncoder(streams.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(v)
			case "", "text":
				fmt.Fprintf(streams.Out, "fleetdeck %s", v.Version)
				if v.Commit != "" {
					fmt.Fprintf(streams.Out, " (%s)", v.Commit)
				}
				fmt.Fprintf(streams.Out, " %s %s client-go %s\n", v.GoVersion, v.Platform, v.ClientGo)
				return nil
			default:
				return withExitCode(ExitError, fmt.Errorf("unknown output %q (want text or json)", output))
			}
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}
