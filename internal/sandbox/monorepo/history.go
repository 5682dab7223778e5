package monorepo

import (
	"fmt"
	"math/rand"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

type person struct {
	name, email string
	tz          *time.Location
}

var (
	bot    = person{"fleet-ci[bot]", "ci-bot@fleetdeck.test", time.UTC}
	humans = []person{
		{"Anna Schmidt", "anna.schmidt@fleetdeck.test", time.FixedZone("", 1*3600)},
		{"Marco Rossi", "marco.rossi@fleetdeck.test", time.FixedZone("", 1*3600)},
		{"Priya Natarajan", "priya.natarajan@fleetdeck.test", time.FixedZone("", 5*3600+1800)},
		{"Jonas Berg", "jonas.berg@fleetdeck.test", time.FixedZone("", 1*3600)},
		{"Sam Okafor", "sam.okafor@fleetdeck.test", time.FixedZone("", -5*3600)},
	}
)

var envs = []string{"prod", "stage"}

// svc is one service of the monorepo and where each of its settings lives.
type svc struct {
	app  scenario.App
	prof profile
}

// tagFile is the file whose edit changes the image tag of env.
func (s *svc) tagFile(env string) string {
	switch s.app.Render {
	case scenario.Helm:
		return s.app.Path + "/values-" + env + ".yaml"
	case scenario.Kustomize:
		return s.app.Path + "/overlays/" + overlayOf(env) + "/kustomization.yaml"
	}
	return s.app.Path + "/deployment.yaml"
}

// envFile holds replicas, env vars and resources of env.
func (s *svc) envFile(env string) string {
	switch s.app.Render {
	case scenario.Helm:
		return s.app.Path + "/values-" + env + ".yaml"
	case scenario.Kustomize:
		return s.app.Path + "/overlays/" + overlayOf(env) + "/deployment-patch.yaml"
	}
	return s.app.Path + "/deployment.yaml"
}

// perEnv reports whether the two environments have separate files.
func (s *svc) perEnv() bool { return s.app.Render != scenario.PlainYAML }

// envsOf lists the environments a change can target: both, or only "prod"
// for plain YAML, whose one file serves every cluster.
func (s *svc) envsOf() []string {
	if s.perEnv() {
		return envs
	}
	return envs[:1]
}

func (s *svc) getTag(t *tree, env string) (string, error) {
	text := t.files[s.tagFile(env)]
	switch s.app.Render {
	case scenario.Helm:
		return getScalar(text, "image", "tag")
	case scenario.Kustomize:
		return getScalar(text, "images", "newTag")
	}
	img, err := getScalar(text, "image")
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(img, s.app.Image()+":"), nil
}

func (s *svc) setTag(t *tree, env, tag string) error {
	p := s.tagFile(env)
	var out string
	var err error
	switch s.app.Render {
	case scenario.Helm:
		out, err = setScalar(t.files[p], tag, "image", "tag")
	case scenario.Kustomize:
		out, err = setScalar(t.files[p], tag, "images", "newTag")
	default:
		out, err = setScalar(t.files[p], s.app.Image()+":"+tag, "image")
	}
	if err != nil {
		return fmt.Errorf("%s: set tag: %w", p, err)
	}
	t.set(p, out)
	return nil
}

func (s *svc) replicasKey() []string {
	if s.app.Render == scenario.Helm {
		return []string{"replicaCount"}
	}
	return []string{"spec", "replicas"}
}

func (s *svc) getReplicas(t *tree, env string) (int, error) {
	v, err := getScalar(t.files[s.envFile(env)], s.replicasKey()...)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", s.envFile(env), err)
	}
	return strconv.Atoi(v)
}

// logLevel edits LOG_LEVEL: an env list entry, or the ConfigMap for plain YAML.
func (s *svc) logLevelFile(env string) string {
	if s.perEnv() {
		return s.envFile(env)
	}
	return s.app.Path + "/configmap.yaml"
}

func (s *svc) getLogLevel(t *tree, env string) (string, error) {
	if s.perEnv() {
		return getEnv(t.files[s.logLevelFile(env)], "LOG_LEVEL")
	}
	return getScalar(t.files[s.logLevelFile(env)], "data", "LOG_LEVEL")
}

func (s *svc) setLogLevel(t *tree, env, lvl string) error {
	p := s.logLevelFile(env)
	var out string
	var err error
	if s.perEnv() {
		out, err = setEnv(t.files[p], "LOG_LEVEL", lvl)
	} else {
		out, err = setScalar(t.files[p], lvl, "data", "LOG_LEVEL")
	}
	if err != nil {
		return fmt.Errorf("%s: set LOG_LEVEL: %w", p, err)
	}
	t.set(p, out)
	return nil
}

// configFile is where ConfigMap keys are added, "" if the service has none.
func (s *svc) configFile() (file string, path []string) {
	switch {
	case s.app.Render == scenario.Helm && len(s.prof.config) > 0:
		return s.app.Path + "/values.yaml", []string{"config"}
	case s.app.Render == scenario.PlainYAML:
		return s.app.Path + "/configmap.yaml", []string{"data"}
	}
	return "", nil
}

// flagList is the env list in envFile that feature flags are appended to.
func (s *svc) flagList() []string {
	switch s.app.Render {
	case scenario.Helm:
		return []string{"extraEnv"}
	case scenario.Kustomize:
		return []string{"env"}
	}
	return nil
}

// edit edits one file of t with f, wrapping errors with the file's path.
func edit(t *tree, p string, f func(string) (string, error)) error {
	text, ok := t.files[p]
	if !ok {
		return fmt.Errorf("%s: no such file", p)
	}
	out, err := f(text)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	t.set(p, out)
	return nil
}

// plan fixes, from the number of commits, where the scenario's special
// commits go. Indexes count every commit in date order.
type plan struct {
	n                   int
	pair1, pair2        int // human commits touching two apps
	feat1, feat2, merge int // feature-branch commits and their merge
	latest, typo        int
	// behind are the Behind app's newest commits, oldest first: behind[0]
	// is the revision the instance is live at, then scenario.BehindBy
	// commits that each change what its environment renders.
	behind []int
	bad    int
}

func newPlan(n, behindBy int) (plan, error) {
	if behindBy < 1 || behindBy > 4 {
		return plan{}, fmt.Errorf("monorepo: scenario.BehindBy=%d, supported 1..4", behindBy)
	}
	f := n * 55 / 100
	p := plan{n: n, pair1: n * 30 / 100, pair2: n * 70 / 100,
		feat1: f, feat2: f + 4, merge: f + 9,
		latest: n * 80 / 100, typo: n - 25, bad: n - 2}
	for j := 0; j <= behindBy; j++ {
		p.behind = append(p.behind, n-3-3*(behindBy-j))
	}
	return p, nil
}

// roles are the apps the scenario's git-side problems land on.
type roles struct {
	badBump, behind, latest, pullFail *svc
	badEnv, behindEnv, latestEnv      string
	pullEnv                           string
	feature                           *svc
}

type gen struct {
	r      *rand.Rand
	opts   Options
	plan   plan
	branch string
	svcs   []*svc
	roles  roles

	objs     *objects
	main     *tree
	mainHead plumbing.Hash
	feat     *tree
	featBase map[string]string
	featHead plumbing.Hash
	commits  int

	clock    time.Time
	meanGap  time.Duration
	builds   map[string]int
	registry map[string][]string
	res      *Result
}

func generate(opts Options) (*gen, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	pl, err := newPlan(opts.Commits, scenario.BehindBy)
	if err != nil {
		return nil, err
	}
	g := &gen{
		r:        rand.New(rand.NewSource(opts.Seed)),
		opts:     opts,
		plan:     pl,
		branch:   scenario.Branch,
		objs:     newObjects(),
		main:     newTree(),
		clock:    opts.Start,
		builds:   map[string]int{},
		registry: map[string][]string{},
		res:      &Result{},
	}
	// About six months of working time (10 h a day, 5 days a week).
	g.meanGap = 26 * 5 * 10 * time.Hour / time.Duration(opts.Commits)
	for _, a := range scenario.Apps {
		g.svcs = append(g.svcs, &svc{app: a, prof: profileOf(a.Name)})
	}
	if err := g.assignRoles(); err != nil {
		return nil, err
	}
	for i := 0; i < opts.Commits; i++ {
		if err := g.step(i); err != nil {
			return nil, fmt.Errorf("monorepo: commit %d: %w", i, err)
		}
	}
	if err := g.finish(); err != nil {
		return nil, fmt.Errorf("monorepo: %w", err)
	}
	return g, nil
}

func (g *gen) svcByName(name string) *svc {
	for _, s := range g.svcs {
		if s.app.Name == name {
			return s
		}
	}
	return nil
}

func (g *gen) assignRoles() error {
	for _, p := range scenario.Problems {
		s := g.svcByName(p.App)
		if s == nil {
			return fmt.Errorf("monorepo: problem %s on unknown app %q", p.Kind, p.App)
		}
		env := scenario.Env(p.Cluster)
		switch p.Kind {
		case scenario.BadBump:
			g.roles.badBump, g.roles.badEnv = s, env
		case scenario.Behind:
			g.roles.behind, g.roles.behindEnv = s, env
		case scenario.LatestTag:
			g.roles.latest, g.roles.latestEnv = s, env
		case scenario.PullFailure:
			g.roles.pullFail, g.roles.pullEnv = s, env
		}
	}
	r := g.roles
	if r.badBump == nil || r.behind == nil || r.latest == nil || r.pullFail == nil {
		return fmt.Errorf("monorepo: scenario lacks one of the problems %s, %s, %s, %s",
			scenario.BadBump, scenario.Behind, scenario.LatestTag, scenario.PullFailure)
	}
	if r.badBump == r.behind {
		return fmt.Errorf("monorepo: %s and %s cannot both be on %s: each needs the app's newest commits",
			scenario.BadBump, scenario.Behind, r.behind.app.Name)
	}
	special := map[*svc]bool{r.badBump: true, r.behind: true, r.latest: true, r.pullFail: true}
	for _, s := range g.svcs {
		if s.app.Render == scenario.Helm && !special[s] && s.prof.feature.branch != "" {
			g.roles.feature = s
			break
		}
	}
	if g.roles.feature == nil {
		for _, s := range g.svcs {
			if s.app.Render == scenario.Helm && !special[s] {
				g.roles.feature = s
				s.prof.feature = feature{"feature/" + s.app.Name + "-tuning", "graceful shutdown", nil}
				break
			}
		}
	}
	if g.roles.feature == nil {
		return fmt.Errorf("monorepo: no Helm app free of problems to carry the feature branch")
	}
	return nil
}

// bumpAllowed says whether a random commit at index i may change the tag of
// s in env without breaking what the scenario's problems need.
func (g *gen) bumpAllowed(s *svc, env string, i int) bool {
	r, p := g.roles, g.plan
	switch {
	case s == r.badBump && i > p.bad,
		s == r.behind && i >= p.behind[0],
		s == r.latest && i > p.latest && (env == r.latestEnv || !s.perEnv()),
		s == r.pullFail && i > p.typo && (env == r.pullEnv || !s.perEnv()):
		return false
	}
	return true
}

// humanAllowed says whether a random human commit at index i may touch s.
func (g *gen) humanAllowed(s *svc, i int) bool {
	r, p := g.roles, g.plan
	switch {
	case s == r.badBump && i > p.bad,
		s == r.behind && i >= p.behind[0],
		s == r.feature && i >= p.feat1 && i <= p.merge:
		return false
	}
	return true
}

// step makes commit number i.
func (g *gen) step(i int) error {
	p := g.plan
	for j, at := range p.behind {
		if i != at {
			continue
		}
		s, env := g.roles.behind, g.roles.behindEnv
		switch {
		case j == 0:
			_, h, err := g.botBumpTag(s, env)
			g.res.BehindRevision = h.String()
			return err
		case j == len(p.behind)-1 || j%2 == 0:
			return g.botBump(s, env)
		default:
			return g.behindHumanCommit()
		}
	}
	switch i {
	case 0:
		return g.importCommit()
	case 1:
		return g.ciCommit()
	case p.pair1:
		return g.pairCommit(i, "mem")
	case p.pair2:
		return g.pairCommit(i, "log")
	case p.feat1, p.feat2:
		return g.featureCommit(i)
	case p.merge:
		return g.mergeCommit()
	case p.latest:
		return g.latestCommit()
	case p.typo:
		return g.typoCommit()
	case p.bad:
		return g.badBumpCommit()
	}
	if g.r.Float64() < 0.86 {
		return g.randomBump(i)
	}
	return g.randomHuman(i)
}

// nextTime advances the clock by a random amount of working time
// (weekdays 08:00-18:00 UTC). Bot commits sometimes land at night, when
// scheduled builds run.
func (g *gen) nextTime(isBot bool) time.Time {
	if g.commits == 0 {
		return g.clock
	}
	prev := g.clock
	gap := time.Duration(float64(g.meanGap) * (0.05 + 1.9*g.r.Float64()))
	t := addWorkTime(prev, gap)
	if isBot && t.YearDay() != prev.YearDay() && g.r.Float64() < 0.2 {
		night := time.Date(t.Year(), t.Month(), t.Day(), 1, 0, 0, 0, time.UTC).
			Add(time.Duration(g.r.Intn(90*60)) * time.Second)
		if night.After(prev) {
			t = night
		}
	}
	t = t.Add(time.Duration(g.r.Intn(60)) * time.Second)
	if !t.After(prev) {
		t = prev.Add(time.Second)
	}
	g.clock = t
	return t
}

const workStart, workEnd = 8, 18

// addWorkTime adds d of working time to t, skipping nights and weekends.
func addWorkTime(t time.Time, d time.Duration) time.Time {
	t = t.UTC()
	for {
		day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		start, end := day.Add(workStart*time.Hour), day.Add(workEnd*time.Hour)
		if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday || !t.Before(end) {
			t = day.AddDate(0, 0, 1).Add(workStart * time.Hour)
			continue
		}
		if t.Before(start) {
			t = start
		}
		if left := end.Sub(t); d <= left {
			return t.Add(d)
		} else {
			d -= left
			t = end
		}
	}
}

// commit records a commit of tree t on top of parents.
func (g *gen) commit(t *tree, parents []plumbing.Hash, who person, when time.Time, msg string) (plumbing.Hash, error) {
	root, err := t.write(g.objs)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	sig := object.Signature{Name: who.name, Email: who.email, When: when.In(who.tz)}
	h, err := g.objs.commit(&object.Commit{
		Author: sig, Committer: sig, Message: msg, TreeHash: root, ParentHashes: parents,
	})
	if err != nil {
		return h, err
	}
	g.commits++
	return h, nil
}

func (g *gen) commitMain(who person, msg string) (plumbing.Hash, error) {
	when := g.nextTime(who == bot)
	var parents []plumbing.Hash
	if !g.mainHead.IsZero() {
		parents = []plumbing.Hash{g.mainHead}
	}
	h, err := g.commit(g.main, parents, who, when, msg)
	if err == nil {
		g.mainHead = h
	}
	return h, err
}

func (g *gen) human() person { return humans[g.r.Intn(len(humans))] }

// hex returns n random lowercase hex digits.
func (g *gen) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[g.r.Intn(16)]
	}
	return string(b)
}

// pushed records a tag in the fake registry.
func (g *gen) pushed(app, tag string) {
	for _, t := range g.registry[app] {
		if t == tag {
			return
		}
	}
	g.registry[app] = append(g.registry[app], tag)
}

func (g *gen) importCommit() error {
	when := g.clock
	for _, s := range g.svcs {
		tags := map[string]string{}
		for _, env := range envs {
			// Builds from before the import, a few days to weeks old.
			built := when.Add(-time.Duration(24+g.r.Intn(24*20)) * time.Hour)
			tags[env] = fmt.Sprintf("%s-%s-%d", env, g.hex(7), built.Unix())
			if !s.perEnv() {
				tags["stage"] = tags["prod"]
				break
			}
		}
		for _, env := range s.envsOf() {
			g.pushed(s.app.Name, tags[env])
		}
		for p, c := range serviceFiles(s.app, tags) {
			g.main.set(p, c)
		}
	}
	g.main.set("README.md", readme())
	_, err := g.commitMain(humans[0], "Import k8s manifests from the infra repository\n\n"+
		"Charts, overlays and plain manifests of every shop service, as deployed\n"+
		"today. From now on this repository is the source of truth: Argo CD and\n"+
		"Flux sync from main.\n")
	return err
}

func (g *gen) ciCommit() error {
	g.main.set("ci/pipeline.yaml", ciPipeline)
	g.main.set("ci/bump.sh", ciBump)
	_, err := g.commitMain(humans[1], "ci: add image bump pipeline\n\n"+
		"Service builds now commit their image tag here as fleet-ci[bot].\n")
	return err
}

// botBump commits a CI image bump of s in env and returns its tag.
func (g *gen) botBump(s *svc, env string) error {
	_, _, err := g.botBumpTag(s, env)
	return err
}

func (g *gen) botBumpTag(s *svc, env string) (tag string, h plumbing.Hash, err error) {
	when := g.nextTime(true)
	sha := g.hex(40)
	tag = fmt.Sprintf("%s-%s-%d", env, sha[:7], when.Unix())
	if err := s.setTag(g.main, env, tag); err != nil {
		return "", h, err
	}
	g.pushed(s.app.Name, tag)
	if g.builds[s.app.Name] == 0 {
		g.builds[s.app.Name] = 1000 + g.r.Intn(4000)
	}
	g.builds[s.app.Name] += 1 + g.r.Intn(4)
	what := env + " image"
	if !s.perEnv() {
		what = "image"
	}
	msg := fmt.Sprintf("ci(%s): bump %s to %s\n\nBuild-Url: https://ci.example.com/shop/%s/builds/%d\nSource-Commit: %s\n",
		s.app.Name, what, tag, s.app.Name, g.builds[s.app.Name], sha)
	// commitMain would draw the time again: commit directly at `when`.
	h, err = g.commit(g.main, []plumbing.Hash{g.mainHead}, bot, when, msg)
	if err != nil {
		return "", h, err
	}
	g.mainHead = h
	return tag, h, nil
}

func (g *gen) randomBump(i int) error {
	type cand struct {
		s   *svc
		env string
	}
	var cands []cand
	for _, s := range g.svcs {
		for _, env := range s.envsOf() {
			if g.bumpAllowed(s, env, i) {
				cands = append(cands, cand{s, env})
			}
		}
	}
	if len(cands) == 0 {
		return fmt.Errorf("no app may be bumped")
	}
	c := cands[g.r.Intn(len(cands))]
	return g.botBump(c.s, c.env)
}

// change is one human edit: what it did, for the commit message.
type change struct {
	subject string // "scale prod to 3 replicas"
	why     string // optional body sentence
}

// humanEdit applies a random human change of the given kind to s in env
// on tree t. ok is false when the kind does not apply to s.
func (g *gen) humanEdit(t *tree, kind string, s *svc, env string) (c change, ok bool, err error) {
	on := " on " + env
	if !s.perEnv() {
		on = ""
	}
	switch kind {
	case "scale":
		n, err := s.getReplicas(t, env)
		if err != nil {
			return c, false, err
		}
		up := n <= 1 || (n < 4 && g.r.Intn(2) == 0)
		if up {
			n++
		} else {
			n--
		}
		err = edit(t, s.envFile(env), func(x string) (string, error) { return setScalar(x, strconv.Itoa(n), s.replicasKey()...) })
		why := pick(g.r, []string{"Traffic is up since the campaign started.", "Load test next week.", "p99 latency above SLO at peak."})
		if !up {
			why = pick(g.r, []string{"Load is back to normal.", "Saving cost; CPU below 20% for two weeks."})
		}
		unit := "replicas"
		if n == 1 {
			unit = "replica"
		}
		return change{fmt.Sprintf("scale%s to %d %s", strings.Replace(on, " on ", " ", 1), n, unit), why}, true, err
	case "log":
		cur, err := s.getLogLevel(t, env)
		if err != nil {
			return c, false, err
		}
		lvl := pick(g.r, without([]string{"debug", "info", "warn"}, cur))
		err = s.setLogLevel(t, env, lvl)
		why := "Chasing the intermittent 502s."
		if lvl != "debug" {
			why = "Debug logs are too noisy again."
		}
		return change{fmt.Sprintf("set LOG_LEVEL=%s%s", lvl, on), why}, true, err
	case "mem":
		p := s.envFile(env)
		v, err := getScalar(t.files[p], "resources", "limits", "memory")
		if err != nil {
			return c, false, fmt.Errorf("%s: %w", p, err)
		}
		mi, err := strconv.Atoi(strings.TrimSuffix(v, "Mi"))
		if err != nil {
			return c, false, fmt.Errorf("%s: memory limit %q: %w", p, v, err)
		}
		verb, why := "raise", "OOMKilled during the nightly batch."
		if mi >= 1536 {
			mi -= 512
			verb, why = "lower", "Usage peaks far below the limit since the cache fix."
		} else {
			mi += 128 * (1 + g.r.Intn(2))
		}
		err = edit(t, p, func(x string) (string, error) {
			return setScalar(x, fmt.Sprintf("%dMi", mi), "resources", "limits", "memory")
		})
		return change{fmt.Sprintf("%s%s memory limit to %dMi", verb, strings.Replace(on, " on ", " ", 1), mi), why}, true, err
	case "cpu":
		p := s.envFile(env)
		v, err := getScalar(t.files[p], "resources", "requests", "cpu")
		if err != nil {
			return c, false, fmt.Errorf("%s: %w", p, err)
		}
		m, err := strconv.Atoi(strings.TrimSuffix(v, "m"))
		if err != nil {
			return c, false, fmt.Errorf("%s: cpu request %q: %w", p, v, err)
		}
		if m >= 500 {
			m -= 100
		} else {
			m += 50
		}
		err = edit(t, p, func(x string) (string, error) {
			return setScalar(x, fmt.Sprintf("%dm", m), "resources", "requests", "cpu")
		})
		return change{fmt.Sprintf("request %dm CPU%s", m, on), "Match the request to observed usage."}, true, err
	case "flag":
		list := s.flagList()
		if list == nil {
			return c, false, nil
		}
		p := s.envFile(env)
		for _, f := range s.prof.flagPool {
			if hasEnv(t.files[p], f) {
				if v, _ := getEnv(t.files[p], f); v == `true` && g.r.Intn(3) == 0 {
					err := edit(t, p, func(x string) (string, error) { return setEnv(x, f, `"false"`) })
					return change{fmt.Sprintf("disable %s%s", f, on), "Rolled back after the error-rate alert."}, true, err
				}
				continue
			}
			err := edit(t, p, func(x string) (string, error) { return appendEnv(x, f, `"true"`, list...) })
			return change{fmt.Sprintf("enable %s%s", f, on), ""}, true, err
		}
		return c, false, nil
	case "config":
		p, path := s.configFile()
		if p == "" {
			return c, false, nil
		}
		for _, kv := range s.prof.configPool {
			if _, err := getScalar(t.files[p], append(path, kv[0])...); err == nil {
				continue
			}
			err := edit(t, p, func(x string) (string, error) { return addMapKey(x, kv[0], kv[1], path...) })
			return change{fmt.Sprintf("add %s to config", kv[0]), ""}, true, err
		}
		return c, false, nil
	}
	return c, false, fmt.Errorf("unknown change kind %q", kind)
}

var humanKinds = []string{"scale", "scale", "scale", "log", "log", "mem", "mem", "cpu", "flag", "flag", "config", "config"}

func (g *gen) randomHuman(i int) error {
	for try := 0; try < 20; try++ {
		s := g.svcs[g.r.Intn(len(g.svcs))]
		if !g.humanAllowed(s, i) {
			continue
		}
		env := pick(g.r, s.envsOf())
		kind := pick(g.r, humanKinds)
		c, ok, err := g.humanEdit(g.main, kind, s, env)
		if err != nil {
			return fmt.Errorf("%s %s on %s: %w", kind, s.app.Name, env, err)
		}
		if !ok {
			continue
		}
		_, err = g.commitMain(g.human(), humanMessage(g.r, []string{s.app.Name}, c))
		return err
	}
	return g.randomBump(i)
}

// humanMessage writes a commit message in one of the styles people use.
func humanMessage(r *rand.Rand, apps []string, c change) string {
	scope := strings.Join(apps, ", ")
	var subject string
	switch r.Intn(3) {
	case 0:
		subject = fmt.Sprintf("chore(%s): %s", strings.Join(apps, ","), c.subject)
	case 1:
		subject = fmt.Sprintf("%s: %s", scope, c.subject)
	default:
		subject = fmt.Sprintf("%s%s (%s)", strings.ToUpper(c.subject[:1]), c.subject[1:], scope)
	}
	if c.why == "" {
		return subject + "\n"
	}
	return subject + "\n\n" + c.why + "\n"
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.Intn(len(xs))] }

func without(xs []string, x string) []string {
	var out []string
	for _, v := range xs {
		if v != x {
			out = append(out, v)
		}
	}
	return out
}

// pairCommit is a human change of the same kind to two apps at once.
func (g *gen) pairCommit(i int, kind string) error {
	var picked []*svc
	for _, k := range g.r.Perm(len(g.svcs)) {
		if s := g.svcs[k]; g.humanAllowed(s, i) && s.perEnv() {
			picked = append(picked, s)
		}
		if len(picked) == 2 {
			break
		}
	}
	if len(picked) < 2 {
		return fmt.Errorf("no two apps free for a shared change")
	}
	env := pick(g.r, envs)
	var subjects []string
	var names []string
	var why string
	for _, s := range picked {
		c, ok, err := g.humanEdit(g.main, kind, s, env)
		if err != nil {
			return fmt.Errorf("%s %s on %s: %w", kind, s.app.Name, env, err)
		}
		if !ok {
			return fmt.Errorf("%s does not apply to %s", kind, s.app.Name)
		}
		subjects = append(subjects, "- "+s.app.Name+": "+c.subject)
		names = append(names, s.app.Name)
		why = c.why
	}
	title := map[string]string{"mem": "Adjust memory limits", "log": "Change log levels"}[kind]
	msg := fmt.Sprintf("%s of %s on %s\n\n%s\n\n%s\n", title, strings.Join(names, " and "), env,
		strings.Join(subjects, "\n"), why)
	_, err := g.commitMain(g.human(), msg)
	return err
}

// featureCommit makes one commit of the feature branch, forking it from
// the branch's head on its first commit.
func (g *gen) featureCommit(i int) error {
	s := g.roles.feature
	who := humans[2]
	if i == g.plan.feat1 {
		g.feat = g.main.clone()
		g.featBase = g.main.clone().files
		g.featHead = g.mainHead
		var err error
		if p, path := s.configFile(); p != "" && len(s.prof.feature.configKeys) > 0 {
			for _, kv := range s.prof.feature.configKeys {
				if err = edit(g.feat, p, func(x string) (string, error) { return addMapKey(x, kv[0], kv[1], path...) }); err != nil {
					return err
				}
			}
		} else {
			err = edit(g.feat, s.app.Path+"/values.yaml", func(x string) (string, error) {
				return appendEnv(x, "SHUTDOWN_DRAIN_SECONDS", `"15"`, "env")
			})
		}
		if err != nil {
			return err
		}
		return g.commitFeature(who, fmt.Sprintf("feat(%s): add %s\n", s.app.Name, s.prof.feature.title))
	}
	// Second commit: a template change, so the merge changes what every
	// environment renders, not only values.
	if err := edit(g.feat, s.app.Path+"/values.yaml", func(x string) (string, error) {
		return replaceOnce(x, "podAnnotations: {}\n",
			"podAnnotations: {}\n\n# Seconds to drain in-flight requests before the pod is killed.\nterminationGracePeriodSeconds: 45\n")
	}); err != nil {
		return err
	}
	if err := edit(g.feat, s.app.Path+"/templates/deployment.yaml", func(x string) (string, error) {
		return replaceOnce(x, "    spec:\n      containers:\n",
			"    spec:\n      terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}\n      containers:\n")
	}); err != nil {
		return err
	}
	return g.commitFeature(who, fmt.Sprintf("feat(%s): configurable termination grace period\n\n"+
		"Requests in flight were cut at every rollout; give the pods 45 s to drain.\n", s.app.Name))
}

func replaceOnce(text, old, new string) (string, error) {
	if n := strings.Count(text, old); n != 1 {
		return "", fmt.Errorf("expected one %q, found %d", old, n)
	}
	return strings.Replace(text, old, new, 1), nil
}

func (g *gen) commitFeature(who person, msg string) error {
	h, err := g.commit(g.feat, []plumbing.Hash{g.featHead}, who, g.nextTime(false), msg)
	if err == nil {
		g.featHead = h
	}
	return err
}

// mergeCommit merges the feature branch into the branch. The branch only
// changed other files meanwhile, so the merge takes the feature's version
// of every file the feature changed.
func (g *gen) mergeCommit() error {
	s := g.roles.feature
	var changed []string
	for p, c := range g.feat.files {
		if g.featBase[p] != c {
			changed = append(changed, p)
		}
	}
	for _, p := range changed {
		if g.main.files[p] != g.featBase[p] {
			return fmt.Errorf("merge of %s: %s changed on both sides", s.prof.feature.branch, p)
		}
	}
	slices.Sort(changed)
	for _, p := range changed {
		g.main.set(p, g.feat.files[p])
	}
	who := humans[3]
	when := g.nextTime(false)
	msg := fmt.Sprintf("Merge pull request #%d from shop/%s\n\nfeat(%s): %s and termination grace period\n",
		100+g.r.Intn(300), s.prof.feature.branch, s.app.Name, s.prof.feature.title)
	h, err := g.commit(g.main, []plumbing.Hash{g.mainHead, g.featHead}, who, when, msg)
	if err != nil {
		return err
	}
	g.mainHead = h
	g.res.MergeCommit = h.String()
	g.feat, g.featBase = nil, nil
	return nil
}

// latestCommit points the LatestTag app at `latest` for good.
func (g *gen) latestCommit() error {
	s, env := g.roles.latest, g.roles.latestEnv
	if err := s.setTag(g.main, env, "latest"); err != nil {
		return err
	}
	h, err := g.commitMain(humans[4], fmt.Sprintf("debug %s %s with latest build\n\n"+
		"Runs whatever CI pushed last until the lag issue is understood.\n"+
		"TODO: pin a tag again.\n", envLong(env), s.app.Name))
	g.res.LatestTagCommit = h.String()
	return err
}

// typoCommit promotes a build by hand with a mistyped (truncated) sha: the
// tag exists nowhere in the registry.
func (g *gen) typoCommit() error {
	s, env := g.roles.pullFail, g.roles.pullEnv
	sha := g.hex(7)
	built := g.clock.Add(-time.Duration(2+g.r.Intn(20)) * time.Hour)
	tag := fmt.Sprintf("%s-%s-%d", env, sha[:6], built.Unix())
	if err := s.setTag(g.main, env, tag); err != nil {
		return err
	}
	h, err := g.commitMain(humans[1], fmt.Sprintf("%s: promote build %s to %s\n\n"+
		"The bump job is paused for the release freeze; promoting by hand.\n", s.app.Name, sha, env))
	g.res.PullFailureTag, g.res.PullFailureCommit = tag, h.String()
	return err
}

// behindHumanCommit is the middle of the Behind app's three newest commits:
// a visible change to what its environment renders.
func (g *gen) behindHumanCommit() error {
	s, env := g.roles.behind, g.roles.behindEnv
	for _, kind := range []string{"flag", "log", "scale"} {
		c, ok, err := g.humanEdit(g.main, kind, s, env)
		if err != nil {
			return err
		}
		if ok {
			_, err = g.commitMain(humans[0], humanMessage(g.r, []string{s.app.Name}, c))
			return err
		}
	}
	return fmt.Errorf("no visible change possible on %s", s.app.Name)
}

func (g *gen) badBumpCommit() error {
	s, env := g.roles.badBump, g.roles.badEnv
	good, err := s.getTag(g.main, env)
	if err != nil {
		return err
	}
	tag, h, err := g.botBumpTag(s, env)
	if err != nil {
		return err
	}
	g.res.BadBumpCommit, g.res.BadTag, g.res.GoodTagBeforeBad = h.String(), tag, good
	return nil
}

// finish fills the Result from the final state.
func (g *gen) finish() error {
	res := g.res
	res.Head = g.mainHead.String()
	res.Commits = g.commits
	res.files = g.main.files
	res.Tags = map[string]map[string]string{}
	res.Replicas = map[string]map[string]int{}
	res.RegistryTags = map[string][]string{}
	for _, s := range g.svcs {
		res.Tags[s.app.Name] = map[string]string{}
		res.Replicas[s.app.Name] = map[string]int{}
		for _, env := range envs {
			tag, err := s.getTag(g.main, env)
			if err != nil {
				return fmt.Errorf("%s: tag at head: %w", s.app.Name, err)
			}
			res.Tags[s.app.Name][env] = tag
			n, err := s.getReplicas(g.main, env)
			if err != nil {
				return fmt.Errorf("%s: replicas at head: %w", s.app.Name, err)
			}
			res.Replicas[s.app.Name][env] = n
		}
		g.pushed(s.app.Name, "latest")
		res.RegistryTags[s.app.Name] = g.registry[s.app.Name]
	}
	return nil
}
