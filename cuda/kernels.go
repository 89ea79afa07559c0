package cuda

import _ "embed"

// kernelSource is the CUDA C of kernels.cu, compiled at run time by NVRTC
// (to a cubin for the device, or PTX, see compileKernels) for the operations
// cuDNN and cuBLAS lack or do with the wrong semantics. Conventions:
//   - extern "C" so the names are not mangled; every name is in kernelNames;
//   - element counts are long long and loops are grid-stride, so any launch
//     size is correct;
//   - "accumulate" kernels add into their output (the engine's backward rule);
//   - reductions are computed in a fixed order (a block per output with a
//     fixed tree), so results do not vary from run to run.
//
//go:embed kernels.cu
var kernelSource string

// kernelNames lists every kernel of kernelSource; the backend looks each up
// after loading the module.
var kernelNames = []string{
	"k_fill", "k_scale", "k_axpy", "k_unscale", "k_sumsq", "k_relu", "k_relu_bwd",
	"k_maxpool", "k_maxpool_bwd", "k_avgpool", "k_avgpool_bwd", "k_gap", "k_gap_bwd",
	"k_copy_channels", "k_shift", "k_shift_bwd", "k_scale_samples",
	"k_add_row_bias", "k_row_bias_bwd", "k_softmax_xent", "k_mean", "k_softmax_xent_bwd",
	"k_sgd", "k_dw_fwd", "k_dw_bwd_data", "k_dw_bwd_filter", "k_bn_infer_bwd",
}

// blockSize is the BLOCK of kernelSource: every launch uses it.
const blockSize = 256
