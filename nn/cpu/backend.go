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
//
// Deferred outputs (deferred.go): the outputs of BatchNormTrain, ReLU,
// Concat and depthwise Conv2DForward are not computed when the op runs.
// The output buffer records how to compute them instead (relu?(x·scale +
// shift) per channel over x or a channel concatenation, then optionally a
// depthwise convolution), and gives its storage back to the backend. Every
// kernel that reads a buffer resolves it: convolutions (forward and filter
// gradient), sums (Copy, Scale, Axpy), drop path (ScaleSamples) and the
// ReLU gradient read a deferred input through its recipe, recomputing it
// plane by plane in cache with the arithmetic that would have stored it;
// any other reader, and Data and Download, first computes it into the
// buffer (it then stays stored). Writing a buffer as an output discards
// what it recorded. The results are bit for bit those of computing every
// output at once (SetEager), and in a DARTS separable convolution only the
// two depthwise inputs' sources and the two pointwise outputs take memory,
// against nine tensors computed at once.
//
// A deferred buffer refers to its inputs' buffers (and the depthwise
// weights): per nn.Backend's contract, the caller does not write them while
// the deferred buffer may still be read. Storage given back (by deferred
// outputs, and by Recycle for buffers whose values are dead) serves the
// next buffer that needs some, so the memory in use follows the values
// stored, not the buffers.
package cpu

import (
	"fmt"
	"runtime"

	"pertnas/nn"
)

// Buf is the CPU backend's buffer: host storage, or the recipe of a
// deferred output (see deferred.go).
type Buf struct {
	n        int
	data     []float32 // the values; nil while deferred
	deferred bool      // the values are those of rec, not computed yet
	rec      recipe    // meaningful while deferred
}

// Len returns the number of elements.
func (b *Buf) Len() int { return b.n }

// Backend is the CPU backend.
type Backend struct {
	threads int
	eager   bool // compute every output at once (SetEager)
	pool    *workers
	scratch [][]float32 // per worker
	values  [][]float32 // per worker: values of a deferred input (see deferred.go)
	partial []float32   // per-item partial sums, reduced in item order
	parts   [][]float32 // Concat's parts (their recipe keeps a copy)
	// spare holds storage given back by deferred outputs, by length, for
	// the next buffer that needs storage.
	spare map[int][][]float32
}

var _ nn.Backend = (*Backend)(nil)
var _ nn.HostBuffer = (*Backend)(nil)
var _ nn.Recycler = (*Backend)(nil)

// New returns a CPU backend running on threads goroutines (threads <= 0:
// GOMAXPROCS).
func New(threads int) *Backend {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	be := &Backend{threads: threads, pool: newWorkers(threads), scratch: make([][]float32, threads), values: make([][]float32, threads), spare: map[int][][]float32{}}
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

// SetEager makes the backend compute every output when its op runs
// instead of deferring some (see the package doc): more memory, the same
// bits. It applies to the ops run after the call.
func (be *Backend) SetEager(eager bool) { be.eager = eager }

// Alloc returns a zeroed buffer of n elements (with spare storage when
// there is some).
func (be *Backend) Alloc(n int) nn.Buffer {
	if len(be.spare[n]) == 0 {
		return &Buf{n: n, data: make([]float32, n)}
	}
	d := be.storage(n)
	clear(d)
	return &Buf{n: n, data: d}
}

// Data returns the buffer's storage, computing a deferred buffer first.
func (be *Backend) Data(b nn.Buffer) []float32 { return be.in(b) }

// in returns the values of a buffer an op reads (nil for nil), computing a
// deferred one into its storage first (a recycled one gets storage with
// unspecified values).
func (be *Backend) in(b nn.Buffer) []float32 {
	if b == nil {
		return nil
	}
	bb := b.(*Buf)
	switch {
	case bb.deferred:
		be.materialize(bb)
	case bb.data == nil:
		bb.data = be.storage(bb.n)
	}
	return bb.data
}

// out returns the storage of a buffer an op overwrites entirely: whatever
// it recorded is discarded.
func (be *Backend) out(b nn.Buffer) []float32 {
	if b == nil {
		return nil
	}
	bb := b.(*Buf)
	bb.deferred = false
	if bb.data == nil {
		bb.data = be.storage(bb.n)
	}
	return bb.data
}

// dst is in for an op that adds to b (accumulate) and out for one that
// overwrites it.
func (be *Backend) dst(b nn.Buffer, accumulate bool) []float32 {
	if accumulate {
		return be.in(b)
	}
	return be.out(b)
}

// Recycle gives b's storage back for other buffers (nn.Recycler): b's
// values, stored or deferred, are dead until it is next written.
func (be *Backend) Recycle(b nn.Buffer) {
	bb := b.(*Buf)
	bb.deferred = false
	be.giveBack(bb)
}

// giveBack moves b's storage, if any, to the spare storage.
func (be *Backend) giveBack(b *Buf) {
	if b.data != nil {
		be.spare[b.n] = append(be.spare[b.n], b.data)
		b.data = nil
	}
}

// storage returns n elements of storage with unspecified contents.
func (be *Backend) storage(n int) []float32 {
	if l := be.spare[n]; len(l) > 0 {
		be.spare[n] = l[:len(l)-1]
		return l[len(l)-1]
	}
	return make([]float32, n)
}

// Upload copies src into dst (equal lengths).
func (be *Backend) Upload(dst nn.Buffer, src []float32) {
	d := be.out(dst)
	if len(d) != len(src) {
		panic(fmt.Sprintf("cpu: Upload of %d values into %d", len(src), len(d)))
	}
	copy(d, src)
}

// Download copies src into dst (equal lengths).
func (be *Backend) Download(dst []float32, src nn.Buffer) {
	s := be.in(src)
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
