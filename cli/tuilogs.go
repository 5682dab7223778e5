package cli

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/fleetdeck/fleetdeck/internal/engine"
	"github.com/fleetdeck/fleetdeck/kube/logs"
	"github.com/fleetdeck/fleetdeck/ui"
	"github.com/fleetdeck/fleetdeck/ui/logpane"
)

// tuiLogs follows logs for the terminal UI's log pane on the running engine: the engine's
// models say which containers the target has, kube/logs streams them.
type tuiLogs struct {
	eng     *engine.Engine
	clients map[string]kubernetes.Interface
	opts    logs.Options
}

// logBatchEvery bounds how often the pane is handed lines: at thousands of lines a second it
// draws a few dozen times a second, not once per line.
const (
	logBatchEvery = 40 * time.Millisecond
	logBatchMax   = logpane.DefaultRing
)

// Follow implements ui.Logs.
func (l *tuiLogs) Follow(ctx context.Context, t ui.LogTarget) <-chan []logpane.Line {
	sel := logs.Selector{App: t.App}
	if t.Cluster != "" {
		sel.Clusters = []string{t.Cluster}
	}
	if t.Pod != "" {
		sel.Pod = regexp.MustCompile("^" + regexp.QuoteMeta(t.Pod) + "$")
	}
	updates := make(chan logs.Update)
	go func() {
		defer close(updates)
		tr := logs.NewTracker(sel)
		for m := range l.eng.Subscribe(ctx) {
			select {
			case updates <- tr.Update(m, true):
			case <-ctx.Done():
				return
			}
		}
	}()
	out := make(chan []logpane.Line)
	go batchLines(ctx, logs.Stream(ctx, l.clients, updates, l.opts), out)
	return out
}

// batchLines turns entries into batches of pane lines, one batch at most every
// logBatchEvery, and closes out when entries ends. Entries are read all the time, so a busy
// pane never holds up the streams: while it has not taken a batch, new lines join the next
// one, and beyond logBatchMax lines the oldest are dropped (the pane's ring would drop them
// anyway), with a notice saying how many.
func batchLines(ctx context.Context, entries <-chan logs.Entry, out chan<- []logpane.Line) {
	defer close(out)
	var pending []logpane.Line
	dropped := 0
	due := false
	tick := time.NewTicker(logBatchEvery)
	defer tick.Stop()
	for {
		var send chan<- []logpane.Line
		if due && (len(pending) > 0 || dropped > 0) {
			if dropped > 0 {
				pending = append([]logpane.Line{{Notice: true, Text: fmt.Sprintf("%d lines dropped while the pane was busy", dropped)}}, pending...)
				dropped = 0
			}
			send = out
		}
		select {
		case <-ctx.Done():
			return
		case e, ok := <-entries:
			if !ok {
				if len(pending) > 0 {
					select {
					case out <- pending:
					case <-ctx.Done():
					}
				}
				return
			}
			pending = append(pending, paneLine(e))
			if n := len(pending) - logBatchMax; n > 0 {
				pending = append(pending[:0], pending[n:]...)
				dropped += n
			}
		case <-tick.C:
			due = true
		case send <- pending:
			pending, due = nil, false
		}
	}
}

// paneLine is an entry as the pane shows it: a log line, or the streamer's own words (a
// container started or ended, a cluster unreachable) as a notice.
func paneLine(e logs.Entry) logpane.Line {
	l := logpane.Line{Cluster: e.Source.Cluster, Namespace: e.Source.Namespace, Pod: e.Source.Pod,
		Container: e.Source.Container, Time: e.Time, Text: e.Text}
	switch e.Kind {
	case logs.KindLine:
	case logs.KindStart:
		l.Notice, l.Text = true, "streaming "+e.Source.Pod+"/"+e.Source.Container
	case logs.KindEnd:
		l.Notice = true
		if l.Text == "" {
			l.Text = "stream ended: " + e.Source.Pod + "/" + e.Source.Container
		}
	default:
		l.Notice = true
	}
	return l
}
