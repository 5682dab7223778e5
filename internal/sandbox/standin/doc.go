// Package standin is the sandbox's stand-in for a GitOps operator. It is NOT
// Argo CD and NOT Flux: it renders the generated monorepo with fleetdeck's
// own render code, applies the result to the sandbox clusters with
// server-side apply, and writes Argo CD Application and Flux
// Kustomization/HelmRelease/GitRepository objects whose spec and status are
// shaped like the real operators' (see docs/gitops-semantics.md), computed
// from what it applied and what is live. fleetdeck is developed and tested
// against those objects.
//
// # What it writes
//
// Argo CD (hub scenario.ArgoHub, namespace scenario.ArgoNamespace):
//   - CRD applications.argoproj.io v1alpha1 (shortNames app, apps).
//   - One Secret per non-hub cluster, labelled
//     argocd.argoproj.io/secret-type=cluster, named cluster-<name>, with keys
//     name, server (the cluster's API server URL from the kubeconfig) and
//     config {"tlsClientConfig":{"insecure":false}} — no credentials.
//   - One Application per Argo-managed instance, named
//     scenario.ArgoAppName(app, cluster), labelled as the ApplicationSet
//     template of a cluster generator would: app.kubernetes.io/part-of=<app>,
//     fleetdeck.io/cluster=<cluster>, fleetdeck.io/env=<env>; annotated
//     argocd.argoproj.io/manifest-generate-paths=. (see Run). No owner
//     references and no finalizer: there is no ApplicationSet object and no
//     controller to remove a finalizer.
//     spec: project default, source{repoURL, path, targetRevision main,
//     helm.valueFiles}, destination (server https://kubernetes.default.svc on
//     the hub, name <cluster> elsewhere, plus namespace), syncPolicy
//     automated{prune: true} with syncOptions [CreateNamespace=true] — except
//     the scenario.Behind instance, which has no syncPolicy (manual sync).
//     status: sync{status, revision (HEAD), comparedTo}, health{status,
//     message, lastTransitionTime}, summary.images, operationState,
//     history[] (max 10), resources[] (without per-resource health, as Argo
//     CD ≥ 3 persists it), reconciledAt, sourceType, resourceHealthSource
//     appTree, controllerNamespace, and conditions only on a render error
//     (ComparisonError, sync Unknown).
//   - Applied objects carry the annotation argocd.argoproj.io/tracking-id
//     <app>:<group>/<kind>:<ns>/<name> and the label
//     app.kubernetes.io/instance=<app>; field manager "argocd-controller".
//
// Flux (every cluster with a scenario.Flux instance, namespace
// scenario.FluxNamespace):
//   - CRDs gitrepositories.source.toolkit.fluxcd.io v1,
//     kustomizations.kustomize.toolkit.fluxcd.io v1,
//     helmreleases.helm.toolkit.fluxcd.io v2.
//   - GitRepository fleet-gitops; Kustomization <app> for kustomize/YAML
//     apps (spec.wait true, so a Healthy condition exists); HelmRelease <app>
//     for charts (reconcileStrategy Revision, so the chart version is
//     <Chart.yaml version>+<12 hex of the commit>, as source-controller
//     builds it).
//   - Applied objects carry kustomize.toolkit.fluxcd.io/{name,namespace} or
//     helm.toolkit.fluxcd.io/{name,namespace} labels (HelmRelease objects
//     also Helm's meta.helm.sh/release-{name,namespace} annotations and
//     app.kubernetes.io/managed-by=Helm); field managers
//     "kustomize-controller" / "helm-controller".
//   - Health, as the stand-in judges it: the Argo CD rules of health.go over
//     the applied objects. Healthy → Ready True (ReconciliationSucceeded /
//     UpgradeSucceeded). Progressing → Ready Unknown, reason Progressing,
//     Reconciling True (Flux waiting for its health checks). Degraded
//     (for example a Deployment past its progressDeadlineSeconds because its
//     pods crash-loop or cannot pull) → Ready False with HealthCheckFailed
//     (Kustomization, plus Healthy False) or UpgradeFailed (HelmRelease,
//     Released False, newest history entry status failed); the
//     Kustomization's lastAppliedRevision then stays at the last healthy
//     revision while lastAttemptedRevision moves on, as in Flux.
//
// Instances managed by scenario.None are applied once, at Install, with the
// label app.kubernetes.io/managed-by=fleetdeck-sandbox and field manager
// "fleetdeck-sandbox" (someone ran kubectl apply); nothing re-applies them.
//
// # Sync status
//
// An object is in sync when CompareObject (compare.go) finds no difference
// between what git renders at HEAD (with the operator's labels) and the live
// object: labels, replicas, pod template labels, container images, env,
// requests/limits and ConfigMap data. An object live from the last applied
// revision but gone from HEAD is OutOfSync with requiresPruning. The app is
// OutOfSync when any object is.
//
// # Requests
//
// The stand-in honours the two ways a client asks an operator to act now,
// so that fleetdeck's sync is tested end to end (kube/sync):
//   - Argo CD: .operation set on an Application (the argocd CLI's API server
//     and `kubectl patch` clients set {initiatedBy, info, sync{revision,
//     syncStrategy, syncOptions}}). The stand-in writes
//     status.operationState {operation as requested, phase Running,
//     startedAt}, applies git at the requested revision (default HEAD),
//     writes the final phase (Succeeded, or Failed with the error) with
//     syncResult and a history entry, then clears .operation.
//   - Flux: the annotation reconcile.fluxcd.io/requestedAt on a
//     GitRepository (reported at once: its artifact is HEAD), or on a
//     Kustomization or HelmRelease (git is applied again at HEAD, which
//     reverts live drift as kustomize-controller and helm-controller drift
//     detection would, without a new Helm release when the revision is
//     unchanged). The value handled is reported in
//     status.lastHandledReconcileAt, and Ready follows from health as always.
//
// Both re-apply git, so they revert the hand patch, which automated syncs
// leave alone (selfHeal is off). The stand-in does not support suspended
// Flux objects nor Argo CD operations other than sync (they fail).
//
// # Problems
//
// scenario.HandPatch is injected by Install after the apply: a JSON patch
// (kubectl patch --type=json) of the main container's image to
// <image>:scenario.HandPatchTag with field manager "kubectl-patch". The other problems come from git (the
// monorepo's commits) and from the control plane's crash and pull-failure
// image lists; the stand-in only reports them, except that on a first
// install the scenario.BadBump instance is rolled out at the commit before
// the bad bump and then bumped, so its old ReplicaSet keeps serving and its
// history shows both revisions, as in a fleet where CI pushed the bump. The scenario.Behind instance
// is applied at monorepo Result.BehindRevision and never synced.
package standin
