package logs

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// logServer is an API server that serves only pods/log, the way the kubelet does through the
// API server: timestamps on request, sinceTime (whole seconds) and sinceSeconds, tailLines,
// follow. Tests append lines, drop connections, delete pods and forbid access while streams
// are open.
type logServer struct {
	t   *testing.T
	srv *httptest.Server

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced on every change
	logs      map[string][]logLine
	gone      map[string]bool
	forbidden bool
	dropAfter int // close each followed stream after this many lines (0: never)
	requests  []string
}

type logLine struct {
	ts  time.Time
	msg string
}

func newLogServer(t *testing.T) *logServer {
	s := &logServer{t: t, changed: make(chan struct{}), logs: map[string][]logLine{}, gone: map[string]bool{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *logServer) client() kubernetes.Interface {
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: s.srv.URL})
	if err != nil {
		s.t.Fatal(err)
	}
	return cs
}

func key(ns, pod, container string) string { return ns + "/" + pod + "/" + container }

// add appends lines to a container's log (creating the pod).
func (s *logServer) add(ns, pod, container string, lines ...logLine) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(ns, pod, container)
	s.logs[k] = append(s.logs[k], lines...)
	delete(s.gone, ns+"/"+pod)
	s.notifyLocked()
}

func (s *logServer) deletePod(ns, pod string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gone[ns+"/"+pod] = true
	s.notifyLocked()
}

func (s *logServer) set(f func(s *logServer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
	s.notifyLocked()
}

func (s *logServer) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *logServer) requestLog() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// serve answers GET /api/v1/namespaces/NS/pods/POD/log.
func (s *logServer) serve(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) != 7 || parts[0] != "api" || parts[2] != "namespaces" || parts[4] != "pods" || parts[6] != "log" {
		http.Error(w, "not a pod log path: "+r.URL.Path, http.StatusNotFound)
		return
	}
	ns, pod := parts[3], parts[5]
	q := r.URL.Query()
	container := q.Get("container")
	s.mu.Lock()
	s.requests = append(s.requests, pod+"?"+r.URL.RawQuery)
	forbidden, gone := s.forbidden, s.gone[ns+"/"+pod]
	_, exists := s.logs[key(ns, pod, container)]
	s.mu.Unlock()
	switch {
	case forbidden:
		http.Error(w, `pods "`+pod+`" is forbidden: User "viewer" cannot get resource "pods/log"`, http.StatusForbidden)
		return
	case gone || !exists:
		http.Error(w, `pods "`+pod+`" not found`, http.StatusNotFound)
		return
	}
	var since time.Time
	if v := q.Get("sinceTime"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			http.Error(w, "bad sinceTime", http.StatusBadRequest)
			return
		}
		since = t
	}
	if v := q.Get("sinceSeconds"); v != "" {
		n, _ := strconv.Atoi(v)
		since = time.Now().Add(-time.Duration(n) * time.Second)
	}
	timestamps, follow := q.Get("timestamps") == "true", q.Get("follow") == "true"
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriter(w)
	flush := func() {
		_ = bw.Flush()
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	}
	s.mu.Lock()
	lines := s.logs[key(ns, pod, container)]
	start := 0
	if v := q.Get("tailLines"); v != "" {
		n, _ := strconv.Atoi(v)
		start = max(0, len(lines)-n)
	}
	dropAfter := s.dropAfter
	s.mu.Unlock()
	sent := 0
	next := start
	for {
		s.mu.Lock()
		lines = s.logs[key(ns, pod, container)]
		changed := s.changed
		gone := s.gone[ns+"/"+pod]
		s.mu.Unlock()
		for ; next < len(lines); next++ {
			l := lines[next]
			if !since.IsZero() && l.ts.Before(since) {
				continue
			}
			if timestamps {
				fmt.Fprintf(bw, "%s %s\n", l.ts.UTC().Format(time.RFC3339Nano), l.msg)
			} else {
				fmt.Fprintf(bw, "%s\n", l.msg)
			}
			sent++
			if dropAfter > 0 && sent >= dropAfter && follow {
				flush()
				return // the connection drops in the middle of the log
			}
		}
		flush()
		if !follow || gone {
			return
		}
		select {
		case <-changed:
		case <-r.Context().Done():
			return
		}
	}
}

// collect reads entries until the channel closes or d passes.
func collect(t *testing.T, ch <-chan Entry, d time.Duration) (got []Entry, closed bool) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				return got, true
			}
			got = append(got, e)
		case <-timer.C:
			return got, false
		}
	}
}

// waitFor reads entries until cond holds for what was read, failing after d.
func waitFor(t *testing.T, ch <-chan Entry, got *[]Entry, d time.Duration, what string, cond func([]Entry) bool) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for !cond(*got) {
		select {
		case e, ok := <-ch:
			if !ok {
				t.Fatalf("stream closed before %s; got:\n%s", what, dump(*got))
			}
			*got = append(*got, e)
		case <-timer.C:
			t.Fatalf("no %s within %s; got:\n%s", what, d, dump(*got))
		}
	}
}

func dump(es []Entry) string {
	var b strings.Builder
	for _, e := range es {
		fmt.Fprintf(&b, "  %s %s %q cut=%d problem=%v\n", e.Kind, e.Source, e.Text, e.Cut, e.Problem)
	}
	return b.String()
}

func texts(es []Entry, src Source) []string {
	var out []string
	for _, e := range es {
		if e.Kind == KindLine && e.Source == src {
			out = append(out, e.Text)
		}
	}
	return out
}

func count(es []Entry, kind Kind, substr string) int {
	n := 0
	for _, e := range es {
		if e.Kind == kind && strings.Contains(e.Text, substr) {
			n++
		}
	}
	return n
}

// seq makes n lines "prefix i" starting at t0, step apart.
func seq(prefix string, t0 time.Time, step time.Duration, from, n int) []logLine {
	out := make([]logLine, n)
	for i := range out {
		out[i] = logLine{ts: t0.Add(time.Duration(from+i) * step), msg: fmt.Sprintf("%s %d", prefix, from+i)}
	}
	return out
}

func msgs(ls []logLine) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.msg
	}
	return out
}
