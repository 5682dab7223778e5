package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"
)

// Source says where the configuration came from and what was found in it.
type Source struct {
	// Path is the file as the user named it (flag or variable), or the
	// default path; problems are reported against it.
	Path string
	// AbsPath is Path made absolute.
	AbsPath string
	// Dir is the directory relative paths in the file are resolved against.
	Dir string
	// Origin says how the path was chosen: "--config", "$FLEETDECK_CONFIG",
	// "$XDG_CONFIG_HOME" or "default".
	Origin string
	// Tried lists every candidate considered, with the reason it was
	// skipped or used.
	Tried []string
	// EnvOverrides maps a dotted key ("ui.theme") to the variable that set
	// it (FLEETDECK_UI_THEME).
	EnvOverrides map[string]string
	// Problems found while loading, sorted by position. Errors make Load
	// return a *ValidationError.
	Problems Problems
	// Checked says the semantic checks ran and defaults were applied: the
	// file had no syntax or type errors.
	Checked bool

	root *yaml.Node
	// unusable marks clusters (by index) whose kubeconfig or context is
	// broken: probing them would only repeat the problem.
	unusable map[int]bool
}

// Position is the line and column of the value at path in the file (string
// keys, int list indexes), or of its nearest existing parent; 0, 0 before
// the file was parsed. Callers use it to report later findings, such as an
// unreachable cluster, where the user can fix them.
func (s *Source) Position(path ...any) (line, column int) {
	if s.root == nil {
		return 0, 0
	}
	n := (&checker{src: s, root: s.root}).near(path...)
	return n.Line, n.Column
}

// ClusterUsable says whether cluster i's kubeconfig and context passed the
// checks, so a client can be built for it.
func (s *Source) ClusterUsable(i int) bool { return s.Checked && !s.unusable[i] }

// ConfigEnv names the variable holding the config file's path.
const ConfigEnv = "FLEETDECK_CONFIG"

// Locate picks the config file: path if given, else $FLEETDECK_CONFIG, else
// $XDG_CONFIG_HOME/fleetdeck/config.yaml, else ~/.config/fleetdeck/config.yaml.
// It does not check that the file exists.
func Locate(path string, getenv func(string) string) *Source {
	getenv = orOSGetenv(getenv)
	src := &Source{EnvOverrides: map[string]string{}}
	switch {
	case path != "":
		src.Path, src.Origin = path, "--config"
		src.Tried = append(src.Tried, "--config "+path)
	case getenv(ConfigEnv) != "":
		src.Path, src.Origin = getenv(ConfigEnv), "$"+ConfigEnv
		src.Tried = append(src.Tried, "--config (not given)", "$"+ConfigEnv+" = "+src.Path)
	default:
		src.Tried = append(src.Tried, "--config (not given)", "$"+ConfigEnv+" (not set)")
		if x := getenv("XDG_CONFIG_HOME"); x != "" {
			src.Path, src.Origin = filepath.Join(x, "fleetdeck", "config.yaml"), "$XDG_CONFIG_HOME"
		} else {
			src.Path, src.Origin = filepath.Join(homeDir(getenv), ".config", "fleetdeck", "config.yaml"), "default"
		}
		src.Tried = append(src.Tried, src.Path+" ("+src.Origin+")")
	}
	src.AbsPath = ResolvePath(src.Path, "", getenv)
	src.Dir = filepath.Dir(src.AbsPath)
	return src
}

// Load locates, reads and validates the configuration. getenv reads the
// environment (nil means os.Getenv); FLEETDECK_* variables override scalar
// keys such as readOnly (FLEETDECK_READONLY), timeout (FLEETDECK_TIMEOUT)
// and ui.theme (FLEETDECK_UI_THEME).
//
// The error is a *NotFoundError when no file can be read (Config is nil)
// and a *ValidationError when the file has errors; then Config holds what
// could be read and Source.Problems says what is wrong. Warnings alone
// give a nil error.
func Load(path string, getenv func(string) string) (*Config, *Source, error) {
	getenv = orOSGetenv(getenv)
	src := Locate(path, getenv)
	data, err := os.ReadFile(src.AbsPath)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = fmt.Errorf("%s: %w", src.Path, pe.Err)
		}
		src.Tried[len(src.Tried)-1] += " → " + osReason(err)
		return nil, src, &NotFoundError{Tried: src.Tried, Err: err}
	}
	cfg := load(src, data, getenv)
	if src.Problems.Errors() > 0 {
		return cfg, src, &ValidationError{File: src.Path, Problems: src.Problems}
	}
	return cfg, src, nil
}

// Parse validates configuration text as if it had been read from
// src.Path; tests and callers holding the bytes already use it.
func Parse(src *Source, data []byte, getenv func(string) string) (*Config, error) {
	if src.EnvOverrides == nil {
		src.EnvOverrides = map[string]string{}
	}
	cfg := load(src, data, orOSGetenv(getenv))
	if src.Problems.Errors() > 0 {
		return cfg, &ValidationError{File: src.Path, Problems: src.Problems}
	}
	return cfg, nil
}

var yamlLineRe = regexp.MustCompile(`line (\d+)`)

func load(src *Source, data []byte, getenv func(string) string) *Config {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		// yaml.v3 reports the line where the broken construct starts, and
		// no column; say only what the parser knows.
		line := 0
		if m := yamlLineRe.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
		}
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		msg = strings.TrimPrefix(msg, fmt.Sprintf("line %d: ", line))
		src.Problems = append(src.Problems, Problem{File: src.Path, Line: line, Severity: SeverityError,
			Message: "YAML syntax: " + msg, Hint: "indent with spaces only, and check that every \"key: value\" has a space after the colon"})
		return nil
	}
	var root *yaml.Node
	if len(doc.Content) > 0 {
		root = resolveAlias(doc.Content[0])
	}
	src.root = root
	w := &schemaWalker{file: src.Path}
	if root != nil && !isNull(root) {
		w.walkStruct(root, reflect.TypeOf(Config{}), "")
	}
	src.Problems = append(src.Problems, w.problems...)

	v := viper.New()
	v.SetConfigType("yaml")
	readErr := v.ReadConfig(bytes.NewReader(data))
	if readErr != nil && len(w.problems) == 0 {
		src.Problems = append(src.Problems, Problem{File: src.Path, Line: 1, Column: 1, Severity: SeverityError,
			Message: fmt.Sprintf("cannot read YAML: %v", readErr)})
	}
	applyEnv(v, src, getenv)

	cfg := &Config{}
	decodeErr := v.Unmarshal(cfg, func(dc *mapstructure.DecoderConfig) { dc.TagName = "yaml" })
	if decodeErr != nil && w.typeErrors == 0 {
		src.Problems = append(src.Problems, Problem{File: src.Path, Line: 1, Column: 1, Severity: SeverityError,
			Message: fmt.Sprintf("cannot decode: %v", decodeErr)})
	}
	// After a wrong type the decoded config is partial: checking references
	// in it would report consequences, not causes.
	if w.typeErrors == 0 && readErr == nil && decodeErr == nil {
		c := newChecker(src, root, getenv)
		c.validate(cfg)
		c.applyDefaults(cfg)
		src.Problems = append(src.Problems, c.problems...)
		src.Checked = true
	}
	src.Problems.Sort()
	return cfg
}

// applyEnv sets every FLEETDECK_* override that getenv knows. Viper's
// AutomaticEnv would read os.Getenv directly and only for keys present in
// the file; going through getenv keeps tests hermetic, validates the value
// with a message naming the variable, and records which keys came from the
// environment. Variable names follow viper's SetEnvPrefix+SetEnvKeyReplacer
// convention.
func applyEnv(v *viper.Viper, src *Source, getenv func(string) string) {
	for _, k := range envKeys(reflect.TypeOf(Config{}), "") {
		name := envVar(k.key)
		raw := getenv(name)
		if raw == "" {
			continue
		}
		val, hint, err := checkEnvValue(k.typ, raw)
		if err != nil {
			src.Problems = append(src.Problems, Problem{File: "$" + name, Severity: SeverityError,
				Message: err.Error(), Hint: hint})
			continue
		}
		v.Set(k.key, val)
		src.EnvOverrides[k.key] = name
	}
}

// ResolvePath expands a leading "~" to the home directory and joins a
// relative path to baseDir (the working directory when baseDir is "").
func ResolvePath(p, baseDir string, getenv func(string) string) string {
	if p == "" {
		return ""
	}
	if p == "~" || strings.HasPrefix(p, "~/") {
		p = filepath.Join(homeDir(orOSGetenv(getenv)), p[1:])
	}
	if !filepath.IsAbs(p) {
		if baseDir == "" {
			if abs, err := filepath.Abs(p); err == nil {
				return abs
			}
			return p
		}
		p = filepath.Join(baseDir, p)
	}
	return filepath.Clean(p)
}

// DefaultKubeconfig is the kubeconfig used when a cluster names none, as
// kubectl picks it: the first path of $KUBECONFIG, else ~/.kube/config.
// shown is how to name it to the user.
func DefaultKubeconfig(getenv func(string) string) (path, shown string) {
	getenv = orOSGetenv(getenv)
	if kc := getenv("KUBECONFIG"); kc != "" {
		for _, p := range filepath.SplitList(kc) {
			if p != "" {
				return ResolvePath(p, "", getenv), "$KUBECONFIG (" + p + ")"
			}
		}
	}
	return ResolvePath("~/.kube/config", "", getenv), "~/.kube/config"
}

func homeDir(getenv func(string) string) string {
	if h := getenv("HOME"); h != "" {
		return h
	}
	if h, err := os.UserHomeDir(); err == nil {
		return h
	}
	return "/"
}

func orOSGetenv(getenv func(string) string) func(string) string {
	if getenv == nil {
		return os.Getenv
	}
	return getenv
}

// osReason is the short cause of a file error, without the path.
func osReason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	return err.Error()
}
