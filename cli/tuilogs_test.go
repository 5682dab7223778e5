package cli

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fleetdeck/fleetdeck/kube/logs"
	"github.com/fleetdeck/fleetdeck/ui/logpane"
)

func TestBatchLinesGroupsAndEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	entries := make(chan logs.Entry)
	out := make(chan []logpane.Line)
	go batchLines(ctx, entries, out)
	src := logs.Source{Cluster: "prod-eu", Namespace: "shop", Pod: "api-1", Container: "api"}
	entries <- logs.Entry{Kind: logs.KindStart, Source: src}
	for i := range 3 {
		entries <- logs.Entry{Kind: logs.KindLine, Source: src, Text: fmt.Sprintf("line %d", i)}
	}
	var got []logpane.Line
	for len(got) < 4 {
		select {
		case b := <-out:
			got = append(got, b...)
		case <-time.After(5 * time.Second):
			t.Fatalf("after 5s only %d lines arrived", len(got))
		}
	}
	if !got[0].Notice || got[0].Text != "streaming api-1/api" {
		t.Errorf("start entry became %+v, want the notice 'streaming api-1/api'", got[0])
	}
	for i, l := range got[1:] {
		if l.Notice || l.Text != fmt.Sprintf("line %d", i) || l.Cluster != "prod-eu" || l.Pod != "api-1" || l.Container != "api" {
			t.Errorf("line %d became %+v", i, l)
		}
	}
	close(entries)
	select {
	case _, ok := <-out:
		if ok {
			t.Error("a batch came after the entries ended")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("out was not closed when the entries ended")
	}
}

// A pane that takes no batch never holds up the streams: lines beyond the bound are dropped,
// oldest first, and the next batch says how many.
func TestBatchLinesDropsOldestWhenThePaneIsBusy(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	entries := make(chan logs.Entry)
	out := make(chan []logpane.Line)
	go batchLines(ctx, entries, out)
	const extra = 25
	for i := range logBatchMax + extra {
		select {
		case entries <- logs.Entry{Kind: logs.KindLine, Text: fmt.Sprintf("line %d", i)}:
		case <-time.After(5 * time.Second):
			t.Fatalf("entry %d was not taken while nobody read the batches", i)
		}
	}
	var b []logpane.Line
	select {
	case b = <-out:
	case <-time.After(5 * time.Second):
		t.Fatal("no batch")
	}
	if len(b) != logBatchMax+1 || !b[0].Notice || !strings.Contains(b[0].Text, fmt.Sprintf("%d lines dropped", extra)) {
		t.Fatalf("batch of %d starts %+v, want the drop notice then %d lines", len(b), b[0], logBatchMax)
	}
	if b[1].Text != fmt.Sprintf("line %d", extra) || b[len(b)-1].Text != fmt.Sprintf("line %d", logBatchMax+extra-1) {
		t.Errorf("batch holds %q … %q, want the newest lines", b[1].Text, b[len(b)-1].Text)
	}
}
