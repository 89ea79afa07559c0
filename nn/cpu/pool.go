package cpu

import (
	"sync"
	"sync/atomic"
)

// workers is a persistent pool of goroutines that run the items of one
// parallel loop at a time. Which goroutine runs an item never affects the
// result: every item writes its own outputs, and the item split depends only
// on shapes (see chunks), so results do not depend on the thread count.
type workers struct {
	threads int
	mu      sync.Mutex // one parallel loop at a time
	wake    []chan struct{}
	done    sync.WaitGroup

	fn   func(item, worker int)
	n    int64
	next atomic.Int64
}

func newWorkers(threads int) *workers {
	w := &workers{threads: threads}
	for i := 1; i < threads; i++ {
		ch := make(chan struct{}, 1)
		w.wake = append(w.wake, ch)
		go func(id int) {
			for range ch {
				w.work(id)
				w.done.Done()
			}
		}(i)
	}
	return w
}

// close stops the goroutines; the pool must not be used afterwards.
func (w *workers) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, ch := range w.wake {
		close(ch)
	}
	w.wake = nil
	w.threads = 1
}

func (w *workers) work(id int) {
	for {
		i := w.next.Add(1) - 1
		if i >= w.n {
			return
		}
		w.fn(int(i), id)
	}
}

// run calls fn(item, worker) for every item in [0, n); worker is in
// [0, threads) and identifies per-worker scratch. It returns when all are done.
func (w *workers) run(n int, fn func(item, worker int)) {
	if n <= 0 {
		return
	}
	if w.threads <= 1 || n == 1 {
		for i := 0; i < n; i++ {
			fn(i, 0)
		}
		return
	}
	w.mu.Lock()
	w.fn, w.n = fn, int64(n)
	w.next.Store(0)
	k := min(len(w.wake), n-1)
	w.done.Add(k)
	for i := 0; i < k; i++ {
		w.wake[i] <- struct{}{}
	}
	w.work(0)
	w.done.Wait()
	w.fn = nil
	w.mu.Unlock()
}

// chunks splits total units into pieces of about per units each (at least
// one unit per piece); the split depends only on its arguments.
func chunks(total, per int) int {
	if per < 1 {
		per = 1
	}
	return (total + per - 1) / per
}

// span returns the bounds of chunk i of n over total units.
func span(i, n, total int) (lo, hi int) {
	return i * total / n, (i + 1) * total / n
}
