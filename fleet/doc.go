// Package fleet is fleetdeck's pure model: it merges plain snapshots of clusters, GitOps operator
// objects, live workloads and git facts into Applications → Instances → workloads → pods.
//
// Nothing here does I/O. The kube and gitstate packages convert what they read into a Snapshot;
// Build turns it into a Model that the TUI and the command-line verbs render. Every rule is a pure
// function with a table test, in the style of Argo CD's gitops-engine pkg/health.
//
// # Identity
//
// An Application is identified by its name; instances of the same name found through Argo CD,
// Flux or the config file, on any cluster, merge into one Application (see AppNameOfArgo and
// AppNameOfFlux for how a name is read from an operator object). One Instance exists per
// application × cluster × operator: when an app is declared in the config file for a cluster on
// which Argo CD or Flux already manages it, the operator's instance wins and the declared one is
// dropped.
//
// # Rules
//
// Health: Argo CD's reported health wins for its instances (it judged the objects it manages);
// for Flux, the worse of the object's own health (HealthOfFlux) and the live workloads' — Flux
// reports Ready after applying even when pods then crash unless health checks are configured;
// for declared apps, as Argo CD judges an application: the worst live workload by its kind's
// rule (HealthOfWorkload), Missing when nothing rendered is live. A workload's row folds in its
// pods (HealthOfPod: gitops-engine's rules), so a crash loop shows in the rows and in the
// severity at once, while the instance's health says what an operator would.
//
// Sync: Argo CD's reported status; for Flux, derived from its revisions (failed to apply,
// behind the branch) and from live fields that differ from git; for declared apps, from
// CompareObjects alone. Revision: BehindBy for operator-applied revisions,
// DeclaredLiveRevision for declared apps. AsDeclared judges operator instances with the
// declared rules, so that they can be checked against what the operators report.
//
// Git sources: InstanceSources says how each operator renders an instance — Argo CD's
// destination namespace and Helm release name (spec.source.helm.releaseName, else the
// Application's name), a HelmRelease's release name and namespace (spec.releaseName,
// spec.targetNamespace, as helm-controller composes them), a Kustomization's
// spec.targetNamespace, which overrides every object's namespace.
//
// Clusters: an instance whose cluster is unreachable or still connecting keeps its place with
// Sync and Health Unknown; an Argo CD instance whose hub is unreachable keeps live health but
// has Sync Unknown; workload resources that may not be read in the instance's namespaces make
// health Unknown, never Missing (credentials limited to some namespaces leave the instances
// living elsewhere their real health and sync).
//
// # Severity
//
// Each instance has one Severity, its worst Problem; an Application's is its worst instance's.
// Applications sort worst first, then by name. The mapping, in one place:
//
//	Critical  a workload that wants replicas has none ready and something is failing
//	          (Degraded workload or pod: CrashLoopBackOff, ImagePullBackOff, ...): nothing serves
//	Error     health Degraded or Missing; any Degraded workload or pod; a failed sync operation;
//	          a Flux revision that failed to apply
//	Warning   OutOfSync; commits behind; image drift (git tag ≠ live tag); `latest` or untagged
//	          images; sync or health Unknown (including an unreachable cluster); a render error
//	Info      Progressing or Suspended; a cluster still connecting; resources fleetdeck may not
//	          read (forbidden) where the instance's objects live
//	OK        Healthy and Synced with nothing else to say
//
// The `status` verb derives its exit code from the Model's worst Severity.
package fleet
