package kube

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetdeck/fleetdeck/config"
)

// FuzzRESTConfig: a kubeconfig of any content and any context name give a client
// configuration or an error naming the cluster, and the kubeconfig's credentials (token,
// password, client key, user info in a URL) never appear in the error.
func FuzzRESTConfig(f *testing.F) {
	const secret = "s3cr3t-fuzz-token"
	good := `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}
users:
- name: u
  user: {token: ` + secret + `}
contexts:
- name: ctx
  context: {cluster: c, user: u}
`
	for _, s := range [][2]string{
		{good, "ctx"},
		{good, "other"},
		{strings.Replace(good, "https://127.0.0.1:6443", "https://admin:"+secret+"@127.0.0.1:6443", 1), "ctx"},
		{strings.Replace(good, "token: "+secret, "password: "+secret+", username: admin, token: "+secret, 1), "ctx"},
		{strings.Replace(good, "token: "+secret, "client-key-data: "+secret+", client-certificate-data: bm9wZQ==", 1), "ctx"},
		{strings.Replace(good, "user: u}", "user: missing}", 1), "ctx"},
		{strings.Replace(good, "cluster: c,", "cluster: missing,", 1), "ctx"},
		{strings.Replace(good, "insecure-skip-tls-verify: true", "certificate-authority-data: "+secret, 1), "ctx"},
		{"users: [{name: u, user: {token: " + secret + "}}]\ncontexts: 7\n", "ctx"},
		{"token: " + secret + "\n\t- broken", "ctx"},
		{"{\"users\":[{\"name\":\"u\",\"user\":{\"exec\":{\"command\":\"" + secret + "\"}}}]}", ""},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, kubeconfig, context string) {
		if !strings.Contains(kubeconfig, secret) {
			return
		}
		path := filepath.Join(t.TempDir(), "kubeconfig")
		if err := os.WriteFile(path, []byte(kubeconfig), 0o600); err != nil {
			t.Fatal(err)
		}
		rc, err := RESTConfig(config.Cluster{Name: "prod-eu", Kubeconfig: path, Context: context})
		if err != nil {
			if !strings.Contains(err.Error(), "prod-eu") {
				t.Fatalf("error does not name the cluster: %v", err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("the kubeconfig's secret is in the error: %v", err)
			}
			return
		}
		if rc == nil {
			t.Fatal("no config and no error")
		}
	})
}
