// Package logs follows container logs across the fleet, the way stern does on one cluster: a
// target set says which containers to follow, one follower streams each container, and every
// follower's lines arrive on one channel, in order of arrival, as sanitised Entries.
//
// The target set comes from the fleet model (Tracker turns an application, its instances and
// their pods into Sources) and may change while following: new pods are picked up, pods that
// go away end cleanly. Followers resume after a dropped stream from the last line seen
// (sinceTime, then de-duplication at the seam), back off on errors, and report a cluster that
// is unreachable or forbids pods/log once, without ever holding up the other clusters.
//
// Every line is sanitised before it leaves the package: escape sequences and control
// characters written by a pod never reach a terminal or a file, and a line longer than
// Options.MaxLineBytes is cut with a visible marker, so memory stays bounded per container.
package logs
