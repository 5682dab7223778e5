package diff

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// fieldSet is a tree of field paths: the shape of what a manifest or an apply sets. It is
// built from a desired object (shapeOf) or from managedFields (parseFieldsV1) and used to
// project a live object onto it (prune) or to cut fields out of an object (remove).
type fieldSet struct {
	// leaf: the whole value at this path belongs to the set.
	leaf bool
	// fields are the map keys below this path.
	fields map[string]*fieldSet
	// items select list items below this path.
	items []itemSel
	// keepUnmatched keeps list items no selector matches (lists of maps without a merge key
	// are compared by position: extra live items are differences, not defaults).
	keepUnmatched bool
}

// itemSel selects list items by key fields, by position or by value.
type itemSel struct {
	key      map[string]any // k:{...} or a merge key; nil when unused
	index    int            // -1 when unused
	value    any            // v:... selector of a set
	hasValue bool
	set      *fieldSet
	// applied marks selectors that come from an earlier apply, not from git.
	applied bool
}

func newSet() *fieldSet { return &fieldSet{fields: map[string]*fieldSet{}} }

func leafSet() *fieldSet { return &fieldSet{leaf: true} }

// matches reports whether the selector picks item at position i.
func (s itemSel) matches(item any, i int) bool {
	switch {
	case s.key != nil:
		m, ok := item.(map[string]any)
		if !ok {
			return false
		}
		for k, want := range s.key {
			got, ok := lookup(m, k)
			if !ok || !scalarEqual(got, want) {
				return false
			}
		}
		return true
	case s.hasValue:
		return scalarEqual(item, s.value)
	default:
		return s.index == i
	}
}

// lookup reads a possibly dotted key ("metadata.name") from m.
func lookup(m map[string]any, key string) (any, bool) {
	var cur any = m
	for part := range strings.SplitSeq(key, ".") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = mm[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// union merges b into a copy of a.
func union(a, b *fieldSet) *fieldSet {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case a.leaf || b.leaf:
		return leafSet()
	}
	out := newSet()
	for k, v := range a.fields {
		out.fields[k] = v
	}
	for k, v := range b.fields {
		out.fields[k] = union(out.fields[k], v)
	}
	out.items = append(append(out.items, a.items...), b.items...)
	out.keepUnmatched = a.keepUnmatched || b.keepUnmatched
	return out
}

// overlay merges the field set of earlier applies (applied) onto git's shape (desired), as
// union does, except where an apply owns a value whole (an atomic list or map, such as a
// StatefulSet's volumeClaimTemplates) that git describes field by field: there git's shape
// wins, because the whole value was applied as git declares it and the rest of it (apiVersion,
// kind, volumeMode and status of a claim template) is what the server defaulted.
func overlay(desired, applied *fieldSet) *fieldSet {
	switch {
	case desired == nil:
		return applied
	case applied == nil:
		return desired
	case applied.leaf && !desired.leaf:
		return desired
	case desired.leaf:
		return leafSet()
	}
	out := newSet()
	for k, v := range desired.fields {
		out.fields[k] = v
	}
	for k, v := range applied.fields {
		out.fields[k] = overlay(out.fields[k], v)
	}
	out.items = append(append(out.items, desired.items...), applied.items...)
	out.keepUnmatched = desired.keepUnmatched || applied.keepUnmatched
	return out
}

// listKeys names, by the field holding the list, the merge keys strategic merge and
// server-side apply use for its items; candidates are tried in order and the first that
// every desired item carries wins. Lists not named here are keyed by "name" when every item
// has one, else compared by position.
var listKeys = map[string][][]string{
	"containers":                {{"name"}},
	"initContainers":            {{"name"}},
	"ephemeralContainers":       {{"name"}},
	"env":                       {{"name"}},
	"volumes":                   {{"name"}},
	"imagePullSecrets":          {{"name"}},
	"resourceClaims":            {{"name"}},
	"ports":                     {{"containerPort"}, {"port"}, {"name"}},
	"volumeMounts":              {{"mountPath"}},
	"volumeDevices":             {{"devicePath"}},
	"hostAliases":               {{"ip"}},
	"conditions":                {{"type"}},
	"topologySpreadConstraints": {{"topologyKey", "whenUnsatisfiable"}},
	"volumeClaimTemplates":      {{"metadata.name"}},
}

// listKey picks the merge key of the list held by field name.
func listKey(name string, items []map[string]any) []string {
	cands := listKeys[name]
	if cands == nil {
		cands = [][]string{{"name"}}
	}
	for _, keys := range cands {
		all := true
		for _, it := range items {
			for _, k := range keys {
				if v, ok := lookup(it, k); !ok || !isScalar(v) {
					all = false
				}
			}
		}
		if all {
			return keys
		}
	}
	return nil
}

// shapeOf is the field set of a desired value held by field name.
func shapeOf(v any, name string) *fieldSet {
	switch t := v.(type) {
	case map[string]any:
		s := newSet()
		for k, c := range t {
			if c == nil {
				continue
			}
			s.fields[k] = shapeOf(c, k)
		}
		return s
	case []any:
		maps := make([]map[string]any, 0, len(t))
		for _, it := range t {
			if m, ok := it.(map[string]any); ok {
				maps = append(maps, m)
			}
		}
		if len(t) == 0 || len(maps) != len(t) {
			return leafSet() // scalars, mixed or empty: the list is one value
		}
		s := newSet()
		keys := listKey(name, maps)
		if keys == nil {
			s.keepUnmatched = true
		}
		for i, m := range maps {
			sel := itemSel{index: -1, set: shapeOf(m, "")}
			if keys == nil {
				sel.index = i
			} else {
				sel.key = map[string]any{}
				for _, k := range keys {
					sel.key[k], _ = lookup(m, k)
				}
			}
			s.items = append(s.items, sel)
		}
		return s
	default:
		return leafSet()
	}
}

// parseFieldsV1 reads a managedFields entry's fieldsV1 (already decoded from JSON).
func parseFieldsV1(raw map[string]any) *fieldSet {
	s := newSet()
	children := 0
	for k, v := range raw {
		child, _ := v.(map[string]any)
		switch {
		case k == ".":
			continue
		case strings.HasPrefix(k, "f:"):
			s.fields[k[2:]] = parseFieldsV1(child)
		case strings.HasPrefix(k, "k:"):
			key := map[string]any{}
			if err := decodeJSON(k[2:], &key); err != nil {
				continue
			}
			s.items = append(s.items, itemSel{key: key, index: -1, set: parseFieldsV1(child), applied: true})
		case strings.HasPrefix(k, "v:"):
			var val any
			if err := decodeJSON(k[2:], &val); err != nil {
				continue
			}
			s.items = append(s.items, itemSel{value: normalizeScalar(val), hasValue: true, index: -1, set: leafSet(), applied: true})
		case strings.HasPrefix(k, "i:"):
			i, err := strconv.Atoi(k[2:])
			if err != nil {
				continue
			}
			s.items = append(s.items, itemSel{index: i, set: parseFieldsV1(child), applied: true})
		default:
			continue
		}
		children++
	}
	if children == 0 {
		return leafSet()
	}
	return s
}

func decodeJSON(s string, v any) error {
	d := json.NewDecoder(bytes.NewReader([]byte(s)))
	d.UseNumber()
	return d.Decode(v)
}

// markApplied flags every selector of s as coming from an earlier apply.
func markApplied(s *fieldSet) *fieldSet {
	if s == nil || s.leaf {
		return s
	}
	for _, c := range s.fields {
		markApplied(c)
	}
	for i := range s.items {
		s.items[i].applied = true
		markApplied(s.items[i].set)
	}
	return s
}

// prune projects live onto s. It reports false when nothing of live is kept. A value whose
// type differs from what the set expects is kept whole, so the difference shows.
func prune(live any, s *fieldSet) (any, bool) {
	if s == nil {
		return nil, false
	}
	if s.leaf {
		return live, true
	}
	switch t := live.(type) {
	case map[string]any:
		if len(s.items) > 0 && len(s.fields) == 0 {
			return live, true
		}
		out := make(map[string]any, len(s.fields))
		for k, c := range s.fields {
			if v, ok := t[k]; ok {
				if pv, keep := prune(v, c); keep {
					out[k] = pv
				}
			}
		}
		return out, true
	case []any:
		if len(s.fields) > 0 && len(s.items) == 0 {
			return live, true
		}
		type kept struct {
			v     any
			order int
		}
		var out []kept
		for i, it := range t {
			var desired, applied *fieldSet
			order := len(s.items)
			for j, sel := range s.items {
				if !sel.matches(it, i) {
					continue
				}
				if sel.applied {
					applied = union(applied, sel.set)
				} else {
					// Items are shown in git's order; those only an earlier apply names keep
					// their live order after them (the applied selectors' order is that of a
					// decoded map, so it means nothing).
					order = min(order, j)
					desired = union(desired, sel.set)
				}
			}
			if desired == nil && applied == nil {
				if s.keepUnmatched {
					out = append(out, kept{it, order})
				}
				continue
			}
			set := desired
			if applied != nil {
				if desired != nil {
					// The item is still in git: the keys the server defaulted into it
					// (a port's protocol) are not differences.
					applied = withoutKeyFields(applied, s.items, it, i, desired)
				}
				set = overlay(desired, applied)
			}
			if pv, keep := prune(it, set); keep {
				out = append(out, kept{pv, order})
			}
		}
		slices.SortStableFunc(out, func(a, b kept) int { return a.order - b.order })
		vals := make([]any, len(out))
		for i, k := range out {
			vals[i] = k.v
		}
		return vals, true
	default:
		return live, true
	}
}

// withoutKeyFields drops from applied the key fields of the applied selectors matching item
// that the desired set does not name.
func withoutKeyFields(applied *fieldSet, sels []itemSel, item any, i int, desired *fieldSet) *fieldSet {
	if applied.leaf || desired.leaf {
		return applied
	}
	drop := map[string]bool{}
	for _, sel := range sels {
		if sel.applied && sel.key != nil && sel.matches(item, i) {
			for k := range sel.key {
				if _, ok := desired.fields[k]; !ok {
					drop[k] = true
				}
			}
		}
	}
	if len(drop) == 0 {
		return applied
	}
	out := newSet()
	for k, v := range applied.fields {
		if !drop[k] {
			out.fields[k] = v
		}
	}
	out.items, out.keepUnmatched = applied.items, applied.keepUnmatched
	return out
}

// remove cuts the fields of s out of v and reports whether v itself goes.
func remove(v any, s *fieldSet) (any, bool) {
	if s == nil {
		return v, false
	}
	if s.leaf {
		return nil, true
	}
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, c := range t {
			if cs, ok := s.fields[k]; ok {
				if nv, gone := remove(c, cs); !gone {
					out[k] = nv
				}
				continue
			}
			out[k] = c
		}
		return out, false
	case []any:
		out := make([]any, 0, len(t))
		for i, it := range t {
			var set *fieldSet
			for _, sel := range s.items {
				if sel.matches(it, i) {
					set = union(set, sel.set)
				}
			}
			if nv, gone := remove(it, set); !gone {
				out = append(out, nv)
			}
		}
		return out, false
	}
	return v, false
}
