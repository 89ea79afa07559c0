package cuda

import (
	"fmt"
	"runtime"
	"strings"
	"unsafe"
)

// nvrtcFuncs binds NVRTC (libnvrtc.so.13 or .12), docs/spec/cuda-abi.md §4. All return
// nvrtcResult except GetErrorString.
type nvrtcFuncs struct {
	Version           func(major, minor *int32) int32                                                              `sym:"nvrtcVersion"`
	CreateProgram     func(p *uintptr, src *byte, name *byte, nHeaders int32, headers, includeNames uintptr) int32 `sym:"nvrtcCreateProgram"`
	CompileProgram    func(p uintptr, nOptions int32, options unsafe.Pointer) int32                                `sym:"nvrtcCompileProgram"`
	GetPTXSize        func(p uintptr, n *uint64) int32                                                             `sym:"nvrtcGetPTXSize"`
	GetPTX            func(p uintptr, ptx *byte) int32                                                             `sym:"nvrtcGetPTX"`
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

// archOption is the --gpu-architecture option for virtual architecture arch
// (compute capability major*10+minor): NVRTC makes PTX for it, which the
// driver JIT-compiles for the device.
func archOption(arch int) string {
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

// compilePTX compiles CUDA C source to PTX text for the given architecture.
// On a compilation error the returned *Error carries NVRTC's log.
func (r *nvrtcFuncs) compilePTX(src, name string, options []string) (string, error) {
	var prog uintptr
	srcC, nameC := cBytes(src), cBytes(name)
	if err := r.check("nvrtcCreateProgram", r.CreateProgram(&prog, &srcC[0], &nameC[0], 0, 0, 0)); err != nil {
		return "", err
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
		return "", err
	}
	var n uint64
	if err := r.check("nvrtcGetPTXSize", r.GetPTXSize(prog, &n)); err != nil {
		return "", err
	}
	ptx := make([]byte, n)
	if err := r.check("nvrtcGetPTX", r.GetPTX(prog, &ptx[0])); err != nil {
		return "", err
	}
	return cString(&ptx[0]), nil
}
