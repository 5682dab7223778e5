package fleet

// AsDeclared returns s with every Argo CD and Flux instance turned into a declared app of the
// same name, cluster, repository, path and namespace, and the operators' objects removed:
// Build then judges each instance from the live objects and git alone, as it does for
// applications nobody applies. The git facts are kept as they are (read with the operator's
// source: release name, values files, target namespace), so both judgements rest on the same
// inputs. It is how fleetdeck's own sync and health rules are checked against what the
// operators report for the same situations.
//
// Apps declared in s keep their clusters where no operator instance of that name exists, as
// in Build. s is not modified; the result shares its slices of live objects.
func AsDeclared(s Snapshot) Snapshot {
	out := s
	out.ArgoApps, out.FluxObjects = nil, nil
	out.Declared = make([]DeclaredApp, 0, len(s.ArgoApps)+len(s.FluxObjects)+len(s.Declared))
	for _, sp := range instanceSpecs(&s) {
		d := DeclaredApp{Name: sp.app, Clusters: []string{sp.cluster}}
		switch {
		case sp.argo != nil:
			a := sp.argo
			d.RepoURL, d.Path, d.Branch, d.Namespace = a.RepoURL, firstNonEmpty(a.Path, a.Chart), a.TargetRevision, a.DestNamespace
			d.TrackedBy = a.Name
		case sp.flux != nil:
			f := sp.flux
			d.RepoURL, d.Path, d.Branch, d.Namespace = f.RepoURL, firstNonEmpty(f.Path, f.Chart), f.Branch, f.DestNamespace()
		case sp.decl != nil:
			d = *sp.decl
			d.Clusters = []string{sp.cluster}
		}
		out.Declared = append(out.Declared, d)
	}
	return out
}
