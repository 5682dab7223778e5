// Package engine joins fleetdeck's parts into one live model of the fleet: it watches every
// configured cluster (kube/watch), keeps the git clones fetched (gitstate/repo), asks the git
// side for the facts of each instance, and builds fleet.Model from the whole.
//
// One-shot verbs such as `status` call Snapshot, which returns within its timeout however many
// clusters hang: a cluster that has not answered completely by then is reported unreachable.
// Long-running views (the TUI, `status --watch`) Subscribe and receive a new model after
// changes, coalesced so that a busy fleet never produces more than one model per
// Options.Coalesce. Every cluster and every repository runs on its own goroutines, owned by
// Run: one unreachable or forbidden cluster never delays the others. Git renders run on a
// goroutine of their own too: the live model keeps the last git facts until new ones arrive,
// so a slow Helm render never holds up a pod update.
package engine
