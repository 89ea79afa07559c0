// convbn.go: convolutions and batch normalisation built on cuDNN (the
// bindings themselves are in cudnn.go): descriptors, algorithm choice,
// workspace, and the backend's own depthwise kernels as an alternative.

package cuda

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"unsafe"

	"pertnas/nn"
)

var (
	one  = float32(1)
	zero = float32(0)
)

func scalar(v *float32) unsafe.Pointer { return unsafe.Pointer(v) }

// cudnnType is the cuDNN data type of a dtype.
func cudnnType(dt dtype) int32 {
	switch dt {
	case f16:
		return cudnnDataHalf
	case bf16:
		return cudnnDataBFloat16
	}
	return cudnnDataFloat
}

// descKey identifies a tensor or filter descriptor: dims and element type.
type descKey struct {
	dims [4]int
	dt   dtype
}

// tensorDesc returns a cached NCHW descriptor of the given shape and type.
func (b *Backend) tensorDesc(dt dtype, n, c, h, w int) uintptr {
	key := descKey{[4]int{n, c, h, w}, dt}
	if d, ok := b.tensorDescs[key]; ok {
		return d
	}
	dnn := &b.l.dnn
	var d uintptr
	must(dnn.check("cudnnCreateTensorDescriptor", dnn.CreateTensorDesc(&d)))
	must(dnn.check(fmt.Sprintf("cudnnSetTensor4dDescriptor %v %v", key.dims, dt),
		dnn.SetTensor4dDesc(d, cudnnTensorNCHW, cudnnType(dt), int32(n), int32(c), int32(h), int32(w))))
	b.tensorDescs[key] = d
	return d
}

// filterDesc returns a cached KCRS filter descriptor.
func (b *Backend) filterDesc(dt dtype, k, c, h, w int) uintptr {
	key := descKey{[4]int{k, c, h, w}, dt}
	if d, ok := b.filterDescs[key]; ok {
		return d
	}
	dnn := &b.l.dnn
	var d uintptr
	must(dnn.check("cudnnCreateFilterDescriptor", dnn.CreateFilterDesc(&d)))
	must(dnn.check(fmt.Sprintf("cudnnSetFilter4dDescriptor %v %v", key.dims, dt),
		dnn.SetFilter4dDesc(d, cudnnType(dt), cudnnTensorNCHW, int32(k), int32(c), int32(h), int32(w))))
	b.filterDescs[key] = d
	return d
}

// convDescKey identifies a convolution descriptor.
type convDescKey struct{ pad, stride, dilation, groups int }

// convMath is the cuDNN math type: FMA (strict fp32) unless TF32 is
// allowed or the precision is mixed (tensor cores).
func (b *Backend) convMath() int32 {
	if b.opts.TF32 || b.opts.Precision != FP32 {
		return cudnnTensorOpMath
	}
	return cudnnFMAMath
}

// actType is the element type convolutions and batch norm run in: the
// activations' type.
func (b *Backend) actType() dtype { return b.opts.Precision.activations() }

// operand returns the address of the first n values of x in type dt: x
// itself, or a converted copy in the scratch buffer of role.
func (b *Backend) operand(role string, x nn.Buffer, n int, dt dtype) uint64 {
	xb := b.buf(x)
	if xb.dt == dt || xb.ptr == 0 {
		return xb.ptr
	}
	s := b.scratchBuf(role, n) // float32-sized: room for any type
	b.convert(s.ptr, dt, xb.ptr, xb.dt, n)
	return s.ptr
}

// result is where a cuDNN call writes an output y of n values in type dt:
// y itself, or scratch of role; done moves a scratch result into y,
// overwriting or (accumulate) adding.
type result struct {
	b          *Backend
	y          *buffer
	ptr        uint64
	dt         dtype
	n          int
	accumulate bool
}

func (b *Backend) result(role string, y nn.Buffer, n int, dt dtype, accumulate bool) result {
	yb := b.buf(y)
	r := result{b: b, y: yb, ptr: yb.ptr, dt: dt, n: n, accumulate: accumulate}
	if yb.dt != dt {
		r.ptr = b.scratchBuf(role, n).ptr
	}
	return r
}

// beta is cuDNN's beta for the call: 1 to accumulate into y itself, else 0.
func (r result) beta() unsafe.Pointer {
	if r.accumulate && r.ptr == r.y.ptr {
		return scalar(&one)
	}
	return scalar(&zero)
}

func (r result) done() {
	if r.ptr == r.y.ptr {
		return
	}
	name := "k_scale"
	if r.accumulate {
		name = "k_axpy"
	}
	r.b.launch(name, blocksFor(r.n), new(args).t(r.y.ptr, r.y.dt).t(r.ptr, r.dt).f32(1).i64(r.n))
}

func (b *Backend) convDesc(key convDescKey) uintptr {
	if d, ok := b.convDescs[key]; ok {
		return d
	}
	dnn := &b.l.dnn
	var d uintptr
	must(dnn.check("cudnnCreateConvolutionDescriptor", dnn.CreateConvDesc(&d)))
	p, s, dl := int32(key.pad), int32(key.stride), int32(key.dilation)
	must(dnn.check(fmt.Sprintf("cudnnSetConvolution2dDescriptor %+v", key),
		dnn.SetConv2dDesc(d, p, p, s, s, dl, dl, cudnnCrossCorrelation, cudnnDataFloat)))
	must(dnn.check("cudnnSetConvolutionGroupCount", dnn.SetConvGroupCount(d, int32(key.groups))))
	must(dnn.check("cudnnSetConvolutionMathType", dnn.SetConvMathType(d, b.convMath())))
	b.convDescs[key] = d
	return d
}

// convPlan is everything cuDNN needs for one convolution shape: the
// descriptors and, once found, the algorithm of each direction.
type convPlan struct {
	x, w, y, conv uintptr
	fwd, bwdData  algoChoice
	bwdFilter     algoChoice
}

// algoChoice is how one direction of a convolution runs: the algorithm
// cudnnFind*AlgorithmEx picked, with the math type of the variant it timed
// (the descriptor is set to it before each call), the workspace that
// variant needs and its measured time; or own for the backend's depthwise
// kernel (fallback says why, when cuDNN was asked and could not run it).
type algoChoice struct {
	found    bool
	own      bool
	algo     int32
	math     int32
	bytes    int
	ms       float32
	fallback string
}

// convDir describes one direction of a convolution for the algorithm search.
type convDir struct {
	find  string // the cudnnFind*AlgorithmEx call
	count int    // its *_ALGO_COUNT
	// prefer is the fixed order in which Options.Deterministic takes the
	// deterministic algorithms (implicit GEMM / ALGO_1 first: they need
	// little workspace and support every shape), instead of the timed one.
	prefer []int32
}

var (
	dirForward = convDir{"cudnnFindConvolutionForwardAlgorithmEx", cudnnConvFwdAlgoCount,
		[]int32{1, 0, 2, 7, 6, 5, 4, 3}}
	dirBackwardData = convDir{"cudnnFindConvolutionBackwardDataAlgorithmEx", cudnnConvBwdDataCount,
		[]int32{1, 5, 4, 3, 2, 0}}
	dirBackwardFilter = convDir{"cudnnFindConvolutionBackwardFilterAlgorithmEx", cudnnConvBwdFilterCount,
		[]int32{1, 5, 6, 2, 0, 3, 4}}
)

// isDepthwise reports whether the backend's own depthwise kernels apply.
func isDepthwise(d nn.ConvDesc) bool { return d.Groups > 1 && d.Groups == d.C && d.OC == d.C }

// dwArgs appends the shape arguments of the k_dw_* kernels.
func dwArgs(a *args, n int, d nn.ConvDesc) *args {
	return a.i32(n).i32(d.C).i32(d.H).i32(d.W).i32(d.OH).i32(d.OW).i32(d.K).i32(d.Stride).i32(d.Pad).i32(d.Dilation)
}

func (b *Backend) convPlan(d nn.ConvDesc) *convPlan {
	if p, ok := b.convPlans[d]; ok {
		return p
	}
	if d.C%max(d.Groups, 1) != 0 || d.OC%max(d.Groups, 1) != 0 {
		panic(fmt.Sprintf("cuda: conv %+v: channels not divisible by groups", d))
	}
	dt := b.actType()
	p := &convPlan{
		x:    b.tensorDesc(dt, d.N, d.C, d.H, d.W),
		w:    b.filterDesc(dt, d.OC, d.C/max(d.Groups, 1), d.K, d.K),
		y:    b.tensorDesc(dt, d.N, d.OC, d.OH, d.OW),
		conv: b.convDesc(convDescKey{d.Pad, d.Stride, d.Dilation, max(d.Groups, 1)}),
	}
	var n, c, h, w int32
	must(b.l.dnn.check("cudnnGetConvolution2dForwardOutputDim", b.l.dnn.GetConv2dFwdOutputDim(p.conv, p.x, p.w, &n, &c, &h, &w)))
	if int(n) != d.N || int(c) != d.OC || int(h) != d.OH || int(w) != d.OW {
		panic(fmt.Sprintf("cuda: conv %+v: cuDNN computes output [%d %d %d %d]", d, n, c, h, w))
	}
	b.convPlans[d] = p
	return p
}

// ensureWorkspace grows the shared cuDNN workspace to at least bytes.
func (b *Backend) ensureWorkspace(bytes int) {
	if bytes <= b.wsBytes {
		return
	}
	if b.workspace != 0 {
		// Work already queued may still use the old workspace: wait for it.
		b.sync()
		b.drv.MemFree(b.workspace)
		b.workspace, b.wsBytes = 0, 0
	}
	var p uint64
	must(b.drv.check("cuMemAlloc_v2 (cuDNN workspace)", b.drv.MemAlloc(&p, uint64(bytes))))
	b.workspace, b.wsBytes = p, bytes
}

// findFunc runs one cudnnFind*AlgorithmEx, writing its output to the
// scratch buffer out and up to req results to perf.
type findFunc func(out uint64, req int32, ret *int32, perf unsafe.Pointer) int32

// wsFunc asks cuDNN for the workspace of algo with the descriptor's current
// math type (cudnnGetConvolution*WorkspaceSize).
type wsFunc func(algo int32, bytes *uint64) int32

// choose fills c on the first call for a plan direction (see search), then
// makes sure the workspace holds the choice's needs.
func (b *Backend) choose(c *algoChoice, dir convDir, conv uintptr, outLen int, find findFunc, ws wsFunc, own func(out uint64, dt dtype)) {
	if !c.found {
		*c = b.search(dir, conv, outLen, find, ws, own)
	}
	if !c.own {
		b.ensureWorkspace(c.bytes)
	}
}

// ownFixed settles c, not yet chosen, on the own depthwise kernel when that
// needs no search: for a depthwise convolution (hasOwn) with DepthwiseKernel,
// or DepthwiseAuto with Options.Deterministic (a fixed choice). It reports
// whether the own kernel runs, so that the caller converts no operands for
// cuDNN.
func (b *Backend) ownFixed(c *algoChoice, hasOwn bool) bool {
	if !c.found && hasOwn && (b.opts.Depthwise == DepthwiseKernel || (b.opts.Depthwise == DepthwiseAuto && b.opts.Deterministic)) {
		*c = algoChoice{found: true, own: true}
	}
	return c.own
}

// search chooses how a direction of a convolution runs. Without own (not a
// depthwise convolution) it is cuDNN's algorithm, found by
// cudnnFind*AlgorithmEx with the descriptor at the backend's math type and
// picked by pick; its workspace is the larger of what Find reported and
// what cuDNN asks for that algorithm at the math type of the timed variant.
// For a depthwise convolution not settled by ownFixed, Options.Depthwise
// decides: cuDNN, or the faster of the two (DepthwiseAuto); and the own
// kernel replaces cuDNN when the search fails (NOT_SUPPORTED) or nothing
// fits the workspace, instead of failing.
func (b *Backend) search(dir convDir, conv uintptr, outLen int, find findFunc, ws wsFunc, own func(out uint64, dt dtype)) algoChoice {
	mode := b.opts.Depthwise
	if own == nil {
		mode = DepthwiseCudnn
	}
	dnn := &b.l.dnn
	b.ensureWorkspace(b.opts.WorkspaceLimit)
	b.setConvMath(conv, b.convMath())
	// Find writes the output: a scratch buffer keeps accumulating
	// outputs (dx, dw) intact.
	tmp := b.newTyped(outLen, b.actType())
	perf := make([]convAlgoPerf, dir.count)
	var ret int32
	err := dnn.check(dir.find, find(tmp.ptr, int32(len(perf)), &ret, unsafe.Pointer(&perf[0])))
	var c algoChoice
	if err == nil {
		c, err = b.pick(dir, perf[:max(0, min(int(ret), len(perf)))])
	}
	if err != nil {
		if own == nil {
			panic(Failure{err})
		}
		return algoChoice{found: true, own: true, fallback: err.Error()}
	}
	b.setConvMath(conv, c.math)
	var need uint64
	if st := ws(c.algo, &need); st == 0 && int(need) > c.bytes {
		c.bytes = int(need)
	}
	if mode == DepthwiseAuto {
		if ms := b.timeIt(func() { own(tmp.ptr, tmp.dt) }); ms < c.ms {
			return algoChoice{found: true, own: true, ms: ms}
		}
	}
	return c
}

// setConvMath sets the math type of a convolution descriptor. Descriptors
// are shared by the shapes with the same geometry, so each cuDNN call sets
// the math type of its own choice first.
func (b *Backend) setConvMath(conv uintptr, math int32) {
	must(b.l.dnn.check("cudnnSetConvolutionMathType", b.l.dnn.SetConvMathType(conv, math)))
}

// pick returns the result to run: the fastest successful one (cuDNN sorts
// them by time) whose workspace fits the limit; with Options.Deterministic,
// among the successful, fitting results that cuDNN marks
// CUDNN_DETERMINISTIC, the first algorithm of dir.prefer, at the backend's
// own math type when both are offered, so that the choice does not depend
// on timings and a rerun computes the same bits.
func (b *Backend) pick(dir convDir, perf []convAlgoPerf) (algoChoice, error) {
	ok := func(r convAlgoPerf) bool {
		return r.Status == 0 && int(r.Memory) <= b.opts.WorkspaceLimit &&
			(!b.opts.Deterministic || r.Determinism == cudnnDeterministic)
	}
	best := -1
	rank := func(r convAlgoPerf) int {
		i := slices.Index(dir.prefer, r.Algo)
		if i < 0 {
			i = len(dir.prefer) + int(r.Algo)
		}
		if r.MathType != b.convMath() {
			i = 2*i + 1
		} else {
			i = 2 * i
		}
		return i
	}
	for i, r := range perf {
		if !ok(r) {
			continue
		}
		if !b.opts.Deterministic {
			best = i
			break
		}
		if best < 0 || rank(r) < rank(perf[best]) {
			best = i
		}
	}
	if best >= 0 {
		r := perf[best]
		return algoChoice{found: true, algo: r.Algo, math: r.MathType, bytes: int(r.Memory), ms: r.Time}, nil
	}
	var tried []string
	for _, r := range perf {
		st := "ok"
		if r.Status != 0 {
			name := cudnnStatusNames[r.Status]
			if b.l.dnn.GetErrorString != nil {
				name = b.l.dnn.GetErrorString(r.Status)
			}
			st = fmt.Sprintf("%s (%d)", name, r.Status)
		} else if b.opts.Deterministic && r.Determinism != cudnnDeterministic {
			st = "not deterministic"
		}
		tried = append(tried, fmt.Sprintf("algo %d: %s, %d bytes", r.Algo, st, r.Memory))
	}
	what := "algorithm"
	if b.opts.Deterministic {
		what = "deterministic algorithm"
	}
	return algoChoice{}, fmt.Errorf("%s: no %s succeeded within a %d-byte workspace [%s]", dir.find, what, b.opts.WorkspaceLimit, strings.Join(tried, "; "))
}

// timeIt returns the mean time in milliseconds of three runs of the work fn
// queues, measured with CUDA events.
func (b *Backend) timeIt(fn func()) float32 {
	d := b.drv
	for i := range b.events {
		if b.events[i] == 0 {
			must(d.check("cuEventCreate", d.EventCreate(&b.events[i], eventDefault)))
		}
	}
	must(d.check("cuEventRecord", d.EventRecord(b.events[0], b.stream)))
	for range 3 {
		fn()
	}
	must(d.check("cuEventRecord", d.EventRecord(b.events[1], b.stream)))
	must(d.check("cuEventSynchronize", d.EventSynchronize(b.events[1])))
	var ms float32
	must(d.check("cuEventElapsedTime_v2", d.EventElapsedTime(&ms, b.events[0], b.events[1])))
	return ms / 3
}

// Conv2DForward: y = conv(x, w). The algorithm is found by timing
// (cudnnFindConvolutionForwardAlgorithmEx) on the first call for a shape.
// With mixed precision, cuDNN sees half x, w and y (float32 weights are
// converted on each call; they are small); the own depthwise kernel reads
// them as they are.
func (b *Backend) Conv2DForward(d nn.ConvDesc, x, w, y nn.Buffer) {
	b.enter()
	defer b.leave()
	p, dnn, dt := b.convPlan(d), &b.l.dnn, b.actType()
	var own func(out uint64, odt dtype)
	if isDepthwise(d) {
		own = func(out uint64, odt dtype) {
			b.launch("k_dw_fwd", blocksFor(y.Len()), dwArgs(new(args).t(out, odt).t(b.dev(x)).t(b.dev(w)), d.N*d.C, d))
		}
	}
	if b.ownFixed(&p.fwd, own != nil) {
		own(b.dev(y))
		return
	}
	xp, wp := b.operand("conv-x", x, d.N*d.C*d.H*d.W, dt), b.operand("conv-w", w, w.Len(), dt)
	b.choose(&p.fwd, dirForward, p.conv, y.Len(), func(out uint64, req int32, ret *int32, perf unsafe.Pointer) int32 {
		return dnn.FindConvFwdAlgoEx(b.dnn, p.x, xp, p.w, wp, p.conv, p.y, out, req, ret, perf, b.workspace, uint64(b.wsBytes))
	}, func(algo int32, bytes *uint64) int32 {
		return dnn.GetConvFwdWorkspace(b.dnn, p.x, p.w, p.conv, p.y, algo, bytes)
	}, own)
	if p.fwd.own {
		own(b.dev(y))
		return
	}
	r := b.result("conv-y", y, y.Len(), dt, false)
	b.setConvMath(p.conv, p.fwd.math)
	b.queued("cudnnConvolutionForward", d)
	if st := dnn.ConvFwd(b.dnn, scalar(&one), p.x, xp, p.w, wp, p.conv,
		p.fwd.algo, b.workspace, uint64(p.fwd.bytes), r.beta(), p.y, r.ptr); st != 0 {
		must(dnn.check(fmt.Sprintf("cudnnConvolutionForward %+v", d), st))
	}
	r.done()
}

// Conv2DBackwardData: dx (+)= conv_transpose(dy, w).
func (b *Backend) Conv2DBackwardData(d nn.ConvDesc, dy, w, dx nn.Buffer, accumulate bool) {
	b.enter()
	defer b.leave()
	p, dnn, dt := b.convPlan(d), &b.l.dnn, b.actType()
	var own func(out uint64, odt dtype)
	if isDepthwise(d) {
		own = func(out uint64, odt dtype) {
			b.launch("k_dw_bwd_data", blocksFor(dx.Len()), dwArgs(new(args).t(out, odt).t(b.dev(dy)).t(b.dev(w)), d.N*d.C, d).flag(accumulate))
		}
	}
	if b.ownFixed(&p.bwdData, own != nil) {
		own(b.dev(dx))
		return
	}
	dyp, wp := b.operand("conv-y", dy, d.N*d.OC*d.OH*d.OW, dt), b.operand("conv-w", w, w.Len(), dt)
	b.choose(&p.bwdData, dirBackwardData, p.conv, dx.Len(), func(out uint64, req int32, ret *int32, perf unsafe.Pointer) int32 {
		return dnn.FindConvBwdDataAlgoEx(b.dnn, p.w, wp, p.y, dyp, p.conv, p.x, out, req, ret, perf, b.workspace, uint64(b.wsBytes))
	}, func(algo int32, bytes *uint64) int32 {
		return dnn.GetConvBwdDataWorkspace(b.dnn, p.w, p.y, p.conv, p.x, algo, bytes)
	}, own)
	if p.bwdData.own {
		own(b.dev(dx))
		return
	}
	r := b.result("conv-x", dx, dx.Len(), dt, accumulate)
	b.setConvMath(p.conv, p.bwdData.math)
	b.queued("cudnnConvolutionBackwardData", d)
	if st := dnn.ConvBwdData(b.dnn, scalar(&one), p.w, wp, p.y, dyp, p.conv,
		p.bwdData.algo, b.workspace, uint64(p.bwdData.bytes), r.beta(), p.x, r.ptr); st != 0 {
		must(dnn.check(fmt.Sprintf("cudnnConvolutionBackwardData %+v", d), st))
	}
	r.done()
}

// Conv2DBackwardFilter: dw += corr(x, dy). With mixed precision cuDNN
// writes a half weight gradient to scratch, added to the float32 dw.
func (b *Backend) Conv2DBackwardFilter(d nn.ConvDesc, x, dy, dw nn.Buffer) {
	b.enter()
	defer b.leave()
	p, dnn, dt := b.convPlan(d), &b.l.dnn, b.actType()
	var own func(out uint64, odt dtype)
	if isDepthwise(d) {
		own = func(out uint64, odt dtype) {
			b.launch("k_dw_bwd_filter", d.C*d.K*d.K, dwArgs(new(args).t(out, odt).t(b.dev(x)).t(b.dev(dy)), d.N, d))
		}
	}
	if b.ownFixed(&p.bwdFilter, own != nil) {
		own(b.dev(dw))
		return
	}
	xp, dyp := b.operand("conv-x", x, d.N*d.C*d.H*d.W, dt), b.operand("conv-y", dy, d.N*d.OC*d.OH*d.OW, dt)
	b.choose(&p.bwdFilter, dirBackwardFilter, p.conv, dw.Len(), func(out uint64, req int32, ret *int32, perf unsafe.Pointer) int32 {
		return dnn.FindConvBwdFilterAlgoEx(b.dnn, p.x, xp, p.y, dyp, p.conv, p.w, out, req, ret, perf, b.workspace, uint64(b.wsBytes))
	}, func(algo int32, bytes *uint64) int32 {
		return dnn.GetConvBwdFilterWorkspace(b.dnn, p.x, p.y, p.conv, p.w, algo, bytes)
	}, own)
	if p.bwdFilter.own {
		own(b.dev(dw))
		return
	}
	r := b.result("conv-w", dw, dw.Len(), dt, true)
	b.setConvMath(p.conv, p.bwdFilter.math)
	b.queued("cudnnConvolutionBackwardFilter", d)
	if st := dnn.ConvBwdFilter(b.dnn, scalar(&one), p.x, xp, p.y, dyp, p.conv,
		p.bwdFilter.algo, b.workspace, uint64(p.bwdFilter.bytes), r.beta(), p.w, r.ptr); st != 0 {
		must(dnn.check(fmt.Sprintf("cudnnConvolutionBackwardFilter %+v", d), st))
	}
	r.done()
}

// bnDescs returns the descriptors of x ([N, C, HW, 1], in the activations'
// type) and of the per-channel parameters ([1, C, 1, 1], float32).
func (b *Backend) bnDescs(d nn.BNDesc) (x, ch uintptr) {
	return b.tensorDesc(b.actType(), d.N, d.C, d.HW, 1), b.tensorDesc(f32, 1, d.C, 1, 1)
}

// affine returns gamma and beta, or constant ones and zeros when nil.
func (b *Backend) affine(c int, gamma, beta nn.Buffer) (uint64, uint64) {
	g, bt := b.ptr(gamma), b.ptr(beta)
	if g != 0 && bt != 0 {
		return g, bt
	}
	cb, ok := b.constBufs[c]
	if !ok {
		ones := make([]float32, c)
		for i := range ones {
			ones[i] = 1
		}
		cb = [2]*buffer{b.newBuffer(c), b.newBuffer(c)}
		b.upload(cb[0].ptr, unsafe.Pointer(&ones[0]), c*4)
		must(b.drv.check("cuMemsetD32Async", b.drv.MemsetD32Async(cb[1].ptr, 0, uint64(c), b.stream)))
		b.constBufs[c] = cb
	}
	if g == 0 {
		g = cb[0].ptr
	}
	if bt == 0 {
		bt = cb[1].ptr
	}
	return g, bt
}

// bnEpsilon is the epsilon cuDNN gets: the layer's, unchanged
// (CUDNN_BN_MIN_EPSILON is 0 in cuDNN 9, so any positive epsilon is valid).
func bnEpsilon(eps float32) float64 { return float64(eps) }

// BatchNormTrain normalises with batch statistics (cuDNN spatial mode),
// saves mean and 1/sqrt(var+eps) and updates the running statistics with
// the unbiased variance and factor d.Momentum. x and y are in the
// activations' type (cuDNN's mixed-precision batch norm keeps the
// statistics and parameters in float32).
func (b *Backend) BatchNormTrain(d nn.BNDesc, x, gamma, beta, runMean, runVar, y, saveMean, saveInvStd nn.Buffer) {
	b.enter()
	defer b.leave()
	xd, cd := b.bnDescs(d)
	g, bt := b.affine(d.C, gamma, beta)
	dnn, dt, n := &b.l.dnn, b.actType(), d.N*d.C*d.HW
	xp := b.operand("bn-x", x, n, dt)
	r := b.result("bn-y", y, n, dt, false)
	b.queued("cudnnBatchNormalizationForwardTraining", d)
	must(dnn.check("cudnnBatchNormalizationForwardTraining", dnn.BatchNormFwdTraining(b.dnn, cudnnBatchNormSpatial, scalar(&one), r.beta(),
		xd, xp, xd, r.ptr, cd, g, bt, float64(d.Momentum), b.ptr(runMean), b.ptr(runVar), bnEpsilon(d.Eps),
		b.ptr(saveMean), b.ptr(saveInvStd))))
	r.done()
}

// BatchNormTrainBackward writes (or adds, when accumulate) dx and adds
// dgamma and dbeta (when not nil) from the saved batch statistics.
func (b *Backend) BatchNormTrainBackward(d nn.BNDesc, x, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta nn.Buffer, accumulate bool) {
	b.enter()
	defer b.leave()
	xd, cd := b.bnDescs(d)
	g, _ := b.affine(d.C, gamma, nil)
	dg, db := b.ptr(dgamma), b.ptr(dbeta)
	if (dg == 0) != (db == 0) {
		panic("cuda: BatchNormTrainBackward needs both or neither of dgamma and dbeta")
	}
	betaParam := &one
	if dg == 0 {
		// cuDNN always writes both parameter gradients: send them to scratch,
		// overwriting (beta 0) since scratch holds garbage.
		s := b.scratchBuf("bn-dparam", 2*d.C)
		dg, db = s.ptr, s.ptr+uint64(4*d.C)
		betaParam = &zero
	}
	dnn, dt, n := &b.l.dnn, b.actType(), d.N*d.C*d.HW
	xp, dyp := b.operand("bn-x", x, n, dt), b.operand("bn-y", dy, n, dt)
	r := b.result("bn-dx", dx, n, dt, accumulate)
	b.queued("cudnnBatchNormalizationBackward", d)
	must(dnn.check("cudnnBatchNormalizationBackward", dnn.BatchNormBwd(b.dnn, cudnnBatchNormSpatial, scalar(&one), r.beta(), scalar(&one), scalar(betaParam),
		xd, xp, xd, dyp, xd, r.ptr, cd, g, dg, db, bnEpsilon(d.Eps), b.ptr(saveMean), b.ptr(saveInvStd))))
	r.done()
}

// BatchNormInfer normalises with the running statistics.
func (b *Backend) BatchNormInfer(d nn.BNDesc, x, gamma, beta, runMean, runVar, y nn.Buffer) {
	b.enter()
	defer b.leave()
	xd, cd := b.bnDescs(d)
	g, bt := b.affine(d.C, gamma, beta)
	dnn, dt, n := &b.l.dnn, b.actType(), d.N*d.C*d.HW
	xp := b.operand("bn-x", x, n, dt)
	r := b.result("bn-y", y, n, dt, false)
	b.queued("cudnnBatchNormalizationForwardInference", d)
	must(dnn.check("cudnnBatchNormalizationForwardInference", dnn.BatchNormFwdInference(b.dnn, cudnnBatchNormSpatial, scalar(&one), r.beta(),
		xd, xp, xd, r.ptr, cd, g, bt, b.ptr(runMean), b.ptr(runVar), bnEpsilon(d.Eps))))
	r.done()
}

// BatchNormInferBackward is the gradient of BatchNormInfer (statistics held
// fixed), written as a kernel: cuDNN has no such function.
func (b *Backend) BatchNormInferBackward(d nn.BNDesc, x, dy, gamma, runMean, runVar, dx, dgamma, dbeta nn.Buffer) {
	b.enter()
	defer b.leave()
	a := new(args).t(b.dev(dx)).t(b.dev(dgamma)).t(b.dev(dbeta)).t(b.dev(x)).t(b.dev(dy)).t(b.dev(gamma)).
		t(b.dev(runMean)).t(b.dev(runVar)).f32(float32(bnEpsilon(d.Eps))).i32(d.N).i32(d.C).i32(d.HW)
	b.launch("k_bn_infer_bwd", d.C, a)
}

// ConvSummary says how the convolutions seen so far run: per direction, how
// many shapes use the backend's depthwise kernels and how many cuDNN, with
// the cuDNN algorithms picked (for benchmark logs).
func (b *Backend) ConvSummary() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d convolution shapes;", len(b.convPlans))
	for _, dir := range []struct {
		name string
		get  func(*convPlan) algoChoice
	}{
		{"forward", func(p *convPlan) algoChoice { return p.fwd }},
		{"backward data", func(p *convPlan) algoChoice { return p.bwdData }},
		{"backward filter", func(p *convPlan) algoChoice { return p.bwdFilter }},
	} {
		own, algos := 0, map[int32]int{}
		for _, p := range b.convPlans {
			switch c := dir.get(p); {
			case !c.found:
			case c.own:
				own++
			default:
				algos[c.algo]++
			}
		}
		keys := make([]int, 0, len(algos))
		for a := range algos {
			keys = append(keys, int(a))
		}
		sort.Ints(keys)
		fmt.Fprintf(&sb, " %s: %d own depthwise kernel, cuDNN algos", dir.name, own)
		for _, a := range keys {
			fmt.Fprintf(&sb, " %d(x%d)", a, algos[int32(a)])
		}
		sb.WriteString(";")
	}
	return strings.TrimSuffix(sb.String(), ";")
}
