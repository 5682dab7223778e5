package ui

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
	"github.com/fleetdeck/fleetdeck/ui/internal/fixture"
	"github.com/fleetdeck/fleetdeck/ui/internal/panetest"
	"github.com/fleetdeck/fleetdeck/ui/theme"
)

// screen runs the ui in a Bubble Tea program (teatest) at w×h, delivers fm, presses keys and
// returns the final screen. Colour screens keep the style sequences; the colour profile is
// fixed so that the program never downgrades them differently from one machine to another.
func screen(t *testing.T, opts Options, w, h int, fm fleet.Model, keys ...string) string {
	t.Helper()
	th, err := theme.New(opts.Theme, opts.NoColor)
	if err != nil {
		t.Fatal(err)
	}
	tm := panetest.Start(t, newModel(opts, th, fixedClock, nil), w, h, opts.NoColor)
	// The first frame needs the size; then the model; only then keys, so that every key sees
	// the screen a user would.
	waitFor(t, tm, "fleetdeck")
	tm.Send(modelMsg{fm})
	waitFor(t, tm, fm.Apps[0].Name)
	for _, k := range keys {
		tm.Send(panetest.KeyMsg(k))
	}
	final := panetest.Stop(t, tm).(*model)
	if final.width != w || final.height != h {
		t.Fatalf("final size %dx%d, want %dx%d", final.width, final.height, w, h)
	}
	return final.View().Content
}

func waitFor(t *testing.T, tm *teatest.TestModel, text string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(text)) },
		teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(5*time.Millisecond))
}

var sizes = [][2]int{{60, 20}, {80, 24}, {160, 48}}

// TestFirstScreen compares the first screen at each size, in colour and without, and checks
// that every line has the terminal's width and the screen its height.
func TestFirstScreen(t *testing.T) {
	fm := fixture.Sandbox()
	for _, sz := range sizes {
		for _, mono := range []bool{false, true} {
			name := fmt.Sprintf("first_%dx%d_%s.golden", sz[0], sz[1], map[bool]string{false: "colour", true: "mono"}[mono])
			t.Run(name, func(t *testing.T) {
				got := screen(t, Options{ReadOnly: true, NoColor: mono, Version: "v0.1.0"}, sz[0], sz[1], fm)
				panetest.CheckGeometry(t, got, sz[0], sz[1])
				panetest.Golden(t, name, got)
			})
		}
	}
}

func TestThemes(t *testing.T) {
	fm := fixture.Sandbox()
	for _, name := range []string{"light", "ansi16"} {
		t.Run(name, func(t *testing.T) {
			got := screen(t, Options{Theme: name}, 80, 24, fm)
			panetest.CheckGeometry(t, got, 80, 24)
			panetest.Golden(t, "theme_"+name+"_80x24.golden", got)
		})
	}
}

// TestScreens drives keys and compares the resulting screens (monochrome: readable goldens).
func TestScreens(t *testing.T) {
	sandbox := fixture.Sandbox()
	tests := []struct {
		name string
		w, h int
		fm   fleet.Model
		keys []string
		want []string // must appear on the plain screen
	}{
		{"problems_only_80x24", 80, 24, sandbox, []string{"p"}, []string{"problems only", scenario.SearchIndexer}},
		{"filter_image_80x24", 80, 24, sandbox, append(append([]string{"/"}, split("hotfix")...), "enter"), []string{"/hotfix", scenario.PaymentsAPI}},
		{"filter_typing_60x20", 60, 20, sandbox, append([]string{"/"}, split("notif")...), []string{"/notif▏", scenario.NotificationWorker}},
		{"expanded_160x48", 160, 48, sandbox, []string{"j", "enter", "j", "enter", "j", "enter", "j"}, []string{"CrashLoopBackOff", "7 restarts"}},
		{"expanded_pod_80x24", 80, 24, sandbox, []string{"j", "right", "right", "right", "right", "right", "right"}, []string{"auth/auth-service-5d8f9c-new-0 on staging"}},
		{"help_80x24", 80, 24, sandbox, []string{"?"}, []string{"Everywhere", "Tree", "Commands (:)", "≠ OutOfSync"}},
		{"help_60x20", 60, 20, sandbox, []string{"?"}, []string{"Everywhere"}},
		{"palette_typing_80x24", 80, 24, sandbox, append([]string{":"}, split("app led")...), []string{":app led▏"}},
		{"palette_app_80x24", 80, 24, sandbox, append(append([]string{":"}, split("app ledger")...), "enter"), []string{"details: ledger"}},
		{"palette_cluster_160x48", 160, 48, sandbox, append(append([]string{":"}, split("cluster prod-us")...), "enter", "j", "right"), []string{"cluster=prod-us"}},
		{"palette_unknown_80x24", 80, 24, sandbox, append(append([]string{":"}, split("deploy")...), "enter"), []string{`unknown command "deploy"`}},
		{"details_focused_60x20", 60, 20, sandbox, []string{"tab"}, []string{"notification-worker  ‼ critical", "ImagePullBackOff"}},
		{"unreachable_80x24", 80, 24, fixture.Unreachable(scenario.Staging, 3*time.Minute), nil, []string{"✗ staging unreachable 3m ago"}},
		{"drift_160x48", 160, 48, sandbox, []string{"j", "j", "j", "right", "j"}, []string{"git 1.4.0 ≠ live hotfix-manual-1 DRIFT"}},
		{"latest_160x48", 160, 48, sandbox, []string{"G", "k", "k", "right", "j"}, []string{"LATEST latest"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := screen(t, Options{NoColor: true}, tt.w, tt.h, tt.fm, tt.keys...)
			panetest.CheckGeometry(t, got, tt.w, tt.h)
			text := stripANSI(got)
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("screen lacks %q:\n%s", w, text)
				}
			}
			panetest.Golden(t, tt.name+".golden", got)
		})
	}
}

func split(s string) []string {
	var out []string
	for _, r := range s {
		if r == ' ' {
			out = append(out, "space")
			continue
		}
		out = append(out, string(r))
	}
	return out
}
