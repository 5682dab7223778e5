package podlogs

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var criLine = regexp.MustCompile(`^(\S+) stdout F (.*)$`)

func TestLine(t *testing.T) {
	ts := time.Date(2026, 11, 25, 6, 40, 1, 123456789, time.FixedZone("CET", 3600))
	got := Line(ts, `{"level":"info"}`)
	want := "2026-11-25T05:40:01.123456789Z stdout F {\"level\":\"info\"}\n"
	if got != want {
		t.Errorf("Line = %q, want %q", got, want)
	}
}

func sample(style string, seed int64, n int) []string {
	g := newGenerator(Target{File: "/x/auth/auth-service.log", App: "auth-service", Style: style}, seed)
	ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, g.next(ts)...)
	}
	return out
}

func TestDeterministicForSeed(t *testing.T) {
	for _, style := range []string{StylePlain, StyleJSON, StyleCrash} {
		t.Run(style, func(t *testing.T) {
			a, b := sample(style, 7, 40), sample(style, 7, 40)
			if strings.Join(a, "\n") != strings.Join(b, "\n") {
				t.Error("same seed gave different lines")
			}
			if c := sample(style, 8, 40); strings.Join(a, "\n") == strings.Join(c, "\n") {
				t.Error("different seeds gave the same lines")
			}
		})
	}
}

func TestStyles(t *testing.T) {
	t.Run("json", func(t *testing.T) {
		levels := map[string]int{}
		for _, l := range sample(StyleJSON, 1, 300) {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("not JSON: %q: %v", l, err)
			}
			for _, k := range []string{"level", "msg", "path", "status", "latency_ms", "request_id", "service"} {
				if _, ok := m[k]; !ok {
					t.Errorf("line lacks %q: %s", k, l)
				}
			}
			levels[m["level"].(string)]++
		}
		for _, lv := range []string{"info", "warn", "error", "debug"} {
			if levels[lv] == 0 {
				t.Errorf("no %s lines in 300: %v", lv, levels)
			}
		}
		if levels["info"] < levels["error"]*5 {
			t.Errorf("errors should be rare: %v", levels)
		}
	})
	t.Run("plain", func(t *testing.T) {
		re := regexp.MustCompile(`^(INFO|WARN|ERROR|DEBUG) +auth-service `)
		withReq := 0
		for _, l := range sample(StylePlain, 1, 100) {
			if !re.MatchString(l) {
				t.Errorf("unexpected plain line %q", l)
			}
			if strings.Contains(l, "request_id=") && strings.Contains(l, "latency=") && strings.Contains(l, "path=/") {
				withReq++
			}
		}
		if withReq < 80 {
			t.Errorf("only %d of 100 lines are request lines", withReq)
		}
	})
	t.Run("crash", func(t *testing.T) {
		lines := sample(StyleCrash, 1, 8)
		joined := strings.Join(lines, "\n")
		for _, want := range []string{"starting version=", "panic: runtime error", "goroutine 1 [running]:", "exit status 2"} {
			if strings.Count(joined, want) != 2 {
				t.Errorf("two crash cycles should contain %q twice:\n%s", want, joined)
			}
		}
	})
}

func TestRunAppendsUntilCancelled(t *testing.T) {
	dir := t.TempDir()
	targets := []Target{
		{File: filepath.Join(dir, "a", "json.log"), App: "payments-api", Style: StyleJSON, RatePerSec: 20},
		{File: filepath.Join(dir, "b", "crash.log"), App: "auth-service", Style: StyleCrash, RatePerSec: 20},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := Run(ctx, targets, 3); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Run returned %s after its context ended", d)
	}
	for _, tg := range targets {
		f, err := os.Open(tg.File)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		n, recent := 0, 0
		for sc.Scan() {
			m := criLine.FindStringSubmatch(sc.Text())
			if m == nil {
				t.Fatalf("%s: not a CRI line: %q", tg.File, sc.Text())
			}
			ts, err := time.Parse(time.RFC3339Nano, m[1])
			if err != nil {
				t.Fatalf("%s: bad timestamp in %q: %v", tg.File, sc.Text(), err)
			}
			if !ts.Before(start) {
				recent++
			}
			n++
		}
		f.Close()
		// Backfill (20 steps) plus ~1.5 s at 20/s.
		if n < backfillLines+5 || recent < 5 {
			t.Errorf("%s: %d lines, %d written while running", tg.File, n, recent)
		}
	}
}

func TestRunRejectsBadTargets(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		t    Target
		want string
	}{
		{"no file", Target{App: "a", Style: StylePlain}, "no file"},
		{"no app", Target{File: filepath.Join(dir, "x.log"), Style: StylePlain}, "no app"},
		{"bad style", Target{File: filepath.Join(dir, "x.log"), App: "a", Style: "xml"}, `unknown style "xml"`},
		{"negative rate", Target{File: filepath.Join(dir, "x.log"), App: "a", Style: StyleJSON, RatePerSec: -1}, "negative rate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Run(context.Background(), []Target{tt.t}, 1)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
