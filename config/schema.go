package config

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The schema walk compares the YAML node tree with the Config structs'
// yaml tags. Viper forgets positions, so this is where unknown keys and
// wrong types are found with their line and column.

var durationType = reflect.TypeOf(time.Duration(0))

// schemaWalker collects problems while walking one document.
type schemaWalker struct {
	file     string
	problems Problems
	// typeErrors counts wrong-type findings: after one, the decoded config
	// is incomplete and semantic checks would only add noise.
	typeErrors int
}

func (w *schemaWalker) add(n *yaml.Node, sev Severity, hint, format string, args ...any) {
	w.problems = append(w.problems, Problem{File: w.file, Line: n.Line, Column: n.Column,
		Severity: sev, Message: fmt.Sprintf(format, args...), Hint: hint})
}

func (w *schemaWalker) typeError(n *yaml.Node, hint, format string, args ...any) {
	w.typeErrors++
	w.add(n, SeverityError, hint, format, args...)
}

// yamlFields maps a struct's yaml keys to field indexes.
func yamlFields(t reflect.Type) (map[string]int, []string) {
	fields := map[string]int{}
	var names []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" || !f.IsExported() {
			continue
		}
		fields[tag] = i
		names = append(names, tag)
	}
	return fields, names
}

// resolveAlias follows YAML aliases (*anchor) to the node they name.
func resolveAlias(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names what a node holds, for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!bool":
			return fmt.Sprintf("the boolean %s", n.Value)
		case "!!int", "!!float":
			return fmt.Sprintf("the number %s", n.Value)
		case "!!null":
			return "nothing"
		}
		return fmt.Sprintf("the string %q", n.Value)
	}
	return "an unsupported YAML node"
}

// walk checks node n against type t; where is the dotted path for messages.
func (w *schemaWalker) walk(n *yaml.Node, t reflect.Type, where string) {
	n = resolveAlias(n)
	if n == nil || isNull(n) {
		return // absent: defaults or required-checks handle it
	}
	switch {
	case t == durationType:
		if n.Kind != yaml.ScalarNode {
			w.typeError(n, `write a duration such as "5s" or "1m30s"`, "%s: expected a duration, got %s", where, describe(n))
			return
		}
		if tag := n.ShortTag(); tag == "!!int" || tag == "!!float" {
			w.typeError(n, fmt.Sprintf("add a unit: %q", n.Value+"s"), "%s: duration %s has no unit", where, n.Value)
			return
		}
		if _, err := time.ParseDuration(n.Value); err != nil {
			w.typeError(n, `write a duration such as "5s" or "1m30s"`, "%s: invalid duration %q", where, n.Value)
		}
	case t.Kind() == reflect.String:
		if n.Kind != yaml.ScalarNode {
			w.typeError(n, "", "%s: expected a string, got %s", where, describe(n))
			return
		}
		if n.ShortTag() == "!!bool" {
			w.typeError(n, fmt.Sprintf("quote it if you mean the text: %q", n.Value), "%s: expected a string, got %s", where, describe(n))
		}
	case t.Kind() == reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			w.typeError(n, "write true or false", "%s: expected true or false, got %s", where, describe(n))
		}
	case t.Kind() == reflect.Int:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			w.typeError(n, "write a whole number without quotes", "%s: expected a whole number, got %s", where, describe(n))
		}
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			hint := `write a list: one "- item" per line, or [a, b]`
			if n.Kind == yaml.ScalarNode && t.Elem().Kind() == reflect.String {
				hint = fmt.Sprintf("write a list: [%s]", n.Value)
			}
			w.typeError(n, hint, "%s: expected a list, got %s", where, describe(n))
			return
		}
		for i, item := range n.Content {
			w.walk(item, t.Elem(), fmt.Sprintf("%s[%d]", where, i))
		}
	case t.Kind() == reflect.Struct:
		w.walkStruct(n, t, where)
	default:
		// Unreachable for the Config types; kept so a new field type fails
		// loudly in tests instead of passing unchecked.
		w.typeError(n, "", "%s: fleetdeck cannot check values of type %s", where, t)
	}
}

func (w *schemaWalker) walkStruct(n *yaml.Node, t reflect.Type, where string) {
	if n.Kind != yaml.MappingNode {
		what := "keys"
		if where != "" {
			what = where
		}
		w.typeError(n, "", "%s: expected a mapping of keys, got %s", what, describe(n))
		return
	}
	fields, names := yamlFields(t)
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := k.Value
		child := key
		if where != "" {
			child = where + "." + key
		}
		if k.Kind != yaml.ScalarNode {
			w.typeError(k, "", "%s: keys must be plain words, got %s", whereOrTop(where), describe(k))
			continue
		}
		if key == "<<" { // merge key: check the merged mapping's keys here
			for _, m := range mergeSources(v) {
				w.walkStruct(m, t, where)
			}
			continue
		}
		if first, dup := seen[key]; dup {
			w.add(k, SeverityError, fmt.Sprintf("first set on line %d; keep one", first.Line), "duplicate key %q in %s", key, whereOrTop(where))
			continue
		}
		seen[key] = k
		idx, ok := fields[key]
		if !ok {
			w.add(k, SeverityError, suggestKey(key, names), "unknown key %q in %s", key, whereOrTop(where))
			continue
		}
		w.walk(v, t.Field(idx).Type, child)
	}
}

func mergeSources(v *yaml.Node) []*yaml.Node {
	v = resolveAlias(v)
	if v.Kind == yaml.SequenceNode {
		var out []*yaml.Node
		for _, c := range v.Content {
			out = append(out, resolveAlias(c))
		}
		return out
	}
	return []*yaml.Node{v}
}

func whereOrTop(where string) string {
	if where == "" {
		return "the top level"
	}
	return where
}

// suggestKey proposes the closest valid key, or lists the valid keys.
func suggestKey(key string, valid []string) string {
	if s, ok := closest(key, valid); ok {
		return fmt.Sprintf("did you mean %q?", s)
	}
	sorted := append([]string(nil), valid...)
	sort.Strings(sorted)
	return "valid keys here: " + strings.Join(sorted, ", ")
}

// closest returns the candidate nearest to s by edit distance (ignoring
// case), if it is near enough to be a plausible typo.
func closest(s string, candidates []string) (string, bool) {
	best, bestD := "", -1
	ls := strings.ToLower(s)
	for _, c := range candidates {
		d := levenshtein(ls, strings.ToLower(c))
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	limit := len(s) / 3
	if limit < 2 {
		limit = 2
	}
	if bestD < 0 || bestD > limit || bestD >= len(s) {
		return "", false
	}
	return best, true
}

// levenshtein is the optimal-string-alignment edit distance: insertions,
// deletions, substitutions and transpositions of neighbours ("prod-ue" is
// one edit from "prod-eu") each cost one.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// envKeys lists the scalar keys reachable from the top through mappings
// only (not through lists): these are the ones FLEETDECK_* variables can
// override. Keys are dotted yaml paths such as "ui.theme".
func envKeys(t reflect.Type, prefix string) []envKey {
	var out []envKey
	fields, names := yamlFields(t)
	for _, name := range names {
		f := t.Field(fields[name])
		key := name
		if prefix != "" {
			key = prefix + "." + name
		}
		switch {
		case f.Type == durationType, f.Type.Kind() == reflect.String, f.Type.Kind() == reflect.Bool, f.Type.Kind() == reflect.Int:
			out = append(out, envKey{key: key, typ: f.Type})
		case f.Type.Kind() == reflect.Struct:
			out = append(out, envKeys(f.Type, key)...)
		}
	}
	return out
}

type envKey struct {
	key string
	typ reflect.Type
}

// envVar is the variable overriding a key: FLEETDECK_ + the key upper-cased
// with dots as underscores (ui.theme → FLEETDECK_UI_THEME), as viper's
// SetEnvPrefix + SetEnvKeyReplacer name it.
func envVar(key string) string {
	return EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// EnvPrefix prefixes every environment override.
const EnvPrefix = "FLEETDECK"

// checkEnvValue validates an environment value for a key of type t and
// returns it converted for viper.
func checkEnvValue(t reflect.Type, raw string) (any, string, error) {
	switch {
	case t == durationType:
		d, err := time.ParseDuration(raw)
		if err != nil {
			return nil, `write a duration such as "5s"`, fmt.Errorf("invalid duration %q", raw)
		}
		return d, "", nil
	case t.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return nil, "write true or false (or 1/0)", fmt.Errorf("expected true or false, got %q", raw)
		}
		return b, "", nil
	case t.Kind() == reflect.Int:
		i, err := strconv.Atoi(raw)
		if err != nil {
			return nil, "write a whole number", fmt.Errorf("expected a whole number, got %q", raw)
		}
		return i, "", nil
	}
	return raw, "", nil
}
