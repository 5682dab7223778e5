package notify

import (
	"fmt"
	"net/url"
	"strings"
)

// Format is the payload a target receives.
type Format string

// Formats.
const (
	// FormatSlack is a Slack incoming-webhook payload (text and blocks); Mattermost, Rocket.Chat
	// and other Slack-compatible hooks accept it too.
	FormatSlack Format = "slack"
	// FormatJSON is the generic JSON event: a Message.
	FormatJSON Format = "json"
)

// ParseFormat reads a format name; "" means choose by URL (see Target).
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case "", FormatSlack, FormatJSON:
		return f, nil
	}
	return "", fmt.Errorf("unknown format %q (want slack or json)", s)
}

// Target is one webhook that receives every message.
type Target struct {
	URL    string
	Format Format
	// Source is how the URL was given, safe to log: "env:SLACK_WEBHOOK_URL" or the URL masked.
	Source string
}

// Name is how the target appears in logs: its source and, for a URL read from the
// environment, the masked URL.
func (t Target) Name() string {
	if strings.HasPrefix(t.Source, "env:") {
		return t.Source + " (" + MaskURL(t.URL) + ")"
	}
	return MaskURL(t.URL)
}

// NewTarget checks a webhook URL, given directly (rawURL) or as the name of the environment
// variable that holds it (env), and picks the format: f when given, else slack for
// hooks.slack.com and json for anything else. Errors never repeat the URL unmasked.
func NewTarget(rawURL, env string, f Format, getenv func(string) string) (Target, error) {
	t := Target{URL: rawURL, Format: f, Source: MaskURL(rawURL)}
	if env != "" {
		t.Source = "env:" + env
		t.URL = strings.TrimSpace(getenv(env))
		if t.URL == "" {
			return Target{}, fmt.Errorf("webhook %s: the environment variable %s is not set", t.Source, env)
		}
	}
	u, err := url.Parse(t.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return Target{}, fmt.Errorf("webhook %s: %s is not an http:// or https:// URL", t.Source, MaskURL(t.URL))
	}
	if t.Format == "" {
		t.Format = FormatJSON
		if isSlackHost(u.Hostname()) {
			t.Format = FormatSlack
		}
	}
	return t, nil
}

func isSlackHost(h string) bool {
	h = strings.ToLower(h)
	return h == "hooks.slack.com" || strings.HasSuffix(h, ".hooks.slack.com")
}

// ParseTarget reads a --notify value: [FORMAT=]URL or [FORMAT=]env:NAME, where FORMAT is
// slack or json (e.g. json=https://events.example.com/hook, env:SLACK_WEBHOOK_URL).
func ParseTarget(spec string, getenv func(string) string) (Target, error) {
	var f Format
	for _, name := range []Format{FormatSlack, FormatJSON} {
		if rest, ok := strings.CutPrefix(spec, string(name)+"="); ok {
			f, spec = name, rest
		}
	}
	if env, ok := strings.CutPrefix(spec, "env:"); ok {
		if env == "" {
			return Target{}, fmt.Errorf("webhook env: names no variable (write env:SLACK_WEBHOOK_URL)")
		}
		return NewTarget("", env, f, getenv)
	}
	return NewTarget(spec, "", f, getenv)
}

// MaskURL hides what may be secret in a webhook URL: the user information, the path (Slack's
// holds the token) and the query. "https://hooks.slack.com/services/T0/B0/x" becomes
// "https://hooks.slack.com/***".
func MaskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		if raw == "" {
			return `""`
		}
		return "<invalid URL>"
	}
	s := u.Scheme + "://"
	if u.User != nil {
		s += "***@"
	}
	s += u.Host
	if u.Path != "" && u.Path != "/" || u.RawPath != "" || u.Opaque != "" {
		s += "/***"
	}
	if u.RawQuery != "" {
		s += "?***"
	}
	return s
}
