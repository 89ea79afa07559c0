package cpu

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// workers is a persistent pool of goroutines that run the items of one
// parallel loop at a time. Which goroutine runs an item never affects the
// result: every item writes its own outputs, and the item split depends only
// on shapes (see chunks), so results do not depend on the thread count.
//
// A training step runs thousands of short parallel loops back to back, and
// waking a parked goroutine costs tens of microseconds. So a helper that
// finishes a loop spins for up to spinFor, watching the loop generation,
// before it parks; likewise the caller spins for the helpers to finish
// before it parks. Spinning yields the processor (runtime.Gosched) between
// short polls, and an idle pool parks every goroutine within spinFor.
type workers struct {
	threads int
	mu      sync.Mutex // one parallel loop at a time
	helpers []*helper  // goroutines 1..threads-1
	spin    bool       // spin before parking (more than one processor)

	gen     atomic.Uint64 // loop generation, bumped to start a loop
	closed  atomic.Bool
	fn      func(item, worker int)
	n       int64
	next    atomic.Int64 // next item to run
	pending atomic.Int32 // helpers still in the current loop

	// callerParked is the generation whose end the caller waits for on
	// done (0: none); a helper that ends that generation wakes it. A helper
	// still finishing an earlier generation cannot wake it by mistake.
	callerParked atomic.Uint64
	done         chan struct{}
}

// helper is the parking state of one helper goroutine.
type helper struct {
	parked atomic.Bool   // parked, or about to park, on wake
	wake   chan struct{} // a token per wake-up (capacity 1)
}

// spinFor bounds how long an idle goroutine polls before it parks.
const spinFor = 100 * time.Microsecond

// newWorkers starts a pool of threads goroutines (counting the caller's),
// spinning when the process has more than one processor.
func newWorkers(threads int) *workers {
	return startWorkers(threads, runtime.GOMAXPROCS(0) > 1)
}

func startWorkers(threads int, spin bool) *workers {
	w := &workers{threads: threads, spin: spin, done: make(chan struct{}, 1)}
	for i := 1; i < threads; i++ {
		h := &helper{wake: make(chan struct{}, 1)}
		w.helpers = append(w.helpers, h)
		go w.serve(i, h)
	}
	return w
}

// serve is the loop of helper goroutine id.
func (w *workers) serve(id int, h *helper) {
	var seen uint64 // the generation before the first loop
	for {
		g := w.awaitGen(seen, h)
		if w.closed.Load() {
			return
		}
		seen = g
		w.work(id)
		if w.pending.Add(-1) == 0 && w.callerParked.CompareAndSwap(g, 0) {
			w.done <- struct{}{}
		}
	}
}

// awaitGen returns the generation once it differs from seen, spinning first
// and then parking on h.wake.
func (w *workers) awaitGen(seen uint64, h *helper) uint64 {
	if w.spin && spinUntil(func() bool { return w.gen.Load() != seen }) {
		return w.gen.Load()
	}
	for {
		h.parked.Store(true)
		if g := w.gen.Load(); g != seen {
			if !h.parked.CompareAndSwap(true, false) {
				<-h.wake // the starter saw us parked and sent a token: take it
			}
			return g
		}
		<-h.wake
		if g := w.gen.Load(); g != seen {
			return g
		}
	}
}

// spinUntil polls cond, yielding the processor between short bursts, for up
// to spinFor; it reports whether cond became true.
func spinUntil(cond func() bool) bool {
	var start time.Time
	for i := 0; ; i++ {
		for range 32 {
			if cond() {
				return true
			}
		}
		if i&15 == 15 {
			if start.IsZero() {
				start = time.Now()
			} else if time.Since(start) > spinFor {
				return false
			}
		}
		runtime.Gosched()
	}
}

// close stops the goroutines; the pool must not be used afterwards.
func (w *workers) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed.Store(true)
	w.gen.Add(1)
	for _, h := range w.helpers {
		if h.parked.CompareAndSwap(true, false) {
			h.wake <- struct{}{}
		}
	}
	w.helpers = nil
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
	w.pending.Store(int32(len(w.helpers)))
	gen := w.gen.Add(1)
	for _, h := range w.helpers {
		if h.parked.CompareAndSwap(true, false) {
			h.wake <- struct{}{}
		}
	}
	w.work(0)
	if w.pending.Load() != 0 && !(w.spin && spinUntil(func() bool { return w.pending.Load() == 0 })) {
		w.callerParked.Store(gen)
		if w.pending.Load() == 0 {
			if !w.callerParked.CompareAndSwap(gen, 0) {
				<-w.done // the last helper saw us parked and sent a token
			}
		} else {
			<-w.done
		}
	}
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
