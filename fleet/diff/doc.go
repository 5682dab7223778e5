// Package diff compares the objects an application renders from git with the objects live on
// a cluster, one object at a time, and writes each difference as a unified YAML diff.
//
// It is pure: objects come in as the map[string]any content of unstructured objects, and
// nothing here talks to a cluster or a repository (kube/live fetches, internal/engine renders).
//
// # Normalisation
//
// A live object carries much that git never wrote: what the server owns (status,
// metadata.managedFields, resourceVersion, uid, generation, creationTimestamp, the
// kubectl.kubernetes.io/last-applied-configuration annotation), every field the API server
// defaults (imagePullPolicy, terminationMessagePath, a Service's clusterIP, a Deployment's
// strategy.rollingUpdate …) and the labels and annotations a GitOps operator adds to track
// what it applied. Listing those defaults is a losing game (they change with every Kubernetes
// release and with admission webhooks), so Compare does not list them: it projects the live
// object onto the fields that matter to a sync, and compares only those. A field of the live
// object is kept when
//
//   - git sets it now (the desired object's shape: map keys git wrote; items of lists matched
//     the way strategic merge and server-side apply match them, by merge key such as a
//     container's name, a port's containerPort or a volume mount's mountPath, and by position
//     for lists of maps without one), or
//   - an earlier apply set it: the fields owned by a server-side-apply manager
//     (managedFields entries with operation Apply) and the fields of the
//     last-applied-configuration annotation of a client-side apply, except the operators'
//     tracking metadata. A field git has since removed is then shown as removed, as
//     `kubectl diff` and Argo CD's three-way diff show it.
//
// Everything else is a default or belongs to someone else, and a sync would not change it. A
// list-map key that the server defaulted (a port's protocol) is not taken from an earlier
// apply while git still declares the item. This is Argo CD's three-way normalisation and the
// field sets of `kubectl diff --server-side` reached without a dry-run request: the live
// object as read is enough, and the result is the same against any server version.
//
// Both sides are then put in one form: nulls and empty maps and lists dropped (kubectl apply
// treats them as unset), whole-number floats written as integers, resource quantities
// (requests, limits, sizeLimit, capacity, hard) in canonical form ("0.5" and "500m" are one
// value), list-map items in git's order.
//
// # Argo CD ignoreDifferences
//
// An Application's spec.ignoreDifferences entries (Ignore) apply to the objects they match by
// group, kind, name and namespace. Supported: jsonPointers (RFC 6901); jqPathExpressions in
// the path subset of jq — .a.b, ."a.b", .["a.b"], .a[0], .a[], and select(PATH == LITERAL) or
// select(PATH != LITERAL) stages joined by | (for example
// `.spec.template.spec.containers[] | select(.name == "app") | .image`); an expression
// outside it is reported and not applied; managedFieldsManagers: fields owned by those managers
// in the live object's managedFields are removed from both sides.
package diff
