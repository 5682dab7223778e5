package revert

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// message writes the revert commit's message: what (subject and body in
// git's revert wording), for which app and clusters, why (the reason) and
// who, with trailers a script can read:
//
//	Reverts: <sha>                  (reverts only)
//	Fleetdeck-App: <app>
//	Fleetdeck-Clusters: <cluster>, ...
//	Fleetdeck-From: <head the commit goes on>
//	Fleetdeck-To: <commit whose content is restored>
//	Fleetdeck-By: Name <email>
//	Fleetdeck-At: <RFC 3339 time>
//	Fleetdeck-Version: <version>
func message(p *Plan, version string) string {
	var b strings.Builder
	switch p.Kind() {
	case KindRollback:
		fmt.Fprintf(&b, "Roll back %s to %s", oneLine(p.App), short(p.To))
		if p.Subject != "" {
			fmt.Fprintf(&b, " (%q)", p.Subject)
		}
		fmt.Fprintf(&b, "\n\nThis restores %s to their content at commit %s.\n", oneLine(strings.Join(p.Paths, ", ")), p.To)
	default:
		fmt.Fprintf(&b, "Revert %q", p.Subject)
		if p.AppOnly {
			fmt.Fprintf(&b, " for %s", oneLine(p.App))
		}
		fmt.Fprintf(&b, "\n\nThis reverts commit %s.\n", p.Commit)
		if p.AppOnly && len(p.OtherPaths) > 0 {
			fmt.Fprintf(&b, "Only the changes to %s (%s) are reverted; the commit's changes to %s stay.\n",
				oneLine(p.App), oneLine(strings.Join(p.Paths, ", ")), oneLine(strings.Join(p.OtherPaths, ", ")))
		}
	}
	if len(p.Summary) > 0 {
		b.WriteString("\n")
		for _, s := range p.Summary {
			b.WriteString(oneLine(s) + "\n")
		}
	}
	if r := strings.TrimSpace(p.Reason); r != "" {
		fmt.Fprintf(&b, "\nReason: %s\n", r)
	}
	b.WriteString("\n")
	if p.Kind() == KindRevert {
		fmt.Fprintf(&b, "Reverts: %s\n", p.Commit)
	}
	fmt.Fprintf(&b, "Fleetdeck-App: %s\n", oneLine(p.App))
	if len(p.Clusters) > 0 {
		fmt.Fprintf(&b, "Fleetdeck-Clusters: %s\n", oneLine(strings.Join(p.Clusters, ", ")))
	}
	fmt.Fprintf(&b, "Fleetdeck-From: %s\n", p.Parent)
	if !p.Target.IsZero() {
		fmt.Fprintf(&b, "Fleetdeck-To: %s\n", p.Target)
	}
	fmt.Fprintf(&b, "Fleetdeck-By: %s\n", oneLine(p.Author.String()))
	fmt.Fprintf(&b, "Fleetdeck-At: %s\n", p.When.UTC().Format(time.RFC3339))
	if version == "" {
		version = "unknown"
	}
	fmt.Fprintf(&b, "Fleetdeck-Version: %s\n", oneLine(version))
	return b.String()
}

// oneLine keeps user and config text from breaking the subject line or the trailer block:
// one line, and quoted (control characters escaped) when it holds any.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return strconv.Quote(s)
	}
	return s
}
