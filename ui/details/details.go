// Package details renders the details pane of fleetdeck's TUI: everything known about the
// selected application, instance, workload or pod, as styled lines of a given width.
//
// It shows what the tree row cannot: sources, revisions, per-container images in git and live,
// field differences, conditions, warning events, pods with restart reasons, and the operator's
// own message. Every model string is sanitised before it is drawn.
package details

import (
	"fmt"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/fleetdeck/fleetdeck/fleet"
	"github.com/fleetdeck/fleetdeck/internal/sanitize"
	"github.com/fleetdeck/fleetdeck/ui/theme"
	"github.com/fleetdeck/fleetdeck/ui/tree"
)

// maxPods bounds the pods listed for an instance or workload; the tree shows them all.
const maxPods = 20

// Render returns the details of the selected row as lines no wider than width.
func Render(r tree.Row, th theme.Theme, width int, now time.Time) []string {
	d := &doc{th: th, width: max(width, 10), now: now}
	switch r.Level {
	case tree.LevelApp:
		d.app(r.App)
	case tree.LevelInstance:
		d.instance(r.Instance, true)
	case tree.LevelWorkload:
		d.workload(r.Instance, r.Workload)
	case tree.LevelPod:
		d.pod(r.Instance, r.Pod)
	}
	return d.lines
}

type doc struct {
	th    theme.Theme
	width int
	now   time.Time
	lines []string
}

// line appends one line made of styled parts, cut to the width.
func (d *doc) line(parts ...string) {
	s := strings.Join(parts, "")
	if ansi.StringWidth(s) > d.width {
		s = ansi.Truncate(s, d.width, "…")
	}
	d.lines = append(d.lines, s)
}

func (d *doc) blank() {
	if len(d.lines) > 0 && d.lines[len(d.lines)-1] != "" {
		d.lines = append(d.lines, "")
	}
}

func (d *doc) section(title string) {
	d.blank()
	d.line(d.th.Accent.Render(title))
}

// labelWidth aligns field values.
const labelWidth = 10

// field writes "Label     value", wrapping a long value under itself. value is model text: it is
// sanitised here (each of its lines separately).
func (d *doc) field(label, value string, st lipgloss.Style) {
	d.wrapped(d.th.Dim.Render(fit(label, labelWidth)), labelWidth, value, st)
}

// wrapped writes prefix (already styled, prefixWidth cells) then value wrapped to the width,
// continuation lines indented by prefixWidth.
func (d *doc) wrapped(prefix string, prefixWidth int, value string, st lipgloss.Style) {
	room := d.width - prefixWidth
	indent := strings.Repeat(" ", prefixWidth)
	first := true
	for _, l := range sanitize.Lines(value) {
		if room < 8 {
			d.line(prefix, st.Render(l))
			return
		}
		for _, w := range strings.Split(ansi.Wrap(l, room, " /-"), "\n") {
			if first {
				d.line(prefix, st.Render(w))
				first = false
			} else {
				d.line(indent, st.Render(w))
			}
		}
	}
	if first {
		d.line(prefix)
	}
}

func fit(s string, w int) string {
	if n := ansi.StringWidth(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return ansi.Truncate(s, w, "…")
}

func clean(s string) string { return sanitize.Line(s) }

func (d *doc) sync(s fleet.SyncStatus) string {
	return d.th.Sync(s).Render(theme.SyncText(s))
}

func (d *doc) health(h fleet.HealthStatus) string {
	return d.th.Health(h).Render(theme.HealthText(h))
}

func (d *doc) severity(s fleet.Severity) string {
	return d.th.Severity(s).Render(theme.SeverityText(s))
}

func (d *doc) app(a *fleet.Application) {
	d.line(d.th.Title.Render(clean(a.Name)), "  ", d.severity(a.Severity))
	d.line(d.sync(a.Sync), "  ", d.health(a.Health), d.th.Dim.Render(fmt.Sprintf("  %d/%d pods ready", a.Summary.ReadyPods, a.Summary.Pods)))
	d.section("Instances")
	for i := range a.Instances {
		in := &a.Instances[i]
		d.line("  ", d.th.Severity(in.Severity).Render(theme.SeveritySymbol(in.Severity)), " ",
			d.th.Text.Render(fit(clean(in.Cluster), 12)), " ",
			d.th.Sync(in.Sync.Status).Render(fit(theme.SyncText(in.Sync.Status), theme.SyncWidth)), " ",
			d.th.Health(in.Health.Status).Render(fit(theme.HealthText(in.Health.Status), theme.HealthWidth)), " ",
			d.th.Dim.Render(clean(tree.RevisionText(in.Revision))))
	}
	if len(a.Instances) == 0 {
		return
	}
	worst := &a.Instances[0]
	d.blank()
	d.line(d.th.Dim.Render("── " + clean(worst.Cluster) + " (worst instance) ──"))
	d.instance(worst, false)
}

func (d *doc) instance(in *fleet.Instance, title bool) {
	if title {
		d.line(d.th.Title.Render(clean(in.App)), d.th.Dim.Render(" on "), d.th.Title.Render(clean(in.Cluster)), "  ", d.severity(in.Severity))
	}
	// What is wrong first: on call, the problems and the state matter more than where from.
	for _, p := range in.Problems {
		d.wrapped(d.th.Severity(p.Severity).Render(fit(theme.SeverityText(p.Severity), 11)), 11, p.Text, d.th.Text)
	}
	d.field("Sync", theme.SyncText(in.Sync.Status)+reason(in.Sync.Reason), d.th.Sync(in.Sync.Status))
	d.field("Health", theme.HealthText(in.Health.Status)+reason(in.Health.Message), d.th.Health(in.Health.Status))
	if in.ClusterState.State != fleet.ConnSynced && in.ClusterState.State != "" {
		st := string(in.ClusterState.State)
		if in.ClusterState.Err != "" {
			st += ": " + in.ClusterState.Err
		}
		d.field("Cluster", st, d.th.Conn(in.ClusterState.State))
	}
	d.field("Revision", tree.RevisionText(in.Revision), d.th.Text)
	if in.Message != "" && in.Message != in.Health.Message {
		d.field("Message", in.Message, d.th.Text)
	}
	if in.RenderError != "" {
		d.field("Render", in.RenderError, d.th.Error)
	}

	d.images(in.Images)
	var pods []*fleet.PodState
	for wi := range in.Workloads {
		for pi := range in.Workloads[wi].Pods {
			pods = append(pods, &in.Workloads[wi].Pods[pi])
		}
	}
	d.pods(pods)
	d.events(in.Events)
	if len(in.Sync.Fields) > 0 {
		d.section("Differences (git vs live)")
		for _, f := range in.Sync.Fields {
			d.wrapped("  ", 2, f.String(), d.th.Text)
		}
	}
	if len(in.Conditions) > 0 {
		d.section("Conditions")
		for _, c := range in.Conditions {
			text := c.Type
			if c.Status != "" {
				text += "=" + c.Status
			}
			if c.Reason != "" {
				text += " " + c.Reason
			}
			if c.Message != "" {
				text += ": " + c.Message
			}
			d.wrapped("  ", 2, text, d.th.Text)
		}
	}

	d.section("Source")
	src := string(in.Source.Operator)
	if in.Source.Kind != "" {
		src += " " + in.Source.Kind + " " + in.Source.Namespace + "/" + in.Source.Name + " on " + in.Source.Cluster
	}
	d.field("Operator", src, d.th.Text)
	d.field("Repo", orUnknown(in.RepoURL), d.th.Text)
	d.field("Path", orUnknown(in.Path), d.th.Text)
	d.field("Branch", orUnknown(in.Branch), d.th.Text)
	d.field("Namespace", orUnknown(in.Namespace), d.th.Text)
}

func reason(s string) string {
	if s == "" {
		return ""
	}
	return " — " + s
}

func orUnknown(s string) string {
	if s == "" {
		return "?"
	}
	return s
}

func (d *doc) images(images []fleet.ImageState) {
	if len(images) == 0 {
		return
	}
	d.section("Images (git vs live)")
	for _, im := range images {
		st := d.th.Dim
		if im.Drift || im.Latest {
			st = d.th.Drift
		}
		name := im.Container
		if im.Init {
			name += " (init)"
		}
		d.line("  ", d.th.Text.Render(clean(name)), "  ", st.Render(clean(tree.TagText(im))))
		d.wrapped(d.th.Dim.Render("    git  "), 9, orUnknown(im.GitImage), d.th.Text)
		d.wrapped(d.th.Dim.Render("    live "), 9, orUnknown(im.LiveImage), d.th.Text)
	}
}

func (d *doc) events(events []fleet.Event) {
	if len(events) == 0 {
		return
	}
	d.section("Warning events")
	for _, e := range events {
		head := fmt.Sprintf("%s ago  %s %s  %s", tree.Age(d.now.Sub(e.Last)), e.InvolvedKind, e.InvolvedName, e.Reason)
		if e.Count > 1 {
			head += fmt.Sprintf(" ×%d", e.Count)
		}
		d.line("  ", d.th.Severity(fleet.SeverityWarning).Render(clean(head)))
		d.wrapped("    ", 4, e.Message, d.th.Text)
	}
}

func (d *doc) pods(pods []*fleet.PodState) {
	if len(pods) == 0 {
		return
	}
	d.section(fmt.Sprintf("Pods (%d)", len(pods)))
	for i, p := range pods {
		if i == maxPods {
			d.line(d.th.Dim.Render(fmt.Sprintf("  … %d more in the tree", len(pods)-maxPods)))
			break
		}
		d.podLine(p)
	}
}

// podLine is one pod with its restart reason: "✗ name  CrashLoopBackOff  7 restarts (last: Error, exit 1)  1h".
func (d *doc) podLine(p *fleet.PodState) {
	parts := []string{"  ", d.th.Health(p.Health.Status).Render(theme.HealthSymbol(p.Health.Status)), " ", d.th.Text.Render(clean(p.Name))}
	if p.Reason != "" {
		parts = append(parts, "  ", d.th.Health(p.Health.Status).Render(clean(p.Reason)))
	}
	if p.Restarts > 0 {
		r := tree.Restarts(p.Restarts)
		if last := lastTermination(p.Containers); last != "" {
			r += " (last: " + last + ")"
		}
		parts = append(parts, "  ", d.th.Severity(fleet.SeverityWarning).Render(clean(r)))
	}
	if !p.Created.IsZero() {
		parts = append(parts, "  ", d.th.Dim.Render(tree.Age(d.now.Sub(p.Created))))
	}
	d.line(parts...)
}

func lastTermination(cs []fleet.ContainerStatus) string {
	for _, c := range cs {
		if c.LastTerminated {
			if c.LastTerminatedReason == "" {
				return fmt.Sprintf("exit %d", c.LastTerminatedExitCode)
			}
			return fmt.Sprintf("%s, exit %d", c.LastTerminatedReason, c.LastTerminatedExitCode)
		}
	}
	return ""
}

func (d *doc) workload(in *fleet.Instance, w *fleet.WorkloadState) {
	d.line(d.th.Title.Render(clean(w.Ref.String())), d.th.Dim.Render(" on "), d.th.Title.Render(clean(in.Cluster)), "  ", d.severity(w.Severity))
	d.field("Health", theme.HealthText(w.Health.Status)+reason(w.Health.Message), d.th.Health(w.Health.Status))
	d.field("Replicas", fmt.Sprintf("%d desired, %d ready, %d updated, %d available", w.Replicas, w.Ready, w.Updated, w.Available), d.th.Text)
	if w.Owner != nil {
		d.field("Owner", w.Owner.String(), d.th.Text)
	}
	var images []fleet.ImageState
	for _, im := range in.Images {
		if im.Workload == w.Ref {
			images = append(images, im)
		}
	}
	d.images(images)
	var events []fleet.Event
	for _, e := range in.Events {
		if e.InvolvedKind == w.Ref.Kind && e.InvolvedName == w.Ref.Name {
			events = append(events, e)
		}
		for _, p := range w.Pods {
			if e.InvolvedKind == "Pod" && e.InvolvedName == p.Name {
				events = append(events, e)
			}
		}
	}
	d.events(events)
	pods := make([]*fleet.PodState, len(w.Pods))
	for i := range w.Pods {
		pods[i] = &w.Pods[i]
	}
	d.pods(pods)
}

func (d *doc) pod(in *fleet.Instance, p *fleet.PodState) {
	d.line(d.th.Title.Render(clean(p.Namespace+"/"+p.Name)), d.th.Dim.Render(" on "), d.th.Title.Render(clean(in.Cluster)))
	d.field("Health", theme.HealthText(p.Health.Status)+reason(p.Health.Message), d.th.Health(p.Health.Status))
	ready := "not ready"
	if p.Ready {
		ready = "ready"
	}
	d.field("Phase", p.Phase+", "+ready, d.th.Text)
	if p.Reason != "" && p.Reason != p.Phase {
		d.field("Reason", p.Reason, d.th.Health(p.Health.Status))
	}
	d.field("Restarts", fmt.Sprint(p.Restarts), d.th.Text)
	d.field("Node", orUnknown(p.Node), d.th.Text)
	if !p.Created.IsZero() {
		d.field("Age", tree.Age(d.now.Sub(p.Created)), d.th.Text)
	}
	d.section("Containers")
	for _, c := range p.Containers {
		name := c.Name
		if c.Init {
			name += " (init)"
		}
		state := "waiting"
		switch {
		case c.Running:
			state = "running"
		case c.TerminatedReason != "":
			state = "terminated: " + c.TerminatedReason
		}
		if c.WaitingReason != "" {
			state = "waiting: " + c.WaitingReason
		}
		if c.Ready {
			state += ", ready"
		}
		d.line("  ", d.th.Text.Render(clean(name)), d.th.Dim.Render("  "+clean(state)), d.th.Dim.Render(fmt.Sprintf("  %s", tree.Restarts(c.RestartCount))))
		d.wrapped(d.th.Dim.Render("    image "), 10, c.Image, d.th.Text)
		if c.WaitingMessage != "" {
			d.wrapped(d.th.Dim.Render("    why   "), 10, c.WaitingMessage, d.th.Text)
		}
		if c.LastTerminated {
			d.wrapped(d.th.Dim.Render("    last  "), 10, lastTermination([]fleet.ContainerStatus{c}), d.th.Text)
		}
	}
	var events []fleet.Event
	for _, e := range in.Events {
		if e.InvolvedKind == "Pod" && e.InvolvedName == p.Name {
			events = append(events, e)
		}
	}
	d.events(events)
}
