package ui

import (
	"fmt"
	"sort"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/fleetdeck/fleetdeck/internal/sanitize"
	"github.com/fleetdeck/fleetdeck/ui/fuzzy"
	"github.com/fleetdeck/fleetdeck/ui/tree"
)

// paletteCommand is one command of the ':' line.
type paletteCommand struct {
	Name, Args, Help string
}

var paletteCommands = []paletteCommand{
	{"app", "NAME", "select an app"},
	{"cluster", "NAME|all", "one cluster only"},
	{"problems", "", "problems only"},
	{"help", "", "show help"},
	{"q", "", "quit"},
}

// runCommand executes a ':' line.
func (m *model) runCommand(line string) tea.Cmd {
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return nil
	}
	verb, arg := fields[0], strings.Join(fields[1:], " ")
	switch verb {
	case "q", "quit":
		return tea.Quit
	case "help":
		m.overlay, m.helpOffset = overlayHelp, 0
	case "problems":
		m.filter.ProblemsOnly = !m.filter.ProblemsOnly
		m.rebuild()
	case "app":
		m.jumpToApp(arg)
	case "cluster":
		m.filterCluster(arg)
	default:
		m.fail(fmt.Sprintf("unknown command %q: try app, cluster, problems, q", sanitize.Line(verb)))
	}
	return nil
}

func (m *model) fail(msg string) { m.status, m.statusErr = msg, true }

func (m *model) appNames() []string {
	names := make([]string, len(m.fleet.Apps))
	for i, a := range m.fleet.Apps {
		names[i] = a.Name
	}
	return names
}

func (m *model) clusterNames() []string {
	names := make([]string, len(m.fleet.Clusters))
	for i, c := range m.fleet.Clusters {
		names[i] = c.Name
	}
	return names
}

// resolve finds the name meant by arg: exact, else the only prefix match, else the best fuzzy
// match.
func resolve(arg string, names []string) (string, bool) {
	var prefixed []string
	for _, n := range names {
		if n == arg {
			return n, true
		}
		if strings.HasPrefix(n, arg) {
			prefixed = append(prefixed, n)
		}
	}
	if len(prefixed) == 1 {
		return prefixed[0], true
	}
	best, bestScore, found := "", 0, false
	for _, n := range names {
		if s, ok := fuzzy.Score(arg, n); ok && (!found || s > bestScore) {
			best, bestScore, found = n, s, true
		}
	}
	return best, found
}

// jumpToApp selects an application, clearing the filters that hide it.
func (m *model) jumpToApp(arg string) {
	if arg == "" {
		m.fail("app: name an application")
		return
	}
	name, ok := resolve(arg, m.appNames())
	if !ok {
		m.fail(fmt.Sprintf("no application matches %q", sanitize.Line(arg)))
		return
	}
	key := tree.Key{App: name}
	if tree.Index(tree.Flatten(&m.fleet, m.filter), key) < 0 {
		m.filter.Query, m.filter.Cluster, m.filter.ProblemsOnly = "", "", false
	}
	m.sel = key
	m.chosen = true
	m.detailsOffset = 0
	m.focus = focusTree
	m.rebuild()
}

func (m *model) filterCluster(arg string) {
	if arg == "" || arg == "all" {
		m.filter.Cluster = ""
		m.rebuild()
		return
	}
	name, ok := resolve(arg, m.clusterNames())
	if !ok {
		m.fail(fmt.Sprintf("no cluster matches %q", sanitize.Line(arg)))
		return
	}
	m.filter.Cluster = name
	m.rebuild()
}

// complete extends a ':' line with tab: the command name, then an app or cluster name, to the
// longest common prefix of the candidates.
func (m *model) complete(line string) string {
	verb, arg, hasArg := strings.Cut(line, " ")
	if !hasArg {
		var names []string
		for _, c := range paletteCommands {
			names = append(names, c.Name)
		}
		if ms := matching(verb, names); len(ms) == 1 {
			return ms[0] + " "
		}
		return completeFrom(verb, names)
	}
	var names []string
	switch verb {
	case "app":
		names = m.appNames()
	case "cluster":
		names = append(m.clusterNames(), "all")
	default:
		return line
	}
	return verb + " " + completeFrom(strings.TrimSpace(arg), names)
}

func matching(prefix string, names []string) []string {
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// completeFrom is the longest common prefix of the names starting with prefix (prefix itself
// when none does).
func completeFrom(prefix string, names []string) string {
	ms := matching(prefix, names)
	if len(ms) == 0 {
		return prefix
	}
	common := ms[0]
	for _, n := range ms[1:] {
		for !strings.HasPrefix(n, common) {
			common = common[:len(common)-1]
		}
	}
	return common
}
