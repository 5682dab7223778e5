package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// unreadable reports text that could name a device or kernel file as a kubeconfig: reading
// /dev/zero never ends, and such a file is no kubeconfig a user writes.
func unreadable(text string) bool {
	return strings.Contains(text, "/dev") || strings.Contains(text, "/proc") || strings.Contains(text, "/sys")
}

// FuzzParse: any configuration text parses or fails with problems that each say where (the
// file, and a line unless the whole file is at fault) and what; nothing panics.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		minimal,
		"clusters:\n  - name: a\n    kubeconfig: kubeconfig\n    context: nope\n",
		"clusters: {}\n",
		"clusters:\n  - 7\n  - [a]\n  - name: [x]\n",
		"clusters:\n  - name: a\n  - name: a\n",
		"repositories:\n  - name: r\n    url: https://user:pass@git.example/r.git\n    auth: {tokenEnv: 7}\napplications:\n  - name: x\n    repo: missing\n    render: jinja\n",
		"timeout: forever\nreadOnly: maybe\nui: {theme: [dark]}\n",
		"a: &a [*a, *a, *a]\n",
		"clusters:\n\t- name: tab\n",
		"? [complex]\n: key\n",
		"--- \n--- \n",
		"",
		"clusters:\n  - name: \"\\e]52;c;AAAA\\a\u202e\"\n    kubeconfig: \"~/../k\"\n",
		"applications:\n  - name: a\n    clusters: [{name: nowhere}, 7]\n    valuesFiles: {}\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if unreadable(text) {
			return
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "kubeconfig"), []byte(testKubeconfig), 0o600); err != nil {
			t.Fatal(err)
		}
		src := &Source{Path: "c.yaml", AbsPath: filepath.Join(dir, "c.yaml"), Dir: dir}
		_, err := Parse(src, []byte(text), fakeEnv("HOME", dir))
		if err == nil {
			return
		}
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("error %T is not a *ValidationError: %v", err, err)
		}
		for _, p := range ve.Problems {
			if p.File != "c.yaml" || strings.TrimSpace(p.Message) == "" {
				t.Fatalf("problem without a place or a message: %+v", p)
			}
		}
		if !strings.Contains(err.Error(), "c.yaml") {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}

// FuzzKubeconfig: a cluster's kubeconfig file and context of any content are checked without
// panicking, and the kubeconfig's credentials never appear in a problem.
func FuzzKubeconfig(f *testing.F) {
	const secret = "s3cr3t-fuzz-token"
	for _, s := range [][2]string{
		{strings.ReplaceAll(testKubeconfig, "secret-token", secret), "a"},
		{strings.ReplaceAll(testKubeconfig, "secret-token", secret), ""},
		{strings.ReplaceAll(testKubeconfig, "secret-token", secret), "missing"},
		{"apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user: {token: " + secret + ", password: " + secret + "}\ncontexts: 7\n", "a"},
		{"token: " + secret + "\n\t: broken", "a"},
		{"{\"users\": [{\"name\": \"u\", \"user\": {\"token\": \"" + secret + "\"}}], \"contexts\": [{\"name\": \"\\u001b[2J\"}]}", "\x1b[2J"},
		{"", "a"},
		{"current-context: b\ncontexts:\n- name: b\n  context: {cluster: nowhere, user: nobody}\n", ""},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, kubeconfig, context string) {
		if !strings.Contains(kubeconfig, secret) {
			return // the property is about the secret; other content is FuzzParse's
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "kubeconfig"), []byte(kubeconfig), 0o600); err != nil {
			t.Fatal(err)
		}
		src := &Source{Path: "c.yaml", AbsPath: filepath.Join(dir, "c.yaml"), Dir: dir}
		text := "clusters:\n  - name: a\n    kubeconfig: kubeconfig\n    context: " + strconvQuote(context) + "\n"
		_, err := Parse(src, []byte(text), fakeEnv("HOME", dir))
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Fatalf("the kubeconfig's secret is in the error: %v", err)
		}
		for _, p := range src.Problems {
			if strings.Contains(p.String(), secret) {
				t.Fatalf("the kubeconfig's secret is in a problem: %v", p)
			}
		}
	})
}

// FuzzResolvePath: kubeconfig and cache paths are made absolute and clean.
func FuzzResolvePath(f *testing.F) {
	for _, s := range []string{"~", "~/x", "~user/x", "rel/../x", "/abs//x/", "", "..", "a\x00b", "~/../../etc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		got := ResolvePath(p, "/base", fakeEnv("HOME", "/home/u"))
		if p != "" && (!filepath.IsAbs(got) || filepath.Clean(got) != got) {
			t.Fatalf("ResolvePath(%q) = %q: not absolute and clean", p, got)
		}
	})
}

// strconvQuote writes s as a YAML double-quoted scalar (JSON escapes are valid YAML).
func strconvQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteString(`\` + string(r))
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\x` + string("0123456789abcdef"[r>>4]) + string("0123456789abcdef"[r&15]))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
