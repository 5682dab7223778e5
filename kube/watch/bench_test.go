package watch

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
)

// realisticPod is a pod as a real cluster returns it: managed fields, a last-applied
// annotation, env, probes, mounts, tolerations.
func realisticPod(i int) *corev1.Pod {
	p := fatPod(fmt.Sprintf("web-%05d", i))
	p.Namespace = fmt.Sprintf("ns-%02d", i%20)
	p.UID = "u"
	return p
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// syncPods runs a Cluster over a fake clientset holding n pods and returns the time to a
// complete cache and the heap the cache holds (heap after sync minus heap before Run, with
// the fake's own copies of the pods counted in both).
func syncPods(tb testing.TB, n int) (time.Duration, uint64) {
	tb.Helper()
	objs := make([]k8sruntime.Object, n)
	for i := range objs {
		objs[i] = realisticPod(i)
	}
	_, clients := fakeCluster(tb, objs, nil)
	c := NewForClients("bench", clients, Options{})
	before := heapInUse()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	start := time.Now()
	go func() { defer close(done); c.Run(ctx) }()
	wctx, wcancel := context.WithTimeout(ctx, time.Minute)
	st := c.WaitSettled(wctx)
	wcancel()
	took := time.Since(start)
	if !st.Complete() {
		tb.Fatalf("not complete: %+v", st)
	}
	after := heapInUse()
	if got := len(c.Snapshot().Pods); got != n {
		tb.Fatalf("cached %d pods, want %d", got, n)
	}
	cancel()
	<-done
	runtime.KeepAlive(objs)
	if after < before {
		return took, 0
	}
	return took, after - before
}

// TestCachedPodIsSmall bounds the memory a cached pod costs: a trimmed pod must stay a
// fraction of the decoded one (about 3.7 KB measured), or 3 clusters × 2000 pods would not fit the 150 MB budget
// with room to spare.
func TestCachedPodIsSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("measures heap; skipped with -short")
	}
	const n = 2000
	_, held := syncPods(t, n)
	perPod := held / n
	t.Logf("cache holds %d KiB for %d pods: %d B per pod", held>>10, n, perPod)
	if perPod > 4500 {
		t.Errorf("a cached pod costs %d B, want at most 4500 B", perPod)
	}
}

// BenchmarkSyncPods measures the time from Run to a complete cache of 2000 pods and the
// heap the cache holds after sync (fake clientset: decoding is not included).
func BenchmarkSyncPods(b *testing.B) {
	var total time.Duration
	var held uint64
	for b.Loop() {
		d, h := syncPods(b, 2000)
		total += d
		held = h
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms-to-synced")
	b.ReportMetric(float64(held)/2000, "cache-B/pod")
}
