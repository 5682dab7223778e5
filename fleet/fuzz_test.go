package fleet

import (
	"strings"
	"testing"
)

// FuzzImageReference: image references come from git and from live pod specs, which the API
// server barely validates. Parsing never panics, the parts rebuild the reference, and the
// comparison is reflexive and symmetric.
func FuzzImageReference(f *testing.F) {
	for _, s := range [][2]string{
		{"nginx", "docker.io/library/nginx:latest"},
		{"reg:5000/shop/api:1.2@sha256:ab", "reg:5000/shop/api:1.2"},
		{"localhost/x:1", "localhost/x"},
		{"", ":"},
		{"@", "a@b@c"},
		{"a:b:c/d:e", "index.docker.io/foo"},
		{" \t", "reg.example/a:\x1b[31m"},
		{"\u202egnp.exe:1", "/:/:/"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		repo, tag, digest := ParseImage(a)
		rebuilt := repo
		if tag != "" || strings.HasSuffix(strings.SplitN(strings.TrimSpace(a), "@", 2)[0], ":") {
			rebuilt += ":" + tag
		}
		if digest != "" || strings.Contains(a, "@") {
			rebuilt += "@" + digest
		}
		if rebuilt != strings.TrimSpace(a) {
			t.Fatalf("ParseImage(%q) = %q, %q, %q: does not rebuild the reference (%q)", a, repo, tag, digest, rebuilt)
		}
		if !SameImage(a, a) {
			t.Fatalf("SameImage(%q, itself) = false", a)
		}
		if SameImage(a, b) != SameImage(b, a) {
			t.Fatalf("SameImage(%q, %q) is not symmetric", a, b)
		}
		_ = IsLatest(a)
		st := CompareImage(ObjectRef{Kind: "Deployment", Namespace: "ns", Name: "w"}, "c", a, b)
		if st.Drift && a == b {
			t.Fatalf("CompareImage(%q, itself) drifts", a)
		}
	})
}

// FuzzFluxRevision: Flux status revisions are free text on a hostile or older controller. The
// sha is hex taken from the revision and the branch is a part of it.
func FuzzFluxRevision(f *testing.F) {
	for _, s := range []string{
		"main@sha1:0123456789abcdef0123456789abcdef01234567", "sha1:abcdef1", "sha256:" + strings.Repeat("a", 64),
		"main/0123456789abcdef", "1.2.0+0123456789ab", "0123456", "012345", "@", ":", "+", "/", "main@", "a@b:c@d",
		"feature/x@sha1:zz", "v1.0.0", " main@sha1:abc ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rev string) {
		branch, sha := FluxRevision(rev)
		if sha != "" && (!isHex(sha) || !strings.Contains(rev, sha)) {
			t.Fatalf("FluxRevision(%q) sha %q is not hex taken from the revision", rev, sha)
		}
		if branch != "" && !strings.Contains(rev, branch) {
			t.Fatalf("FluxRevision(%q) branch %q is not part of the revision", rev, branch)
		}
		_ = NewRevision(rev, nil)
	})
}

// FuzzInventoryID: Flux inventory ids are parsed for every entry of a Kustomization.
func FuzzInventoryID(f *testing.F) {
	for _, s := range []string{"shop_api_apps_Deployment", "_ns__Namespace", "a_b_c", "a_b_c_d_e", "____", "ns_name__", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		ref, ok := ParseInventoryID(id)
		if ok && (ref.Name == "" || ref.Kind == "" || !strings.Contains(id, ref.Name) || !strings.HasSuffix(id, ref.Kind)) {
			t.Fatalf("ParseInventoryID(%q) = %+v", id, ref)
		}
		if !ok && ref != (ObjectRef{}) {
			t.Fatalf("ParseInventoryID(%q) = %+v with ok=false", id, ref)
		}
	})
}
