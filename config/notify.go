package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Defaults of the notify section.
const (
	DefaultNotifyDebounce = 30 * time.Second
	DefaultNotifyAttempts = 5
	DefaultNotifyTimeout  = 10 * time.Second
)

// Notify configures the notifications `fleetdeck watch` posts when an application instance
// or a cluster changes state.
type Notify struct {
	// Debounce is how long a change must last before it is announced (default 30s); a change
	// undone within it is not announced, and one that flaps is summarised.
	Debounce time.Duration `yaml:"debounce"`
	// Attempts is how many times a message is posted before it is dropped with a logged
	// error (default 5).
	Attempts int `yaml:"attempts"`
	// Timeout bounds one post (default 10s).
	Timeout time.Duration `yaml:"timeout"`
	// Targets are the webhooks every message goes to; --notify replaces them.
	Targets []NotifyTarget `yaml:"targets"`
}

// NotifyTarget is one webhook. Exactly one of URL and URLEnv is set.
type NotifyTarget struct {
	// URL is the webhook. A Slack webhook's URL is a secret: prefer URLEnv.
	URL string `yaml:"url"`
	// URLEnv names the environment variable that holds the URL.
	URLEnv string `yaml:"urlEnv"`
	// Format is slack (an incoming-webhook payload) or json (fleetdeck's event document).
	// Empty means slack for hooks.slack.com URLs and json for any other.
	Format string `yaml:"format"`
}

func (c *checker) checkNotify(cfg *Config) {
	n := cfg.Notify
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"debounce", n.Debounce}, {"timeout", n.Timeout}} {
		if (c.has("notify", d.key) || c.src.EnvOverrides["notify."+d.key] != "") && d.v <= 0 {
			c.scalarAt("notify."+d.key, loc("notify", d.key), `use a positive duration such as "30s"`,
				"notify.%s must be positive, got %s", d.key, d.v)
		}
	}
	if (c.has("notify", "attempts") || c.src.EnvOverrides["notify.attempts"] != "") && n.Attempts <= 0 {
		c.scalarAt("notify.attempts", loc("notify", "attempts"), "use a positive number of attempts, such as 5",
			"notify.attempts must be positive, got %d", n.Attempts)
	}
	for i, t := range n.Targets {
		at := func(k string) []any { return loc("notify", "targets", i, k) }
		switch {
		case t.URL == "" && t.URLEnv == "":
			c.errorAt(loc("notify", "targets", i), "add urlEnv: SLACK_WEBHOOK_URL (a variable holding the URL) or url: https://…",
				"notify.targets[%d] has neither url nor urlEnv", i)
		case t.URL != "" && t.URLEnv != "":
			c.errorAt(at("urlEnv"), "keep one of them; urlEnv keeps the secret out of the file",
				"notify.targets[%d] has both url and urlEnv", i)
		case t.URLEnv != "":
			if !envNameRe.MatchString(t.URLEnv) || strings.Contains(t.URLEnv, "://") {
				c.errorAt(at("urlEnv"), "urlEnv holds the NAME of an environment variable (e.g. SLACK_WEBHOOK_URL), never the URL; rotate the webhook if this file was shared",
					"urlEnv is not a variable name")
			}
		default:
			u, err := url.Parse(t.URL)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				c.errorAt(at("url"), "write an https:// URL", "invalid webhook URL %s", maskWebhook(t.URL))
			} else if strings.EqualFold(u.Hostname(), "hooks.slack.com") {
				c.warnAt(at("url"), "anyone who reads this file can post to the channel; use urlEnv: SLACK_WEBHOOK_URL and export the URL instead",
					"the Slack webhook URL %s is a secret written in the file", maskWebhook(t.URL))
			}
		}
		switch t.Format {
		case "", "slack", "json":
		default:
			c.errorAt(at("format"), enumHint(t.Format, "slack", "json"), "unknown notify format %q", t.Format)
		}
	}
}

func notifyDefaults(n *Notify) {
	if n.Debounce == 0 {
		n.Debounce = DefaultNotifyDebounce
	}
	if n.Attempts == 0 {
		n.Attempts = DefaultNotifyAttempts
	}
	if n.Timeout == 0 {
		n.Timeout = DefaultNotifyTimeout
	}
}

// maskWebhook hides a webhook URL's user information, path and query: a webhook's path is
// its secret.
func maskWebhook(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Sprintf("(%d characters, not a URL)", len(raw))
	}
	s := u.Scheme + "://" + u.Host
	if u.User != nil {
		s = u.Scheme + "://***@" + u.Host
	}
	if u.Path != "" && u.Path != "/" {
		s += "/***"
	}
	if u.RawQuery != "" {
		s += "?***"
	}
	return s
}
