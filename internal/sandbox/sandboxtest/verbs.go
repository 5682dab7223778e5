package sandboxtest

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fleetdeck/fleetdeck/cli"
)

// Result is what one verb run in this process printed and returned.
type Result struct {
	Stdout, Stderr string
	Code           int
	Took           time.Duration
}

// Run runs a fleetdeck verb in this process with a private git cache (so tests never share a
// clone) and no terminal.
func Run(t testing.TB, args ...string) Result {
	t.Helper()
	cache := t.TempDir()
	getenv := func(k string) string {
		if k == "XDG_CACHE_HOME" {
			return cache
		}
		return os.Getenv(k)
	}
	var out, errOut bytes.Buffer
	streams := &cli.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, Getenv: getenv}
	begin := time.Now()
	code := cli.Main(streams, args)
	return Result{Stdout: out.String(), Stderr: errOut.String(), Code: code, Took: time.Since(begin)}
}

// Status runs `status -o json` with the config and args and decodes the report; exit status
// 2 fails the test.
func Status(t testing.TB, configPath string, args ...string) (cli.StatusReport, Result) {
	t.Helper()
	r := Run(t, append([]string{"status", "--config", configPath, "-o", "json"}, args...)...)
	if r.Code == cli.ExitError {
		t.Fatalf("status exited 2: %s", r.Stderr)
	}
	var rep cli.StatusReport
	if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
		t.Fatalf("status -o json: %v\n%s\nstderr: %s", err, r.Stdout, r.Stderr)
	}
	return rep, r
}

// Instance finds an instance in a status report.
func Instance(rep cli.StatusReport, app, cluster string) (cli.InstanceReport, bool) {
	for _, a := range rep.Apps {
		for _, in := range a.Instances {
			if in.App == app && in.Cluster == cluster {
				return in, true
			}
		}
	}
	return cli.InstanceReport{}, false
}
