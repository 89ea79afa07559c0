package cuda

import (
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"strings"
	"unsafe"

	"pertnas/nn"
)

// Backend is the GPU implementation of nn.Backend. Every operation is queued
// on one CUDA stream in call order; Download, SumSquares and Synchronize wait
// for the queue. Methods must not be called concurrently. A failing library
// call panics with a Failure carrying the library's error text.
//
// Numerics: convolutions and GEMMs are strict fp32 unless Options.TF32;
// reductions written here (sums of squares, global pooling, losses, bias
// gradients) use a fixed order, so a step's results are the same from run to
// run when cuDNN picks deterministic algorithms.
type Backend struct {
	*device
	opts    Options
	pool    pool
	staging staging

	tensorDescs map[descKey]uintptr
	filterDescs map[descKey]uintptr
	convDescs   map[convDescKey]uintptr
	convPlans   map[nn.ConvDesc]*convPlan
	workspace   uint64
	wsBytes     int
	events      [2]uintptr         // for timing (timeIt)
	constBufs   map[int][2]*buffer // per C: ones, zeros (BN without affine)
	scratch     map[string]*buffer // small named scratch buffers, by role
	sumsqOut    []float64          // SumSquaresAll's per-chunk sums, copied back
	sumsqChunks []sumsqChunk       // SumSquaresAll's chunk table, reused
	trace       []string           // with Options.SyncCheck: what the current method queued
	flagOut     [1]int32           // UnscaleGrads' overflow flag, copied back
	closed      bool
}

var (
	_ nn.Backend       = (*Backend)(nil)
	_ nn.DeviceFailure = Failure{}
)

// New opens GPU ordinal device (0 is the first) as an nn.Backend. The
// backend is a *Backend (Close, Info, Synchronize).
func New(device int, opts Options) (nn.Backend, error) {
	b, err := NewBackend(device, opts)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// NewBackend is New returning the concrete type.
func NewBackend(device int, opts Options) (*Backend, error) {
	dv, err := openDevice(opts, device)
	if err != nil {
		return nil, fmt.Errorf("cuda: device %d: %w", device, err)
	}
	opts.SyncCheck = opts.SyncCheck || os.Getenv(EnvSync) == "1"
	return newBackend(dv, opts), nil
}

// newBackend wraps an opened device.
func newBackend(dv *device, opts Options) *Backend {
	if opts.WorkspaceLimit <= 0 {
		opts.WorkspaceLimit = 256 << 20
	}
	return &Backend{
		device:      dv,
		opts:        opts,
		tensorDescs: map[descKey]uintptr{},
		filterDescs: map[descKey]uintptr{},
		convDescs:   map[convDescKey]uintptr{},
		convPlans:   map[nn.ConvDesc]*convPlan{},
		constBufs:   map[int][2]*buffer{},
		scratch:     map[string]*buffer{},
		sumsqOut:    make([]float64, 1),
	}
}

// Precision is the backend's Options.Precision.
func (b *Backend) Precision() Precision { return b.opts.Precision }

// Info describes the GPU and the libraries in use.
func (b *Backend) Info() DeviceInfo { return b.info }

// Name returns "cuda:N".
func (b *Backend) Name() string { return fmt.Sprintf("cuda:%d", b.info.Ordinal) }

// enter pins the calling goroutine to its OS thread and makes the backend's
// context current there (a CUDA context is per thread); leave undoes the pin.
func (b *Backend) enter() {
	if b.closed {
		panic(Failure{errClosed})
	}
	runtime.LockOSThread()
	if r := b.drv.CtxSetCurrent(b.ctx); r != cudaSuccess {
		runtime.UnlockOSThread()
		must(b.drv.check("cuCtxSetCurrent", r))
	}
}

// leave undoes enter. With Options.SyncCheck, a method that returns
// normally is followed by a stream synchronisation whose failure panics
// with a Failure naming the method and what it queued (see syncCheck).
func (b *Backend) leave() {
	if b.opts.SyncCheck {
		if r := recover(); r != nil {
			b.trace = b.trace[:0]
			runtime.UnlockOSThread()
			panic(r)
		}
		b.syncCheck()
	}
	runtime.UnlockOSThread()
}

// syncCheck waits for the work the calling Backend method queued and
// panics, when it failed, with an error naming the method and the kernels
// and library calls it queued with their sizes.
func (b *Backend) syncCheck() {
	method := "?"
	pc := make([]uintptr, 1)
	// 0 Callers, 1 syncCheck, 2 leave, 3 the method's return.
	if runtime.Callers(3, pc) == 1 {
		if f := runtime.FuncForPC(pc[0]); f != nil {
			method = f.Name()[strings.LastIndexByte(f.Name(), '.')+1:]
		}
	}
	trace := strings.Join(b.trace, "; ")
	b.trace = b.trace[:0]
	if r := b.drv.StreamSynchronize(b.stream); r != cudaSuccess {
		b.staging.offset = 0
		must(b.drv.check(fmt.Sprintf("%s=1: cuStreamSynchronize after Backend.%s [queued: %s]", EnvSync, method, trace), r))
	}
	b.staging.offset = 0
}

// queued records, with Options.SyncCheck, a library call and its shape for
// syncCheck's message.
func (b *Backend) queued(call string, shape any) {
	if b.opts.SyncCheck {
		b.trace = append(b.trace, fmt.Sprintf("%s %+v", call, shape))
	}
}

// Synchronize waits until all queued work has finished, returning the error
// of any asynchronous failure.
func (b *Backend) Synchronize() (err error) {
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(Failure)
			if !ok {
				panic(r)
			}
			err = f
		}
	}()
	b.enter()
	defer b.leave()
	b.sync()
	return nil
}

// Close waits for queued work and releases the device's resources: handles,
// descriptors, the workspace and the pooled memory. Buffers still referenced
// keep their memory until the process exits; they must not be used after.
func (b *Backend) Close() {
	if b.closed {
		return
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.drv.CtxSetCurrent(b.ctx)
	b.drv.StreamSynchronize(b.stream)
	dnn := &b.l.dnn
	for _, d := range b.tensorDescs {
		dnn.DestroyTensorDesc(d)
	}
	for _, d := range b.filterDescs {
		dnn.DestroyFilterDesc(d)
	}
	for _, d := range b.convDescs {
		dnn.DestroyConvDesc(d)
	}
	if b.staging.host != nil {
		b.drv.MemFreeHost(b.staging.host)
	}
	if b.workspace != 0 {
		b.drv.MemFree(b.workspace)
	}
	for _, e := range b.events {
		if e != 0 {
			b.drv.EventDestroy(e)
		}
	}
	for _, p := range b.pool.drain() {
		b.drv.MemFree(p)
	}
	b.device.close()
	b.closed = true
}

// ptr returns the device address of an nn.Buffer made by this backend (0 for nil).
func (b *Backend) ptr(x nn.Buffer) uint64 { return b.buf(x).ptr }

// dev returns the device address and element type of an nn.Buffer made by
// this backend (0 and fp32 for nil).
func (b *Backend) dev(x nn.Buffer) (uint64, dtype) {
	buf := b.buf(x)
	return buf.ptr, buf.dt
}

var nilBuffer = &buffer{}

// buf returns x as this backend's buffer (an empty one for nil).
func (b *Backend) buf(x nn.Buffer) *buffer {
	if x == nil {
		return nilBuffer
	}
	buf, ok := x.(*buffer)
	if !ok {
		panic(fmt.Sprintf("cuda: buffer of type %T is not from a cuda backend", x))
	}
	if buf == nil {
		return nilBuffer
	}
	if buf.owner != b {
		panic("cuda: buffer belongs to another cuda backend")
	}
	return buf
}

// Alloc returns a zeroed buffer of n float32 values.
func (b *Backend) Alloc(n int) nn.Buffer {
	b.enter()
	defer b.leave()
	return b.zeroed(n, f32)
}

// AllocActivation returns a zeroed buffer for n activation values or
// activation gradients (nn.ActivationAllocator): stored in half precision
// when Options.Precision is fp16 or bf16, else like Alloc.
func (b *Backend) AllocActivation(n int) nn.Buffer {
	b.enter()
	defer b.leave()
	return b.zeroed(n, b.opts.Precision.activations())
}

func (b *Backend) zeroed(n int, dt dtype) *buffer {
	buf := b.newTyped(n, dt)
	// Whole words: allocations are size classes of at least 512 bytes, so a
	// half buffer of odd length still has the last word.
	if words := (n*dt.size() + 3) / 4; words > 0 {
		must(b.drv.check("cuMemsetD32Async", b.drv.MemsetD32Async(buf.ptr, 0, uint64(words), b.stream)))
	}
	return buf
}

// Upload copies src to dst (len(src) values), rounding to dst's type. src
// is read only during the call (it is copied into pinned staging memory
// before the asynchronous copy is queued): the caller may reuse it at once.
func (b *Backend) Upload(dst nn.Buffer, src []float32) {
	if len(src) == 0 {
		return
	}
	checkLen("Upload", dst, len(src))
	b.enter()
	defer b.leave()
	d := b.buf(dst)
	to := d.ptr
	if d.dt != f32 {
		to = b.scratchBuf("convert", len(src)).ptr
	}
	b.upload(to, unsafe.Pointer(&src[0]), len(src)*4)
	runtime.KeepAlive(src)
	if d.dt != f32 {
		b.convert(d.ptr, d.dt, to, f32, len(src))
	}
}

// Download waits for queued work and copies len(dst) values of src to dst,
// widened to float32.
func (b *Backend) Download(dst []float32, src nn.Buffer) {
	if len(dst) == 0 {
		return
	}
	checkLen("Download", src, len(dst))
	b.enter()
	defer b.leave()
	s := b.buf(src)
	from := s.ptr
	if s.dt != f32 {
		from = b.scratchBuf("convert", len(dst)).ptr
		b.convert(from, f32, s.ptr, s.dt, len(dst))
	}
	must(b.drv.check("cuMemcpyDtoHAsync_v2", b.drv.MemcpyDtoHAsync(unsafe.Pointer(&dst[0]), from, uint64(len(dst)*4), b.stream)))
	b.sync()
	runtime.KeepAlive(dst)
}

// convert writes n values of src (type st) to dst (type dt), rounding to
// nearest even.
func (b *Backend) convert(dst uint64, dt dtype, src uint64, st dtype, n int) {
	b.launch("k_scale", blocksFor(n), new(args).t(dst, dt).t(src, st).f32(1).i64(n))
}

func checkLen(op string, buf nn.Buffer, n int) {
	if buf.Len() < n {
		panic(fmt.Sprintf("cuda: %s of %d values into a buffer of %d", op, n, buf.Len()))
	}
}

// Fill sets every element of dst to v.
func (b *Backend) Fill(dst nn.Buffer, v float32) {
	if dst.Len() == 0 {
		return
	}
	b.enter()
	defer b.leave()
	d := b.buf(dst)
	if d.dt != f32 {
		b.launch("k_fill", blocksFor(d.n), new(args).t(d.ptr, d.dt).f32(v).i64(d.n))
		return
	}
	must(b.drv.check("cuMemsetD32Async", b.drv.MemsetD32Async(d.ptr, math.Float32bits(v), uint64(d.n), b.stream)))
}

// Copy copies src to dst (equal lengths), converting between types.
func (b *Backend) Copy(dst, src nn.Buffer) {
	n := src.Len()
	if n == 0 {
		return
	}
	checkLen("Copy", dst, n)
	b.enter()
	defer b.leave()
	d, s := b.buf(dst), b.buf(src)
	if d.dt != s.dt {
		b.convert(d.ptr, d.dt, s.ptr, s.dt, n)
		return
	}
	must(b.drv.check("cuMemcpyDtoDAsync_v2", b.drv.MemcpyDtoDAsync(d.ptr, s.ptr, uint64(n*d.dt.size()), b.stream)))
}

// Scale sets y = alpha*x.
func (b *Backend) Scale(y nn.Buffer, alpha float32, x nn.Buffer) {
	n := y.Len()
	b.enter()
	defer b.leave()
	b.launch("k_scale", blocksFor(n), new(args).t(b.dev(y)).t(b.dev(x)).f32(alpha).i64(n))
}

// Axpy sets y += alpha*x.
func (b *Backend) Axpy(y nn.Buffer, alpha float32, x nn.Buffer) {
	n := y.Len()
	b.enter()
	defer b.leave()
	b.launch("k_axpy", blocksFor(n), new(args).t(b.dev(y)).t(b.dev(x)).f32(alpha).i64(n))
}

// SumSquares returns the sum of x[i]^2, accumulated in float64 in a fixed order.
func (b *Backend) SumSquares(x nn.Buffer) float64 { return b.SumSquaresAll([]nn.Buffer{x}) }

// SumSquaresAll (nn.SumSquarer) is the sum of SumSquares over xs, after
// one wait for the device: one k_sumsq launch covers all buffers (per
// launch up to sumsqMaxChunks chunks of sumsqChunkLen elements, their table
// staged through pinned memory), and the chunks' sums are added in order on
// the host.
func (b *Backend) SumSquaresAll(xs []nn.Buffer) float64 {
	if len(xs) == 0 {
		return 0
	}
	b.enter()
	defer b.leave()
	chunks := b.sumsqChunks[:0]
	for _, x := range xs {
		ptr, dt := b.dev(x)
		for start := 0; start < x.Len(); start += sumsqChunkLen {
			chunks = append(chunks, sumsqChunk{x: ptr, start: int64(start), n: int32(min(sumsqChunkLen, x.Len()-start)), t: int32(dt)})
		}
	}
	b.sumsqChunks = chunks
	if len(chunks) == 0 {
		return 0
	}
	out := b.scratchBuf("sumsq", 2*len(chunks)) // a float64 per chunk
	for first := 0; first < len(chunks); first += sumsqMaxChunks {
		batch := chunks[first:min(first+sumsqMaxChunks, len(chunks))]
		table := b.stage(unsafe.Pointer(&batch[0]), len(batch)*int(unsafe.Sizeof(batch[0])))
		b.launch("k_sumsq", len(batch), new(args).ptr(out.ptr+uint64(8*first)).ptr(table).i32(len(batch)))
	}
	if cap(b.sumsqOut) < len(chunks) {
		b.sumsqOut = make([]float64, len(chunks))
	}
	host := b.sumsqOut[:len(chunks)]
	must(b.drv.check("cuMemcpyDtoHAsync_v2", b.drv.MemcpyDtoHAsync(unsafe.Pointer(&host[0]), out.ptr, uint64(8*len(chunks)), b.stream)))
	b.sync()
	var ss float64
	for _, v := range host {
		ss += v
	}
	return ss
}

// sumsqChunk mirrors struct sumsq_chunk of kernels.cu (24 bytes).
type sumsqChunk struct {
	x     uint64
	start int64
	n     int32
	t     int32
}

const (
	sumsqChunkLen  = 1 << 15 // elements per k_sumsq block
	sumsqMaxChunks = 1 << 14 // chunks per launch (a 384 KiB table)
)

// UnscaleGrads (nn.GradUnscaler) multiplies every buffer by inv in place
// and reports whether all results are finite, after one wait for the device.
func (b *Backend) UnscaleGrads(grads []nn.Buffer, inv float32) bool {
	b.enter()
	defer b.leave()
	flag := b.scratchBuf("unscale-flag", 1)
	must(b.drv.check("cuMemsetD32Async", b.drv.MemsetD32Async(flag.ptr, 0, 1, b.stream)))
	for _, g := range grads {
		if n := g.Len(); n > 0 {
			b.launch("k_unscale", blocksFor(n), new(args).t(b.dev(g)).f32(inv).ptr(flag.ptr).i64(n))
		}
	}
	must(b.drv.check("cuMemcpyDtoHAsync_v2", b.drv.MemcpyDtoHAsync(unsafe.Pointer(&b.flagOut[0]), flag.ptr, 4, b.stream)))
	b.sync()
	return b.flagOut[0] == 0
}

// scratchBuf returns a backend-owned buffer of at least n floats for role,
// reused by every call with the same role (its contents are not kept).
func (b *Backend) scratchBuf(role string, n int) *buffer {
	s := b.scratch[role]
	if s == nil || s.n < n {
		s = b.newBuffer(n)
		b.scratch[role] = s
	}
	return s
}

// ReLU sets y = max(x, 0).
func (b *Backend) ReLU(x, y nn.Buffer) {
	n := x.Len()
	b.enter()
	defer b.leave()
	b.launch("k_relu", blocksFor(n), new(args).t(b.dev(y)).t(b.dev(x)).i64(n))
}

// ReLUBackward writes (or adds, when accumulate) dy to dx where y > 0.
func (b *Backend) ReLUBackward(y, dy, dx nn.Buffer, accumulate bool) {
	n := y.Len()
	b.enter()
	defer b.leave()
	b.launch("k_relu_bwd", blocksFor(n), new(args).t(b.dev(dx)).t(b.dev(y)).t(b.dev(dy)).i64(n).flag(accumulate))
}

func poolArgs(a *args, d nn.PoolDesc) *args {
	return a.i32(d.N * d.C).i32(d.H).i32(d.W).i32(d.OH).i32(d.OW).i32(d.K).i32(d.Stride).i32(d.Pad)
}

// MaxPool: padding counts as -Inf.
func (b *Backend) MaxPool(d nn.PoolDesc, x, y nn.Buffer) {
	b.enter()
	defer b.leave()
	b.launch("k_maxpool", blocksFor(d.N*d.C*d.OH*d.OW), poolArgs(new(args).t(b.dev(y)).t(b.dev(x)), d))
}

// MaxPoolBackward writes (or adds, when accumulate) each window's gradient
// to its first maximum.
func (b *Backend) MaxPoolBackward(d nn.PoolDesc, x, dy, dx nn.Buffer, accumulate bool) {
	b.enter()
	defer b.leave()
	b.launch("k_maxpool_bwd", blocksFor(d.N*d.C*d.H*d.W), poolArgs(new(args).t(b.dev(dx)).t(b.dev(x)).t(b.dev(dy)), d).flag(accumulate))
}

// AvgPool divides by the window size (countPad) or by its in-image part.
func (b *Backend) AvgPool(d nn.PoolDesc, countPad bool, x, y nn.Buffer) {
	b.enter()
	defer b.leave()
	b.launch("k_avgpool", blocksFor(d.N*d.C*d.OH*d.OW), poolArgs(new(args).t(b.dev(y)).t(b.dev(x)), d).flag(countPad))
}

// AvgPoolBackward writes (or adds, when accumulate) the sum of dy/count
// over the windows of each element.
func (b *Backend) AvgPoolBackward(d nn.PoolDesc, countPad bool, dy, dx nn.Buffer, accumulate bool) {
	b.enter()
	defer b.leave()
	b.launch("k_avgpool_bwd", blocksFor(d.N*d.C*d.H*d.W), poolArgs(new(args).t(b.dev(dx)).t(b.dev(dy)), d).flag(countPad).flag(accumulate))
}

// GlobalAvgPool: y[n, c] = mean of x[n, c, :].
func (b *Backend) GlobalAvgPool(n, c, hw int, x, y nn.Buffer) {
	b.enter()
	defer b.leave()
	b.launch("k_gap", n*c, new(args).t(b.dev(y)).t(b.dev(x)).i32(n*c).i32(hw))
}

// GlobalAvgPoolBackward: dx (+)= dy/hw.
func (b *Backend) GlobalAvgPoolBackward(n, c, hw int, dy, dx nn.Buffer, accumulate bool) {
	b.enter()
	defer b.leave()
	b.launch("k_gap_bwd", blocksFor(n*c*hw), new(args).t(b.dev(dx)).t(b.dev(dy)).i32(hw).i64(n*c*hw).flag(accumulate))
}

// CopyChannels copies (or adds) c channels of every sample, see nn.Backend.
func (b *Backend) CopyChannels(n, hw int, src nn.Buffer, srcC, srcOff int, dst nn.Buffer, dstC, dstOff, c int, accumulate bool) {
	if !accumulate && srcC == c && dstC == c {
		b.Copy(dst, src)
		return
	}
	b.enter()
	defer b.leave()
	a := new(args).t(b.dev(dst)).i64(dstC * hw).i64(dstOff * hw).t(b.dev(src)).i64(srcC * hw).i64(srcOff * hw).i64(c * hw).i32(n).flag(accumulate)
	b.launch("k_copy_channels", blocksFor(n*c*hw), a)
}

// Concat sets y to the channel concatenation of xs, one CopyChannels per
// part.
func (b *Backend) Concat(n, hw int, xs []nn.Buffer, cs []int, y nn.Buffer) {
	c := 0
	for _, ci := range cs {
		c += ci
	}
	off := 0
	for i, x := range xs {
		b.CopyChannels(n, hw, x, cs[i], 0, y, c, off, cs[i], false)
		off += cs[i]
	}
}

// Shift: y = x[:, :, offY:, offX:].
func (b *Backend) Shift(n, c, h, w, offY, offX int, x, y nn.Buffer) {
	b.enter()
	defer b.leave()
	b.launch("k_shift", blocksFor(n*c*(h-offY)*(w-offX)), new(args).t(b.dev(y)).t(b.dev(x)).i32(n*c).i32(h).i32(w).i32(offY).i32(offX))
}

// ShiftBackward: dx[..., offY:, offX:] += dy.
func (b *Backend) ShiftBackward(n, c, h, w, offY, offX int, dy, dx nn.Buffer) {
	b.enter()
	defer b.leave()
	b.launch("k_shift_bwd", blocksFor(n*c*(h-offY)*(w-offX)), new(args).t(b.dev(dx)).t(b.dev(dy)).i32(n*c).i32(h).i32(w).i32(offY).i32(offX))
}

// ScaleSamples: y[i, :] (+)= s[i] * x[i, :].
func (b *Backend) ScaleSamples(n, size int, s []float32, x, y nn.Buffer, accumulate bool) {
	if n == 0 {
		return
	}
	if len(s) < n {
		panic(fmt.Sprintf("cuda: ScaleSamples: %d scales for %d samples", len(s), n))
	}
	b.enter()
	defer b.leave()
	sd := b.stage(unsafe.Pointer(&s[0]), n*4)
	runtime.KeepAlive(s)
	b.launch("k_scale_samples", blocksFor(n*size), new(args).t(b.dev(y)).t(b.dev(x)).ptr(sd).i64(size).i32(n).flag(accumulate))
}

// MatMul: C[m×n] (+)= op(A)·op(B), row-major. cuBLAS is column-major, so it
// computes Cᵀ = op(B)ᵀ·op(A)ᵀ, where a row-major matrix read column-major is
// its transpose.
func (b *Backend) MatMul(transA, transB bool, m, n, k int, a, bm nn.Buffer, accumulate bool, c nn.Buffer) {
	if m == 0 || n == 0 {
		return
	}
	b.enter()
	defer b.leave()
	opB, ldb := int32(cublasOpN), int32(n)
	if transB {
		opB, ldb = cublasOpT, int32(k)
	}
	opA, lda := int32(cublasOpN), int32(k)
	if transA {
		opA, lda = cublasOpT, int32(m)
	}
	alpha, beta := float32(1), float32(0)
	if accumulate {
		beta = 1
	}
	if k == 0 {
		if !accumulate {
			b.Fill(c, 0)
		}
		return
	}
	// Half operands (mixed precision: the classifier's input and output)
	// go through float32 copies; these GEMMs are tiny.
	cb := b.buf(c)
	cp := cb.ptr
	if cb.dt != f32 {
		cp = b.scratchBuf("matmul-c", m*n).ptr
		if accumulate {
			b.convert(cp, f32, cb.ptr, cb.dt, m*n)
		}
	}
	b.queued("cublasSgemm_v2", [3]int{m, n, k})
	must(b.l.blas.check("cublasSgemm_v2", b.l.blas.Sgemm(b.blas, opB, opA, int32(n), int32(m), int32(k),
		&alpha, b.operand("matmul-b", bm, k*n, f32), ldb, b.operand("matmul-a", a, m*k, f32), lda, &beta, cp, int32(n))))
	if cb.dt != f32 {
		b.convert(cb.ptr, cb.dt, cp, f32, m*n)
	}
}

// AddRowBias: y[r, j] += bias[j].
func (b *Backend) AddRowBias(rows, cols int, bias, y nn.Buffer) {
	b.enter()
	defer b.leave()
	b.launch("k_add_row_bias", blocksFor(rows*cols), new(args).t(b.dev(y)).t(b.dev(bias)).i32(cols).i64(rows*cols))
}

// RowBiasBackward: dbias[j] += sum over rows of dy[r, j].
func (b *Backend) RowBiasBackward(rows, cols int, dy, dbias nn.Buffer) {
	b.enter()
	defer b.leave()
	b.launch("k_row_bias_bwd", blocksFor(cols), new(args).t(b.dev(dbias)).t(b.dev(dy)).i32(rows).i32(cols))
}

// SoftmaxCrossEntropy writes softmax(logits) to probs and the mean
// label-smoothed cross-entropy to loss[0].
func (b *Backend) SoftmaxCrossEntropy(n, classes int, logits nn.Buffer, labels []int32, smoothing float32, probs, loss nn.Buffer) {
	if n == 0 {
		return
	}
	b.enter()
	defer b.leave()
	ld := b.stageLabels(labels, n, classes)
	rowloss := b.scratchBuf("rowloss", n)
	b.launch("k_softmax_xent", n, new(args).t(b.dev(probs)).ptr(rowloss.ptr).t(b.dev(logits)).ptr(ld).i32(n).i32(classes).f32(smoothing))
	b.launch("k_mean", 1, new(args).t(b.dev(loss)).ptr(rowloss.ptr).i32(n))
}

// SoftmaxCrossEntropyBackward: dlogits += dloss[0] * (probs - target) / n.
func (b *Backend) SoftmaxCrossEntropyBackward(n, classes int, probs nn.Buffer, labels []int32, smoothing float32, dloss, dlogits nn.Buffer) {
	if n == 0 {
		return
	}
	b.enter()
	defer b.leave()
	ld := b.stageLabels(labels, n, classes)
	b.launch("k_softmax_xent_bwd", blocksFor(n*classes), new(args).t(b.dev(dlogits)).t(b.dev(probs)).ptr(ld).t(b.dev(dloss)).i32(n).i32(classes).f32(smoothing))
}

// stageLabels copies the first n labels to the device, after checking each
// is in [0, classes): on the device a bad label would read out of bounds.
func (b *Backend) stageLabels(labels []int32, n, classes int) uint64 {
	if len(labels) < n {
		panic(fmt.Sprintf("cuda: %d labels for %d rows", len(labels), n))
	}
	for i, l := range labels[:n] {
		if l < 0 || int(l) >= classes {
			panic(fmt.Sprintf("cuda: label %d of row %d outside [0, %d)", l, i, classes))
		}
	}
	ld := b.stage(unsafe.Pointer(&labels[0]), n*4)
	runtime.KeepAlive(labels)
	return ld
}

// SGDStep updates w (and the momentum buffer) in place, PyTorch semantics.
func (b *Backend) SGDStep(w, grad, buf nn.Buffer, lr, momentum, wd float32, nesterov, first bool) {
	n := w.Len()
	b.enter()
	defer b.leave()
	b.launch("k_sgd", blocksFor(n), new(args).t(b.dev(w)).t(b.dev(grad)).t(b.dev(buf)).f32(lr).f32(momentum).f32(wd).flag(nesterov).flag(first).i64(n))
}

var errStagingTooBig = errors.New("host array larger than the 1 MiB staging ring")
