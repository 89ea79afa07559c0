package cuda

import (
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// abiSpecFile is the repository's record of the C interface the backend
// binds: signatures, enum values and struct layout.
const abiSpecFile = "../docs/spec/cuda-abi.md"

// abiSpec reads abiSpecFile.
func abiSpec(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(abiSpecFile)
	if err != nil {
		t.Fatalf("reading the ABI spec: %v", err)
	}
	return string(data)
}

// specSignatures maps each exported symbol of the spec's function tables
// (rows "| `symbol` | `C signature` |") to its C signature.
func specSignatures(spec string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(spec, "\n") {
		cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
		if !strings.HasPrefix(line, "| `") || len(cells) != 2 {
			continue
		}
		sym, sig := strings.Trim(cells[0], "` "), strings.Trim(cells[1], "` ")
		if strings.Contains(sig, " "+sym+"(") || strings.Contains(sig, "*"+sym+"(") {
			out[sym] = sig
		}
	}
	return out
}

// cArg is one parameter or return type of a C signature, by ABI class.
type cArg int

const (
	cVoid  cArg = iota
	cInt4       // int, unsigned int, enums
	cWord8      // pointers, handles, size_t, long long, CUdeviceptr
	cFloat
	cDouble
	cStr
)

var eightByteTypes = map[string]bool{
	"size_t": true, "CUdeviceptr": true, "unsigned long long": true, "long long int": true, "long long": true,
	"cublasHandle_t": true, "cudnnHandle_t": true, "cudaStream_t": true, "nvrtcProgram": true,
	"CUcontext": true, "CUstream": true, "CUevent": true, "CUmodule": true, "CUfunction": true, "CUgraph": true, "CUgraphExec": true,
}

// classify gives the ABI class of a C declaration such as "const float *alpha".
func classify(decl string) cArg {
	decl = strings.TrimSpace(decl)
	if decl == "void" || decl == "" {
		return cVoid
	}
	if strings.Contains(decl, "char *") || strings.Contains(decl, "char*") {
		if strings.HasPrefix(decl, "const char") && !strings.Contains(decl, "**") && !strings.Contains(decl, "* const") {
			return cStr
		}
	}
	if strings.Contains(decl, "*") || strings.Contains(decl, "[]") {
		return cWord8
	}
	words := strings.Fields(strings.ReplaceAll(decl, "const ", ""))
	typ := strings.Join(words, " ")
	if len(words) > 1 {
		typ = strings.Join(words[:len(words)-1], " ") // drop the parameter name
	}
	switch {
	case typ == "float":
		return cFloat
	case typ == "double":
		return cDouble
	case eightByteTypes[typ] || strings.HasSuffix(typ, "Descriptor_t"):
		return cWord8
	}
	return cInt4
}

// parseSignature returns the return class and the parameter classes.
func parseSignature(sig, sym string) (cArg, []cArg) {
	i := strings.Index(sig, sym+"(")
	ret := strings.TrimSpace(sig[:i])
	params := strings.TrimSuffix(sig[i+len(sym)+1:], ")")
	var retClass cArg
	switch {
	case ret == "void":
		retClass = cVoid
	case strings.HasPrefix(ret, "const char"):
		retClass = cStr
	case ret == "size_t":
		retClass = cWord8
	default:
		retClass = cInt4
	}
	var ps []cArg
	if strings.TrimSpace(params) != "void" && strings.TrimSpace(params) != "" {
		for _, p := range strings.Split(params, ",") {
			c := classify(p)
			if c == cStr { // a const char* parameter is a pointer
				c = cWord8
			}
			ps = append(ps, c)
		}
	}
	return retClass, ps
}

func goClass(t reflect.Type) cArg {
	switch t.Kind() {
	case reflect.Int32, reflect.Uint32:
		return cInt4
	case reflect.Uintptr, reflect.Uint64, reflect.Int64, reflect.Pointer, reflect.UnsafePointer:
		return cWord8
	case reflect.Float32:
		return cFloat
	case reflect.Float64:
		return cDouble
	case reflect.String:
		return cStr
	}
	return -1
}

// TestBindingsMatchSpec checks every bound function against the C signature
// in docs/spec/cuda-abi.md: the symbol is listed there, and the Go function has the
// same number of parameters, each of the same ABI class (4-byte integer,
// 8-byte word, float, double), and the same kind of result.
func TestBindingsMatchSpec(t *testing.T) {
	sigs := specSignatures(abiSpec(t))
	if len(sigs) < 100 {
		t.Fatalf("parsed only %d signatures from the spec", len(sigs))
	}
	tables := []any{driverFuncs{}, cublasFuncs{}, cudnnFuncs{}, nvrtcFuncs{}}
	n := 0
	for _, tab := range tables {
		typ := reflect.TypeOf(tab)
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			alts := strings.Split(f.Tag.Get("sym"), "|")
			for k, sym := range alts {
				n++
				sig, ok := sigs[sym]
				if !ok && k > 0 {
					// A fallback with the same arguments as the preferred
					// name (docs/spec/cuda-abi.md: cuEventElapsedTime).
					if s, ok2 := sigs[alts[0]]; ok2 {
						sig, ok = strings.Replace(s, alts[0]+"(", sym+"(", 1), true
					}
				}
				if !ok {
					t.Errorf("%s.%s binds %s, which the spec does not list as an exported symbol", typ.Name(), f.Name, sym)
					continue
				}
				ret, params := parseSignature(sig, sym)
				ft := f.Type
				if ft.NumIn() != len(params) {
					t.Errorf("%s: Go has %d parameters, C %d: %s", sym, ft.NumIn(), len(params), sig)
					continue
				}
				for j, p := range params {
					if g := goClass(ft.In(j)); g != p {
						t.Errorf("%s parameter %d: Go %v (class %d), C class %d: %s", sym, j, ft.In(j), g, p, sig)
					}
				}
				goRet := cVoid
				if ft.NumOut() == 1 {
					goRet = goClass(ft.Out(0))
				}
				if goRet != ret {
					t.Errorf("%s result: Go class %d, C class %d: %s", sym, goRet, ret, sig)
				}
			}
		}
	}
	if n < 80 {
		t.Errorf("only %d symbols bound", n)
	}
}

// TestNoOldABINames: the unsuffixed names that are exported with an old ABI
// (docs/spec/cuda-abi.md, the rules at the top) must never be bound.
func TestNoOldABINames(t *testing.T) {
	bad := map[string]bool{}
	for _, s := range strings.Fields(`cuMemAlloc cuMemFree cuMemGetInfo cuDeviceTotalMem cuMemcpyHtoD cuMemcpyDtoH cuMemcpyDtoD
		cuMemcpyHtoDAsync cuMemcpyDtoHAsync cuMemcpyDtoDAsync cuMemsetD32 cuCtxCreate cuCtxDestroy cuStreamDestroy cuEventDestroy
		cuStreamBeginCapture cuGraphInstantiate cuGraphInstantiate_v2 cuDevicePrimaryCtxRelease
		cublasSgemm cublasSaxpy cublasSscal cublasSdot cublasSnrm2 cublasCreate cublasDestroy cublasSetStream`) {
		bad[s] = true
	}
	for lib, syms := range BoundSymbols() {
		for _, alt := range syms {
			names := strings.Split(alt, "|")
			// The first name must be a safe one; an old-ABI fallback is only
			// allowed where the spec says so (cuEventElapsedTime, same arguments).
			if bad[names[0]] {
				t.Errorf("%s: binds old-ABI name %s", lib, names[0])
			}
			for _, n := range names[1:] {
				if bad[n] || n != "cuEventElapsedTime" {
					t.Errorf("%s: unexpected fallback %s", lib, n)
				}
			}
		}
	}
}

// specEnums reads every "| `NAME` | value |" row of the spec.
func specEnums(spec string) map[string]int64 {
	re := regexp.MustCompile("^\\| `([A-Z][A-Z0-9_a-z]+)` \\| (-?\\d+) \\|$")
	out := map[string]int64{}
	for _, line := range strings.Split(spec, "\n") {
		if m := re.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			v, _ := strconv.ParseInt(m[2], 10, 64)
			out[m[1]] = v
		}
	}
	return out
}

func TestEnumValuesMatchSpec(t *testing.T) {
	spec := specEnums(abiSpec(t))
	ours := map[string]int64{
		"CUDA_SUCCESS": cudaSuccess, "CUDA_ERROR_NO_DEVICE": cudaErrorNoDevice, "CUDA_ERROR_STUB_LIBRARY": cudaErrorStubLib,
		"CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR": attrComputeCapMajor, "CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR": attrComputeCapMinor,
		"CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT": attrMultiprocessors, "CU_STREAM_NON_BLOCKING": streamNonBlocking,
		"CU_EVENT_DEFAULT": eventDefault, "CU_EVENT_DISABLE_TIMING": eventDisableTiming, "CU_STREAM_CAPTURE_MODE_THREAD_LOCAL": captureModeThread,
		"CUBLAS_OP_N": cublasOpN, "CUBLAS_OP_T": cublasOpT, "CUBLAS_POINTER_MODE_HOST": cublasPointerModeHost,
		"CUBLAS_DEFAULT_MATH": cublasDefaultMath, "CUBLAS_PEDANTIC_MATH": cublasPedanticMath, "CUBLAS_TF32_TENSOR_OP_MATH": cublasTF32TensorOpMath,
		"CUBLAS_COMPUTE_32F": cublasCompute32F, "CUBLAS_GEMM_DFALT": cublasGemmDefault,
		"CUDA_R_32F": cudaR32F, "CUDA_R_16F": cudaR16F, "CUDA_R_16BF": cudaR16BF,
		"CUDNN_DATA_FLOAT": cudnnDataFloat, "CUDNN_DATA_HALF": cudnnDataHalf, "CUDNN_DATA_BFLOAT16": cudnnDataBfloat16,
		"CUDNN_TENSOR_NCHW": cudnnTensorNCHW, "CUDNN_TENSOR_NHWC": cudnnTensorNHWC, "CUDNN_CROSS_CORRELATION": cudnnCrossCorrelation,
		"CUDNN_DEFAULT_MATH": cudnnDefaultMath, "CUDNN_TENSOR_OP_MATH": cudnnTensorOpMath, "CUDNN_FMA_MATH": cudnnFMAMath,
		"CUDNN_POOLING_MAX": cudnnPoolingMax, "CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING": cudnnPoolingAvgInclPad,
		"CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING": cudnnPoolingAvgExclPad, "CUDNN_POOLING_MAX_DETERMINISTIC": cudnnPoolingMaxDeterm,
		"CUDNN_NOT_PROPAGATE_NAN": cudnnNotPropagateNan, "CUDNN_PROPAGATE_NAN": cudnnPropagateNan, "CUDNN_ACTIVATION_RELU": cudnnActivationRelu,
		"CUDNN_BATCHNORM_SPATIAL": cudnnBatchNormSpatial, "CUDNN_OP_TENSOR_ADD": cudnnOpTensorAdd, "CUDNN_OP_TENSOR_MUL": cudnnOpTensorMul,
		"CUDNN_SOFTMAX_ACCURATE": cudnnSoftmaxAccurate, "CUDNN_SOFTMAX_LOG": cudnnSoftmaxLog, "CUDNN_SOFTMAX_MODE_INSTANCE": cudnnSoftmaxInstance,
		"CUDNN_DETERMINISTIC": cudnnDeterministic, "CUDNN_CONVOLUTION_FWD_ALGO_COUNT": cudnnConvFwdAlgoCount,
		"CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT": cudnnConvBwdDataCount, "CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT": cudnnConvBwdFilterCount,
		"NVRTC_ERROR_COMPILATION": nvrtcErrorCompilation,
	}
	for name, v := range ours {
		sv, ok := spec[name]
		if !ok {
			t.Errorf("%s is not in the spec's enum tables", name)
		} else if sv != v {
			t.Errorf("%s = %d here, %d in the spec", name, v, sv)
		}
	}
	// The fallback status-name tables agree with the spec too.
	for code, name := range cublasStatusNames {
		if sv, ok := spec[name]; !ok || sv != int64(code) {
			t.Errorf("cublasStatusNames[%d] = %s; spec has %d (listed %v)", code, name, sv, ok)
		}
	}
	for code, name := range cudnnStatusNames {
		if sv, ok := spec[name]; !ok || sv != int64(code) {
			t.Errorf("cudnnStatusNames[%d] = %s; spec has %d (listed %v)", code, name, sv, ok)
		}
	}
}

func TestConvAlgoPerfLayout(t *testing.T) {
	var p convAlgoPerf
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"sizeof", unsafe.Sizeof(p), 48}, {"algo", unsafe.Offsetof(p.Algo), 0}, {"status", unsafe.Offsetof(p.Status), 4},
		{"time", unsafe.Offsetof(p.Time), 8}, {"memory", unsafe.Offsetof(p.Memory), 16},
		{"determinism", unsafe.Offsetof(p.Determinism), 24}, {"mathType", unsafe.Offsetof(p.MathType), 28},
		{"reserved", unsafe.Offsetof(p.Reserved), 32},
	} {
		if c.got != c.want {
			t.Errorf("convAlgoPerf %s = %d, want %d (docs/spec/cuda-abi.md §6)", c.name, c.got, c.want)
		}
	}
}

func TestErrorTexts(t *testing.T) {
	// Without the libraries, the checkers fall back to the built-in names.
	if err := (&driverFuncs{}).check("cuMemAlloc_v2", 2); err == nil || err.Error() != "cuMemAlloc_v2: CUresult (2): unknown error" {
		t.Errorf("driver error: %v", err)
	}
	if err := (&cublasFuncs{}).check("cublasSgemm_v2", 7); err == nil || err.Error() != "cublasSgemm_v2: CUBLAS_STATUS_INVALID_VALUE (7)" {
		t.Errorf("cublas error: %v", err)
	}
	if err := (&cudnnFuncs{}).check("cudnnConvolutionForward", 3000); err == nil || err.Error() != "cudnnConvolutionForward: CUDNN_STATUS_NOT_SUPPORTED (3000)" {
		t.Errorf("cudnn error: %v", err)
	}
	e := &Error{Call: "nvrtcCompileProgram k.cu", Code: 6, Name: "NVRTC_ERROR_COMPILATION", Log: "k.cu(3): error: identifier \"x\" is undefined"}
	if got := e.Error(); got != "nvrtcCompileProgram k.cu: NVRTC_ERROR_COMPILATION (6)\nk.cu(3): error: identifier \"x\" is undefined" {
		t.Errorf("nvrtc error: %q", got)
	}
	for _, st := range []int32{0} {
		if (&driverFuncs{}).check("x", st) != nil || (&cublasFuncs{}).check("x", st) != nil ||
			(&cudnnFuncs{}).check("x", st) != nil || (&nvrtcFuncs{}).check("x", st) != nil {
			t.Error("status 0 reported as an error")
		}
	}
	f := Failure{&Error{Call: "cuLaunchKernel k_fill", Code: 700, Name: "CUDA_ERROR_ILLEGAL_ADDRESS", Detail: "an illegal memory access was encountered"}}
	if got := f.Error(); got != "cuda: cuLaunchKernel k_fill: CUDA_ERROR_ILLEGAL_ADDRESS (700): an illegal memory access was encountered" {
		t.Errorf("failure text %q", got)
	}
}

func TestArgsEncoding(t *testing.T) {
	a := new(args).f32(1.5).i32(-2).i64(1 << 40).ptr(0xdeadbeef00).flag(true)
	if a.n != 5 {
		t.Fatalf("n = %d", a.n)
	}
	if got := *(*float32)(a.p[0]); got != 1.5 {
		t.Errorf("float32 slot reads %v", got)
	}
	if got := *(*int32)(a.p[1]); got != -2 {
		t.Errorf("int32 slot reads %v", got)
	}
	if got := *(*int64)(a.p[2]); got != 1<<40 {
		t.Errorf("int64 slot reads %v", got)
	}
	if got := *(*uint64)(a.p[3]); got != 0xdeadbeef00 {
		t.Errorf("pointer slot reads %x", got)
	}
	if got := *(*int32)(a.p[4]); got != 1 {
		t.Errorf("flag slot reads %v", got)
	}
	if got := archOption(90, false); got != "--gpu-architecture=compute_90" || archOption(90, true) != "--gpu-architecture=sm_90" {
		t.Errorf("archOption(90, false) = %q", got)
	}
	for _, c := range []struct {
		supported []int32
		cc, want  int
	}{
		{[]int32{75, 80, 86, 89, 90, 100, 120}, 90, 90},    // H100 with NVRTC 13
		{[]int32{50, 60, 70, 75, 80, 86, 89, 90}, 100, 90}, // B200 with an older NVRTC
		{[]int32{75, 80, 90}, 86, 80},                      // sm_86 runs compute_80 PTX
		{nil, 90, 90},
		{[]int32{100}, 90, 90}, // nothing old enough: ask for the device's own
	} {
		if got := pickArch(c.supported, c.cc); got != c.want {
			t.Errorf("pickArch(%v, %d) = %d, want %d", c.supported, c.cc, got, c.want)
		}
	}
}
