package cuda

import (
	"fmt"
	"math"
	"math/bits"
	"runtime"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// dtype is the element type of a buffer on the device. Kernels take each
// tensor as a pointer and its dtype (0, 1, 2 in kernelSource).
type dtype int32

const (
	f32  dtype = iota // float32
	f16               // IEEE half
	bf16              // bfloat16
)

// size is the element size in bytes.
func (t dtype) size() int {
	if t == f32 {
		return 4
	}
	return 2
}

func (t dtype) String() string { return [...]string{"fp32", "fp16", "bf16"}[t] }

// buffer is a Backend's device allocation of n values of type dt. Its
// memory goes back to the backend's pool when the buffer is garbage
// collected.
type buffer struct {
	ptr   uint64
	n     int
	dt    dtype
	owner *Backend
}

// Len returns the number of elements.
func (b *buffer) Len() int { return b.n }

// sizeClass rounds a request up to a pooled size: at least 512 bytes, then
// the next value with at most three significant bits (waste below 25%), so
// that buffers of nearby sizes are reused across steps.
func sizeClass(bytes int) int {
	if bytes <= 512 {
		return 512
	}
	shift := bits.Len(uint(bytes-1)) - 3
	return ((bytes-1)>>shift + 1) << shift
}

// pool recycles device allocations by size class. put may be called from
// the garbage collector's cleanup goroutine: it only touches the free lists.
type pool struct {
	mu   sync.Mutex
	free map[int][]uint64 // by size class in bytes
}

func (p *pool) get(class int) (uint64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.free[class]
	if len(l) == 0 {
		return 0, false
	}
	ptr := l[len(l)-1]
	p.free[class] = l[:len(l)-1]
	return ptr, true
}

func (p *pool) put(class int, ptr uint64) {
	p.mu.Lock()
	if p.free == nil {
		p.free = map[int][]uint64{}
	}
	p.free[class] = append(p.free[class], ptr)
	p.mu.Unlock()
}

// drain removes and returns every free allocation.
func (p *pool) drain() []uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []uint64
	for c, l := range p.free {
		out = append(out, l...)
		delete(p.free, c)
	}
	return out
}

// pooled is what a buffer's cleanup returns to its pool.
type pooled struct {
	p     *pool
	class int
	ptr   uint64
}

// allocBytes returns device memory of at least bytes bytes (not zeroed),
// from the pool when possible. On out-of-memory it collects garbage (buffers
// no longer referenced return to the pool from the cleanup goroutine), frees
// the pool and retries a few times before failing.
func (b *Backend) allocBytes(bytes int) (uint64, int) {
	class := sizeClass(bytes)
	if ptr, ok := b.pool.get(class); ok {
		return ptr, class
	}
	var ptr uint64
	r := b.drv.MemAlloc(&ptr, uint64(class))
	for try := 0; r != cudaSuccess && try < 5; try++ {
		runtime.GC()
		time.Sleep(time.Duration(try) * 5 * time.Millisecond) // let cleanups run
		b.drv.CtxSynchronize()
		for _, q := range b.pool.drain() {
			b.drv.MemFree(q)
		}
		r = b.drv.MemAlloc(&ptr, uint64(class))
	}
	must(b.drv.check(fmt.Sprintf("cuMemAlloc_v2 (%d bytes)", class), r))
	return ptr, class
}

// newBuffer allocates a pooled buffer of n floats, not zeroed.
func (b *Backend) newBuffer(n int) *buffer { return b.newTyped(n, f32) }

// newTyped allocates a pooled buffer of n values of type dt, not zeroed.
func (b *Backend) newTyped(n int, dt dtype) *buffer {
	ptr, class := b.allocBytes(max(n, 1) * dt.size())
	buf := &buffer{ptr: ptr, n: n, dt: dt, owner: b}
	runtime.AddCleanup(buf, func(p pooled) { p.p.put(p.class, p.ptr) }, pooled{&b.pool, class, ptr})
	return buf
}

// args builds a cuLaunchKernel parameter array: each value is stored in an
// 8-byte slot (4-byte values in the low half, little-endian) and the array
// holds a pointer to each slot. kind records what each slot holds, in the
// terms of the kernel's C parameter: 'p' a pointer, 'i' an int (including
// element types and flags), 'l' a long long, 'f' a float. The C parameter
// reads 4 or 8 bytes of the slot by its type; TestLaunchArgsMatchKernels
// checks every launch against the signatures of kernels.cu. Do not copy an
// args after adding values.
type args struct {
	v    [20]uint64
	p    [20]unsafe.Pointer
	kind [20]byte
	n    int
}

func (a *args) add(x uint64, kind byte) *args {
	a.v[a.n] = x
	a.p[a.n] = unsafe.Pointer(&a.v[a.n])
	a.kind[a.n] = kind
	a.n++
	return a
}
func (a *args) ptr(p uint64) *args  { return a.add(p, 'p') }
func (a *args) f32(x float32) *args { return a.add(uint64(math.Float32bits(x)), 'f') }
func (a *args) i32(x int) *args     { return a.add(uint64(uint32(int32(x))), 'i') }
func (a *args) i64(x int) *args     { return a.add(uint64(int64(x)), 'l') }
func (a *args) flag(x bool) *args   { return a.i32(boolInt(x)) }

// t adds a tensor argument: its address, then its element type.
func (a *args) t(p uint64, dt dtype) *args { return a.ptr(p).i32(int(dt)) }

// scalars formats the non-pointer arguments, for error messages.
func (a *args) scalars() string {
	var out []string
	for i := range a.n {
		switch a.kind[i] {
		case 'i':
			out = append(out, fmt.Sprint(int32(uint32(a.v[i]))))
		case 'l':
			out = append(out, fmt.Sprint(int64(a.v[i])))
		case 'f':
			out = append(out, fmt.Sprint(math.Float32frombits(uint32(a.v[i]))))
		}
	}
	return "(" + strings.Join(out, ", ") + ")"
}

func boolInt(x bool) int {
	if x {
		return 1
	}
	return 0
}

// launch runs kernel name with grid blocks of blockSize threads on the stream.
func (b *Backend) launch(name string, grid int, a *args) {
	f := b.kernels[name]
	g := uint32(max(min(grid, int(b.grid)), 1))
	if b.opts.SyncCheck {
		b.trace = append(b.trace, fmt.Sprintf("%s<<<%d>>>%s", name, g, a.scalars()))
	}
	r := b.drv.LaunchKernel(f, g, 1, 1, blockSize, 1, 1, 0, b.stream, unsafe.Pointer(&a.p[0]), 0)
	runtime.KeepAlive(a)
	if r != cudaSuccess {
		must(b.drv.check("cuLaunchKernel "+name, r))
	}
}

// blocksFor is the grid size covering n elements with one thread each.
func blocksFor(n int) int { return (n + blockSize - 1) / blockSize }

// staging copies host memory to the device through a ring of pinned
// (page-locked) host memory: the host bytes are copied into the ring during
// the call, and the asynchronous copy to the device reads the ring, so the
// caller's slice is only read during the call and the copy stays
// asynchronous. (A copy from pageable Go memory "might be synchronous" in
// CUDA's words: nothing guarantees it has read the slice when it returns.)
// Small arrays (labels, per-sample scales, chunk tables) also get a device
// ring slot: slot i of the host ring is copied to slot i of the device
// ring. The ring restarts after every stream synchronisation, and
// synchronises itself when full.
type staging struct {
	host   unsafe.Pointer
	dev    uint64
	size   int
	offset int
}

const stagingBytes = 1 << 20

// pin copies bytes bytes at p into the next slot of the pinned host ring
// and returns the slot's offset, allocating the ring on first use.
func (b *Backend) pin(p unsafe.Pointer, bytes int) int {
	s := &b.staging
	if s.host == nil {
		must(b.drv.check("cuMemHostAlloc", b.drv.MemHostAlloc(&s.host, stagingBytes, 0)))
		s.dev, _ = b.allocBytes(stagingBytes)
		s.size = stagingBytes
	}
	slot := (bytes + 255) &^ 255
	if slot > s.size {
		panic(Failure{errStagingTooBig})
	}
	if s.offset+slot > s.size {
		b.sync()
	}
	off := s.offset
	s.offset += slot
	copy(unsafe.Slice((*byte)(unsafe.Add(s.host, off)), bytes), unsafe.Slice((*byte)(p), bytes))
	return off
}

// stage copies src (bytes bytes at p) to device memory valid for the work
// queued after it, and returns the device address.
func (b *Backend) stage(p unsafe.Pointer, bytes int) uint64 {
	off := b.pin(p, bytes)
	s := &b.staging
	must(b.drv.check("cuMemcpyHtoDAsync_v2", b.drv.MemcpyHtoDAsync(s.dev+uint64(off), unsafe.Add(s.host, off), uint64(bytes), b.stream)))
	return s.dev + uint64(off)
}

// uploadPiece is the largest piece upload passes through the ring at once.
const uploadPiece = stagingBytes / 4

// upload copies bytes bytes at p to device address dst through the pinned
// ring, in pieces of at most uploadPiece bytes. p is read only during the
// call.
func (b *Backend) upload(dst uint64, p unsafe.Pointer, bytes int) {
	for done := 0; done < bytes; done += uploadPiece {
		n := min(uploadPiece, bytes-done)
		off := b.pin(unsafe.Add(p, done), n)
		must(b.drv.check("cuMemcpyHtoDAsync_v2", b.drv.MemcpyHtoDAsync(dst+uint64(done), unsafe.Add(b.staging.host, off), uint64(n), b.stream)))
	}
}

// sync waits for all queued work and recycles the staging ring.
func (b *Backend) sync() {
	must(b.drv.check("cuStreamSynchronize", b.drv.StreamSynchronize(b.stream)))
	b.staging.offset = 0
}
