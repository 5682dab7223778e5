package fleet

import "strings"

// ParseImage splits an image reference into repository, tag and digest:
// "reg:5000/shop/api:1.2@sha256:ab" → ("reg:5000/shop/api", "1.2", "sha256:ab"). The tag is
// empty for an untagged reference; a registry port is not mistaken for a tag.
func ParseImage(ref string) (repo, tag, digest string) {
	ref = strings.TrimSpace(ref)
	if i := strings.Index(ref, "@"); i >= 0 {
		ref, digest = ref[:i], ref[i+1:]
	}
	slash := strings.LastIndex(ref, "/")
	if i := strings.LastIndex(ref, ":"); i > slash {
		return ref[:i], ref[i+1:], digest
	}
	return ref, "", digest
}

// normalizeRepo makes "nginx", "library/nginx" and "docker.io/library/nginx" compare equal.
func normalizeRepo(repo string) string {
	first, rest, found := strings.Cut(repo, "/")
	if !found {
		return "docker.io/library/" + repo
	}
	if first == "localhost" || strings.ContainsAny(first, ".:") {
		if first == "index.docker.io" {
			first = "docker.io"
		}
		if first == "docker.io" && !strings.Contains(rest, "/") {
			return "docker.io/library/" + rest
		}
		return first + "/" + rest
	}
	return "docker.io/" + repo
}

// IsLatest reports whether a reference floats: tagged `latest`, or neither tagged nor pinned by
// digest (which means latest).
func IsLatest(ref string) bool {
	if ref == "" {
		return false
	}
	_, tag, digest := ParseImage(ref)
	return tag == "latest" || (tag == "" && digest == "")
}

// SameImage reports whether two references name the same image (an absent tag counts as latest).
func SameImage(a, b string) bool {
	if a == b {
		return true
	}
	ra, ta, da := ParseImage(a)
	rb, tb, db := ParseImage(b)
	if ta == "" && da == "" {
		ta = "latest"
	}
	if tb == "" && db == "" {
		tb = "latest"
	}
	return normalizeRepo(ra) == normalizeRepo(rb) && ta == tb && da == db
}

// ImageState compares one container's image in git with the one live.
type ImageState struct {
	Workload  ObjectRef
	Container string
	Init      bool
	GitImage  string // empty when git does not declare this container (or is unknown)
	LiveImage string // empty when the workload is not live
	GitTag    string
	LiveTag   string
	// Drift: git declares an image and the live one differs (repository, tag or digest).
	Drift bool
	// Latest: `latest` or untagged, in git or live — flagged always.
	Latest bool
	// Digest: the live image (or, when not live, the git one) is pinned by digest.
	Digest bool
}

// CompareImage builds the ImageState of one container from its git and live references.
func CompareImage(workload ObjectRef, container, gitImage, liveImage string) ImageState {
	s := ImageState{Workload: workload, Container: container, GitImage: gitImage, LiveImage: liveImage}
	_, s.GitTag, _ = ParseImage(gitImage)
	var liveDigest, gitDigest string
	_, s.LiveTag, liveDigest = ParseImage(liveImage)
	_, _, gitDigest = ParseImage(gitImage)
	s.Drift = gitImage != "" && liveImage != "" && !SameImage(gitImage, liveImage)
	s.Latest = IsLatest(gitImage) || IsLatest(liveImage)
	if liveImage != "" {
		s.Digest = liveDigest != ""
	} else {
		s.Digest = gitDigest != ""
	}
	return s
}

// compareImages lists every container of the live workloads against git, then the containers
// git declares for workloads that are not live.
func compareImages(live []*Workload, desired []DesiredObject) []ImageState {
	type key struct {
		ref       ObjectRef
		container string
	}
	gitImages := make(map[key]string)
	for _, d := range desired {
		for _, c := range d.Containers {
			gitImages[key{d.Ref(), c.Name}] = c.Image
		}
	}
	var out []ImageState
	seen := make(map[ObjectRef]bool, len(live))
	for _, w := range live {
		ref := w.Ref()
		seen[ref] = true
		for _, c := range w.Containers {
			s := CompareImage(ref, c.Name, gitImages[key{ref, c.Name}], c.Image)
			s.Init = c.Init
			out = append(out, s)
		}
	}
	for _, d := range desired {
		if seen[d.Ref()] {
			continue
		}
		for _, c := range d.Containers {
			s := CompareImage(d.Ref(), c.Name, c.Image, "")
			s.Init = c.Init
			out = append(out, s)
		}
	}
	return out
}
