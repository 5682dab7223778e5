package tree

import "testing"

func TestImageMatches(t *testing.T) {
	const img = "registry.fleetdeck.test/shop/notification-worker:1.4.0-does-not-exist"
	tests := []struct {
		query, image string
		want         bool
	}{
		{"ntfwrk", img, true},             // fuzzy on name and tag
		{"does-not", img, true},           // the tag
		{"registry.fleetdeck", img, true}, // literal on the whole reference
		{"FLEETDECK.TEST/SHOP", img, true},
		{"hotfix", img, false}, // h(shop) o t f i x: only a fuzzy match across the prefix
		{"ledg", "registry.fleetdeck.test/shop/catalog-api:1.4.0", false},
		{"cat140", "registry.fleetdeck.test/shop/catalog-api:1.4.0", true},
		{"nginx", "nginx", true},
		{"x", "", false},
	}
	for _, tt := range tests {
		if got := imageMatches(tt.query, tt.image); got != tt.want {
			t.Errorf("imageMatches(%q, %q) = %v, want %v", tt.query, tt.image, got, tt.want)
		}
	}
}
