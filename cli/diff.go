package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fleetdeck/fleetdeck/config"
	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/fleet/diff"
	"github.com/fleetdeck/fleetdeck/internal/engine"
)

type diffOptions struct {
	Output   string
	Clusters []string
	Timeout  time.Duration
	External bool
}

func newDiffCmd(streams *IOStreams, gopts *GlobalOptions) *cobra.Command {
	opts := &diffOptions{}
	cmd := &cobra.Command{
		Use:   "diff APP",
		Short: "Show how an application's live objects differ from git, object by object",
		Long: `diff renders APP from git at the revision it tracks (the head of the tracked
branch, or the commit its operator pins) and compares every object with the one
live on each cluster the application runs on, printing a unified YAML diff per
object: "-" lines are live, "+" lines are what git wants.

Only what a sync would change is compared: fields the server owns (status,
managedFields, resourceVersion, uid, generation, creationTimestamp, the
last-applied-configuration annotation), fields the server defaulted and git never
set, and the operators' tracking labels are left out; a field an earlier apply set
and git has since removed is shown as removed. An Argo CD Application's
ignoreDifferences are applied (jsonPointers, jqPathExpressions of the form
.a.b[0], .a[] | select(.name == "x") | .b, and managedFieldsManagers). Objects
that git renders and are not live are listed "only in git"; objects the
Application or Kustomization tracks that git no longer renders, "only live".

--external hands the two sides to $FLEETDECK_DIFF (a command, split on spaces),
else delta when installed, else diff -u -r -N: it runs in a private temporary
directory (mode 0700, removed afterwards) with two arguments, live and git,
holding one YAML file per differing object.

Exit status: 0 no differences; 1 differences; 2 fleetdeck failed or an instance
could not be compared (bad flags, unknown application, unreachable cluster,
render error).`,
		Example: `  fleetdeck diff payments-api
  fleetdeck diff payments-api --cluster prod-us
  fleetdeck diff checkout-web -o json | jq '.instances[].objects[] | select(.status != "same")'
  FLEETDECK_DIFF="code --wait --diff" fleetdeck diff payments-api --external`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDiff(cmd.Context(), streams, gopts, opts, args[0])
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Output, "output", "o", "diff", "output format: diff or json")
	f.StringSliceVar(&opts.Clusters, "cluster", nil, "compare only on these clusters (repeatable or comma-separated)")
	f.DurationVar(&opts.Timeout, "timeout", config.DefaultTimeout, "how long to wait for clusters and git")
	f.BoolVar(&opts.External, "external", false, "show the differences with $FLEETDECK_DIFF, delta or diff -u")
	return cmd
}

func runDiff(ctx context.Context, streams *IOStreams, gopts *GlobalOptions, opts *diffOptions, app string) error {
	switch opts.Output {
	case "diff", "json":
	default:
		return withExitCode(ExitError, fmt.Errorf("unknown output %q (want diff or json)", opts.Output))
	}
	if opts.External && opts.Output == "json" {
		return withExitCode(ExitError, errors.New("--external and -o json exclude each other"))
	}
	if opts.Timeout <= 0 {
		return withExitCode(ExitError, fmt.Errorf("--timeout must be positive, got %s", opts.Timeout))
	}
	cfg, _, err := config.Load(gopts.ConfigPath, streams.Getenv)
	if err != nil {
		return withExitCode(ExitError, err)
	}
	if err := checkClusterFlags(cfg, opts.Clusters); err != nil {
		return err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	eng, stopEngine, err := startEngine(ctx, cfg, engine.Options{Getenv: streams.Getenv})
	if err != nil {
		return err
	}
	defer stopEngine()
	if streams.ErrIsTerminal {
		fmt.Fprintf(streams.ErrOut, "comparing %s with git…", app)
	}
	ds, err := eng.Diff(ctx, app, opts.Clusters, opts.Timeout)
	if streams.ErrIsTerminal {
		fmt.Fprint(streams.ErrOut, "\r\x1b[K")
	}
	if err != nil {
		return withExitCode(ExitError, err)
	}
	rep := NewDiffReport(app, ds)
	switch {
	case opts.Output == "json":
		err = writeDiffJSON(streams.Out, rep)
	case opts.External:
		err = runExternalDiff(ctx, streams, rep)
	default:
		err = writeDiffText(streams.Out, newPalette(streams.ColorEnabled() && !gopts.NoColor), rep)
	}
	if err != nil {
		return withExitCode(ExitError, err)
	}
	return diffExit(streams.ErrOut, rep)
}

// diffExit reports warnings and what could not be compared, and maps the report to the exit
// status.
func diffExit(w io.Writer, rep DiffReport) error {
	failed := false
	for _, in := range rep.Instances {
		for _, msg := range in.Warnings {
			fmt.Fprintf(w, "fleetdeck: warning: %s on %s: %s\n", in.App, in.Cluster, msg)
		}
		if in.Error != "" {
			fmt.Fprintf(w, "fleetdeck: %s on %s not compared: %s\n", in.App, in.Cluster, in.Error)
			failed = true
		}
	}
	if len(rep.Instances) == 0 {
		fmt.Fprintf(w, "fleetdeck: %s has no instance on the selected clusters\n", rep.App)
		failed = true
	}
	switch {
	case failed:
		return withExitCode(ExitError, nil)
	case rep.Differs:
		return withExitCode(ExitProblems, nil)
	}
	return nil
}

// DiffReport is the document `fleetdeck diff -o json` prints, schema version 1. Fields are
// only ever added within a schema version.
type DiffReport struct {
	SchemaVersion int    `json:"schemaVersion"`
	App           string `json:"app"`
	// Differs is true when any object of any instance differs (exit status 1).
	Differs   bool                 `json:"differs"`
	Instances []DiffInstanceReport `json:"instances"`
}

// DiffInstanceReport is one instance: its git and live revisions and every object compared.
type DiffInstanceReport struct {
	App      string         `json:"app"`
	Cluster  string         `json:"cluster"`
	Operator fleet.Operator `json:"operator"`
	Source   *SourceReport  `json:"source,omitempty"`
	Repo     string         `json:"repo"`
	Path     string         `json:"path"`
	Branch   string         `json:"branch"`
	// Revision is the commit rendered from git; LiveRevision the one the operator applied.
	Revision     string `json:"revision"`
	LiveRevision string `json:"liveRevision"`
	Differs      bool   `json:"differs"`
	// Objects are every object compared; status is same, changed, only-in-git or only-live,
	// and diff the unified diff from live to git (absent when same).
	Objects  []diff.Object `json:"objects"`
	Warnings []string      `json:"warnings"`
	// Error says why the instance could not be compared (exit status 2).
	Error string `json:"error,omitempty"`
}

// NewDiffReport turns the engine's comparisons into the report.
func NewDiffReport(app string, ds []engine.InstanceDiff) DiffReport {
	rep := DiffReport{SchemaVersion: 1, App: app, Instances: []DiffInstanceReport{}}
	for _, d := range ds {
		r := DiffInstanceReport{App: d.App, Cluster: d.Cluster, Operator: d.Source.Operator, Repo: d.Repo, Path: d.Path,
			Branch: d.Branch, Revision: d.Revision, LiveRevision: d.LiveRevision, Differs: d.Differs(),
			Objects: append([]diff.Object{}, d.Objects...), Warnings: append([]string{}, d.Warnings...), Error: d.Err}
		if s := d.Source; s.Operator != fleet.OperatorDeclared && s.Name != "" {
			r.Source = &SourceReport{Kind: s.Kind, Cluster: s.Cluster, Namespace: s.Namespace, Name: s.Name}
		}
		rep.Differs = rep.Differs || r.Differs
		rep.Instances = append(rep.Instances, r)
	}
	return rep
}

func writeDiffJSON(w io.Writer, rep DiffReport) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// statusText says what an object's status means for the reader.
func statusText(s diff.Status) string {
	switch s {
	case diff.OnlyInGit:
		return "only in git (not live: a sync creates it)"
	case diff.OnlyLive:
		return "only live (no longer in git: a sync with pruning deletes it)"
	}
	return "changed"
}

// writeDiffText prints, for each instance with differences, a comment line naming it and
// its revisions, then each differing object's status and diff. Nothing is printed when
// nothing differs.
func writeDiffText(w io.Writer, pal palette, rep DiffReport) error {
	var b bytes.Buffer
	for _, in := range rep.Instances {
		if !in.Differs {
			continue
		}
		head := fmt.Sprintf("# %s on %s: git %s", in.App, in.Cluster, orDash(fleet.ShortSHA(in.Revision)))
		if in.Branch != "" {
			head += " (" + in.Branch + ")"
		}
		head += ", live " + orDash(fleet.ShortSHA(in.LiveRevision))
		b.WriteString(pal.yellow(head) + "\n")
		for _, o := range in.Objects {
			if o.Status == diff.Same {
				continue
			}
			b.WriteString(pal.yellow(fmt.Sprintf("# %s: %s", o.Ref, statusText(o.Status))) + "\n")
			for _, line := range strings.SplitAfter(o.Diff, "\n") {
				if line == "" {
					continue
				}
				b.WriteString(colourDiffLine(pal, line))
			}
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

func colourDiffLine(pal palette, line string) string {
	text, nl := strings.CutSuffix(line, "\n")
	switch {
	case strings.HasPrefix(text, "--- "), strings.HasPrefix(text, "+++ "):
		text = pal.wrap("1", text)
	case strings.HasPrefix(text, "@@"):
		text = pal.wrap("36", text)
	case strings.HasPrefix(text, "-"):
		text = pal.red(text)
	case strings.HasPrefix(text, "+"):
		text = pal.green(text)
	}
	if nl {
		text += "\n"
	}
	return text
}

// externalCommand picks the external diff: $FLEETDECK_DIFF split on spaces, else delta when
// on PATH, else diff -u -r -N.
func externalCommand(getenv func(string) string) ([]string, error) {
	if c := strings.Fields(getenv("FLEETDECK_DIFF")); len(c) > 0 {
		return c, nil
	}
	if p := lookPath(getenv, "delta"); p != "" {
		return []string{p}, nil
	}
	if p := lookPath(getenv, "diff"); p != "" {
		return []string{p, "-u", "-r", "-N"}, nil
	}
	return nil, errors.New("--external: $FLEETDECK_DIFF is not set and neither delta nor diff is on PATH")
}

// lookPath finds an executable in the PATH getenv gives.
func lookPath(getenv func(string) string, name string) string {
	for _, dir := range filepath.SplitList(getenv("PATH")) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// runExternalDiff writes both sides of every differing object into a private temporary
// directory, live/<cluster>/<object>.yaml and git/<cluster>/<object>.yaml, runs the external
// diff there with the arguments live and git, and removes the directory. The tool's own exit
// status (diff exits 1 on differences) is not an error; failing to start it is.
func runExternalDiff(ctx context.Context, streams *IOStreams, rep DiffReport) error {
	if !rep.Differs {
		return nil
	}
	argv, err := externalCommand(streams.Getenv)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "fleetdeck-diff-")
	if err != nil {
		return fmt.Errorf("--external: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("--external: %w", err)
	}
	for _, in := range rep.Instances {
		for _, o := range in.Objects {
			if o.Status == diff.Same {
				continue
			}
			for side, text := range map[string]string{"live": o.Live, "git": o.Git} {
				if text == "" {
					continue // absent on this side: diff -N shows it as added or removed
				}
				p := filepath.Join(dir, side, safeName(in.Cluster), o.Ref.FileName()+".yaml")
				if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
					return fmt.Errorf("--external: %w", err)
				}
				if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
					return fmt.Errorf("--external: %w", err)
				}
			}
		}
	}
	for _, side := range []string{"live", "git"} {
		if err := os.MkdirAll(filepath.Join(dir, side), 0o700); err != nil {
			return fmt.Errorf("--external: %w", err)
		}
	}
	cmd := exec.CommandContext(ctx, argv[0], append(argv[1:], "live", "git")...)
	cmd.Dir = dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = streams.In, streams.Out, streams.ErrOut
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 1 {
		return nil // differences found, as diff reports them
	}
	if err != nil {
		return fmt.Errorf("--external: %s: %w", strings.Join(argv, " "), err)
	}
	return nil
}

// safeName keeps a cluster name one path element.
func safeName(s string) string {
	s = strings.NewReplacer("/", "_", "\\", "_").Replace(s)
	if s == "" || s == "." || s == ".." {
		return "_"
	}
	return s
}
