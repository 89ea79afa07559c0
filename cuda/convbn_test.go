package cuda

import (
	"fmt"
	"math/rand/v2"
	"strings"
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
	perf    []convAlgoPerf   // what Find* reports
	findSt  int32            // what Find* returns
	wsNeed  map[int32]uint64 // what cudnnGetConvolution*WorkspaceSize says, by math type
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
	find := func(name string, cd uintptr, req int32, ret *int32, perf unsafe.Pointer, wsBytes uint64) int32 {
		f.finds++
		f.calls = append(f.calls, fmt.Sprintf("%s math %d", name, f.maths[cd]))
		if f.findSt != 0 {
			return f.findSt
		}
		if wsBytes == 0 {
			t.Errorf("%s without a workspace", name)
		}
		out := unsafe.Slice((*convAlgoPerf)(perf), req)
		n := copy(out, f.perf)
		*ret = int32(n)
		return 0
	}
	d.FindConvFwdAlgoEx = func(h, xd uintptr, x uint64, wd uintptr, w uint64, cd, yd uintptr, y uint64, req int32, ret *int32, perf unsafe.Pointer, ws, wsBytes uint64) int32 {
		return find("find fwd", cd, req, ret, perf, wsBytes)
	}
	d.FindConvBwdDataAlgoEx = func(h, wd uintptr, w uint64, dyd uintptr, dy uint64, cd, dxd uintptr, dx uint64, req int32, ret *int32, perf unsafe.Pointer, ws, wsBytes uint64) int32 {
		return find("find bwd data", cd, req, ret, perf, wsBytes)
	}
	d.FindConvBwdFilterAlgoEx = func(h, xd uintptr, x uint64, dyd uintptr, dy uint64, cd, dwd uintptr, dw uint64, req int32, ret *int32, perf unsafe.Pointer, ws, wsBytes uint64) int32 {
		return find("find bwd filter", cd, req, ret, perf, wsBytes)
	}
	d.GetConvFwdWorkspace = func(h, xd, wd, cd, yd uintptr, algo int32, bytes *uint64) int32 {
		*bytes = f.wsNeed[f.maths[cd]]
		return 0
	}
	d.GetConvBwdDataWorkspace = func(h, wd, dyd, cd, dxd uintptr, algo int32, bytes *uint64) int32 {
		*bytes = f.wsNeed[f.maths[cd]]
		return 0
	}
	d.GetConvBwdFilterWorkspace = func(h, xd, dyd, cd, dwd uintptr, algo int32, bytes *uint64) int32 {
		*bytes = f.wsNeed[f.maths[cd]]
		return 0
	}
	d.ConvFwd = func(h uintptr, alpha unsafe.Pointer, xd uintptr, x uint64, wd uintptr, w uint64, cd uintptr, algo int32, ws, wsBytes uint64, beta unsafe.Pointer, yd uintptr, y uint64) int32 {
		f.calls = append(f.calls, fmt.Sprintf("fwd algo %d math %d ws %d alpha %v beta %v", algo, f.maths[cd], wsBytes, scal(alpha), scal(beta)))
		f.checkConv(xd, wd, yd, cd)
		return 0
	}
	d.ConvBwdData = func(h uintptr, alpha unsafe.Pointer, wd uintptr, w uint64, dyd uintptr, dy uint64, cd uintptr, algo int32, ws, wsBytes uint64, beta unsafe.Pointer, dxd uintptr, dx uint64) int32 {
		f.calls = append(f.calls, fmt.Sprintf("bwd data algo %d math %d ws %d alpha %v beta %v", algo, f.maths[cd], wsBytes, scal(alpha), scal(beta)))
		f.checkConv(dxd, wd, dyd, cd)
		return 0
	}
	d.ConvBwdFilter = func(h uintptr, alpha unsafe.Pointer, xd uintptr, x uint64, dyd uintptr, dy uint64, cd uintptr, algo int32, ws, wsBytes uint64, beta unsafe.Pointer, dwd uintptr, dw uint64) int32 {
		f.calls = append(f.calls, fmt.Sprintf("bwd filter algo %d math %d ws %d alpha %v beta %v", algo, f.maths[cd], wsBytes, scal(alpha), scal(beta)))
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
	f.perf = []convAlgoPerf{{Algo: 5, Status: 3000}, {Algo: 6, Memory: 1 << 20, MathType: cudnnFMAMath}, {Algo: 1, Memory: 4096, Time: 0.5, MathType: cudnnFMAMath}, {Algo: 0, MathType: cudnnFMAMath}}
	d := nn.ConvDesc{N: 2, C: 8, H: 9, W: 9, OC: 8, OH: 5, OW: 5, K: 3, Stride: 2, Pad: 1, Dilation: 1, Groups: 8}
	x, w, y := b.Alloc(2*8*81), b.Alloc(8*1*9), b.Alloc(2*8*25)
	b.Conv2DForward(d, x, w, y)
	b.Conv2DForward(d, x, w, y) // cached: no second Find
	b.Conv2DBackwardData(d, y, w, x, true)
	b.Conv2DBackwardFilter(d, x, y, w)
	want := []string{
		"find fwd math 3", "fwd algo 1 math 3 ws 4096 alpha 1 beta 0", "fwd algo 1 math 3 ws 4096 alpha 1 beta 0",
		"find bwd data math 3", "bwd data algo 1 math 3 ws 4096 alpha 1 beta 1",
		"find bwd filter math 3", "bwd filter algo 1 math 3 ws 4096 alpha 1 beta 1",
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
	b.Conv2DBackwardData(dd, b.Alloc(1*8*25), w, b.Alloc(1*8*81), true)
	b.Conv2DBackwardFilter(dd, b.Alloc(1*8*81), b.Alloc(1*8*25), w)
	if want := []string{"find fwd math 3", "find bwd data math 3", "find bwd filter math 3"}; fmt.Sprint(f.calls) != fmt.Sprint(want) || mem.launches != 3*4 {
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
	d6 := d
	d6.Eps = 1e-6 // below cuDNN 8's minimum
	b.BatchNormTrain(d6, x, c(), c(), c(), c(), y, c(), c())
	b.BatchNormTrainBackward(d, x, y, nil, c(), c(), y, nil, nil, true)
	b.BatchNormTrainBackward(d, x, y, c(), c(), c(), y, c(), c(), true)
	want := []string{
		// eps reaches cuDNN as the layer's float32 widened, not clamped
		// (CUDNN_BN_MIN_EPSILON is 0 in cuDNN 9).
		"bn train mode 1 x [4 3 10 1] bn [1 3 1 1] factor 0.1 eps 9.999999747e-06 alpha 1 beta 0 scale/bias set true",
		"bn train mode 1 x [4 3 10 1] bn [1 3 1 1] factor 0.1 eps 9.999999975e-07 alpha 1 beta 0 scale/bias set true",
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
	f.perf = []convAlgoPerf{{Algo: 1, Determinism: cudnnDeterministic}}
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
		c.Conv2DBackwardData(d, in(dy, size(f.tensors[dyd]), f.types[dyd]), in(w, size(f.filters[wd]), f.types[wd]), dxb, true)
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
		c.BatchNormTrainBackward(d, in(x, n, f.types[xd]), in(dy, n, f.types[dyd]), in(scale, d.C, f32), in(saveMean, d.C, f32), in(saveInvVar, d.C, f32), dxb, dg, db, true)
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

// glueBackend is a backend over the emulated driver (kernels launch
// nothing) and the recording fake cuDNN.
func glueBackend(t *testing.T, opts Options) (*Backend, *fakeDNN, *emuMemory) {
	l, mem := emuLibraries(t)
	f := fakeCudnn(t, l)
	return newBackend(&device{l: l, drv: &l.drv, kernels: map[string]uintptr{}, grid: 1}, opts), f, mem
}

// TestConvMathTypeOfChoice: cuDNN's Find times variants with other math
// types than the descriptor's (with TF32 allowed, tensor-op and default
// math); the convolution runs with the math type of the variant picked,
// set on the descriptor before each call even when the descriptor is
// shared with another shape that picked another, and with the workspace
// cuDNN asks for that variant when it exceeds Find's figure.
func TestConvMathTypeOfChoice(t *testing.T) {
	b, f, _ := glueBackend(t, Options{TF32: true, WorkspaceLimit: 1 << 16})
	f.wsNeed = map[int32]uint64{cudnnDefaultMath: 8192, cudnnTensorOpMath: 1024}
	f.perf = []convAlgoPerf{{Algo: 1, MathType: cudnnDefaultMath, Memory: 4096, Time: 0.3}, {Algo: 1, MathType: cudnnTensorOpMath, Memory: 2048, Time: 0.5}}
	d := nn.ConvDesc{N: 2, C: 8, H: 9, W: 9, OC: 16, OH: 9, OW: 9, K: 3, Stride: 1, Pad: 1, Dilation: 1, Groups: 1}
	x, w, y := b.Alloc(2*8*81), b.Alloc(16*8*9), b.Alloc(2*16*81)
	b.Conv2DForward(d, x, w, y)
	// A second shape on the same descriptor picks tensor-op math.
	f.perf = []convAlgoPerf{{Algo: 0, MathType: cudnnTensorOpMath, Memory: 512, Time: 0.1}}
	d2 := d
	d2.N = 1
	b.Conv2DForward(d2, b.Alloc(8*81), w, b.Alloc(16*81))
	b.Conv2DForward(d, x, w, y)
	want := []string{
		"find fwd math 1", "fwd algo 1 math 0 ws 8192 alpha 1 beta 0",
		"find fwd math 1", "fwd algo 0 math 1 ws 1024 alpha 1 beta 0",
		"fwd algo 1 math 0 ws 8192 alpha 1 beta 0",
	}
	if fmt.Sprint(f.calls) != fmt.Sprint(want) {
		t.Errorf("cuDNN calls:\n%q\nwant\n%q", f.calls, want)
	}
	if b.convPlans[d].conv != b.convPlans[d2].conv {
		t.Error("the two shapes should share one convolution descriptor")
	}
}

// TestDepthwiseFallback: when cuDNN's search for a depthwise convolution
// fails (NOT_SUPPORTED) or returns nothing that fits the workspace, the
// backend's own depthwise kernel runs instead of a panic; a convolution
// without an own kernel still fails, naming the call.
func TestDepthwiseFallback(t *testing.T) {
	dw := nn.ConvDesc{N: 2, C: 8, H: 9, W: 9, OC: 8, OH: 9, OW: 9, K: 5, Stride: 1, Pad: 4, Dilation: 2, Groups: 8}
	for _, c := range []struct {
		name   string
		findSt int32
		perf   []convAlgoPerf
		reason string
	}{
		{"search NOT_SUPPORTED", 3000, nil, "CUDNN_STATUS_NOT_SUPPORTED (3000)"},
		{"nothing succeeded", 0, []convAlgoPerf{{Algo: 1, Status: 3000}}, "no algorithm succeeded"},
		{"nothing fits", 0, []convAlgoPerf{{Algo: 1, Memory: 1 << 30}}, "no algorithm succeeded within a 65536-byte workspace"},
	} {
		b, f, mem := glueBackend(t, Options{Depthwise: DepthwiseCudnn, WorkspaceLimit: 1 << 16})
		f.findSt, f.perf = c.findSt, c.perf
		x, w, y := b.Alloc(2*8*81), b.Alloc(8*25), b.Alloc(2*8*81)
		b.Conv2DForward(dw, x, w, y)
		b.Conv2DBackwardData(dw, y, w, x, true)
		b.Conv2DBackwardFilter(dw, x, y, w)
		b.Conv2DForward(dw, x, w, y)
		p := b.convPlans[dw]
		if !p.fwd.own || !p.bwdData.own || !p.bwdFilter.own || !strings.Contains(p.fwd.fallback, c.reason) {
			t.Errorf("%s: plan %+v, want the own kernels, fallback naming %q", c.name, *p, c.reason)
		}
		if f.finds != 3 || mem.launches != 4 {
			t.Errorf("%s: %d searches, %d launches; want 3 and 4 (one own kernel per call)", c.name, f.finds, mem.launches)
		}
	}
	b, f, _ := glueBackend(t, Options{WorkspaceLimit: 1 << 16})
	f.findSt = 3000
	dense := dw
	dense.Groups = 1
	defer func() {
		r := recover()
		if fe, ok := r.(Failure); !ok || !strings.Contains(fe.Error(), "cudnnFindConvolutionForwardAlgorithmEx: CUDNN_STATUS_NOT_SUPPORTED (3000)") {
			t.Errorf("dense convolution, search NOT_SUPPORTED: panic %v, want a Failure naming the search", r)
		}
	}()
	b.Conv2DForward(dense, b.Alloc(2*8*81), b.Alloc(8*8*25), b.Alloc(2*8*81))
}

// TestDeterministicPick: with Options.Deterministic the choice ignores
// algorithms cuDNN does not mark deterministic and does not depend on the
// measured order: the same result set in any order (another run's timings)
// gives the same algorithm and math type. Without it, the fastest wins.
func TestDeterministicPick(t *testing.T) {
	perf := []convAlgoPerf{
		{Algo: 0, Time: 0.1, Determinism: 0, MathType: cudnnTensorOpMath},               // ALGO_0: atomics
		{Algo: 3, Time: 0.2, Determinism: 0, MathType: cudnnTensorOpMath},               // ALGO_3: atomics
		{Algo: 5, Time: 0.3, Determinism: 1, MathType: cudnnTensorOpMath},               // WINOGRAD_NONFUSED
		{Algo: 1, Time: 0.4, Determinism: 1, MathType: cudnnDefaultMath},                // ALGO_1, default math
		{Algo: 1, Time: 0.5, Determinism: 1, MathType: cudnnTensorOpMath},               // ALGO_1, the backend's math
		{Algo: 2, Time: 0.6, Determinism: 1, MathType: cudnnTensorOpMath, Status: 3000}, // failed
	}
	b, _, _ := glueBackend(t, Options{TF32: true})
	c, err := b.pick(dirBackwardFilter, perf)
	if err != nil || c.algo != 0 {
		t.Errorf("timed pick: %+v %v, want the fastest, algo 0", c, err)
	}
	b.opts.Deterministic = true
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		rng.Shuffle(len(perf), func(i, j int) { perf[i], perf[j] = perf[j], perf[i] })
		c, err := b.pick(dirBackwardFilter, perf)
		if err != nil || c.algo != 1 || c.math != cudnnTensorOpMath {
			t.Fatalf("deterministic pick from %+v: %+v %v, want algo 1 with tensor-op math", perf, c, err)
		}
	}
	_, err = b.pick(dirBackwardFilter, []convAlgoPerf{{Algo: 0}, {Algo: 3, Status: 3000}})
	if err == nil || err.Error() != "cudnnFindConvolutionBackwardFilterAlgorithmEx: no deterministic algorithm succeeded within a 268435456-byte workspace [algo 0: not deterministic, 0 bytes; algo 3: CUDNN_STATUS_NOT_SUPPORTED (3000), 0 bytes]" {
		t.Errorf("no deterministic algorithm: %v", err)
	}
	// DepthwiseAuto in deterministic mode: the own kernels, untimed, no search.
	b2, f, mem := glueBackend(t, Options{Deterministic: true})
	mem.eventMs = 1e6 // would lose a timing
	dw := nn.ConvDesc{N: 1, C: 8, H: 9, W: 9, OC: 8, OH: 9, OW: 9, K: 3, Stride: 1, Pad: 1, Dilation: 1, Groups: 8}
	b2.Conv2DForward(dw, b2.Alloc(8*81), b2.Alloc(8*9), b2.Alloc(8*81))
	if !b2.convPlans[dw].fwd.own || f.finds != 0 || mem.launches != 1 {
		t.Errorf("deterministic depthwise: plan %+v, %d searches, %d launches; want the own kernel, none, 1", *b2.convPlans[dw], f.finds, mem.launches)
	}
}

// TestOwnDepthwiseReadsWeightsAsTheyAre: with mixed precision and the own
// depthwise kernels, the float32 weights (and their gradient) are not
// converted to half: each call is one kernel launch.
func TestOwnDepthwiseReadsWeightsAsTheyAre(t *testing.T) {
	b, _, mem := glueBackend(t, Options{Precision: FP16, Depthwise: DepthwiseKernel})
	d := nn.ConvDesc{N: 2, C: 8, H: 9, W: 9, OC: 8, OH: 9, OW: 9, K: 3, Stride: 1, Pad: 1, Dilation: 1, Groups: 8}
	x, y, w := b.AllocActivation(2*8*81), b.AllocActivation(2*8*81), b.Alloc(8*9)
	mem.launches = 0
	for range 2 {
		b.Conv2DForward(d, x, w, y)
		b.Conv2DBackwardData(d, y, w, x, true)
		b.Conv2DBackwardFilter(d, x, y, w)
	}
	if mem.launches != 6 {
		t.Errorf("%d kernel launches for 6 depthwise calls, want 6 (no conversions)", mem.launches)
	}
}

// TestEmulatedDeterministicRepeat runs TestParityDeterministic's training
// (tinyTrainingBits) twice on emulated backends with Options.Deterministic:
// the same bits, and every depthwise convolution on the own kernels.
func TestEmulatedDeterministicRepeat(t *testing.T) {
	var runs [2][]uint32
	for i := range runs {
		b := emuMixed(t, FP32)
		b.opts.Deterministic = true
		runs[i] = tinyTrainingBits(b)
		for d, p := range b.convPlans {
			if isDepthwise(d) && !(p.fwd.own && p.bwdData.own && p.bwdFilter.own) {
				t.Errorf("%+v: deterministic auto mode did not settle on the own kernels: %+v", d, *p)
			}
		}
	}
	if len(runs[0]) == 0 || fmt.Sprint(runs[0]) != fmt.Sprint(runs[1]) {
		t.Errorf("two deterministic runs differ (%d and %d values)", len(runs[0]), len(runs[1]))
	}
}
