// Package theme holds fleetdeck's screen styles (dark, light, 16-colour and monochrome) and the
// symbols and words that name each state, so that no state is told by colour alone.
//
// Every state is drawn as a symbol plus its word ("≠ OutOfSync", "✗ Degraded"); colour only
// repeats what the text already says, which keeps NO_COLOR screens and screen readers usable.
package theme

import (
	"fmt"
	"image/color"

	"charm.land/lipgloss/v2"

	"github.com/fleetdeck/fleetdeck/fleet"
)

// Names lists the themes New accepts.
var Names = []string{"dark", "light", "ansi16"}

// Theme is a set of styles. The zero value is not usable: call New.
type Theme struct {
	Name string
	// Mono is true when colours are off: selection is shown in reverse video instead.
	Mono bool

	Text, Dim, Title, Accent lipgloss.Style
	Key, KeyDesc             lipgloss.Style
	Error, Notice            lipgloss.Style
	ReadOnly                 lipgloss.Style
	Drift, Latest            lipgloss.Style
	Divider                  lipgloss.Style

	sev    [fleet.SeverityCritical + 1]lipgloss.Style
	sync   map[fleet.SyncStatus]lipgloss.Style
	health map[fleet.HealthStatus]lipgloss.Style
	conn   map[fleet.ConnState]lipgloss.Style
	selBg  color.Color
}

type palette struct {
	text, dim, accent, title   color.Color
	ok, info, warn, err, crit  color.Color
	selBg, readOnlyBg, onBadge color.Color
}

var palettes = map[string]palette{
	"dark": {
		text: lipgloss.Color("#d0d0d0"), dim: lipgloss.Color("#808080"), accent: lipgloss.Color("#7aa2f7"), title: lipgloss.Color("#e0e0e0"),
		ok: lipgloss.Color("#73c991"), info: lipgloss.Color("#7dcfff"), warn: lipgloss.Color("#e0af68"),
		err: lipgloss.Color("#f7768e"), crit: lipgloss.Color("#ff5f5f"),
		selBg: lipgloss.Color("#2f3549"), readOnlyBg: lipgloss.Color("#3d59a1"), onBadge: lipgloss.Color("#ffffff"),
	},
	"light": {
		text: lipgloss.Color("#303030"), dim: lipgloss.Color("#707070"), accent: lipgloss.Color("#2e59a8"), title: lipgloss.Color("#101010"),
		ok: lipgloss.Color("#2e7d32"), info: lipgloss.Color("#00739a"), warn: lipgloss.Color("#9a6700"),
		err: lipgloss.Color("#c62828"), crit: lipgloss.Color("#b00020"),
		selBg: lipgloss.Color("#dde4f5"), readOnlyBg: lipgloss.Color("#2e59a8"), onBadge: lipgloss.Color("#ffffff"),
	},
	// ansi16 uses the terminal's own 16 colours, so it follows whatever scheme the user set.
	"ansi16": {
		text: nil, dim: lipgloss.BrightBlack, accent: lipgloss.Blue, title: nil,
		ok: lipgloss.Green, info: lipgloss.Cyan, warn: lipgloss.Yellow, err: lipgloss.Red, crit: lipgloss.BrightRed,
		selBg: nil, readOnlyBg: lipgloss.Blue, onBadge: lipgloss.BrightWhite,
	},
}

// New returns the named theme ("" means dark); noColor gives the monochrome variant, which
// uses attributes (bold, reverse) but no colour.
func New(name string, noColor bool) (Theme, error) {
	if name == "" {
		name = "dark"
	}
	p, ok := palettes[name]
	if !ok {
		return Theme{}, fmt.Errorf("theme %q: unknown (want one of %v)", name, Names)
	}
	if noColor {
		p = palette{}
	}
	fg := func(c color.Color) lipgloss.Style {
		s := lipgloss.NewStyle()
		if c != nil {
			s = s.Foreground(c)
		}
		return s
	}
	t := Theme{Name: name, Mono: noColor, selBg: p.selBg}
	if noColor {
		t.Name = name + " (no colour)"
	}
	t.Text = fg(p.text)
	t.Dim = fg(p.dim)
	if noColor {
		t.Dim = t.Dim.Faint(true)
	}
	t.Title = fg(p.title).Bold(true)
	t.Accent = fg(p.accent).Bold(true)
	t.Key = fg(p.accent).Bold(true)
	t.KeyDesc = fg(p.dim)
	t.Error = fg(p.err).Bold(true)
	t.Notice = fg(p.info)
	t.ReadOnly = lipgloss.NewStyle().Bold(true)
	if noColor {
		t.ReadOnly = t.ReadOnly.Reverse(true)
	} else {
		t.ReadOnly = t.ReadOnly.Foreground(p.onBadge).Background(p.readOnlyBg)
	}
	t.Drift = fg(p.warn).Bold(true)
	t.Latest = fg(p.warn).Bold(true)
	t.Divider = fg(p.dim)

	t.sev = [...]lipgloss.Style{
		fleet.SeverityOK:       fg(p.ok),
		fleet.SeverityInfo:     fg(p.info),
		fleet.SeverityWarning:  fg(p.warn),
		fleet.SeverityError:    fg(p.err).Bold(true),
		fleet.SeverityCritical: fg(p.crit).Bold(true),
	}
	t.sync = map[fleet.SyncStatus]lipgloss.Style{
		fleet.Synced:      fg(p.ok),
		fleet.OutOfSync:   fg(p.warn).Bold(true),
		fleet.SyncUnknown: fg(p.dim),
	}
	t.health = map[fleet.HealthStatus]lipgloss.Style{
		fleet.Healthy:     fg(p.ok),
		fleet.Progressing: fg(p.info),
		fleet.Suspended:   fg(p.dim),
		fleet.Missing:     fg(p.warn).Bold(true),
		fleet.Degraded:    fg(p.err).Bold(true),
		fleet.Unknown:     fg(p.dim),
	}
	t.conn = map[fleet.ConnState]lipgloss.Style{
		fleet.ConnSynced:      fg(p.ok),
		fleet.ConnConnecting:  fg(p.info),
		fleet.ConnSlow:        fg(p.warn),
		fleet.ConnUnreachable: fg(p.err).Bold(true),
	}
	return t, nil
}

// Severity is the style for a severity.
func (t Theme) Severity(s fleet.Severity) lipgloss.Style {
	if s < 0 || int(s) >= len(t.sev) {
		return t.Text
	}
	return t.sev[s]
}

// Sync is the style for a sync status.
func (t Theme) Sync(s fleet.SyncStatus) lipgloss.Style {
	if st, ok := t.sync[s]; ok {
		return st
	}
	return t.Dim
}

// Health is the style for a health status.
func (t Theme) Health(h fleet.HealthStatus) lipgloss.Style {
	if st, ok := t.health[h]; ok {
		return st
	}
	return t.Dim
}

// Conn is the style for a cluster connection state.
func (t Theme) Conn(c fleet.ConnState) lipgloss.Style {
	if st, ok := t.conn[c]; ok {
		return st
	}
	return t.Dim
}

// Selected turns a style into its variant for the selected row: a background in colour
// themes, reverse video when there is no background colour to use.
func (t Theme) Selected(s lipgloss.Style) lipgloss.Style {
	if t.Mono || t.selBg == nil {
		return s.Reverse(true)
	}
	return s.Background(t.selBg)
}
