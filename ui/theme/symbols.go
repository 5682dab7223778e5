package theme

import (
	"strings"

	"github.com/fleetdeck/fleetdeck/fleet"
)

// Every symbol below is one terminal cell wide (checked by the tests with the same width
// functions lipgloss uses), so columns line up whatever the state.

// SyncSymbol is the symbol of a sync status.
func SyncSymbol(s fleet.SyncStatus) string {
	switch s {
	case fleet.Synced:
		return "✓"
	case fleet.OutOfSync:
		return "≠"
	}
	return "?"
}

// HealthSymbol is the symbol of a health status.
func HealthSymbol(h fleet.HealthStatus) string {
	switch h {
	case fleet.Healthy:
		return "♥"
	case fleet.Degraded:
		return "✗"
	case fleet.Progressing:
		return "…"
	case fleet.Suspended:
		return "⏸"
	case fleet.Missing:
		return "∅"
	}
	return "?"
}

// SeveritySymbol is the one-cell marker at the start of a row; OK is blank.
func SeveritySymbol(s fleet.Severity) string {
	switch s {
	case fleet.SeverityCritical:
		return "‼"
	case fleet.SeverityError:
		return "!"
	case fleet.SeverityWarning:
		return "⚠"
	case fleet.SeverityInfo:
		return "i"
	}
	return " "
}

// ConnSymbol is the symbol of a cluster connection state.
func ConnSymbol(c fleet.ConnState) string {
	switch c {
	case fleet.ConnSynced:
		return "✓"
	case fleet.ConnSlow:
		return "~"
	case fleet.ConnUnreachable:
		return "✗"
	case fleet.ConnConnecting:
		return "…"
	}
	return "?"
}

// SyncText is symbol and word: "≠ OutOfSync". An empty status reads as Unknown.
func SyncText(s fleet.SyncStatus) string {
	if s == "" {
		s = fleet.SyncUnknown
	}
	return SyncSymbol(s) + " " + string(s)
}

// HealthText is symbol and word: "✗ Degraded". An empty status reads as Unknown.
func HealthText(h fleet.HealthStatus) string {
	if h == "" {
		h = fleet.Unknown
	}
	return HealthSymbol(h) + " " + string(h)
}

// SeverityText is symbol and word: "‼ critical".
func SeverityText(s fleet.Severity) string {
	return strings.TrimSpace(SeveritySymbol(s) + " " + s.String())
}

// Widths of the state columns: the longest SyncText and HealthText.
const (
	SyncWidth   = 11 // "≠ OutOfSync"
	HealthWidth = 13 // "… Progressing"
)
