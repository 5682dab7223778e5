package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes"

	"github.com/fleetdeck/fleetdeck/config"
	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/internal/engine"
	"github.com/fleetdeck/fleetdeck/kube"
	"github.com/fleetdeck/fleetdeck/kube/logs"
)

type logsOptions struct {
	Clusters   []string
	Pod        string
	Container  string
	Follow     bool // -f: following is the default; accepted for kubectl habits
	NoFollow   bool
	Since      time.Duration
	Tail       int64
	Timestamps string // "" (none), "default" or "short"
	Output     string
	Include    []string
	Exclude    []string
	Highlight  []string
	Grep       string // deprecated alias of one --include
	Previous   bool
	Timeout    time.Duration
	MaxStreams int
}

func newLogsCmd(streams *IOStreams, gopts *GlobalOptions) *cobra.Command {
	opts := &logsOptions{}
	cmd := &cobra.Command{
		Use:   "logs APP",
		Short: "Print or follow an application's logs on every cluster it runs on",
		Long: `logs prints the logs of every container of every pod of an application, on every
cluster it runs on (or those named with --cluster), each line prefixed with its
cluster, pod and container. The application's pods are found the way status
finds them: through Argo CD, Flux and the applications declared in the config.
The flags follow stern's where stern has one.

The logs are followed, as with stern: pods that start are picked up, pods that
go away end, and a stream that drops is opened again from its last line without
repeating or losing lines, until interrupted. --no-follow prints the logs there
are and exits. (-f is accepted and changes nothing.) --previous reads the log
of each container's previous instance, which is finished and cannot be
followed: it implies --no-follow. A cluster that is unreachable or forbids
reading pod logs is reported once on standard error; the other clusters go on.

-i/--include and -e/--exclude filter lines by regular expression (Go syntax,
case-sensitive; add (?i) to ignore case), both repeatable: a line matching any
--exclude is dropped, and when --include is given only lines matching at least
one --include are shown. --highlight marks what a regular expression matches,
and so do the --include expressions; highlighting, like every colour, is only
used on a terminal. Filters and highlights apply to the cleaned line text.

Every line is cleaned before it is printed, in every output mode: escape
sequences and control characters from a pod never reach the terminal, and a
line longer than 16 KiB is cut and marked. Colours (per cluster, per pod) are
used on a terminal only; NO_COLOR or --no-color turn them off.

-o default prints "cluster pod container [time] text" ("text" is accepted
too); -o raw prints the line text only (after the time, with -t), as stern's
raw; -o json prints one object per line: cluster, namespace, pod, container,
time (RFC 3339, from the container runtime), message, and cut (bytes dropped
from a long line, when any).

Exit status: 0 the logs were printed (or followed until interrupted); 1 some
logs could not be shown (an unknown application, no matching container, an
unreachable cluster, pod logs forbidden); 2 fleetdeck itself failed (bad flags,
unreadable config, output error).`,
		Example: `  fleetdeck logs payments-api
  fleetdeck logs payments-api --cluster prod-eu --since 10m --no-follow -i 'status=5..'
  fleetdeck logs payments-api -e 'GET /healthz' --highlight 'error|timeout'
  fleetdeck logs auth-service --cluster staging --pod 'auth-service-.*-x7k2p' --previous
  fleetdeck logs catalog-api -o raw --no-follow --tail 100 > catalog.log
  fleetdeck logs catalog-api -o json | jq 'select(.cluster == "prod-us")'`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return withExitCode(ExitError, fmt.Errorf("logs takes one application name, got %d arguments", len(args)))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLogs(cmd.Context(), streams, gopts, opts, args[0])
		},
	}
	opts.bind(cmd.Flags())
	return cmd
}

// bind registers the verb's flags on f, with their defaults.
func (opts *logsOptions) bind(f *pflag.FlagSet) {
	f.StringSliceVar(&opts.Clusters, "cluster", nil, "only these clusters (repeatable or comma-separated)")
	f.StringVarP(&opts.Pod, "pod", "p", "", "only pods whose name matches this regular expression")
	f.StringVarP(&opts.Container, "container", "c", "", "only containers whose name matches this regular expression")
	f.BoolVar(&opts.NoFollow, "no-follow", false, "print the logs there are and exit, instead of following them")
	f.BoolVarP(&opts.Follow, "follow", "f", false, "follow the logs: the default, accepted for kubectl habits")
	f.DurationVarP(&opts.Since, "since", "s", 48*time.Hour, "only lines newer than this (0: all)")
	f.Int64Var(&opts.Tail, "tail", -1, "only the last N lines of each container (-1: all)")
	f.StringVarP(&opts.Timestamps, "timestamps", "t", "", `print each line's timestamp (UTC) before its text: "default" (2006-01-02T15:04:05.000Z) or "short" (01-02 15:04:05)`)
	f.Lookup("timestamps").NoOptDefVal = "default"
	f.StringVarP(&opts.Output, "output", "o", "default", "output format: default, raw (the line text only) or json")
	// StringArray, not StringSlice: a comma is part of a regular expression (a{1,3}).
	f.StringArrayVarP(&opts.Include, "include", "i", nil, "only lines matching this regular expression (repeatable: any of them)")
	f.StringArrayVarP(&opts.Exclude, "exclude", "e", nil, "drop lines matching this regular expression (repeatable: any of them)")
	f.StringArrayVar(&opts.Highlight, "highlight", nil, "on a terminal, highlight what this regular expression matches (repeatable; --include matches are highlighted too)")
	f.StringVar(&opts.Grep, "grep", "", "deprecated: use -i/--include")
	_ = f.MarkHidden("grep") // not MarkDeprecated: cobra prints its warning on standard output
	f.BoolVar(&opts.Previous, "previous", false, "the previous instance of each container (what a crash loop printed before its last crash); a finished log is not followed: implies --no-follow")
	f.DurationVar(&opts.Timeout, "timeout", config.DefaultTimeout, "how long to wait for clusters to list the application's pods; those not done by then are reported")
	f.IntVar(&opts.MaxStreams, "max-log-requests", logs.DefaultMaxStreams, "most containers followed at once")
}

// logsRun is a validated invocation.
type logsRun struct {
	opts      *logsOptions
	sel       logs.Selector
	follow    bool
	output    string // default, raw or json
	tsLayout  string // "" without timestamps
	include   []*regexp.Regexp
	exclude   []*regexp.Regexp
	highlight []*regexp.Regexp // --highlight, then --include
	// notes are said on standard error before the logs: options that were adjusted.
	notes []string
}

// Timestamp layouts of -t; both are fixed-width so that lines stay aligned.
const (
	tsLayout      = "2006-01-02T15:04:05.000Z"
	tsLayoutShort = "01-02 15:04:05"
)

func (o *logsOptions) validate(app string) (logsRun, error) {
	r := logsRun{opts: o, sel: logs.Selector{App: app, Clusters: o.Clusters}}
	switch o.Output {
	case "default", "text":
		r.output = "default"
	case "raw", "json":
		r.output = o.Output
	default:
		return r, fmt.Errorf("unknown output %q (want default, raw or json)", o.Output)
	}
	switch o.Timestamps {
	case "", "false":
	case "default", "true":
		r.tsLayout = tsLayout
	case "short":
		r.tsLayout = tsLayoutShort
	default:
		return r, fmt.Errorf(`--timestamps %q: unknown format (want "default" or "short")`, o.Timestamps)
	}
	if app == "" {
		return r, fmt.Errorf("no application name given")
	}
	if o.Since < 0 {
		return r, fmt.Errorf("--since must not be negative, got %s", o.Since)
	}
	if o.Tail < -1 {
		return r, fmt.Errorf("--tail must be -1 (all) or more, got %d", o.Tail)
	}
	if o.Timeout <= 0 {
		return r, fmt.Errorf("--timeout must be positive, got %s", o.Timeout)
	}
	if o.MaxStreams <= 0 {
		return r, fmt.Errorf("--max-log-requests must be positive, got %d", o.MaxStreams)
	}
	if o.Follow && o.NoFollow {
		return r, fmt.Errorf("--follow and --no-follow contradict each other (following is the default)")
	}
	r.follow = !o.NoFollow && !o.Previous
	if o.Previous && o.Follow {
		// A previous instance has exited: its log is complete, and the API server ends a
		// followed stream of it at once. Following it would only poll the same lines.
		r.notes = append(r.notes, "--previous reads the logs of finished containers, which cannot be followed: printing them and exiting, as with --no-follow")
	}
	var err error
	compile := func(flag string, exprs ...string) []*regexp.Regexp {
		var res []*regexp.Regexp
		for _, expr := range exprs {
			re, cerr := regexp.Compile(expr)
			if cerr != nil {
				err = errors.Join(err, fmt.Errorf("%s %q: %w", flag, expr, cerr))
				continue
			}
			res = append(res, re)
		}
		return res
	}
	if o.Pod != "" {
		if res := compile("--pod", o.Pod); len(res) > 0 {
			r.sel.Pod = res[0]
		}
	}
	if o.Container != "" {
		if res := compile("--container", o.Container); len(res) > 0 {
			r.sel.Container = res[0]
		}
	}
	if o.Grep != "" {
		r.include = compile("--grep", o.Grep)
		r.notes = append(r.notes, "--grep is deprecated: use -i/--include, which it is an alias of")
	}
	r.include = append(r.include, compile("--include", o.Include...)...)
	r.exclude = compile("--exclude", o.Exclude...)
	// As stern does, what an --include matched is highlighted too.
	r.highlight = append(compile("--highlight", o.Highlight...), r.include...)
	return r, err
}

// shows reports whether a line passes --include and --exclude: it matches no --exclude and,
// when any --include is given, at least one of them.
func (r *logsRun) shows(text string) bool {
	for _, re := range r.exclude {
		if re.MatchString(text) {
			return false
		}
	}
	if len(r.include) == 0 {
		return true
	}
	for _, re := range r.include {
		if re.MatchString(text) {
			return true
		}
	}
	return false
}

func (r logsRun) streamOptions() logs.Options {
	o := r.opts
	return logs.Options{Follow: r.follow, Since: o.Since, Tail: o.Tail, TailSet: o.Tail >= 0, Previous: o.Previous,
		MaxStreams: o.MaxStreams}
}

func runLogs(ctx context.Context, streams *IOStreams, gopts *GlobalOptions, opts *logsOptions, app string) error {
	run, err := opts.validate(app)
	if err != nil {
		return withExitCode(ExitError, err)
	}
	for _, n := range run.notes {
		fmt.Fprintf(streams.ErrOut, "fleetdeck: %s\n", n)
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
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	eng, stopEngine, err := startEngine(ctx, cfg, engine.Options{Getenv: streams.Getenv})
	if err != nil {
		return err
	}
	defer stopEngine()

	clients := logClients(cfg, opts.Clusters)

	updates := make(chan logs.Update)
	feedDone := make(chan error, 1)
	go func() { feedDone <- feedTargets(ctx, eng, run, updates, cancel) }()
	entries := logs.Stream(ctx, clients, updates, run.streamOptions())
	colour := !gopts.NoColor && (streams.Getenv == nil || streams.Getenv("NO_COLOR") == "")
	pr := newLogPrinter(streams, newLogColours(cfg, colour && streams.OutIsTerminal), newLogColours(cfg, colour && streams.ErrIsTerminal), run)
	werr := pr.print(ctx, entries, cancel)
	cancel()
	ferr := <-feedDone
	switch {
	case werr != nil:
		return withExitCode(ExitError, werr)
	case ferr != nil:
		return withExitCode(ExitProblems, ferr)
	case pr.problems:
		return withExitCode(ExitProblems, nil)
	}
	return nil
}

// logClients makes a client per configured cluster (of only, when given). A cluster without a
// client is reported by the stream once its pods are known; the engine reports it unreachable
// with the reason meanwhile.
func logClients(cfg *config.Config, only []string) map[string]kubernetes.Interface {
	clients := map[string]kubernetes.Interface{}
	for _, c := range cfg.Clusters {
		if len(only) > 0 && !slices.Contains(only, c.Name) {
			continue
		}
		if rc, err := kube.RESTConfig(c); err == nil {
			if cs, err := kubernetes.NewForConfig(rc); err == nil {
				clients[c.Name] = cs
			}
		}
	}
	return clients
}

// feedTargets sends the target sets of the application as the engine sees it: from every live
// model at once (a cluster that answers starts streaming without waiting for the others), and
// from the complete snapshot once it is ready, which also reports the clusters that did not
// answer. Without following (--no-follow, --previous) it stops after the snapshot. An unknown application ends the run.
func feedTargets(ctx context.Context, eng *engine.Engine, run logsRun, updates chan<- logs.Update, cancel context.CancelFunc) error {
	defer close(updates)
	tr := logs.NewTracker(run.sel)
	send := func(u logs.Update) bool {
		select {
		case updates <- u:
			return true
		case <-ctx.Done():
			return false
		}
	}
	type snap struct {
		m   fleet.Model
		err error
	}
	snapc := make(chan snap, 1)
	go func() {
		m, err := eng.Snapshot(ctx, run.opts.Timeout)
		snapc <- snap{m, err}
	}()
	sub := eng.Subscribe(ctx)
	settled := false
	for {
		select {
		case <-ctx.Done():
			if !settled {
				<-snapc // the snapshot ends with ctx; leave no goroutine behind
			}
			return nil
		case m, ok := <-sub:
			if !ok {
				sub = nil
				continue
			}
			if !send(tr.Update(m, settled)) {
				continue
			}
		case s := <-snapc:
			settled = true
			if s.err != nil {
				cancel()
				return fmt.Errorf("read the fleet: %w", s.err)
			}
			u := tr.Update(s.m, true)
			if !tr.Found() {
				var apps []string
				for _, a := range s.m.Apps {
					apps = append(apps, a.Name)
				}
				slices.Sort(apps)
				// The clusters that did not answer may be why: say so first.
				send(logs.Update{Notices: u.Notices})
				cancel()
				msg := fmt.Sprintf("no application named %q on the fleet", run.sel.App)
				if len(apps) > 0 {
					msg += " (applications: " + strings.Join(apps, ", ") + ")"
				}
				return errors.New(msg)
			}
			if len(u.Sources) == 0 {
				what := "no container of " + run.sel.App + " matches"
				if run.follow {
					u.Notices = append(u.Notices, logs.Entry{Kind: logs.KindNotice, Text: what + " yet; waiting for pods"})
				} else {
					u.Notices = append(u.Notices, logs.Entry{Kind: logs.KindNotice, Text: what, Problem: true})
				}
			}
			if !send(u) || !run.follow {
				return nil
			}
		}
	}
}

// logPrinter writes entries: lines to Out, events and notices to ErrOut, each coloured only
// when its stream is a terminal.
type logPrinter struct {
	streams     *IOStreams
	col, errCol logColours
	run         logsRun
	problems    bool
}

func newLogPrinter(streams *IOStreams, col, errCol logColours, run logsRun) *logPrinter {
	return &logPrinter{streams: streams, col: col, errCol: errCol, run: run}
}

// print writes every entry until the channel closes. Output is buffered while entries are
// waiting and flushed as soon as none is, so a burst costs few writes and a quiet stream
// shows each line at once. On a write error it cancels the run, drains the channel and
// returns the error.
func (p *logPrinter) print(ctx context.Context, entries <-chan logs.Entry, cancel context.CancelFunc) error {
	out := bufio.NewWriterSize(p.streams.Out, 64<<10)
	var werr error
	var buf []byte
	for e := range entries {
		if werr != nil {
			continue // draining after cancel
		}
		switch e.Kind {
		case logs.KindLine:
			if !p.run.shows(e.Text) {
				break
			}
			buf = p.appendLine(buf[:0], e)
			if _, err := out.Write(buf); err != nil {
				werr = err
			}
		default:
			if err := out.Flush(); err != nil {
				werr = err
				break
			}
			p.event(e)
		}
		if werr == nil && len(entries) == 0 {
			werr = out.Flush()
		}
		if werr != nil {
			cancel()
		}
	}
	if werr == nil {
		werr = out.Flush()
	}
	if werr != nil {
		return fmt.Errorf("write logs: %w", werr)
	}
	return nil
}

// event reports a stream's start or end and notices on ErrOut.
func (p *logPrinter) event(e logs.Entry) {
	w := p.streams.ErrOut
	switch e.Kind {
	case logs.KindStart:
		fmt.Fprintf(w, "+ %s\n", p.errCol.prefix(e.Source))
	case logs.KindEnd:
		fmt.Fprintf(w, "- %s (%s)\n", p.errCol.prefix(e.Source), e.Text)
	case logs.KindNotice:
		if e.Problem {
			p.problems = true
			fmt.Fprintf(w, "fleetdeck: %s\n", p.errCol.warn(e.Text))
			return
		}
		fmt.Fprintf(w, "fleetdeck: %s\n", e.Text)
	}
}

// logJSON is one line of -o json.
type logJSON struct {
	Cluster   string `json:"cluster"`
	Namespace string `json:"namespace"`
	Pod       string `json:"pod"`
	Container string `json:"container"`
	Time      string `json:"time,omitempty"`
	Message   string `json:"message"`
	Cut       int    `json:"cut,omitempty"`
}

// appendLine formats one line. Its text is sanitised by kube/logs already; the prefix is made
// of names the API server validated, and highlighting only adds fleetdeck's own SGR sequences
// around parts of that text.
func (p *logPrinter) appendLine(b []byte, e logs.Entry) []byte {
	switch p.run.output {
	case "json":
		j := logJSON{Cluster: e.Source.Cluster, Namespace: e.Source.Namespace, Pod: e.Source.Pod,
			Container: e.Source.Container, Message: e.Text, Cut: e.Cut}
		if !e.Time.IsZero() {
			j.Time = e.Time.UTC().Format(time.RFC3339Nano)
		}
		data, err := json.Marshal(j)
		if err != nil { // cannot happen for strings; keep the line rather than fail
			return append(b, '\n')
		}
		return append(append(b, data...), '\n')
	case "default":
		b = append(b, p.col.prefix(e.Source)...)
		b = append(b, ' ')
	}
	if layout := p.run.tsLayout; layout != "" {
		if e.Time.IsZero() {
			b = append(b, strings.Repeat("-", len(layout))...)
		} else {
			b = e.Time.UTC().AppendFormat(b, layout)
		}
		b = append(b, ' ')
	}
	b = p.col.appendHighlighted(b, e.Text, p.run.highlight)
	return append(b, '\n')
}

// logColours colours a line's prefix: the cluster in its configured colour (or one picked from
// its name), the pod and container in a colour picked from the pod's name, stable across runs.
type logColours struct {
	on       bool
	clusters map[string]string // SGR parameters by cluster
}

// podColours are 256-colour indexes readable on dark and light backgrounds.
var podColours = []int{39, 208, 170, 76, 214, 141, 45, 203, 118, 177, 220, 81}

func newLogColours(cfg *config.Config, on bool) logColours {
	c := logColours{on: on, clusters: map[string]string{}}
	for _, cl := range cfg.Clusters {
		if sgr, ok := sgrOf(cl.Color); ok {
			c.clusters[cl.Name] = sgr
		}
	}
	return c
}

// sgrOf turns a config colour ("#rgb", "#rrggbb" or "0".."255") into SGR foreground parameters.
func sgrOf(colour string) (string, bool) {
	if n, err := strconv.Atoi(colour); err == nil && n >= 0 && n <= 255 {
		return "38;5;" + strconv.Itoa(n), true
	}
	hex, ok := strings.CutPrefix(colour, "#")
	if !ok {
		return "", false
	}
	if len(hex) == 3 {
		hex = string([]byte{hex[0], hex[0], hex[1], hex[1], hex[2], hex[2]})
	}
	if len(hex) != 6 {
		return "", false
	}
	v, err := strconv.ParseUint(hex, 16, 32)
	if err != nil {
		return "", false
	}
	return fmt.Sprintf("38;2;%d;%d;%d", v>>16, v>>8&0xff, v&0xff), true
}

func pick(s string) int {
	h := fnv.New32a()
	_, _ = io.WriteString(h, s)
	return podColours[h.Sum32()%uint32(len(podColours))]
}

func (c logColours) paint(sgr, s string) string {
	if !c.on {
		return s
	}
	return "\x1b[" + sgr + "m" + s + "\x1b[0m"
}

func (c logColours) prefix(s logs.Source) string {
	cl, ok := c.clusters[s.Cluster]
	if !ok {
		cl = "38;5;" + strconv.Itoa(pick(s.Cluster))
	}
	pod := "38;5;" + strconv.Itoa(pick(s.Cluster+"/"+s.Namespace+"/"+s.Pod))
	return c.paint(cl, s.Cluster) + " " + c.paint(pod, s.Pod) + " " + c.paint(pod+";2", s.Container)
}

func (c logColours) warn(s string) string { return c.paint("33", s) }

// highlightSGR is reverse video: visible on dark, light and 16-colour terminals alike, and
// distinct from the prefix colours.
const highlightSGR = "7"

// appendHighlighted appends text with what any of res matches in reverse video, when colours
// are on; otherwise, or when nothing matches, text as it is. Overlapping and adjacent matches
// are merged into one span. Matches are found on text itself, which is sanitised: the only
// escape sequences in the result are the ones added here.
func (c logColours) appendHighlighted(b []byte, text string, res []*regexp.Regexp) []byte {
	if !c.on || len(res) == 0 {
		return append(b, text...)
	}
	var spans [][]int
	for _, re := range res {
		for _, m := range re.FindAllStringIndex(text, -1) {
			if m[1] > m[0] {
				spans = append(spans, m)
			}
		}
	}
	if len(spans) == 0 {
		return append(b, text...)
	}
	slices.SortFunc(spans, func(x, y []int) int { return x[0] - y[0] })
	at := 0
	for i := 0; i < len(spans); {
		start, end := spans[i][0], spans[i][1]
		for i++; i < len(spans) && spans[i][0] <= end; i++ {
			end = max(end, spans[i][1])
		}
		b = append(b, text[at:start]...)
		b = append(b, c.paint(highlightSGR, text[start:end])...)
		at = end
	}
	return append(b, text[at:]...)
}
