package cuda

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"pertnas/nn"
)

var (
	kernelSigsOnce sync.Once
	kernelSigs     map[string][]byte // per kernel, the kind of each C parameter (see args)
	launchedMu     sync.Mutex
	launched       = map[string]int{} // kernels whose arguments checkLaunchArgs passed
)

// cParamKind classifies a C parameter declaration of kernels.cu the way
// args records its slots: 'p' pointer, 'i' int, 'l' long long, 'f' float.
func cParamKind(decl string) byte {
	typ := strings.TrimSpace(regexp.MustCompile(`\w+$`).ReplaceAllString(strings.TrimSpace(decl), ""))
	switch {
	case strings.Contains(typ, "*"):
		return 'p'
	case typ == "int":
		return 'i'
	case typ == "long long":
		return 'l'
	case typ == "float":
		return 'f'
	}
	return '?'
}

// kernelSignatures parses the parameter kinds of every kernel of kernels.cu.
func kernelSignatures() map[string][]byte {
	kernelSigsOnce.Do(func() {
		kernelSigs = map[string][]byte{}
		re := regexp.MustCompile(`extern "C" __global__ void (\w+)\(([^)]*)\)`)
		for _, m := range re.FindAllStringSubmatch(kernelSource, -1) {
			var kinds []byte
			for _, p := range strings.Split(m[2], ",") {
				kinds = append(kinds, cParamKind(p))
			}
			kernelSigs[m[1]] = kinds
		}
	})
	return kernelSigs
}

// checkLaunchArgs is called by the emulated cuLaunchKernel: the parameter
// array of a launch is the p field of an args, whose kinds must be those of
// the kernel's C parameters, one for one (a 4-byte int where the kernel
// reads a long long would read the next slot's garbage on a GPU; the
// emulator's wrappers would too, but only where it changes a result).
func checkLaunchArgs(t *testing.T, name string, params unsafe.Pointer) {
	t.Helper()
	a := (*args)(unsafe.Add(params, -int(unsafe.Offsetof(args{}.p))))
	want := kernelSignatures()[name]
	if got := a.kind[:a.n]; string(got) != string(want) {
		t.Errorf("launch of %s: argument kinds %q, the kernel's C parameters are %q", name, got, want)
		return
	}
	launchedMu.Lock()
	launched[name]++
	launchedMu.Unlock()
}

// TestKernelParamKinds: the parser reads the C parameter types it is
// given, and every parameter of kernels.cu has a known kind.
func TestKernelParamKinds(t *testing.T) {
	for decl, want := range map[string]byte{
		"void *y": 'p', "const void *x": 'p', "double *out": 'p', "const struct sumsq_chunk *chunks": 'p',
		"int y_t": 'i', " int n": 'i', "long long n": 'l', "float a": 'f',
	} {
		if got := cParamKind(decl); got != want {
			t.Errorf("cParamKind(%q) = %c, want %c", decl, got, want)
		}
	}
	sigs := kernelSignatures()
	if len(sigs) != len(kernelNames) {
		t.Fatalf("%d kernels parsed, %d in kernelNames", len(sigs), len(kernelNames))
	}
	for name, kinds := range sigs {
		if strings.ContainsRune(string(kinds), '?') {
			t.Errorf("%s: a parameter of unknown kind: %q", name, kinds)
		}
	}
	var c sumsqChunk
	if unsafe.Sizeof(c) != 24 || unsafe.Offsetof(c.start) != 8 || unsafe.Offsetof(c.n) != 16 || unsafe.Offsetof(c.t) != 20 {
		t.Error("sumsqChunk does not have the layout of struct sumsq_chunk {ptr, long long, int, int}")
	}
}

// TestLaunchArgsMatchKernels runs every Backend method that launches a
// kernel on the emulator (fp32 and mixed precision, the own depthwise
// kernels, the cuDNN glue's conversions) and checks that every kernel of
// kernels.cu was launched with arguments of its C parameters' widths and
// kinds (checkLaunchArgs, on every emulated launch of every test).
func TestLaunchArgsMatchKernels(t *testing.T) {
	launchedMu.Lock()
	clear(launched)
	launchedMu.Unlock()
	for _, prec := range []Precision{FP32, FP16} {
		b := emuMixed(t, prec)
		b.opts.Depthwise = DepthwiseKernel
		if prec == FP32 {
			p := newPair(t, b)
			testMixedOps(p)
			testMatMul(p)
			testSGD(p)
		} else {
			testMixedOps(mixedPair(t, b))
		}
		x := b.AllocActivation(10)
		b.Fill(x, 2)
		b.UnscaleGrads([]nn.Buffer{x}, 0.5)
		b.SumSquaresAll([]nn.Buffer{x, b.Alloc(3)})
	}
	launchedMu.Lock()
	defer launchedMu.Unlock()
	for _, name := range kernelNames {
		if launched[name] == 0 {
			t.Errorf("kernel %s never launched (with checked arguments)", name)
		}
	}
}

// TestSumSquaresOneLaunch: the gradient norm's sum of squares over many
// buffers (fp32 and half, some longer than a chunk) is one kernel launch
// and equals the float64 sum of the values stored.
func TestSumSquaresOneLaunch(t *testing.T) {
	b, mem := emuBackendMem(t)
	var xs []nn.Buffer
	var want float64
	for i, n := range []int{1, 7, sumsqChunkLen, sumsqChunkLen + 1, 3*sumsqChunkLen + 5, 300} {
		x := b.Alloc(n)
		if i%2 == 1 {
			x = b.newTyped(n, f16)
		}
		h := make([]float32, n)
		for j := range h {
			h[j] = float32(math.Sin(float64(i*1000+j))) * 3
		}
		b.Upload(x, h)
		stored := make([]float32, n)
		b.Download(stored, x)
		for _, v := range stored {
			want += float64(v) * float64(v)
		}
		xs = append(xs, x)
	}
	mem.launches = 0
	got := b.SumSquaresAll(xs)
	if mem.launches != 1 {
		t.Errorf("SumSquaresAll of %d buffers: %d launches, want 1", len(xs), mem.launches)
	}
	if math.Abs(got-want) > 1e-9*want {
		t.Errorf("SumSquaresAll = %v, want %v", got, want)
	}
	if got2 := b.SumSquaresAll(xs); got2 != got {
		t.Errorf("second SumSquaresAll %v differs from the first %v", got2, got)
	}
}

// TestUploadReadsSourceDuringCall: with a copy engine that reads host
// memory later (deferred until the next stream operation), Upload's
// contract still holds: the slice is read during the call, so writing to it
// afterwards changes nothing on the device. Large uploads pass through the
// staging ring in pieces.
func TestUploadReadsSourceDuringCall(t *testing.T) {
	b, mem := emuBackendMem(t)
	mem.deferHtoD = true
	for _, n := range []int{5, 3*uploadPiece/4 + 7} { // one piece; several pieces, wrapping the ring
		x := b.Alloc(n)
		src := make([]float32, n)
		for i := range src {
			src[i] = float32(i % 1000)
		}
		b.Upload(x, src)
		for i := range src {
			src[i] = -1
		}
		got := make([]float32, n)
		b.Download(got, x)
		for i, v := range got {
			if v != float32(i%1000) {
				t.Fatalf("n %d: x[%d] = %v after the source was overwritten, want %v", n, i, v, float32(i%1000))
			}
		}
	}
}

// TestSyncCheck: with Options.SyncCheck each method synchronises, and an
// asynchronous failure is reported by the method that queued the work,
// naming it, its kernels with their sizes and its cuDNN calls with shapes.
func TestSyncCheck(t *testing.T) {
	b, mem := emuBackendMem(t)
	fakeCudnn(t, b.l).perf = []convAlgoPerf{{Algo: 1}}
	b.opts.SyncCheck = true
	x, y := b.Alloc(100), b.Alloc(100)
	syncs := mem.syncs
	b.ReLU(x, y)
	b.Scale(y, 2, x)
	if mem.syncs != syncs+2 {
		t.Errorf("%d synchronisations for 2 methods, want 2", mem.syncs-syncs)
	}
	fail := func(what string, f func(), want ...string) {
		t.Helper()
		b.drv.StreamSynchronize = func(uintptr) int32 { return 700 } // CUDA_ERROR_ILLEGAL_ADDRESS
		defer func() {
			b.drv.StreamSynchronize = func(uintptr) int32 { return 0 }
			r := recover()
			fe, ok := r.(Failure)
			for _, w := range want {
				if !ok || !strings.Contains(fe.Error(), w) {
					t.Errorf("%s: panic %v\nwant a Failure containing %q", what, r, w)
				}
			}
		}()
		f()
	}
	fail("ReLU", func() { b.ReLU(x, y) }, "PERTNAS_CUDA_SYNC=1: cuStreamSynchronize after Backend.ReLU [queued: k_relu<<<1>>>(0, 0, 100)]", "(700)")
	d := nn.ConvDesc{N: 1, C: 4, H: 5, W: 5, OC: 4, OH: 5, OW: 5, K: 3, Stride: 1, Pad: 1, Dilation: 1, Groups: 1}
	cx, cw, cy := b.Alloc(100), b.Alloc(144), b.Alloc(100)
	fail("Conv2DForward", func() { b.Conv2DForward(d, cx, cw, cy) },
		"after Backend.Conv2DForward", fmt.Sprintf("cudnnConvolutionForward %+v", d))
	// A method that panics by itself reports its own error, not a sync.
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "another cuda backend") {
				t.Errorf("foreign buffer: panic %v", r)
			}
		}()
		b.Fill(emuBackend(t).Alloc(4), 1)
	}()
	if len(b.trace) != 0 {
		t.Errorf("trace not reset: %q", b.trace)
	}
}
