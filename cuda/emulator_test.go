package cuda

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/ebitengine/purego"
	"golang.org/x/sys/cpu"
)

// The emulator runs the backend's own kernels on the CPU, so that the kernel
// code and the Go side that launches it (argument order, grid, offsets) are
// tested on machines without a GPU. kernelSource is compiled by the host C++
// compiler as a shared library with BLOCK = 1 and a grid of one thread: every
// grid-stride loop then visits all elements in order and every block
// reduction is a plain sum, so each kernel computes its full result.
// A launch_<name>(void **params) wrapper per kernel unpacks cuLaunchKernel's
// parameter array. The driver functions the backend calls are replaced by Go
// functions over host memory, and cublasSgemm_v2 by a column-major reference
// GEMM (which checks MatMul's row-major to column-major mapping). cuDNN is
// faked in convbn_test.go: it records the calls, and can delegate the
// computation to the CPU backend (TestEmulatedTrainingStep). Only the real
// libraries' numerics are left to the GPU parity tests.

const emuPrelude = `
#include <cmath>
#include <cstring>
#define BLOCK 1
#define __global__
#define __device__
#define __shared__ static
struct dim3 { unsigned x, y, z; };
static const dim3 blockIdx = {0, 0, 0}, threadIdx = {0, 0, 0}, blockDim = {1, 1, 1}, gridDim = {1, 1, 1};
static inline void __syncthreads() {}
static inline float __int_as_float(int i) { float f; memcpy(&f, &i, 4); return f; }
static inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
#define HOST_EMULATION
static inline int __float_as_int(float f) { int i; memcpy(&i, &f, 4); return i; }
static inline float h2f(unsigned short h) { _Float16 v; memcpy(&v, &h, 2); return (float)v; }
static inline unsigned short f2h(float f) { _Float16 v = (_Float16)f; unsigned short h; memcpy(&h, &v, 2); return h; }
#define __forceinline__ inline
`

// launchWrappers generates launch_<name>(void **p) for every kernel.
func launchWrappers(t *testing.T) string {
	re := regexp.MustCompile(`extern "C" __global__ void (\w+)\(([^)]*)\)`)
	ident := regexp.MustCompile(`\w+$`)
	var b strings.Builder
	for _, m := range re.FindAllStringSubmatch(kernelSource, -1) {
		var call []string
		for i, p := range strings.Split(m[2], ",") {
			p = strings.TrimSpace(p)
			typ := strings.TrimSpace(ident.ReplaceAllString(p, ""))
			if typ == "" {
				t.Fatalf("kernel %s: cannot parse parameter %q", m[1], p)
			}
			call = append(call, fmt.Sprintf("*(%s *)p[%d]", typ, i))
		}
		fmt.Fprintf(&b, "extern \"C\" void launch_%s(void **p) { %s(%s); }\n", m[1], m[1], strings.Join(call, ", "))
	}
	return b.String()
}

var (
	emuOnce   sync.Once
	emuHandle uintptr
	emuErr    string
)

// emuLibrary compiles the kernels for the host once per test binary.
func emuLibrary(t *testing.T) uintptr {
	t.Helper()
	emuOnce.Do(func() {
		cxx, err := exec.LookPath("g++")
		if err != nil {
			if cxx, err = exec.LookPath("clang++"); err != nil {
				emuErr = "no g++ or clang++ to compile the kernels for the host"
				return
			}
		}
		dir, err := os.MkdirTemp("", "cuda-emu")
		if err != nil {
			emuErr = err.Error()
			return
		}
		so := filepath.Join(dir, "kernels.so")
		flags := []string{"-O1", "-shared", "-fPIC", "-o", so, "-x", "c++", "-"}
		if cpu.X86.HasAVX2 {
			// Every AVX2 processor has F16C: fp16 conversions in hardware
			// instead of libgcc's software ones (same rounding, ~10x faster).
			flags = append([]string{"-mf16c"}, flags...)
		}
		cmd := exec.Command(cxx, flags...)
		cmd.Stdin = strings.NewReader(emuPrelude + kernelSource + launchWrappers(t))
		if out, err := cmd.CombinedOutput(); err != nil {
			emuErr = fmt.Sprintf("FAIL: compiling the kernels with %s: %v\n%s", cxx, err, out)
			return
		}
		if emuHandle, err = purego.Dlopen(so, purego.RTLD_NOW|purego.RTLD_LOCAL); err != nil {
			emuErr = "FAIL: " + err.Error()
		}
	})
	if strings.HasPrefix(emuErr, "FAIL") {
		t.Fatal(emuErr)
	}
	if emuErr != "" {
		t.Skip(emuErr)
	}
	return emuHandle
}

// emuMemory is the emulated device memory: Go byte slices addressed by the
// numeric address of their first byte (bases: the addresses, sorted).
type emuMemory struct {
	allocs   map[uint64][]byte
	bases    []uint64
	host     [][]byte           // pinned host allocations, kept alive
	eventMs  float32            // what cuEventElapsedTime reports
	launches int                // kernel launches, including those without a kernel
	syncs    int                // stream synchronisations
	kernelOf map[uintptr]string // emulated kernel entry points by address
	// deferHtoD queues host-to-device copies until the next stream
	// operation, as a real copy engine may: a copy that reads Go memory
	// after the call returned then sees what the caller wrote since.
	deferHtoD bool
	pending   []func()
}

// flush performs the queued host-to-device copies.
func (m *emuMemory) flush() {
	for _, c := range m.pending {
		c()
	}
	m.pending = nil
}

func (m *emuMemory) alloc(n uint64) uint64 {
	b := make([]byte, n)
	addr := uint64(uintptr(unsafe.Pointer(&b[0])))
	m.allocs[addr] = b
	i, _ := slices.BinarySearch(m.bases, addr)
	m.bases = slices.Insert(m.bases, i, addr)
	return addr
}

func (m *emuMemory) free(addr uint64) {
	delete(m.allocs, addr)
	if i, ok := slices.BinarySearch(m.bases, addr); ok {
		m.bases = slices.Delete(m.bases, i, i+1)
	}
}

// at returns the n bytes at addr, which must lie inside one allocation.
func (m *emuMemory) at(addr, n uint64) []byte {
	i, ok := slices.BinarySearch(m.bases, addr)
	if !ok {
		i-- // the allocation starting below addr
	}
	if i >= 0 {
		base := m.bases[i]
		if b := m.allocs[base]; addr+n <= base+uint64(len(b)) {
			return b[addr-base : addr-base+n]
		}
	}
	panic(fmt.Sprintf("emulated device: access of %d bytes at %#x outside every allocation", n, addr))
}

func (m *emuMemory) f32(addr uint64, i int) float32 {
	return math.Float32frombits(binary.LittleEndian.Uint32(m.at(addr+uint64(4*i), 4)))
}

func (m *emuMemory) setF32(addr uint64, i int, v float32) {
	binary.LittleEndian.PutUint32(m.at(addr+uint64(4*i), 4), math.Float32bits(v))
}

// read returns n elements of type dt at addr, widened to float32.
func (m *emuMemory) read(addr uint64, n int, dt dtype) []float32 {
	b := m.at(addr, uint64(n*dt.size()))
	h := make([]float32, n)
	for i := range h {
		switch dt {
		case f16:
			h[i] = f16Value(binary.LittleEndian.Uint16(b[2*i:]))
		case bf16:
			h[i] = bf16Value(binary.LittleEndian.Uint16(b[2*i:]))
		default:
			h[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	}
	return h
}

// write stores h as elements of type dt at addr, rounded to nearest even.
func (m *emuMemory) write(addr uint64, h []float32, dt dtype) {
	b := m.at(addr, uint64(len(h)*dt.size()))
	for i, v := range h {
		switch dt {
		case f16:
			binary.LittleEndian.PutUint16(b[2*i:], f16Bits(v))
		case bf16:
			binary.LittleEndian.PutUint16(b[2*i:], bf16Bits(v))
		default:
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
	}
}

// emuBackend returns a Backend whose driver and cuBLAS are emulated and
// whose kernels are kernelSource compiled for the host.
func emuBackend(t *testing.T) *Backend {
	b, _ := emuBackendMem(t)
	return b
}

// emuBackendMem is emuBackend also returning the emulated device memory.
func emuBackendMem(t *testing.T) (*Backend, *emuMemory) {
	t.Helper()
	h := emuLibrary(t)
	l, mem := emuLibraries(t)
	dv := &device{l: l, drv: &l.drv, kernels: map[string]uintptr{}, grid: 4, info: DeviceInfo{Name: "host emulation"}}
	for _, name := range kernelNames {
		f, err := purego.Dlsym(h, "launch_"+name)
		if err != nil {
			t.Fatalf("emulated kernel %s: %v", name, err)
		}
		dv.kernels[name] = f
		mem.kernelOf[f] = name
	}
	return newBackend(dv, Options{}), mem
}

// emuLibraries returns bindings whose driver and cuBLAS functions are
// emulated over host memory (no kernels, no cuDNN).
func emuLibraries(t *testing.T) (*Libraries, *emuMemory) {
	mem := &emuMemory{allocs: map[uint64][]byte{}, kernelOf: map[uintptr]string{}}
	l := &Libraries{}
	d := &l.drv
	d.CtxSetCurrent = func(uintptr) int32 { return 0 }
	d.CtxSynchronize = func() int32 { return 0 }
	d.StreamSynchronize = func(uintptr) int32 { mem.flush(); mem.syncs++; return 0 }
	d.MemAlloc = func(p *uint64, n uint64) int32 { *p = mem.alloc(n); return 0 }
	d.MemFree = func(p uint64) int32 { mem.free(p); return 0 }
	d.MemHostAlloc = func(p *unsafe.Pointer, n uint64, _ uint32) int32 {
		b := make([]byte, n)
		mem.host = append(mem.host, b)
		*p = unsafe.Pointer(&b[0])
		return 0
	}
	d.MemFreeHost = func(unsafe.Pointer) int32 { return 0 }
	d.MemsetD32Async = func(dst uint64, v uint32, n uint64, _ uintptr) int32 {
		mem.flush()
		b := mem.at(dst, 4*n)
		for i := uint64(0); i < n; i++ {
			binary.LittleEndian.PutUint32(b[4*i:], v)
		}
		return 0
	}
	d.MemcpyHtoDAsync = func(dst uint64, src unsafe.Pointer, n uint64, _ uintptr) int32 {
		to, from := mem.at(dst, n), unsafe.Slice((*byte)(src), n)
		if mem.deferHtoD {
			mem.pending = append(mem.pending, func() { copy(to, from) })
			return 0
		}
		mem.flush()
		copy(to, from)
		return 0
	}
	d.MemcpyDtoHAsync = func(dst unsafe.Pointer, src uint64, n uint64, _ uintptr) int32 {
		mem.flush()
		copy(unsafe.Slice((*byte)(dst), n), mem.at(src, n))
		return 0
	}
	d.MemcpyDtoDAsync = func(dst, src uint64, n uint64, _ uintptr) int32 {
		mem.flush()
		copy(mem.at(dst, n), mem.at(src, n))
		return 0
	}
	d.LaunchKernel = func(f uintptr, gx, gy, gz, bx, by, bz, shared uint32, s uintptr, params unsafe.Pointer, extra uintptr) int32 {
		if gx == 0 || gy != 1 || gz != 1 || bx != blockSize || by != 1 || bz != 1 || shared != 0 || extra != 0 {
			t.Errorf("launch geometry grid (%d,%d,%d) block (%d,%d,%d) shared %d extra %d", gx, gy, gz, bx, by, bz, shared, extra)
		}
		mem.flush()
		mem.launches++
		if name, ok := mem.kernelOf[f]; ok {
			checkLaunchArgs(t, name, params)
		}
		if f != 0 { // 0: a backend without kernels (the cuDNN glue tests)
			purego.SyscallN(f, uintptr(params))
		}
		return 0
	}
	var events uintptr
	d.EventCreate = func(e *uintptr, _ uint32) int32 { events++; *e = events; return 0 }
	d.EventRecord = func(_, _ uintptr) int32 { return 0 }
	d.EventSynchronize = func(uintptr) int32 { return 0 }
	d.EventElapsedTime = func(ms *float32, _, _ uintptr) int32 { *ms = mem.eventMs; return 0 }
	d.EventDestroy = func(uintptr) int32 { return 0 }
	l.blas.Sgemm = func(_ uintptr, ta, tb, m, n, k int32, alpha *float32, a uint64, lda int32, b uint64, ldb int32, beta *float32, c uint64, ldc int32) int32 {
		// Column-major reference: C = alpha*op(A)*op(B) + beta*C.
		opA := func(i, l int32) float32 {
			if ta == cublasOpN {
				return mem.f32(a, int(i+l*lda))
			}
			return mem.f32(a, int(l+i*lda))
		}
		opB := func(l, j int32) float32 {
			if tb == cublasOpN {
				return mem.f32(b, int(l+j*ldb))
			}
			return mem.f32(b, int(j+l*ldb))
		}
		for i := int32(0); i < m; i++ {
			for j := int32(0); j < n; j++ {
				var acc float64
				for l := int32(0); l < k; l++ {
					acc += float64(opA(i, l)) * float64(opB(l, j))
				}
				v := *alpha * float32(acc)
				if *beta != 0 {
					v += *beta * mem.f32(c, int(i+j*ldc))
				}
				mem.setF32(c, int(i+j*ldc), v)
			}
		}
		return 0
	}
	return l, mem
}

func TestEmulatedElementwise(t *testing.T) { testElementwise(newPair(t, emuBackend(t))) }
func TestEmulatedPooling(t *testing.T)     { testPooling(newPair(t, emuBackend(t))) }
func TestEmulatedLayout(t *testing.T)      { testLayout(newPair(t, emuBackend(t))) }
func TestEmulatedMatMul(t *testing.T)      { testMatMul(newPair(t, emuBackend(t))) }
func TestEmulatedDense(t *testing.T)       { testDense(newPair(t, emuBackend(t))) }
func TestEmulatedSGD(t *testing.T)         { testSGD(newPair(t, emuBackend(t))) }
func TestEmulatedBatchNormInferBackward(t *testing.T) {
	testBatchNormInferBackward(newPair(t, emuBackend(t)))
}

// TestEmulatorCatchesErrors: the comparison is not vacuous — a kernel given
// wrong arguments produces a mismatch the checks report.
func TestEmulatorCatchesErrors(t *testing.T) {
	p := newPair(t, emuBackend(t))
	x, y := p.randn(100), p.zeros(100)
	p.g.Scale(y.g, 2, x.g)
	p.c.Scale(y.c, 2.001, x.c)
	n := y.c.Len()
	gh, ch := make([]float32, n), make([]float32, n)
	p.g.Download(gh, y.g)
	p.c.Download(ch, y.c)
	if compare(gh, ch, parityTol) == nil {
		t.Error("a 5e-4 relative difference passed the 1e-4 check")
	}
	if compare(gh, ch, 1e-3) != nil {
		t.Error("Scale on the emulated device differs from the CPU by more than 1e-3")
	}
}

// TestStagingRingWraps: many small host arrays (per-sample scales) pass
// through the 1 MiB pinned ring; when it fills it restarts after a
// synchronisation and every launch still reads its own values.
func TestStagingRingWraps(t *testing.T) {
	b := emuBackend(t)
	n, size := 300, 2 // 1200 bytes staged per call (1280 with alignment): the ring wraps every 819 calls
	x := b.Alloc(n * size)
	ones := make([]float32, n*size)
	for i := range ones {
		ones[i] = 1
	}
	b.Upload(x, ones)
	y := b.Alloc(n * size)
	s := make([]float32, n)
	out := make([]float32, n*size)
	for call := 0; call < 2000; call++ {
		for i := range s {
			s[i] = float32(call*n + i)
		}
		b.ScaleSamples(n, size, s, x, y, false)
		if call == 0 || call == 900 || call == 1999 {
			// No synchronisation since call 0: calls 1..819 fill the ring
			// (819*1280 bytes), call 820 restarts it, so after call 900 it
			// holds 81 arrays.
			if call == 900 && b.staging.offset != 81*1280 {
				t.Fatalf("staging offset %d after call 900, want %d: the ring did not wrap as designed", b.staging.offset, 81*1280)
			}
			b.Download(out, y)
			for i := 0; i < n*size; i++ {
				if want := float32(call*n + i/size); out[i] != want {
					t.Fatalf("call %d: y[%d] = %v, want %v (staging offset %d)", call, i, out[i], want, b.staging.offset)
				}
			}
		}
	}
	if b.staging.offset > stagingBytes || b.staging.offset%256 != 0 {
		t.Errorf("staging offset %d", b.staging.offset)
	}
}

// TestBufferChecks: foreign buffers and out-of-range labels are refused
// before anything reaches the device.
func TestBufferChecks(t *testing.T) {
	b := emuBackend(t)
	mustPanic := func(what, want string, f func()) {
		t.Helper()
		defer func() {
			r := recover()
			if r == nil || !strings.Contains(fmt.Sprint(r), want) {
				t.Errorf("%s: panic %v, want one containing %q", what, r, want)
			}
		}()
		f()
	}
	other := emuBackend(t)
	mustPanic("foreign backend", "another cuda backend", func() { b.Fill(other.Alloc(4), 1) })
	probs, loss := b.Alloc(20), b.Alloc(1)
	mustPanic("label out of range", "label 10 of row 1 outside [0, 10)", func() {
		b.SoftmaxCrossEntropy(2, 10, b.Alloc(20), []int32{3, 10}, 0, probs, loss)
	})
	mustPanic("short download", "Download of 8 values into a buffer of 4", func() { b.Download(make([]float32, 8), b.Alloc(4)) })
	other.Close()
	mustPanic("closed backend", "cuda: backend is closed", func() { other.Alloc(1) })
	if err := b.Synchronize(); err != nil {
		t.Errorf("Synchronize: %v", err)
	}
}

// TestAllocRecoversGarbage: when the device is out of memory, buffers that
// are no longer referenced are collected and their memory reused.
func TestAllocRecoversGarbage(t *testing.T) {
	b, mem := emuBackendMem(t)
	alloc := b.drv.MemAlloc
	budget := 0 // the emulated device holds 8 allocations of 4 KiB
	b.drv.MemAlloc = func(p *uint64, n uint64) int32 {
		if budget >= 8 {
			return 2 // CUDA_ERROR_OUT_OF_MEMORY
		}
		budget++
		return alloc(p, n)
	}
	b.drv.MemFree = func(p uint64) int32 { budget--; mem.free(p); return 0 }
	for i := 0; i < 50; i++ { // 50 x 4 KiB through a device of 32 KiB
		buf := b.Alloc(1000 + i) // distinct sizes in one class
		b.Fill(buf, float32(i))
	}
	if budget > 8 {
		t.Errorf("%d allocations live", budget)
	}
}
