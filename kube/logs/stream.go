package logs

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
)

// Defaults of Options.
const (
	DefaultMaxLineBytes   = 16 << 10
	DefaultMaxStreams     = 100
	DefaultBackoffInitial = 500 * time.Millisecond
	DefaultBackoffMax     = 30 * time.Second
	DefaultBuffer         = 256
)

// Options say what to read of each container's log. The zero value reads each log once, whole.
type Options struct {
	// Follow keeps every stream open for new lines, reconnecting after errors, until the
	// container leaves the target set or ctx ends.
	Follow bool
	// Since reads only lines newer than this (0: no limit).
	Since time.Duration
	// Tail reads only the last Tail lines of each container's log; negative means all.
	// The zero value of Options sets no limit: Tail counts only when TailSet is true.
	Tail    int64
	TailSet bool
	// Previous reads the log of the container's previous instance (a crash loop's last crash).
	Previous bool
	// MaxLineBytes bounds the text of a line; the rest is dropped and the line marked. Default
	// DefaultMaxLineBytes.
	MaxLineBytes int
	// MaxStreams bounds the containers followed at once; more are reported and not followed.
	// Default DefaultMaxStreams.
	MaxStreams int
	// BackoffInitial and BackoffMax bound the wait before a stream is opened again after an
	// error; it doubles after each failure. Defaults DefaultBackoffInitial, DefaultBackoffMax.
	BackoffInitial, BackoffMax time.Duration
	// Buffer is the capacity of the channel Stream returns. Default DefaultBuffer.
	Buffer int
	// Now is the clock of event entries; nil means time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.MaxLineBytes <= 0 {
		o.MaxLineBytes = DefaultMaxLineBytes
	}
	if o.MaxStreams <= 0 {
		o.MaxStreams = DefaultMaxStreams
	}
	if o.BackoffInitial <= 0 {
		o.BackoffInitial = DefaultBackoffInitial
	}
	if o.BackoffMax < o.BackoffInitial {
		o.BackoffMax = max(DefaultBackoffMax, o.BackoffInitial)
	}
	if o.Buffer <= 0 {
		o.Buffer = DefaultBuffer
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Update is one complete target set: the containers to follow now. A container followed before
// and missing from Sources is stopped (its pod went away or no longer matches). Notices are
// delivered before any line of the new set, in order.
type Update struct {
	Sources []Source
	Notices []Entry
}

// Stream follows the containers the updates name, on the clusters clients holds, and returns
// the channel every line and event arrives on, in order of arrival. The channel is closed once
// every follower has ended: when ctx ends, or after updates is closed and every stream ended
// (with Follow, closing updates alone ends nothing: the last target set is followed until ctx
// ends). The caller must read the channel until it is closed, or end ctx.
//
// A cluster missing from clients, unreachable, or forbidding pods/log is reported once with a
// notice; its followers never delay those of the other clusters.
func Stream(ctx context.Context, clients map[string]kubernetes.Interface, updates <-chan Update, opts Options) <-chan Entry {
	s := &streamer{clients: clients, opts: opts.withDefaults(), followers: map[Source]*follower{},
		reported: map[string]bool{}}
	s.out = make(chan Entry, s.opts.Buffer)
	go s.run(ctx, updates)
	return s.out
}

type streamer struct {
	clients map[string]kubernetes.Interface
	opts    Options
	out     chan Entry

	wg        sync.WaitGroup
	followers map[Source]*follower // owned by run

	mu       sync.Mutex
	reported map[string]bool // notices already given, by key, so each is given once
}

type follower struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// run owns every follower: it starts and stops them as updates arrive and closes out after
// the last one ended.
func (s *streamer) run(ctx context.Context, updates <-chan Update) {
	defer close(s.out)
	defer s.wg.Wait()
	for {
		select {
		case <-ctx.Done():
			s.stopAll()
			return
		case u, ok := <-updates:
			if !ok {
				if s.opts.Follow {
					<-ctx.Done()
					s.stopAll()
				}
				return
			}
			for _, n := range u.Notices {
				n.Text = cleanNotice(n.Text)
				if n.Time.IsZero() {
					n.Time = s.opts.Now()
				}
				if !s.send(ctx, n) {
					s.stopAll()
					return
				}
			}
			s.apply(ctx, u.Sources)
		}
	}
}

// apply starts followers for new sources and stops those no longer wanted.
func (s *streamer) apply(ctx context.Context, sources []Source) {
	want := make(map[Source]bool, len(sources))
	for _, src := range sources {
		want[src] = true
	}
	for src, f := range s.followers {
		select {
		case <-f.done:
			// Ended on its own (read whole, pod gone, forbidden): forget it, so a source that
			// is still wanted is not opened again, and one that comes back later is.
			if !want[src] {
				delete(s.followers, src)
			}
			continue
		default:
		}
		if !want[src] && s.opts.Follow {
			f.cancel()
			delete(s.followers, src)
		}
	}
	// Start in a stable order so that which sources exceed MaxStreams is deterministic.
	var fresh []Source
	for src := range want {
		if _, ok := s.followers[src]; !ok {
			fresh = append(fresh, src)
		}
	}
	sort.Slice(fresh, func(i, j int) bool { return fresh[i].String() < fresh[j].String() })
	skipped := 0
	for _, src := range fresh {
		if s.running() >= s.opts.MaxStreams {
			skipped++
			continue
		}
		client, ok := s.clients[src.Cluster]
		if !ok || client == nil {
			s.noticeOnce(ctx, "noclient/"+src.Cluster, Entry{Source: Source{Cluster: src.Cluster}, Problem: true,
				Text: fmt.Sprintf("cluster %s: no client (its kubeconfig context could not be loaded): its logs are not shown", src.Cluster)})
			continue
		}
		fctx, cancel := context.WithCancel(ctx)
		f := &follower{cancel: cancel, done: make(chan struct{})}
		s.followers[src] = f
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer close(f.done)
			defer cancel()
			s.follow(fctx, ctx, client, src)
		}()
	}
	if skipped > 0 {
		// Reported each time the set grows past the limit, with the current count.
		_ = s.send(ctx, Entry{Kind: KindNotice, Time: s.opts.Now(), Problem: true,
			Text: fmt.Sprintf("%d more containers are not followed: at most %d streams at once (narrow the selection or raise the limit)", skipped, s.opts.MaxStreams)})
	}
}

// running counts followers that have not ended.
func (s *streamer) running() int {
	n := 0
	for _, f := range s.followers {
		select {
		case <-f.done:
		default:
			n++
		}
	}
	return n
}

func (s *streamer) stopAll() {
	for _, f := range s.followers {
		f.cancel()
	}
}

// send delivers e unless ctx ends first (an entry that fits in the buffer is delivered even
// then, so that ends and notices are not lost to a race with cancellation).
func (s *streamer) send(ctx context.Context, e Entry) bool {
	select {
	case s.out <- e:
		return true
	default:
	}
	select {
	case s.out <- e:
		return true
	case <-ctx.Done():
		return false
	}
}

// noticeOnce sends a notice the first time key is seen (until forget(key)).
func (s *streamer) noticeOnce(ctx context.Context, key string, e Entry) {
	s.mu.Lock()
	seen := s.reported[key]
	s.reported[key] = true
	s.mu.Unlock()
	if seen {
		return
	}
	e.Kind = KindNotice
	e.Time = s.opts.Now()
	e.Text = cleanNotice(e.Text)
	s.send(ctx, e)
}

// forget clears key so that its notice is given again next time; it reports whether the key
// had been reported.
func (s *streamer) forget(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := s.reported[key]
	delete(s.reported, key)
	return seen
}
