package notify

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/fleetdeck/fleetdeck/fleet"
)

// Encode renders m as the body a target of format f receives.
func Encode(f Format, m Message) ([]byte, error) {
	if f == FormatSlack {
		return json.Marshal(Slack(m))
	}
	return json.Marshal(m)
}

// SlackPayload is a Slack incoming-webhook message: text is the fallback shown in
// notifications, blocks the formatted message.
type SlackPayload struct {
	Text   string       `json:"text"`
	Blocks []SlackBlock `json:"blocks"`
}

// SlackBlock is one Block Kit block (section or context).
type SlackBlock struct {
	Type     string      `json:"type"`
	Text     *SlackText  `json:"text,omitempty"`
	Fields   []SlackText `json:"fields,omitempty"`
	Elements []SlackText `json:"elements,omitempty"`
}

// SlackText is a mrkdwn text object.
type SlackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

func mrkdwn(s string) SlackText { return SlackText{Type: "mrkdwn", Text: s} }

// slackMax keeps a section's text under Slack's 3000-character limit.
const slackMax = 2900

// digestLines bounds the problems a digest lists; the rest are counted.
const digestLines = 25

// Slack renders m for a Slack incoming webhook: a headline with the app and cluster, a line per
// change, git against live for drifting images, and the command to investigate.
func Slack(m Message) SlackPayload {
	p := SlackPayload{Text: m.Summary}
	if m.Type == TypeDigest {
		return slackDigest(m, p)
	}
	head := fmt.Sprintf("%s *%s*", icon(m), escape(m.Subject()))
	if m.App != "" {
		head = fmt.Sprintf("%s *%s* on *%s*", icon(m), escape(m.App), escape(m.Cluster))
	}
	var lines []string
	for _, c := range m.Changes {
		lines = append(lines, "• "+escape(c.Phrase()))
	}
	p.Blocks = append(p.Blocks, SlackBlock{Type: "section", Text: ptr(mrkdwn(clip(head + "\n" + strings.Join(lines, "\n"))))})
	for _, c := range m.Changes {
		if c.Kind != fleet.TransitionDriftAppeared {
			continue
		}
		for _, im := range c.Images {
			if !im.Drift && !im.Latest {
				continue
			}
			p.Blocks = append(p.Blocks, SlackBlock{Type: "section", Fields: []SlackText{
				mrkdwn(clip("*Git* (" + escape(im.Container) + ")\n`" + escape(orDash(im.GitImage)) + "`")),
				mrkdwn(clip("*Live*\n`" + escape(orDash(im.LiveImage)) + "`")),
			}})
		}
		for i, f := range c.Fields {
			if i == 5 {
				break
			}
			p.Blocks = append(p.Blocks, SlackBlock{Type: "section", Fields: []SlackText{
				mrkdwn(clip("*Git* " + escape(f.Object+" "+f.Field) + "\n`" + escape(f.Git) + "`")),
				mrkdwn(clip("*Live*\n`" + escape(f.Live) + "`")),
			}})
		}
	}
	ctx := []SlackText{mrkdwn("severity " + m.Severity.String())}
	if m.Namespace != "" {
		ctx = append(ctx, mrkdwn("namespace "+escape(m.Namespace)))
	}
	ctx = append(ctx, mrkdwn("`"+escape(m.Command)+"`"))
	p.Blocks = append(p.Blocks, SlackBlock{Type: "context", Elements: ctx})
	return p
}

func slackDigest(m Message, p SlackPayload) SlackPayload {
	head := fmt.Sprintf("%s *%s*", icon(m), escape(m.Summary))
	p.Blocks = append(p.Blocks, SlackBlock{Type: "section", Text: ptr(mrkdwn(head))})
	if len(m.Problems) > 0 {
		var lines []string
		for i, e := range m.Problems {
			if i == digestLines {
				lines = append(lines, fmt.Sprintf("… and %d more", len(m.Problems)-digestLines))
				break
			}
			who := "cluster *" + escape(e.Cluster) + "*"
			if e.App != "" {
				who = "*" + escape(e.App) + "* on *" + escape(e.Cluster) + "*"
			}
			lines = append(lines, fmt.Sprintf("• %s — %s: %s", who, e.Severity, escape(e.Text)))
		}
		p.Blocks = append(p.Blocks, SlackBlock{Type: "section", Text: ptr(mrkdwn(clip(strings.Join(lines, "\n"))))})
	}
	p.Blocks = append(p.Blocks, SlackBlock{Type: "context", Elements: []SlackText{mrkdwn("`" + escape(m.Command) + "`")}})
	return p
}

func icon(m Message) string {
	switch {
	case m.Type == TypeDigest && !m.Problem:
		return ":white_check_mark:"
	case m.Type == TypeDigest:
		return ":clipboard:"
	case !m.Problem:
		return ":white_check_mark:"
	case m.Severity >= fleet.SeverityError:
		return ":red_circle:"
	}
	return ":warning:"
}

// escape makes text safe for mrkdwn: Slack reads &, < and > as markup.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func clip(s string) string {
	if len(s) <= slackMax {
		return s
	}
	cut := slackMax
	for cut > 0 && s[cut]&0xC0 == 0x80 { // do not split a UTF-8 sequence
		cut--
	}
	return s[:cut] + "…"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func ptr[T any](v T) *T { return &v }
