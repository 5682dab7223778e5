package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/fleetdeck/fleetdeck/config"
	"github.com/fleetdeck/fleetdeck/internal/engine"
)

// startEngine starts the fleet engine for cfg in the background (opts.GitFacts defaults to
// gitstate's). The engine runs until ctx ends or stop is called; stop cancels it and waits
// until every watch and clone is closed, so a verb that defers stop leaves nothing running.
func startEngine(ctx context.Context, cfg *config.Config, opts engine.Options) (eng *engine.Engine, stop func(), err error) {
	if opts.GitFacts == nil {
		opts.GitFacts = engine.GitstateFacts
	}
	eng, err = engine.New(cfg, opts)
	if err != nil {
		return nil, nil, withExitCode(ExitError, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = eng.Run(ctx)
	}()
	return eng, func() { cancel(); <-done }, nil
}

// checkClusterFlags reports a --cluster value that names no configured cluster.
func checkClusterFlags(cfg *config.Config, flags []string) error {
	var names []string
	for _, c := range cfg.Clusters {
		names = append(names, c.Name)
	}
	for _, c := range flags {
		if !slices.Contains(names, c) {
			return withExitCode(ExitError, fmt.Errorf("--cluster %q: no such cluster in the config (clusters: %s)", c, strings.Join(names, ", ")))
		}
	}
	return nil
}
