// Package sandboxtest gives an integration test package one shared sandbox
// fleet: TestMain starts it once, every test reads it, and it is stopped (all
// processes, by PID) when the package's tests end or the run is interrupted.
package sandboxtest

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fleetdeck/fleetdeck/internal/sandbox"
)

var (
	shared   *sandbox.Fleet
	startErr error
)

// Main runs the package's tests around one shared fleet. With -short the
// fleet is not started and tests that need it skip.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	testingShort := false
	for _, a := range os.Args[1:] {
		if a == "-test.short" || a == "-test.short=true" {
			testingShort = true
		}
	}
	if testingShort || os.Getenv("FLEETDECK_SKIP_SANDBOX") != "" {
		startErr = errSkipped
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "fleetdeck-sandbox-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandboxtest:", err)
		return 2
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	start := time.Now()
	shared, startErr = sandbox.Up(ctx, sandbox.Options{
		Dir: dir, StopOnSignal: true, Agent: sandbox.AgentInProcess, Progress: progressWriter(),
	})
	cancel()
	if startErr == nil {
		fmt.Fprintf(os.Stderr, "sandboxtest: fleet up in %s (%.1fs)\n", dir, time.Since(start).Seconds())
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	if shared != nil {
		if err := shared.Down(30 * time.Second); err != nil {
			fmt.Fprintln(os.Stderr, "sandboxtest: stop fleet:", err)
			code = 1
		}
		if running, pids := sandbox.Running(dir); running {
			fmt.Fprintf(os.Stderr, "sandboxtest: processes left after stop: %v\n", pids)
			code = 1
		}
	}
	return code
}

var errSkipped = fmt.Errorf("sandbox not started (-short or FLEETDECK_SKIP_SANDBOX)")

// progressWriter shows the fleet's start-up when the tests run verbosely.
func progressWriter() io.Writer {
	if os.Getenv("FLEETDECK_SANDBOX_PROGRESS") != "" {
		return os.Stderr
	}
	return nil
}

// Fleet returns the shared fleet, skipping the test in -short mode and
// failing it when the fleet could not start.
func Fleet(t testing.TB) *sandbox.Fleet {
	t.Helper()
	if startErr == errSkipped {
		t.Skip(errSkipped.Error())
	}
	if startErr != nil {
		t.Fatalf("sandbox fleet did not start: %v", startErr)
	}
	return shared
}

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

// Binary builds the fleetdeck command once per test binary, for tests that run it as its own
// process (stopped with a signal, the way a user or systemd stops it). The build is removed
// when the tests end.
func Binary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "fleetdeck-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "fleetdeck")
		if out, err := exec.Command("go", "build", "-o", binPath, "github.com/fleetdeck/fleetdeck").CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}
