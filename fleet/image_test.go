package fleet

import "testing"

func TestParseImage(t *testing.T) {
	tests := []struct{ ref, repo, tag, digest string }{
		{"nginx", "nginx", "", ""},
		{"nginx:1.27", "nginx", "1.27", ""},
		{"registry.fleetdeck.test/shop/auth-service:1.4.2", "registry.fleetdeck.test/shop/auth-service", "1.4.2", ""},
		{"localhost:5000/app", "localhost:5000/app", "", ""},
		{"localhost:5000/app:v2", "localhost:5000/app", "v2", ""},
		{"ghcr.io/a/b@sha256:0123abcd", "ghcr.io/a/b", "", "sha256:0123abcd"},
		{"ghcr.io/a/b:1.0@sha256:0123abcd", "ghcr.io/a/b", "1.0", "sha256:0123abcd"},
		{"app@sha256:abc", "app", "", "sha256:abc"},
		{"  app:latest ", "app", "latest", ""},
		{"", "", "", ""},
	}
	for _, tt := range tests {
		repo, tag, digest := ParseImage(tt.ref)
		if repo != tt.repo || tag != tt.tag || digest != tt.digest {
			t.Errorf("ParseImage(%q) = (%q, %q, %q), want (%q, %q, %q)", tt.ref, repo, tag, digest, tt.repo, tt.tag, tt.digest)
		}
	}
}

func TestSameImage(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"nginx", "docker.io/library/nginx:latest", true},
		{"library/nginx:1.2", "index.docker.io/library/nginx:1.2", true},
		{"bitnami/redis:7", "docker.io/bitnami/redis:7", true},
		{"reg.test/a:1", "reg.test/a:2", false},
		{"reg.test/a:1", "reg.test/b:1", false},
		{"reg.test/a:1@sha256:aa", "reg.test/a:1@sha256:bb", false},
		{"reg.test/a:1@sha256:aa", "reg.test/a:1@sha256:aa", true},
	}
	for _, tt := range tests {
		if got := SameImage(tt.a, tt.b); got != tt.want {
			t.Errorf("SameImage(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestCompareImage(t *testing.T) {
	ref := ObjectRef{Kind: "Deployment", Namespace: "payments", Name: "payments-api"}
	const repo = "registry.fleetdeck.test/shop/payments-api"
	tests := []struct {
		name      string
		git, live string
		want      ImageState
	}{
		{"same tag", repo + ":1.4.2", repo + ":1.4.2",
			ImageState{GitTag: "1.4.2", LiveTag: "1.4.2"}},
		{"hand-patched tag is drift", repo + ":1.4.2", repo + ":hotfix-manual-1",
			ImageState{GitTag: "1.4.2", LiveTag: "hotfix-manual-1", Drift: true}},
		{"latest in git and live is flagged, not drift", repo + ":latest", repo + ":latest",
			ImageState{GitTag: "latest", LiveTag: "latest", Latest: true}},
		{"untagged live is flagged latest", repo, repo,
			ImageState{Latest: true}},
		{"latest live against a pinned tag is drift and latest", repo + ":1.0", repo + ":latest",
			ImageState{GitTag: "1.0", LiveTag: "latest", Drift: true, Latest: true}},
		{"digest pinned in both", repo + "@sha256:aa", repo + "@sha256:aa",
			ImageState{Digest: true}},
		{"digest pinned live, tag in git", repo + ":1.0", repo + ":1.0@sha256:aa",
			ImageState{GitTag: "1.0", LiveTag: "1.0", Drift: true, Digest: true}},
		{"git unknown: no drift", "", repo + ":2.0",
			ImageState{LiveTag: "2.0"}},
		{"not live: no drift", repo + ":2.0", "",
			ImageState{GitTag: "2.0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CompareImage(ref, "app", tt.git, tt.live)
			want := tt.want
			want.Workload, want.Container, want.GitImage, want.LiveImage = ref, "app", tt.git, tt.live
			if got != want {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestCompareImagesListsLiveThenMissing(t *testing.T) {
	live := []*Workload{{Kind: "Deployment", Namespace: "a", Name: "web", Containers: []Container{
		{Name: "init", Image: "busybox:1", Init: true}, {Name: "web", Image: "web:2"}}}}
	desired := []DesiredObject{
		{Kind: "Deployment", Namespace: "a", Name: "web", Containers: []Container{{Name: "web", Image: "web:1"}}},
		{Kind: "Deployment", Namespace: "a", Name: "worker", Containers: []Container{{Name: "worker", Image: "worker:1"}}},
	}
	got := compareImages(live, desired)
	if len(got) != 3 {
		t.Fatalf("got %d rows, want 3: %+v", len(got), got)
	}
	if !got[0].Init || got[0].Drift || got[0].GitImage != "" {
		t.Errorf("init container row = %+v, want no git image and no drift", got[0])
	}
	if !got[1].Drift || got[1].GitTag != "1" || got[1].LiveTag != "2" {
		t.Errorf("web row = %+v, want drift 1 → 2", got[1])
	}
	if got[2].Workload.Name != "worker" || got[2].LiveImage != "" || got[2].Drift {
		t.Errorf("worker row = %+v, want git-only row without drift", got[2])
	}
}
