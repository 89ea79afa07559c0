// Package cpu is the CPU implementation of nn.Backend: buffers are host
// float32 slices, parallelism comes from a persistent pool of worker
// goroutines, and the inner loops are the kernels of package kern (AVX2/FMA
// assembly on amd64, pure Go elsewhere).
//
// Determinism: every parallel loop splits its work into items chosen from
// the shapes alone, each item writes outputs no other item writes, and sums
// over items (weight gradients, batch statistics, norms) are reduced in item
// order. Results are therefore bit-identical for any thread count and
// GOMAXPROCS.
//
// A Backend runs one kernel at a time: use it from one goroutine (give
// concurrent trainers their own Backend).
package cpu

import (
	"fmt"
	"runtime"

	"pertnas/nn"
)

// Buf is the CPU backend's buffer: a host slice.
type Buf struct{ Data []float32 }

// Len returns the number of elements.
func (b *Buf) Len() int { return len(b.Data) }

// Backend is the CPU backend.
type Backend struct {
	threads int
	pool    *workers
	scratch [][]float32 // per worker
	values  [][]float32 // per worker: values of a virtual input (see fused.go)
	partial []float32   // per-item partial sums, reduced in item order
}

var _ nn.Backend = (*Backend)(nil)
var _ nn.HostBuffer = (*Backend)(nil)
var _ nn.FusedInput = (*Backend)(nil)

// New returns a CPU backend running on threads goroutines (threads <= 0:
// GOMAXPROCS).
func New(threads int) *Backend {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	be := &Backend{threads: threads, pool: newWorkers(threads), scratch: make([][]float32, threads), values: make([][]float32, threads)}
	// The worker goroutines reference only the pool, so an unreachable
	// Backend is collected and its goroutines stopped.
	runtime.AddCleanup(be, func(w *workers) { w.close() }, be.pool)
	return be
}

// Threads returns the number of worker goroutines.
func (be *Backend) Threads() int { return be.threads }

// Close stops the worker goroutines now (otherwise they stop when the
// Backend is garbage collected); the backend then runs single-threaded.
func (be *Backend) Close() { be.pool.close() }

// Name returns "cpu".
func (be *Backend) Name() string { return "cpu" }

// Alloc returns a zeroed buffer of n elements.
func (be *Backend) Alloc(n int) nn.Buffer { return &Buf{Data: make([]float32, n)} }

// Data returns the buffer's storage.
func (be *Backend) Data(b nn.Buffer) []float32 { return b.(*Buf).Data }

func data(b nn.Buffer) []float32 {
	if b == nil {
		return nil
	}
	return b.(*Buf).Data
}

// Upload copies src into dst (equal lengths).
func (be *Backend) Upload(dst nn.Buffer, src []float32) {
	d := data(dst)
	if len(d) != len(src) {
		panic(fmt.Sprintf("cpu: Upload of %d values into %d", len(src), len(d)))
	}
	copy(d, src)
}

// Download copies src into dst (equal lengths).
func (be *Backend) Download(dst []float32, src nn.Buffer) {
	s := data(src)
	if len(dst) != len(s) {
		panic(fmt.Sprintf("cpu: Download of %d values into %d", len(s), len(dst)))
	}
	copy(dst, s)
}

// scratchFor returns worker w's scratch of at least n elements.
func (be *Backend) scratchFor(w, n int) []float32 {
	if cap(be.scratch[w]) < n {
		be.scratch[w] = make([]float32, n)
	}
	return be.scratch[w][:n]
}

// partials returns a zeroed buffer of n elements for per-item partial results.
func (be *Backend) partials(n int) []float32 {
	if cap(be.partial) < n {
		be.partial = make([]float32, n)
	}
	p := be.partial[:n]
	clear(p)
	return p
}
