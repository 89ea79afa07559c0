package cuda

import "unsafe"

// cublasFuncs binds cuBLAS (libcublas.so.13 or .12), by the exported _v2
// names of the handle API (docs/spec/cuda-abi.md §2; the unsuffixed Sgemm/Saxpy/Sscal
// are the legacy cublas.h ABI and must not be bound). All return cublasStatus_t
// except the status-string functions.
type cublasFuncs struct {
	Create          func(h *uintptr) int32                                                                                                                                                            `sym:"cublasCreate_v2"`
	Destroy         func(h uintptr) int32                                                                                                                                                             `sym:"cublasDestroy_v2"`
	SetStream       func(h, s uintptr) int32                                                                                                                                                          `sym:"cublasSetStream_v2"`
	SetMathMode     func(h uintptr, mode int32) int32                                                                                                                                                 `sym:"cublasSetMathMode"`
	SetPointerMode  func(h uintptr, mode int32) int32                                                                                                                                                 `sym:"cublasSetPointerMode_v2"`
	SetWorkspace    func(h uintptr, ws uint64, bytes uint64) int32                                                                                                                                    `sym:"cublasSetWorkspace_v2"`
	GetVersion      func(h uintptr, v *int32) int32                                                                                                                                                   `sym:"cublasGetVersion_v2"`
	Sgemm           func(h uintptr, ta, tb, m, n, k int32, alpha *float32, a uint64, lda int32, b uint64, ldb int32, beta *float32, c uint64, ldc int32) int32                                        `sym:"cublasSgemm_v2"`
	GemmEx          func(h uintptr, ta, tb, m, n, k int32, alpha unsafe.Pointer, a uint64, at, lda int32, b uint64, bt, ldb int32, beta unsafe.Pointer, c uint64, ct, ldc, compute, algo int32) int32 `sym:"cublasGemmEx"`
	Saxpy           func(h uintptr, n int32, alpha *float32, x uint64, incx int32, y uint64, incy int32) int32                                                                                        `sym:"cublasSaxpy_v2"`
	Sscal           func(h uintptr, n int32, alpha *float32, x uint64, incx int32) int32                                                                                                              `sym:"cublasSscal_v2"`
	GetStatusName   func(st int32) string                                                                                                                                                             `sym:"cublasGetStatusName"`
	GetStatusString func(st int32) string                                                                                                                                                             `sym:"cublasGetStatusString"`
}

// cuBLAS constants (docs/spec/cuda-abi.md §5).
const (
	cublasOpN              = 0  // CUBLAS_OP_N
	cublasOpT              = 1  // CUBLAS_OP_T
	cublasPointerModeHost  = 0  // CUBLAS_POINTER_MODE_HOST
	cublasDefaultMath      = 0  // CUBLAS_DEFAULT_MATH
	cublasPedanticMath     = 2  // CUBLAS_PEDANTIC_MATH
	cublasTF32TensorOpMath = 3  // CUBLAS_TF32_TENSOR_OP_MATH
	cublasCompute32F       = 68 // CUBLAS_COMPUTE_32F
	cublasGemmDefault      = -1 // CUBLAS_GEMM_DEFAULT
	cudaR32F               = 0  // CUDA_R_32F
	cudaR16F               = 2  // CUDA_R_16F
	cudaR16BF              = 14 // CUDA_R_16BF
)

// cublasStatusNames are the cublasStatus_t names, used when the library's own
// cublasGetStatusName is unavailable.
var cublasStatusNames = map[int32]string{
	0: "CUBLAS_STATUS_SUCCESS", 1: "CUBLAS_STATUS_NOT_INITIALIZED", 3: "CUBLAS_STATUS_ALLOC_FAILED",
	7: "CUBLAS_STATUS_INVALID_VALUE", 8: "CUBLAS_STATUS_ARCH_MISMATCH", 11: "CUBLAS_STATUS_MAPPING_ERROR",
	13: "CUBLAS_STATUS_EXECUTION_FAILED", 14: "CUBLAS_STATUS_INTERNAL_ERROR", 15: "CUBLAS_STATUS_NOT_SUPPORTED",
	16: "CUBLAS_STATUS_LICENSE_ERROR",
}

func (b *cublasFuncs) check(call string, st int32) error {
	if st == 0 {
		return nil
	}
	e := &Error{Call: call, Code: st, Name: cublasStatusNames[st]}
	if e.Name == "" {
		e.Name = "cublasStatus_t"
	}
	if b.GetStatusName != nil {
		e.Name = b.GetStatusName(st)
	}
	if b.GetStatusString != nil {
		e.Detail = b.GetStatusString(st)
	}
	return e
}
