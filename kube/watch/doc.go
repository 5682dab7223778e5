// Package watch keeps one trimmed, always-current cache of the objects fleetdeck shows per
// cluster, together with that cluster's connection state, and fans many clusters into one model.
//
// # Design
//
// Each Cluster runs one client-go Reflector per resource (and per namespace when the options
// or the credentials are namespace-scoped) into its own store. Reflectors are used directly
// rather than through SharedInformers because fleetdeck needs three things informers do not expose:
// a short reconnection backoff (a restarted API server is synced again within seconds instead
// of the informers' 30–60 s), a view of every List and Watch error (the watch-list retry loop
// never reaches an informer's watch error handler, and a 403 must become "forbidden", not a
// log line), and no DeltaFIFO or handler queues (objects are trimmed once, on entry, and
// stored once).
//
// Credentials that may not list a resource cluster-wide (a team's read-only user) do not
// leave it empty: the resource is read namespace by namespace wherever an access review says
// it may be, namespaces created later included, and the state names the namespaces it is
// forbidden in (see scope.go, State.ForbiddenIn and State.ForbiddenAt).
//
// Objects are trimmed before they are stored (see the trim functions): only the fields the
// model reads survive, managed fields and last-applied annotations never do.
//
// The connection state combines what the reflectors see with a cheap health probe (GET
// /readyz every few seconds), so a dead API server is marked Unreachable even when no watch
// is due to notice. A cluster that is down, slow or forbids a resource never delays others:
// every cluster and every resource runs on its own.
package watch
