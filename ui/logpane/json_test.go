package logpane

import (
	"strings"
	"testing"
)

func TestPrettyJSON(t *testing.T) {
	tests := []struct {
		name, in, want string
		class          levelClass
		ok             bool
	}{
		{"level msg rest in line order", `{"ts":"2026-03-14T09:26:53Z","level":"info","msg":"started","port":8080,"tls":true}`,
			"INFO  started  ts=2026-03-14T09:26:53Z port=8080 tls=true", levelInfo, true},
		{"message and severity", `{"message":"disk full","severity":"ERROR","path":"/var/lib"}`,
			"ERROR  disk full  path=/var/lib", levelError, true},
		{"warn", `{"lvl":"warn","msg":"slow"}`, "WARN  slow", levelWarn, true},
		{"debug", `{"level":"debug","msg":"x"}`, "DEBUG  x", levelDebug, true},
		{"numeric level", `{"level":30,"msg":"bunyan"}`, "30  bunyan", levelOther, true},
		{"no level", `{"msg":"only a message","n":1}`, "only a message  n=1", levelOther, true},
		{"neither", `{"a":1,"b":"two words"}`, `a=1 b="two words"`, levelOther, true},
		{"quoting", `{"msg":"m","empty":"","eq":"a=b","q":"say \"hi\""}`, `m  empty="" eq="a=b" q="say \"hi\""`, levelOther, true},
		{"nested compact", `{"msg":"m","req":{ "id": 7, "tags": ["a", "b"] }}`, `m  req={"id":7,"tags":["a","b"]}`, levelOther, true},
		{"second level key kept with the rest", `{"level":"info","severity":"high","msg":"m"}`, "INFO  m  severity=high", levelInfo, true},
		{"big number kept", `{"msg":"m","id":12345678901234567890}`, "m  id=12345678901234567890", levelOther, true},
		{"escape decoded then removed", `{"msg":"a\u001b[31mred\u001b]52;c;AAAA\u0007b","k":"\u202eevil"}`, "aredb  k=evil", levelOther, true},
		{"leading space", `  {"msg":"m"}  `, "m", levelOther, true},
		{"not an object", `["a"]`, "", 0, false},
		{"plain text", `GET / 200`, "", 0, false},
		{"trailing garbage", `{"msg":"m"} extra}`, "", 0, false},
		{"two objects", `{"msg":"a"}{"msg":"b"}`, "", 0, false},
		{"broken", `{"msg":}`, "", 0, false},
		{"empty object", `{}`, "", levelOther, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok := prettyJSON(tt.in)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			got, _ := p.text()
			if got != tt.want || p.Class != tt.class {
				t.Errorf("got %q (class %d), want %q (class %d)", got, p.Class, tt.want, tt.class)
			}
		})
	}
}

func TestPrettyToggle(t *testing.T) {
	m := newPane(t, 140, 6, Options{})
	raw := `{"level":"error","msg":"payment declined","order":"A-17","amount":12.5}`
	m.Append([]Line{from(srcUS, 0, raw), from(srcUS, 1, "not json {")})
	if !strings.Contains(plain(m), raw) {
		t.Fatalf("JSON not shown as it is by default:\n%s", plain(m))
	}
	press(m, "/order enter")
	if len(m.matches) != 1 {
		t.Fatalf("%d matches for a key of the raw line", len(m.matches))
	}
	press(m, "J")
	s := m.View()
	if !strings.Contains(stripped(s), "api ERROR  payment declined  order=A-17 amount=12.5") || !strings.Contains(stripped(s), "api not json {") {
		t.Errorf("pretty:\n%s", stripped(s))
	}
	if e := sgrOf(m.th.Error).open; !strings.Contains(s, e+"ERROR") {
		t.Errorf("the error level is not in the error style %q:\n%q", e, s)
	}
	if len(m.matches) != 1 {
		t.Errorf("search not recomputed on the shown text: %d matches", len(m.matches))
	}
	press(m, `/amount":12 enter`)
	if len(m.matches) != 0 {
		t.Errorf("search looks at the raw text while pretty is on: %d matches", len(m.matches))
	}
	press(m, "/amount=12 enter")
	if len(m.matches) != 1 {
		t.Errorf("search misses the pretty text: %d matches", len(m.matches))
	}
}
