package fuzzy

import "testing"

func TestScore(t *testing.T) {
	tests := []struct {
		pattern, text string
		match         bool
	}{
		{"", "anything", true},
		{"auth", "auth-service", true},
		{"asvc", "auth-service", true},
		{"AUTH", "auth-service", true},
		{"produs", "prod-us", true},
		{"hotfix", "registry.test/shop/payments-api:hotfix-manual-1", true},
		{"sa", "as", false},
		{"x", "auth-service", false},
		{"authh", "auth", false},
		{"ü", "Über", true},
	}
	for _, tt := range tests {
		_, ok := Score(tt.pattern, tt.text)
		if ok != tt.match {
			t.Errorf("Score(%q, %q) match = %v, want %v", tt.pattern, tt.text, ok, tt.match)
		}
	}
}

func TestScoreRanksRunsAndWordStarts(t *testing.T) {
	tests := []struct {
		pattern, better, worse string
	}{
		{"api", "payments-api", "a-p-i"},
		{"pay", "payments-api", "replay"},
		{"us", "prod-us", "auth-service"},
	}
	for _, tt := range tests {
		b, okb := Score(tt.pattern, tt.better)
		w, okw := Score(tt.pattern, tt.worse)
		if !okb || !okw || b <= w {
			t.Errorf("%q: %q scores %d (%v), %q scores %d (%v): want the first higher", tt.pattern, tt.better, b, okb, tt.worse, w, okw)
		}
	}
}

func TestBest(t *testing.T) {
	if _, ok := Best("stag", "prod-eu", "staging"); !ok {
		t.Error("Best should match staging")
	}
	if _, ok := Best("zzz", "prod-eu", "staging"); ok {
		t.Error("Best should not match")
	}
	if _, ok := Best("a"); ok {
		t.Error("Best over nothing should not match")
	}
}
