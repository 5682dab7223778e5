package diff

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"
)

// Status says how an object's two sides compare.
type Status string

const (
	// Same: git and live agree after normalisation.
	Same Status = "same"
	// Changed: both exist and differ.
	Changed Status = "changed"
	// OnlyInGit: git renders the object and it is not live (a sync creates it).
	OnlyInGit Status = "only-in-git"
	// OnlyLive: the application tracks the live object and git no longer renders it (a sync
	// with pruning deletes it).
	OnlyLive Status = "only-live"
)

// Ref names an object by API group, kind, namespace and name.
type Ref struct {
	Group     string `json:"group"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

func (r Ref) kindString() string {
	if r.Group == "" {
		return r.Kind
	}
	return r.Kind + "." + r.Group
}

// String is "Kind[.group] namespace/name".
func (r Ref) String() string { return describe(r) }

// FileName is the object's name as one path element: group.Kind.namespace.name, as kubectl
// diff names its files ("" parts left out).
func (r Ref) FileName() string {
	var parts []string
	for _, p := range []string{r.Group, r.Kind, r.Namespace, r.Name} {
		if p != "" {
			parts = append(parts, strings.ReplaceAll(p, "/", "_"))
		}
	}
	return strings.Join(parts, ".")
}

// RefOf reads an object's Ref.
func RefOf(obj map[string]any) Ref {
	return Ref{Group: groupOf(str(obj, "apiVersion")), Kind: str(obj, "kind"),
		Namespace: str(obj, "metadata", "namespace"), Name: str(obj, "metadata", "name")}
}

// Object is one object's comparison.
type Object struct {
	Ref
	Status Status `json:"status"`
	// Diff is the unified diff from live to git ("" when Same); an object only in git is all
	// additions, one only live all removals.
	Diff string `json:"diff,omitempty"`
	// Git and Live are the normalised YAML of each side ("" when the side is absent), for
	// external diff tools.
	Git  string `json:"-"`
	Live string `json:"-"`
}

// Options tune a comparison.
type Options struct {
	// Ignore are the application's ignoreDifferences.
	Ignore []Ignore
	// Context is the number of unchanged lines around each change; 0 means 3. Negative: none.
	Context int
	// Prefix goes between "live/" or "git/" and the object's FileName in the diff headers
	// ("prod-eu/" tells clusters apart).
	Prefix string
	// Tracking is the label an operator's label tracking writes on every object it applies,
	// over what git says (Argo CD: app.kubernetes.io/instance set to the Application's name).
	// Where the live object carries it with that value, git's object is compared as the
	// operator applied it, with the label set; elsewhere (annotation tracking) git's value
	// stands.
	Tracking Label
}

// Label is one label and its value.
type Label struct{ Key, Value string }

// ArgoTrackingLabel is the label Argo CD's label tracking writes.
const ArgoTrackingLabel = "app.kubernetes.io/instance"

// tracked returns git with the tracking label set when live shows the operator wrote it.
func (o Options) tracked(git, live map[string]any) map[string]any {
	t := o.Tracking
	if t.Key == "" || git == nil || live == nil || str(live, "metadata", "labels", t.Key) != t.Value {
		return git
	}
	if str(git, "metadata", "labels", t.Key) == t.Value {
		return git
	}
	out := maps.Clone(git)
	md, _ := out["metadata"].(map[string]any)
	md = maps.Clone(md)
	if md == nil {
		md = map[string]any{}
	}
	labels, _ := md["labels"].(map[string]any)
	labels = maps.Clone(labels)
	if labels == nil {
		labels = map[string]any{}
	}
	labels[t.Key] = t.Value
	md["labels"] = labels
	out["metadata"] = md
	return out
}

func (o Options) context() int {
	switch {
	case o.Context == 0:
		return 3
	case o.Context < 0:
		return 0
	}
	return o.Context
}

// Compare compares one object; either side may be nil (absent), not both. The inputs are not
// modified. Warnings name ignoreDifferences entries that could not be applied.
func Compare(git, live map[string]any, opts Options) (Object, []string) {
	var ref Ref
	switch {
	case git != nil:
		ref = RefOf(git)
	case live != nil:
		ref = RefOf(live)
	default:
		return Object{}, []string{"diff: an object with neither side"}
	}
	git, live = maskSecret(git), maskSecret(live)
	g, l := Normalize(opts.tracked(git, live), live)
	gv, lv, warnings := applyIgnores(ref, asAny(g), asAny(l), opts.Ignore, live)
	gy, err := toYAML(gv)
	if err != nil {
		warnings = append(warnings, fmt.Sprintf("%s: git side: %v", describe(ref), err))
	}
	ly, err := toYAML(lv)
	if err != nil {
		warnings = append(warnings, fmt.Sprintf("%s: live side: %v", describe(ref), err))
	}
	obj := Object{Ref: ref, Git: gy, Live: ly}
	liveName, gitName := "live/"+opts.Prefix+ref.FileName(), "git/"+opts.Prefix+ref.FileName()
	switch {
	case git == nil:
		obj.Status, gitName = OnlyLive, "/dev/null"
	case live == nil:
		obj.Status, liveName = OnlyInGit, "/dev/null"
	case gy == ly:
		obj.Status = Same
	default:
		obj.Status = Changed
	}
	if obj.Status != Same {
		obj.Diff = Unified(liveName, gitName, ly, gy, opts.context())
	}
	return obj, warnings
}

func asAny(m map[string]any) any {
	if m == nil {
		return nil
	}
	return m
}

// Normalize returns both sides in the form Compare diffs them (see the package
// documentation); a nil side stays nil. The inputs are not modified.
func Normalize(git, live map[string]any) (map[string]any, map[string]any) {
	var g, l map[string]any
	if git != nil {
		g = deepCopy(git).(map[string]any)
		dropServerFields(g)
		g, _ = normalizeValue(g, "").(map[string]any)
		if g == nil {
			g = map[string]any{}
		}
	}
	if live != nil {
		l = deepCopy(live).(map[string]any)
		keep := appliedSet(live)
		if g != nil {
			keep = overlay(shapeOf(g, ""), keep)
		}
		dropServerFields(l)
		if keep != nil {
			keep = union(keep, identitySet())
			if pv, _ := prune(l, keep); pv != nil {
				if pm, ok := pv.(map[string]any); ok {
					l = pm
				}
			}
		} else {
			// Only live and never applied: drop what the operators add, keep the rest.
			stripOperatorMetadata(l)
		}
		l, _ = normalizeValue(l, "").(map[string]any)
		if l == nil {
			l = map[string]any{}
		}
	}
	return g, l
}

// identitySet is kept on every live object: what names it.
func identitySet() *fieldSet {
	s := newSet()
	s.fields["apiVersion"], s.fields["kind"] = leafSet(), leafSet()
	md := newSet()
	md.fields["name"], md.fields["namespace"] = leafSet(), leafSet()
	s.fields["metadata"] = md
	return s
}

// stripOperatorMetadata drops the operators' tracking labels and annotations.
func stripOperatorMetadata(obj map[string]any) {
	md, ok := obj["metadata"].(map[string]any)
	if !ok {
		return
	}
	for _, part := range []struct {
		name string
		drop []string
	}{{"labels", operatorLabels}, {"annotations", operatorAnnotations}} {
		if m, ok := md[part.name].(map[string]any); ok {
			for k := range m {
				if matchesAny(k, part.drop) {
					delete(m, k)
				}
			}
		}
	}
}

// toYAML writes v as YAML with sorted keys ("" for nil).
func toYAML(v any) (string, error) {
	if v == nil {
		return "", nil
	}
	b, err := yaml.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("write yaml: %w", err)
	}
	return string(b), nil
}

// Objects compares what git renders with the live objects the application tracks: desired
// objects are paired with live ones by Ref; a desired object with no live one is OnlyInGit;
// each live object no desired one names is OnlyLive. The result is sorted by kind, namespace,
// name and group.
func Objects(desired, live []map[string]any, opts Options) ([]Object, []string) {
	byRef := map[Ref]map[string]any{}
	for _, l := range live {
		byRef[RefOf(l)] = l
	}
	var out []Object
	var warnings []string
	seen := map[Ref]bool{}
	for _, d := range desired {
		r := RefOf(d)
		if seen[r] {
			warnings = append(warnings, fmt.Sprintf("%s: rendered twice from git; compared once", describe(r)))
			continue
		}
		seen[r] = true
		o, w := Compare(d, byRef[r], opts)
		out = append(out, o)
		warnings = append(warnings, w...)
	}
	for _, l := range live {
		r := RefOf(l)
		if seen[r] {
			continue
		}
		seen[r] = true
		o, w := Compare(nil, l, opts)
		out = append(out, o)
		warnings = append(warnings, w...)
	}
	slices.SortFunc(out, func(a, b Object) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace),
			cmp.Compare(a.Name, b.Name), cmp.Compare(a.Group, b.Group))
	})
	return out, warnings
}

// Differs reports whether any object is not Same.
func Differs(objs []Object) bool {
	for _, o := range objs {
		if o.Status != Same {
			return true
		}
	}
	return false
}
