package diff

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzCompare: any pair of objects, however malformed (wrong types, odd managedFields, lists
// where maps belong), compares without a panic, and a Secret's value never reaches the output.
func FuzzCompare(f *testing.F) {
	for _, seed := range [][2]string{
		{`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"a","namespace":"n"},"spec":{"replicas":2}}`,
			`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"a","namespace":"n","managedFields":[{"operation":"Apply","fieldsV1":{"f:spec":{"f:replicas":{}}}}]},"spec":{"replicas":3},"status":{}}`},
		{`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"stringData":{"k":"FUZZSECRET"}}`,
			`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"data":{"k":"RlVaWlNFQ1JFVA=="}}`},
		{`{"kind":"Service","metadata":"wrong","spec":[1,2]}`, `{"kind":7,"metadata":{"managedFields":"x"}}`},
		{`{"spec":{"template":{"spec":{"containers":[{"name":"a"},{"name":"a"},"x",null]}}}}`,
			`{"spec":{"template":{"spec":{"containers":{"name":"a"}}}},"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{not json"}}}`},
		{`{"spec":{"volumeClaimTemplates":[{"metadata":{"name":"d"}}]}}`,
			`{"spec":{"volumeClaimTemplates":[{"metadata":{"name":"d"},"status":{"phase":"Pending"}}]},"metadata":{"managedFields":[{"operation":"Apply","fieldsV1":{"f:spec":{"f:volumeClaimTemplates":{}}}}]}}`},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, gitJSON, liveJSON string) {
		var git, live map[string]any
		if json.Unmarshal([]byte(gitJSON), &git) != nil || json.Unmarshal([]byte(liveJSON), &live) != nil {
			return
		}
		ignore := []Ignore{{Kind: "Deployment", JSONPointers: []string{"/spec/replicas"}}}
		o, _ := Compare(git, live, Options{Ignore: ignore, Tracking: Label{Key: ArgoTrackingLabel, Value: "app"}})
		out := o.Diff + o.Git + o.Live
		for _, v := range secretValues(git, live) {
			if strings.Contains(out, v) {
				t.Fatalf("the Secret value %q reached the output:\n%s", v, out)
			}
		}
		Objects([]map[string]any{git, git}, []map[string]any{live}, Options{})
	})
}

// secretValues are the data and stringData values of core Secrets that appear nowhere else in
// the inputs (so finding one in the output means the value leaked), long enough not to match
// by chance.
func secretValues(objs ...map[string]any) []string {
	secret := func(o map[string]any) bool {
		return o != nil && o["kind"] == "Secret" && groupOf(str(o, "apiVersion")) == ""
	}
	var rest []any
	for _, o := range objs {
		if !secret(o) {
			rest = append(rest, o)
			continue
		}
		r := map[string]any{}
		for k, v := range o {
			if k != "data" && k != "stringData" {
				r[k] = v
			}
		}
		rest = append(rest, r)
	}
	restJSON, _ := json.Marshal(rest)
	var values []string
	for _, o := range objs {
		if !secret(o) {
			continue
		}
		for _, field := range []string{"data", "stringData"} {
			m, _ := o[field].(map[string]any)
			for _, v := range m {
				if s, ok := v.(string); ok && len(s) >= 6 && !strings.Contains(string(restJSON), s) {
					values = append(values, s)
				}
			}
		}
	}
	return values
}
