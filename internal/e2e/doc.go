// Package e2e drives the fleetdeck binary in a real terminal (tmux) against the sandbox fleet:
// what a user sees and types, from the first screen to quitting. It holds tests only.
package e2e
