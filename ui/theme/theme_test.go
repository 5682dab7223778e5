package theme

import (
	"regexp"
	"strings"
	"testing"

	"charm.land/lipgloss/v2"

	"github.com/fleetdeck/fleetdeck/fleet"
)

var (
	syncs    = []fleet.SyncStatus{fleet.Synced, fleet.OutOfSync, fleet.SyncUnknown, ""}
	healths  = []fleet.HealthStatus{fleet.Healthy, fleet.Progressing, fleet.Degraded, fleet.Suspended, fleet.Missing, fleet.Unknown, ""}
	severity = []fleet.Severity{fleet.SeverityOK, fleet.SeverityInfo, fleet.SeverityWarning, fleet.SeverityError, fleet.SeverityCritical}
	conns    = []fleet.ConnState{fleet.ConnSynced, fleet.ConnSlow, fleet.ConnUnreachable, fleet.ConnConnecting, "odd"}
)

func TestSymbolsAreOneCell(t *testing.T) {
	var all []string
	for _, s := range syncs {
		all = append(all, SyncSymbol(s))
	}
	for _, h := range healths {
		all = append(all, HealthSymbol(h))
	}
	for _, s := range severity {
		all = append(all, SeveritySymbol(s))
	}
	for _, c := range conns {
		all = append(all, ConnSymbol(c))
	}
	for _, s := range all {
		if w := lipgloss.Width(s); w != 1 {
			t.Errorf("symbol %q is %d cells wide, want 1", s, w)
		}
	}
}

func TestTextsFitColumns(t *testing.T) {
	for _, s := range syncs {
		if w := lipgloss.Width(SyncText(s)); w > SyncWidth {
			t.Errorf("SyncText(%q) = %d cells > %d", s, w, SyncWidth)
		}
		if !strings.Contains(SyncText(s), string(s)) {
			t.Errorf("SyncText(%q) = %q lacks the word", s, SyncText(s))
		}
	}
	for _, h := range healths {
		if w := lipgloss.Width(HealthText(h)); w > HealthWidth {
			t.Errorf("HealthText(%q) = %d cells > %d", h, w, HealthWidth)
		}
	}
	if HealthText(fleet.Degraded) != "✗ Degraded" || SyncText(fleet.OutOfSync) != "≠ OutOfSync" || SyncText("") != "? Unknown" {
		t.Errorf("texts: %q %q %q", HealthText(fleet.Degraded), SyncText(fleet.OutOfSync), SyncText(""))
	}
	if SeverityText(fleet.SeverityCritical) != "‼ critical" || SeverityText(fleet.SeverityOK) != "ok" {
		t.Errorf("severity texts: %q %q", SeverityText(fleet.SeverityCritical), SeverityText(fleet.SeverityOK))
	}
}

// colourSGR matches an SGR sequence with a colour parameter (30–49, 90–107).
var colourSGR = regexp.MustCompile(`\x1b\[(?:[0-9;]*;)?(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;[0-9;]*)?m`)

func TestNew(t *testing.T) {
	for _, name := range append([]string{""}, Names...) {
		for _, mono := range []bool{false, true} {
			th, err := New(name, mono)
			if err != nil {
				t.Fatalf("New(%q, %v): %v", name, mono, err)
			}
			out := th.Health(fleet.Degraded).Render("x") + th.Selected(th.Text).Render("y") + th.Severity(fleet.SeverityCritical).Render("z")
			// Monochrome output may carry attributes (bold, reverse) but no colour (SGR 30–49, 90–107, 38;, 48;).
			hasColour := colourSGR.MatchString(out)
			if mono && hasColour {
				t.Errorf("theme %q monochrome renders colour: %q", name, out)
			}
			if !mono && !hasColour {
				t.Errorf("theme %q renders no colour: %q", name, out)
			}
		}
	}
	if _, err := New("solarized", false); err == nil || !strings.Contains(err.Error(), "solarized") {
		t.Errorf("unknown theme: err = %v", err)
	}
}
