package cuda

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/ebitengine/purego"
)

// Libraries holds the opened NVIDIA libraries and the functions bound from them.
type Libraries struct {
	Paths [numLibs]string // the file (or soname) each library was loaded from
	// DriverVersion is cuDriverGetVersion's answer (1000*major + 10*minor:
	// 12080 for CUDA 12.8), 0 when it could not be asked.
	DriverVersion int
	// CUDAMajor is the CUDA major version of the cuBLAS and NVRTC loaded
	// (one major for both), the newest the driver supports.
	CUDAMajor int
	// CudnnCUDA is the CUDA version cuDNN was built for
	// (cudnnGetCudartVersion, e.g. 12080), 0 when unknown.
	CudnnCUDA int
	// Notes says what was skipped on the way and why (a stub libcuda, a
	// library set of a CUDA major newer than the driver, a cuDNN for another
	// CUDA major), for the versions line.
	Notes []string

	handles [numLibs]uintptr
	drv     driverFuncs
	blas    cublasFuncs
	dnn     cudnnFuncs
	rtc     nvrtcFuncs
	bound   bool
	errors  []string // missing symbols, "library: symbol"
}

// dlopenMode loads every library with its symbols global, so that one
// library finds another (cuBLAS its cuBLASLt, cuDNN's shim its
// sub-libraries) already in memory.
const dlopenMode = purego.RTLD_NOW | purego.RTLD_GLOBAL

// cudaSet are the libraries whose file names carry the CUDA major they
// belong to; OpenLibraries loads all of them from one major.
var cudaSet = []Lib{LibNvrtc, LibCublasLt, LibCublas}

// OpenLibraries loads every library of f:
//   - the driver: the first candidate that loads and whose cuInit does not
//     answer CUDA_ERROR_STUB_LIBRARY (a stub that Find did not recognise by
//     its folder); cuDriverGetVersion then says which CUDA majors it runs;
//   - NVRTC, cuBLASLt and cuBLAS from one CUDA major: the newest major,
//     not above the driver's, for which all three load (a CUDA 13 NVRTC's
//     output is refused by a 12.x driver);
//   - cuDNN: the first candidate built for that same major
//     (cudnnGetCudartVersion), else the first that loads, with a note.
//
// The error, when one cannot be loaded, lists every path that was looked at
// and why each candidate failed, and says how to point the search elsewhere.
func OpenLibraries(f *Found) (*Libraries, error) {
	l := &Libraries{}
	var failures []string
	if err := l.openDriver(f); err != nil {
		failures = append(failures, err.Error())
	}
	if err := l.openCUDASet(f); err != nil {
		failures = append(failures, err.Error())
	}
	if err := l.openCudnn(f); err != nil {
		failures = append(failures, err.Error())
	}
	if len(failures) > 0 {
		l.Close()
		return nil, fmt.Errorf("cuda: cannot load the NVIDIA libraries (set --cuda-lib-dir or %s to the folder holding them):\n%s",
			EnvLibDir, strings.Join(failures, "\n"))
	}
	return l, nil
}

// dlopen loads a candidate after its companions. A companion that fails to
// load is not an error by itself: the main library reports what it lacks.
func dlopen(c Candidate) (uintptr, error) {
	h, _, err := dlopenAll(c)
	return h, err
}

// dlopenAll is dlopen also returning the companions' handles, for undoing
// the load with dlcloseAll.
func dlopenAll(c Candidate) (uintptr, []uintptr, error) {
	var comps []uintptr
	for _, p := range c.Companions {
		if h, err := purego.Dlopen(p, dlopenMode); err == nil {
			comps = append(comps, h)
		}
	}
	h, err := purego.Dlopen(c.Path, dlopenMode)
	if err != nil {
		dlcloseAll(0, comps)
		return 0, nil, err
	}
	return h, comps, nil
}

// dlcloseAll unloads a library and then its companions, so that another
// copy with the same sonames can be loaded in their place.
func dlcloseAll(h uintptr, comps []uintptr) {
	if h != 0 {
		_ = purego.Dlclose(h)
	}
	for i := len(comps) - 1; i >= 0; i-- {
		_ = purego.Dlclose(comps[i])
	}
}

// openDriver loads the first working libcuda and asks its version.
func (l *Libraries) openDriver(f *Found) error {
	var why []string
	for _, c := range f.Candidates[LibDriver] {
		h, err := dlopen(c)
		if err != nil {
			why = append(why, fmt.Sprintf("    %s (%s): %v", c.Path, c.Origin, err))
			continue
		}
		var initFn func(uint32) int32
		var version func(*int32) int32
		if l.bindOne(h, "cuInit", &initFn) && initFn(0) == cudaErrorStubLib {
			_ = purego.Dlclose(h)
			note := fmt.Sprintf("%s (%s): a stub library (cuInit: CUDA_ERROR_STUB_LIBRARY), skipped", c.Path, c.Origin)
			l.Notes = append(l.Notes, note)
			why = append(why, "    "+note)
			continue
		}
		var v int32
		if l.bindOne(h, "cuDriverGetVersion", &version) && version(&v) == cudaSuccess {
			l.DriverVersion = int(v)
		}
		l.handles[LibDriver], l.Paths[LibDriver] = h, c.Path
		return nil
	}
	return notLoadable(f, LibDriver, why)
}

// openCUDASet loads NVRTC, cuBLASLt and cuBLAS of the newest CUDA major for
// which all three load and that the driver supports (any, when its version
// is unknown).
func (l *Libraries) openCUDASet(f *Found) error {
	var majors []int
	for _, name := range sonames[LibNvrtc] {
		majors = append(majors, sonameMajor(name))
	}
	driverMajor := l.DriverVersion / 1000
	why := map[Lib][]string{}
	for _, m := range majors {
		if driverMajor > 0 && m > driverMajor {
			l.Notes = append(l.Notes, fmt.Sprintf("CUDA %d libraries not tried: the driver runs CUDA %d.%d", m, driverMajor, l.DriverVersion%1000/10))
			continue
		}
		var loaded []Lib
		for _, lib := range cudaSet {
			for _, c := range f.Candidates[lib] {
				if sonameMajor(c.Path) != m {
					continue
				}
				h, err := dlopen(c)
				if err != nil {
					why[lib] = append(why[lib], fmt.Sprintf("    %s (%s): %v", c.Path, c.Origin, err))
					continue
				}
				l.handles[lib], l.Paths[lib] = h, c.Path
				loaded = append(loaded, lib)
				break
			}
		}
		if len(loaded) == len(cudaSet) {
			l.CUDAMajor = m
			return nil
		}
		for _, lib := range loaded {
			_ = purego.Dlclose(l.handles[lib])
			l.handles[lib], l.Paths[lib] = 0, ""
		}
	}
	var errs []string
	for _, lib := range cudaSet {
		errs = append(errs, notLoadable(f, lib, why[lib]).Error())
	}
	allowed := "any CUDA major"
	if driverMajor > 0 {
		allowed = fmt.Sprintf("CUDA %d or older (the driver's)", driverMajor)
	}
	return fmt.Errorf("  no complete set of NVRTC, cuBLASLt and cuBLAS of one major, %s:\n%s", allowed, strings.Join(errs, "\n"))
}

// openCudnn loads the first cuDNN built for the CUDA major of the set, else
// the first that loads. A candidate built for another major is unloaded
// with its sub-libraries before the next is tried: they share sonames, and
// the shim loads its sub-libraries by soname.
func (l *Libraries) openCudnn(f *Found) error {
	var why []string
	var other []Candidate // loadable, built for another CUDA major
	var otherCUDA []int
	for _, c := range f.Candidates[LibCudnn] {
		h, comps, err := dlopenAll(c)
		if err != nil {
			why = append(why, fmt.Sprintf("    %s (%s): %v", c.Path, c.Origin, err))
			continue
		}
		built := cudnnBuild(l, h)
		if l.CUDAMajor == 0 || built/1000 == l.CUDAMajor {
			l.handles[LibCudnn], l.Paths[LibCudnn], l.CudnnCUDA = h, c.Path, built
			return nil
		}
		dlcloseAll(h, comps)
		other, otherCUDA = append(other, c), append(otherCUDA, built)
	}
	for i, c := range other {
		if h, err := dlopen(c); err == nil {
			l.handles[LibCudnn], l.Paths[LibCudnn], l.CudnnCUDA = h, c.Path, otherCUDA[i]
			l.Notes = append(l.Notes, fmt.Sprintf("no cuDNN built for CUDA %d found; %s is built for CUDA %d", l.CUDAMajor, c.Path, otherCUDA[i]/1000))
			return nil
		}
	}
	return notLoadable(f, LibCudnn, why)
}

// cudnnBuild is the CUDA version the cuDNN at h was built for
// (cudnnGetCudartVersion), 0 when it does not say.
func cudnnBuild(l *Libraries, h uintptr) int {
	var cudart func() uintptr
	if l.bindOne(h, "cudnnGetCudartVersion", &cudart) {
		return int(cudart())
	}
	return 0
}

// notLoadable is the error for a library none of whose candidates loaded.
func notLoadable(f *Found, lib Lib, why []string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "  %s (%s) not loadable; searched:\n", lib, strings.Join(sonames[lib], " or "))
	for _, t := range f.Tried[lib] {
		b.WriteString("    " + t + "\n")
	}
	if len(why) > 0 {
		b.WriteString("   found but failed to load:\n" + strings.Join(why, "\n"))
	} else {
		b.WriteString("   none of these exists")
	}
	return fmt.Errorf("%s", strings.TrimRight(b.String(), "\n"))
}

// Versions describes what was loaded: the driver's CUDA version, the CUDA
// major of cuBLAS and NVRTC, cuDNN's build, each library's file, and the
// notes on what was skipped.
func (l *Libraries) Versions() string {
	var b strings.Builder
	fmt.Fprintf(&b, "driver CUDA %d.%d, libraries CUDA %d", l.DriverVersion/1000, l.DriverVersion%1000/10, l.CUDAMajor)
	if l.CudnnCUDA > 0 {
		fmt.Fprintf(&b, ", cuDNN built for CUDA %d.%d", l.CudnnCUDA/1000, l.CudnnCUDA%1000/10)
	}
	for lib := Lib(0); lib < numLibs; lib++ {
		fmt.Fprintf(&b, "; %s %s", lib, l.Paths[lib])
	}
	for _, n := range l.Notes {
		b.WriteString("; " + n)
	}
	return b.String()
}

// Close unloads the libraries. Functions bound from them must not be called after.
func (l *Libraries) Close() {
	for i := len(l.handles) - 1; i >= 0; i-- {
		if l.handles[i] != 0 {
			_ = purego.Dlclose(l.handles[i])
			l.handles[i] = 0
		}
	}
}

// bind resolves every symbol of every binding table. Missing symbols are
// collected, not fatal here: CheckSymbols reports them all at once.
func (l *Libraries) bind() {
	if l.bound {
		return
	}
	l.bound = true
	tables := []struct {
		lib Lib
		ptr any
	}{
		{LibDriver, &l.drv}, {LibCublas, &l.blas}, {LibCudnn, &l.dnn}, {LibNvrtc, &l.rtc},
	}
	for _, t := range tables {
		v := reflect.ValueOf(t.ptr).Elem()
		for i := 0; i < v.NumField(); i++ {
			sym := v.Type().Field(i).Tag.Get("sym")
			if sym == "" {
				continue
			}
			if !l.bindOne(l.handles[t.lib], sym, v.Field(i).Addr().Interface()) {
				l.errors = append(l.errors, fmt.Sprintf("%s: %s (in %s)", t.lib, sym, l.Paths[t.lib]))
			}
		}
	}
}

// bindOne binds fptr (a pointer to a func variable) to the first of the
// '|'-separated names that resolves in h.
func (l *Libraries) bindOne(h uintptr, sym string, fptr any) bool {
	for _, name := range strings.Split(sym, "|") {
		if p, err := purego.Dlsym(h, name); err == nil && p != 0 {
			purego.RegisterFunc(fptr, p)
			return true
		}
	}
	return false
}

// CheckSymbols resolves every bound symbol and returns an error listing each
// one missing, or nil when all are present.
func (l *Libraries) CheckSymbols() error {
	l.bind()
	if len(l.errors) > 0 {
		return fmt.Errorf("cuda: %d bound symbol(s) missing:\n  %s", len(l.errors), strings.Join(l.errors, "\n  "))
	}
	return nil
}

// CheckSymbols finds and loads the libraries with the default search and
// resolves every bound symbol, returning an error that lists any missing one.
func CheckSymbols() error {
	l, err := OpenLibraries(Find(FindOptions{}))
	if err != nil {
		return err
	}
	return l.CheckSymbols()
}

// BoundSymbols lists, for each library, every symbol name the backend binds
// (alternatives separated by '|', the preferred first). It needs no library.
func BoundSymbols() map[Lib][]string {
	out := map[Lib][]string{}
	tables := []struct {
		lib Lib
		t   reflect.Type
	}{
		{LibDriver, reflect.TypeOf(driverFuncs{})}, {LibCublas, reflect.TypeOf(cublasFuncs{})},
		{LibCudnn, reflect.TypeOf(cudnnFuncs{})}, {LibNvrtc, reflect.TypeOf(nvrtcFuncs{})},
	}
	for _, t := range tables {
		for i := 0; i < t.t.NumField(); i++ {
			if s := t.t.Field(i).Tag.Get("sym"); s != "" {
				out[t.lib] = append(out[t.lib], s)
			}
		}
	}
	return out
}
