package tree

import (
	"fmt"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/internal/sanitize"
	"github.com/fleetdeck/fleetdeck/ui/theme"
)

// Columns are the widths a row is laid out in; compute them once per pane with Layout.
type Columns struct {
	Width int // the whole row
	Name  int // indentation, expander and name
	Extra int // revisions, tags, restarts, age; 0 when the pane is too narrow for them
}

const (
	prefixWidth = 3 // cursor, severity marker, space
	stateWidth  = 1 + theme.SyncWidth + 1 + theme.HealthWidth
	minExtra    = 14
)

// Layout picks column widths for a pane width: the name column takes about a third, the state
// columns their fixed width, and the extra column the rest when at least minExtra cells remain.
func Layout(width int) Columns {
	c := Columns{Width: width}
	c.Name = min(34, max(18, width*35/100))
	c.Extra = width - prefixWidth - c.Name - stateWidth - 2
	if c.Extra < minExtra {
		c.Extra = 0
		c.Name = max(8, width-prefixWidth-stateWidth)
	}
	return c
}

// seg is a piece of a row with its style.
type seg struct {
	text  string
	style lipgloss.Style
}

// Render draws one row in exactly c.Width cells. Every model string is sanitised first.
func Render(r Row, c Columns, th theme.Theme, selected bool, now time.Time) string {
	var segs []seg
	add := func(text string, st lipgloss.Style) { segs = append(segs, seg{text, st}) }

	cursor := " "
	if selected {
		cursor = "›"
	}
	add(cursor, th.Accent)
	sev := r.Severity()
	add(theme.SeveritySymbol(sev), th.Severity(sev))
	add(" ", th.Text)

	expander := " "
	if r.Expandable {
		expander = "▸"
		if r.Expanded {
			expander = "▾"
		}
	}
	indent := strings.Repeat("  ", int(r.Level))
	nameStyle := th.Text
	if r.Level == LevelApp {
		nameStyle = th.Title
	}
	name := indent + expander + " " + sanitize.Line(r.name())
	switch r.Level {
	case LevelApp:
		add(fit(name, c.Name), nameStyle)
		add(" ", th.Text)
		add(fit(theme.SyncText(r.App.Sync), theme.SyncWidth), th.Sync(r.App.Sync))
	case LevelInstance:
		add(fit(name, c.Name), nameStyle)
		add(" ", th.Text)
		add(fit(theme.SyncText(r.Instance.Sync.Status), theme.SyncWidth), th.Sync(r.Instance.Sync.Status))
	default:
		// Workloads and pods have no sync state of their own: their deeper names use the column.
		add(fit(name, c.Name+1+theme.SyncWidth), nameStyle)
	}
	add(" ", th.Text)
	h := r.health()
	add(fit(theme.HealthText(h), theme.HealthWidth), th.Health(h))

	if c.Extra > 0 {
		add("  ", th.Text)
		room := c.Extra
		for i, e := range r.extras(th, now) {
			text := sanitize.Line(e.text)
			if i > 0 {
				if room < 3 {
					break
				}
				add("  ", th.Text)
				room -= 2
			}
			w := ansi.StringWidth(text)
			if w > room {
				text = ansi.Truncate(text, room, "…")
				w = ansi.StringWidth(text)
			}
			add(text, e.style)
			room -= w
			if room <= 0 {
				break
			}
		}
		if room > 0 {
			add(strings.Repeat(" ", room), th.Text)
		}
	}

	var b strings.Builder
	used := 0
	for _, s := range segs {
		st := s.style
		if selected {
			st = th.Selected(st)
		}
		if used+ansi.StringWidth(s.text) > c.Width {
			s.text = ansi.Truncate(s.text, c.Width-used, "")
		}
		used += ansi.StringWidth(s.text)
		b.WriteString(st.Render(s.text))
		if used >= c.Width {
			break
		}
	}
	if used < c.Width {
		pad := lipgloss.NewStyle()
		if selected {
			pad = th.Selected(th.Text)
		}
		b.WriteString(pad.Render(strings.Repeat(" ", c.Width-used)))
	}
	return b.String()
}

// fit pads or truncates plain text to exactly w cells.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	sw := ansi.StringWidth(s)
	if sw > w {
		return ansi.Truncate(s, w, "…")
	}
	return s + strings.Repeat(" ", w-sw)
}

func (r Row) name() string {
	switch r.Level {
	case LevelApp:
		return r.App.Name
	case LevelInstance:
		return r.Instance.Cluster
	case LevelWorkload:
		return KindShort(r.Workload.Ref.Kind) + "/" + r.Workload.Ref.Name
	}
	return r.Pod.Name
}

func (r Row) health() fleet.HealthStatus {
	switch r.Level {
	case LevelApp:
		return r.App.Health
	case LevelInstance:
		return r.Instance.Health.Status
	case LevelWorkload:
		return r.Workload.Health.Status
	}
	return r.Pod.Health.Status
}

// KindShort abbreviates a workload kind the way kubectl does.
func KindShort(kind string) string {
	switch kind {
	case "Deployment":
		return "deploy"
	case "StatefulSet":
		return "sts"
	case "DaemonSet":
		return "ds"
	case "ReplicaSet":
		return "rs"
	case "CronJob":
		return "cj"
	case "Job":
		return "job"
	}
	return strings.ToLower(kind)
}

// extras are the row's extra cells, most important first: what does not fit is cut.
func (r Row) extras(th theme.Theme, now time.Time) []seg {
	var out []seg
	add := func(text string, st lipgloss.Style) { out = append(out, seg{text, st}) }
	switch r.Level {
	case LevelApp:
		if r.Note != "" {
			add(r.Note, th.Severity(fleet.SeverityWarning))
		}
		s := r.App.Summary
		if s.Drifted > 0 {
			add(fmt.Sprintf("DRIFT on %d", s.Drifted), th.Drift)
		}
		add(fmt.Sprintf("%d/%d ready", s.ReadyPods, s.Pods), th.Text)
		if s.Restarts > 0 {
			add(Restarts(s.Restarts), th.Severity(fleet.SeverityWarning))
		}
		add(plural(s.Instances, "cluster"), th.Dim)
	case LevelInstance:
		in := r.Instance
		images := in.Images
		for _, im := range images {
			if im.Drift {
				add(TagText(im), th.Drift)
			}
		}
		if in.Revision.Behind > 0 || in.Revision.Live == "" {
			add(RevisionText(in.Revision), th.Severity(fleet.SeverityWarning))
		}
		for _, im := range images {
			if im.Latest && !im.Drift {
				add(TagText(im), th.Latest)
			}
		}
		if in.Revision.Behind <= 0 && in.Revision.Live != "" {
			add(RevisionText(in.Revision), th.Dim)
		}
		for _, im := range images {
			if !im.Drift && !im.Latest {
				add(TagText(im), th.Dim)
			}
		}
	case LevelWorkload:
		w := r.Workload
		add(fmt.Sprintf("%d/%d ready", w.Ready, w.Replicas), th.Text)
		var restarts int32
		for _, p := range w.Pods {
			restarts += p.Restarts
		}
		if restarts > 0 {
			add(Restarts(restarts), th.Severity(fleet.SeverityWarning))
		}
		for _, im := range r.Instance.Images {
			if im.Workload == w.Ref && (im.Drift || im.Latest) {
				add(TagText(im), th.Drift)
			}
		}
	case LevelPod:
		p := r.Pod
		if p.Reason != "" && p.Reason != "Running" {
			add(p.Reason, th.Health(p.Health.Status))
		}
		if p.Restarts > 0 {
			add(Restarts(p.Restarts), th.Severity(fleet.SeverityWarning))
		}
		if !p.Created.IsZero() {
			add(Age(now.Sub(p.Created)), th.Dim)
		}
	}
	return out
}

// Restarts is "7 restarts" ("1 restart").
func Restarts(n int32) string { return plural(int(n), "restart") }

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// RevisionText renders an instance revision: "rev a1b2c3d" when up to date, "git a1b2c3d →
// live 9f8e7d6 (2 behind)" when behind, "git a1b2c3d → live ?" when live is unknown.
func RevisionText(r fleet.Revision) string {
	head, live := fleet.ShortSHA(r.Head), fleet.ShortSHA(r.Live)
	switch {
	case head == "" && live == "":
		return "rev ?"
	case live == "":
		return "git " + head + " → live ?"
	case head == "" || r.Behind == 0 || head == live:
		return "rev " + live
	case r.Behind > 0:
		return fmt.Sprintf("git %s → live %s (%d behind)", head, live, r.Behind)
	}
	return "git " + head + " → live " + live
}

// maxTag is how many cells of a tag a row shows; the details pane shows it whole.
const maxTag = 20

// TagText renders a container's tags: "git 1.4.0 ≠ live hotfix-manual-1 DRIFT" on drift,
// "LATEST live latest" for a floating tag, "tag 1.4.0" otherwise.
func TagText(im fleet.ImageState) string {
	gitTag, liveTag := tagOrImage(im.GitTag, im.GitImage), tagOrImage(im.LiveTag, im.LiveImage)
	switch {
	case im.Drift:
		return "git " + short(gitTag) + " ≠ live " + short(liveTag) + " DRIFT"
	case im.Latest:
		return "LATEST " + short(liveTag)
	case liveTag == "" && gitTag != "":
		return "git " + short(gitTag) + " (not live)"
	}
	return "tag " + short(liveTag)
}

func tagOrImage(tag, image string) string {
	if tag != "" {
		return tag
	}
	if image == "" {
		return ""
	}
	if _, _, digest := fleet.ParseImage(image); digest != "" {
		return digest
	}
	return "latest"
}

func short(s string) string {
	if ansi.StringWidth(s) > maxTag {
		return ansi.Truncate(s, maxTag, "…")
	}
	return s
}

// Age renders a duration coarsely, with a floor of a minute: "<1m", "12m", "5h", "3d". Ages
// that would change every second would repaint the screen every second while nothing happens.
func Age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "<1m"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
}
