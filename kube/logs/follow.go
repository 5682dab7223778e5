package logs

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"maps"
	"math"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/fleetdeck/fleetdeck/internal/sanitize"
	"github.com/fleetdeck/fleetdeck/kube"
)

// Without Follow a stream that fails is tried this many times before its container is given up.
const onceAttempts = 3

// errClass sorts the errors of opening a log stream by what to do next.
type errClass int

const (
	classRetry     errClass = iota // unreachable, timeout, server error: back off, try again
	classWaiting                   // the container has not started (or is restarting): try again quietly
	classGone                      // the pod is gone: end
	classForbidden                 // the credentials may not read pods/log: end, report once per cluster
)

func classify(err error) errClass {
	switch {
	case apierrors.IsNotFound(err):
		return classGone
	case apierrors.IsForbidden(err), apierrors.IsUnauthorized(err):
		return classForbidden
	case apierrors.IsBadRequest(err):
		// "container X in pod Y is waiting to start: ContainerCreating", or not yet scheduled.
		return classWaiting
	}
	return classRetry
}

// follow streams one container until it ends for good or ctx ends. parent is the streamer's
// context: entries are delivered while it lives, so that the end of a stopped follower is
// still reported.
func (s *streamer) follow(ctx, parent context.Context, client kubernetes.Interface, src Source) {
	endText := "log read"
	defer func() { s.send(parent, Entry{Kind: KindEnd, Source: src, Time: s.opts.Now(), Text: endText}) }()
	unreachableKey := "unreachable/" + src.Cluster
	var sm seam
	started := false
	backoff := s.opts.BackoffInitial
	failures := 0
	for {
		if ctx.Err() != nil {
			endText = "stopped: no longer selected"
			return
		}
		opened := time.Now()
		rc, err := client.CoreV1().Pods(src.Namespace).GetLogs(src.Pod, s.logOptions(src, &sm)).Stream(ctx)
		if err != nil {
			if ctx.Err() != nil {
				endText = "stopped: no longer selected"
				return
			}
			err = kube.Redact(err)
			switch classify(err) {
			case classGone:
				endText = "pod gone"
				return
			case classForbidden:
				s.noticeOnce(parent, "forbidden/"+src.Cluster, Entry{Source: Source{Cluster: src.Cluster}, Problem: true,
					Text: fmt.Sprintf("cluster %s: may not read pod logs (namespace %s: %v): its logs are not shown", src.Cluster, src.Namespace, err)})
				endText = "forbidden"
				return
			case classWaiting:
				if !s.opts.Follow {
					endText = "not started: " + err.Error()
					return
				}
			default:
				s.noticeOnce(parent, unreachableKey, Entry{Source: Source{Cluster: src.Cluster}, Problem: true,
					Text: fmt.Sprintf("cluster %s: cannot read logs: %v (retrying)", src.Cluster, err)})
				failures++
				if !s.opts.Follow && failures >= onceAttempts {
					endText = "given up: " + err.Error()
					return
				}
			}
			if !sleep(ctx, backoff) {
				endText = "stopped: no longer selected"
				return
			}
			backoff = min(2*backoff, s.opts.BackoffMax)
			continue
		}
		if s.forget(unreachableKey) {
			s.send(parent, Entry{Kind: KindNotice, Source: Source{Cluster: src.Cluster}, Time: s.opts.Now(),
				Text: fmt.Sprintf("cluster %s: reading logs again", src.Cluster)})
		}
		if !started {
			started = true
			if !s.send(parent, Entry{Kind: KindStart, Source: src, Time: s.opts.Now()}) {
				rc.Close()
				return
			}
		}
		lines, err := s.read(ctx, rc, src, &sm)
		rc.Close()
		if ctx.Err() != nil {
			endText = "stopped: no longer selected"
			return
		}
		if !s.opts.Follow {
			if err != nil {
				endText = "read failed: " + kube.Redact(err).Error()
			}
			return
		}
		// A followed stream ended: the container exited (it may restart), the pod is being
		// deleted, or the connection dropped. Open it again from the last line seen; a pod
		// that is gone answers NotFound and ends the follower.
		if lines > 0 || time.Since(opened) > 10*time.Second {
			backoff = s.opts.BackoffInitial
		}
		if !sleep(ctx, backoff) {
			endText = "stopped: no longer selected"
			return
		}
		backoff = min(2*backoff, s.opts.BackoffMax)
	}
}

// logOptions asks for timestamps always (they place the seam when resuming): the first time
// with the user's since and tail, after a line was seen from just before that line.
func (s *streamer) logOptions(src Source, sm *seam) *corev1.PodLogOptions {
	po := &corev1.PodLogOptions{Container: src.Container, Follow: s.opts.Follow, Timestamps: true, Previous: s.opts.Previous}
	if !sm.last.IsZero() {
		// The API takes whole seconds: lines of the last second come again and the seam drops
		// those already delivered.
		t := metav1.NewTime(sm.last.Truncate(time.Second))
		po.SinceTime = &t
		sm.resume()
		return po
	}
	if s.opts.Since > 0 {
		secs := int64(math.Ceil(s.opts.Since.Seconds()))
		po.SinceSeconds = &secs
	}
	if s.opts.TailSet && s.opts.Tail >= 0 {
		tail := s.opts.Tail
		po.TailLines = &tail
	}
	return po
}

// read delivers the lines of one open stream and returns how many it delivered. The error is
// nil at a clean end of the stream.
func (s *streamer) read(ctx context.Context, r io.Reader, src Source, sm *seam) (int, error) {
	lr := newLineReader(r, s.opts.MaxLineBytes+tsRoom)
	n := 0
	for {
		raw, dropped, complete, err := lr.next()
		if len(raw) > 0 || complete {
			// A line cut short by a failed connection comes again, whole, after resuming; one
			// the server ended cleanly is the container's last, without a newline.
			if complete || errors.Is(err, io.EOF) {
				ts, msg := splitTimestamp(raw)
				if sm.fresh(ts, msg) {
					text, cut := cleanText(msg, s.opts.MaxLineBytes, dropped)
					if !s.send(ctx, Entry{Kind: KindLine, Source: src, Time: ts, Text: text, Cut: cut}) {
						return n, ctx.Err()
					}
					n++
				}
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return n, nil
			}
			return n, err
		}
	}
}

// sleep waits d unless ctx ends first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// cleanNotice sanitises a notice: error texts quote what servers and pods said.
func cleanNotice(s string) string { return sanitize.Line(s) }

// seamMax bounds the lines remembered at the last timestamp: a runtime writing thousands of
// lines within one nanosecond is not real, and memory stays bounded if it happens.
const seamMax = 256

// seed hashes the lines remembered at a seam (hashes, not copies: a seam costs no memory per
// byte of line).
var seed = maphash.MakeSeed()

// seam remembers where the stream was, so that a stream opened again from the last second
// seen delivers only what is new: lines older than the last timestamp are dropped, and at the
// last timestamp those already delivered (counted by content).
type seam struct {
	last     time.Time
	seen     map[uint64]int // lines delivered at last, by hash
	skip     map[uint64]int // while resuming: lines at last still to drop
	resuming bool
}

func (sm *seam) resume() {
	sm.skip = maps.Clone(sm.seen)
	sm.resuming = true
}

// fresh reports whether a line is new, and records it.
func (sm *seam) fresh(ts time.Time, msg []byte) bool {
	if ts.IsZero() {
		return true // no timestamp: nothing to compare with
	}
	h := maphash.Bytes(seed, msg)
	if sm.resuming {
		switch {
		case ts.Before(sm.last):
			return false
		case ts.Equal(sm.last) && sm.skip[h] > 0:
			sm.skip[h]--
			return false
		}
		sm.resuming = false
		sm.skip = nil
	}
	switch {
	case ts.After(sm.last):
		sm.last = ts
		if sm.seen == nil {
			sm.seen = map[uint64]int{}
		}
		clear(sm.seen)
		sm.seen[h] = 1
	case ts.Equal(sm.last):
		if len(sm.seen) < seamMax {
			sm.seen[h]++
		}
	}
	return true
}
