package diff

import (
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Ignore is one entry of an Argo CD Application's spec.ignoreDifferences.
type Ignore struct {
	// Group and Kind select the objects ("*" matches any; Group "" is the core group).
	Group string
	Kind  string
	// Name and Namespace, when set, select one object (shell globs allowed).
	Name      string
	Namespace string
	// JSONPointers are RFC 6901 pointers ("/spec/replicas").
	JSONPointers []string
	// JQPathExpressions are jq path expressions in the subset the package documents.
	JQPathExpressions []string
	// ManagedFieldsManagers name field managers whose fields are not compared.
	ManagedFieldsManagers []string
}

// matches reports whether the entry applies to the object r.
func (ig Ignore) matches(r Ref) bool {
	glob := func(pattern, s string) bool {
		if pattern == "" || pattern == "*" {
			return true
		}
		ok, err := path.Match(pattern, s)
		return err == nil && ok
	}
	return (ig.Group == "*" || ig.Group == r.Group) && (ig.Kind == "*" || ig.Kind == r.Kind) &&
		glob(ig.Name, r.Name) && glob(ig.Namespace, r.Namespace)
}

// fieldPath is a concrete path into an object: string keys and int indices.
type fieldPath []any

func (p fieldPath) key() string {
	b, _ := json.Marshal([]any(p))
	return string(b)
}

// parsePointer reads an RFC 6901 pointer; numeric tokens also address list items.
func parsePointer(ptr string) ([]string, error) {
	if ptr == "" {
		return nil, nil
	}
	if !strings.HasPrefix(ptr, "/") {
		return nil, fmt.Errorf("json pointer %q does not start with /", ptr)
	}
	toks := strings.Split(ptr[1:], "/")
	for i, t := range toks {
		toks[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return toks, nil
}

// pointerPaths resolves a pointer on obj: none when it points nowhere.
func pointerPaths(obj any, toks []string) []fieldPath {
	var p fieldPath
	cur := obj
	for _, t := range toks {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[t]
			if !ok {
				return nil
			}
			p, cur = append(p, t), v
		case []any:
			i, err := strconv.Atoi(t)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			p, cur = append(p, i), c[i]
		default:
			return nil
		}
	}
	if len(p) == 0 {
		return nil // the whole object is never ignored this way
	}
	return []fieldPath{p}
}

// removePaths deletes the values at paths from v (a copy is returned).
func removePaths(v any, paths []fieldPath) any {
	if len(paths) == 0 {
		return v
	}
	set := map[string]bool{}
	for _, p := range paths {
		set[p.key()] = true
	}
	var walk func(v any, at fieldPath) (any, bool)
	walk = func(v any, at fieldPath) (any, bool) {
		if len(at) > 0 && set[at.key()] {
			return nil, true
		}
		switch t := v.(type) {
		case map[string]any:
			out := make(map[string]any, len(t))
			for k, c := range t {
				if nv, gone := walk(c, append(slices.Clone(at), k)); !gone {
					out[k] = nv
				}
			}
			return out, false
		case []any:
			out := make([]any, 0, len(t))
			for i, c := range t {
				if nv, gone := walk(c, append(slices.Clone(at), i)); !gone {
					out = append(out, nv)
				}
			}
			return out, false
		}
		return v, false
	}
	out, _ := walk(v, nil)
	return out
}

// jqStage is one stage of a jq path expression: a path, or a select over a path.
type jqStage struct {
	path []jqStep
	sel  *jqSelect
}

type jqSelect struct {
	path    []jqStep
	negate  bool
	literal any
}

// jqStep is .name, [N] or [] (all items or values).
type jqStep struct {
	field   string
	index   int
	iterate bool
	isIndex bool
}

// jqExpr is a parsed jq path expression.
type jqExpr []jqStage

// parseJQ parses the supported subset; see the package documentation.
func parseJQ(src string) (jqExpr, error) {
	var out jqExpr
	for _, stage := range splitPipes(src) {
		stage = strings.TrimSpace(stage)
		if inner, ok := strings.CutPrefix(stage, "select("); ok {
			if !strings.HasSuffix(inner, ")") {
				return nil, fmt.Errorf("unbalanced select( in %q", stage)
			}
			inner = strings.TrimSuffix(inner, ")")
			op, negate := "==", false
			i := strings.Index(inner, "==")
			if j := strings.Index(inner, "!="); j >= 0 && (i < 0 || j < i) {
				i, op, negate = j, "!=", true
			}
			if i < 0 {
				return nil, fmt.Errorf("select(%s): only PATH == LITERAL and PATH != LITERAL are supported", inner)
			}
			steps, err := parseJQPath(strings.TrimSpace(inner[:i]))
			if err != nil {
				return nil, err
			}
			var lit any
			if err := decodeJSON(strings.TrimSpace(inner[i+len(op):]), &lit); err != nil {
				return nil, fmt.Errorf("select(%s): the right side must be a JSON literal: %v", inner, err)
			}
			out = append(out, jqStage{sel: &jqSelect{path: steps, negate: negate, literal: normalizeScalar(lit)}})
			continue
		}
		steps, err := parseJQPath(stage)
		if err != nil {
			return nil, err
		}
		out = append(out, jqStage{path: steps})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty expression")
	}
	return out, nil
}

// splitPipes splits on | outside quotes and parentheses.
func splitPipes(s string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == '|' && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// parseJQPath parses . .a .a.b ."a.b" .["a.b"] .a[0] .a[].
func parseJQPath(s string) ([]jqStep, error) {
	if !strings.HasPrefix(s, ".") {
		return nil, fmt.Errorf("%q is not a path (paths start with .)", s)
	}
	var steps []jqStep
	i := 0
	for i < len(s) {
		switch s[i] {
		case '.':
			i++
			if i >= len(s) {
				if len(steps) == 0 {
					return steps, nil
				}
				return nil, fmt.Errorf("%q ends with .", s)
			}
			switch {
			case s[i] == '"':
				name, n, err := quoted(s[i:])
				if err != nil {
					return nil, fmt.Errorf("%q: %v", s, err)
				}
				steps, i = append(steps, jqStep{field: name}), i+n
			case s[i] == '[':
				// .[...] is the same as [...]
			default:
				j := i
				for j < len(s) && (isIdent(s[j]) || (j > i && s[j] >= '0' && s[j] <= '9')) {
					j++
				}
				if j == i {
					return nil, fmt.Errorf("%q: unexpected %q at %d", s, s[i], i)
				}
				steps, i = append(steps, jqStep{field: s[i:j]}), j
			}
		case '[':
			end := strings.IndexByte(s[i:], ']')
			if s[i+1:] != "" && s[i+1] == '"' {
				name, n, err := quoted(s[i+1:])
				if err != nil || i+1+n >= len(s) || s[i+1+n] != ']' {
					return nil, fmt.Errorf("%q: bad [\"...\"] at %d", s, i)
				}
				steps, i = append(steps, jqStep{field: name}), i+n+2
				continue
			}
			if end < 0 {
				return nil, fmt.Errorf("%q: unclosed [", s)
			}
			inner := strings.TrimSpace(s[i+1 : i+end])
			if inner == "" {
				steps = append(steps, jqStep{iterate: true})
			} else {
				n, err := strconv.Atoi(inner)
				if err != nil || n < 0 {
					return nil, fmt.Errorf("%q: only [], [N] and [\"key\"] are supported, not [%s]", s, inner)
				}
				steps = append(steps, jqStep{index: n, isIndex: true})
			}
			i += end + 1
		default:
			return nil, fmt.Errorf("%q: unsupported syntax at %d (%q)", s, i, s[i:])
		}
	}
	return steps, nil
}

func isIdent(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// quoted reads a JSON string at the start of s and returns it and its length.
func quoted(s string) (string, int, error) {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			var out string
			if err := json.Unmarshal([]byte(s[:i+1]), &out); err != nil {
				return "", 0, err
			}
			return out, i + 1, nil
		}
	}
	return "", 0, fmt.Errorf("unterminated string")
}

// paths evaluates the expression on obj and returns the concrete paths it names.
func (e jqExpr) paths(obj any) []fieldPath {
	cur := []fieldPath{{}}
	for _, st := range e {
		var next []fieldPath
		for _, p := range cur {
			if st.sel != nil {
				base, ok := at(obj, p)
				if !ok {
					continue
				}
				match := false
				for _, q := range walkSteps(base, fieldPath{}, st.sel.path) {
					if v, ok := at(base, q); ok && scalarEqual(v, st.sel.literal) {
						match = true
					}
				}
				if match != st.sel.negate {
					next = append(next, p)
				}
				continue
			}
			base, ok := at(obj, p)
			if !ok {
				continue
			}
			for _, q := range walkSteps(base, fieldPath{}, st.path) {
				next = append(next, append(slices.Clone(p), q...))
			}
		}
		cur = next
	}
	out := cur[:0]
	for _, p := range cur {
		if len(p) > 0 {
			out = append(out, p)
		}
	}
	return out
}

// walkSteps follows steps from v; paths that lead nowhere are dropped.
func walkSteps(v any, p fieldPath, steps []jqStep) []fieldPath {
	if len(steps) == 0 {
		return []fieldPath{p}
	}
	st := steps[0]
	var out []fieldPath
	switch {
	case st.iterate:
		switch t := v.(type) {
		case []any:
			for i, c := range t {
				out = append(out, walkSteps(c, append(slices.Clone(p), i), steps[1:])...)
			}
		case map[string]any:
			for _, k := range sortedKeys(t) {
				out = append(out, walkSteps(t[k], append(slices.Clone(p), k), steps[1:])...)
			}
		}
	case st.isIndex:
		if t, ok := v.([]any); ok && st.index < len(t) {
			out = walkSteps(t[st.index], append(slices.Clone(p), st.index), steps[1:])
		}
	default:
		if t, ok := v.(map[string]any); ok {
			if c, ok := t[st.field]; ok {
				out = walkSteps(c, append(slices.Clone(p), st.field), steps[1:])
			}
		}
	}
	return out
}

// at reads the value at p.
func at(v any, p fieldPath) (any, bool) {
	for _, s := range p {
		switch k := s.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = m[k]; !ok {
				return nil, false
			}
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil, false
			}
			v = l[k]
		}
	}
	return v, true
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// managerSet is the union of the fields the named managers own on live.
func managerSet(live map[string]any, managers []string) *fieldSet {
	var s *fieldSet
	md, _ := live["metadata"].(map[string]any)
	mfs, _ := md["managedFields"].([]any)
	for _, e := range mfs {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		name, _ := m["manager"].(string)
		if !slices.Contains(managers, name) || (m["subresource"] != nil && m["subresource"] != "") {
			continue
		}
		if f, ok := m["fieldsV1"].(map[string]any); ok {
			s = union(s, parseFieldsV1(f))
		}
	}
	return s
}

// applyIgnores removes what the matching entries ignore from both sides. managers is the set
// of fields owned by ignored managers, read from the raw live object before normalisation.
func applyIgnores(r Ref, git, live any, ignores []Ignore, rawLive map[string]any) (any, any, []string) {
	var warnings []string
	for _, ig := range ignores {
		if !ig.matches(r) {
			continue
		}
		var paths func(obj any) []fieldPath
		var exprs []func(obj any) []fieldPath
		for _, ptr := range ig.JSONPointers {
			toks, err := parsePointer(ptr)
			if err != nil {
				warnings = append(warnings, fmt.Sprintf("%s: ignoreDifferences: %v: not applied", describe(r), err))
				continue
			}
			exprs = append(exprs, func(obj any) []fieldPath { return pointerPaths(obj, toks) })
		}
		for _, src := range ig.JQPathExpressions {
			e, err := parseJQ(src)
			if err != nil {
				warnings = append(warnings, fmt.Sprintf("%s: ignoreDifferences: jqPathExpression %q is not supported (%v): not applied", describe(r), src, err))
				continue
			}
			exprs = append(exprs, e.paths)
		}
		paths = func(obj any) []fieldPath {
			var out []fieldPath
			for _, f := range exprs {
				out = append(out, f(obj)...)
			}
			return out
		}
		if git != nil {
			git = removePaths(git, paths(git))
		}
		if live != nil {
			live = removePaths(live, paths(live))
		}
		if len(ig.ManagedFieldsManagers) > 0 && rawLive != nil {
			if s := managerSet(rawLive, ig.ManagedFieldsManagers); s != nil {
				if git != nil {
					git, _ = remove(git, s)
				}
				if live != nil {
					live, _ = remove(live, s)
				}
			}
		}
	}
	return git, live, warnings
}
