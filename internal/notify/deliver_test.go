package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// receiver is a webhook that answers from a script, then 200.
type receiver struct {
	mu      sync.Mutex
	script  []func(w http.ResponseWriter)
	bodies  [][]byte
	headers []http.Header
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.bodies = append(r.bodies, body)
	r.headers = append(r.headers, req.Header.Clone())
	var answer func(w http.ResponseWriter)
	if len(r.script) > 0 {
		answer, r.script = r.script[0], r.script[1:]
	}
	r.mu.Unlock()
	if answer != nil {
		answer(w)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (r *receiver) requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.bodies)
}

func status(code int, header ...string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(code)
	}
}

// sleeps records the waits between attempts instead of waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func testMessage(app string) Message {
	return Message{SchemaVersion: SchemaVersion, Type: TypeChange, App: app, Cluster: "prod-eu", Summary: app + " on prod-eu: drift appeared"}
}

func TestDelivery(t *testing.T) {
	tests := []struct {
		name       string
		script     []func(w http.ResponseWriter)
		requests   int
		delivered  int64
		dropped    int64
		waits      []time.Duration // exact waits (Retry-After); nil: checked by count only
		waitCount  int
		logHas     string
		attempts   int
		slowAnswer time.Duration
	}{
		{name: "200 at once", requests: 1, delivered: 1},
		{name: "500 then 200 is delivered once", script: []func(http.ResponseWriter){status(500)},
			requests: 2, delivered: 1, waitCount: 1, logHas: "HTTP 500"},
		{name: "429 waits for Retry-After in seconds", script: []func(http.ResponseWriter){status(429, "Retry-After", "7")},
			requests: 2, delivered: 1, waits: []time.Duration{7 * time.Second}},
		{name: "Retry-After is capped", script: []func(http.ResponseWriter){status(429, "Retry-After", "86400")},
			requests: 2, delivered: 1, waits: []time.Duration{DefaultMaxRetryAfter}},
		{name: "dropped after the last attempt", attempts: 3,
			script:   []func(http.ResponseWriter){status(503), status(502), status(500), status(500)},
			requests: 3, dropped: 1, waitCount: 2, logHas: "notification dropped: gave up"},
		{name: "another 4xx is not retried", script: []func(http.ResponseWriter){status(404)},
			requests: 1, dropped: 1, logHas: "the webhook refused it"},
		{name: "a timeout is retried", script: []func(http.ResponseWriter){func(w http.ResponseWriter) { time.Sleep(300 * time.Millisecond) }},
			requests: 2, delivered: 1, waitCount: 1, logHas: "no answer within", slowAnswer: 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &receiver{script: tt.script}
			srv := httptest.NewServer(rec)
			defer srv.Close()
			secretURL := srv.URL + "/services/T000/B000/very-secret-token"
			var logs bytes.Buffer
			sl := &sleeps{}
			o := DeliveryOptions{Attempts: tt.attempts, Timeout: tt.slowAnswer, sleep: sl.sleep}
			target, err := NewTarget(secretURL, "", FormatJSON, nil)
			if err != nil {
				t.Fatal(err)
			}
			d := NewDispatcher([]Target{target}, o, slog.New(slog.NewJSONHandler(&logs, nil)))
			d.Start(context.Background())
			d.Send(testMessage("catalog-api"))
			delivered, dropped := d.Close(0)
			if delivered != tt.delivered || dropped != tt.dropped {
				t.Errorf("delivered %d dropped %d, want %d and %d", delivered, dropped, tt.delivered, tt.dropped)
			}
			if got := rec.requests(); got != tt.requests {
				t.Errorf("%d requests, want %d", got, tt.requests)
			}
			if tt.waits != nil && !equalDurations(sl.d, tt.waits) {
				t.Errorf("waits %v, want %v", sl.d, tt.waits)
			}
			if tt.waits == nil && len(sl.d) != tt.waitCount {
				t.Errorf("%d waits (%v), want %d", len(sl.d), sl.d, tt.waitCount)
			}
			if !strings.Contains(logs.String(), tt.logHas) {
				t.Errorf("log lacks %q:\n%s", tt.logHas, logs.String())
			}
			if strings.Contains(logs.String(), "very-secret-token") || strings.Contains(logs.String(), "/services/") {
				t.Errorf("the webhook's secret is in the log:\n%s", logs.String())
			}
			for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
				var v map[string]any
				if line != "" && json.Unmarshal([]byte(line), &v) != nil {
					t.Errorf("log line is not JSON: %s", line)
				}
			}
		})
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestBackoffGrowsWithJitter(t *testing.T) {
	rec := &receiver{script: []func(http.ResponseWriter){status(500), status(500), status(500), status(500)}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	sl := &sleeps{}
	target, _ := NewTarget(srv.URL, "", "", nil)
	d := NewDispatcher([]Target{target}, DeliveryOptions{Backoff: time.Second, MaxBackoff: 4 * time.Second, sleep: sl.sleep}, nil)
	d.Start(context.Background())
	d.Send(testMessage("a"))
	d.Close(0)
	base := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second}
	if len(sl.d) != len(base) {
		t.Fatalf("waits %v, want %d", sl.d, len(base))
	}
	for i, w := range sl.d {
		if lo, hi := base[i]*8/10, base[i]*12/10; w < lo || w > hi {
			t.Errorf("wait %d = %s, want within ±20%% of %s", i, w, base[i])
		}
	}
}

// TestSendNeverBlocks: a webhook that hangs fills its own queue; Send returns at once, the
// overflow is dropped with a log line, and another target still gets every message in order.
func TestSendNeverBlocks(t *testing.T) {
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang }))
	defer slow.Close()
	defer close(hang)
	fast := &receiver{}
	fastSrv := httptest.NewServer(fast)
	defer fastSrv.Close()
	slowT, _ := NewTarget(slow.URL+"/hook", "", FormatJSON, nil)
	fastT, _ := NewTarget(fastSrv.URL+"/hook", "", FormatJSON, nil)
	var logs bytes.Buffer
	var mu sync.Mutex
	d := NewDispatcher([]Target{slowT, fastT}, DeliveryOptions{Queue: 2, Timeout: time.Minute},
		slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil)))
	d.Start(context.Background())
	for i := range 6 {
		begin := time.Now()
		d.Send(testMessage(string(rune('a' + i))))
		if took := time.Since(begin); took > 50*time.Millisecond {
			t.Errorf("send %d took %s with a hanging webhook", i, took)
		}
		// The fast webhook takes each message before the next is sent.
		deadline := time.Now().Add(5 * time.Second)
		for fast.requests() < i+1 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
	}
	_, dropped := d.Close(200 * time.Millisecond)
	if fast.requests() != 6 {
		t.Errorf("the fast webhook got %d of 6 messages", fast.requests())
	}
	for i, b := range fast.bodies {
		var m Message
		if err := json.Unmarshal(b, &m); err != nil || m.App != string(rune('a'+i)) {
			t.Errorf("message %d: %s (%v), want app %c", i, b, err, 'a'+i)
		}
	}
	// The slow target: one in flight, two queued, three dropped at once; then the three it
	// held are abandoned at Close.
	if dropped != 6 {
		t.Errorf("dropped %d, want 6 (3 on a full queue, 3 abandoned at close)", dropped)
	}
	mu.Lock()
	defer mu.Unlock()
	if n := strings.Count(logs.String(), "queue full"); n != 3 {
		t.Errorf("%d 'queue full' log lines, want 3:\n%s", n, logs.String())
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestSlackFormatIsPosted(t *testing.T) {
	rec := &receiver{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	target, _ := NewTarget(srv.URL, "", FormatSlack, nil)
	d := NewDispatcher([]Target{target}, DeliveryOptions{}, nil)
	d.Start(context.Background())
	d.Send(testMessage("catalog-api"))
	d.Close(0)
	if len(rec.bodies) != 1 {
		t.Fatalf("%d requests", len(rec.bodies))
	}
	var p SlackPayload
	if err := json.Unmarshal(rec.bodies[0], &p); err != nil || p.Text == "" || len(p.Blocks) == 0 {
		t.Errorf("not a Slack payload: %s (%v)", rec.bodies[0], err)
	}
	if ct := rec.headers[0].Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              0,
		"3":                             3 * time.Second,
		"-1":                            0,
		"soon":                          0,
		"Wed, 25 Nov 2026 12:00:10 GMT": 10 * time.Second,
		"Wed, 25 Nov 2026 11:00:00 GMT": 0,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", in, got, want)
		}
	}
}
