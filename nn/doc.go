// Package nn is pertnas's training engine: float32 tensors, a reverse-mode
// tape over coarse operations, the layers and ops of the DARTS search space,
// SGD with momentum and weight decay, learning-rate schedules, named state
// dicts and exact snapshots.
//
// # Layers of the design
//
// Backend (backend.go) is the device seam. It owns storage (Buffer) and
// implements a small set of kernels: convolution forward / backward-data /
// backward-filter (any kernel, stride, padding, dilation, groups), batch norm
// (train, inference, both backwards), ReLU, max / average / global pooling,
// channel concatenation and copies (slice), shift, per-sample scaling (drop
// path), matrix multiply and row bias (linear), softmax cross-entropy with
// label smoothing, the SGD update and a sum of squares (gradient clipping).
// Every backward kernel accumulates into parameter gradients; those with an
// accumulate flag write the input gradient instead when it is false, so the
// tape never zeroes or sums partial gradients itself. The CPU backend is
// package nn/cpu; the CUDA backend implements the same interface. The
// graph calls the same kernels whatever the backend.
//
// Tensor is a shape (rank <= 4, NCHW) plus a Buffer. Param is a named
// trainable Tensor and its gradient. Scope builds layers (Conv2D, BatchNorm,
// Linear) with PyTorch's default initialisation drawn from the caller's RNG,
// and registers every parameter and BN buffer under a dotted PyTorch name, in
// creation order, so StateDict/LoadStateDict speak PyTorch's state_dict.
//
// Graph records one forward pass: each op runs its forward kernel at once
// and appends a node (kind, inputs, output, saved tensors) to a tape;
// Backward walks the tape in reverse. Nodes, Tensor structs and buffers are
// owned by the Graph and reused after Reset (buffers are pooled by length),
// so a steady-state training step allocates almost nothing. Ops whose
// inputs need no gradient are not recorded; Graph.NoGrad skips recording
// altogether (evaluation).
//
// Backward memory: a tensor's gradient buffer is recycled as soon as the node
// that produced the tensor has been differentiated (its last reader), and
// pass-through ops (Add, ReLU) hand their output gradient's buffer to an
// input instead of copying it; so gradients cost roughly the memory of the
// widest layer, not of the whole network. A tensor's first gradient is
// written (accumulate false), not added to a zeroed buffer. A 4-D
// activation's value is recycled in the same way once its producer has been
// differentiated (Graph.KeepValues turns that off); the values of inputs,
// logits and losses (2-D and smaller) stay valid until Reset.
//
// Forward memory is the backend's business: a backend may defer an op's
// output, recording in the buffer how to compute it from the op's inputs
// (see Backend). The CPU backend defers the outputs of training-mode batch
// norm, ReLU, concatenation and depthwise convolution, and its convolutions,
// sums, drop path and ReLU gradient recompute them in cache from their
// sources, so a DARTS separable convolution stores two of its nine tensors,
// with the same bits (package nn/cpu). A Graph takes no part in this beyond
// the contract: it writes each buffer once per step, releases a buffer only
// after every reader of the values derived from it has run (a source is
// produced before, so differentiated after, everything computed from it),
// reads values through Backend methods and HostBuffer.Data, which resolve
// deferred ones, and tells a Recycler backend which buffers it takes back,
// so that storage follows the values alive rather than the pooled buffers.
//
// # Semantics (PyTorch's)
//
// BatchNorm: eps 1e-5, momentum 0.1; training normalises with the biased
// batch variance and updates running_var with the unbiased one; inference
// uses the running statistics. AvgPool can exclude padding from the divisor
// (count_include_pad=False). CrossEntropy averages over the batch with label
// smoothing target (1-s)*onehot + s/classes. SGD: g = grad + wd*w,
// buf = g (first step) or momentum*buf + g, w -= lr*buf. ClipGradNorm is
// clip_grad_norm_ (coefficient maxNorm/(norm+1e-6)).
//
// # Determinism
//
// All randomness (initialisation, drop path) comes from *rand.Rand values
// passed in. The CPU backend splits work into chunks that depend only on the
// shapes, never on the thread count, and reduces in a fixed order, so results
// are bit-identical for any GOMAXPROCS and backend thread count.
//
// # Errors
//
// Shape mismatches and invalid arguments are programming errors and panic
// with a message naming the op and shapes. LoadStateDict and SGD.LoadState,
// which take external data, return errors naming the tensor instead.
package nn
