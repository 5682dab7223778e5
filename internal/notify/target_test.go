package notify

import (
	"strings"
	"testing"
)

func TestParseTarget(t *testing.T) {
	env := func(k string) string {
		return map[string]string{"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/secret", "HOOK": "http://127.0.0.1:9/x"}[k]
	}
	tests := []struct {
		spec, url string
		format    Format
		name, err string
	}{
		{spec: "https://hooks.slack.com/services/T0/B0/secret", url: "https://hooks.slack.com/services/T0/B0/secret", format: FormatSlack, name: "https://hooks.slack.com/***"},
		{spec: "https://events.example.com/in?token=abc", url: "https://events.example.com/in?token=abc", format: FormatJSON, name: "https://events.example.com/***?***"},
		{spec: "slack=https://chat.example.com/hooks/abc", url: "https://chat.example.com/hooks/abc", format: FormatSlack, name: "https://chat.example.com/***"},
		{spec: "json=https://hooks.slack.com/x", url: "https://hooks.slack.com/x", format: FormatJSON},
		{spec: "env:SLACK_WEBHOOK_URL", url: "https://hooks.slack.com/services/T0/B0/secret", format: FormatSlack, name: "env:SLACK_WEBHOOK_URL (https://hooks.slack.com/***)"},
		{spec: "json=env:HOOK", url: "http://127.0.0.1:9/x", format: FormatJSON},
		{spec: "https://user:pw@example.com", url: "https://user:pw@example.com", format: FormatJSON, name: "https://***@example.com"},
		{spec: "env:UNSET", err: "webhook env:UNSET: the environment variable UNSET is not set"},
		{spec: "env:", err: "names no variable"},
		{spec: "ftp://example.com/secret", err: "webhook ftp://example.com/***: ftp://example.com/*** is not an http:// or https:// URL"},
		{spec: "hooks.slack.com/services/x", err: "is not an http:// or https:// URL"},
	}
	for _, tt := range tests {
		got, err := ParseTarget(tt.spec, env)
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: error %v, want %q", tt.spec, err, tt.err)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("%s: error repeats the secret: %v", tt.spec, err)
			}
		case err != nil:
			t.Errorf("%s: %v", tt.spec, err)
		default:
			if got.URL != tt.url || got.Format != tt.format {
				t.Errorf("%s: %q %s, want %q %s", tt.spec, got.URL, got.Format, tt.url, tt.format)
			}
			if tt.name != "" && got.Name() != tt.name {
				t.Errorf("%s: name %q, want %q", tt.spec, got.Name(), tt.name)
			}
		}
	}
}

func TestMaskURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://hooks.slack.com/services/T0/B0/XYZ": "https://hooks.slack.com/***",
		"http://127.0.0.1:8080":                      "http://127.0.0.1:8080",
		"http://127.0.0.1:8080/":                     "http://127.0.0.1:8080",
		"https://a:b@h.example/p?q=1":                "https://***@h.example/***?***",
		"":                                           `""`,
		"not a url":                                  "<invalid URL>",
	} {
		if got := MaskURL(in); got != want {
			t.Errorf("MaskURL(%q) = %q, want %q", in, got, want)
		}
	}
}
