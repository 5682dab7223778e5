package faults

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// Usage is what a process holds at one moment: goroutines, live heap and resident memory.
type Usage struct {
	Goroutines int
	// Heap is the live heap after a collection, in bytes.
	Heap uint64
	// RSS is the resident set size, in bytes (0 where /proc is not available).
	RSS uint64
}

func (u Usage) String() string {
	return fmt.Sprintf("%d goroutines, heap %.1f MiB, RSS %.1f MiB", u.Goroutines, mib(u.Heap), mib(u.RSS))
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// Measure collects garbage, returns freed memory to the system and reads the usage, waiting up
// to settle for the goroutine count to drop to at most want (goroutines that were told to end
// take a moment to do so); want < 0 does not wait.
func Measure(want int, settle time.Duration) Usage {
	deadline := time.Now().Add(settle)
	for want >= 0 && runtime.NumGoroutine() > want && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return Usage{Goroutines: runtime.NumGoroutine(), Heap: ms.HeapAlloc, RSS: rss()}
}

// rss reads VmRSS from /proc/self/status.
func rss() uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range bytes.Split(data, []byte("\n")) {
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		fields := bytes.Fields(rest)
		if len(fields) == 0 {
			return 0
		}
		kib, err := strconv.ParseUint(string(fields[0]), 10, 64)
		if err != nil {
			return 0
		}
		return kib << 10
	}
	return 0
}

// Tolerance is how much usage may grow between two measurements and still count as flat.
type Tolerance struct {
	Goroutines int
	Heap, RSS  uint64 // bytes
}

// Flat reports, as an error naming every measure over its tolerance, whether after grew from
// before by more than tol allows; nil when usage stayed flat.
func Flat(before, after Usage, tol Tolerance) error {
	var over []string
	if after.Goroutines > before.Goroutines+tol.Goroutines {
		over = append(over, fmt.Sprintf("goroutines %d → %d (tolerance +%d)", before.Goroutines, after.Goroutines, tol.Goroutines))
	}
	if after.Heap > before.Heap+tol.Heap {
		over = append(over, fmt.Sprintf("heap %.1f → %.1f MiB (tolerance +%.1f)", mib(before.Heap), mib(after.Heap), mib(tol.Heap)))
	}
	if before.RSS > 0 && after.RSS > before.RSS+tol.RSS {
		over = append(over, fmt.Sprintf("RSS %.1f → %.1f MiB (tolerance +%.1f)", mib(before.RSS), mib(after.RSS), mib(tol.RSS)))
	}
	if len(over) == 0 {
		return nil
	}
	return fmt.Errorf("usage grew: %s", strings.Join(over, "; "))
}
