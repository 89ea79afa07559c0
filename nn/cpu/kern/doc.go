// Package kern holds the single-threaded float32 compute kernels of the CPU
// backend:
//   - Gemm: general matrix multiply, any transposition and leading dimensions
//     (1x1 convolutions, im2col convolutions, linear layers);
//   - DepthwiseForward: a depthwise 2-D convolution on one channel plane,
//     any kernel size, stride, padding and dilation; DepthwiseForwardPlanes
//     and DepthwiseForwardPlanesAffine run many planes, and the Depthwise
//     type runs the forward pass and both gradients of many planes of one
//     geometry without per-plane set-up;
//   - vector helpers: Axpy, Scale, ReluForward, ReluBackward,
//     ReluBackwardAdd; batch-norm helpers over the planes of a channel:
//     ShiftedMomentsPlanes, DotDevPlanes, ScaleShift(Planes, ReLU) and
//     AffineAxpyPlanes;
//   - plane copies: CopyRows, Subsample2 and Spread2 (stride-2 gathers and
//     scatters);
//   - the 3×3 pools of the DARTS cells, MaxPool3Forward/Backward and
//     AvgPool3Forward/Backward, in AVX-512 assembly only: they report
//     whether they ran, and the caller pools in Go otherwise.
//
// Every kernel but the pools exists twice: a pure-Go version, which is the
// reference and the fallback on other architectures, and, on amd64 CPUs
// with AVX2 and FMA, a Go assembly version. On CPUs with AVX-512 (F, DQ
// and VL) some kernels have a wider variant: the GEMM uses 4x64 masked tiles (summing every element in
// the same order as the AVX2 4x24 tiles, so both give the same bits) and,
// for transposed B with long k, 4x4 dot-product tiles (16 lanes: their
// rounding differs from the AVX2 4x3 tiles); the depthwise filter gradients
// also sum in their own order.
//
// # Kernel paths
//
// Which versions run is one choice for the whole process, a Path: purego,
// avx2 or avx512, each a fixed set of kernels with fixed summation orders.
// Equal inputs give the same bits on every machine running the same path,
// and only there. Supported lists the paths this CPU runs, Best the fastest,
// Current the one in use; Use selects one at program start (an error if the
// CPU lacks it), and Resolve turns a --kernels choice (auto or a path) and
// the path a run was started on into the path to use, refusing a path this
// CPU lacks rather than running other kernels. A program starts on Best, or
// on purego under the `purego` build tag or with the environment variable
// PERTNAS_PUREGO=1. The path names and these rules are internal/cpupath's,
// shared with the image kernels of loader/imgkern.
//
// Contracts shared by all kernels:
//   - single-threaded; the caller parallelises over independent outputs;
//   - deterministic: the order in which products are summed depends only on
//     the shapes, so equal inputs give bit-identical outputs on one path;
//   - no allocation in the steady state: scratch buffers come from sync.Pool;
//   - slices must be long enough for the stated shapes, otherwise the kernel
//     panics before touching memory (a programming error, never input data).
//
// For Gemm and the depthwise kernels the Go and assembly paths sum in
// different orders and the assembly uses fused multiply-add, so their results
// agree to float32 rounding, not bitwise. The vector and batch-norm helpers
// give identical bits on every path.
package kern
