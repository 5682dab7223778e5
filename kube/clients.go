// Package kube connects fleetdeck to its clusters: client configuration per
// cluster, access probes, informers and per-cluster state.
package kube

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/fleetdeck/fleetdeck/config"
)

// Client rate limits: client-go's defaults (5 QPS, burst 10) throttle the
// start-up LISTs of a whole fleet view; these stay polite to one apiserver.
const (
	clientQPS   = 50
	clientBurst = 100
)

// UserAgent identifies fleetdeck's requests in apiserver audit logs.
const UserAgent = "fleetdeck"

// RESTConfig builds the client configuration of one cluster from its
// kubeconfig file and context, both as config.Load resolved them. It never
// falls back to the kubeconfig's current context: an empty Context is an
// error. Secrets from the kubeconfig never appear in the error text.
func RESTConfig(c config.Cluster) (*rest.Config, error) {
	if c.Kubeconfig == "" {
		return nil, fmt.Errorf("cluster %s: no kubeconfig path (load the configuration with config.Load)", c.Name)
	}
	if c.Context == "" {
		return nil, fmt.Errorf("cluster %s: no kubeconfig context (load the configuration with config.Load)", c.Name)
	}
	raw, err := clientcmd.LoadFromFile(c.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: read kubeconfig %s: %w", c.Name, c.Kubeconfig, Redact(err))
	}
	if _, ok := raw.Contexts[c.Context]; !ok {
		return nil, fmt.Errorf("cluster %s: context %q not found in kubeconfig %s", c.Name, c.Context, c.Kubeconfig)
	}
	cc := clientcmd.NewNonInteractiveClientConfig(*raw, c.Context, &clientcmd.ConfigOverrides{}, nil)
	rc, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("cluster %s: context %s: %w", c.Name, c.Context, redactWith(err, secretsOf(raw, c.Context)...))
	}
	rc.QPS, rc.Burst = clientQPS, clientBurst
	rc.UserAgent = UserAgent
	return rc, nil
}

// secretsOf lists the credential strings of a context's user, to scrub
// them from any error text.
func secretsOf(raw *clientcmdapi.Config, context string) []string {
	ctx, ok := raw.Contexts[context]
	if !ok {
		return nil
	}
	ai, ok := raw.AuthInfos[ctx.AuthInfo]
	if !ok {
		return nil
	}
	return []string{ai.Token, ai.Password, string(ai.ClientKeyData)}
}

var (
	bearerRe   = regexp.MustCompile(`(?i)(bearer\s+)[^\s"']+`)
	keyValueRe = regexp.MustCompile(`(?i)((?:token|password|secret|client-key-data)["']?\s*[:=]\s*["']?)[^\s"',}]+`)
	urlUserRe  = regexp.MustCompile(`(://)[^/@\s]+@`)
)

// Redact removes credentials from an error's text: bearer tokens,
// token/password assignments and user information in URLs. The result
// keeps the original error for errors.Is/As.
func Redact(err error) error { return redactWith(err) }

func redactWith(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := RedactString(err.Error())
	for _, s := range secrets {
		if len(s) >= 4 {
			msg = strings.ReplaceAll(msg, s, "***")
		}
	}
	if msg == err.Error() {
		return err
	}
	return &redactedError{msg: msg, err: err}
}

// RedactString applies Redact's rules to a string.
func RedactString(s string) string {
	s = bearerRe.ReplaceAllString(s, "${1}***")
	s = keyValueRe.ReplaceAllString(s, "${1}***")
	s = urlUserRe.ReplaceAllString(s, "${1}***@")
	return s
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// hostOf is the server address of a config, for messages.
func hostOf(cfg *rest.Config) string {
	if cfg == nil {
		return ""
	}
	if u, err := url.Parse(cfg.Host); err == nil && u.Host != "" {
		return u.Host
	}
	return cfg.Host
}
