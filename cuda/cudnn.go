package cuda

import "unsafe"

// cudnnFuncs binds cuDNN 9's legacy API from the libcudnn.so.9 shim
// (docs/spec/cuda-abi.md §3). Descriptors and the handle are opaque pointers (uintptr),
// device memory is uint64, alpha/beta scalars are host pointers to float32,
// and epsilon / average factor / activation coef are C doubles by value.
// All return cudnnStatus_t except GetVersion (size_t) and GetErrorString.
type cudnnFuncs struct {
	Create                    func(h *uintptr) int32                                                                                                                                                                                                                   `sym:"cudnnCreate"`
	Destroy                   func(h uintptr) int32                                                                                                                                                                                                                    `sym:"cudnnDestroy"`
	SetStream                 func(h, s uintptr) int32                                                                                                                                                                                                                 `sym:"cudnnSetStream"`
	GetVersion                func() uintptr                                                                                                                                                                                                                           `sym:"cudnnGetVersion"`
	GetErrorString            func(st int32) string                                                                                                                                                                                                                    `sym:"cudnnGetErrorString"`
	GetLastErrorString        func(msg *byte, n uintptr)                                                                                                                                                                                                               `sym:"cudnnGetLastErrorString"`
	CreateTensorDesc          func(d *uintptr) int32                                                                                                                                                                                                                   `sym:"cudnnCreateTensorDescriptor"`
	SetTensor4dDesc           func(d uintptr, format, dtype, n, c, h, w int32) int32                                                                                                                                                                                   `sym:"cudnnSetTensor4dDescriptor"`
	SetTensor4dDescEx         func(d uintptr, dtype, n, c, h, w, ns, cs, hs, ws int32) int32                                                                                                                                                                           `sym:"cudnnSetTensor4dDescriptorEx"`
	DestroyTensorDesc         func(d uintptr) int32                                                                                                                                                                                                                    `sym:"cudnnDestroyTensorDescriptor"`
	CreateFilterDesc          func(d *uintptr) int32                                                                                                                                                                                                                   `sym:"cudnnCreateFilterDescriptor"`
	SetFilter4dDesc           func(d uintptr, dtype, format, k, c, h, w int32) int32                                                                                                                                                                                   `sym:"cudnnSetFilter4dDescriptor"`
	DestroyFilterDesc         func(d uintptr) int32                                                                                                                                                                                                                    `sym:"cudnnDestroyFilterDescriptor"`
	CreateConvDesc            func(d *uintptr) int32                                                                                                                                                                                                                   `sym:"cudnnCreateConvolutionDescriptor"`
	SetConv2dDesc             func(d uintptr, padH, padW, u, v, dilH, dilW, mode, computeType int32) int32                                                                                                                                                             `sym:"cudnnSetConvolution2dDescriptor"`
	SetConvGroupCount         func(d uintptr, groups int32) int32                                                                                                                                                                                                      `sym:"cudnnSetConvolutionGroupCount"`
	SetConvMathType           func(d uintptr, math int32) int32                                                                                                                                                                                                        `sym:"cudnnSetConvolutionMathType"`
	DestroyConvDesc           func(d uintptr) int32                                                                                                                                                                                                                    `sym:"cudnnDestroyConvolutionDescriptor"`
	GetConv2dFwdOutputDim     func(conv, x, w uintptr, n, c, h, wd *int32) int32                                                                                                                                                                                       `sym:"cudnnGetConvolution2dForwardOutputDim"`
	FindConvFwdAlgoEx         func(h, xd uintptr, x uint64, wd uintptr, w uint64, cd, yd uintptr, y uint64, req int32, ret *int32, perf unsafe.Pointer, ws, wsBytes uint64) int32                                                                                      `sym:"cudnnFindConvolutionForwardAlgorithmEx"`
	GetConvFwdWorkspace       func(h, xd, wd, cd, yd uintptr, algo int32, bytes *uint64) int32                                                                                                                                                                         `sym:"cudnnGetConvolutionForwardWorkspaceSize"`
	ConvFwd                   func(h uintptr, alpha unsafe.Pointer, xd uintptr, x uint64, wd uintptr, w uint64, cd uintptr, algo int32, ws, wsBytes uint64, beta unsafe.Pointer, yd uintptr, y uint64) int32                                                           `sym:"cudnnConvolutionForward"`
	FindConvBwdDataAlgoEx     func(h, wd uintptr, w uint64, dyd uintptr, dy uint64, cd, dxd uintptr, dx uint64, req int32, ret *int32, perf unsafe.Pointer, ws, wsBytes uint64) int32                                                                                  `sym:"cudnnFindConvolutionBackwardDataAlgorithmEx"`
	GetConvBwdDataWorkspace   func(h, wd, dyd, cd, dxd uintptr, algo int32, bytes *uint64) int32                                                                                                                                                                       `sym:"cudnnGetConvolutionBackwardDataWorkspaceSize"`
	ConvBwdData               func(h uintptr, alpha unsafe.Pointer, wd uintptr, w uint64, dyd uintptr, dy uint64, cd uintptr, algo int32, ws, wsBytes uint64, beta unsafe.Pointer, dxd uintptr, dx uint64) int32                                                       `sym:"cudnnConvolutionBackwardData"`
	FindConvBwdFilterAlgoEx   func(h, xd uintptr, x uint64, dyd uintptr, dy uint64, cd, dwd uintptr, dw uint64, req int32, ret *int32, perf unsafe.Pointer, ws, wsBytes uint64) int32                                                                                  `sym:"cudnnFindConvolutionBackwardFilterAlgorithmEx"`
	GetConvBwdFilterWorkspace func(h, xd, dyd, cd, dwd uintptr, algo int32, bytes *uint64) int32                                                                                                                                                                       `sym:"cudnnGetConvolutionBackwardFilterWorkspaceSize"`
	ConvBwdFilter             func(h uintptr, alpha unsafe.Pointer, xd uintptr, x uint64, dyd uintptr, dy uint64, cd uintptr, algo int32, ws, wsBytes uint64, beta unsafe.Pointer, dwd uintptr, dw uint64) int32                                                       `sym:"cudnnConvolutionBackwardFilter"`
	CreatePoolingDesc         func(d *uintptr) int32                                                                                                                                                                                                                   `sym:"cudnnCreatePoolingDescriptor"`
	SetPooling2dDesc          func(d uintptr, mode, nan, wh, ww, ph, pw, sh, sw int32) int32                                                                                                                                                                           `sym:"cudnnSetPooling2dDescriptor"`
	DestroyPoolingDesc        func(d uintptr) int32                                                                                                                                                                                                                    `sym:"cudnnDestroyPoolingDescriptor"`
	PoolingFwd                func(h, pd uintptr, alpha unsafe.Pointer, xd uintptr, x uint64, beta unsafe.Pointer, yd uintptr, y uint64) int32                                                                                                                         `sym:"cudnnPoolingForward"`
	PoolingBwd                func(h, pd uintptr, alpha unsafe.Pointer, yd uintptr, y uint64, dyd uintptr, dy uint64, xd uintptr, x uint64, beta unsafe.Pointer, dxd uintptr, dx uint64) int32                                                                         `sym:"cudnnPoolingBackward"`
	CreateActivationDesc      func(d *uintptr) int32                                                                                                                                                                                                                   `sym:"cudnnCreateActivationDescriptor"`
	SetActivationDesc         func(d uintptr, mode, nan int32, coef float64) int32                                                                                                                                                                                     `sym:"cudnnSetActivationDescriptor"`
	DestroyActivationDesc     func(d uintptr) int32                                                                                                                                                                                                                    `sym:"cudnnDestroyActivationDescriptor"`
	ActivationFwd             func(h, ad uintptr, alpha unsafe.Pointer, xd uintptr, x uint64, beta unsafe.Pointer, yd uintptr, y uint64) int32                                                                                                                         `sym:"cudnnActivationForward"`
	ActivationBwd             func(h, ad uintptr, alpha unsafe.Pointer, yd uintptr, y uint64, dyd uintptr, dy uint64, xd uintptr, x uint64, beta unsafe.Pointer, dxd uintptr, dx uint64) int32                                                                         `sym:"cudnnActivationBackward"`
	BatchNormFwdTraining      func(h uintptr, mode int32, alpha, beta unsafe.Pointer, xd uintptr, x uint64, yd uintptr, y uint64, bnd uintptr, scale, bias uint64, factor float64, runMean, runVar uint64, eps float64, saveMean, saveInvVar uint64) int32             `sym:"cudnnBatchNormalizationForwardTraining"`
	BatchNormFwdInference     func(h uintptr, mode int32, alpha, beta unsafe.Pointer, xd uintptr, x uint64, yd uintptr, y uint64, bnd uintptr, scale, bias, mean, variance uint64, eps float64) int32                                                                  `sym:"cudnnBatchNormalizationForwardInference"`
	BatchNormBwd              func(h uintptr, mode int32, alphaD, betaD, alphaP, betaP unsafe.Pointer, xd uintptr, x uint64, dyd uintptr, dy uint64, dxd uintptr, dx uint64, bnd uintptr, scale, dScale, dBias uint64, eps float64, saveMean, saveInvVar uint64) int32 `sym:"cudnnBatchNormalizationBackward"`
	DeriveBNTensorDesc        func(bnd, xd uintptr, mode int32) int32                                                                                                                                                                                                  `sym:"cudnnDeriveBNTensorDescriptor"`
	CreateOpTensorDesc        func(d *uintptr) int32                                                                                                                                                                                                                   `sym:"cudnnCreateOpTensorDescriptor"`
	SetOpTensorDesc           func(d uintptr, op, compType, nan int32) int32                                                                                                                                                                                           `sym:"cudnnSetOpTensorDescriptor"`
	DestroyOpTensorDesc       func(d uintptr) int32                                                                                                                                                                                                                    `sym:"cudnnDestroyOpTensorDescriptor"`
	OpTensor                  func(h, od uintptr, alpha1 unsafe.Pointer, ad uintptr, a uint64, alpha2 unsafe.Pointer, bd uintptr, b uint64, beta unsafe.Pointer, cd uintptr, c uint64) int32                                                                           `sym:"cudnnOpTensor"`
	AddTensor                 func(h uintptr, alpha unsafe.Pointer, ad uintptr, a uint64, beta unsafe.Pointer, cd uintptr, c uint64) int32                                                                                                                             `sym:"cudnnAddTensor"`
	SoftmaxFwd                func(h uintptr, algo, mode int32, alpha unsafe.Pointer, xd uintptr, x uint64, beta unsafe.Pointer, yd uintptr, y uint64) int32                                                                                                           `sym:"cudnnSoftmaxForward"`
	SoftmaxBwd                func(h uintptr, algo, mode int32, alpha unsafe.Pointer, yd uintptr, y uint64, dyd uintptr, dy uint64, beta unsafe.Pointer, dxd uintptr, dx uint64) int32                                                                                 `sym:"cudnnSoftmaxBackward"`
}

// cuDNN 9 constants (docs/spec/cuda-abi.md §5).
const (
	cudnnDataFloat          = 0 // CUDNN_DATA_FLOAT
	cudnnDataHalf           = 2 // CUDNN_DATA_HALF
	cudnnDataBFloat16       = 9 // CUDNN_DATA_BFLOAT16
	cudnnDataBfloat16       = 9 // CUDNN_DATA_BFLOAT16
	cudnnTensorNCHW         = 0 // CUDNN_TENSOR_NCHW
	cudnnTensorNHWC         = 1 // CUDNN_TENSOR_NHWC
	cudnnCrossCorrelation   = 1 // CUDNN_CROSS_CORRELATION (PyTorch's conv)
	cudnnDefaultMath        = 0 // CUDNN_DEFAULT_MATH
	cudnnTensorOpMath       = 1 // CUDNN_TENSOR_OP_MATH
	cudnnFMAMath            = 3 // CUDNN_FMA_MATH: no TF32, strict fp32
	cudnnPoolingMax         = 0 // CUDNN_POOLING_MAX
	cudnnPoolingAvgInclPad  = 1 // CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING
	cudnnPoolingAvgExclPad  = 2 // CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING
	cudnnPoolingMaxDeterm   = 3 // CUDNN_POOLING_MAX_DETERMINISTIC
	cudnnNotPropagateNan    = 0 // CUDNN_NOT_PROPAGATE_NAN
	cudnnPropagateNan       = 1 // CUDNN_PROPAGATE_NAN
	cudnnActivationRelu     = 1 // CUDNN_ACTIVATION_RELU
	cudnnBatchNormSpatial   = 1 // CUDNN_BATCHNORM_SPATIAL
	cudnnOpTensorAdd        = 0 // CUDNN_OP_TENSOR_ADD
	cudnnOpTensorMul        = 1 // CUDNN_OP_TENSOR_MUL
	cudnnSoftmaxAccurate    = 1 // CUDNN_SOFTMAX_ACCURATE
	cudnnSoftmaxLog         = 2 // CUDNN_SOFTMAX_LOG
	cudnnSoftmaxInstance    = 0 // CUDNN_SOFTMAX_MODE_INSTANCE
	cudnnDeterministic      = 1 // CUDNN_DETERMINISTIC
	cudnnConvFwdAlgoCount   = 8 // CUDNN_CONVOLUTION_FWD_ALGO_COUNT
	cudnnConvBwdDataCount   = 6 // CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT
	cudnnConvBwdFilterCount = 7 // CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT
)

// convAlgoPerf mirrors cudnnConvolution{Fwd,BwdData,BwdFilter}AlgoPerf_t
// (48 bytes, docs/spec/cuda-abi.md §6).
type convAlgoPerf struct {
	Algo        int32
	Status      int32
	Time        float32
	_           [4]byte
	Memory      uint64
	Determinism int32
	MathType    int32
	Reserved    [3]int32
	_           [4]byte
}

// cudnnStatusNames names the cuDNN 9 status codes for errors raised when
// cudnnGetErrorString itself is unavailable.
var cudnnStatusNames = map[int32]string{
	0: "CUDNN_STATUS_SUCCESS", 1001: "CUDNN_STATUS_NOT_INITIALIZED", 1002: "CUDNN_STATUS_SUBLIBRARY_VERSION_MISMATCH",
	1008: "CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED", 2000: "CUDNN_STATUS_BAD_PARAM", 2002: "CUDNN_STATUS_BAD_PARAM_NULL_POINTER",
	2008: "CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH", 3000: "CUDNN_STATUS_NOT_SUPPORTED", 3007: "CUDNN_STATUS_NOT_SUPPORTED_ARCH_MISMATCH",
	3009: "CUDNN_STATUS_NOT_SUPPORTED_SUBLIBRARY_UNAVAILABLE", 4000: "CUDNN_STATUS_INTERNAL_ERROR",
	4004: "CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED", 5000: "CUDNN_STATUS_EXECUTION_FAILED",
}

func (d *cudnnFuncs) check(call string, st int32) error {
	if st == 0 {
		return nil
	}
	e := &Error{Call: call, Code: st, Name: cudnnStatusNames[st]}
	if d.GetErrorString != nil {
		e.Name = d.GetErrorString(st)
	}
	if e.Name == "" {
		e.Name = "cudnnStatus_t"
	}
	if d.GetLastErrorString != nil {
		buf := make([]byte, 1024)
		d.GetLastErrorString(&buf[0], uintptr(len(buf)))
		e.Detail = cString(&buf[0])
	}
	return e
}
