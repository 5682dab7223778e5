package config

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestNotifySection(t *testing.T) {
	base := "clusters:\n  - name: a\n    kubeconfig: kubeconfig\n    context: a\nnotify:\n" // notify: on line 5
	tests := []struct {
		name, text string
		env        []string
		want       string // "file:line:col severity: message" of the one problem, "" for none
		hint       string
	}{
		{name: "env target", text: base + "  targets:\n    - urlEnv: SLACK_WEBHOOK_URL\n"},
		{name: "url target with format", text: base + "  targets:\n    - url: https://events.example.com/in\n      format: json\n"},
		{name: "neither url nor urlEnv", text: base + "  targets:\n    - format: slack\n",
			want: "c.yaml:7:7: error: notify.targets[0] has neither url nor urlEnv", hint: "urlEnv: SLACK_WEBHOOK_URL"},
		{name: "both", text: base + "  targets:\n    - url: https://e.example/x\n      urlEnv: HOOK\n",
			want: "c.yaml:8:15: error: notify.targets[0] has both url and urlEnv", hint: "keep one"},
		{name: "a URL in urlEnv is never repeated", text: base + "  targets:\n    - urlEnv: https://hooks.slack.com/services/T0/B0/secret\n",
			want: "c.yaml:7:15: error: urlEnv is not a variable name", hint: "rotate the webhook"},
		{name: "not an http URL", text: base + "  targets:\n    - url: hooks.slack.com/services/secret\n",
			want: "c.yaml:7:12: error: invalid webhook URL (31 characters, not a URL)", hint: "https://"},
		{name: "a Slack URL in the file is a warning, masked", text: base + "  targets:\n    - url: https://hooks.slack.com/services/T0/B0/secret\n",
			want: "c.yaml:7:12: warning: the Slack webhook URL https://hooks.slack.com/*** is a secret written in the file", hint: "urlEnv"},
		{name: "unknown format", text: base + "  targets:\n    - urlEnv: HOOK\n      format: slak\n",
			want: `c.yaml:8:15: error: unknown notify format "slak"`, hint: `did you mean "slack"?`},
		{name: "zero debounce", text: base + "  debounce: 0s\n",
			want: "c.yaml:6:13: error: notify.debounce must be positive, got 0s", hint: "30s"},
		{name: "negative attempts", text: base + "  attempts: -1\n",
			want: "c.yaml:6:13: error: notify.attempts must be positive, got -1", hint: "5"},
		{name: "debounce from the environment", text: base + "  targets: []\n", env: []string{"FLEETDECK_NOTIFY_DEBOUNCE", "-5s"},
			want: "$FLEETDECK_NOTIFY_DEBOUNCE: error: notify.debounce must be positive, got -5s", hint: "30s"},
		{name: "unknown key", text: base + "  target:\n    - urlEnv: HOOK\n",
			want: `c.yaml:6:3: error: unknown key "target" in notify`, hint: `did you mean "targets"?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, src, _ := parseIn(t, tt.text, fakeEnv(tt.env...))
			var got []string
			for _, p := range src.Problems {
				got = append(got, fmt.Sprintf("%s: %s: %s", p.Location(), p.Severity, p.Message))
			}
			if tt.want == "" {
				if len(got) > 0 {
					t.Fatalf("problems:\n%s", strings.Join(got, "\n"))
				}
				return
			}
			if len(got) != 1 || got[0] != tt.want {
				t.Fatalf("problems:\n%s\nwant exactly:\n%s", strings.Join(got, "\n"), tt.want)
			}
			if !strings.Contains(src.Problems[0].Hint, tt.hint) {
				t.Errorf("hint %q lacks %q", src.Problems[0].Hint, tt.hint)
			}
			if strings.Contains(got[0]+src.Problems[0].Hint, "/services/") {
				t.Errorf("the webhook's secret is repeated: %s / %s", got[0], src.Problems[0].Hint)
			}
		})
	}
}

func TestNotifyDefaults(t *testing.T) {
	cfg, _, err := parseIn(t, minimal, fakeEnv())
	if err != nil {
		t.Fatal(err)
	}
	if n := cfg.Notify; n.Debounce != DefaultNotifyDebounce || n.Attempts != DefaultNotifyAttempts || n.Timeout != DefaultNotifyTimeout || len(n.Targets) != 0 {
		t.Errorf("defaults: %+v", n)
	}
	cfg, _, err = parseIn(t, minimal+"notify:\n  debounce: 1s\n  attempts: 2\n  targets:\n    - urlEnv: HOOK\n", fakeEnv("FLEETDECK_NOTIFY_TIMEOUT", "3s"))
	if err != nil {
		t.Fatal(err)
	}
	if n := cfg.Notify; n.Debounce != time.Second || n.Attempts != 2 || n.Timeout != 3*time.Second || len(n.Targets) != 1 || n.Targets[0].URLEnv != "HOOK" {
		t.Errorf("set: %+v", n)
	}
}
