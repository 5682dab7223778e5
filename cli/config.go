package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fleetdeck/fleetdeck/config"
	"github.com/fleetdeck/fleetdeck/kube"
)

func newConfigCmd(streams *IOStreams, opts *GlobalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Inspect and validate fleetdeck's configuration",
	}
	cmd.AddCommand(newConfigCheckCmd(streams, opts), newConfigClusterRoleCmd(streams))
	return cmd
}

func newConfigClusterRoleCmd(streams *IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "clusterrole",
		Short: "Print the RBAC ClusterRoles fleetdeck needs (read-only views, and sync)",
		Long: `clusterrole prints two ClusterRoles with the exact verbs fleetdeck uses:
fleetdeck-viewer for every read-only view (status, the terminal UI, logs,
history, diff, watch) and fleetdeck-sync for asking operators to sync. Bind them
with ClusterRoleBindings (or RoleBindings, to limit fleetdeck to namespaces: it
then reads per namespace and shows the others as forbidden).`,
		Example: `  fleetdeck config clusterrole | kubectl apply -f -
  kubectl create clusterrolebinding fleetdeck-viewer --clusterrole fleetdeck-viewer --group oncall`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := io.WriteString(streams.Out, kube.ClusterRolesYAML())
			return err
		},
	}
}

type configCheckOptions struct {
	Offline bool
	Output  string
}

func newConfigCheckCmd(streams *IOStreams, gopts *GlobalOptions) *cobra.Command {
	opts := &configCheckOptions{}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Validate the config file and probe every cluster's access",
		Long: `check validates the configuration file: unknown keys, wrong types, duplicate
names, references to unknown clusters or repositories, unreadable kubeconfigs
and ssh keys, contexts missing from kubeconfigs, credentials in URLs. Each
problem is printed as file:line:column with a hint.

Then, unless --offline, it asks every cluster concurrently (each bounded by
the config's timeout) for its version and which of the resources fleetdeck
reads the user may list and watch, and prints a table:
ok, forbidden, n/a (CRD not installed) or - (unknown).

Exit status: 0 valid (warnings allowed) and every cluster answered; 1 errors
or an unreachable cluster; 2 no config file could be read.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runConfigCheck(cmd.Context(), streams, gopts, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Offline, "offline", false, "check the file and kubeconfigs only; do not contact clusters")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "text", "output format: text or json")
	return cmd
}

// clusterRow is one line of the access table.
type clusterRow struct {
	Name      string                `json:"name"`
	Probed    bool                  `json:"probed"`
	Reachable bool                  `json:"reachable"`
	Version   string                `json:"version,omitempty"`
	Error     string                `json:"error,omitempty"`
	Resources []kube.ResourceAccess `json:"resources,omitempty"`
}

type checkResult struct {
	File     string          `json:"file"`
	OK       bool            `json:"ok"`
	Errors   int             `json:"errors"`
	Warnings int             `json:"warnings"`
	Problems config.Problems `json:"problems"`
	Clusters []clusterRow    `json:"clusters,omitempty"`
	// Skipped says why clusters were not contacted, if they were not.
	Skipped string `json:"clusterChecksSkipped,omitempty"`
}

func runConfigCheck(ctx context.Context, streams *IOStreams, gopts *GlobalOptions, opts *configCheckOptions) error {
	if opts.Output != "text" && opts.Output != "json" {
		return withExitCode(ExitError, fmt.Errorf("unknown output %q (want text or json)", opts.Output))
	}
	cfg, src, err := config.Load(gopts.ConfigPath, streams.Getenv)
	var nf *config.NotFoundError
	if errors.As(err, &nf) {
		return withExitCode(ExitError, err)
	}
	res := checkResult{File: src.Path, Problems: append(config.Problems{}, src.Problems...)}
	if res.Problems == nil {
		res.Problems = config.Problems{}
	}

	switch {
	case opts.Offline:
		res.Skipped = "--offline"
	case !src.Checked:
		res.Skipped = "fix the errors above first"
	default:
		res.Clusters = probeClusters(ctx, cfg, src, &res.Problems)
	}
	res.Problems.Sort()
	res.Errors, res.Warnings = res.Problems.Errors(), res.Problems.Warnings()
	res.OK = res.Errors == 0

	if opts.Output == "json" {
		enc := json.NewEncoder(streams.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return withExitCode(ExitError, fmt.Errorf("write json: %w", err))
		}
	} else {
		printCheck(streams.Out, newPalette(streams.ColorEnabled() && !gopts.NoColor), res, cfg)
	}
	if !res.OK {
		return withExitCode(ExitProblems, nil)
	}
	return nil
}

// probeClusters checks every usable cluster concurrently and turns a
// cluster that cannot be used into a problem located at its context.
func probeClusters(ctx context.Context, cfg *config.Config, src *config.Source, problems *config.Problems) []clusterRow {
	var usable []config.Cluster
	var index []int
	rows := make([]clusterRow, len(cfg.Clusters))
	for i, cl := range cfg.Clusters {
		rows[i].Name = cl.Name
		if !src.ClusterUsable(i) {
			rows[i].Error = "kubeconfig or context invalid (see above)"
			continue
		}
		usable = append(usable, cl)
		index = append(index, i)
	}
	results := kube.CheckClusters(ctx, usable, cfg.Timeout)
	for k, r := range results {
		i := index[k]
		cl := cfg.Clusters[i]
		row := &rows[i]
		row.Probed = true
		row.Reachable = r.Report.Reachable
		row.Version = r.Report.Version
		row.Resources = r.Report.Resources
		if r.Err == nil {
			continue
		}
		row.Error = r.Report.Error
		if row.Error == "" {
			row.Error = r.Err.Error()
		}
		line, col := src.Position("clusters", i, "context")
		msg := fmt.Sprintf("cluster %q did not answer: %s", cl.Name, row.Error)
		hint := fmt.Sprintf("check that the API server of context %q is running and reachable; --offline skips cluster checks", cl.Context)
		if r.Report.Reachable {
			msg = fmt.Sprintf("cluster %q cannot be used: %s", cl.Name, row.Error)
			hint = fmt.Sprintf("check the credentials of context %q (kubectl --context %s get --raw /version)", cl.Context, cl.Context)
		}
		if r.Report.Host != "" {
			msg += " (" + r.Report.Host + ")"
		}
		*problems = append(*problems, config.Problem{File: src.Path, Line: line, Column: col,
			Severity: config.SeverityError, Message: msg, Hint: hint})
	}
	return rows
}

func printCheck(w io.Writer, pal palette, res checkResult, cfg *config.Config) {
	for _, p := range res.Problems {
		sev := string(p.Severity)
		if p.Severity == config.SeverityError {
			sev = pal.red(sev)
		} else {
			sev = pal.yellow(sev)
		}
		fmt.Fprintf(w, "%s: %s: %s\n", p.Location(), sev, p.Message)
		if p.Hint != "" {
			fmt.Fprintf(w, "    %s %s\n", pal.dim("hint:"), p.Hint)
		}
	}
	if len(res.Clusters) > 0 {
		if len(res.Problems) > 0 {
			fmt.Fprintln(w)
		}
		printAccessTable(w, pal, res.Clusters)
	}
	if len(res.Problems) > 0 || len(res.Clusters) > 0 {
		fmt.Fprintln(w)
	}
	switch {
	case res.Errors > 0:
		fmt.Fprintf(w, "%s: %s\n", res.File, pal.red(counted(res.Errors, "error")+", "+counted(res.Warnings, "warning")))
	case res.Warnings > 0:
		fmt.Fprintf(w, "%s: valid with %s (%s)\n", res.File, counted(res.Warnings, "warning"), inventory(cfg))
	default:
		fmt.Fprintf(w, "%s: %s (%s)\n", res.File, pal.green("valid"), inventory(cfg))
	}
	if res.Skipped != "" && res.Skipped != "--offline" && cfg != nil && len(cfg.Clusters) > 0 {
		fmt.Fprintf(w, "clusters not contacted: %s\n", res.Skipped)
	}
}

func printAccessTable(w io.Writer, pal palette, rows []clusterRow) {
	table := [][]string{{"CLUSTER", "REACHABLE", "VERSION"}}
	for _, r := range kube.NeededResources {
		table[0] = append(table[0], strings.ToUpper(r.Name))
	}
	for _, row := range rows {
		cells := []string{row.Name}
		switch {
		case !row.Probed:
			cells = append(cells, "skipped", "-")
		case row.Reachable:
			cells = append(cells, "yes", orDash(row.Version))
		default:
			cells = append(cells, "no", "-")
		}
		for i := range kube.NeededResources {
			a := kube.AccessUnknown
			if i < len(row.Resources) {
				a = row.Resources[i].Access
			}
			cells = append(cells, string(a))
		}
		table = append(table, cells)
	}
	widths := make([]int, len(table[0]))
	for _, cells := range table {
		for i, c := range cells {
			widths[i] = max(widths[i], len(c))
		}
	}
	// Pad first and colour after: escape sequences must not count as width.
	for r, cells := range table {
		var b strings.Builder
		for i, c := range cells {
			colored := c
			if r > 0 && i > 0 {
				colored = pal.cell(c)
			}
			b.WriteString(colored)
			if i < len(cells)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-len(c)+2))
			}
		}
		fmt.Fprintln(w, b.String())
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func counted(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func inventory(cfg *config.Config) string {
	if cfg == nil {
		return ""
	}
	parts := []string{counted(len(cfg.Clusters), "cluster"), counted(len(cfg.Repositories), "repository")}
	if len(cfg.Applications) > 0 {
		parts = append(parts, counted(len(cfg.Applications), "declared application"))
	}
	parts[1] = strings.Replace(parts[1], "repositorys", "repositories", 1)
	return strings.Join(parts, ", ")
}

// palette colours text with ANSI escapes, or not at all.
type palette struct{ on bool }

func newPalette(on bool) palette { return palette{on: on} }

func (p palette) wrap(code, s string) string {
	if !p.on {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}
func (p palette) red(s string) string    { return p.wrap("31", s) }
func (p palette) yellow(s string) string { return p.wrap("33", s) }
func (p palette) green(s string) string  { return p.wrap("32", s) }
func (p palette) dim(s string) string    { return p.wrap("2", s) }

// cell colours a table value by what it says.
func (p palette) cell(s string) string {
	switch s {
	case string(kube.AccessOK), "yes":
		return p.green(s)
	case string(kube.AccessForbidden), "no":
		return p.red(s)
	case string(kube.AccessNotInstalled), "skipped":
		return p.dim(s)
	}
	return s
}
