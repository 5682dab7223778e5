package controlplane

import (
	"fmt"
	"syscall"
	"time"
)

// APIServerProcess names the kube-apiserver process of a cluster, for Kill and Restart.
func APIServerProcess(cluster string) string { return cluster + "-kube-apiserver" }

// EtcdProcess names the fleet's etcd process (shared by every cluster).
const EtcdProcess = "etcd"

// Process returns the fleet's process called name ("etcd", "<cluster>-kube-apiserver", …).
func (f *Fleet) Process(name string) (*Process, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range f.Processes {
		if p.Name == name {
			return p, true
		}
	}
	return nil, false
}

// Kill stops one process of the fleet with SIGKILL, as a crash would, and
// waits until it is gone. Fault tests use it; Restart brings it back.
func (f *Fleet) Kill(name string) error {
	p, ok := f.Process(name)
	if !ok {
		return fmt.Errorf("controlplane: no process %q in the fleet", name)
	}
	if !p.Alive() {
		return nil
	}
	signalProcess(p, syscall.SIGKILL)
	deadline := time.Now().Add(10 * time.Second)
	for p.Alive() {
		if time.Now().After(deadline) {
			return fmt.Errorf("controlplane: %s (pid %d) still running 10s after SIGKILL", p.Name, p.PID)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// Restart starts a killed process again with the same program and arguments
// (so the same port and data), replacing its record. It kills the process
// first if it still runs. It returns once the new process is started; callers
// wait for the component to answer the way they need.
func (f *Fleet) Restart(name string) (*Process, error) {
	old, ok := f.Process(name)
	if !ok {
		return nil, fmt.Errorf("controlplane: no process %q in the fleet", name)
	}
	if err := f.Kill(name); err != nil {
		return nil, err
	}
	f.forget(old)
	p, err := f.spawn(old.Name, old.Path, old.Args...)
	if err != nil {
		return nil, fmt.Errorf("controlplane: restart %s: %w", name, err)
	}
	return p, nil
}
