package faults

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// expiredEvent is what an API server sends when a watch's resource version is older than it
// keeps: a watch ERROR event carrying a 410 Expired status. The watch ends after it.
const expiredEvent = `{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},` +
	`"status":"Failure","message":"too old resource version: injected by the fault test","reason":"Expired","code":410}}` + "\n"

// WatchExpirer wraps a client's HTTP transport (rest.Config.WrapTransport) and ends the open
// watches it selects with a 410 Expired ERROR event when told to, as an API server does when
// its watch cache has moved past a watcher (a restart, compaction, a long disconnection). It
// also records the requests it saw, so a test can tell that the client listed again.
//
// Selected watches are asked for in JSON (the client negotiates by the answer's content type)
// so that the event can be added in the stream's own framing, between two events.
type WatchExpirer struct {
	selects func(*http.Request) bool

	mu       sync.Mutex
	open     map[*expiringBody]struct{}
	requests []Request
}

// NewWatchExpirer returns an expirer for the watches selects accepts; nil selects every watch.
func NewWatchExpirer(selects func(*http.Request) bool) *WatchExpirer {
	if selects == nil {
		selects = func(*http.Request) bool { return true }
	}
	return &WatchExpirer{selects: selects, open: map[*expiringBody]struct{}{}}
}

// IsWatch reports whether r is a watch, a watch-list (the first state streamed as a watch)
// included.
func IsWatch(r *http.Request) bool { return r.URL.Query().Get("watch") == "true" }

// Request is one request the expirer saw.
type Request struct {
	Method string
	Path   string
	Query  url.Values
}

// ListOf selects the requests that read the whole collection of resource (plural, "pods"):
// a plain list, or a watch-list, which streams the first state as a watch. Either is how a
// client lists again after its watch expired.
func ListOf(resource string) func(Request) bool {
	return func(r Request) bool {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.Path, "/"+resource) {
			return false
		}
		return r.Query.Get("watch") != "true" || r.Query.Get("sendInitialEvents") == "true"
	}
}

// Wrap is a rest.Config.WrapTransport function.
func (w *WatchExpirer) Wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		selected := IsWatch(req) && w.selects(req)
		if selected {
			req = req.Clone(req.Context())
			req.Header.Set("Accept", "application/json")
		}
		w.mu.Lock()
		w.requests = append(w.requests, Request{Method: req.Method, Path: req.URL.Path, Query: req.URL.Query()})
		w.mu.Unlock()
		resp, err := rt.RoundTrip(req)
		if err != nil || !selected || resp.StatusCode != http.StatusOK {
			return resp, err
		}
		b := &expiringBody{up: resp.Body, expire: make(chan struct{}), chunks: make(chan []byte), gone: make(chan struct{}), w: w}
		b.wg.Go(b.pump)
		w.mu.Lock()
		w.open[b] = struct{}{}
		w.mu.Unlock()
		resp.Body = b
		return resp, nil
	})
}

// Expire ends every open selected watch with a 410 Expired event, each between two events of
// its stream, and reports how many it ended.
func (w *WatchExpirer) Expire() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for b := range w.open {
		b.expireOnce.Do(func() {
			close(b.expire)
			n++
		})
	}
	return n
}

// Open reports how many selected watches are open.
func (w *WatchExpirer) Open() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.open)
}

// Count reports how many requests seen so far match.
func (w *WatchExpirer) Count(match func(Request) bool) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, r := range w.requests {
		if match(r) {
			n++
		}
	}
	return n
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// expiringBody passes a watch stream through until it is told to expire; then, at the next
// event boundary, it adds the ERROR event and ends. A pump goroutine reads the server so that
// an idle watch can be expired without waiting for its next event; Close ends it.
type expiringBody struct {
	up     io.ReadCloser
	w      *WatchExpirer
	chunks chan []byte
	gone   chan struct{} // closed by Close: the pump stops sending
	wg     sync.WaitGroup

	expire     chan struct{}
	expireOnce sync.Once
	closeOnce  sync.Once

	// Read's state; Read is not called concurrently.
	pending  []byte
	upErr    error
	handed   bool // some data was handed out
	boundary bool // what was handed out so far ends with a complete event
	ended    bool
}

func (b *expiringBody) pump() {
	defer close(b.chunks)
	for {
		buf := make([]byte, 32*1024)
		n, err := b.up.Read(buf)
		if n > 0 {
			select {
			case b.chunks <- buf[:n]:
			case <-b.gone:
				return
			}
		}
		if err != nil {
			b.upErr = err // read by Read only after chunks is closed
			return
		}
	}
}

func (b *expiringBody) Read(p []byte) (int, error) {
	for {
		if len(b.pending) > 0 {
			n := copy(p, b.pending)
			b.pending = b.pending[n:]
			b.handed = true
			b.boundary = len(b.pending) == 0 && p[n-1] == '\n'
			return n, nil
		}
		if b.ended {
			return 0, io.EOF
		}
		// What the server already sent is handed out before the stream may end.
		select {
		case c, ok := <-b.chunks:
			if !ok {
				return 0, b.endErr()
			}
			b.pending = c
			continue
		default:
		}
		expired := false
		select {
		case <-b.expire:
			expired = true
		default:
		}
		if expired && (b.boundary || !b.handed) {
			b.pending, b.ended = []byte(expiredEvent), true
			continue
		}
		expire := b.expire
		if expired {
			expire = nil // wait for the rest of the current event
		}
		select {
		case c, ok := <-b.chunks:
			if !ok {
				return 0, b.endErr()
			}
			b.pending = c
		case <-expire:
		}
	}
}

// endErr is how the server's stream ended; call it only after chunks is closed.
func (b *expiringBody) endErr() error {
	if b.upErr == nil {
		return io.EOF
	}
	return b.upErr
}

func (b *expiringBody) Close() error {
	b.closeOnce.Do(func() {
		close(b.gone)
		b.w.mu.Lock()
		delete(b.w.open, b)
		b.w.mu.Unlock()
	})
	err := b.up.Close()
	b.wg.Wait()
	return err
}
