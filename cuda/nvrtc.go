package cuda

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"unsafe"
)

// nvrtcFuncs binds NVRTC (libnvrtc.so.13, .12 or .11.2), docs/spec/cuda-abi.md §4. All return
// nvrtcResult except GetErrorString.
type nvrtcFuncs struct {
	Version           func(major, minor *int32) int32                                                              `sym:"nvrtcVersion"`
	CreateProgram     func(p *uintptr, src *byte, name *byte, nHeaders int32, headers, includeNames uintptr) int32 `sym:"nvrtcCreateProgram"`
	CompileProgram    func(p uintptr, nOptions int32, options unsafe.Pointer) int32                                `sym:"nvrtcCompileProgram"`
	GetPTXSize        func(p uintptr, n *uint64) int32                                                             `sym:"nvrtcGetPTXSize"`
	GetPTX            func(p uintptr, ptx *byte) int32                                                             `sym:"nvrtcGetPTX"`
	GetCUBINSize      func(p uintptr, n *uint64) int32                                                             `sym:"nvrtcGetCUBINSize"`
	GetCUBIN          func(p uintptr, cubin *byte) int32                                                           `sym:"nvrtcGetCUBIN"`
	GetProgramLogSize func(p uintptr, n *uint64) int32                                                             `sym:"nvrtcGetProgramLogSize"`
	GetProgramLog     func(p uintptr, log *byte) int32                                                             `sym:"nvrtcGetProgramLog"`
	DestroyProgram    func(p *uintptr) int32                                                                       `sym:"nvrtcDestroyProgram"`
	GetErrorString    func(r int32) string                                                                         `sym:"nvrtcGetErrorString"`
	NumSupportedArchs func(n *int32) int32                                                                         `sym:"nvrtcGetNumSupportedArchs"`
	SupportedArchs    func(archs *int32) int32                                                                     `sym:"nvrtcGetSupportedArchs"`
}

const nvrtcErrorCompilation = 6 // NVRTC_ERROR_COMPILATION

func (r *nvrtcFuncs) check(call string, st int32) error {
	if st == 0 {
		return nil
	}
	e := &Error{Call: call, Code: st, Name: "nvrtcResult"}
	if r.GetErrorString != nil {
		e.Name = r.GetErrorString(st)
	}
	return e
}

// archOption is the --gpu-architecture option for architecture arch
// (compute capability major*10+minor): a real one (sm_XX: NVRTC makes a
// cubin for exactly that device) or a virtual one (compute_XX: PTX, which
// the driver JIT-compiles for the device).
func archOption(arch int, real bool) string {
	if real {
		return fmt.Sprintf("--gpu-architecture=sm_%d", arch)
	}
	return fmt.Sprintf("--gpu-architecture=compute_%d", arch)
}

// pickArch returns the newest architecture NVRTC supports that the device
// (compute capability cc = major*10+minor) can run: PTX for an older virtual
// architecture runs on newer devices, so an NVRTC older than the GPU still
// works. With no list, or none old enough, it returns cc.
func pickArch(supported []int32, cc int) int {
	best := -1
	for _, a := range supported {
		if int(a) <= cc && int(a) > best {
			best = int(a)
		}
	}
	if best < 0 {
		return cc
	}
	return best
}

// supportedArchs lists the architectures this NVRTC compiles for.
func (r *nvrtcFuncs) supportedArchs() ([]int32, error) {
	var n int32
	if err := r.check("nvrtcGetNumSupportedArchs", r.NumSupportedArchs(&n)); err != nil || n <= 0 {
		return nil, err
	}
	archs := make([]int32, n)
	if err := r.check("nvrtcGetSupportedArchs", r.SupportedArchs(&archs[0])); err != nil {
		return nil, err
	}
	return archs, nil
}

// image is compiled kernel code for the driver: a cubin for one device or
// NUL-terminated PTX text, and the option it was compiled with.
type image struct {
	data   []byte
	cubin  bool
	option string
}

// kernelImages compiles src for a device of compute capability cc, in the
// order the module loader should try them: a cubin (--gpu-architecture=
// sm_CC) when this NVRTC supports cc exactly, which the driver loads without
// JIT-compiling (so a PTX version newer than the driver cannot be refused),
// then PTX for the newest virtual architecture not above cc. A failed cubin
// compilation is not fatal (PTX follows); the error is returned only when
// nothing compiled.
func (r *nvrtcFuncs) kernelImages(src, name string, cc int) ([]image, error) {
	archs, err := r.supportedArchs()
	if err != nil {
		return nil, err
	}
	var out []image
	var errs []string
	if slices.Contains(archs, int32(cc)) {
		opt := archOption(cc, true)
		if bin, err := r.compile(src, name, []string{opt}, true); err == nil {
			out = append(out, image{bin, true, opt})
		} else {
			errs = append(errs, err.Error())
		}
	}
	opt := archOption(pickArch(archs, cc), false)
	ptx, err := r.compile(src, name, []string{opt}, false)
	if err != nil {
		if len(out) > 0 {
			return out, nil
		}
		return nil, errors.New(strings.Join(append(errs, err.Error()), "\n"))
	}
	return append(out, image{ptx, false, opt}), nil
}

// compile compiles CUDA C source with the given options and returns the
// cubin (cubin true; the options must name a real architecture) or the
// NUL-terminated PTX. On a compilation error the returned *Error carries
// NVRTC's log.
func (r *nvrtcFuncs) compile(src, name string, options []string, cubin bool) ([]byte, error) {
	var prog uintptr
	srcC, nameC := cBytes(src), cBytes(name)
	if err := r.check("nvrtcCreateProgram", r.CreateProgram(&prog, &srcC[0], &nameC[0], 0, 0, 0)); err != nil {
		return nil, err
	}
	defer r.DestroyProgram(&prog)
	opts := make([][]byte, len(options))
	ptrs := make([]*byte, len(options)+1)
	for i, o := range options {
		opts[i] = cBytes(o)
		ptrs[i] = &opts[i][0]
	}
	st := r.CompileProgram(prog, int32(len(options)), unsafe.Pointer(&ptrs[0]))
	runtime.KeepAlive(opts)
	if st != 0 {
		err := r.check("nvrtcCompileProgram "+name+" ("+strings.Join(options, " ")+")", st)
		var n uint64
		if r.GetProgramLogSize(prog, &n) == 0 && n > 1 {
			log := make([]byte, n)
			if r.GetProgramLog(prog, &log[0]) == 0 {
				err.(*Error).Log = strings.TrimRight(cString(&log[0]), "\n")
			}
		}
		return nil, err
	}
	size, get, what := r.GetPTXSize, r.GetPTX, "nvrtcGetPTX"
	if cubin {
		size, get, what = r.GetCUBINSize, r.GetCUBIN, "nvrtcGetCUBIN"
	}
	var n uint64
	if err := r.check(what+"Size", size(prog, &n)); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fmt.Errorf("%s: empty output for %s", what, strings.Join(options, " "))
	}
	out := make([]byte, n)
	if err := r.check(what, get(prog, &out[0])); err != nil {
		return nil, err
	}
	return out, nil
}
