package cli

import (
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams are the standard streams a verb reads and writes. Verbs never
// touch os.Stdout directly so tests can capture output and fake a terminal.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	// OutIsTerminal says whether Out is a terminal: tables and colours on a
	// terminal, plain text when piped.
	OutIsTerminal bool
	// ErrIsTerminal says whether ErrOut is a terminal (progress lines).
	ErrIsTerminal bool
	// Getenv reads the environment; tests replace it.
	Getenv func(string) string
}

// SystemStreams returns the process's real streams.
func SystemStreams() *IOStreams {
	return &IOStreams{
		In:            os.Stdin,
		Out:           os.Stdout,
		ErrOut:        os.Stderr,
		OutIsTerminal: term.IsTerminal(int(os.Stdout.Fd())),
		ErrIsTerminal: term.IsTerminal(int(os.Stderr.Fd())),
		Getenv:        os.Getenv,
	}
}

// ColorEnabled follows the NO_COLOR convention (any non-empty value turns
// colour off) and only colours terminals.
func (s *IOStreams) ColorEnabled() bool {
	if s.Getenv != nil && s.Getenv("NO_COLOR") != "" {
		return false
	}
	return s.OutIsTerminal
}
