package nn

// Buffer is a flat float32 array owned by a Backend. Only the backend that
// allocated a buffer may read or write it; the nn package passes buffers back
// to that backend's kernel methods.
type Buffer interface{ Len() int }

// ConvDesc describes a 2-D convolution over NCHW input with a square kernel.
// Input is [N, C, H, W], weight [OC, C/Groups, K, K], output [N, OC, OH, OW]
// with OH = (H + 2*Pad - Dilation*(K-1) - 1)/Stride + 1 (and OW likewise).
type ConvDesc struct {
	N, C, H, W                       int
	OC, OH, OW                       int
	K, Stride, Pad, Dilation, Groups int
}

// PoolDesc describes a square-window pooling over NCHW input [N, C, H, W]
// giving [N, C, OH, OW] (OH = (H + 2*Pad - K)/Stride + 1, floor mode).
// Max pooling treats padding as -Inf; ties go to the first maximum in
// row-major window order (PyTorch's CPU rule).
type PoolDesc struct {
	N, C, H, W, OH, OW int
	K, Stride, Pad     int
}

// BNDesc describes batch normalisation over [N, C, HW] (HW = H*W, 1 for 2-D).
type BNDesc struct {
	N, C, HW int
	Eps      float32
	Momentum float32 // running = (1-Momentum)*running + Momentum*batch
}

// Backend is the kernel-level seam between the engine and a device. All
// tensors are row-major float32; 4-D tensors are NCHW.
//
// Conventions every implementation follows:
//   - Forward kernels overwrite their output.
//   - Backward kernels ACCUMULATE into parameter gradients (dw += ...,
//     dgamma += ...). Those with an accumulate argument add into the input
//     gradient dx when it is true and OVERWRITE dx (whatever it held) when it
//     is false; the tape writes a tensor's first gradient that way and adds
//     the later ones, so it never zeroes or sums partial gradients itself.
//   - A nil Buffer argument means "absent" where documented (BN gamma/beta,
//     dgamma/dbeta for affine=false).
//   - The CPU backend's results are bit-identical for any thread count.
//   - Host slices passed in (labels, per-sample scales) are read during the
//     call only.
//
// Deferred outputs: a backend may answer an op by recording in its output
// buffer how to compute the values from the op's input buffers instead of
// computing them (package nn/cpu does, to keep activations out of memory).
// Every method that later reads the buffer, and HostBuffer.Data and
// Download, sees the values; writing the buffer as an output replaces
// them. In exchange the caller must not write a buffer (as an output, by
// Upload, or in place: SGDStep's weights) while an output computed from it
// may still be read (nor recycle it: see Recycler). nn.Graph writes each
// buffer once per step and reads every activation before the parameters
// change, so it makes the same calls whatever the backend defers.
type Backend interface {
	Name() string // "cpu", "cuda:0"

	// Storage.
	Alloc(n int) Buffer // zeroed
	Upload(dst Buffer, src []float32)
	Download(dst []float32, src Buffer)

	// Elementwise over whole buffers (lengths equal).
	Fill(dst Buffer, v float32)
	Copy(dst, src Buffer)
	Scale(y Buffer, alpha float32, x Buffer) // y = alpha*x; y may be x
	Axpy(y Buffer, alpha float32, x Buffer)  // y += alpha*x
	SumSquares(x Buffer) float64             // sum of x[i]^2, fixed-order reduction

	// Convolution (any kernel, stride, padding, dilation, groups). No bias.
	Conv2DForward(d ConvDesc, x, w, y Buffer)                         // y = conv(x, w)
	Conv2DBackwardData(d ConvDesc, dy, w, dx Buffer, accumulate bool) // dx (+)= conv_transpose(dy, w)
	Conv2DBackwardFilter(d ConvDesc, x, dy, dw Buffer)                // dw += corr(x, dy)

	// Batch normalisation. Training: normalise with the biased batch
	// variance, save mean and 1/sqrt(var+eps) (C each), update the running
	// statistics with the unbiased variance. gamma/beta nil when not affine.
	// The backward pass writes or adds dx (nil: not wanted) as accumulate
	// says; dgamma and dbeta (nil when not affine) always accumulate.
	BatchNormTrain(d BNDesc, x, gamma, beta, runMean, runVar, y, saveMean, saveInvStd Buffer)
	BatchNormTrainBackward(d BNDesc, x, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta Buffer, accumulate bool)
	// Inference: normalise with the running statistics.
	BatchNormInfer(d BNDesc, x, gamma, beta, runMean, runVar, y Buffer)
	BatchNormInferBackward(d BNDesc, x, dy, gamma, runMean, runVar, dx, dgamma, dbeta Buffer)

	ReLU(x, y Buffer) // y = max(x, 0)
	// ReLUBackward: dx (+)= dy where y > 0 (y may be the ReLU's input or
	// output: they are positive at the same places). Without accumulate,
	// dx may be dy itself (masked in place).
	ReLUBackward(y, dy, dx Buffer, accumulate bool)

	MaxPool(d PoolDesc, x, y Buffer)
	MaxPoolBackward(d PoolDesc, x, dy, dx Buffer, accumulate bool)
	// AvgPool: countPad false divides by the number of in-image elements.
	AvgPool(d PoolDesc, countPad bool, x, y Buffer)
	AvgPoolBackward(d PoolDesc, countPad bool, dy, dx Buffer, accumulate bool)
	GlobalAvgPool(n, c, hw int, x, y Buffer)                            // [N,C,HW] -> [N,C]
	GlobalAvgPoolBackward(n, c, hw int, dy, dx Buffer, accumulate bool) // dx (+)= dy/HW

	// Concat sets y [n, Σcs, hw] to the channel concatenation of xs
	// (xs[i] is [n, cs[i], hw]).
	Concat(n, hw int, xs []Buffer, cs []int, y Buffer)
	// CopyChannels copies channels [srcOff, srcOff+c) of every sample of src
	// ([n, srcC, hw]) to channels [dstOff, dstOff+c) of dst ([n, dstC, hw]),
	// adding instead of overwriting when accumulate. Serves slices and the
	// concatenation's gradient.
	CopyChannels(n, hw int, src Buffer, srcC, srcOff int, dst Buffer, dstC, dstOff, c int, accumulate bool)
	// Shift: y = x[:, :, offY:, offX:] where x is [n, c, h, w].
	Shift(n, c, h, w, offY, offX int, x, y Buffer)
	ShiftBackward(n, c, h, w, offY, offX int, dy, dx Buffer) // dx[..., offY:, offX:] += dy
	// ScaleSamples: y[i, :] (+)= s[i] * x[i, :] for i < n, each sample of length size.
	ScaleSamples(n, size int, s []float32, x, y Buffer, accumulate bool)

	// MatMul: C[m×n] (+)= op(A)·op(B), contiguous row-major; op(A) is m×k
	// (A stored k×m when transA), op(B) is k×n (B stored n×k when transB).
	MatMul(transA, transB bool, m, n, k int, a, b Buffer, accumulate bool, c Buffer)
	AddRowBias(rows, cols int, bias, y Buffer)        // y[r, j] += bias[j]
	RowBiasBackward(rows, cols int, dy, dbias Buffer) // dbias[j] += sum_r dy[r, j]

	// SoftmaxCrossEntropy: mean over the n rows of the label-smoothed
	// cross-entropy (PyTorch semantics: target = (1-s)*onehot + s/classes).
	// Writes softmax probabilities to probs [n, classes] and the loss to loss[0].
	SoftmaxCrossEntropy(n, classes int, logits Buffer, labels []int32, smoothing float32, probs, loss Buffer)
	// dlogits += dloss[0] * (probs - target) / n.
	SoftmaxCrossEntropyBackward(n, classes int, probs Buffer, labels []int32, smoothing float32, dloss, dlogits Buffer)

	// SGDStep, PyTorch semantics (dampening 0):
	//   g = grad + wd*w; buf = first ? g : momentum*buf + g;
	//   w -= lr * (nesterov ? g + momentum*buf : buf).
	// With momentum 0, buf may be nil and w -= lr*g.
	SGDStep(w, grad, buf Buffer, lr, momentum, wd float32, nesterov, first bool)
}

// Recycler is an optional Backend extension for backends that share
// storage between buffers (the CPU backend, whose deferred outputs hold
// none): Recycle says that b's values are dead until b is next written, so
// that its storage may serve other buffers meanwhile (reading b before then
// gives unspecified values). nn.Graph recycles every buffer it takes back
// (Reset, and the early release of Backward), so the memory in use follows
// the values alive, not the buffers the graph holds.
type Recycler interface {
	Recycle(b Buffer)
}

// HostBuffer is implemented by backends whose buffers live in host memory;
// Data returns the buffer's storage itself (no copy), computing a deferred
// buffer's values into it first.
type HostBuffer interface {
	Data(b Buffer) []float32
}
