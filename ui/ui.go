// Package ui is fleetdeck's terminal user interface: one tree of applications across every
// cluster, worst first, with a details pane, filters and a command line, on Bubble Tea.
//
// The engine feeds it through a Source of fleet models; the ui never talks to a cluster or a
// repository itself and never imports client-go or go-git. Between updates it writes nothing:
// no spinner, no blinking cursor, no clock, so an idle fleet costs no bytes on a slow SSH link.
//
// Subpackages, one job each: tree (rows and their rendering), details (the details pane),
// logpane (the log pane), historypane (history and reverts), diffpane (git against live),
// syncpane (the sync dialog), theme (styles, symbols and words), fuzzy (the filter's matcher).
package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/ui/diffpane"
	"github.com/fleetdeck/fleetdeck/ui/historypane"
	"github.com/fleetdeck/fleetdeck/ui/syncpane"
	"github.com/fleetdeck/fleetdeck/ui/theme"
)

// Source is the engine as the ui sees it: a stream of whole fleet models.
//
// The contract, for whoever implements it:
//   - Updates returns the same channel on every call. The ui calls it once, from Run.
//   - Each value is a complete model (fleet.Build's output): applications worst first, and one
//     ClusterState per configured cluster, including clusters still connecting or unreachable.
//     Per-cluster connection state travels in Model.Clusters; there is no second channel.
//   - Send a first model as soon as the clusters are known, before any LIST finishes: the header
//     then shows every cluster as connecting, and one slow cluster delays nothing.
//   - A model sent belongs to the ui: the engine must not modify it, or any slice in it, after
//     the send. Build a new model for each update.
//   - Send only when something changed. The ui may skip models that arrive faster than it
//     draws (it always keeps the newest), so the channel needs no buffer.
//   - Close the channel when the engine stops for good; the ui keeps showing the last model,
//     marked "updates stopped". Closing is not required when the caller cancels Run's context.
type Source interface {
	Updates() <-chan fleet.Model
}

// ChanSource is a Source made of a channel, for callers that already have one.
type ChanSource <-chan fleet.Model

// Updates returns the channel itself.
func (c ChanSource) Updates() <-chan fleet.Model { return c }

// Options configure the ui; the command line fills them from flags, environment and config.
type Options struct {
	// ReadOnly is shown as a badge in the header.
	ReadOnly bool
	// Theme is dark (default), light or ansi16 (the terminal's own 16 colours).
	Theme string
	// NoColor draws without colour (NO_COLOR, --no-color): symbols and words carry every state.
	NoColor bool
	// Version is shown next to the name in the header.
	Version string
	// Environ is the environment the colour profile and terminal features are detected from
	// (TERM, COLORTERM, …); nil means the process environment.
	Environ []string

	// Logs follows pod logs for the log pane (l); nil says logs are not available.
	Logs Logs
	// LogRing bounds the log pane's buffer in lines; 0 means the pane's default (10,000).
	LogRing int
	// LogSaveDir is where the log pane saves buffers (s); "" means the pane's default.
	LogSaveDir string
	// History reads an application's git history and writes reverts for the history pane
	// (H); nil says history is not available. With ReadOnly the pane refuses every write.
	History historypane.Backend
	// Diffs compares instances with git for the diff pane (d); nil says diffs are not
	// available.
	Diffs diffpane.Backend
	// Sync asks operators to sync for the sync dialog (S); nil says sync is not available.
	// With ReadOnly the dialog refuses before anything is asked.
	Sync syncpane.Backend
}

// Themes lists the values Options.Theme accepts.
var Themes = theme.Names

// Run shows the ui on out, reading keys from in, until the user quits (nil), ctx ends (nil) or
// the terminal fails (an error). in and out are normally os.Stdin and os.Stdout.
//
// The caller owns the engine behind src: it starts it before Run and stops it after; Run only
// reads src.Updates() and neither closes nor stops anything. Colour follows opts.NoColor, which
// the caller sets for any non-empty NO_COLOR and for --no-color; otherwise the colour profile
// is detected from out and the environment.
func Run(ctx context.Context, src Source, opts Options, in io.Reader, out io.Writer) error {
	return run(ctx, src, opts, in, out, runConfig{})
}

// runConfig holds what tests vary: a fixed clock and a terminal size when out is not one.
type runConfig struct {
	clock         func() time.Time
	width, height int
}

func run(ctx context.Context, src Source, opts Options, in io.Reader, out io.Writer, rc runConfig) error {
	th, err := theme.New(opts.Theme, opts.NoColor)
	if err != nil {
		return fmt.Errorf("ui: %w", err)
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	m := newModel(opts, th, rc.clock, ctx.Done())
	m.baseCtx = ctx
	popts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out)}
	if opts.Environ != nil {
		popts = append(popts, tea.WithEnvironment(opts.Environ))
	}
	if opts.NoColor {
		// Ascii keeps bold and reverse video (selection, drift) and drops every colour.
		popts = append(popts, tea.WithColorProfile(colorprofile.Ascii))
	}
	if rc.width > 0 && rc.height > 0 {
		popts = append(popts, tea.WithWindowSize(rc.width, rc.height))
	}
	p := tea.NewProgram(m, popts...)

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		forward(ctx, src.Updates(), p.Send)
	}()

	_, err = p.Run()
	cancel()
	wg.Wait()
	if err != nil && errors.Is(err, tea.ErrProgramKilled) && parent.Err() != nil && !errors.Is(err, tea.ErrProgramPanic) {
		return nil // the caller's context ended: a normal way to stop
	}
	if err != nil {
		return fmt.Errorf("ui: %w", err)
	}
	return nil
}

// forward passes models from the engine to the program until ctx ends or the engine stops.
// When several models are waiting, only the newest is sent: the screen shows the fleet as it
// is, not every state it went through.
func forward(ctx context.Context, updates <-chan fleet.Model, send func(tea.Msg)) {
	for {
		select {
		case <-ctx.Done():
			return
		case fm, ok := <-updates:
			if !ok {
				send(sourceClosedMsg{})
				return
			}
		drain:
			for {
				select {
				case newer, ok := <-updates:
					if !ok {
						send(modelMsg{fm})
						send(sourceClosedMsg{})
						return
					}
					fm = newer
				default:
					break drain
				}
			}
			send(modelMsg{fm})
		}
	}
}
