package cli

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/fleetdeck/fleetdeck/config"
	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/internal/engine"
	"github.com/fleetdeck/fleetdeck/internal/sanitize"
)

type statusOptions struct {
	Output   string
	Problems bool
	Clusters []string
	Apps     []string
	Timeout  time.Duration
	Watch    bool
}

func newStatusCmd(streams *IOStreams, gopts *GlobalOptions) *cobra.Command {
	opts := &statusOptions{}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Print every application's sync, health, revision and drift on every cluster",
		Long: `status reads every configured cluster and repository once and prints one row per
application and cluster, worst first:

  APP      the application (Argo CD, Flux and declared apps of one name merge)
  CLUSTER  the cluster the instance runs on
  SYNC     Synced, OutOfSync or Unknown
  HEALTH   Healthy, Progressing, Degraded, Suspended, Missing or Unknown
  GIT      head of the tracked branch (short sha)
  LIVE     revision applied on the cluster, with how many commits it is behind
  DRIFT    image tags that differ between git and live (git→live), "latest"
           images, and other fields changed by hand
  AGE      time since the instance's newest pod was created (its last rollout)

-o wide adds the namespace, operator, pods ready/total, restarts and the main
problem; -o json prints a document whose schema is documented with the
StatusReport type and in the README.

A cluster that has not answered completely within --timeout is reported
unreachable and the others are printed in full.

Exit status: 0 every reported instance is healthy and in sync (progressing or
suspended counts as fine); 1 problems were found (drift, out of sync,
degraded, unknown, an unreachable cluster, or an --app that matched
nothing); 2 fleetdeck itself failed (bad flags, unreadable config).`,
		Example: `  fleetdeck status
  fleetdeck status --problems -o wide
  fleetdeck status --cluster prod-eu --app 'payments-*'
  fleetdeck status -o json | jq '.apps[].instances[] | select(.drift)'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStatus(cmd.Context(), streams, gopts, opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Output, "output", "o", "table", "output format: table, wide or json")
	f.BoolVar(&opts.Problems, "problems", false, "show only instances with problems (warning or worse)")
	f.StringSliceVar(&opts.Clusters, "cluster", nil, "show only these clusters (repeatable or comma-separated)")
	f.StringSliceVar(&opts.Apps, "app", nil, "show only these applications; shell globs allowed (repeatable or comma-separated)")
	f.DurationVar(&opts.Timeout, "timeout", config.DefaultTimeout, "how long to wait for clusters; those not done by then are reported unreachable")
	f.BoolVarP(&opts.Watch, "watch", "w", false, "keep running and print again whenever something changes")
	return cmd
}

func runStatus(ctx context.Context, streams *IOStreams, gopts *GlobalOptions, opts *statusOptions) error {
	switch opts.Output {
	case "table", "wide", "json":
	default:
		return withExitCode(ExitError, fmt.Errorf("unknown output %q (want table, wide or json)", opts.Output))
	}
	if opts.Timeout <= 0 {
		return withExitCode(ExitError, fmt.Errorf("--timeout must be positive, got %s", opts.Timeout))
	}
	for _, pattern := range opts.Apps {
		if _, err := path.Match(pattern, ""); err != nil {
			return withExitCode(ExitError, fmt.Errorf("--app %q: %w", pattern, err))
		}
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

	if streams.ErrIsTerminal && !opts.Watch {
		fmt.Fprintf(streams.ErrOut, "reading %s…", counted(len(cfg.Clusters), "cluster"))
	}
	m, err := eng.Snapshot(ctx, opts.Timeout)
	if streams.ErrIsTerminal && !opts.Watch {
		fmt.Fprint(streams.ErrOut, "\r\x1b[K")
	}
	if err != nil {
		return withExitCode(ExitError, err)
	}
	for _, r := range eng.Repositories() {
		if r.Err != nil {
			fmt.Fprintf(streams.ErrOut, "fleetdeck: warning: git facts may be incomplete: %v\n", r.Err)
		}
	}
	pal := newPalette(streams.ColorEnabled() && !gopts.NoColor)
	rep := NewStatusReport(m, opts.filter())
	if !opts.Watch {
		if err := writeStatus(streams.Out, pal, opts.Output, rep); err != nil {
			return withExitCode(ExitError, err)
		}
		if len(rep.Unmatched) > 0 {
			fmt.Fprintf(streams.ErrOut, "fleetdeck: no application matches --app %s\n", strings.Join(rep.Unmatched, ", "))
		}
		return exitFor(rep)
	}
	return watchStatus(ctx, streams, pal, opts, eng, rep)
}

// watchStatus prints rep, then prints again whenever the model changes in a way the output
// shows, until interrupted. It exits with the code of the last report printed.
func watchStatus(ctx context.Context, streams *IOStreams, pal palette, opts *statusOptions, eng *engine.Engine, rep StatusReport) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	redraw := streams.OutIsTerminal && opts.Output != "json"
	last := ""
	emit := func(r StatusReport) error {
		key := r.changeKey()
		if key == last {
			return nil
		}
		var buf bytes.Buffer
		if redraw {
			buf.WriteString("\x1b[H\x1b[2J")
			fmt.Fprintf(&buf, "%s  (every change; Ctrl-C to stop)\n\n", r.GeneratedAt.Local().Format("15:04:05"))
		} else if last != "" && opts.Output != "json" {
			buf.WriteString("\n")
		}
		if err := writeStatus(&buf, pal, opts.Output, r); err != nil {
			return err
		}
		last = key
		_, err := streams.Out.Write(buf.Bytes())
		return err
	}
	if err := emit(rep); err != nil {
		return withExitCode(ExitError, err)
	}
	for m := range eng.Subscribe(ctx) {
		rep = NewStatusReport(m, opts.filter())
		if err := emit(rep); err != nil {
			return withExitCode(ExitError, err)
		}
	}
	return exitFor(rep)
}

func writeStatus(w io.Writer, pal palette, output string, rep StatusReport) error {
	switch output {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return fmt.Errorf("write json: %w", err)
		}
		return nil
	default:
		return printStatusTable(w, pal, rep, output == "wide")
	}
}

// exitFor maps a report to the verb's exit status.
func exitFor(rep StatusReport) error {
	if rep.Severity >= fleet.SeverityWarning || len(rep.Unmatched) > 0 {
		return withExitCode(ExitProblems, nil)
	}
	return nil
}

// statusFilter selects what a report shows.
type statusFilter struct {
	problemsOnly bool
	clusters     []string
	apps         []string
}

func (o *statusOptions) filter() statusFilter {
	return statusFilter{problemsOnly: o.Problems, clusters: o.Clusters, apps: o.Apps}
}

func (f statusFilter) cluster(name string) bool {
	return len(f.clusters) == 0 || slices.Contains(f.clusters, name)
}

func (f statusFilter) app(name string) bool {
	if len(f.apps) == 0 {
		return true
	}
	for _, p := range f.apps {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// StatusReport is the document `fleetdeck status -o json` prints, schema version 1. Fields are
// only ever added within a schema version; a removed or changed field bumps SchemaVersion.
// Enumerations are strings: severities ok|info|warning|error|critical, sync
// Synced|OutOfSync|Unknown, health Healthy|Progressing|Degraded|Suspended|Missing|Unknown,
// cluster states connecting|synced|slow|unreachable. Times are RFC 3339.
type StatusReport struct {
	SchemaVersion int       `json:"schemaVersion"`
	GeneratedAt   time.Time `json:"generatedAt"`
	// Severity is the worst over the reported instances and clusters; the exit status is 1
	// when it is warning or worse.
	Severity fleet.Severity `json:"severity"`
	// Instances counts the reported instances, Problems those with severity warning or worse.
	Instances int `json:"instances"`
	Problems  int `json:"problems"`
	// Clusters are the selected clusters in config order, whether or not they have rows.
	Clusters []ClusterReport `json:"clusters"`
	// Apps are worst first, then by name; with --problems only apps with problems appear.
	Apps []AppReport `json:"apps"`
	// Unmatched lists --app patterns that matched no application (exit status 1).
	Unmatched []string `json:"unmatched,omitempty"`
}

// ClusterReport is one cluster's connection state.
type ClusterReport struct {
	Name  string          `json:"name"`
	State fleet.ConnState `json:"state"`
	// Forbidden lists resources the credentials may not read ("pods", "deployments.apps").
	Forbidden []string       `json:"forbidden"`
	Error     string         `json:"error,omitempty"`
	LastEvent *time.Time     `json:"lastEvent,omitempty"`
	Severity  fleet.Severity `json:"severity"`
}

// AppReport is one application with its reported instances; Sync, Health and Severity
// aggregate those instances only.
type AppReport struct {
	Name      string             `json:"name"`
	Sync      fleet.SyncStatus   `json:"sync"`
	Health    fleet.HealthStatus `json:"health"`
	Severity  fleet.Severity     `json:"severity"`
	Instances []InstanceReport   `json:"instances"`
}

// InstanceReport is one application on one cluster.
type InstanceReport struct {
	App       string `json:"app"`
	Cluster   string `json:"cluster"`
	Namespace string `json:"namespace"`
	// Operator is argocd, flux or declared (applied by nobody fleetdeck knows).
	Operator fleet.Operator `json:"operator"`
	// Source is the operator object behind the instance; absent for declared apps.
	Source   *SourceReport  `json:"source,omitempty"`
	Repo     string         `json:"repo"`
	Path     string         `json:"path"`
	Branch   string         `json:"branch"`
	Severity fleet.Severity `json:"severity"`
	Sync     SyncReport     `json:"sync"`
	Health   HealthReport   `json:"health"`
	Revision RevisionReport `json:"revision"`
	// Drift is true when any image differs between git and live.
	Drift  bool          `json:"drift"`
	Images []ImageReport `json:"images"`
	Pods   PodsReport    `json:"pods"`
	// Problems explain Severity, worst first.
	Problems []ProblemReport `json:"problems"`
	// ClusterState is the state of the instance's cluster (see ClusterReport.State).
	ClusterState fleet.ConnState `json:"clusterState"`
	RenderError  string          `json:"renderError,omitempty"`
}

// SourceReport names an Argo CD Application or a Flux Kustomization or HelmRelease.
type SourceReport struct {
	Kind      string `json:"kind"`
	Cluster   string `json:"cluster"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// SyncReport is the instance's sync state; Fields lists what differs between git and live
// on the fields fleetdeck compares (images, replicas, env, resources, labels).
type SyncReport struct {
	Status fleet.SyncStatus `json:"status"`
	Reason string           `json:"reason,omitempty"`
	Fields []FieldReport    `json:"fields"`
}

// FieldReport is one differing field of one object.
type FieldReport struct {
	Object ObjectReport `json:"object"`
	Field  string       `json:"field"`
	Git    string       `json:"git"`
	Live   string       `json:"live"`
}

// ObjectReport names a Kubernetes object.
type ObjectReport struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// HealthReport is the instance's health with the reason.
type HealthReport struct {
	Status  fleet.HealthStatus `json:"status"`
	Message string             `json:"message,omitempty"`
}

// RevisionReport compares the tracked branch's head with the revision live (full shas when
// known, empty when not). Behind counts commits touching the app's path between them:
// 0 up to date, -1 unknown.
type RevisionReport struct {
	Git    string `json:"git"`
	Live   string `json:"live"`
	Behind int    `json:"behind"`
}

// ImageReport is one container's image in git against the one live.
type ImageReport struct {
	Workload  ObjectReport `json:"workload"`
	Container string       `json:"container"`
	Init      bool         `json:"init,omitempty"`
	GitImage  string       `json:"gitImage"`
	LiveImage string       `json:"liveImage"`
	GitTag    string       `json:"gitTag"`
	LiveTag   string       `json:"liveTag"`
	// Drift: git declares an image and the live one differs.
	Drift bool `json:"drift"`
	// Latest: `latest` or untagged, in git or live.
	Latest bool `json:"latest"`
	// Digest: pinned by digest.
	Digest bool `json:"digest"`
}

// PodsReport counts the instance's pods. NewestCreated is when the newest one was created.
type PodsReport struct {
	Total         int        `json:"total"`
	Ready         int        `json:"ready"`
	Restarts      int32      `json:"restarts"`
	NewestCreated *time.Time `json:"newestCreated,omitempty"`
}

// ProblemReport is one reason for an instance's severity.
type ProblemReport struct {
	Severity fleet.Severity `json:"severity"`
	Text     string         `json:"text"`
}

// NewStatusReport selects from m what f asks for.
func NewStatusReport(m fleet.Model, f statusFilter) StatusReport {
	rep := StatusReport{SchemaVersion: 1, GeneratedAt: m.GeneratedAt, Clusters: []ClusterReport{}, Apps: []AppReport{}}
	for _, c := range m.Clusters {
		if !f.cluster(c.Name) {
			continue
		}
		cr := ClusterReport{Name: c.Name, State: c.State, Forbidden: append([]string{}, c.Forbidden...), Error: c.Err,
			Severity: fleet.ClusterSeverity(c)}
		if !c.LastEvent.IsZero() {
			t := c.LastEvent
			cr.LastEvent = &t
		}
		rep.Clusters = append(rep.Clusters, cr)
		rep.Severity = max(rep.Severity, cr.Severity)
	}
	matched := make([]bool, len(f.apps))
	for _, a := range m.Apps {
		for i, p := range f.apps {
			if ok, _ := path.Match(p, a.Name); ok {
				matched[i] = true
			}
		}
		if !f.app(a.Name) {
			continue
		}
		ar := AppReport{Name: a.Name, Instances: []InstanceReport{}}
		var health fleet.Health
		outOfSync, unknown := false, false
		for i := range a.Instances {
			in := &a.Instances[i]
			if !f.cluster(in.Cluster) || (f.problemsOnly && in.Severity < fleet.SeverityWarning) {
				continue
			}
			ar.Instances = append(ar.Instances, instanceReport(in))
			ar.Severity = max(ar.Severity, in.Severity)
			health = fleet.Worst(health, in.Health)
			switch in.Sync.Status {
			case fleet.OutOfSync:
				outOfSync = true
			case fleet.Synced:
			default:
				unknown = true
			}
			rep.Instances++
			if in.Severity >= fleet.SeverityWarning {
				rep.Problems++
			}
		}
		if len(ar.Instances) == 0 {
			continue
		}
		ar.Health = health.Status
		switch {
		case outOfSync:
			ar.Sync = fleet.OutOfSync
		case unknown:
			ar.Sync = fleet.SyncUnknown
		default:
			ar.Sync = fleet.Synced
		}
		rep.Severity = max(rep.Severity, ar.Severity)
		rep.Apps = append(rep.Apps, ar)
	}
	// The model sorts by the whole application's severity; the report by what it shows.
	slices.SortStableFunc(rep.Apps, func(a, b AppReport) int {
		if a.Severity != b.Severity {
			return cmp.Compare(b.Severity, a.Severity)
		}
		return strings.Compare(a.Name, b.Name)
	})
	for i, ok := range matched {
		if !ok {
			rep.Unmatched = append(rep.Unmatched, f.apps[i])
		}
	}
	return rep
}

func objectReport(r fleet.ObjectRef) ObjectReport {
	return ObjectReport{Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}
}

func instanceReport(in *fleet.Instance) InstanceReport {
	r := InstanceReport{
		App: in.App, Cluster: in.Cluster, Namespace: in.Namespace, Operator: in.Source.Operator,
		Repo: in.RepoURL, Path: in.Path, Branch: in.Branch, Severity: in.Severity,
		Sync:         SyncReport{Status: in.Sync.Status, Reason: in.Sync.Reason, Fields: []FieldReport{}},
		Health:       HealthReport{Status: in.Health.Status, Message: in.Health.Message},
		Revision:     RevisionReport{Git: in.Revision.Head, Live: in.Revision.Live, Behind: in.Revision.Behind},
		Drift:        in.Drifted(),
		Images:       []ImageReport{},
		Problems:     []ProblemReport{},
		ClusterState: in.ClusterState.State,
		RenderError:  in.RenderError,
	}
	if in.Source.Operator != fleet.OperatorDeclared && in.Source.Name != "" {
		s := in.Source
		r.Source = &SourceReport{Kind: s.Kind, Cluster: s.Cluster, Namespace: s.Namespace, Name: s.Name}
	}
	for _, d := range in.Sync.Fields {
		r.Sync.Fields = append(r.Sync.Fields, FieldReport{Object: objectReport(d.Object), Field: d.Field, Git: d.Git, Live: d.Live})
	}
	for _, im := range in.Images {
		r.Images = append(r.Images, ImageReport{Workload: objectReport(im.Workload), Container: im.Container, Init: im.Init,
			GitImage: im.GitImage, LiveImage: im.LiveImage, GitTag: im.GitTag, LiveTag: im.LiveTag,
			Drift: im.Drift, Latest: im.Latest, Digest: im.Digest})
	}
	for _, w := range in.Workloads {
		for _, p := range w.Pods {
			r.Pods.Total++
			if p.Ready {
				r.Pods.Ready++
			}
			r.Pods.Restarts += p.Restarts
			if !p.Created.IsZero() && (r.Pods.NewestCreated == nil || p.Created.After(*r.Pods.NewestCreated)) {
				t := p.Created
				r.Pods.NewestCreated = &t
			}
		}
	}
	for _, p := range in.Problems {
		r.Problems = append(r.Problems, ProblemReport{Severity: p.Severity, Text: p.Text})
	}
	return r
}

// changeKey is the report without what changes on its own (the time, the clusters' last
// events), so --watch prints only when something visible changed.
func (r StatusReport) changeKey() string {
	r.GeneratedAt = time.Time{}
	cs := make([]ClusterReport, len(r.Clusters))
	for i, c := range r.Clusters {
		c.LastEvent = nil
		cs[i] = c
	}
	r.Clusters = cs
	b, _ := json.Marshal(r)
	return string(b)
}

// printStatusTable prints one row per instance, then what is wrong with clusters and a
// one-line summary.
func printStatusTable(w io.Writer, pal palette, rep StatusReport, wide bool) error {
	header := []string{"APP", "CLUSTER", "SYNC", "HEALTH", "GIT", "LIVE", "DRIFT", "AGE"}
	if wide {
		header = []string{"APP", "CLUSTER", "NAMESPACE", "OPERATOR", "SYNC", "HEALTH", "GIT", "LIVE", "DRIFT", "PODS", "RESTARTS", "AGE", "PROBLEM"}
	}
	rows := [][]string{header}
	for _, a := range rep.Apps {
		for _, in := range a.Instances {
			drift := driftText(in)
			if !wide {
				drift = truncateCell(drift, 40)
			}
			age := "-"
			if in.Pods.NewestCreated != nil {
				age = shortAge(rep.GeneratedAt.Sub(*in.Pods.NewestCreated))
			}
			if !wide {
				rows = append(rows, []string{in.App, in.Cluster, string(in.Sync.Status), string(in.Health.Status),
					orDash(fleet.ShortSHA(in.Revision.Git)), liveText(in.Revision), drift, age})
				continue
			}
			problem := "-"
			if len(in.Problems) > 0 {
				problem = in.Problems[0].Text
			}
			rows = append(rows, []string{in.App, in.Cluster, orDash(in.Namespace), string(in.Operator),
				string(in.Sync.Status), string(in.Health.Status), orDash(fleet.ShortSHA(in.Revision.Git)), liveText(in.Revision),
				drift, fmt.Sprintf("%d/%d", in.Pods.Ready, in.Pods.Total), fmt.Sprint(in.Pods.Restarts), age, problem})
		}
	}
	if len(rows) == 1 {
		fmt.Fprintln(w, "No applications to show.")
	} else {
		printAligned(w, rows, func(col int, s string) string { return statusCell(pal, header[col], s) })
	}
	fmt.Fprintln(w)
	for _, c := range rep.Clusters {
		switch {
		case c.State != fleet.ConnSynced && c.State != fleet.ConnSlow:
			msg := string(c.State)
			if c.Error != "" {
				msg += ": " + c.Error
			}
			fmt.Fprintf(w, "cluster %s %s\n", sanitize.Line(c.Name), pal.red(sanitize.Line(msg)))
		case len(c.Forbidden) > 0:
			fmt.Fprintf(w, "cluster %s %s %s\n", sanitize.Line(c.Name), pal.yellow("forbidden:"), sanitize.Line(strings.Join(c.Forbidden, ", ")))
		}
	}
	summary := fmt.Sprintf("%s on %s", counted(rep.Instances, "instance"), counted(len(rep.Clusters), "cluster"))
	if rep.Problems == 0 {
		fmt.Fprintf(w, "%s: %s\n", summary, pal.green("no problems"))
		return nil
	}
	bySeverity := map[fleet.Severity]int{}
	for _, a := range rep.Apps {
		for _, in := range a.Instances {
			if in.Severity >= fleet.SeverityWarning {
				bySeverity[in.Severity]++
			}
		}
	}
	var parts []string
	for _, s := range []fleet.Severity{fleet.SeverityCritical, fleet.SeverityError, fleet.SeverityWarning} {
		if n := bySeverity[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	fmt.Fprintf(w, "%s: %s (%s)\n", summary, pal.red(counted(rep.Problems, "problem")), strings.Join(parts, ", "))
	return nil
}

// printAligned pads cells to column widths (by runes, so arrows count once) and colours them
// after padding, so escape sequences never count as width.
func printAligned(w io.Writer, rows [][]string, colour func(col int, s string) string) {
	// Cells are cluster- and git-supplied text: clean them before measuring, so a hostile
	// name can neither reach the terminal nor skew the columns.
	rows = sanitizeRows(rows)
	widths := make([]int, len(rows[0]))
	for _, cells := range rows {
		for i, c := range cells {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	for r, cells := range rows {
		var b strings.Builder
		for i, c := range cells {
			if r > 0 {
				b.WriteString(colour(i, c))
			} else {
				b.WriteString(c)
			}
			if i < len(cells)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-len([]rune(c))+2))
			}
		}
		fmt.Fprintln(w, b.String())
	}
}

// sanitizeRows returns a copy of rows with every cell made one printable line.
func sanitizeRows(rows [][]string) [][]string {
	out := make([][]string, len(rows))
	for r, cells := range rows {
		out[r] = make([]string, len(cells))
		for i, c := range cells {
			out[r][i] = sanitize.Line(c)
		}
	}
	return out
}

func statusCell(pal palette, column, s string) string {
	switch column {
	case "SYNC", "HEALTH":
		switch s {
		case string(fleet.Synced), string(fleet.Healthy):
			return pal.green(s)
		case string(fleet.OutOfSync), string(fleet.Progressing), string(fleet.Suspended):
			return pal.yellow(s)
		case string(fleet.Degraded), string(fleet.Missing):
			return pal.red(s)
		default:
			return pal.dim(s)
		}
	case "DRIFT", "PROBLEM":
		if s != "-" {
			return pal.yellow(s)
		}
	}
	return s
}

// liveText is the LIVE cell: the live revision and how far behind git it is.
func liveText(r RevisionReport) string {
	live := fleet.ShortSHA(r.Live)
	switch {
	case live == "" && r.Git == "":
		return "-"
	case live == "":
		return "?"
	case r.Behind > 0:
		return fmt.Sprintf("%s (%d behind)", live, r.Behind)
	}
	return live
}

// driftText is the DRIFT cell: image tags git→live, `latest` images, and other fields that
// differ from git.
func driftText(in InstanceReport) string {
	var parts []string
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			parts = append(parts, s)
		}
	}
	for _, im := range in.Images {
		switch {
		case im.Drift:
			add(tagOf(im.GitTag, im.GitImage) + "→" + tagOf(im.LiveTag, im.LiveImage))
		case im.Latest:
			add("latest")
		}
	}
	others := 0
	for _, f := range in.Sync.Fields {
		if !strings.HasSuffix(f.Field, ".image") {
			others++
		}
	}
	if others > 0 {
		add(counted(others, "field"))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

func tagOf(tag, image string) string {
	if tag != "" {
		return tag
	}
	if i := strings.LastIndex(image, "@"); i >= 0 {
		return image[i+1:]
	}
	if image == "" {
		return "?"
	}
	return image
}

func truncateCell(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// shortAge renders a duration the way kubectl's AGE column does.
func shortAge(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < 2*time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < 2*time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}
