package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/fleetdeck/fleetdeck/config"
	"github.com/fleetdeck/fleetdeck/internal/notify"
)

func TestWatchTargets(t *testing.T) {
	env := map[string]string{"HOOK": "https://hooks.slack.com/services/T0/B0/secret", "EVENTS": "https://events.example/x"}
	getenv := func(k string) string { return env[k] }
	cfg := &config.Config{}
	cfg.Notify.Targets = []config.NotifyTarget{{URLEnv: "EVENTS"}, {URL: "https://chat.example/hook", Format: "slack"}}

	tests := []struct {
		name    string
		notify  []string
		want    []notify.Format // nil with wantErr
		wantErr string
	}{
		{"from the config", nil, []notify.Format{notify.FormatJSON, notify.FormatSlack}, ""},
		{"--notify replaces the config", []string{"env:HOOK"}, []notify.Format{notify.FormatSlack}, ""},
		{"format prefix", []string{"json=env:HOOK", "slack=https://chat.example/x"}, []notify.Format{notify.FormatJSON, notify.FormatSlack}, ""},
		{"unset variable", []string{"env:NOPE"}, nil, "--notify: webhook env:NOPE: the environment variable NOPE is not set"},
		{"not a URL", []string{"ftp://x/y"}, nil, "is not an http:// or https:// URL"},
	}
	for _, tt := range tests {
		got, err := watchTargets(cfg, &watchOptions{Notify: tt.notify}, getenv)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: err %v, want %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		var formats []notify.Format
		for _, g := range got {
			formats = append(formats, g.Format)
			if strings.Contains(g.Name(), "secret") {
				t.Errorf("%s: target name %q shows the secret", tt.name, g.Name())
			}
		}
		if len(formats) != len(tt.want) || strings.Join(fmtStrings(formats), ",") != strings.Join(fmtStrings(tt.want), ",") {
			t.Errorf("%s: formats %v, want %v", tt.name, formats, tt.want)
		}
	}
	if _, err := watchTargets(&config.Config{}, &watchOptions{}, getenv); err == nil || !strings.Contains(err.Error(), "no webhook to notify") {
		t.Errorf("no targets anywhere: err %v, want the 'no webhook to notify' hint", err)
	}
}

func fmtStrings(fs []notify.Format) []string {
	var out []string
	for _, f := range fs {
		out = append(out, string(f))
	}
	return out
}

func TestWatchFlagErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--debounce", "-1s"}, "--debounce must not be negative"},
		{[]string{"--timeout", "0s"}, "--timeout must be positive"},
		{[]string{"extra"}, "unknown command"},
	} {
		var out, errOut bytes.Buffer
		streams := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, Getenv: func(string) string { return "" }}
		code := Main(streams, append([]string{"watch", "--config", syncConfig(t, "")}, tt.args...))
		if code != ExitError || !strings.Contains(errOut.String(), tt.want) {
			t.Errorf("watch %v: exit %d, stderr %q; want exit %d and %q", tt.args, code, errOut.String(), ExitError, tt.want)
		}
	}
}
