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
	Follow     bool
	Since      time.Duration
	Tail       int64
	Timestamps bool
	Output     string
	Grep       string
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

With -f the logs are followed: pods that start are picked up, pods that go away
end, and a stream that drops is opened again from its last line without
repeating or losing lines. A cluster that is unreachable or forbids reading pod
logs is reported once on standard error; the other clusters go on.

Every line is cleaned before it is printed, in every output mode: escape
sequences and control characters from a pod never reach the terminal, and a
line longer than 16 KiB is cut and marked. Colours (per cluster, per pod) are
used on a terminal only; NO_COLOR or --no-color turn them off.

-o json prints one object per line: cluster, namespace, pod, container, time
(RFC 3339, from the container runtime), message, and cut (bytes dropped from a
long line, when any).

Exit status: 0 the logs were printed (or followed until interrupted); 1 some
logs could not be shown (an unknown application, no matching container, an
unreachable cluster, pod logs forbidden); 2 fleetdeck itself failed (bad flags,
unreadable config, output error).`,
		Example: `  fleetdeck logs payments-api -f
  fleetdeck logs payments-api --cluster prod-eu --since 10m --grep 'status=5..'
  fleetdeck logs auth-service --cluster staging --pod 'auth-service-.*-x7k2p' --previous
  fleetdeck logs catalog-api -f -o json | jq 'select(.cluster == "prod-us")'`,
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
	f.BoolVarP(&opts.Follow, "follow", "f", false, "keep following: new lines, new pods, until interrupted")
	f.DurationVarP(&opts.Since, "since", "s", 48*time.Hour, "only lines newer than this (0: all)")
	f.Int64Var(&opts.Tail, "tail", -1, "only the last N lines of each container (-1: all)")
	f.BoolVarP(&opts.Timestamps, "timestamps", "t", false, "print each line's timestamp (UTC) after its prefix")
	f.StringVarP(&opts.Output, "output", "o", "text", "output format: text or json")
	f.StringVar(&opts.Grep, "grep", "", "only lines matching this regular expression")
	f.BoolVar(&opts.Previous, "previous", false, "the previous instance of each container (what a crash loop printed before its last crash)")
	f.DurationVar(&opts.Timeout, "timeout", config.DefaultTimeout, "how long to wait for clusters to list the application's pods; those not done by then are reported")
	f.IntVar(&opts.MaxStreams, "max-log-requests", logs.DefaultMaxStreams, "most containers followed at once")
}

// logsRun is a validated invocation.
type logsRun struct {
	opts *logsOptions
	sel  logs.Selector
	grep *regexp.Regexp
}

func (o *logsOptions) validate(app string) (logsRun, error) {
	r := logsRun{opts: o, sel: logs.Selector{App: app, Clusters: o.Clusters}}
	switch o.Output {
	case "text", "json":
	default:
		return r, fmt.Errorf("unknown output %q (want text or json)", o.Output)
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
	if o.Previous && o.Follow {
		return r, fmt.Errorf("--previous reads a finished log: it cannot be combined with --follow")
	}
	var err error
	compile := func(flag, expr string) *regexp.Regexp {
		if expr == "" || err != nil {
			return nil
		}
		re, cerr := regexp.Compile(expr)
		if cerr != nil {
			err = fmt.Errorf("%s %q: %w", flag, expr, cerr)
		}
		return re
	}
	r.sel.Pod = compile("--pod", o.Pod)
	r.sel.Container = compile("--container", o.Container)
	r.grep = compile("--grep", o.Grep)
	return r, err
}

func (r logsRun) streamOptions() logs.Options {
	o := r.opts
	return logs.Options{Follow: o.Follow, Since: o.Since, Tail: o.Tail, TailSet: o.Tail >= 0, Previous: o.Previous,
		MaxStreams: o.MaxStreams}
}

func runLogs(ctx context.Context, streams *IOStreams, gopts *GlobalOptions, opts *logsOptions, app string) error {
	run, err := opts.validate(app)
	if err != nil {
		return withExitCode(ExitError, err)
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
// answer. Without --follow it stops after the snapshot. An unknown application ends the run.
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
				if run.opts.Follow {
					u.Notices = append(u.Notices, logs.Entry{Kind: logs.KindNotice, Text: what + " yet; waiting for pods"})
				} else {
					u.Notices = append(u.Notices, logs.Entry{Kind: logs.KindNotice, Text: what, Problem: true})
				}
			}
			if !send(u) || !run.opts.Follow {
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
			if p.run.grep != nil && !p.run.grep.MatchString(e.Text) {
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
// of names the API server validated.
func (p *logPrinter) appendLine(b []byte, e logs.Entry) []byte {
	if p.run.opts.Output == "json" {
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
	}
	b = append(b, p.col.prefix(e.Source)...)
	b = append(b, ' ')
	if p.run.opts.Timestamps {
		if e.Time.IsZero() {
			b = append(b, strings.Repeat("-", len(tsLayout))...)
		} else {
			b = e.Time.UTC().AppendFormat(b, tsLayout)
		}
		b = append(b, ' ')
	}
	b = append(b, e.Text...)
	return append(b, '\n')
}

// tsLayout is fixed-width so that lines stay aligned.
const tsLayout = "2006-01-02T15:04:05.000Z"

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
