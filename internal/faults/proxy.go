// Package faults injects network faults between fleetdeck and a cluster for fault tests: a
// loopback TCP proxy that delays every answer, refuses or cuts connections, and an HTTP
// transport wrapper that ends open watches with 410 Gone the way an API server does.
package faults

import (
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// Proxy forwards TCP connections from a loopback port to a target address. It works below TLS,
// so a client keeps verifying the server's own certificate (the sandbox's API servers have
// 127.0.0.1 in theirs). Answers (server to client) can be delayed, new connections refused and
// open ones cut. Close stops it and waits for every goroutine it started.
type Proxy struct {
	target string
	ln     net.Listener
	wg     sync.WaitGroup

	mu     sync.Mutex
	delay  time.Duration
	refuse bool
	closed bool
	conns  map[*pair]struct{}
	total  int
}

// pair is one proxied connection.
type pair struct {
	client, server net.Conn
	once           sync.Once
}

func (p *pair) close() {
	p.once.Do(func() {
		_ = p.client.Close()
		_ = p.server.Close()
	})
}

// NewProxy listens on 127.0.0.1 (a free port) and forwards every connection to target
// ("127.0.0.1:6443").
func NewProxy(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faults: listen on 127.0.0.1 for a proxy to %s: %w", target, err)
	}
	p := &Proxy{target: target, ln: ln, conns: map[*pair]struct{}{}}
	p.wg.Go(p.accept)
	return p, nil
}

// Addr is the proxy's address, "127.0.0.1:port".
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// SetDelay holds every chunk the server sends for d before passing it on, so every answer
// arrives d late (a slow server or a long link; throughput is not limited). It applies to
// data read from now on, on open connections too.
func (p *Proxy) SetDelay(d time.Duration) {
	p.mu.Lock()
	p.delay = d
	p.mu.Unlock()
}

func (p *Proxy) currentDelay() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.delay
}

// SetRefuse makes the proxy close new connections at once (the client sees the connection
// reset or closed, as with a server that is down) or accept them again.
func (p *Proxy) SetRefuse(refuse bool) {
	p.mu.Lock()
	p.refuse = refuse
	p.mu.Unlock()
}

// Cut closes every open connection, as a network failure or a restarted server would, and
// reports how many there were.
func (p *Proxy) Cut() int {
	p.mu.Lock()
	open := make([]*pair, 0, len(p.conns))
	for c := range p.conns {
		open = append(open, c)
	}
	p.mu.Unlock()
	for _, c := range open {
		c.close()
	}
	return len(open)
}

// Open reports how many connections are open now; Total how many were accepted and forwarded.
func (p *Proxy) Open() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// Total reports how many connections were forwarded since the proxy started.
func (p *Proxy) Total() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.total
}

// Close stops listening, cuts every connection and waits for the proxy's goroutines.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	err := p.ln.Close()
	p.Cut()
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.mu.Lock()
		refuse, closed := p.refuse, p.closed
		p.mu.Unlock()
		if refuse || closed {
			_ = client.Close()
			continue
		}
		p.wg.Go(func() { p.forward(client) })
	}
}

// forward dials the target for one client connection and copies both ways until either side
// ends or the proxy cuts the pair.
func (p *Proxy) forward(client net.Conn) {
	server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		_ = client.Close()
		return
	}
	c := &pair{client: client, server: server}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		c.close()
		return
	}
	p.conns[c] = struct{}{}
	p.total++
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
	}()

	var wg sync.WaitGroup
	wg.Go(func() {
		_, _ = io.Copy(server, client)
		c.close()
	})
	wg.Go(func() {
		p.delayedCopy(client, server)
		c.close()
	})
	wg.Wait()
}

// chunk is data read from the server and when it arrived.
type chunk struct {
	data []byte
	at   time.Time
}

// delayedCopy copies src to dst, writing each chunk no earlier than the delay after it was
// read. Reading goes on while chunks wait, so the delay is latency, not a throughput limit.
func (p *Proxy) delayedCopy(dst, src net.Conn) {
	chunks := make(chan chunk, 256)
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(chunks)
		for {
			buf := make([]byte, 32*1024)
			n, err := src.Read(buf)
			if n > 0 {
				chunks <- chunk{data: buf[:n], at: time.Now()}
			}
			if err != nil {
				return
			}
		}
	})
	defer wg.Wait()
	for ch := range chunks {
		if wait := time.Until(ch.at.Add(p.currentDelay())); wait > 0 {
			time.Sleep(wait)
		}
		if _, err := dst.Write(ch.data); err != nil {
			// The client went away: stop reading the server too, so the reader ends.
			_ = src.Close()
			for range chunks {
			}
			return
		}
	}
}
