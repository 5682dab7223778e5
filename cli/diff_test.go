package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/fleet/diff"
	"github.com/fleetdeck/fleetdeck/internal/engine"
)

// Golden files are rewritten with: go test ./cli -run TestDiff -update

func diffObj(t *testing.T, s string) map[string]any {
	t.Helper()
	if s == "" {
		return nil
	}
	var m map[string]any
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

const (
	diffGitDeploy = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: payments-api, namespace: payments}
spec:
  replicas: 2
  template:
    spec:
      containers:
      - name: payments-api
        image: registry.example/shop/payments-api:1.4.2
`
	diffLiveDeploy = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: payments-api, namespace: payments, uid: 1, resourceVersion: "9"}
spec:
  replicas: 2
  progressDeadlineSeconds: 600
  template:
    spec:
      containers:
      - name: payments-api
        image: registry.example/shop/payments-api:hotfix-manual-1
        imagePullPolicy: IfNotPresent
status: {replicas: 2}
`
	diffGitCM = `
apiVersion: v1
kind: ConfigMap
metadata: {name: payments-flags, namespace: payments}
data: {checkout: "on"}
`
	diffLiveOld = `
apiVersion: v1
kind: ConfigMap
metadata: {name: payments-legacy, namespace: payments}
data: {mode: legacy}
`
	diffSvc = `
apiVersion: v1
kind: Service
metadata: {name: payments-api, namespace: payments}
spec: {ports: [{port: 80}]}
`
)

// diffFixture is payments-api differing on prod-us (a changed image, an object only in git
// and one only live) and in sync on prod-eu.
func diffFixture(t *testing.T) []engine.InstanceDiff {
	prodUS, w := diff.Objects(
		[]map[string]any{diffObj(t, diffGitDeploy), diffObj(t, diffGitCM), diffObj(t, diffSvc)},
		[]map[string]any{diffObj(t, diffLiveDeploy), diffObj(t, diffLiveOld), diffObj(t, diffSvc)},
		diff.Options{Prefix: "prod-us/"})
	if len(w) > 0 {
		t.Fatal(w)
	}
	prodEU, _ := diff.Objects([]map[string]any{diffObj(t, diffSvc)}, []map[string]any{diffObj(t, diffSvc)}, diff.Options{Prefix: "prod-eu/"})
	src := func(cluster string) fleet.Source {
		return fleet.Source{Operator: fleet.OperatorArgoCD, Kind: "Application", Cluster: "prod-eu", Namespace: "argocd", Name: "payments-api-" + cluster}
	}
	return []engine.InstanceDiff{
		{App: "payments-api", Cluster: "prod-us", Source: src("prod-us"), Repo: "https://git.example/shop.git", Path: "k8s/payments-api",
			Branch: "main", Revision: sha('a'), LiveRevision: sha('a'), Objects: prodUS},
		{App: "payments-api", Cluster: "prod-eu", Source: src("prod-eu"), Repo: "https://git.example/shop.git", Path: "k8s/payments-api",
			Branch: "main", Revision: sha('a'), LiveRevision: sha('a'), Objects: prodEU},
	}
}

func TestDiffOutput(t *testing.T) {
	rep := NewDiffReport("payments-api", diffFixture(t))
	if !rep.Differs || !rep.Instances[0].Differs || rep.Instances[1].Differs {
		t.Fatalf("differs: report %v, instances %v %v", rep.Differs, rep.Instances[0].Differs, rep.Instances[1].Differs)
	}
	for _, tc := range []struct {
		name  string
		write func(*bytes.Buffer) error
	}{
		{"text", func(b *bytes.Buffer) error { return writeDiffText(b, newPalette(false), rep) }},
		{"colour", func(b *bytes.Buffer) error { return writeDiffText(b, newPalette(true), rep) }},
		{"json", func(b *bytes.Buffer) error { return writeDiffJSON(b, rep) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tc.write(&b); err != nil {
				t.Fatal(err)
			}
			checkGoldenIn(t, "diff", tc.name, b.String())
		})
	}
	// Nothing differs: nothing is printed.
	same := NewDiffReport("payments-api", diffFixture(t)[1:])
	var b bytes.Buffer
	if err := writeDiffText(&b, newPalette(true), same); err != nil || b.Len() != 0 {
		t.Errorf("in sync: printed %q (%v), want nothing", b.String(), err)
	}
}

func TestDiffExit(t *testing.T) {
	fx := diffFixture(t)
	broken := fx[1]
	broken.Err, broken.Objects = "cluster prod-eu is unreachable", nil
	warned := fx[1]
	warned.Warnings = []string{"not compared: forbidden"}
	for _, tc := range []struct {
		name   string
		ds     []engine.InstanceDiff
		code   int
		stderr string
	}{
		{"in sync", fx[1:], ExitOK, ""},
		{"differs", fx, ExitProblems, ""},
		{"warning only", []engine.InstanceDiff{warned}, ExitOK, "fleetdeck: warning: payments-api on prod-eu: not compared: forbidden\n"},
		{"an instance not compared", []engine.InstanceDiff{fx[0], broken}, ExitError,
			"fleetdeck: payments-api on prod-eu not compared: cluster prod-eu is unreachable\n"},
		{"no instance", nil, ExitError, "fleetdeck: payments-api has no instance on the selected clusters\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var errOut bytes.Buffer
			err := diffExit(&errOut, NewDiffReport("payments-api", tc.ds))
			code := ExitOK
			if ee, ok := err.(*exitError); ok {
				code = ee.code
			} else if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if code != tc.code || errOut.String() != tc.stderr {
				t.Errorf("exit %d, stderr %q; want %d, %q", code, errOut.String(), tc.code, tc.stderr)
			}
		})
	}
}

// TestDiffExternal runs a stand-in for the external tool that records where it ran, with
// what arguments, and what it found there.
func TestDiffExternal(t *testing.T) {
	bin := t.TempDir()
	record := filepath.Join(t.TempDir(), "record")
	script := filepath.Join(bin, "fake-diff")
	if err := os.WriteFile(script, []byte(`#!/bin/sh
{ echo "args: $*"; pwd; stat -c '%a' .; find . -type f | sort; cat git/prod-us/apps.Deployment.payments.payments-api.yaml; } > "$RECORD"
exit 1
`), 0o755); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"FLEETDECK_DIFF": script + " --color", "RECORD": record, "PATH": os.Getenv("PATH")}
	var out, errOut bytes.Buffer
	streams := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, Getenv: func(k string) string { return env[k] }}
	// The script reads RECORD from its environment, which exec passes from the process's.
	t.Setenv("RECORD", record)
	if err := runExternalDiff(context.Background(), streams, NewDiffReport("payments-api", diffFixture(t))); err != nil {
		t.Fatalf("runExternalDiff: %v (stderr %q)", err, errOut.String())
	}
	got, err := os.ReadFile(record)
	if err != nil {
		t.Fatalf("the external diff did not run: %v", err)
	}
	lines := strings.Split(string(got), "\n")
	dir := lines[1]
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("temporary directory %s left behind (%v)", dir, err)
	}
	lines[1] = "<tmp>"
	checkGoldenIn(t, "diff", "external", strings.Join(lines, "\n"))

	// A tool that fails is an error; one that is missing too.
	env["FLEETDECK_DIFF"] = "false"
	if err := runExternalDiff(context.Background(), streams, NewDiffReport("payments-api", diffFixture(t))); err != nil {
		t.Errorf("exit status 1 (differences) is not an error, got %v", err)
	}
	env["FLEETDECK_DIFF"] = filepath.Join(bin, "missing")
	if err := runExternalDiff(context.Background(), streams, NewDiffReport("payments-api", diffFixture(t))); err == nil {
		t.Error("a missing tool is not reported")
	}
}

func TestExternalCommand(t *testing.T) {
	bin := t.TempDir()
	for _, name := range []string{"delta", "diff"} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	onlyDiff := t.TempDir()
	if err := os.WriteFile(filepath.Join(onlyDiff, "diff"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"FLEETDECK_DIFF": "meld --newtab", "PATH": bin}, "meld --newtab"},
		{map[string]string{"PATH": bin}, filepath.Join(bin, "delta")},
		{map[string]string{"PATH": onlyDiff}, filepath.Join(onlyDiff, "diff") + " -u -r -N"},
		{map[string]string{"PATH": t.TempDir()}, "error"},
	} {
		argv, err := externalCommand(func(k string) string { return tc.env[k] })
		got := strings.Join(argv, " ")
		if err != nil {
			got = "error"
		}
		if got != tc.want {
			t.Errorf("env %v: %q, want %q", tc.env, got, tc.want)
		}
	}
}

func TestDiffFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"diff"}, "accepts 1 arg"},
		{[]string{"diff", "a", "-o", "yaml"}, `unknown output "yaml"`},
		{[]string{"diff", "a", "-o", "json", "--external"}, "exclude each other"},
		{[]string{"diff", "a", "--timeout", "0s"}, "--timeout must be positive"},
	} {
		var out, errOut bytes.Buffer
		streams := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, Getenv: func(string) string { return "" }}
		if code := Main(streams, tc.args); code != ExitError || !strings.Contains(errOut.String(), tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut.String(), tc.msg)
		}
	}
}
