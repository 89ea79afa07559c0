package cuda

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
)

// Options configures New.
type Options struct {
	// LibDir is an explicit folder (or ':'-separated folders) searched first
	// for the NVIDIA libraries (the --cuda-lib-dir flag); empty uses
	// $PERTNAS_CUDA_LIB_DIR.
	LibDir string
	// TF32 lets cuDNN convolutions and cuBLAS GEMMs use TF32 tensor cores
	// (10-bit mantissa inputs, fp32 accumulation). Off, every convolution and
	// GEMM is strict fp32 (CUDNN_FMA_MATH, CUBLAS_DEFAULT_MATH) and matches the
	// CPU backend to 1e-4 relative; on, to 5e-3 relative per layer (max-norm,
	// TestParityTF32).
	TF32 bool
	// WorkspaceLimit caps the cuDNN workspace in bytes (0: 256 MiB).
	WorkspaceLimit int
	// Depthwise says how depthwise convolutions (groups == C == OC) run.
	Depthwise DepthwiseMode
	// Precision: FP32 (the default) or mixed precision, FP16 or BF16.
	Precision Precision
	// Deterministic (--deterministic) makes a run repeatable bit for bit:
	// cuDNN convolution algorithms are restricted to those cuDNN marks
	// CUDNN_DETERMINISTIC (no atomics) and chosen by a fixed preference
	// order instead of by timing, and DepthwiseAuto uses the backend's own
	// depthwise kernels (fixed-order sums) without timing them. The
	// backend's other kernels are deterministic in every mode.
	Deterministic bool
	// SyncCheck synchronises the stream after every Backend method and
	// checks for an asynchronous failure, naming the method and what it
	// queued (kernels with their sizes, cuDNN calls with their shapes): for
	// debugging a first run, at a large cost in speed. NewBackend turns it
	// on when the environment variable PERTNAS_CUDA_SYNC is 1.
	SyncCheck bool
}

// EnvSync is the environment variable that sets Options.SyncCheck ("1").
const EnvSync = "PERTNAS_CUDA_SYNC"

// Precision is how a backend stores activations and runs convolutions.
type Precision int

const (
	// FP32: everything in float32 (TF32 tensor cores only with Options.TF32).
	FP32 Precision = iota
	// FP16 is mixed precision with IEEE half activations: parameters,
	// gradients of parameters, optimizer state, BN statistics and losses
	// stay float32; activations and their gradients are half; convolutions
	// run on tensor cores with half inputs and float32 accumulation. Needs
	// loss scaling (nn.LossScaler) against gradient underflow.
	FP16
	// BF16 is FP16 with bfloat16 activations (float32's range: no loss
	// scaling needed, 8-bit mantissa).
	BF16
)

// ParsePrecision reads a --precision value: fp32, tf32 (fp32 with TF32
// tensor cores), fp16 or bf16.
func ParsePrecision(s string) (p Precision, tf32 bool, err error) {
	switch s {
	case "fp32":
		return FP32, false, nil
	case "tf32":
		return FP32, true, nil
	case "fp16":
		return FP16, false, nil
	case "bf16":
		return BF16, false, nil
	}
	return FP32, false, fmt.Errorf("precision %q: want fp32, tf32, fp16 or bf16", s)
}

func (p Precision) String() string { return [...]string{"fp32", "fp16", "bf16"}[p] }

// activations is the element type of activation buffers.
func (p Precision) activations() dtype {
	switch p {
	case FP16:
		return f16
	case BF16:
		return bf16
	}
	return f32
}

// NeedsLossScaling reports whether training at this precision needs loss
// scaling (fp16's narrow exponent range).
func (p Precision) NeedsLossScaling() bool { return p == FP16 }

// DepthwiseMode chooses between cuDNN and the backend's own direct kernels
// for depthwise convolutions, which dominate the DARTS networks and which
// cuDNN does not always run fast in fp32 NCHW.
type DepthwiseMode int

const (
	// DepthwiseAuto times both on the first call for a shape and direction
	// and keeps the faster.
	DepthwiseAuto DepthwiseMode = iota
	// DepthwiseKernel always uses the backend's kernels.
	DepthwiseKernel
	// DepthwiseCudnn always uses cuDNN.
	DepthwiseCudnn
)

// Failure is the panic value of a Backend method whose CUDA, cuBLAS, cuDNN or
// NVRTC call failed (the nn.Backend methods return no error). Err carries the
// library's own error text; it is an nn.DeviceFailure (see nn.RecoverDeviceFailure).
type Failure struct{ Err error }

func (f Failure) Error() string { return "cuda: " + f.Err.Error() }
func (f Failure) Unwrap() error { return f.Err }

// DeviceFailure marks Failure as an nn.DeviceFailure.
func (Failure) DeviceFailure() {}

// must panics with a Failure when err is not nil.
func must(err error) {
	if err != nil {
		panic(Failure{err})
	}
}

var (
	libsOnce sync.Once
	libsVal  *Libraries
	libsErr  error
	libsDir  string
)

// openLibraries loads and binds the libraries once per process (the dynamic
// loader keeps them for the life of the process anyway). Every bound symbol
// must resolve.
func openLibraries(dir string) (*Libraries, error) {
	libsOnce.Do(func() {
		libsDir = dir
		libsVal, libsErr = OpenLibraries(Find(FindOptions{Dir: dir}))
		if libsErr == nil {
			libsErr = libsVal.CheckSymbols()
		}
	})
	if libsErr == nil && dir != libsDir {
		return nil, fmt.Errorf("cuda: libraries already loaded from %q, cannot switch to %q", libsDir, dir)
	}
	return libsVal, libsErr
}

// DeviceInfo describes a GPU.
type DeviceInfo struct {
	Ordinal       int
	Name          string
	Major, Minor  int // compute capability
	Multiprocs    int
	TotalMem      uint64
	DriverVersion int    // e.g. 13000
	CudnnVersion  int    // e.g. 91200
	Kernels       string // how the kernels were loaded: "cubin sm_90" or "PTX compute_90"
	// Versions says which libraries were loaded and why (Libraries.Versions,
	// with NVRTC's version).
	Versions       string
	LibrariesFound [numLibs]string
}

func (i DeviceInfo) String() string {
	s := fmt.Sprintf("%s (sm_%d%d, %d SMs, %.1f GiB; driver %d.%d, cuDNN %d",
		i.Name, i.Major, i.Minor, i.Multiprocs, float64(i.TotalMem)/(1<<30),
		i.DriverVersion/1000, i.DriverVersion%1000/10, i.CudnnVersion)
	if i.Kernels != "" {
		s += "; kernels " + i.Kernels
	}
	if i.Versions != "" {
		s += "; " + i.Versions
	}
	return s + ")"
}

// Available reports whether a CUDA GPU can be used with the default library
// search: the libraries load, every symbol resolves, the driver initialises
// and sees at least one device. why says what was found or what is missing.
func Available() (ok bool, why string) {
	return AvailableIn("")
}

// AvailableIn is Available with an explicit library folder (see Options.LibDir).
func AvailableIn(libDir string) (ok bool, why string) {
	info, err := Probe(libDir, 0)
	if err != nil {
		return false, err.Error()
	}
	return true, "cuda:0 " + info.String()
}

// Probe loads the libraries, initialises the driver and describes device ordinal.
func Probe(libDir string, ordinal int) (DeviceInfo, error) {
	l, err := openLibraries(libDir)
	if err != nil {
		return DeviceInfo{}, err
	}
	d := &l.drv
	info := DeviceInfo{Ordinal: ordinal, LibrariesFound: l.Paths}
	if err := d.check("cuInit", d.Init(0)); err != nil {
		return info, err
	}
	var v, count int32
	if err := d.check("cuDriverGetVersion", d.DriverGetVersion(&v)); err != nil {
		return info, err
	}
	info.DriverVersion = int(v)
	if err := d.check("cuDeviceGetCount", d.DeviceGetCount(&count)); err != nil {
		return info, err
	}
	if int(count) <= ordinal || ordinal < 0 {
		return info, fmt.Errorf("cuda: no device %d (%d device(s) visible)", ordinal, count)
	}
	var dev int32
	if err := d.check("cuDeviceGet", d.DeviceGet(&dev, int32(ordinal))); err != nil {
		return info, err
	}
	name := make([]byte, 256)
	if err := d.check("cuDeviceGetName", d.DeviceGetName(&name[0], int32(len(name)), dev)); err != nil {
		return info, err
	}
	info.Name = cString(&name[0])
	attrs := []struct {
		attr int32
		dst  *int
	}{{attrComputeCapMajor, &info.Major}, {attrComputeCapMinor, &info.Minor}, {attrMultiprocessors, &info.Multiprocs}}
	for _, a := range attrs {
		var x int32
		if err := d.check("cuDeviceGetAttribute", d.DeviceGetAttribute(&x, a.attr, dev)); err != nil {
			return info, err
		}
		*a.dst = int(x)
	}
	if err := d.check("cuDeviceTotalMem_v2", d.DeviceTotalMem(&info.TotalMem, dev)); err != nil {
		return info, err
	}
	info.CudnnVersion = int(l.dnn.GetVersion())
	var major, minor int32
	if l.rtc.Version(&major, &minor) == 0 {
		info.Versions = fmt.Sprintf("NVRTC %d.%d, ", major, minor)
	}
	info.Versions += l.Versions()
	return info, nil
}

// device is the per-GPU state shared by a Backend's methods: the primary
// context, one stream every operation is queued on, the library handles and
// the compiled kernels.
type device struct {
	l       *Libraries
	drv     *driverFuncs
	info    DeviceInfo
	dev     int32
	ctx     uintptr
	stream  uintptr
	blas    uintptr
	dnn     uintptr
	module  uintptr
	kernels map[string]uintptr
	grid    uint32 // max blocks for grid-stride kernels
}

// openDevice retains the primary context of ordinal, creates the stream and
// handles and compiles the kernels. On error everything made is released.
func openDevice(opts Options, ordinal int) (dv *device, err error) {
	info, err := Probe(opts.LibDir, ordinal)
	if err != nil {
		return nil, err
	}
	l, _ := openLibraries(opts.LibDir)
	dv = &device{l: l, drv: &l.drv, info: info, kernels: map[string]uintptr{}}
	defer func() {
		if err != nil {
			dv.close()
			dv = nil
		}
	}()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	d := dv.drv
	if err = d.check("cuDeviceGet", d.DeviceGet(&dv.dev, int32(ordinal))); err != nil {
		return
	}
	if err = d.check("cuDevicePrimaryCtxRetain", d.PrimaryCtxRetain(&dv.ctx, dv.dev)); err != nil {
		return
	}
	if err = d.check("cuCtxSetCurrent", d.CtxSetCurrent(dv.ctx)); err != nil {
		return
	}
	if err = d.check("cuStreamCreate", d.StreamCreate(&dv.stream, streamNonBlocking)); err != nil {
		return
	}
	if err = l.blas.check("cublasCreate_v2", l.blas.Create(&dv.blas)); err != nil {
		return
	}
	if err = l.blas.check("cublasSetStream_v2", l.blas.SetStream(dv.blas, dv.stream)); err != nil {
		return
	}
	math := int32(cublasDefaultMath)
	if opts.TF32 {
		math = cublasTF32TensorOpMath
	}
	if err = l.blas.check("cublasSetMathMode", l.blas.SetMathMode(dv.blas, math)); err != nil {
		return
	}
	if err = l.dnn.check("cudnnCreate", l.dnn.Create(&dv.dnn)); err != nil {
		return
	}
	if err = l.dnn.check("cudnnSetStream", l.dnn.SetStream(dv.dnn, dv.stream)); err != nil {
		return
	}
	if dv.module, dv.info.Kernels, err = loadKernels(d, &l.rtc, info.Major*10+info.Minor); err != nil {
		return
	}
	for _, name := range kernelNames {
		var f uintptr
		nameC := cBytes(name)
		if err = d.check("cuModuleGetFunction "+name, d.ModuleGetFunction(&f, dv.module, &nameC[0])); err != nil {
			return
		}
		dv.kernels[name] = f
	}
	dv.grid = uint32(max(info.Multiprocs, 1) * 32)
	return dv, nil
}

// loadKernels compiles kernelSource for a device of compute capability cc
// and loads it: the cubin when NVRTC makes one for the device, else (or when
// the driver refuses the cubin) the PTX. It returns the module and what was
// loaded ("cubin sm_90"); the error lists every image's failure with the
// driver's log.
func loadKernels(d *driverFuncs, rtc *nvrtcFuncs, cc int) (uintptr, string, error) {
	imgs, err := rtc.kernelImages(kernelSource, "pertnas_kernels.cu", cc)
	if err != nil {
		return 0, "", err
	}
	var errs []string
	for _, img := range imgs {
		m, err := d.loadModule(img)
		if err == nil {
			kind := "PTX"
			if img.cubin {
				kind = "cubin"
			}
			return m, kind + " " + strings.TrimPrefix(img.option, "--gpu-architecture="), nil
		}
		errs = append(errs, err.Error())
	}
	return 0, "", fmt.Errorf("cuda: the kernels compiled but the driver loads none of them:\n%s", strings.Join(errs, "\n"))
}

// close releases what openDevice made, in reverse order; errors are ignored
// (there is nothing left to do about them).
func (dv *device) close() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	d := dv.drv
	if dv.ctx != 0 {
		d.CtxSetCurrent(dv.ctx)
	}
	if dv.stream != 0 {
		d.StreamSynchronize(dv.stream)
	}
	if dv.module != 0 {
		d.ModuleUnload(dv.module)
	}
	if dv.dnn != 0 {
		dv.l.dnn.Destroy(dv.dnn)
	}
	if dv.blas != 0 {
		dv.l.blas.Destroy(dv.blas)
	}
	if dv.stream != 0 {
		d.StreamDestroy(dv.stream)
	}
	if dv.ctx != 0 {
		d.PrimaryCtxRelease(dv.dev)
	}
	*dv = device{l: dv.l, drv: dv.drv}
}

// errClosed is returned by methods of a closed Backend.
var errClosed = errors.New("backend is closed")
