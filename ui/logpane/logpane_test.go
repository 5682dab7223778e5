package logpane

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fleetdeck/fleetdeck/ui/internal/panetest"
)

func TestRing(t *testing.T) {
	tests := []struct {
		name        string
		size, push  int
		first, last uint64
		dropped     bool // whether the last push dropped a line
	}{
		{"empty", 3, 0, 1, 0, false},
		{"partly full", 3, 2, 1, 2, false},
		{"exactly full", 3, 3, 1, 3, false},
		{"wrapped once", 3, 4, 2, 4, true},
		{"wrapped many times", 3, 10, 8, 10, true},
		{"size one", 1, 5, 5, 5, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRing(tt.size)
			dropped := false
			for i := 1; i <= tt.push; i++ {
				dropped = r.push(Line{Text: fmt.Sprint(i)})
			}
			if r.first != tt.first || r.last() != tt.last || dropped != tt.dropped {
				t.Fatalf("first %d last %d dropped %v, want %d %d %v", r.first, r.last(), dropped, tt.first, tt.last, tt.dropped)
			}
			for seq := uint64(0); seq <= tt.last+1; seq++ {
				l, ok := r.get(seq)
				want := seq >= tt.first && seq <= tt.last
				if ok != want {
					t.Fatalf("get(%d) ok %v, want %v", seq, ok, want)
				}
				if ok && l.Text != fmt.Sprint(seq) {
					t.Errorf("get(%d) = %q, want the line pushed %d-th", seq, l.Text, seq)
				}
			}
		})
	}
}

func TestRingBoundsThePane(t *testing.T) {
	m := newPane(t, 80, 24, Options{Ring: 100})
	for i := 0; i < 10; i++ {
		m.Append(numbered(i*50, 50))
	}
	if m.ring.n != 100 || len(m.shown) != 100 || m.dropped != 400 {
		t.Fatalf("ring holds %d, shown %d, dropped %d; want 100, 100, 400", m.ring.n, len(m.shown), m.dropped)
	}
	if got := texts(m)[0]; got != "WARN slow query on products (600ms) for request 400" {
		t.Errorf("oldest line kept is %q, want request 400", got)
	}
	if s := plain(m); !strings.Contains(s, "400 dropped (keeps 100)") {
		t.Errorf("status does not count the dropped lines:\n%s", s)
	}
	if cap(m.shown) > 400 {
		t.Errorf("the shown list holds %d entries of memory for 100 lines", cap(m.shown))
	}
}

func TestDefaults(t *testing.T) {
	m := New(Options{})
	if m.opts.Ring != DefaultRing || len(m.ring.lines) != DefaultRing || m.opts.MaxLineBytes != DefaultMaxLineBytes {
		t.Errorf("ring %d (%d slots), max line %d; want defaults", m.opts.Ring, len(m.ring.lines), m.opts.MaxLineBytes)
	}
	if m.opts.SaveDir == "" || m.opts.Now == nil || m.th.Name == "" || !m.follow {
		t.Errorf("defaults not set: %+v", m.opts)
	}
	t.Setenv("XDG_STATE_HOME", "/state")
	if got := DefaultSaveDir(); got != "/state/fleetdeck/logs" {
		t.Errorf("DefaultSaveDir with XDG_STATE_HOME = %q", got)
	}
	t.Setenv("XDG_STATE_HOME", "relative") // not absolute: ignored, as the spec says
	t.Setenv("HOME", "/home/u")
	if got := DefaultSaveDir(); got != "/home/u/.local/state/fleetdeck/logs" {
		t.Errorf("DefaultSaveDir with HOME = %q", got)
	}
}

func TestFilters(t *testing.T) {
	lines := []Line{
		from(srcUS, 0, "GET /healthz 200"),
		from(srcUS, 1, "ERROR payment declined"),
		from(srcEU, 2, "GET /api/cart 200"),
		from(srcEU, 3, "error: upstream timeout"),
		{Cluster: srcEU.Cluster, Text: "cluster prod-eu unreachable", Notice: true, Time: t0},
	}
	notice := "cluster prod-eu unreachable"
	tests := []struct {
		name string
		keys string
		want []string
		head string // in the header
	}{
		{"none", "", []string{lines[0].Text, lines[1].Text, lines[2].Text, lines[3].Text, notice}, ""},
		{"include", "i (?i)error enter", []string{lines[1].Text, lines[3].Text, notice}, "[+(?i)error]"},
		{"include is case-sensitive as typed", "i error enter", []string{lines[3].Text, notice}, "[+error]"},
		{"exclude", "e healthz enter", []string{lines[1].Text, lines[2].Text, lines[3].Text, notice}, "[−healthz]"},
		{"include and exclude", "i GET enter e healthz enter", []string{lines[2].Text, notice}, "[+GET · −healthz]"},
		{"include matches the source", "i prod-us enter", []string{lines[0].Text, lines[1].Text, notice}, "[+prod-us]"},
		{"exclude matches the source", "e q8w4n enter", []string{lines[0].Text, lines[1].Text, notice}, "[−q8w4n]"},
		{"empty removes", "i GET enter i ctrl+u enter", []string{lines[0].Text, lines[1].Text, lines[2].Text, lines[3].Text, notice}, ""},
		{"esc keeps the filter", "i GET enter i backspace backspace esc", []string{lines[0].Text, lines[2].Text, notice}, "[+GET]"},
		{"x clears", "i GET enter e cart enter x", []string{lines[0].Text, lines[1].Text, lines[2].Text, lines[3].Text, notice}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newPane(t, 100, 12, Options{})
			m.Append(lines[:2]) // lines already buffered are filtered...
			press(m, tt.keys)
			m.Append(lines[2:]) // ...and so are new ones
			if m.Capturing() {
				t.Fatal("a prompt is still open")
			}
			if got := texts(m); !slices.Equal(got, tt.want) {
				t.Errorf("shown %q, want %q", got, tt.want)
			}
			head := strings.SplitN(plain(m), "\n", 2)[0]
			if tt.head != "" && !strings.Contains(head, tt.head) {
				t.Errorf("header %q lacks %q", head, tt.head)
			}
			if tt.head == "" && strings.Contains(head, "[") {
				t.Errorf("header %q shows a filter", head)
			}
		})
	}
}

func TestInvalidFilter(t *testing.T) {
	m := newPane(t, 80, 10, Options{})
	m.Append(numbered(1, 5))
	press(m, "i GET enter")
	press(m, "i ( enter")
	if !m.Capturing() {
		t.Fatal("an invalid regex closed the prompt")
	}
	last := lastLine(plain(m))
	if !strings.Contains(last, "include: GET(▏") || !strings.Contains(last, "invalid regex: missing closing )") {
		t.Errorf("prompt line %q does not show the error", last)
	}
	if m.include.String() != "GET" || len(m.shown) != 4 {
		t.Errorf("the previous filter changed: %v, %d shown", m.include, len(m.shown))
	}
	press(m, "backspace")
	if strings.Contains(lastLine(plain(m)), "invalid") {
		t.Error("the error stays after editing")
	}
	press(m, "enter")
	if m.Capturing() || len(m.shown) != 4 {
		t.Errorf("fixed regex not applied: capturing %v, %d shown", m.Capturing(), len(m.shown))
	}
}

func lastLine(s string) string {
	lines := strings.Split(s, "\n")
	return lines[len(lines)-1]
}

func TestCapturingAndClose(t *testing.T) {
	m := newPane(t, 80, 10, Options{})
	for _, k := range []string{"esc", "q"} {
		cmd := press(m, k)
		if cmd == nil {
			t.Fatalf("%s returned no command", k)
		}
		if _, ok := cmd().(ClosedMsg); !ok {
			t.Errorf("%s: command yields %T, want ClosedMsg", k, cmd())
		}
	}
	for _, open := range []string{"/", "i", "e"} {
		press(m, open)
		if !m.Capturing() {
			t.Fatalf("%s: not capturing", open)
		}
		// Keys of the pane are text in a prompt: q types, it does not close.
		if cmd := press(m, "q j"); cmd != nil || m.input != "qj" {
			t.Errorf("%s: q j gave input %q, cmd %v", open, m.input, cmd)
		}
		m.Update(pasteMsg("x\x1b]52;c;AAAA\x07y"))
		if m.input != "qjxy" {
			t.Errorf("%s: paste gave %q", open, m.input)
		}
		if cmd := press(m, "esc"); cmd != nil || m.Capturing() {
			t.Errorf("%s: esc in a prompt closed the pane or kept the prompt", open)
		}
	}
}

func TestFollowAndPause(t *testing.T) {
	m := newPane(t, 80, 10, Options{}) // 8 rows of lines
	m.Append(numbered(1, 20))
	if s := plain(m); !strings.Contains(s, "products/19 ") || !strings.Contains(s, "● following") {
		t.Fatalf("following does not show the newest lines:\n%s", s)
	}
	press(m, "space")
	if m.Following() {
		t.Fatal("space did not pause")
	}
	frozen := body(plain(m))
	m.Append(numbered(21, 7))
	if got := body(plain(m)); got != frozen {
		t.Errorf("the screen moved while paused:\n%s\nwant\n%s", got, frozen)
	}
	if s := lastLine(plain(m)); !strings.Contains(s, "⏸ paused · 7 new lines") {
		t.Errorf("status %q lacks the waiting count", s)
	}
	press(m, "j j") // already at the bottom of what was there: moves over new lines
	if s := lastLine(plain(m)); !strings.Contains(s, "paused · 5 new lines") {
		t.Errorf("after scrolling down two rows: %q", s)
	}
	press(m, "f")
	if !m.Following() || !strings.Contains(plain(m), "products/26 ") {
		t.Errorf("f did not resume at the bottom:\n%s", plain(m))
	}
	press(m, "k")
	if m.Following() {
		t.Error("scrolling up did not pause")
	}
	press(m, "g")
	if first := strings.Split(plain(m), "\n")[1]; !strings.Contains(first, "products/1 ") {
		t.Errorf("g: first row %q, want the oldest line", first)
	}
	press(m, "pgdown")
	if first := strings.Split(plain(m), "\n")[1]; !strings.Contains(first, "products/8 ") {
		t.Errorf("pgdown: first row %q, want line 8", first)
	}
	press(m, "G")
	if !m.Following() {
		t.Error("G did not follow")
	}
}

func TestPausedLinesDropped(t *testing.T) {
	m := newPane(t, 80, 10, Options{Ring: 30})
	m.Append(numbered(1, 30))
	press(m, "g") // paused on the oldest line
	m.Append(numbered(31, 20))
	s := plain(m)
	if rows := strings.Split(s, "\n"); !strings.Contains(rows[1], `"msg":"cache refreshed"`) || !strings.Contains(rows[2], "products/22 ") {
		t.Errorf("first rows %q, want the oldest lines still kept (21, 22)", rows[1:3])
	}
	if !strings.Contains(s, "paused · 20 new lines") || !strings.Contains(s, "20 dropped") {
		t.Errorf("status lacks waiting and dropped counts:\n%s", s)
	}
}

// body is the screen without its header and status line.
func body(s string) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[1:len(lines)-1], "\n")
}

func TestSearch(t *testing.T) {
	m := newPane(t, 120, 10, Options{})
	m.Append(numbered(1, 50)) // WARN slow query on 5, 10, …, 30, 40, 45, 50 (35 is JSON)
	press(m, "/SLOW enter")   // case-insensitive
	if len(m.matches) != 9 {
		t.Fatalf("%d matches, want 9", len(m.matches))
	}
	tests := []struct {
		keys    string
		current int // request number of the current match
		status  string
	}{
		{"", 50, "match 9/9"}, // the newest on screen
		{"N", 45, "match 8/9"},
		{"N", 40, "match 7/9"},
		{"N", 30, "match 6/9"}, // off screen: scrolls
		{"n", 40, "match 7/9"},
		{"n n n", 5, "match 1/9"}, // wraps around
		{"N", 50, "match 9/9"},
	}
	for _, tt := range tests {
		press(m, tt.keys)
		l, _ := m.ring.get(m.current)
		if want := fmt.Sprintf("for request %d", tt.current); !strings.HasSuffix(l.Text, want) {
			t.Errorf("after %q current match %q, want request %d", tt.keys, l.Text, tt.current)
		}
		s := plain(m)
		if !strings.Contains(lastLine(s), "/SLOW  "+tt.status) {
			t.Errorf("after %q status %q lacks %q", tt.keys, lastLine(s), tt.status)
		}
		if !strings.Contains(body(s), fmt.Sprintf("(%dms) for request %d", 200+tt.current, tt.current)) {
			t.Errorf("after %q the current match is not on screen:\n%s", tt.keys, s)
		}
	}
	// New lines that match are counted; a plain-text search that is not a regex still works.
	m.Append([]Line{from(srcUS, 60, "WARN slow query (1ms)")})
	if !strings.Contains(lastLine(plain(m)), "match 9/10") {
		t.Errorf("a new match is not counted: %q", lastLine(plain(m)))
	}
	press(m, "/(1ms enter")
	if len(m.matches) != 1 {
		t.Errorf("plain-text search for %q: %d matches, want 1", "(1ms", len(m.matches))
	}
	press(m, "/ enter")
	if m.search != nil || strings.Contains(lastLine(plain(m)), "match") {
		t.Error("an empty search did not end the search")
	}
	press(m, "/nothing-like-this enter n")
	if s := lastLine(plain(m)); !strings.Contains(s, "no match for /nothing-like-this") {
		t.Errorf("status %q", s)
	}
}

func TestSearchHighlight(t *testing.T) {
	m := newPane(t, 80, 6, Options{})
	m.Append([]Line{from(srcUS, 0, "one needle, two needle"), from(srcUS, 1, "no match here"), from(srcUS, 2, "a needle")})
	press(m, "/needle enter")
	view := m.View()
	// Monochrome: matches are bold reverse video, the current one underlined as well.
	match := sgrOf(m.th.Drift.Reverse(true)).open
	current := sgrOf(m.th.Accent.Reverse(true).Underline(true)).open
	if !strings.Contains(match, "7") || !strings.Contains(current, "4") {
		t.Fatalf("highlight styles %q and %q lack reverse video and underline", match, current)
	}
	rows := strings.Split(view, "\n")
	if n := strings.Count(rows[1], match+"needle"); n != 2 {
		t.Errorf("row %q: %d highlighted matches, want 2", rows[1], n)
	}
	if strings.Contains(rows[2], match) || strings.Contains(rows[2], current) {
		t.Errorf("row without a match is highlighted: %q", rows[2])
	}
	if !strings.Contains(rows[3], current+"needle") {
		t.Errorf("current match not marked: %q", rows[3])
	}
}

func TestToggles(t *testing.T) {
	long := "GET /api/products?page=2&sort=price&filter=" + strings.Repeat("x", 80) + " 200"
	m := newPane(t, 60, 10, Options{})
	m.Append([]Line{from(srcUS, 0, long), {Time: t0, Text: "no source, no time"}})
	m.Append([]Line{{Cluster: srcUS.Cluster, Pod: srcUS.Pod, Container: "api", Text: "no time"}})
	s := plain(m)
	if !strings.Contains(s, "prod-us/catalog-api-7d9f8b6c5-x2x9k/api GET /api/products?p…") {
		t.Errorf("a long line is not cut with an ellipsis:\n%s", s)
	}
	press(m, "t")
	s = plain(m)
	if !strings.Contains(s, "09:26:53.000Z no source") || !strings.Contains(s, "api ------------- no ti…") {
		t.Errorf("timestamps:\n%s", s)
	}
	press(m, "t p")
	if s = plain(m); !strings.Contains(s, "\nGET /api/products") || !strings.Contains(s, "no prefix") {
		t.Errorf("prefix off:\n%s", s)
	}
	press(m, "right")
	if s = plain(m); !strings.Contains(s, "\n…") || !strings.Contains(s, "xxxxx…") {
		t.Errorf("scrolled right:\n%s", s)
	}
	press(m, "left w")
	s = m.View()
	panetest.CheckGeometry(t, s, 60, 10)
	if p := stripped(s); !strings.Contains(p, "\nGET /api/products?page=2&sort=price&filter=xxxxxxxxxxxxxxxxx\nxxxx") {
		t.Errorf("wrap:\n%s", p)
	}
}

func TestNotices(t *testing.T) {
	m := newPane(t, 80, 8, Options{})
	m.Append([]Line{
		{Cluster: srcEU.Cluster, Text: "cluster prod-eu unreachable: dial tcp: i/o timeout", Notice: true},
		from(srcUS, 1, "hello"),
	})
	press(m, "i nomatch enter")
	s := m.View()
	if !strings.Contains(stripped(s), "» prod-eu cluster prod-eu unreachable") {
		t.Errorf("notice not shown with its marker through an include filter:\n%s", stripped(s))
	}
	italic := sgrOf(m.th.Dim.Italic(true)).open
	if italic == "" || !strings.Contains(s, italic+"» ") {
		t.Errorf("notice not drawn dim and italic (%q):\n%q", italic, s)
	}
}

func TestGeometry(t *testing.T) {
	states := []string{"", "space", "w", "t J", "/api enter", "i ( ", "p right"}
	for _, sz := range [][2]int{{80, 24}, {60, 20}, {20, 5}, {10, 3}, {5, 2}, {3, 1}} {
		for _, st := range states {
			m := newPane(t, sz[0], sz[1], Options{})
			m.Append(numbered(1, 40))
			m.Append([]Line{{Text: "日本語のログ行です、とても長い行でございます。" + strings.Repeat("界", 30), Time: t0}})
			press(m, st)
			s := m.View()
			if t.Failed() {
				return
			}
			t.Run(fmt.Sprintf("%dx%d %q", sz[0], sz[1], st), func(t *testing.T) { panetest.CheckGeometry(t, s, sz[0], sz[1]) })
		}
	}
	m := newPane(t, 0, 0, Options{})
	m.Append(numbered(1, 3))
	if m.View() != "" {
		t.Error("a pane of no size draws something")
	}
}

func TestSavedMsgOfAnotherPane(t *testing.T) {
	a, b := newPane(t, 80, 5, Options{}), newPane(t, 80, 5, Options{})
	cmd := press(a, "s")
	msg := cmd()
	b.Update(msg)
	if b.status != "" {
		t.Errorf("a pane took another pane's save: %q", b.status)
	}
	_ = time.Second
}
