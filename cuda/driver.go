package cuda

import (
	"fmt"
	"runtime"
	"strings"
	"unsafe"
)

// driverFuncs binds the CUDA driver API (libcuda.so.1). Each field's tag is the
// exported symbol (versioned ABI name per docs/spec/cuda-abi.md §1); "a|b"
// means a, or b on a driver that lacks a. Every function returns a CUresult.
type driverFuncs struct {
	Init               func(flags uint32) int32                                                                                      `sym:"cuInit"`
	DriverGetVersion   func(v *int32) int32                                                                                          `sym:"cuDriverGetVersion"`
	DeviceGetCount     func(n *int32) int32                                                                                          `sym:"cuDeviceGetCount"`
	DeviceGet          func(dev *int32, ordinal int32) int32                                                                         `sym:"cuDeviceGet"`
	DeviceGetName      func(name *byte, n int32, dev int32) int32                                                                    `sym:"cuDeviceGetName"`
	DeviceGetAttribute func(v *int32, attr int32, dev int32) int32                                                                   `sym:"cuDeviceGetAttribute"`
	DeviceTotalMem     func(bytes *uint64, dev int32) int32                                                                          `sym:"cuDeviceTotalMem_v2"`
	PrimaryCtxRetain   func(ctx *uintptr, dev int32) int32                                                                           `sym:"cuDevicePrimaryCtxRetain"`
	PrimaryCtxRelease  func(dev int32) int32                                                                                         `sym:"cuDevicePrimaryCtxRelease_v2"`
	CtxSetCurrent      func(ctx uintptr) int32                                                                                       `sym:"cuCtxSetCurrent"`
	CtxSynchronize     func() int32                                                                                                  `sym:"cuCtxSynchronize"`
	MemAlloc           func(p *uint64, bytes uint64) int32                                                                           `sym:"cuMemAlloc_v2"`
	MemFree            func(p uint64) int32                                                                                          `sym:"cuMemFree_v2"`
	MemGetInfo         func(free, total *uint64) int32                                                                               `sym:"cuMemGetInfo_v2"`
	MemcpyHtoDAsync    func(dst uint64, src unsafe.Pointer, bytes uint64, s uintptr) int32                                           `sym:"cuMemcpyHtoDAsync_v2"`
	MemcpyDtoHAsync    func(dst unsafe.Pointer, src uint64, bytes uint64, s uintptr) int32                                           `sym:"cuMemcpyDtoHAsync_v2"`
	MemcpyDtoDAsync    func(dst, src uint64, bytes uint64, s uintptr) int32                                                          `sym:"cuMemcpyDtoDAsync_v2"`
	MemsetD32Async     func(dst uint64, v uint32, n uint64, s uintptr) int32                                                         `sym:"cuMemsetD32Async"`
	MemHostAlloc       func(p *unsafe.Pointer, bytes uint64, flags uint32) int32                                                     `sym:"cuMemHostAlloc"`
	MemFreeHost        func(p unsafe.Pointer) int32                                                                                  `sym:"cuMemFreeHost"`
	StreamCreate       func(s *uintptr, flags uint32) int32                                                                          `sym:"cuStreamCreate"`
	StreamSynchronize  func(s uintptr) int32                                                                                         `sym:"cuStreamSynchronize"`
	StreamDestroy      func(s uintptr) int32                                                                                         `sym:"cuStreamDestroy_v2"`
	EventCreate        func(e *uintptr, flags uint32) int32                                                                          `sym:"cuEventCreate"`
	EventRecord        func(e, s uintptr) int32                                                                                      `sym:"cuEventRecord"`
	EventSynchronize   func(e uintptr) int32                                                                                         `sym:"cuEventSynchronize"`
	EventElapsedTime   func(ms *float32, start, end uintptr) int32                                                                   `sym:"cuEventElapsedTime_v2|cuEventElapsedTime"`
	EventDestroy       func(e uintptr) int32                                                                                         `sym:"cuEventDestroy_v2"`
	ModuleLoadDataEx   func(m *uintptr, image unsafe.Pointer, n uint32, options *int32, values *uintptr) int32                       `sym:"cuModuleLoadDataEx"`
	ModuleGetFunction  func(f *uintptr, m uintptr, name *byte) int32                                                                 `sym:"cuModuleGetFunction"`
	ModuleUnload       func(m uintptr) int32                                                                                         `sym:"cuModuleUnload"`
	LaunchKernel       func(f uintptr, gx, gy, gz, bx, by, bz, shared uint32, s uintptr, params unsafe.Pointer, extra uintptr) int32 `sym:"cuLaunchKernel"`
	GetErrorName       func(r int32, s **byte) int32                                                                                 `sym:"cuGetErrorName"`
	GetErrorString     func(r int32, s **byte) int32                                                                                 `sym:"cuGetErrorString"`
	StreamBeginCapture func(s uintptr, mode int32) int32                                                                             `sym:"cuStreamBeginCapture_v2"`
	StreamEndCapture   func(s uintptr, g *uintptr) int32                                                                             `sym:"cuStreamEndCapture"`
	GraphInstantiate   func(exec *uintptr, g uintptr, flags uint64) int32                                                            `sym:"cuGraphInstantiateWithFlags"`
	GraphLaunch        func(exec, s uintptr) int32                                                                                   `sym:"cuGraphLaunch"`
	GraphExecDestroy   func(exec uintptr) int32                                                                                      `sym:"cuGraphExecDestroy"`
	GraphDestroy       func(g uintptr) int32                                                                                         `sym:"cuGraphDestroy"`
}

// Driver API constants (docs/spec/cuda-abi.md §5).
const (
	cudaSuccess         = 0
	cudaErrorNoDevice   = 100
	cudaErrorStubLib    = 34
	attrComputeCapMajor = 75 // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
	attrComputeCapMinor = 76 // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR
	attrMultiprocessors = 16 // CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT
	streamNonBlocking   = 1  // CU_STREAM_NON_BLOCKING
	eventDefault        = 0  // CU_EVENT_DEFAULT
	eventDisableTiming  = 2  // CU_EVENT_DISABLE_TIMING
	captureModeThread   = 1  // CU_STREAM_CAPTURE_MODE_THREAD_LOCAL
	jitInfoLog          = 3  // CU_JIT_INFO_LOG_BUFFER
	jitInfoLogSize      = 4  // CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES
	jitErrorLog         = 5  // CU_JIT_ERROR_LOG_BUFFER
	jitErrorLogSize     = 6  // CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES
)

// jitLogBytes is the size of each of the loader's log buffers.
const jitLogBytes = 8 << 10

// loadModule loads a cubin or PTX image with cuModuleLoadDataEx, giving the
// driver an error log buffer (and an info log buffer): when the image is
// refused, the returned *Error carries the driver's explanation as its Log
// (for PTX, the JIT compiler's messages).
func (d *driverFuncs) loadModule(img image) (uintptr, error) {
	errLog, infoLog := make([]byte, jitLogBytes), make([]byte, jitLogBytes)
	opts := []int32{jitErrorLog, jitErrorLogSize, jitInfoLog, jitInfoLogSize}
	vals := []uintptr{uintptr(unsafe.Pointer(&errLog[0])), jitLogBytes, uintptr(unsafe.Pointer(&infoLog[0])), jitLogBytes}
	data := img.data
	if !img.cubin && (len(data) == 0 || data[len(data)-1] != 0) {
		data = append(data[:len(data):len(data)], 0) // PTX is read up to its NUL
	}
	var m uintptr
	r := d.ModuleLoadDataEx(&m, unsafe.Pointer(&data[0]), uint32(len(opts)), &opts[0], &vals[0])
	runtime.KeepAlive(errLog)
	runtime.KeepAlive(infoLog)
	runtime.KeepAlive(data)
	kind := "PTX"
	if img.cubin {
		kind = "cubin"
	}
	if err := d.check(fmt.Sprintf("cuModuleLoadDataEx (%s, %s)", kind, img.option), r); err != nil {
		e := err.(*Error)
		e.Log = strings.TrimSpace(cString(&errLog[0]))
		if info := strings.TrimSpace(cString(&infoLog[0])); info != "" {
			e.Log = strings.TrimSpace(e.Log + "\n" + info)
		}
		return 0, e
	}
	return m, nil
}

// cString returns the NUL-terminated C string at p as a Go string ("" for nil).
func cString(p *byte) string {
	if p == nil {
		return ""
	}
	n := 0
	for *(*byte)(unsafe.Add(unsafe.Pointer(p), n)) != 0 {
		n++
	}
	return string(unsafe.Slice(p, n))
}

// cBytes returns s as a NUL-terminated byte slice for passing to C.
func cBytes(s string) []byte {
	b := make([]byte, len(s)+1)
	copy(b, s)
	return b
}

// Error is a failed call into one of the NVIDIA libraries: the call, its
// status code, the library's own name and description of that status and,
// for an NVRTC compilation, the compiler's log.
type Error struct {
	Call   string
	Code   int32
	Name   string // e.g. "CUDA_ERROR_OUT_OF_MEMORY", "CUDNN_STATUS_BAD_PARAM"
	Detail string // e.g. cuGetErrorString's or cudnnGetLastErrorString's text
	Log    string
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s: %s (%d)", e.Call, e.Name, e.Code)
	if e.Detail != "" && e.Detail != e.Name {
		s += ": " + e.Detail
	}
	if e.Log != "" {
		s += "\n" + e.Log
	}
	return s
}

// check turns a CUresult into an error carrying the driver's error text.
func (d *driverFuncs) check(call string, r int32) error {
	if r == cudaSuccess {
		return nil
	}
	e := &Error{Call: call, Code: r, Name: "CUresult", Detail: "unknown error"}
	var p *byte
	if d.GetErrorName != nil && d.GetErrorName(r, &p) == cudaSuccess && p != nil {
		e.Name = cString(p)
	}
	p = nil
	if d.GetErrorString != nil && d.GetErrorString(r, &p) == cudaSuccess && p != nil {
		e.Detail = cString(p)
	}
	return e
}
