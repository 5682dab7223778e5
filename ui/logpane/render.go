package logpane

import (
	"hash/fnv"
	"image/color"
	"regexp"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/ui/theme"
)

// Rows are drawn without lipgloss: each style's escape sequences are computed once (styles),
// and a row is written as plain text cut at cell boundaries with those sequences around its
// spans. Lipgloss's per-call parsing and measuring would dominate the cost of a screen of log
// lines that changes hundreds of times a second.

type styleID uint8

const (
	stText styleID = iota
	stDim
	stNotice
	stMatch
	stCurrent // the current search match
	stDebug
	stInfo
	stWarn
	stError
	stSource // first of the source colours
)

// sgr is a style as the escape sequences that open and close it ("" for no styling).
type sgr struct{ open, close string }

func sgrOf(st lipgloss.Style) sgr {
	r := st.Render("X")
	i := strings.IndexByte(r, 'X')
	if i < 0 {
		return sgr{}
	}
	return sgr{open: r[:i], close: r[i+1:]}
}

// Source colours: a fixed palette per background, readable on it; the colour of a source is
// picked by a hash of its cluster, namespace, pod and container, so it is the same in every
// run and every pane.
var (
	darkSources  = []string{"39", "208", "170", "76", "214", "141", "45", "203", "118", "177", "220", "81"}
	lightSources = []string{"25", "130", "127", "28", "94", "91", "30", "124", "22", "90", "136", "31"}
	ansiSources  = []color.Color{lipgloss.Blue, lipgloss.Magenta, lipgloss.Cyan, lipgloss.Green, lipgloss.Yellow,
		lipgloss.Red, lipgloss.BrightBlue, lipgloss.BrightMagenta, lipgloss.BrightCyan, lipgloss.BrightGreen,
		lipgloss.BrightYellow, lipgloss.BrightRed}
)

// styles are a theme's styles as escape sequences, indexed by styleID.
type styles struct {
	s       []sgr
	sources int // number of source colours (0 in monochrome)
}

func newStyles(th theme.Theme) styles {
	s := make([]sgr, stSource)
	s[stText] = sgrOf(th.Text)
	s[stDim] = sgrOf(th.Dim)
	s[stNotice] = sgrOf(th.Dim.Italic(true))
	s[stMatch] = sgrOf(th.Drift.Reverse(true))
	s[stCurrent] = sgrOf(th.Accent.Reverse(true).Underline(true))
	s[stDebug] = sgrOf(th.Dim)
	s[stInfo] = sgrOf(th.Severity(fleet.SeverityInfo))
	s[stWarn] = sgrOf(th.Severity(fleet.SeverityWarning))
	s[stError] = sgrOf(th.Error)
	if th.Mono {
		return styles{s: s}
	}
	var colours []color.Color
	switch {
	case strings.HasPrefix(th.Name, "ansi16"):
		colours = ansiSources
	case strings.HasPrefix(th.Name, "light"):
		for _, c := range lightSources {
			colours = append(colours, lipgloss.Color(c))
		}
	default:
		for _, c := range darkSources {
			colours = append(colours, lipgloss.Color(c))
		}
	}
	for _, c := range colours {
		s = append(s, sgrOf(lipgloss.NewStyle().Foreground(c)))
	}
	return styles{s: s, sources: len(colours)}
}

// source is the style of a line's source prefix.
func (st *styles) source(l *Line) styleID {
	if st.sources == 0 {
		return stText
	}
	h := fnv.New32a()
	for _, p := range []string{l.Cluster, l.Namespace, l.Pod, l.Container} {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return stSource + styleID(h.Sum32()%uint32(st.sources))
}

// span is a styled part of a row's text: from the previous span's end to end.
type span struct {
	end int
	st  styleID
}

// row is one log line composed as plain text and its styles, before it is cut into cells.
type row struct {
	text     string
	spans    []span
	msgStart int // where the message starts in text: search matches are looked for from there
}

type rowBuilder struct {
	b     strings.Builder
	spans []span
}

func (rb *rowBuilder) add(s string, st styleID) {
	if s == "" {
		return
	}
	rb.b.WriteString(s)
	if n := len(rb.spans); n > 0 && rb.spans[n-1].st == st {
		rb.spans[n-1].end = rb.b.Len()
		return
	}
	rb.spans = append(rb.spans, span{rb.b.Len(), st})
}

// format says how lines are shown; it is all compose needs, so saving can format lines away
// from the model.
type format struct {
	prefix, timestamps, pretty bool
}

// Notice lines start with this marker.
const noticeMarker = "» "

// tsLayout is fixed-width so that lines stay aligned; saved files carry the full date.
const (
	tsLayout     = "15:04:05.000Z"
	tsFileLayout = "2006-01-02T15:04:05.000Z"
)

// sourceText is "cluster/pod/container", leaving out empty parts (a notice may name only a
// cluster).
func sourceText(l *Line) string {
	parts := make([]string, 0, 3)
	for _, p := range []string{l.Cluster, l.Pod, l.Container} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, "/")
}

// message is the part of a line that search looks at: its text, or the readable form of a
// JSON line when pretty is on.
func message(l *Line, f format) (text string, levelLen int, class levelClass) {
	if f.pretty && !l.Notice {
		if p, ok := prettyJSON(l.Text); ok {
			s, n := p.text()
			return s, n, p.Class
		}
	}
	return l.Text, 0, levelOther
}

// compose lays out one line: notice marker, source, timestamp, message.
func compose(l *Line, f format, st *styles, tsLay string) row {
	var rb rowBuilder
	base := stText
	if l.Notice {
		base = stNotice
		rb.add(noticeMarker, base)
	}
	if f.prefix {
		if src := sourceText(l); src != "" {
			s := base
			if !l.Notice {
				s = st.source(l)
			}
			rb.add(src, s)
			rb.add(" ", base)
		}
	}
	if f.timestamps {
		s := base
		if !l.Notice {
			s = stDim
		}
		if l.Time.IsZero() {
			rb.add(strings.Repeat("-", len(tsLay)), s)
		} else {
			rb.add(l.Time.UTC().Format(tsLay), s)
		}
		rb.add(" ", base)
	}
	msgStart := rb.b.Len()
	msg, levelLen, class := message(l, f)
	if levelLen > 0 {
		rb.add(msg[:levelLen], levelStyle(class))
		rb.add(msg[levelLen:], base)
	} else {
		rb.add(msg, base)
	}
	return row{text: rb.b.String(), spans: rb.spans, msgStart: msgStart}
}

func levelStyle(c levelClass) styleID {
	switch c {
	case levelDebug:
		return stDebug
	case levelInfo:
		return stInfo
	case levelWarn:
		return stWarn
	case levelError:
		return stError
	}
	return stText
}

// maxHighlights bounds the matches highlighted in one line (a one-letter search on a long
// line would otherwise cost thousands of spans).
const maxHighlights = 256

// highlight restyles the parts of the message that re matches.
func (r *row) highlight(re *regexp.Regexp, st styleID) {
	locs := re.FindAllStringIndex(r.text[r.msgStart:], maxHighlights)
	if len(locs) == 0 {
		return
	}
	out := make([]span, 0, len(r.spans)+2*len(locs))
	push := func(end int, s styleID) {
		if n := len(out); n > 0 && out[n-1].st == s {
			out[n-1].end = end
			return
		}
		out = append(out, span{end, s})
	}
	si, pos := 0, 0
	base := func(to int) { // the original styles from pos up to to
		for pos < to {
			for r.spans[si].end <= pos {
				si++
			}
			e := min(r.spans[si].end, to)
			push(e, r.spans[si].st)
			pos = e
		}
	}
	for _, loc := range locs {
		ms, me := r.msgStart+loc[0], r.msgStart+loc[1]
		if ms == me || ms < pos {
			continue // an empty match marks nothing
		}
		base(ms)
		push(me, st)
		pos = me
	}
	base(len(r.text))
	r.spans = out
}

// graphemeAt returns the length in bytes and the width in cells of the grapheme at s[i:].
// Lines are sanitised, so printable ASCII followed by ASCII is one cell: the common case
// needs no segmentation.
func graphemeAt(s string, i int) (size, width int) {
	if s[i] < 0x80 && (i+1 == len(s) || s[i+1] < 0x80) {
		return 1, 1
	}
	cluster, w := ansi.FirstGraphemeCluster(s[i:], ansi.GraphemeWidth)
	if len(cluster) == 0 {
		return 1, 0
	}
	return len(cluster), w
}

// advance moves from byte i over at most n cells; a wide grapheme that would straddle the
// limit is not taken. It returns the new offset and the cells taken.
func advance(s string, i, n int) (int, int) {
	c := 0
	for i < len(s) {
		size, w := graphemeAt(s, i)
		if c+w > n {
			break
		}
		c += w
		i += size
	}
	return i, c
}

// writeRange writes text[b0:b1] of r with its styles.
func (r *row) writeRange(b *strings.Builder, st *styles, b0, b1 int) {
	start := 0
	for _, sp := range r.spans {
		s, e := max(start, b0), min(sp.end, b1)
		start = sp.end
		if s >= e {
			continue
		}
		g := st.s[sp.st]
		b.WriteString(g.open)
		b.WriteString(r.text[s:e])
		b.WriteString(g.close)
		if sp.end >= b1 {
			break
		}
	}
}

// ellipsis marks a row cut at the pane's edge.
const ellipsis = "…"

// cut draws r in exactly width cells, starting hscroll cells in; cut parts are marked with an
// ellipsis at the edge where they are.
func (r *row) cut(st *styles, width, hscroll int) string {
	if width <= 0 {
		return ""
	}
	var b strings.Builder
	cells := 0
	i := 0
	if hscroll > 0 {
		i, _ = advance(r.text, 0, hscroll)
		i, _ = advance(r.text, i, 1) // the marker takes the first cell
		dim := st.s[stDim]
		b.WriteString(dim.open + ellipsis + dim.close)
		cells = 1
	}
	end, w := advance(r.text, i, width-cells)
	if end < len(r.text) {
		end, w = advance(r.text, i, width-cells-1)
		r.writeRange(&b, st, i, end)
		cells += w
		dim := st.s[stDim]
		b.WriteString(strings.Repeat(" ", width-1-cells) + dim.open + ellipsis + dim.close)
		return b.String()
	}
	r.writeRange(&b, st, i, end)
	cells += w
	b.WriteString(strings.Repeat(" ", width-cells))
	return b.String()
}

// wrapBounds are the byte offsets where r's text breaks into rows of width cells.
func (r *row) wrapBounds(width int) []int {
	bounds := []int{0}
	for i := 0; i < len(r.text); {
		next, w := advance(r.text, i, width)
		if w == 0 { // a grapheme wider than the pane: give it a row of its own
			size, _ := graphemeAt(r.text, i)
			next = i + size
		}
		i = next
		bounds = append(bounds, i)
	}
	if len(bounds) == 1 {
		bounds = append(bounds, 0) // an empty line is one empty row
	}
	return bounds
}

// wrapped draws rows [from, to) of r wrapped at width, each exactly width cells.
func (r *row) wrapped(st *styles, bounds []int, width, from, to int) []string {
	out := make([]string, 0, to-from)
	for k := from; k < to; k++ {
		var b strings.Builder
		r.writeRange(&b, st, bounds[k], bounds[k+1])
		line := b.String()
		switch w := ansi.StringWidth(r.text[bounds[k]:bounds[k+1]]); {
		case w < width:
			line += strings.Repeat(" ", width-w)
		case w > width: // a grapheme wider than the pane
			line = ansi.Truncate(line, width, "")
		}
		out = append(out, line)
	}
	return out
}

// plainLine is a line as saved to a file: its layout on screen, without styles, never cut.
func plainLine(l *Line, f format) string {
	var st styles
	st.s = make([]sgr, stSource)
	return compose(l, f, &st, tsFileLayout).text
}
