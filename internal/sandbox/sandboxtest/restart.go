package sandboxtest

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fleetdeck/fleetdeck/internal/sandbox"
	"github.com/fleetdeck/fleetdeck/internal/sandbox/controlplane"
)

// RestartAPIServer starts the killed API server of cluster again (same program, port and
// data, see controlplane.Fleet.Restart) and waits, up to 60 s, until it answers a list. It
// reports failures with t.Errorf rather than stopping the test, so it can run in a deferred
// function or a t.Cleanup that restores the fleet for the tests that follow.
func RestartAPIServer(t testing.TB, f *sandbox.Fleet, cluster string) {
	t.Helper()
	if _, err := f.CP.Restart(controlplane.APIServerProcess(cluster)); err != nil {
		t.Errorf("restart the apiserver of %s: %v", cluster, err)
		return
	}
	cs, err := f.Clientset(cluster)
	if err != nil {
		t.Error(err)
		return
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{Limit: 1})
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("the restarted apiserver of %s does not answer: %v", cluster, err)
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}
