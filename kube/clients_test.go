package kube

import (
	"errors"
	"strings"
	"testing"

	"github.com/fleetdeck/fleetdeck/config"
)

func TestRESTConfig(t *testing.T) {
	kc := writeKubeconfig(t, map[string]string{"a": "https://a.invalid:6443", "b": "https://b.invalid:6443"})
	rc, err := RESTConfig(config.Cluster{Name: "x", Kubeconfig: kc, Context: "b"})
	if err != nil {
		t.Fatalf("RESTConfig: %v", err)
	}
	if rc.Host != "https://b.invalid:6443" || rc.BearerToken != "s3cret-token" || rc.UserAgent != UserAgent || rc.QPS != clientQPS {
		t.Errorf("config = host %s token %q agent %q qps %v", rc.Host, rc.BearerToken, rc.UserAgent, rc.QPS)
	}

	for _, tt := range []struct {
		name string
		c    config.Cluster
		want string
	}{
		{"no context", config.Cluster{Name: "x", Kubeconfig: kc}, "cluster x: no kubeconfig context"},
		{"no kubeconfig", config.Cluster{Name: "x", Context: "a"}, "cluster x: no kubeconfig path"},
		{"missing context", config.Cluster{Name: "x", Kubeconfig: kc, Context: "c"}, `cluster x: context "c" not found`},
		{"missing file", config.Cluster{Name: "x", Kubeconfig: kc + ".nope", Context: "a"}, "cluster x: read kubeconfig"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := RESTConfig(tt.c)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	base := errors.New("base")
	for in, want := range map[string]string{
		`Get "https://bob:pw@h/api": x`:            `Get "https://***@h/api": x`,
		"Authorization: Bearer abc.def.ghi":        "Authorization: Bearer ***",
		`token: "abc123" rejected`:                 `token: "***" rejected`,
		"password=hunter2, user=bob":               "password=***, user=bob",
		"dial tcp 127.0.0.1:1: connection refused": "dial tcp 127.0.0.1:1: connection refused",
	} {
		if got := RedactString(in); got != want {
			t.Errorf("RedactString(%q) = %q, want %q", in, got, want)
		}
	}
	err := redactWith(wrap{"auth failed for s3cret-token", base}, "s3cret-token")
	if err.Error() != "auth failed for ***" || !errors.Is(err, base) {
		t.Errorf("redactWith = %q (is base: %v)", err, errors.Is(err, base))
	}
}

type wrap struct {
	msg string
	err error
}

func (w wrap) Error() string { return w.msg }
func (w wrap) Unwrap() error { return w.err }
