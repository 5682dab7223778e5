package config

import (
	"fmt"
	"sort"
	"strings"
)

// Severity says whether a problem makes the configuration unusable.
type Severity string

// Severities.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Problem is one finding about the configuration, located in the file the
// user wrote (or in an environment variable, then Line is 0).
type Problem struct {
	// File is the config path as the user gave it, or "$VAR" for an
	// environment override.
	File     string   `json:"file"`
	Line     int      `json:"line,omitempty"`
	Column   int      `json:"column,omitempty"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	// Hint says how to fix it; may be empty.
	Hint string `json:"hint,omitempty"`
}

// Location is "file:line:column", or just the file when there is no line.
func (p Problem) Location() string {
	if p.Line <= 0 {
		return p.File
	}
	if p.Column <= 0 {
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
}

// String formats the problem as compilers do, with the hint on an
// indented second line.
func (p Problem) String() string {
	s := fmt.Sprintf("%s: %s: %s", p.Location(), p.Severity, p.Message)
	if p.Hint != "" {
		s += "\n    hint: " + p.Hint
	}
	return s
}

// Problems is a list of findings.
type Problems []Problem

// Errors counts problems of severity error.
func (ps Problems) Errors() int {
	n := 0
	for _, p := range ps {
		if p.Severity == SeverityError {
			n++
		}
	}
	return n
}

// Warnings counts problems of severity warning.
func (ps Problems) Warnings() int { return len(ps) - ps.Errors() }

// Sort orders environment problems first, then by position; the order of
// equal positions is kept so related problems stay together.
func (ps Problems) Sort() {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.File != b.File {
			return strings.HasPrefix(a.File, "$") && !strings.HasPrefix(b.File, "$")
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}

// ValidationError is returned by Load when the file has errors. The
// configuration is still returned, as far as it could be read.
type ValidationError struct {
	File     string
	Problems Problems
}

func (e *ValidationError) Error() string {
	n := e.Problems.Errors()
	first := ""
	for _, p := range e.Problems {
		if p.Severity == SeverityError {
			first = p.Location() + ": " + p.Message
			break
		}
	}
	if n == 1 {
		return fmt.Sprintf("invalid config: %s", first)
	}
	return fmt.Sprintf("invalid config: %s (and %d more errors; run `fleetdeck config check`)", first, n-1)
}

// NotFoundError is returned by Load when no config file can be read at all.
type NotFoundError struct {
	// Tried lists each candidate with why it was not used.
	Tried []string
	Err   error
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("cannot read a config file: %v\n  tried:\n    %s\n  start from config.example.yaml, or pass --config", e.Err, strings.Join(e.Tried, "\n    "))
}

func (e *NotFoundError) Unwrap() error { return e.Err }
