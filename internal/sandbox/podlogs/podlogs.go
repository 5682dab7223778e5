// Package podlogs writes the sandbox's pod logs: realistic application log
// lines appended, a few per second, to the CRI-format files kwok serves for
// `kubectl logs` (see controlplane.LogTarget).
//
// The content is deterministic for a seed (timestamps are the wall clock).
package podlogs

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Styles of Target.Style.
const (
	// StylePlain writes logfmt-like text lines.
	StylePlain = "plain"
	// StyleJSON writes one JSON object per line.
	StyleJSON = "json"
	// StyleCrash writes a start-up then a panic with a stack trace, over
	// and over, like a container in a crash loop.
	StyleCrash = "crash"
)

// Target is one log file and the kind of application writing it.
type Target struct {
	File  string
	App   string
	Style string // StylePlain, StyleJSON or StyleCrash
	// RatePerSec is the average number of lines per second; 0 means 2.
	RatePerSec float64
}

// MaxFileBytes bounds a log file: past it, the file is truncated and
// writing starts again, so a fleet left running for days does not fill the
// disk. A `logs -f` open across a truncation stops receiving lines.
const MaxFileBytes = 32 << 20

// backfillLines are written, with timestamps in the past minute, to an
// empty file, so the first `kubectl logs` already shows some history.
const backfillLines = 20

// Line formats one CRI log line (with its trailing newline):
// `<RFC3339Nano UTC> stdout F <msg>`.
func Line(ts time.Time, msg string) string {
	return ts.UTC().Format(time.RFC3339Nano) + " stdout F " + msg + "\n"
}

// Run appends lines to every target's file until ctx ends, then returns
// nil. It fails at once if a target is invalid or a file cannot be opened.
func Run(ctx context.Context, targets []Target, seed int64) error {
	files := make([]*os.File, 0, len(targets))
	defer func() {
		for _, f := range files {
			_ = f.Close()
		}
	}()
	for _, t := range targets {
		if err := t.validate(); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(t.File), 0o700); err != nil {
			return fmt.Errorf("podlogs: %s: %w", t.File, err)
		}
		f, err := os.OpenFile(t.File, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("podlogs: %w", err)
		}
		files = append(files, f)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(targets))
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = write(ctx, files[i], t, newGenerator(t, seed))
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (t Target) validate() error {
	if t.File == "" {
		return fmt.Errorf("podlogs: target for app %q has no file", t.App)
	}
	if t.App == "" {
		return fmt.Errorf("podlogs: target %s has no app", t.File)
	}
	switch t.Style {
	case StylePlain, StyleJSON, StyleCrash:
	default:
		return fmt.Errorf("podlogs: target %s: unknown style %q (want %s, %s or %s)", t.File, t.Style, StylePlain, StyleJSON, StyleCrash)
	}
	if t.RatePerSec < 0 {
		return fmt.Errorf("podlogs: target %s: negative rate %v", t.File, t.RatePerSec)
	}
	return nil
}

// write is the loop of one target.
func write(ctx context.Context, f *os.File, t Target, g *generator) error {
	rate := t.RatePerSec
	if rate == 0 {
		rate = 2
	}
	if fi, err := f.Stat(); err == nil && fi.Size() == 0 {
		now := time.Now()
		var sb strings.Builder
		for i := 0; i < backfillLines; i++ {
			ts := now.Add(-time.Minute + time.Duration(i)*time.Minute/backfillLines)
			for _, msg := range g.next(ts) {
				sb.WriteString(Line(ts, msg))
			}
		}
		if _, err := f.WriteString(sb.String()); err != nil {
			return fmt.Errorf("podlogs: write %s: %w", t.File, err)
		}
	}
	mean := time.Duration(float64(time.Second) / rate)
	timer := time.NewTimer(g.interval(mean))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		now := time.Now()
		msgs := g.next(now)
		var sb strings.Builder
		for _, msg := range msgs {
			sb.WriteString(Line(now, msg))
		}
		if fi, err := f.Stat(); err == nil && fi.Size() > MaxFileBytes {
			if err := f.Truncate(0); err != nil {
				return fmt.Errorf("podlogs: truncate %s: %w", t.File, err)
			}
		}
		// One write per burst: an O_APPEND write lands whole, so a reader
		// never sees half a line.
		if _, err := f.WriteString(sb.String()); err != nil {
			return fmt.Errorf("podlogs: write %s: %w", t.File, err)
		}
		// A burst of n lines counts as n toward the rate.
		timer.Reset(time.Duration(len(msgs)) * g.interval(mean))
	}
}

// generator makes the lines of one target from its own random source.
type generator struct {
	t     Target
	rng   *rand.Rand
	seq   int
	crash int // position in the crash cycle
}

func newGenerator(t Target, seed int64) *generator {
	h := fnv.New64a()
	h.Write([]byte(t.App + "\x00" + t.Style + "\x00" + filepath.Base(filepath.Dir(t.File)) + "/" + filepath.Base(t.File)))
	return &generator{t: t, rng: rand.New(rand.NewPCG(uint64(seed), h.Sum64()))}
}

// interval is a jittered wait around mean (±50 %).
func (g *generator) interval(mean time.Duration) time.Duration {
	return time.Duration(float64(mean) * (0.5 + g.rng.Float64()))
}

// next returns the message(s) to write now: one line, or a burst.
func (g *generator) next(ts time.Time) []string {
	g.seq++
	switch g.t.Style {
	case StyleJSON:
		return []string{g.jsonLine(ts)}
	case StyleCrash:
		return g.crashStep()
	default:
		return []string{g.plainLine()}
	}
}

var (
	methods   = []string{"GET", "GET", "GET", "GET", "POST", "POST", "PUT", "DELETE"}
	userAgent = []string{"Go-http-client/1.1", "okhttp/4.12.0", "Mozilla/5.0", "curl/8.5.0"}
)

// event is one request or background message, shared by both styles.
type event struct {
	level, msg, method, path, reqID, peer string
	status, latencyMS, bytes              int
}

func (g *generator) resource() string {
	word, _, _ := strings.Cut(g.t.App, "-")
	return word
}

func (g *generator) event() event {
	r := g.rng
	res := g.resource()
	paths := []string{
		"/api/v1/" + res,
		fmt.Sprintf("/api/v1/%s/%d", res, 1000+r.IntN(9000)),
		fmt.Sprintf("/api/v1/%s/%d/events", res, 1000+r.IntN(9000)),
		"/healthz", "/readyz", "/metrics",
	}
	e := event{
		level:     "info",
		method:    methods[r.IntN(len(methods))],
		path:      paths[r.IntN(len(paths))],
		reqID:     fmt.Sprintf("%08x%08x", r.Uint32(), r.Uint32()),
		peer:      fmt.Sprintf("10.%d.%d.%d", 64+r.IntN(3), r.IntN(256), 1+r.IntN(254)),
		status:    200,
		latencyMS: 2 + r.IntN(40),
		bytes:     120 + r.IntN(4000),
		msg:       "request completed",
	}
	switch p := r.IntN(100); {
	case p < 5:
		e.level = "debug"
		e.msg = fmt.Sprintf("cache %s for key %s:%d", []string{"hit", "miss"}[r.IntN(2)], res, r.IntN(10000))
	case p < 13:
		e.level, e.msg, e.latencyMS = "warn", "slow request", 800+r.IntN(2500)
	case p < 17:
		e.level, e.status, e.latencyMS = "error", []int{500, 502, 503, 504}[r.IntN(4)], 30+r.IntN(5000)
		e.msg = []string{"upstream timeout", "database connection reset by peer", "context deadline exceeded", "circuit breaker open"}[r.IntN(4)]
	case p < 21:
		e.status, e.msg = []int{400, 401, 404, 409, 429}[r.IntN(5)], "request rejected"
	}
	return e
}

func (g *generator) plainLine() string {
	e := g.event()
	if e.level == "debug" {
		return fmt.Sprintf("%-5s %s %s", strings.ToUpper(e.level), g.t.App, e.msg)
	}
	return fmt.Sprintf("%-5s %s %s method=%s path=%s status=%d latency=%dms bytes=%d request_id=%s remote=%s",
		strings.ToUpper(e.level), g.t.App, e.msg, e.method, e.path, e.status, e.latencyMS, e.bytes, e.reqID, e.peer)
}

func (g *generator) jsonLine(ts time.Time) string {
	e := g.event()
	ua := userAgent[g.rng.IntN(len(userAgent))]
	return fmt.Sprintf(`{"level":%q,"ts":%q,"service":%q,"msg":%q,"method":%q,"path":%q,"status":%d,"latency_ms":%d,"bytes":%d,"request_id":%q,"remote_addr":%q,"user_agent":%q}`,
		e.level, ts.UTC().Format(time.RFC3339Nano), g.t.App, e.msg, e.method, e.path, e.status, e.latencyMS, e.bytes, e.reqID, e.peer, ua)
}

// crashStep walks a start-up that fails: a few start-up lines one at a
// time, then the panic and its stack trace in one burst.
func (g *generator) crashStep() []string {
	r := g.rng
	g.crash++
	app := g.t.App
	fn := strings.ReplaceAll(app, "-", "")
	switch g.crash {
	case 1:
		return []string{fmt.Sprintf("INFO  %s starting version=%d.%d.%d pid=1", app, 1+r.IntN(3), r.IntN(20), r.IntN(10))}
	case 2:
		return []string{fmt.Sprintf("INFO  %s loading configuration from /etc/%s/config.yaml", app, app)}
	case 3:
		return []string{fmt.Sprintf("INFO  %s connecting to %s-db:5432", app, g.resource())}
	}
	g.crash = 0
	addr := 0x4a0000 + r.IntN(0x10000)
	return []string{
		"panic: runtime error: invalid memory address or nil pointer dereference",
		fmt.Sprintf("[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x%x]", addr),
		"",
		"goroutine 1 [running]:",
		fmt.Sprintf("main.(*Server).loadSigningKeys(0xc000%04x, {0x0, 0x0})", r.IntN(0x10000)),
		fmt.Sprintf("\t/src/cmd/%s/keys.go:%d +0x%x", fn, 40+r.IntN(80), r.IntN(0x200)),
		"main.(*Server).Start(0xc0001a2000)",
		fmt.Sprintf("\t/src/cmd/%s/server.go:%d +0x%x", fn, 60+r.IntN(100), r.IntN(0x200)),
		"main.main()",
		fmt.Sprintf("\t/src/cmd/%s/main.go:%d +0x%x", fn, 20+r.IntN(40), r.IntN(0x200)),
		"exit status 2",
	}
}
