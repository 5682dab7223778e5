package logpane

import "sort"

// ring holds the newest lines, at most cap(lines) of them. Every line gets a sequence number
// when it is added, one more than the previous line's; the views over the ring (lines passing
// the filters, search matches, the scroll position) hold sequence numbers, never indices, so
// they stay right while old lines are dropped from the front.
type ring struct {
	lines []Line
	head  int    // index of the oldest line
	n     int    // lines held
	first uint64 // sequence number of the oldest line
}

func newRing(size int) ring {
	return ring{lines: make([]Line, size), first: 1}
}

// push adds l, dropping the oldest line when the ring is full; it reports whether one was
// dropped.
func (r *ring) push(l Line) (dropped bool) {
	if len(r.lines) == 0 {
		return true
	}
	if r.n == len(r.lines) {
		r.lines[r.head] = l
		r.head = (r.head + 1) % len(r.lines)
		r.first++
		return true
	}
	r.lines[(r.head+r.n)%len(r.lines)] = l
	r.n++
	return false
}

// next is the sequence number the next pushed line gets.
func (r *ring) next() uint64 { return r.first + uint64(r.n) }

// last is the sequence number of the newest line (first-1 when empty).
func (r *ring) last() uint64 { return r.next() - 1 }

// get returns the line with sequence number seq, if the ring still holds it.
func (r *ring) get(seq uint64) (*Line, bool) {
	if seq < r.first || seq >= r.next() {
		return nil, false
	}
	return &r.lines[(r.head+int(seq-r.first))%len(r.lines)], true
}

// seqList is a sorted list of sequence numbers: the lines passing the filters, or the search
// matches among them.
type seqList []uint64

// search is the index of the first element >= seq.
func (s seqList) search(seq uint64) int {
	return sort.Search(len(s), func(i int) bool { return s[i] >= seq })
}

// trim drops the elements older than first. The slice is re-sliced, not copied: append
// reallocates once the capacity runs out and copies only what is left, so the memory held
// stays proportional to the ring.
func (s seqList) trim(first uint64) seqList {
	if len(s) == 0 || s[0] >= first {
		return s
	}
	return s[s.search(first):]
}
