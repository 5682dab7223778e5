package logs

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// Idle keep-alive connections of the test servers' clients.
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	)
}

// fast backs off quickly so that reconnects happen within a test.
func fast(o Options) Options {
	o.BackoffInitial, o.BackoffMax = 10*time.Millisecond, 50*time.Millisecond
	return o
}

// updates sends the given sets, one after the other, and leaves the channel open until ctx ends
// (the way a following verb does); closeAfter closes it after the last set instead.
func updatesOf(ctx context.Context, closeAfter bool, sets ...Update) <-chan Update {
	ch := make(chan Update)
	go func() {
		if closeAfter {
			defer close(ch)
		}
		for _, u := range sets {
			select {
			case ch <- u:
			case <-ctx.Done():
				return
			}
		}
		if !closeAfter {
			<-ctx.Done()
			close(ch)
		}
	}()
	return ch
}

var t0 = time.Now().Add(-time.Hour).Truncate(time.Second)

func TestStreamReadsEveryClusterOnce(t *testing.T) {
	eu, us := newLogServer(t), newLogServer(t)
	eu.add("shop", "api-1", "api", seq("eu api-1", t0, time.Second, 0, 5)...)
	eu.add("shop", "api-2", "api", seq("eu api-2", t0, time.Second, 0, 3)...)
	eu.add("shop", "api-2", "sidecar", seq("eu sidecar", t0, time.Second, 0, 2)...)
	us.add("shop", "api-1", "api", seq("us api-1", t0, time.Second, 0, 4)...)
	srcs := []Source{
		{"eu", "shop", "api-1", "api"}, {"eu", "shop", "api-2", "api"}, {"eu", "shop", "api-2", "sidecar"},
		{"us", "shop", "api-1", "api"},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ch := Stream(ctx, map[string]kubernetes.Interface{"eu": eu.client(), "us": us.client()},
		updatesOf(ctx, true, Update{Sources: srcs}), Options{})
	got, closed := collect(t, ch, 5*time.Second)
	if !closed {
		t.Fatalf("without Follow the stream must close after reading every log; got:\n%s", dump(got))
	}
	want := map[Source][]string{
		srcs[0]: msgs(seq("eu api-1", t0, time.Second, 0, 5)),
		srcs[1]: msgs(seq("eu api-2", t0, time.Second, 0, 3)),
		srcs[2]: msgs(seq("eu sidecar", t0, time.Second, 0, 2)),
		srcs[3]: msgs(seq("us api-1", t0, time.Second, 0, 4)),
	}
	for src, w := range want {
		if g := texts(got, src); !slices.Equal(g, w) {
			t.Errorf("%s: lines %q, want %q", src, g, w)
		}
	}
	for _, src := range srcs {
		if n := countFor(got, KindStart, src); n != 1 {
			t.Errorf("%s: %d starts, want 1", src, n)
		}
		if n := countFor(got, KindEnd, src); n != 1 {
			t.Errorf("%s: %d ends, want 1", src, n)
		}
	}
	for _, e := range got {
		if e.Kind == KindLine && e.Time.IsZero() {
			t.Errorf("line without its timestamp: %+v", e)
		}
	}
}

func countFor(es []Entry, kind Kind, src Source) int {
	n := 0
	for _, e := range es {
		if e.Kind == kind && e.Source == src {
			n++
		}
	}
	return n
}

func TestStreamTailAndSince(t *testing.T) {
	srv := newLogServer(t)
	now := time.Now().Truncate(time.Second)
	srv.add("ns", "p", "c", seq("old", now.Add(-time.Hour), time.Second, 0, 3)...)
	srv.add("ns", "p", "c", seq("new", now.Add(-5*time.Second), time.Second, 0, 3)...)
	src := Source{"a", "ns", "p", "c"}
	tests := []struct {
		name string
		opts Options
		want []string
	}{
		{"all", Options{}, []string{"old 0", "old 1", "old 2", "new 0", "new 1", "new 2"}},
		{"tail 2", Options{Tail: 2, TailSet: true}, []string{"new 1", "new 2"}},
		{"tail 0 set", Options{Tail: 0, TailSet: true}, nil},
		{"since 1m", Options{Since: time.Minute}, []string{"new 0", "new 1", "new 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			ch := Stream(ctx, map[string]kubernetes.Interface{"a": srv.client()}, updatesOf(ctx, true, Update{Sources: []Source{src}}), tt.opts)
			got, _ := collect(t, ch, 3*time.Second)
			if g := texts(got, src); !slices.Equal(g, tt.want) {
				t.Errorf("lines %q, want %q", g, tt.want)
			}
		})
	}
}

// TestFollowResumesAtTheSeam drops every followed connection after a few lines: the follower
// opens the stream again from the last second it saw, and the lines arrive once each, in order,
// although many share a second and some share a timestamp.
func TestFollowResumesAtTheSeam(t *testing.T) {
	srv := newLogServer(t)
	srv.set(func(s *logServer) { s.dropAfter = 7 })
	var lines []logLine
	for i := range 40 {
		// Four lines a second, in pairs with the same instant and text. (Each connection gets
		// seven lines; a reconnect repeats at most the four of the last second.)
		ts := t0.Add(time.Duration(i/2) * 500 * time.Millisecond)
		lines = append(lines, logLine{ts: ts, msg: "tick " + string(rune('a'+i/2%26))})
	}
	srv.add("ns", "p", "c", lines...)
	src := Source{"a", "ns", "p", "c"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := Stream(ctx, map[string]kubernetes.Interface{"a": srv.client()}, updatesOf(ctx, false, Update{Sources: []Source{src}}), fast(Options{Follow: true}))
	var got []Entry
	waitFor(t, ch, &got, 10*time.Second, "the 40 lines", func(es []Entry) bool { return len(texts(es, src)) >= 40 })
	// Lines written while following arrive too, after more drops.
	more := seq("later", t0.Add(time.Minute), 300*time.Millisecond, 0, 20)
	srv.add("ns", "p", "c", more...)
	waitFor(t, ch, &got, 10*time.Second, "the later lines", func(es []Entry) bool { return len(texts(es, src)) >= 60 })
	// Give a duplicate the chance to show.
	extra, _ := collect(t, ch, 300*time.Millisecond)
	got = append(got, extra...)
	want := append(msgs(lines), msgs(more)...)
	if g := texts(got, src); !slices.Equal(g, want) {
		t.Errorf("lines after resuming:\n got %q\nwant %q", g, want)
	}
	if reqs := srv.requestLog(); len(reqs) < 8 || !strings.Contains(reqs[1], "sinceTime=") {
		t.Errorf("want reconnects from sinceTime, requests: %q", reqs)
	}
	if n := countFor(got, KindStart, src); n != 1 {
		t.Errorf("%d starts for one container, want 1", n)
	}
	cancel()
	if _, closed := collect(t, ch, 3*time.Second); !closed {
		t.Fatal("stream not closed after ctx ended")
	}
}

// TestForbiddenClusterReportedOnce: a cluster that forbids pods/log gives one notice however
// many containers it has, its followers end, and the other cluster streams meanwhile.
func TestForbiddenClusterReportedOnce(t *testing.T) {
	ok, denied := newLogServer(t), newLogServer(t)
	denied.set(func(s *logServer) { s.forbidden = true })
	ok.add("ns", "p", "c", seq("fine", t0, time.Second, 0, 3)...)
	var srcs []Source
	for _, p := range []string{"d1", "d2", "d3"} {
		denied.add("ns", p, "c", seq("secret", t0, time.Second, 0, 1)...)
		srcs = append(srcs, Source{"denied", "ns", p, "c"})
	}
	okSrc := Source{"ok", "ns", "p", "c"}
	srcs = append(srcs, okSrc)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := Stream(ctx, map[string]kubernetes.Interface{"ok": ok.client(), "denied": denied.client()},
		updatesOf(ctx, false, Update{Sources: srcs}), fast(Options{Follow: true}))
	var got []Entry
	waitFor(t, ch, &got, 5*time.Second, "lines of the allowed cluster and the ends of the denied one", func(es []Entry) bool {
		return len(texts(es, okSrc)) == 3 && count(es, KindEnd, "forbidden") == 3
	})
	extra, _ := collect(t, ch, 200*time.Millisecond)
	got = append(got, extra...)
	var notices []Entry
	for _, e := range got {
		if e.Kind == KindNotice {
			notices = append(notices, e)
		}
	}
	if len(notices) != 1 || !notices[0].Problem || notices[0].Source.Cluster != "denied" ||
		!strings.Contains(notices[0].Text, "may not read pod logs") {
		t.Errorf("want one problem notice for cluster denied, got:\n%s", dump(notices))
	}
	if n := len(denied.requestLog()); n != 3 {
		t.Errorf("forbidden containers were asked %d times, want once each (3)", n)
	}
	// Still following the allowed cluster.
	ok.add("ns", "p", "c", logLine{ts: t0.Add(time.Hour), msg: "still here"})
	waitFor(t, ch, &got, 5*time.Second, "a line written later", func(es []Entry) bool { return count(es, KindLine, "still here") == 1 })
}

// TestUnreachableClusterDoesNotBlock: a cluster whose API server is gone is reported once and
// retried with backoff; the other cluster's lines flow; when it comes back that is said too.
func TestUnreachableClusterDoesNotBlock(t *testing.T) {
	ok := newLogServer(t)
	ok.add("ns", "p", "c", seq("fine", t0, time.Second, 0, 2)...)
	down := newLogServer(t)
	down.add("ns", "q", "c", seq("late", t0, time.Second, 0, 2)...)
	// A client for a server that is not there yet: the listener is closed now and the
	// server started again on another address is out of reach; use a dead address instead.
	dead, err := kubernetes.NewForConfig(&rest.Config{Host: "http://127.0.0.1:1", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	okSrc, downSrc := Source{"ok", "ns", "p", "c"}, Source{"down", "ns", "q", "c"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := Stream(ctx, map[string]kubernetes.Interface{"ok": ok.client(), "down": dead},
		updatesOf(ctx, false, Update{Sources: []Source{okSrc, downSrc}}), fast(Options{Follow: true}))
	var got []Entry
	waitFor(t, ch, &got, 5*time.Second, "the reachable cluster's lines and one notice", func(es []Entry) bool {
		return len(texts(es, okSrc)) == 2 && count(es, KindNotice, "cluster down: cannot read logs") == 1
	})
	extra, _ := collect(t, ch, 300*time.Millisecond) // several retries happen meanwhile
	got = append(got, extra...)
	if n := count(got, KindNotice, "cluster down"); n != 1 {
		t.Errorf("%d notices for the unreachable cluster, want 1:\n%s", n, dump(got))
	}
}

func TestUnreachableWithoutFollowGivesUp(t *testing.T) {
	dead, err := kubernetes.NewForConfig(&rest.Config{Host: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	src := Source{"down", "ns", "q", "c"}
	ch := Stream(ctx, map[string]kubernetes.Interface{"down": dead}, updatesOf(ctx, true, Update{Sources: []Source{src}}), fast(Options{}))
	got, closed := collect(t, ch, 5*time.Second)
	if !closed || count(got, KindEnd, "given up") != 1 || count(got, KindNotice, "cannot read logs") != 1 {
		t.Errorf("want one notice and an end after %d attempts, closed=%v:\n%s", onceAttempts, closed, dump(got))
	}
}

// TestTargetSetChanges: a pod added while following is picked up with its history, a pod
// removed from the set is stopped, a pod deleted on the server ends as gone.
func TestTargetSetChanges(t *testing.T) {
	srv := newLogServer(t)
	srv.add("ns", "a", "c", seq("a", t0, time.Second, 0, 2)...)
	srv.add("ns", "b", "c", seq("b", t0, time.Second, 0, 2)...)
	srv.add("ns", "gone", "c", seq("g", t0, time.Second, 0, 1)...)
	a, b, gone := Source{"x", "ns", "a", "c"}, Source{"x", "ns", "b", "c"}, Source{"x", "ns", "gone", "c"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	updates := make(chan Update)
	ch := Stream(ctx, map[string]kubernetes.Interface{"x": srv.client()}, updates, fast(Options{Follow: true}))
	send := func(u Update) {
		select {
		case updates <- u:
		case <-time.After(5 * time.Second):
			t.Error("update not taken")
		}
	}
	go send(Update{Sources: []Source{a, gone}})
	var got []Entry
	waitFor(t, ch, &got, 5*time.Second, "a's and gone's lines", func(es []Entry) bool {
		return len(texts(es, a)) == 2 && len(texts(es, gone)) == 1
	})
	srv.deletePod("ns", "gone")
	waitFor(t, ch, &got, 5*time.Second, "the deleted pod's end", func(es []Entry) bool { return countFor(es, KindEnd, gone) == 1 })
	if e := lastOf(got, KindEnd, gone); e.Text != "pod gone" {
		t.Errorf("deleted pod ended with %q, want \"pod gone\"", e.Text)
	}
	go send(Update{Sources: []Source{b}, Notices: []Entry{{Kind: KindNotice, Text: "set \x1b]0;x\x07changed"}}})
	waitFor(t, ch, &got, 5*time.Second, "b's lines and a's end", func(es []Entry) bool {
		return len(texts(es, b)) == 2 && countFor(es, KindEnd, a) == 1
	})
	if e := lastOf(got, KindEnd, a); !strings.HasPrefix(e.Text, "stopped") {
		t.Errorf("a ended with %q, want stopped", e.Text)
	}
	if count(got, KindNotice, "set changed") != 1 {
		t.Errorf("update notice not delivered clean:\n%s", dump(got))
	}
	// b keeps following.
	srv.add("ns", "b", "c", logLine{ts: t0.Add(time.Hour), msg: "b later"})
	waitFor(t, ch, &got, 5*time.Second, "b's later line", func(es []Entry) bool { return count(es, KindLine, "b later") == 1 })
	if n := len(texts(got, a)); n != 2 {
		t.Errorf("a delivered %d lines, want 2", n)
	}
}

func lastOf(es []Entry, kind Kind, src Source) Entry {
	var out Entry
	for _, e := range es {
		if e.Kind == kind && e.Source == src {
			out = e
		}
	}
	return out
}

func TestMaxStreamsAndMissingClient(t *testing.T) {
	srv := newLogServer(t)
	var srcs []Source
	for _, p := range []string{"p1", "p2", "p3"} {
		srv.add("ns", p, "c", seq(p, t0, time.Second, 0, 1)...)
		srcs = append(srcs, Source{"x", "ns", p, "c"})
	}
	srcs = append(srcs, Source{"nowhere", "ns", "p", "c"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := Stream(ctx, map[string]kubernetes.Interface{"x": srv.client()}, updatesOf(ctx, false, Update{Sources: srcs}), fast(Options{Follow: true, MaxStreams: 2}))
	var got []Entry
	waitFor(t, ch, &got, 5*time.Second, "two followed containers and the notices", func(es []Entry) bool {
		return count(es, KindLine, "") == 2 && count(es, KindNotice, "not followed") == 1 && count(es, KindNotice, "no client") == 1
	})
	if srcs := texts(got, Source{"x", "ns", "p3", "c"}); len(srcs) != 0 {
		t.Errorf("third container followed past the limit: %q", srcs)
	}
}

// TestStreamHostileLines serves every hostile line and a 1 MiB line through a real client and
// checks what comes out.
func TestStreamHostileLines(t *testing.T) {
	srv := newLogServer(t)
	var lines []logLine
	i := 0
	for _, l := range hostile {
		lines = append(lines, logLine{ts: t0.Add(time.Duration(i) * time.Millisecond), msg: l})
		i++
	}
	huge := "\x1b]52;c;" + strings.Repeat("A", 1<<20) + "\x07"
	lines = append(lines, logLine{ts: t0.Add(time.Second), msg: huge}, logLine{ts: t0.Add(2 * time.Second), msg: "after the huge line"})
	srv.add("ns", "p", "c", lines...)
	src := Source{"x", "ns", "p", "c"}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ch := Stream(ctx, map[string]kubernetes.Interface{"x": srv.client()}, updatesOf(ctx, true, Update{Sources: []Source{src}}), Options{})
	got, closed := collect(t, ch, 5*time.Second)
	if !closed {
		t.Fatal("not closed")
	}
	ts := texts(got, src)
	if len(ts) != len(lines) {
		t.Fatalf("%d lines, want %d:\n%s", len(ts), len(lines), dump(got))
	}
	for _, s := range ts {
		assertSafe(t, "streamed line", s)
		if len(s) > DefaultMaxLineBytes+64 {
			t.Errorf("line of %d bytes passed the %d limit", len(s), DefaultMaxLineBytes)
		}
	}
	for _, e := range got {
		if e.Kind == KindLine && e.Cut > 0 {
			if !strings.HasSuffix(e.Text, CutMarker(e.Cut)) || e.Cut != len(huge)-DefaultMaxLineBytes {
				t.Errorf("cut line: cut=%d text ends %q", e.Cut, e.Text[max(0, len(e.Text)-40):])
			}
		}
	}
	if ts[len(ts)-1] != "after the huge line" {
		t.Errorf("line after the huge one = %q", ts[len(ts)-1])
	}
}
