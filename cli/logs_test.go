package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/fleetdeck/fleetdeck/config"
	"github.com/fleetdeck/fleetdeck/kube/logs"
)

// Golden files are rewritten with: go test ./cli -run TestLogs -update

func TestLogsFlagErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no app", []string{"logs"}, "logs takes one application name, got 0 arguments"},
		{"two apps", []string{"logs", "a", "b"}, "logs takes one application name, got 2 arguments"},
		{"output", []string{"logs", "a", "-o", "yaml"}, `unknown output "yaml" (want default, raw or json)`},
		{"pod regex", []string{"logs", "a", "--pod", "("}, `--pod "(": error parsing regexp`},
		{"container regex", []string{"logs", "a", "-c", "[z-a]"}, `--container "[z-a]": error parsing regexp`},
		{"grep regex", []string{"logs", "a", "--grep", "*x"}, `--grep "*x": error parsing regexp`},
		{"include regex", []string{"logs", "a", "-i", "ok", "--include", "(a"}, `--include "(a": error parsing regexp`},
		{"exclude regex", []string{"logs", "a", "-e", "+"}, `--exclude "+": error parsing regexp`},
		{"highlight regex", []string{"logs", "a", "--highlight", "a**"}, `--highlight "a**": error parsing regexp`},
		{"every bad regex named", []string{"logs", "a", "-i", "(", "-e", ")"}, `--exclude ")": error parsing regexp`},
		{"timestamps format", []string{"logs", "a", "--timestamps=long"}, `--timestamps "long": unknown format (want "default" or "short")`},
		{"since", []string{"logs", "a", "--since", "-1m"}, "--since must not be negative"},
		{"tail", []string{"logs", "a", "--tail", "-2"}, "--tail must be -1 (all) or more, got -2"},
		{"follow and no-follow", []string{"logs", "a", "-f", "--no-follow"}, "--follow and --no-follow contradict each other"},
		{"max streams", []string{"logs", "a", "--max-log-requests", "0"}, "--max-log-requests must be positive"},
		{"unknown cluster", []string{"logs", "a", "--cluster", "mars", "--config", "testdata/config/unknown-reference.yaml"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			streams := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, Getenv: testEnv(t)}
			code := Main(streams, tt.args)
			if code != ExitError {
				t.Errorf("exit %d, want %d; stderr %q", code, ExitError, errOut.String())
			}
			if !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("stderr %q does not say %q", errOut.String(), tt.want)
			}
			if out.Len() > 0 {
				t.Errorf("stdout %q, want nothing", out.String())
			}
		})
	}
}

// TestLogsUnreachableCluster runs the verb on a config whose only cluster does not answer: it
// says so once and exits 1 (the application cannot be found), within the timeout.
func TestLogsUnreachableCluster(t *testing.T) {
	dir, cfg := copyWithKubeconfig(t, "unreachable", "unreachable.kubeconfig", "https://"+freePort(t))
	cache := t.TempDir()
	env := testEnv(t)
	getenv := func(k string) string {
		if k == "XDG_CACHE_HOME" {
			return cache
		}
		return env(k)
	}
	start := time.Now()
	got := runCLI(t, getenv, "logs", "payments-api", "--config", cfg, "--timeout", "1s")
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s with a 1s timeout", d)
	}
	got = regexp.MustCompile(`(?m)is unreachable: .*;`).ReplaceAllString(got, "is unreachable: ERROR;")
	checkGoldenIn(t, "logs", "unreachable", stabilize(got, dir))
}

// sampleEntries are what a run could deliver, in a fixed order.
func sampleEntries() []logs.Entry {
	ts := time.Date(2026, 3, 1, 12, 0, 0, 123_000_000, time.UTC)
	eu := logs.Source{Cluster: "prod-eu", Namespace: "payments", Pod: "payments-api-7d9c5-x7k2p", Container: "payments-api"}
	us := logs.Source{Cluster: "prod-us", Namespace: "payments", Pod: "payments-api-7d9c5-q2w8z", Container: "payments-api"}
	return []logs.Entry{
		{Kind: logs.KindStart, Source: eu},
		{Kind: logs.KindLine, Source: eu, Time: ts, Text: `INFO payments-api request_id=a1 path=/pay status=200`},
		{Kind: logs.KindNotice, Source: logs.Source{Cluster: "staging"}, Problem: true, Text: "cluster staging: may not read pod logs (namespace payments: forbidden): its logs are not shown"},
		{Kind: logs.KindStart, Source: us},
		{Kind: logs.KindLine, Source: us, Time: ts.Add(time.Second), Text: `{"level":"error","msg":"card declined","status":502}`},
		{Kind: logs.KindLine, Source: eu, Text: "a line without timestamp"},
		{Kind: logs.KindLine, Source: us, Time: ts.Add(2 * time.Second), Text: "xxxx" + logs.CutMarker(1048572), Cut: 1048572},
		{Kind: logs.KindNotice, Text: "cluster prod-us: reading logs again"},
		{Kind: logs.KindEnd, Source: us, Text: "pod gone"},
	}
}

func feed(es []logs.Entry) <-chan logs.Entry {
	ch := make(chan logs.Entry, len(es))
	for _, e := range es {
		ch <- e
	}
	close(ch)
	return ch
}

func TestLogsPrinter(t *testing.T) {
	cfg := &config.Config{Clusters: []config.Cluster{{Name: "prod-eu", Color: "#5f87ff"}, {Name: "prod-us", Color: "170"}, {Name: "staging"}}}
	tests := []struct {
		name   string
		args   []string
		colour bool
	}{
		{name: "text", args: nil},
		{name: "timestamps", args: []string{"--timestamps"}},
		{name: "json", args: []string{"-o", "json"}},
		{name: "grep", args: []string{"--grep", "status=[0-9]+|declined"}},
		{name: "colour", args: nil, colour: true},
		{name: "raw", args: []string{"-o", "raw"}},
		{name: "raw-timestamps-short", args: []string{"-o", "raw", "--timestamps=short"}},
		{name: "highlight", args: []string{"--highlight", `"?status"?[=:][0-9]+`, "-i", "declined|without", "-e", "a1"}, colour: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := &logsOptions{}
			fs := pflag.NewFlagSet("logs", pflag.ContinueOnError)
			opts.bind(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			run, err := opts.validate("payments-api")
			if err != nil {
				t.Fatal(err)
			}
			var out, errOut bytes.Buffer
			streams := &IOStreams{Out: &out, ErrOut: &errOut, OutIsTerminal: tt.colour, ErrIsTerminal: tt.colour}
			p := newLogPrinter(streams, newLogColours(cfg, tt.colour), newLogColours(cfg, tt.colour), run)
			if err := p.print(context.Background(), feed(sampleEntries()), func() {}); err != nil {
				t.Fatal(err)
			}
			if !p.problems {
				t.Error("a problem notice did not mark the run")
			}
			got := out.String() + "--- stderr\n" + errOut.String()
			if tt.colour {
				got = strings.ReplaceAll(got, "\x1b", `\e`)
			}
			checkGoldenIn(t, "logs", "print-"+tt.name, got)
		})
	}
}

func TestLogsJSONLines(t *testing.T) {
	run, err := (&logsOptions{Output: "json", Timeout: time.Second, MaxStreams: 1, Tail: -1}).validate("payments-api")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	p := newLogPrinter(&IOStreams{Out: &out, ErrOut: &bytes.Buffer{}}, logColours{}, logColours{}, run)
	if err := p.print(context.Background(), feed(sampleEntries()), func() {}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines, want 4:\n%s", len(lines), out.String())
	}
	for _, l := range lines {
		var j logJSON
		if err := json.Unmarshal([]byte(l), &j); err != nil {
			t.Fatalf("not JSON: %q: %v", l, err)
		}
		if j.Cluster == "" || j.Pod == "" || j.Container == "" || j.Namespace == "" || j.Message == "" {
			t.Errorf("incomplete line %+v", j)
		}
	}
}

// hostileLog is a pod log of lines written to take over a terminal, with timestamps as the
// API server sends them.
var hostileLog = []string{
	"\x1b]0;you have been pwned\x07title",
	"copy \x1b]52;c;Y3VybCBldmlsLnRlc3QgfCBzaA==\x07done",
	"\x1b]8;;https://evil.test/\x1b\\click me\x1b]8;;\x1b\\",
	"ok\x1b[1A\x1b[2K\x1b[10;1Hover",
	"\x1b[2J\x1b[H\x1b[3Jcleared",
	"\x1bP+q544e\x1b\\dcs \u009b2J \u009d52;c;AAAA\u009c",
	"INFO all good\rERROR overwritten",
	"secret\b\b\b\b\b\bpublic",
	"invoice\u202Egnp.exe",
	"bad \xff\xfe\xc3 bytes",
	"\x1b]52;c;" + strings.Repeat("A", 1<<20) + "\x07",
	"the end",
}

// TestLogsHostileLines streams a hostile pod log through kube/logs and the printer, in every
// output mode, and checks the bytes that reach standard output: the only escape sequences are
// fleetdeck's own colours (and only on a terminal), and no control character or payload of the
// pod's sequences is left.
func TestLogsHostileLines(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/log") {
			http.NotFound(w, r)
			return
		}
		ts := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		for i, l := range hostileLog {
			fmt.Fprintf(w, "%s %s\n", ts.Add(time.Duration(i)*time.Millisecond).Format(time.RFC3339Nano), l)
		}
	}))
	defer srv.Close()
	client, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{Clusters: []config.Cluster{{Name: "prod-eu", Color: "#5f87ff"}}}
	sgr := regexp.MustCompile(`\x1b\[[0-9;]*m`)
	for _, mode := range []struct {
		name   string
		opts   logsOptions
		colour bool
	}{
		{"text", logsOptions{Output: "text"}, false},
		{"text on a terminal", logsOptions{Output: "text"}, true},
		{"timestamps", logsOptions{Output: "text", Timestamps: "default"}, false},
		{"json", logsOptions{Output: "json"}, false},
		{"raw", logsOptions{Output: "raw"}, false},
		{"raw on a terminal, highlighted", logsOptions{Output: "raw", Highlight: []string{"[a-z]+", `\x1b|\x07|\x9b`}}, true},
		{"highlighted on a terminal", logsOptions{Output: "default", Highlight: []string{".", "e"}}, true},
	} {
		t.Run(mode.name, func(t *testing.T) {
			mode.opts.Timeout, mode.opts.MaxStreams, mode.opts.Tail = time.Second, 1, -1
			mode.opts.NoFollow = true // the fake server's log ends: read it once
			run, err := mode.opts.validate("x")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			updates := make(chan logs.Update, 1)
			updates <- logs.Update{Sources: []logs.Source{{Cluster: "prod-eu", Namespace: "ns", Pod: "evil", Container: "c"}}}
			close(updates)
			entries := logs.Stream(ctx, map[string]kubernetes.Interface{"prod-eu": client}, updates, run.streamOptions())
			var out, errOut bytes.Buffer
			p := newLogPrinter(&IOStreams{Out: &out, ErrOut: &errOut, OutIsTerminal: mode.colour}, newLogColours(cfg, mode.colour), logColours{}, run)
			if err := p.print(ctx, entries, cancel); err != nil {
				t.Fatal(err)
			}
			got := out.String()
			if n := strings.Count(got, "\n"); n != len(hostileLog) {
				t.Fatalf("%d lines out, want %d:\n%.2000q", n, len(hostileLog), got)
			}
			if len(got) > 64<<10 {
				t.Errorf("%d bytes out: the 1 MiB line was not cut", len(got))
			}
			if !strings.Contains(sgr.ReplaceAllString(got, ""), "bytes cut]") {
				t.Error("the cut line has no marker")
			}
			if mode.colour && !sgr.MatchString(got) {
				t.Error("no colour on a terminal")
			}
			plain := sgr.ReplaceAllString(got, "")
			if mode.name == "json" {
				// What `jq -r .message` would print must be clean too.
				var b strings.Builder
				for _, l := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
					var j logJSON
					if err := json.Unmarshal([]byte(l), &j); err != nil {
						t.Fatalf("not JSON: %q", l)
					}
					b.WriteString(j.Message + "\n")
				}
				plain = b.String()
			}
			for i, r := range strings.TrimSuffix(plain, "\n") {
				if r == '\n' {
					continue
				}
				if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0x202e || r == 0xfffd {
					t.Errorf("control %U at byte %d of output", r, i)
				}
			}
			for _, payload := range []string{"pwned", "Y3VybCBldmlsLnRlc3QgfCBzaA", "evil.test", "AAAA", "\x1b]", "\x1bP"} {
				if strings.Contains(got, payload) {
					t.Errorf("payload %q reached the output", payload)
				}
			}
			for _, want := range []string{"title", "click me", "INFO all good ERROR overwritten", "secretpublic", "invoicegnp.exe", "the end"} {
				if !strings.Contains(plain, want) {
					t.Errorf("visible text %q missing from output", want)
				}
			}
		})
	}
}

func TestSGROf(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"#5f87ff", "38;2;95;135;255", true},
		{"#abc", "38;2;170;187;204", true},
		{"170", "38;5;170", true},
		{"256", "", false},
		{"#12345", "", false},
		{"red", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := sgrOf(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("sgrOf(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// logServer is a fake API server that serves one pod log, with timestamps as the kubelet
// sends them, and records the query of every log request. With hold, it keeps each stream
// open after the last line, as a followed stream of a running container is.
type logServer struct {
	srv     *httptest.Server
	client  kubernetes.Interface
	queries chan url.Values
	written chan struct{} // one value per stream whose lines were all written
}

func newLogServer(t *testing.T, lines []string, hold bool) *logServer {
	t.Helper()
	ls := &logServer{queries: make(chan url.Values, 16), written: make(chan struct{}, 16)}
	ls.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/log") {
			http.NotFound(w, r)
			return
		}
		select {
		case ls.queries <- r.URL.Query():
		default:
		}
		ts := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		for i, l := range lines {
			fmt.Fprintf(w, "%s %s\n", ts.Add(time.Duration(i)*time.Second).Format(time.RFC3339Nano), l)
		}
		w.(http.Flusher).Flush()
		select {
		case ls.written <- struct{}{}:
		default:
		}
		if hold {
			<-r.Context().Done()
		}
	}))
	t.Cleanup(ls.srv.Close)
	client, err := kubernetes.NewForConfig(&rest.Config{Host: ls.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	ls.client = client
	return ls
}

// parseLogsArgs validates the verb's flags as the command line gives them.
func parseLogsArgs(t *testing.T, args ...string) logsRun {
	t.Helper()
	opts := &logsOptions{}
	fs := pflag.NewFlagSet("logs", pflag.ContinueOnError)
	opts.bind(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	run, err := opts.validate("payments-api")
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// streamThrough streams the fake server's log of one container through kube/logs and the
// printer, and returns standard output and error.
func streamThrough(t *testing.T, ctx context.Context, cancel context.CancelFunc, ls *logServer, run logsRun, colour bool) (string, string) {
	t.Helper()
	cfg := &config.Config{Clusters: []config.Cluster{{Name: "prod-eu", Color: "#5f87ff"}}}
	updates := make(chan logs.Update, 1)
	updates <- logs.Update{Sources: []logs.Source{{Cluster: "prod-eu", Namespace: "payments", Pod: "payments-api-x7k2p", Container: "api"}}}
	close(updates)
	entries := logs.Stream(ctx, map[string]kubernetes.Interface{"prod-eu": ls.client}, updates, run.streamOptions())
	var out, errOut bytes.Buffer
	p := newLogPrinter(&IOStreams{Out: &out, ErrOut: &errOut, OutIsTerminal: colour}, newLogColours(cfg, colour), logColours{}, run)
	if err := p.print(ctx, entries, cancel); err != nil {
		t.Error(err) // not Fatal: may run on another goroutine
	}
	return out.String(), errOut.String()
}

var filterLog = []string{
	"INFO GET /healthz status=200",
	"INFO POST /pay status=200 amount=12,50",
	"WARN POST /pay status=502 retrying",
	"ERROR POST /pay status=503 card declined",
	"DEBUG cache hit ratio=0.93",
}

// TestLogsFilterAndOutput runs the fake server's log through the verb's flags and checks every
// byte of standard output: --include and --exclude with stern's semantics, the --grep alias,
// highlights on a terminal only, and the default, raw and json outputs.
func TestLogsFilterAndOutput(t *testing.T) {
	const pre = "prod-eu payments-api-x7k2p api "
	rev := func(s string) string { return "\x1b[7m" + s + "\x1b[0m" }
	cpre := "\x1b[38;2;95;135;255mprod-eu\x1b[0m \x1b[38;5;" + strconv.Itoa(pick("prod-eu/payments/payments-api-x7k2p")) + "mpayments-api-x7k2p\x1b[0m \x1b[38;5;" +
		strconv.Itoa(pick("prod-eu/payments/payments-api-x7k2p")) + ";2mapi\x1b[0m "
	tests := []struct {
		name   string
		args   []string
		colour bool
		want   []string
	}{
		{name: "everything", want: []string{pre + filterLog[0], pre + filterLog[1], pre + filterLog[2], pre + filterLog[3], pre + filterLog[4]}},
		{name: "include", args: []string{"-i", "status=5"}, want: []string{pre + filterLog[2], pre + filterLog[3]}},
		{name: "includes: any of them", args: []string{"--include", "^WARN", "-i", "ratio"}, want: []string{pre + filterLog[2], pre + filterLog[4]}},
		{name: "include with a comma", args: []string{"-i", "[0-9]{2},[0-9]{2}"}, want: []string{pre + filterLog[1]}},
		{name: "exclude", args: []string{"-e", "healthz"}, want: []string{pre + filterLog[1], pre + filterLog[2], pre + filterLog[3], pre + filterLog[4]}},
		{name: "excludes: any of them", args: []string{"-e", "healthz", "--exclude", "DEBUG"}, want: []string{pre + filterLog[1], pre + filterLog[2], pre + filterLog[3]}},
		{name: "exclude wins over include", args: []string{"-i", "POST", "-e", "declined"}, want: []string{pre + filterLog[1], pre + filterLog[2]}},
		{name: "grep is an include", args: []string{"--grep", "status=5", "-i", "healthz"}, want: []string{pre + filterLog[0], pre + filterLog[2], pre + filterLog[3]}},
		{name: "filters on the text, not the prefix", args: []string{"-i", "prod-eu|x7k2p"}, want: nil},
		{name: "highlight without a terminal", args: []string{"--highlight", "status=[0-9]+"}, want: []string{pre + filterLog[0], pre + filterLog[1], pre + filterLog[2], pre + filterLog[3], pre + filterLog[4]}},
		{name: "highlight on a terminal", args: []string{"--highlight", "status=[0-9]+", "--highlight", "POST", "-e", "DEBUG|GET"}, colour: true, want: []string{
			cpre + "INFO " + rev("POST") + " /pay " + rev("status=200") + " amount=12,50",
			cpre + "WARN " + rev("POST") + " /pay " + rev("status=502") + " retrying",
			cpre + "ERROR " + rev("POST") + " /pay " + rev("status=503") + " card declined",
		}},
		{name: "overlapping highlights merge", args: []string{"--highlight", "card dec", "--highlight", "declined", "-i", "ERROR"}, colour: true, want: []string{
			cpre + rev("ERROR") + " POST /pay status=503 " + rev("card declined"),
		}},
		{name: "raw", args: []string{"-o", "raw", "-e", "^INFO"}, want: []string{filterLog[2], filterLog[3], filterLog[4]}},
		{name: "raw with timestamps", args: []string{"-o", "raw", "-t", "-i", "DEBUG"}, want: []string{"2026-03-01T12:00:04.000Z " + filterLog[4]}},
		{name: "default with short timestamps", args: []string{"-o", "default", "-t=short", "-i", "DEBUG"}, want: []string{pre + "03-01 12:00:04 " + filterLog[4]}},
		{name: "text is default", args: []string{"-o", "text", "-i", "DEBUG"}, want: []string{pre + filterLog[4]}},
		{name: "raw on a terminal", args: []string{"-o", "raw", "-i", "ratio=[0-9.]+"}, colour: true, want: []string{"DEBUG cache hit " + rev("ratio=0.93")}},
		{name: "json is never highlighted", args: []string{"-o", "json", "--highlight", "DEBUG", "-i", "DEBUG"}, colour: true, want: []string{
			`{"cluster":"prod-eu","namespace":"payments","pod":"payments-api-x7k2p","container":"api","time":"2026-03-01T12:00:04Z","message":"DEBUG cache hit ratio=0.93"}`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ls := newLogServer(t, filterLog, false)
			run := parseLogsArgs(t, append([]string{"--no-follow"}, tt.args...)...)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			got, _ := streamThrough(t, ctx, cancel, ls, run, tt.colour)
			want := strings.Join(tt.want, "\n")
			if len(tt.want) > 0 {
				want += "\n"
			}
			if got != want {
				t.Errorf("output:\n%q\nwant:\n%q", got, want)
			}
		})
	}
}

// TestLogsFollowByDefault: the logs are followed unless --no-follow or --previous says
// otherwise; -f changes nothing, and -f with --previous is said on stderr, not refused.
func TestLogsFollowByDefault(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		follow   bool
		previous bool
		note     string
	}{
		{name: "default", follow: true},
		{name: "-f", args: []string{"-f"}, follow: true},
		{name: "--follow", args: []string{"--follow"}, follow: true},
		{name: "--no-follow", args: []string{"--no-follow"}},
		{name: "--previous", args: []string{"--previous"}, previous: true},
		{name: "--previous --no-follow", args: []string{"--previous", "--no-follow"}, previous: true},
		{name: "--previous -f", args: []string{"--previous", "-f"}, previous: true, note: "--previous reads the logs of finished containers, which cannot be followed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := parseLogsArgs(t, tt.args...)
			so := run.streamOptions()
			if so.Follow != tt.follow || so.Previous != tt.previous {
				t.Errorf("follow %v previous %v, want %v %v", so.Follow, so.Previous, tt.follow, tt.previous)
			}
			notes := strings.Join(run.notes, "\n")
			if tt.note == "" && notes != "" || !strings.Contains(notes, tt.note) {
				t.Errorf("notes %q, want %q", notes, tt.note)
			}

			// What the API server is asked, and whether the run ends by itself.
			ls := newLogServer(t, filterLog[:2], tt.follow)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			done := make(chan string, 1)
			go func() {
				out, _ := streamThrough(t, ctx, cancel, ls, run, false)
				done <- out
			}()
			q := <-ls.queries
			if got := q.Get("follow") == "true"; got != tt.follow {
				t.Errorf("follow=%q asked of the API server, want %v", q.Get("follow"), tt.follow)
			}
			if got := q.Get("previous") == "true"; got != tt.previous {
				t.Errorf("previous=%q asked of the API server, want %v", q.Get("previous"), tt.previous)
			}
			var out string
			if tt.follow {
				<-ls.written
				select {
				case out = <-done:
					t.Fatalf("a followed run ended by itself: %q", out)
				case <-time.After(300 * time.Millisecond):
				}
				cancel()
			}
			select {
			case out = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("the run did not end")
			}
			if n := strings.Count(out, "\n"); n != 2 {
				t.Errorf("%d lines, want 2:\n%s", n, out)
			}
		})
	}
}

// TestLogsNotesOnStderr: the notes about adjusted flags reach standard error through the verb,
// before anything else happens (here the config is missing), and never standard output.
func TestLogsNotesOnStderr(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--previous", "-f"}, "fleetdeck: --previous reads the logs of finished containers, which cannot be followed: printing them and exiting, as with --no-follow\n"},
		{[]string{"--grep", "x"}, "fleetdeck: --grep is deprecated: use -i/--include"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			streams := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, Getenv: testEnv(t)}
			args := append([]string{"logs", "a", "--config", "testdata/status/none.yaml"}, tt.args...)
			if code := Main(streams, args); code != ExitError {
				t.Errorf("exit %d, want %d", code, ExitError)
			}
			if !strings.HasPrefix(errOut.String(), tt.want) {
				t.Errorf("stderr %q does not start with %q", errOut.String(), tt.want)
			}
			if out.Len() > 0 {
				t.Errorf("stdout %q, want nothing", out.String())
			}
		})
	}
}

func TestLogsHighlightSpans(t *testing.T) {
	on := logColours{on: true}
	tests := []struct {
		text string
		res  []string
		want string
	}{
		{"no match here", []string{"xyz"}, "no match here"},
		{"aaa", []string{"a"}, "[aaa]"}, // adjacent matches are one span
		{"abcdef", []string{"bc", "cd"}, "a[bcd]ef"},
		{"abcdef", []string{"b", "e"}, "a[b]cd[e]f"},
		{"abcdef", []string{"x*"}, "abcdef"}, // empty matches highlight nothing
		{"abcdef", []string{"bcd", "c"}, "a[bcd]ef"},
		{"zürich → genève", []string{"ü", "è"}, "z[ü]rich → gen[è]ve"},
	}
	for _, tt := range tests {
		var res []*regexp.Regexp
		for _, r := range tt.res {
			res = append(res, regexp.MustCompile(r))
		}
		got := string(on.appendHighlighted(nil, tt.text, res))
		got = strings.NewReplacer("\x1b[7m", "[", "\x1b[0m", "]").Replace(got)
		if got != tt.want {
			t.Errorf("highlight %q with %q = %q, want %q", tt.text, tt.res, got, tt.want)
		}
		if off := string(logColours{}.appendHighlighted(nil, tt.text, res)); off != tt.text {
			t.Errorf("without colour %q became %q", tt.text, off)
		}
	}
}
