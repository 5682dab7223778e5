package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/fleetdeck/fleetdeck/fleet"
)

// stateFile is what --state holds: the states last announced, so that a run started by cron
// (or a restarted service) announces only what changed since.
type stateFile struct {
	SchemaVersion int          `json:"schemaVersion"`
	SavedAt       time.Time    `json:"savedAt"`
	States        []stateEntry `json:"states"`
}

type stateEntry struct {
	App     string            `json:"app,omitempty"`
	Cluster string            `json:"cluster"`
	Aspect  fleet.Aspect      `json:"aspect"`
	State   fleet.AspectState `json:"state"`
}

// LoadStates reads a state file written by SaveStates; a file that does not exist yet gives
// nil states and no error (a first run).
func LoadStates(path string) (fleet.States, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state file: %w", err)
	}
	var f stateFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("state file %s: %w (delete it to start afresh)", path, err)
	}
	if f.SchemaVersion != 1 {
		return nil, fmt.Errorf("state file %s: schema version %d, want 1 (delete it to start afresh)", path, f.SchemaVersion)
	}
	s := fleet.States{}
	for _, e := range f.States {
		s[fleet.StateKey{App: e.App, Cluster: e.Cluster, Aspect: e.Aspect}] = e.State
	}
	return s, nil
}

// SaveStates writes s to path atomically (a temporary file renamed over it).
func SaveStates(path string, s fleet.States, now time.Time) error {
	f := stateFile{SchemaVersion: 1, SavedAt: now.UTC(), States: []stateEntry{}}
	for k, v := range s {
		f.States = append(f.States, stateEntry{App: k.App, Cluster: k.Cluster, Aspect: k.Aspect, State: v})
	}
	slices.SortFunc(f.States, func(a, b stateEntry) int {
		return fleet.CompareStateKeys(fleet.StateKey{App: a.App, Cluster: a.Cluster, Aspect: a.Aspect},
			fleet.StateKey{App: b.App, Cluster: b.Cluster, Aspect: b.Aspect})
	})
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("state file %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write state file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write state file %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write state file %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write state file: %w", err)
	}
	return nil
}
