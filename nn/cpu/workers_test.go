package cpu

import (
	"sync/atomic"
	"testing"
	"time"
)

// checkRun runs n items on w and fails unless each ran exactly once, on a
// worker id in range.
func checkRun(t *testing.T, w *workers, threads, n int) {
	t.Helper()
	counts := make([]atomic.Int32, n)
	var badWorker atomic.Bool
	w.run(n, func(item, worker int) {
		counts[item].Add(1)
		if worker < 0 || worker >= threads {
			badWorker.Store(true)
		}
	})
	for i := range counts {
		if c := counts[i].Load(); c != 1 {
			t.Fatalf("threads %d, n %d: item %d ran %d times", threads, n, i, c)
		}
	}
	if badWorker.Load() {
		t.Fatalf("threads %d, n %d: worker id out of range", threads, n)
	}
}

// TestWorkersRunEachItemOnce: fresh pools (whose helpers may start after the
// first loop), loops of fewer items than threads, spinning and parking
// helpers, and a closed pool all run every item exactly once.
func TestWorkersRunEachItemOnce(t *testing.T) {
	for _, spin := range []bool{true, false} {
		for threads := 1; threads <= 4; threads++ {
			for range 20 {
				w := startWorkers(threads, spin)
				for n := range 12 {
					checkRun(t, w, threads, n)
				}
				checkRun(t, w, threads, 1000)
				w.close()
				checkRun(t, w, 1, 7)
			}
		}
	}
}

// TestWorkersBackToBack: many short loops in a row on one pool, where a
// helper still finishing one loop must not be taken for the end of the next
// (every loop's items must all have run, once, when run returns).
func TestWorkersBackToBack(t *testing.T) {
	for _, spin := range []bool{true, false} {
		for threads := 2; threads <= 3; threads++ {
			w := startWorkers(threads, spin)
			for i := range 3000 {
				checkRun(t, w, threads, 2+i%3)
			}
			w.close()
		}
	}
}

// TestWorkersParkWhenIdle: an idle pool parks all its helpers (it does not
// spin forever), and a loop after that wakes them.
func TestWorkersParkWhenIdle(t *testing.T) {
	w := startWorkers(3, true)
	defer w.close()
	checkRun(t, w, 3, 100)
	deadline := time.Now().Add(10 * time.Second)
	for {
		parked := 0
		for _, h := range w.helpers {
			if h.parked.Load() {
				parked++
			}
		}
		if parked == len(w.helpers) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d helpers parked 10 s after the last loop", parked, len(w.helpers))
		}
		time.Sleep(time.Millisecond)
	}
	// The loop waits for every helper, so it hangs unless all wake up.
	checkRun(t, w, 3, 50)
}
