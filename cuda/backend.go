package cuda

import (
	"errors"
	"fmt"
	"math"
	"runtime"
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

	tensorDescs map[[4]int]uintptr
	filterDescs map[[4]int]uintptr
	convDescs   map[convDescKey]uintptr
	convPlans   map[nn.ConvDesc]*convPlan
	workspace   uint64
	wsBytes     int
	events      [2]uintptr         // for timing (timeIt)
	constBufs   map[int][2]*buffer // per C: ones, zeros (BN without affine)
	scratch     map[string]*buffer // small named scratch buffers, by role
	sumsqOut    []float64
	closed      bool
}

var (
	_ nn.Backend        = (*Backend)(nil)
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
		tensorDescs: map[[4]int]uintptr{},
		filterDescs: map[[4]int]uintptr{},
		convDescs:   map[convDescKey]uintptr{},
		convPlans:   map[nn.ConvDesc]*convPlan{},
		constBufs:   map[int][2]*buffer{},
		scratch:     map[string]*buffer{},
		sumsqOut:    make([]float64, 1),
	}
}

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

func (b *Backend) leave() { runtime.UnlockOSThread() }

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
func (b *Backend) ptr(x nn.Buffer) uint64 {
	if x == nil {
		return 0
	}
	buf, ok := x.(*buffer)
	if !ok {
		panic(fmt.Sprintf("cuda: buffer of type %T is not from a cuda backend", x))
	}
	if buf == nil {
		return 0
	}
	if buf.owner != b {
		panic("cuda: buffer belongs to another cuda backend")
	}
	return buf.ptr
}

// Alloc returns a zeroed buffer of n float32 values.
func (b *Backend) Alloc(n int) nn.Buffer {
	b.enter()
	defer b.leave()
	buf := b.newBuffer(n)
	if n > 0 {
		must(b.drv.check("cuMemsetD32Async", b.drv.MemsetD32Async(buf.ptr, 0, uint64(n), b.stream)))
	}
	return buf
}

// Upload copies src to dst (len(src) values).
func (b *Backend) Upload(dst nn.Buffer, src []float32) {
	if len(src) == 0 {
		return
	}
	checkLen("Upload", dst, len(src))
	b.enter()
	defer b.leave()
	must(b.drv.check("cuMemcpyHtoDAsync_v2", b.drv.MemcpyHtoDAsync(b.ptr(dst), unsafe.Pointer(&src[0]), uint64(len(src)*4), b.stream)))
	// A copy from pageable memory has read src when the call returns.
	runtime.KeepAlive(src)
}

// Download waits for queued work and copies len(dst) values of src to dst.
func (b *Backend) Download(dst []float32, src nn.Buffer) {
	if len(dst) == 0 {
		return
	}
	checkLen("Download", src, len(dst))
	b.enter()
	defer b.leave()
	must(b.drv.check("cuMemcpyDtoHAsync_v2", b.drv.MemcpyDtoHAsync(unsafe.Pointer(&dst[0]), b.ptr(src), uint64(len(dst)*4), b.stream)))
	b.sync()
	runtime.KeepAlive(dst)
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
	must(b.drv.check("cuMemsetD32Async", b.drv.MemsetD32Async(b.ptr(dst), math.Float32bits(v), uint64(dst.Len()), b.stream)))
}

// Copy copies src to dst (equal lengths).
func (b *Backend) Copy(dst, src nn.Buffer) {
	n := src.Len()
	if n == 0 {
		return
	}
	checkLen("Copy", dst, n)
	b.enter()
	defer b.leave()
	must(b.drv.check("cuMemcpyDtoDAsync_v2", b.drv.MemcpyDtoDAsync(b.ptr(dst), b.ptr(src), uint64(n*4), b.stream)))
}

// Scale sets y = alpha*x.
func (b *Backend) Scale(y nn.Buffer, alpha float32, x nn.Buffer) {
	n := y.Len()
	b.enter()
	defer b.leave()
	b.launch("k_scale", blocksFor(n), new(args).ptr(b.ptr(y)).ptr(b.ptr(x)).f32(alpha).i64(n))
}

// Axpy sets y += alpha*x.
func (b *Backend) Axpy(y nn.Buffer, alpha float32, x nn.Buffer) {
	n := y.Len()
	b.enter()
	defer b.leave()
	b.launch("k_axpy", blocksFor(n), new(args).ptr(b.ptr(y)).ptr(b.ptr(x)).f32(alpha).i64(n))
}

// SumSquares returns the sum of x[i]^2, accumulated in float64 in a fixed order.
func (b *Backend) SumSquares(x nn.Buffer) float64 {
	b.enter()
	defer b.leave()
	out := b.scratchBuf("sumsq", 2)
	b.launch("k_sumsq", 1, new(args).ptr(out.ptr).ptr(b.ptr(x)).i64(x.Len()))
	must(b.drv.check("cuMemcpyDtoHAsync_v2", b.drv.MemcpyDtoHAsync(unsafe.Pointer(&b.sumsqOut[0]), out.ptr, 8, b.stream)))
	b.sync()
	return b.sumsqOut[0]
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
	b.launch("k_relu", blocksFor(n), new(args).ptr(b.ptr(y)).ptr(b.ptr(x)).i64(n))
}

// ReLUBackward adds dy to dx where y > 0.
func (b *Backend) ReLUBackward(y, dy, dx nn.Buffer) {
	n := y.Len()
	b.enter()
	defer b.leave()
	b.launch("k_relu_bwd", blocksFor(n), new(args).ptr(b.ptr(dx)).ptr(b.ptr(y)).ptr(b.ptr(dy)).i64(n))
}

func poolArgs(a *args, d nn.PoolDesc) *args {
	return a.i32(d.N * d.C).i32(d.H).i32(d.W).i32(d.OH).i32(d.OW).i32(d.K).i32(d.Stride).i32(d.Pad)
}

// MaxPool: padding counts as -Inf.
func (b *Backend) MaxPool(d nn.PoolDesc, x, y nn.Buffer) {
	b.enter()
	defer b.leave()
	b.launch("k_maxpool", blocksFor(d.N*d.C*d.OH*d.OW), poolArgs(new(args).ptr(b.ptr(y)).ptr(b.ptr(x)), d))
}

// MaxPoolBackward adds each window's gradient to its first maximum.
func (b *Backend) MaxPoolBackward(d nn.PoolDesc, x, dy, dx nn.Buffer) {
	b.enter()
	defer b.leave()
	b.launch("k_maxpool_bwd", blocksFor(d.N*d.C*d.H*d.W), poolArgs(new(args).ptr(b.ptr(dx)).ptr(b.ptr(x)).ptr(b.ptr(dy)), d))
}

// AvgPool divides by the window size (countPad) or by its in-image part.
func (b *Backend) AvgPool(d nn.PoolDesc, countPad bool, x, y nn.Buffer) {
	b.enter()
	defer b.leave()
	b.launch("k_avgpool", blocksFor(d.N*d.C*d.OH*d.OW), poolArgs(new(args).ptr(b.ptr(y)).ptr(b.ptr(x)), d).flag(countPad))
}

// AvgPoolBackward adds dy/count to every element of each window.
func (b *Backend) AvgPoolBackward(d nn.PoolDesc, countPad bool, dy, dx nn.Buffer) {
	b.enter()
	defer b.leave()
	b.launch("k_avgpool_bwd", blocksFor(d.N*d.C*d.H*d.W), poolArgs(new(args).ptr(b.ptr(dx)).ptr(b.ptr(dy)), d).flag(countPad))
}

// GlobalAvgPool: y[n, c] = mean of x[n, c, :].
func (b *Backend) GlobalAvgPool(n, c, hw int, x, y nn.Buffer) {
	b.enter()
	defer b.leave()
	b.launch("k_gap", n*c, new(args).ptr(b.ptr(y)).ptr(b.ptr(x)).i32(n*c).i32(hw))
}

// GlobalAvgPoolBackward: dx += dy/hw.
func (b *Backend) GlobalAvgPoolBackward(n, c, hw int, dy, dx nn.Buffer) {
	b.enter()
	defer b.leave()
	b.launch("k_gap_bwd", blocksFor(n*c*hw), new(args).ptr(b.ptr(dx)).ptr(b.ptr(dy)).i32(hw).i64(n*c*hw))
}

// CopyChannels copies (or adds) c channels of every sample, see nn.Backend.
func (b *Backend) CopyChannels(n, hw int, src nn.Buffer, srcC, srcOff int, dst nn.Buffer, dstC, dstOff, c int, accumulate bool) {
	if !accumulate && srcC == c && dstC == c {
		b.Copy(dst, src)
		return
	}
	b.enter()
	defer b.leave()
	a := new(args).ptr(b.ptr(dst)).i64(dstC * hw).i64(dstOff * hw).ptr(b.ptr(src)).i64(srcC * hw).i64(srcOff * hw).i64(c * hw).i32(n).flag(accumulate)
	b.launch("k_copy_channels", blocksFor(n*c*hw), a)
}

// Shift: y = x[:, :, offY:, offX:].
func (b *Backend) Shift(n, c, h, w, offY, offX int, x, y nn.Buffer) {
	b.enter()
	defer b.leave()
	b.launch("k_shift", blocksFor(n*c*(h-offY)*(w-offX)), new(args).ptr(b.ptr(y)).ptr(b.ptr(x)).i32(n*c).i32(h).i32(w).i32(offY).i32(offX))
}

// ShiftBackward: dx[..., offY:, offX:] += dy.
func (b *Backend) ShiftBackward(n, c, h, w, offY, offX int, dy, dx nn.Buffer) {
	b.enter()
	defer b.leave()
	b.launch("k_shift_bwd", blocksFor(n*c*(h-offY)*(w-offX)), new(args).ptr(b.ptr(dx)).ptr(b.ptr(dy)).i32(n*c).i32(h).i32(w).i32(offY).i32(offX))
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
	b.launch("k_scale_samples", blocksFor(n*size), new(args).ptr(b.ptr(y)).ptr(b.ptr(x)).ptr(sd).i64(size).i32(n).flag(accumulate))
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
	must(b.l.blas.check("cublasSgemm_v2", b.l.blas.Sgemm(b.blas, opB, opA, int32(n), int32(m), int32(k),
		&alpha, b.ptr(bm), ldb, b.ptr(a), lda, &beta, b.ptr(c), int32(n))))
}

// AddRowBias: y[r, j] += bias[j].
func (b *Backend) AddRowBias(rows, cols int, bias, y nn.Buffer) {
	b.enter()
	defer b.leave()
	b.launch("k_add_row_bias", blocksFor(rows*cols), new(args).ptr(b.ptr(y)).ptr(b.ptr(bias)).i32(cols).i64(rows*cols))
}

// RowBiasBackward: dbias[j] += sum over rows of dy[r, j].
func (b *Backend) RowBiasBackward(rows, cols int, dy, dbias nn.Buffer) {
	b.enter()
	defer b.leave()
	b.launch("k_row_bias_bwd", blocksFor(cols), new(args).ptr(b.ptr(dbias)).ptr(b.ptr(dy)).i32(rows).i32(cols))
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
	b.launch("k_softmax_xent", n, new(args).ptr(b.ptr(probs)).ptr(rowloss.ptr).ptr(b.ptr(logits)).ptr(ld).i32(n).i32(classes).f32(smoothing))
	b.launch("k_mean", 1, new(args).ptr(b.ptr(loss)).ptr(rowloss.ptr).i32(n))
}

// SoftmaxCrossEntropyBackward: dlogits += dloss[0] * (probs - target) / n.
func (b *Backend) SoftmaxCrossEntropyBackward(n, classes int, probs nn.Buffer, labels []int32, smoothing float32, dloss, dlogits nn.Buffer) {
	if n == 0 {
		return
	}
	b.enter()
	defer b.leave()
	ld := b.stageLabels(labels, n, classes)
	b.launch("k_softmax_xent_bwd", blocksFor(n*classes), new(args).ptr(b.ptr(dlogits)).ptr(b.ptr(probs)).ptr(ld).ptr(b.ptr(dloss)).i32(n).i32(classes).f32(smoothing))
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
	b.launch("k_sgd", blocksFor(n), new(args).ptr(b.ptr(w)).ptr(b.ptr(grad)).ptr(b.ptr(buf)).f32(lr).f32(momentum).f32(wd).flag(nesterov).flag(first).i64(n))
}

var errStagingTooBig = errors.New("host array larger than the 1 MiB staging ring")
