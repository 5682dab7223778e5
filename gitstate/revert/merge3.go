package revert

import (
	"bytes"
)

// This file is the line-level three-way merge of one file, made to agree with
// git's (xdiff's xdl_merge) on what merges cleanly: both sides are diffed
// against the base with a minimal diff whose change groups slide down as far
// as they can (xdiff's default placement); changes of the two sides that
// overlap or touch (no unchanged base line between them) conflict unless
// they produce the same lines.

// splitLines cuts data after every newline; a last line without one is kept.
func splitLines(data []byte) [][]byte {
	var out [][]byte
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			out = append(out, data)
			break
		}
		out = append(out, data[:i+1])
		data = data[i+1:]
	}
	return out
}

// isBinary follows git: a NUL in the first 8000 bytes.
func isBinary(data []byte) bool {
	return bytes.IndexByte(data[:min(len(data), 8000)], 0) >= 0
}

// hunk replaces base[start:end] with side[sStart:sEnd].
type hunk struct {
	start, end   int
	sStart, sEnd int
}

// diffLines returns the hunks turning a into b.
func diffLines(a, b [][]byte) []hunk {
	// Lines become small integers, so the diff compares ints.
	ids := map[string]int{}
	id := func(l []byte) int {
		k := string(l)
		v, ok := ids[k]
		if !ok {
			v = len(ids)
			ids[k] = v
		}
		return v
	}
	x := make([]int, len(a))
	for i, l := range a {
		x[i] = id(l)
	}
	y := make([]int, len(b))
	for i, l := range b {
		y[i] = id(l)
	}
	ca, cb := myers(x, y)
	compact(x, ca)
	compact(y, cb)
	return hunksOf(ca, cb)
}

// myers marks the lines of x deleted and of y inserted by a minimal edit
// script (Myers' O(ND) algorithm, forward, with the trace kept for backtracking).
func myers(x, y []int) (cx, cy []bool) {
	cx, cy = make([]bool, len(x)+1), make([]bool, len(y)+1)
	// Common prefix and suffix need no search.
	lo := 0
	for lo < len(x) && lo < len(y) && x[lo] == y[lo] {
		lo++
	}
	hx, hy := len(x), len(y)
	for hx > lo && hy > lo && x[hx-1] == y[hy-1] {
		hx--
		hy--
	}
	a, b := x[lo:hx], y[lo:hy]
	n, m := len(a), len(b)
	if n == 0 || m == 0 {
		for i := range n {
			cx[lo+i] = true
		}
		for j := range m {
			cy[lo+j] = true
		}
		return cx, cy
	}
	maxD := n + m
	off := maxD + 1
	v := make([]int, 2*maxD+4)
	var trace [][]int
	var endD int
search:
	for d := 0; d <= maxD; d++ {
		snap := make([]int, 2*d+3)
		copy(snap, v[off-d-1:off+d+2])
		trace = append(trace, snap)
		for k := -d; k <= d; k += 2 {
			var i int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				i = v[off+k+1] // down: insertion
			} else {
				i = v[off+k-1] + 1 // right: deletion
			}
			j := i - k
			for i < n && j < m && a[i] == b[j] {
				i++
				j++
			}
			v[off+k] = i
			if i >= n && j >= m {
				endD = d
				break search
			}
		}
	}
	// Backtrack through the saved frontiers: trace[d] is the frontier
	// before step d, indexed by k+d+1.
	i, j := n, m
	for d := endD; d > 0; d-- {
		vs := trace[d]
		get := func(k int) int { return vs[k+d+1] }
		k := i - j
		insert := k == -d || (k != d && get(k-1) < get(k+1))
		pk := k - 1
		if insert {
			pk = k + 1
		}
		pi := get(pk)
		pj := pi - pk
		// The snake after the edit runs diagonally back to the edit's end.
		si, sj := pi+1, pj
		if insert {
			si, sj = pi, pj+1
		}
		for i > si && j > sj {
			i--
			j--
		}
		if insert {
			cy[lo+pj] = true
		} else {
			cx[lo+pi] = true
		}
		i, j = pi, pj
	}
	return cx, cy
}

// compact slides every group of changed lines down as far as the lines allow
// (a group [s,e) can move when line s equals line e), joining groups that
// meet, as xdiff places ambiguous changes.
func compact(lines []int, changed []bool) {
	n := len(lines)
	for s := 0; s < n; {
		if !changed[s] {
			s++
			continue
		}
		e := s
		for e < n && changed[e] {
			e++
		}
		for e < n && lines[s] == lines[e] {
			changed[s], changed[e] = false, true
			s++
			e++
			for e < n && changed[e] {
				e++
			}
		}
		s = e
	}
}

// hunksOf pairs the changed lines of both files into hunks.
func hunksOf(ca, cb []bool) []hunk {
	var out []hunk
	na, nb := len(ca)-1, len(cb)-1
	i, j := 0, 0
	for i < na || j < nb {
		if (i < na && ca[i]) || (j < nb && cb[j]) {
			h := hunk{start: i, sStart: j}
			for i < na && ca[i] {
				i++
			}
			for j < nb && cb[j] {
				j++
			}
			h.end, h.sEnd = i, j
			out = append(out, h)
			continue
		}
		i++
		j++
	}
	return out
}

// merge3 merges the changes base→ours and base→theirs. ok is false on a conflict.
func merge3(base, ours, theirs []byte) (merged []byte, ok bool) {
	if bytes.Equal(ours, theirs) {
		return ours, true
	}
	if bytes.Equal(base, ours) {
		return theirs, true
	}
	if bytes.Equal(base, theirs) {
		return ours, true
	}
	if isBinary(base) || isBinary(ours) || isBinary(theirs) {
		return nil, false
	}
	b, o, t := splitLines(base), splitLines(ours), splitLines(theirs)
	ho, ht := diffLines(b, o), diffLines(b, t)
	var out [][]byte
	pos, i, j := 0, 0, 0
	for i < len(ho) || j < len(ht) {
		// The next group starts with the earliest hunk and takes every hunk of
		// either side that overlaps or touches it.
		start := 0
		switch {
		case j >= len(ht) || (i < len(ho) && ho[i].start <= ht[j].start):
			start = ho[i].start
		default:
			start = ht[j].start
		}
		end := start
		gi, gj := i, j
		for {
			grew := false
			if i < len(ho) && ho[i].start <= end && (ho[i].start >= start) {
				end = max(end, ho[i].end)
				i++
				grew = true
			}
			if j < len(ht) && ht[j].start <= end && (ht[j].start >= start) {
				end = max(end, ht[j].end)
				j++
				grew = true
			}
			if !grew {
				break
			}
		}
		out = append(out, b[pos:start]...)
		switch {
		case gj == j: // ours only
			out = append(out, apply(b, o, ho[gi:i], start, end)...)
		case gi == i: // theirs only
			out = append(out, apply(b, t, ht[gj:j], start, end)...)
		default:
			lo, lt := apply(b, o, ho[gi:i], start, end), apply(b, t, ht[gj:j], start, end)
			if !equalLines(lo, lt) {
				return nil, false
			}
			out = append(out, lo...)
		}
		pos = end
	}
	out = append(out, b[pos:]...)
	return bytes.Join(out, nil), true
}

// apply returns base[start:end] with hunks (all inside it) applied from side.
func apply(base, side [][]byte, hs []hunk, start, end int) [][]byte {
	var out [][]byte
	pos := start
	for _, h := range hs {
		out = append(out, base[pos:h.start]...)
		out = append(out, side[h.sStart:h.sEnd]...)
		pos = h.end
	}
	return append(out, base[pos:end]...)
}

func equalLines(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
