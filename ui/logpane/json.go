package logpane

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"strings"

	"github.com/fleetdeck/fleetdeck/internal/sanitize"
)

// Keys that name a structured line's level and message, as zap, logrus, slog, zerolog and
// bunyan write them; the first such key in a line wins, later ones are shown with the rest.
var (
	levelKeys = []string{"level", "lvl", "severity", "loglevel"}
	msgKeys   = []string{"msg", "message"}
)

// levelClass is how a level is coloured.
type levelClass int

const (
	levelOther levelClass = iota
	levelDebug
	levelInfo
	levelWarn
	levelError
)

// pretty is a JSON line made readable: its level, its message, then every other key as k=v in
// the order the line had them.
type pretty struct {
	Level string
	Class levelClass
	Msg   string
	Rest  string // "k=v k=v"
}

// text joins the parts with two spaces; levelLen is the length of the level part at its start.
func (p pretty) text() (s string, levelLen int) {
	var parts []string
	if p.Level != "" {
		parts = append(parts, p.Level)
		levelLen = len(p.Level)
	}
	if p.Msg != "" {
		parts = append(parts, p.Msg)
	}
	if p.Rest != "" {
		parts = append(parts, p.Rest)
	}
	return strings.Join(parts, "  "), levelLen
}

// prettyJSON parses a line holding exactly one JSON object. Decoded strings may hold escapes
// (\u001b) that the raw line did not, so every part is sanitised again.
func prettyJSON(line string) (pretty, bool) {
	s := strings.TrimSpace(line)
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return pretty{}, false
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return pretty{}, false
	}
	type kv struct{ k, v string }
	var kvs []kv
	var p pretty
	var haveLevel, haveMsg bool
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return pretty{}, false
		}
		k, ok := tok.(string)
		if !ok {
			return pretty{}, false
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return pretty{}, false
		}
		v := jsonValue(raw)
		lk := strings.ToLower(k)
		if !haveLevel && indexOf(levelKeys, lk) >= 0 {
			haveLevel, p.Level = true, v
			continue
		}
		if !haveMsg && indexOf(msgKeys, lk) >= 0 {
			haveMsg, p.Msg = true, v
			continue
		}
		kvs = append(kvs, kv{k, quoteValue(raw, v)})
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return pretty{}, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return pretty{}, false // something after the object
	}
	var rest strings.Builder
	for i, e := range kvs {
		if i > 0 {
			rest.WriteByte(' ')
		}
		rest.WriteString(e.k)
		rest.WriteByte('=')
		rest.WriteString(e.v)
	}
	p.Level = sanitize.Line(strings.ToUpper(p.Level))
	p.Class = classify(p.Level)
	p.Msg = sanitize.Line(p.Msg)
	p.Rest = sanitize.Line(rest.String())
	return p, true
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// jsonValue is a value as text: a string without its quotes, anything else as compact JSON.
func jsonValue(raw json.RawMessage) string {
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) == nil {
		return b.String()
	}
	return string(raw)
}

// quoteValue quotes a string value when k=v would otherwise be ambiguous to read.
func quoteValue(raw json.RawMessage, v string) string {
	if len(raw) == 0 || raw[0] != '"' {
		return v
	}
	if v == "" || strings.ContainsAny(v, " =\"") {
		return strconv.Quote(v)
	}
	return v
}

func classify(level string) levelClass {
	switch strings.ToLower(level) {
	case "error", "err", "fatal", "panic", "dpanic", "critical", "crit", "alert", "emerg", "emergency":
		return levelError
	case "warn", "warning":
		return levelWarn
	case "info", "notice", "information":
		return levelInfo
	case "debug", "trace", "dbg":
		return levelDebug
	}
	return levelOther
}
