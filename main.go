// Command fleetdeck is a terminal UI and CLI for a fleet of Kubernetes
// clusters managed the GitOps way.
package main

import (
	"os"

	"github.com/fleetdeck/fleetdeck/cli"
)

func main() {
	os.Exit(cli.Main(cli.SystemStreams(), os.Args[1:]))
}
