package cuda

import (
	"fmt"
	"testing"
	"unsafe"

	"pertnas/nn"
	"pertnas/nn/cpu"
)

// fakeDNN records what the backend asks of cuDNN, to test the glue without a
// GPU: descriptor contents, which descriptor goes where, algorithm choice and
// caching, workspace sizes, alpha/beta (overwrite or accumulate), BN scalars.
type fakeDNN struct {
	t       *testing.T
	next    uintptr
	tensors map[uintptr][4]int
	filters map[uintptr][4]int
	convs   map[uintptr][8]int // pad h/w, stride h/w, dilation h/w, mode, groups
	maths   map[uintptr]int32
	types   map[uintptr]dtype // element type of each tensor and filter descriptor
	finds   int
	calls   []string
	perf    []convAlgoPerf // what Find* reports
}

func (f *fakeDNN) handle() uintptr { f.next++; return f.next }

// expect fails unless descriptor d is a tensor/filter of dims want.
func (f *fakeDNN) expect(what string, d uintptr, filter bool, want [4]int) {
	got, ok := f.tensors[d]
	if filter {
		got, ok = f.filters[d]
	}
	if !ok || got != want {
		f.t.Errorf("%s: descriptor %d is %v (known %v), want %v", what, d, got, ok, want)
	}
}

func scal(p unsafe.Pointer) float32 { return *(*float32)(p) }

func fakeCudnn(t *testing.T, l *Libraries) *fakeDNN {
	f := &fakeDNN{t: t, tensors: map[uintptr][4]int{}, filters: map[uintptr][4]int{}, convs: map[uintptr][8]int{}, maths: map[uintptr]int32{}, types: map[uintptr]dtype{}}
	typeOf := func(what string, cudnn int32) dtype {
		for _, dt := range []dtype{f32, f16, bf16} {
			if cudnnType(dt) == cudnn {
				return dt
			}
		}
		t.Errorf("%s of cuDNN data type %d", what, cudnn)
		return f32
	}
	d := &l.dnn
	d.CreateTensorDesc = func(p *uintptr) int32 { *p = f.handle(); return 0 }
	d.SetTensor4dDesc = func(h uintptr, format, dtype, n, c, hh, w int32) int32 {
		if format != cudnnTensorNCHW {
			t.Errorf("tensor format %d", format)
		}
		f.tensors[h] = [4]int{int(n), int(c), int(hh), int(w)}
		f.types[h] = typeOf("tensor", dtype)
		return 0
	}
	d.CreateFilterDesc = func(p *uintptr) int32 { *p = f.handle(); return 0 }
	d.SetFilter4dDesc = func(h uintptr, dtype, format, k, c, hh, w int32) int32 {
		f.filters[h] = [4]int{int(k), int(c), int(hh), int(w)}
		f.types[h] = typeOf("filter", dtype)
		return 0
	}
	d.CreateConvDesc = func(p *uintptr) int32 { *p = f.handle(); return 0 }
	d.SetConv2dDesc = func(h uintptr, ph, pw, u, v, dh, dw, mode, compute int32) int32 {
		if mode != cudnnCrossCorrelation || compute != cudnnDataFloat {
			t.Errorf("conv mode %d compute %d", mode, compute)
		}
		f.convs[h] = [8]int{int(ph), int(pw), int(u), int(v), int(dh), int(dw), int(mode), 1}
		return 0
	}
	d.SetConvGroupCount = func(h uintptr, g int32) int32 { c := f.convs[h]; c[7] = int(g); f.convs[h] = c; return 0 }
	d.SetConvMathType = func(h uintptr, m int32) int32 { f.maths[h] = m; return 0 }
	d.GetConv2dFwdOutputDim = func(conv, x, w uintptr, n, c, hh, wd *int32) int32 {
		cv, xs, ws := f.convs[conv], f.tensors[x], f.filters[w]
		if xs[1] != ws[1]*cv[7] {
			t.Errorf("input channels %d != filter channels %d x groups %d", xs[1], ws[1], cv[7])
		}
		*n, *c = int32(xs[0]), int32(ws[0])
		*hh = int32((xs[2]+2*cv[0]-cv[4]*(ws[2]-1)-1)/cv[2] + 1)
		*wd = int32((xs[3]+2*cv[1]-cv[5]*(ws[3]-1)-1)/cv[3] + 1)
		return 0
	}
	find := func(name string, req int32, ret *int32, perf unsafe.Pointer, wsBytes uint64) {
		f.finds++
		f.calls = append(f.calls, name)
		if wsBytes == 0 {
			t.Errorf("%s without a workspace", name)
		}
		out := unsafe.Slice((*convAlgoPerf)(perf), req)
		n := copy(out, f.perf)
		*ret = int32(n)
	}
	d.FindConvFwdAlgoEx = func(h, xd uintptr, x uint64, wd uintptr, w uint64, cd, yd uintptr, y uint64, req int32, ret *int32, perf unsafe.Pointer, ws, wsBytes uint64) int32 {
		find("find fwd", req, ret, perf, wsBytes)
		return 0
	}
	d.FindConvBwdDataAlgoEx = func(h, wd uintptr, w uint64, dyd uintptr, dy uint64, cd, dxd uintptr, dx uint64, req int32, ret *int32, perf unsafe.Pointer, ws, wsBytes uint64) int32 {
		find("find bwd data", req, ret, perf, wsBytes)
		return 0
	}
	d.FindConvBwdFilterAlgoEx = func(h, xd uintptr, x uint64, dyd uintptr, dy uint64, cd, dwd uintptr, dw uint64, req int32, ret *int32, perf unsafe.Pointer, ws, wsBytes uint64) int32 {
		find("find bwd filter", req, ret, perf, wsBytes)
		return 0
	}
	d.ConvFwd = func(h uintptr, alpha unsafe.Pointer, xd uintptr, x uint64, wd uintptr, w uint64, cd uintptr, algo int32, ws, wsBytes uint64, beta unsafe.Pointer, yd uintptr, y uint64) int32 {
		f.calls = append(f.calls, fmt.Sprintf("fwd algo %d ws %d alpha %v beta %v", algo, wsBytes, scal(alpha), scal(beta)))
		f.checkConv(xd, wd, yd, cd)
		return 0
	}
	d.ConvBwdData = func(h uintptr, alpha unsafe.Pointer, wd uintptr, w uint64, dyd uintptr, dy uint64, cd uintptr, algo int32, ws, wsBytes uint64, beta unsafe.Pointer, dxd uintptr, dx uint64) int32 {
		f.calls = append(f.calls, fmt.Sprintf("bwd data algo %d ws %d alpha %v beta %v", algo, wsBytes, scal(alpha), scal(beta)))
		f.checkConv(dxd, wd, dyd, cd)
		return 0
	}
	d.ConvBwdFilter = func(h uintptr, alpha unsafe.Pointer, xd uintptr, x uint64, dyd uintptr, dy uint64, cd uintptr, algo int32, ws, wsBytes uint64, beta unsafe.Pointer, dwd uintptr, dw uint64) int32 {
		f.calls = append(f.calls, fmt.Sprintf("bwd filter algo %d ws %d alpha %v beta %v", algo, wsBytes, scal(alpha), scal(beta)))
		f.checkConv(xd, dwd, dyd, cd)
		return 0
	}
	d.BatchNormFwdTraining = func(h uintptr, mode int32, alpha, beta unsafe.Pointer, xd uintptr, x uint64, yd uintptr, y uint64, bnd uintptr, scale, bias uint64, factor float64, runMean, runVar uint64, eps float64, saveMean, saveInvVar uint64) int32 {
		f.calls = append(f.calls, fmt.Sprintf("bn train mode %d x %v bn %v factor %.3g eps %.10g alpha %v beta %v scale/bias set %v",
			mode, f.tensors[xd], f.tensors[bnd], factor, eps, scal(alpha), scal(beta), scale != 0 && bias != 0))
		return 0
	}
	d.BatchNormBwd = func(h uintptr, mode int32, alphaD, betaD, alphaP, betaP unsafe.Pointer, xd uintptr, x uint64, dyd uintptr, dy uint64, dxd uintptr, dx uint64, bnd uintptr, scale, dScale, dBias uint64, eps float64, saveMean, saveInvVar uint64) int32 {
		f.calls = append(f.calls, fmt.Sprintf("bn bwd data %v/%v param %v/%v dparams set %v", scal(alphaD), scal(betaD), scal(alphaP), scal(betaP), dScale != 0 && dBias != 0 && dScale != dBias))
		return 0
	}
	return f
}

// checkConv: x, w, y descriptors of one convolution agree through the
// output-dimension rule (catches a descriptor passed in the wrong place).
func (f *fakeDNN) checkConv(xd, wd, yd, cd uintptr) {
	var n, c, h, w int32
	if _, ok := f.filters[wd]; !ok {
		f.t.Errorf("descriptor %d passed as the filter is not a filter", wd)
		return
	}
	f.fakeOutDim(cd, xd, wd, &n, &c, &h, &w)
	if got := f.tensors[yd]; got != [4]int{int(n), int(c), int(h), int(w)} {
		f.t.Errorf("output descriptor %v, convolution of %v by %v gives [%d %d %d %d]", got, f.tensors[xd], f.filters[wd], n, c, h, w)
	}
}

func (f *fakeDNN) fakeOutDim(cd, xd, wd uintptr, n, c, h, w *int32) {
	cv, xs, ws := f.convs[cd], f.tensors[xd], f.filters[wd]
	*n, *c = int32(xs[0]), int32(ws[0])
	*h = int32((xs[2]+2*cv[0]-cv[4]*(ws[2]-1)-1)/cv[2] + 1)
	*w = int32((xs[3]+2*cv[1]-cv[5]*(ws[3]-1)-1)/cv[3] + 1)
}

func TestConvGlue(t *testing.T) {
	l, mem := emuLibraries(t)
	mem.eventMs = 1e6 // the own depthwise kernel is timed slower than cuDNN
	f := fakeCudnn(t, l)
	b := newBackend(&device{l: l, drv: &l.drv, kernels: map[string]uintptr{}, grid: 1}, Options{WorkspaceLimit: 1 << 16})
	// Find reports times too: cuDNN's pick takes 0.5 ms.
	// Find reports a failed algorithm, one needing too much workspace, then
	// the one to pick (results come sorted by time).
	f.perf = []convAlgoPerf{{Algo: 5, Status: 3000}, {Algo: 6, Memory: 1 << 20}, {Algo: 1, Memory: 4096, Time: 0.5}, {Algo: 0}}
	d := nn.ConvDesc{N: 2, C: 8, H: 9, W: 9, OC: 8, OH: 5, OW: 5, K: 3, Stride: 2, Pad: 1, Dilation: 1, Groups: 8}
	x, w, y := b.Alloc(2*8*81), b.Alloc(8*1*9), b.Alloc(2*8*25)
	b.Conv2DForward(d, x, w, y)
	b.Conv2DForward(d, x, w, y) // cached: no second Find
	b.Conv2DBackwardData(d, y, w, x)
	b.Conv2DBackwardFilter(d, x, y, w)
	want := []string{
		"find fwd", "fwd algo 1 ws 4096 alpha 1 beta 0", "fwd algo 1 ws 4096 alpha 1 beta 0",
		"find bwd data", "bwd data algo 1 ws 4096 alpha 1 beta 1",
		"find bwd filter", "bwd filter algo 1 ws 4096 alpha 1 beta 1",
	}
	if fmt.Sprint(f.calls) != fmt.Sprint(want) {
		t.Errorf("cuDNN calls:\n%q\nwant\n%q", f.calls, want)
	}
	if b.wsBytes != 1<<16 {
		t.Errorf("workspace %d bytes, want the limit %d", b.wsBytes, 1<<16)
	}
	// A different shape (another groups value) gets its own plan and Find;
	// the input tensor descriptor is shared with the first plan.
	d2 := d
	d2.Groups = 1
	w2 := b.Alloc(8 * 8 * 9)
	b.Conv2DForward(d2, x, w2, y)
	if f.finds != 4 || len(b.convPlans) != 2 {
		t.Errorf("after a second shape: %d finds, %d plans; want 4, 2", f.finds, len(b.convPlans))
	}
	if b.convPlans[d].x != b.convPlans[d2].x || b.convPlans[d].conv == b.convPlans[d2].conv {
		t.Error("descriptor cache: same input shape must share, different groups must not")
	}
	for h, m := range f.maths {
		if m != cudnnFMAMath {
			t.Errorf("conv descriptor %d math type %d, want CUDNN_FMA_MATH (strict fp32)", h, m)
		}
	}
	if mem.launches != 9 {
		t.Errorf("%d kernel launches, want 9 (timing the depthwise kernel of each direction 3 times)", mem.launches)
	}
	// Depthwise: when the own kernel is faster, it replaces cuDNN.
	mem.eventMs, mem.launches, f.calls = 0, 0, nil
	dd := d
	dd.N = 1
	b.Conv2DForward(dd, b.Alloc(1*8*81), w, b.Alloc(1*8*25))
	b.Conv2DBackwardData(dd, b.Alloc(1*8*25), w, b.Alloc(1*8*81))
	b.Conv2DBackwardFilter(dd, b.Alloc(1*8*81), b.Alloc(1*8*25), w)
	if want := []string{"find fwd", "find bwd data", "find bwd filter"}; fmt.Sprint(f.calls) != fmt.Sprint(want) || mem.launches != 3*4 {
		t.Errorf("depthwise with a faster kernel: cuDNN calls %q, %d launches; want %q and 12", f.calls, mem.launches, want)
	}
	p := b.convPlans[dd]
	if !p.fwd.own || !p.bwdData.own || !p.bwdFilter.own {
		t.Errorf("plan %+v: own kernels not chosen", *p)
	}
	wantSummary := "3 convolution shapes; forward: 1 own depthwise kernel, cuDNN algos 1(x2); backward data: 1 own depthwise kernel, cuDNN algos 1(x1); backward filter: 1 own depthwise kernel, cuDNN algos 1(x1)"
	if got := b.ConvSummary(); got != wantSummary {
		t.Errorf("ConvSummary:\n%s\nwant\n%s", got, wantSummary)
	}
	// Nothing fits: the error says so.
	f.perf = []convAlgoPerf{{Algo: 2, Status: 3000}}
	d3 := d2
	d3.N = 3
	func() {
		defer func() {
			r := recover()
			if fe, ok := r.(Failure); !ok || fe.Error() != "cuda: cudnnFindConvolutionForwardAlgorithmEx: no algorithm succeeded within a 65536-byte workspace [algo 2: CUDNN_STATUS_NOT_SUPPORTED (3000), 0 bytes]" {
				t.Errorf("panic %v, want a Failure naming the workspace", r)
			}
		}()
		b.Conv2DForward(d3, b.Alloc(3*8*81), w2, b.Alloc(3*8*25))
	}()
}

func TestBatchNormGlue(t *testing.T) {
	l, _ := emuLibraries(t)
	f := fakeCudnn(t, l)
	b := newBackend(&device{l: l, drv: &l.drv, kernels: map[string]uintptr{}, grid: 1}, Options{TF32: true})
	d := nn.BNDesc{N: 4, C: 3, HW: 10, Eps: 1e-5, Momentum: 0.1}
	x, y, c := b.Alloc(120), b.Alloc(120), func() nn.Buffer { return b.Alloc(3) }
	b.BatchNormTrain(d, x, nil, nil, c(), c(), y, c(), c())
	b.BatchNormTrain(d, x, c(), c(), c(), c(), y, c(), c())
	b.BatchNormTrainBackward(d, x, y, nil, c(), c(), y, nil, nil)
	b.BatchNormTrainBackward(d, x, y, c(), c(), c(), y, c(), c())
	want := []string{
		// eps is clamped to CUDNN_BN_MIN_EPSILON (float32(1e-5) widened is below it).
		"bn train mode 1 x [4 3 10 1] bn [1 3 1 1] factor 0.1 eps 1e-05 alpha 1 beta 0 scale/bias set true",
		"bn train mode 1 x [4 3 10 1] bn [1 3 1 1] factor 0.1 eps 1e-05 alpha 1 beta 0 scale/bias set true",
		// No affine: parameter gradients go to scratch, overwritten (beta 0).
		"bn bwd data 1/1 param 1/0 dparams set true",
		"bn bwd data 1/1 param 1/1 dparams set true",
	}
	if fmt.Sprint(f.calls) != fmt.Sprint(want) {
		t.Errorf("cuDNN calls:\n%q\nwant\n%q", f.calls, want)
	}
	if cb, ok := b.constBufs[3]; !ok {
		t.Error("no constant ones/zeros for BN without affine")
	} else {
		h := make([]float32, 3)
		b.Download(h, cb[0])
		if h[0] != 1 || h[1] != 1 || h[2] != 1 {
			t.Errorf("BN ones buffer holds %v", h)
		}
	}
	// TF32 allowed: convolutions get tensor-op math.
	b.convDesc(convDescKey{1, 1, 1, 1})
	for _, m := range f.maths {
		if m != cudnnTensorOpMath {
			t.Errorf("with TF32 the conv math type is %d, want CUDNN_TENSOR_OP_MATH", m)
		}
	}
}

// cpuCudnn makes the fake cuDNN compute: convolutions and batch norm are
// delegated to the CPU backend, reading each argument from the position the
// C signature gives it (a swapped pointer or scalar in the backend's call
// changes the result). With it the whole backend runs on the emulator.
func cpuCudnn(t *testing.T, l *Libraries, mem *emuMemory, f *fakeDNN) {
	c := cpu.New(1)
	f.perf = []convAlgoPerf{{Algo: 1}}
	// in reads n values of type dt at addr into a CPU buffer; out writes
	// one back, rounded to dt (as cuDNN's half outputs are).
	in := func(addr uint64, n int, dt dtype) nn.Buffer {
		buf := c.Alloc(n)
		if addr != 0 {
			c.Upload(buf, mem.read(addr, n, dt))
		}
		return buf
	}
	out := func(addr uint64, buf nn.Buffer, dt dtype) {
		h := make([]float32, buf.Len())
		c.Download(h, buf)
		mem.write(addr, h, dt)
	}
	// acc returns dst's current contents when beta is 1 (accumulate), zeros when 0.
	acc := func(beta unsafe.Pointer, addr uint64, n int, dt dtype) nn.Buffer {
		switch scal(beta) {
		case 0:
			return c.Alloc(n)
		case 1:
			return in(addr, n, dt)
		}
		t.Fatalf("beta %v", scal(beta))
		return nil
	}
	conv := func(xd, wd, cd uintptr) nn.ConvDesc {
		x, w, cv := f.tensors[xd], f.filters[wd], f.convs[cd]
		d := nn.ConvDesc{N: x[0], C: x[1], H: x[2], W: x[3], OC: w[0], K: w[2], Stride: cv[2], Pad: cv[0], Dilation: cv[4], Groups: cv[7]}
		d.OH, d.OW = outSize(d.H, d.K, d.Stride, d.Pad, d.Dilation), outSize(d.W, d.K, d.Stride, d.Pad, d.Dilation)
		return d
	}
	size := func(d [4]int) int { return d[0] * d[1] * d[2] * d[3] }
	dnn := &l.dnn
	dnn.ConvFwd = func(h uintptr, alpha unsafe.Pointer, xd uintptr, x uint64, wd uintptr, w uint64, cd uintptr, algo int32, ws, wsBytes uint64, beta unsafe.Pointer, yd uintptr, y uint64) int32 {
		d := conv(xd, wd, cd)
		yb := c.Alloc(size(f.tensors[yd]))
		c.Conv2DForward(d, in(x, size(f.tensors[xd]), f.types[xd]), in(w, size(f.filters[wd]), f.types[wd]), yb)
		out(y, yb, f.types[yd])
		return 0
	}
	dnn.ConvBwdData = func(h uintptr, alpha unsafe.Pointer, wd uintptr, w uint64, dyd uintptr, dy uint64, cd uintptr, algo int32, ws, wsBytes uint64, beta unsafe.Pointer, dxd uintptr, dx uint64) int32 {
		d := conv(dxd, wd, cd)
		dxb := acc(beta, dx, size(f.tensors[dxd]), f.types[dxd])
		c.Conv2DBackwardData(d, in(dy, size(f.tensors[dyd]), f.types[dyd]), in(w, size(f.filters[wd]), f.types[wd]), dxb)
		out(dx, dxb, f.types[dxd])
		return 0
	}
	dnn.ConvBwdFilter = func(h uintptr, alpha unsafe.Pointer, xd uintptr, x uint64, dyd uintptr, dy uint64, cd uintptr, algo int32, ws, wsBytes uint64, beta unsafe.Pointer, dwd uintptr, dw uint64) int32 {
		d := conv(xd, dwd, cd)
		dwb := acc(beta, dw, size(f.filters[dwd]), f.types[dwd])
		c.Conv2DBackwardFilter(d, in(x, size(f.tensors[xd]), f.types[xd]), in(dy, size(f.tensors[dyd]), f.types[dyd]), dwb)
		out(dw, dwb, f.types[dwd])
		return 0
	}
	bn := func(xd uintptr, eps, factor float64) (nn.BNDesc, int) {
		x := f.tensors[xd]
		return nn.BNDesc{N: x[0], C: x[1], HW: x[2] * x[3], Eps: float32(eps), Momentum: float32(factor)}, size(x)
	}
	dnn.BatchNormFwdTraining = func(h uintptr, mode int32, alpha, beta unsafe.Pointer, xd uintptr, x uint64, yd uintptr, y uint64, bnd uintptr, scale, bias uint64, factor float64, runMean, runVar uint64, eps float64, saveMean, saveInvVar uint64) int32 {
		d, n := bn(xd, eps, factor)
		rm, rv, yb, sm, si := in(runMean, d.C, f32), in(runVar, d.C, f32), c.Alloc(n), c.Alloc(d.C), c.Alloc(d.C)
		c.BatchNormTrain(d, in(x, n, f.types[xd]), in(scale, d.C, f32), in(bias, d.C, f32), rm, rv, yb, sm, si)
		out(y, yb, f.types[yd])
		out(runMean, rm, f32)
		out(runVar, rv, f32)
		out(saveMean, sm, f32)
		out(saveInvVar, si, f32)
		return 0
	}
	dnn.BatchNormFwdInference = func(h uintptr, mode int32, alpha, beta unsafe.Pointer, xd uintptr, x uint64, yd uintptr, y uint64, bnd uintptr, scale, bias, mean, variance uint64, eps float64) int32 {
		d, n := bn(xd, eps, 0)
		yb := c.Alloc(n)
		c.BatchNormInfer(d, in(x, n, f.types[xd]), in(scale, d.C, f32), in(bias, d.C, f32), in(mean, d.C, f32), in(variance, d.C, f32), yb)
		out(y, yb, f.types[yd])
		return 0
	}
	dnn.BatchNormBwd = func(h uintptr, mode int32, alphaD, betaD, alphaP, betaP unsafe.Pointer, xd uintptr, x uint64, dyd uintptr, dy uint64, dxd uintptr, dx uint64, bnd uintptr, scale, dScale, dBias uint64, eps float64, saveMean, saveInvVar uint64) int32 {
		d, n := bn(xd, eps, 0)
		dxb, dg, db := acc(betaD, dx, n, f.types[dxd]), acc(betaP, dScale, d.C, f32), acc(betaP, dBias, d.C, f32)
		c.BatchNormTrainBackward(d, in(x, n, f.types[xd]), in(dy, n, f.types[dyd]), in(scale, d.C, f32), in(saveMean, d.C, f32), in(saveInvVar, d.C, f32), dxb, dg, db)
		out(dx, dxb, f.types[dxd])
		out(dScale, dg, f32)
		out(dBias, db, f32)
		return 0
	}
}

// TestEmulatedTrainingStep: three SGD steps of the small network on the
// emulated GPU backend (its kernels, cuBLAS mapping, staging, pooling of
// memory, cuDNN call arguments) equal the CPU backend's.
func TestEmulatedTrainingStep(t *testing.T) {
	for _, mode := range []DepthwiseMode{DepthwiseCudnn, DepthwiseKernel} {
		b, mem := emuBackendMem(t)
		cpuCudnn(t, b.l, mem, fakeCudnn(t, b.l))
		b.opts.Depthwise = mode
		testTrainingStep(t, b, parityTol)
	}
}

// TestEmulatedDepthwise: the depthwise kernels (forward, backward data,
// backward filter; strides, dilation, 3x3 and 5x5) equal the CPU backend;
// the other convolutions go to the CPU-backed fake cuDNN.
func TestEmulatedDepthwise(t *testing.T) {
	b, mem := emuBackendMem(t)
	cpuCudnn(t, b.l, mem, fakeCudnn(t, b.l))
	b.opts.Depthwise = DepthwiseKernel
	testConv(newPair(t, b))
	own := 0
	for d, p := range b.convPlans {
		if p.fwd.own != isDepthwise(d) || p.bwdData.own != isDepthwise(d) || p.bwdFilter.own != isDepthwise(d) {
			t.Errorf("%+v: own kernels %v %v %v", d, p.fwd.own, p.bwdData.own, p.bwdFilter.own)
		}
		if p.fwd.own {
			own++
		}
	}
	if own != 2 {
		t.Errorf("%d depthwise shapes ran on the own kernels, want 2", own)
	}
}
