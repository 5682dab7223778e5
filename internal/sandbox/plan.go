package sandbox

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/fleetdeck/fleetdeck/internal/sandbox/controlplane"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/monorepo"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/podlogs"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

// state is what Up records in DIR/sandbox.json so that `demo agent` and
// tests can find the facts of a running fleet.
type state struct {
	Seed int64            `json:"seed"`
	Repo *monorepo.Result `json:"repo"`
}

func statePath(dir string) string { return filepath.Join(dir, "sandbox.json") }

func writeState(dir string, st state) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(statePath(dir), b, 0o600); err != nil {
		return fmt.Errorf("sandbox: write state: %w", err)
	}
	return nil
}

func readState(dir string) (state, error) {
	var st state
	b, err := os.ReadFile(statePath(dir))
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("%s: %w", statePath(dir), err)
	}
	if st.Repo == nil {
		return st, fmt.Errorf("%s: no repository facts", statePath(dir))
	}
	return st, nil
}

// crashImages are the images the control plane's kwok makes crashloop: the
// bad bump committed for the scenario's BadBump app.
func crashImages(r *monorepo.Result) []string {
	var out []string
	for _, p := range scenario.Problems {
		if p.Kind == scenario.BadBump {
			a, _ := scenario.AppByName(p.App)
			out = append(out, a.Image()+":"+r.BadTag)
		}
	}
	return out
}

// pullFailImages are images the fake registry does not have.
func pullFailImages(r *monorepo.Result) []string {
	var out []string
	for _, p := range scenario.Problems {
		if p.Kind == scenario.PullFailure {
			a, _ := scenario.AppByName(p.App)
			out = append(out, a.Image()+":"+r.PullFailureTag)
		}
	}
	return out
}

// logPlan says which log file kwok serves for each app's container on each
// cluster, and how the agent writes it. All pods of one container in one
// namespace of one cluster share a file.
func logPlan(dir string, r *monorepo.Result) ([]controlplane.LogTarget, []podlogs.Target) {
	var targets []controlplane.LogTarget
	var writers []podlogs.Target
	for _, c := range scenario.Clusters {
		for i, a := range scenario.Apps {
			if _, ok := a.Instances[c]; !ok {
				continue
			}
			file := filepath.Join(logsDir(dir), "pods", c, a.Namespace, a.Name+".log")
			targets = append(targets, controlplane.LogTarget{Cluster: c, Namespace: a.Namespace, Container: a.Name, File: file})
			style := "plain"
			if i%2 == 0 {
				style = "json"
			}
			if p, ok := scenario.ProblemOn(a.Name, c); ok && p.Kind == scenario.BadBump {
				style = "crash"
			}
			writers = append(writers, podlogs.Target{File: file, App: a.Name, Style: style, RatePerSec: 2})
		}
	}
	return targets, writers
}
