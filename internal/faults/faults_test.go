package faults

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// httptest servers' idle client connections.
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	)
}

// echoServer answers every line with the same line.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
	})
	return ln.Addr().String()
}

// roundTrip sends a line through conn and times the echo.
func roundTrip(t *testing.T, conn net.Conn, r *bufio.Reader, line string) time.Duration {
	t.Helper()
	start := time.Now()
	if _, err := fmt.Fprintln(conn, line); err != nil {
		t.Fatalf("write: %v", err)
	}
	got, err := r.ReadString('\n')
	if err != nil || strings.TrimSpace(got) != line {
		t.Fatalf("echo of %q = %q, %v", line, got, err)
	}
	return time.Since(start)
}

func TestProxyDelaysAnswersRefusesAndCuts(t *testing.T) {
	p, err := NewProxy(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	conn, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	if d := roundTrip(t, conn, r, "fast"); d > 150*time.Millisecond {
		t.Errorf("round trip without delay took %s", d)
	}

	p.SetDelay(300 * time.Millisecond)
	if d := roundTrip(t, conn, r, "slow"); d < 300*time.Millisecond || d > 2*time.Second {
		t.Errorf("round trip with a 300ms delay took %s", d)
	}
	// Latency, not throughput: several answers in flight arrive together, one delay late.
	start := time.Now()
	for i := range 5 {
		fmt.Fprintf(conn, "line %d\n", i)
	}
	for i := range 5 {
		if got, err := r.ReadString('\n'); err != nil || strings.TrimSpace(got) != fmt.Sprintf("line %d", i) {
			t.Fatalf("pipelined echo %d = %q, %v", i, got, err)
		}
	}
	if d := time.Since(start); d < 300*time.Millisecond || d > 1200*time.Millisecond {
		t.Errorf("5 pipelined answers with a 300ms delay took %s, want about 300ms", d)
	}
	p.SetDelay(0)

	if n := p.Cut(); n != 1 {
		t.Errorf("Cut closed %d connections, want 1", n)
	}
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := r.ReadString('\n'); err == nil {
		t.Error("a cut connection still reads")
	}

	p.SetRefuse(true)
	c2, err := net.Dial("tcp", p.Addr())
	if err == nil {
		_ = c2.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, err = c2.Read(make([]byte, 1))
		c2.Close()
	}
	if err == nil {
		t.Error("a refusing proxy let a connection through")
	}
	p.SetRefuse(false)
	c3, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	roundTrip(t, c3, bufio.NewReader(c3), "back")
	if p.Total() != 2 {
		t.Errorf("Total = %d, want 2 forwarded connections", p.Total())
	}
}

// watchServer streams what the test sends on events as a watch answer, flushing each write.
func watchServer(t *testing.T, events <-chan string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept") != "application/json" {
			http.Error(w, "want JSON, got "+r.Header.Get("Accept"), http.StatusNotAcceptable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		for {
			select {
			case e := <-events:
				_, _ = io.WriteString(w, e)
				w.(http.Flusher).Flush()
			case <-r.Context().Done():
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestWatchExpirerEndsWatchesBetweenEvents(t *testing.T) {
	added := `{"type":"ADDED","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":"a"}}}` + "\n"
	for _, tc := range []struct {
		name   string
		before []string // written before Expire
		after  []string // written after Expire
		want   []string // events read, the injected one last
	}{
		{"idle watch", []string{added}, nil, []string{"ADDED", "ERROR"}},
		{"before any event", nil, nil, []string{"ERROR"}},
		{"in the middle of an event", []string{added, added[:20]}, []string{added[20:]}, []string{"ADDED", "ADDED", "ERROR"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			events := make(chan string, 10)
			srv := watchServer(t, events)
			exp := NewWatchExpirer(nil)
			client := &http.Client{Transport: exp.Wrap(http.DefaultTransport.(*http.Transport).Clone())}
			defer client.CloseIdleConnections()
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/pods?watch=true", nil)
			req.Header.Set("Accept", "application/vnd.kubernetes.protobuf")
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b, _ := io.ReadAll(resp.Body)
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
			for _, e := range tc.before {
				events <- e
			}
			time.Sleep(100 * time.Millisecond) // let the pump hand the data over
			if n := exp.Expire(); n != 1 {
				t.Errorf("Expire ended %d watches, want 1", n)
			}
			for _, e := range tc.after {
				events <- e
			}
			dec := json.NewDecoder(resp.Body)
			var got []string
			var last struct {
				Type   string
				Object struct {
					Code   int
					Reason string
				}
			}
			for {
				if err := dec.Decode(&last); err != nil {
					if err != io.EOF {
						t.Fatalf("decode after %v: %v", got, err)
					}
					break
				}
				got = append(got, last.Type)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("events %v, want %v", got, tc.want)
			}
			if last.Object.Code != http.StatusGone || last.Object.Reason != "Expired" {
				t.Errorf("last event %+v, want a 410 Expired status", last)
			}
			if exp.Count(ListOf("pods")) != 0 || exp.Count(func(Request) bool { return true }) != 1 {
				t.Error("a plain watch counted as a list, or the request was not recorded")
			}
		})
	}
}

func TestListOf(t *testing.T) {
	for _, tc := range []struct {
		method, path, query string
		want                bool
	}{
		{"GET", "/api/v1/pods", "limit=500", true},
		{"GET", "/api/v1/namespaces/shop/pods", "", true},
		{"GET", "/api/v1/pods", "watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan", true},
		{"GET", "/api/v1/pods", "watch=true&resourceVersion=42", false},
		{"GET", "/apis/apps/v1/deployments", "", false},
		{"POST", "/api/v1/pods", "", false},
	} {
		u := tc.path + "?" + tc.query
		req := httptest.NewRequest(tc.method, u, nil)
		got := ListOf("pods")(Request{Method: req.Method, Path: req.URL.Path, Query: req.URL.Query()})
		if got != tc.want {
			t.Errorf("ListOf(pods)(%s %s) = %v, want %v", tc.method, u, got, tc.want)
		}
	}
}

func TestFlat(t *testing.T) {
	base := Usage{Goroutines: 10, Heap: 10 << 20, RSS: 40 << 20}
	tol := Tolerance{Goroutines: 2, Heap: 1 << 20, RSS: 8 << 20}
	for _, tc := range []struct {
		name  string
		after Usage
		want  string // substring of the error; "" for flat
	}{
		{"same", base, ""},
		{"within", Usage{Goroutines: 12, Heap: 11 << 20, RSS: 48 << 20}, ""},
		{"less", Usage{Goroutines: 3, Heap: 1, RSS: 1}, ""},
		{"goroutines", Usage{Goroutines: 13, Heap: 10 << 20, RSS: 40 << 20}, "goroutines 10 → 13"},
		{"heap and RSS", Usage{Goroutines: 10, Heap: 12 << 20, RSS: 50 << 20}, "heap 10.0 → 12.0 MiB (tolerance +1.0); RSS 40.0 → 50.0 MiB"},
	} {
		err := Flat(base, tc.after, tol)
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: Flat = %v, want %q", tc.name, err, tc.want)
		}
	}
	if u := Measure(-1, 0); u.Goroutines < 1 || u.Heap == 0 || u.RSS == 0 {
		t.Errorf("Measure = %+v, want every field set on Linux", u)
	}
}
