package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of DeliveryOptions.
const (
	DefaultAttempts      = 5
	DefaultTimeout       = 10 * time.Second
	DefaultBackoff       = time.Second
	DefaultMaxBackoff    = time.Minute
	DefaultMaxRetryAfter = 10 * time.Minute
	DefaultQueue         = 100
)

// DeliveryOptions tune how messages are posted. The zero value is usable.
type DeliveryOptions struct {
	// Attempts is how many times a message is tried before it is dropped with a logged error
	// (default 5).
	Attempts int
	// Timeout bounds one request (default 10s).
	Timeout time.Duration
	// Backoff is the wait after the first failure; it doubles after each one up to MaxBackoff
	// (defaults 1s and 1m), with ±20% jitter so that many watchers do not retry in step.
	Backoff, MaxBackoff time.Duration
	// MaxRetryAfter caps a 429's Retry-After (default 10m).
	MaxRetryAfter time.Duration
	// Queue bounds the messages waiting per target (default 100); when it is full a new
	// message is dropped with a logged error rather than holding up the watch.
	Queue int
	// Client posts the requests; nil means a client without a global timeout (Timeout applies).
	Client *http.Client
	// UserAgent is sent with every request.
	UserAgent string
	// sleep waits (tests shorten it); nil means a timer that ctx interrupts.
	sleep func(ctx context.Context, d time.Duration) error
}

func (o DeliveryOptions) withDefaults() DeliveryOptions {
	if o.Attempts <= 0 {
		o.Attempts = DefaultAttempts
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Backoff <= 0 {
		o.Backoff = DefaultBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if o.Queue <= 0 {
		o.Queue = DefaultQueue
	}
	if o.Client == nil {
		o.Client = &http.Client{}
	}
	if o.UserAgent == "" {
		o.UserAgent = "fleetdeck-watch"
	}
	if o.sleep == nil {
		o.sleep = sleepCtx
	}
	return o
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Dispatcher posts messages to every target. Each target has its own bounded queue and
// goroutine: a slow or failing webhook delays only its own messages, and Send never blocks.
// Messages reach a target in the order they were sent.
type Dispatcher struct {
	senders []*sender
	log     *slog.Logger

	mu     sync.Mutex
	closed bool
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type sender struct {
	t    Target
	q    chan Message
	o    DeliveryOptions
	log  *slog.Logger
	sent atomic.Int64
	lost atomic.Int64
}

// NewDispatcher prepares delivery to targets; Start starts it.
func NewDispatcher(targets []Target, o DeliveryOptions, log *slog.Logger) *Dispatcher {
	o = o.withDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Dispatcher{log: log}
	for _, t := range targets {
		d.senders = append(d.senders, &sender{t: t, q: make(chan Message, o.Queue), o: o, log: log.With("target", t.Name())})
	}
	return d
}

// Start starts one goroutine per target. They run until Close has drained the queues, or
// until ctx ends (a message being retried is then dropped with a logged error).
func (d *Dispatcher) Start(ctx context.Context) {
	ctx, d.cancel = context.WithCancel(ctx)
	for _, s := range d.senders {
		d.wg.Go(func() { s.run(ctx) })
	}
}

// Send queues m for every target without blocking. A target whose queue is full drops m with
// a logged error; after Close, Send drops everything.
func (d *Dispatcher) Send(m Message) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		d.log.Error("notification dropped: delivery is stopping", "subject", subject(m))
		return
	}
	for _, s := range d.senders {
		select {
		case s.q <- m:
		default:
			s.lost.Add(1)
			s.log.Error("notification dropped: queue full", "subject", subject(m), "queue", cap(s.q))
		}
	}
}

// Close stops accepting messages and waits until every queued message is delivered or
// dropped; with grace > 0 it waits at most that long, then abandons the rest (logged). It
// returns the numbers of messages delivered and dropped over the dispatcher's life, summed
// over targets.
func (d *Dispatcher) Close(grace time.Duration) (delivered, dropped int64) {
	d.mu.Lock()
	if !d.closed {
		d.closed = true
		for _, s := range d.senders {
			close(s.q)
		}
	}
	d.mu.Unlock()
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	if grace > 0 {
		t := time.NewTimer(grace)
		select {
		case <-done:
		case <-t.C:
			d.log.Warn("stopping delivery with notifications still queued", "grace", grace.String())
		}
		t.Stop()
	}
	if d.cancel != nil {
		if grace > 0 {
			d.cancel()
		}
		<-done
		d.cancel()
	}
	for _, s := range d.senders {
		delivered += s.sent.Load()
		dropped += s.lost.Load()
	}
	return delivered, dropped
}

func subject(m Message) string {
	if m.Type == TypeDigest {
		return "digest"
	}
	return m.Subject()
}

func (s *sender) run(ctx context.Context) {
	for m := range s.q {
		if ctx.Err() != nil {
			s.lost.Add(1)
			s.log.Error("notification dropped: delivery stopped", "subject", subject(m))
			continue
		}
		s.deliver(ctx, m)
	}
}

// deliver posts m, retrying 5xx answers, 408, 429 and network errors with backoff (a 429's
// Retry-After is honoured), and drops it with a logged error after the last attempt or on
// another 4xx, which no retry would fix.
func (s *sender) deliver(ctx context.Context, m Message) {
	body, err := Encode(s.t.Format, m)
	if err != nil {
		s.lost.Add(1)
		s.log.Error("notification dropped: cannot encode it", "subject", subject(m), "error", err.Error())
		return
	}
	backoff := s.o.Backoff
	for attempt := 1; ; attempt++ {
		status, retryAfter, err := s.post(ctx, body)
		if err == nil && status >= 200 && status < 300 {
			s.sent.Add(1)
			s.log.Info("notification delivered", "subject", subject(m), "status", status, "attempt", attempt)
			return
		}
		problem := err
		if problem == nil {
			problem = fmt.Errorf("HTTP %d", status)
		}
		retryable := err != nil || status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
		if ctx.Err() != nil || !retryable || attempt >= s.o.Attempts {
			s.lost.Add(1)
			why := "gave up"
			switch {
			case ctx.Err() != nil:
				why = "delivery stopped"
			case !retryable:
				why = "the webhook refused it"
			}
			s.log.Error("notification dropped: "+why, "subject", subject(m), "attempts", attempt, "error", problem.Error())
			return
		}
		wait := jitter(backoff)
		if status == http.StatusTooManyRequests && retryAfter > 0 {
			wait = min(retryAfter, s.o.MaxRetryAfter)
		}
		backoff = min(backoff*2, s.o.MaxBackoff)
		s.log.Warn("notification not delivered, retrying", "subject", subject(m), "attempt", attempt,
			"error", problem.Error(), "retry_in", wait.String())
		if err := s.o.sleep(ctx, wait); err != nil {
			s.lost.Add(1)
			s.log.Error("notification dropped: delivery stopped", "subject", subject(m), "attempts", attempt)
			return
		}
	}
}

// post sends one request. Errors never carry the URL: it may hold the webhook's secret.
func (s *sender) post(ctx context.Context, body []byte) (status int, retryAfter time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, s.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.t.URL, bytes.NewReader(body))
	if err != nil {
		return 0, 0, fmt.Errorf("build the request for %s: %w", MaskURL(s.t.URL), unwrapURLError(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", s.o.UserAgent)
	resp, err := s.o.Client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			return 0, 0, fmt.Errorf("post to %s: no answer within %s", MaskURL(s.t.URL), s.o.Timeout)
		}
		return 0, 0, fmt.Errorf("post to %s: %w", MaskURL(s.t.URL), unwrapURLError(err))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	return resp.StatusCode, parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()), nil
}

// unwrapURLError drops net/http's *url.Error wrapper, whose text repeats the full URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date; 0 when absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// jitter spreads d by ±20%.
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}
