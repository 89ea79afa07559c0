package cuda

import (
	"bytes"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/ebitengine/purego"
)

// realNVRTC binds the first NVRTC the dynamic loader finds (any of the
// sonames the backend accepts), or skips.
func realNVRTC(t *testing.T) (*nvrtcFuncs, string) {
	t.Helper()
	l := &Libraries{}
	for _, name := range sonames[LibNvrtc] {
		h, err := purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_GLOBAL)
		if err != nil {
			continue
		}
		v := reflect.ValueOf(&l.rtc).Elem()
		for i := 0; i < v.NumField(); i++ {
			sym := v.Type().Field(i).Tag.Get("sym")
			if !l.bindOne(h, sym, v.Field(i).Addr().Interface()) {
				t.Fatalf("%s: symbol %s missing", name, sym)
			}
		}
		return &l.rtc, name
	}
	t.Skipf("no NVRTC library (%s) for the dynamic loader: install libnvrtc11.2 (Debian non-free; scripts/ci/nvrtc.sh) or a CUDA toolkit", strings.Join(sonames[LibNvrtc], ", "))
	return nil, ""
}

// TestRealNVRTC compiles the embedded kernel source with a real NVRTC (no
// GPU needed) for every architecture from compute_70 to compute_90: PTX
// that defines every kernel of kernelNames for that target and, where this
// NVRTC supports the architecture, an sm_XX cubin (an ELF image). This is
// what the backend does on a GPU machine; the host C++ compiler of the
// emulator tests is not a CUDA compiler (inline PTX, device built-ins).
func TestRealNVRTC(t *testing.T) {
	rtc, lib := realNVRTC(t)
	var major, minor int32
	if err := rtc.check("nvrtcVersion", rtc.Version(&major, &minor)); err != nil {
		t.Fatal(err)
	}
	archs, err := rtc.supportedArchs()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: NVRTC %d.%d, architectures %v", lib, major, minor, archs)
	cubins := 0
	for _, cc := range []int{70, 75, 80, 86, 89, 90} {
		imgs, err := rtc.kernelImages(kernelSource, "pertnas_kernels.cu", cc)
		if err != nil {
			t.Errorf("sm_%d: %v", cc, err)
			continue
		}
		ptx := imgs[len(imgs)-1]
		if ptx.cubin || ptx.option != archOption(cc, false) {
			t.Errorf("sm_%d: last image %v, want PTX for compute_%d", cc, imgOptions(imgs), cc)
			continue
		}
		text := string(bytes.TrimRight(ptx.data, "\x00"))
		if !strings.Contains(text, fmt.Sprintf(".target sm_%d", cc)) {
			t.Errorf("compute_%d: PTX has no .target sm_%d", cc, cc)
		}
		for _, name := range kernelNames {
			if !regexp.MustCompile(`\.entry\s+` + name + `\(`).MatchString(text) {
				t.Errorf("compute_%d: PTX has no entry %s", cc, name)
			}
		}
		if !slices.Contains(archs, int32(cc)) {
			if len(imgs) != 1 {
				t.Errorf("sm_%d unsupported by this NVRTC: images %v, want PTX only", cc, imgOptions(imgs))
			}
			continue
		}
		if len(imgs) != 2 || !imgs[0].cubin || imgs[0].option != archOption(cc, true) {
			t.Errorf("sm_%d: images %v, want a cubin then PTX", cc, imgOptions(imgs))
			continue
		}
		if !bytes.HasPrefix(imgs[0].data, []byte("\x7fELF")) {
			t.Errorf("sm_%d: the cubin is not an ELF image (starts %q)", cc, imgs[0].data[:min(8, len(imgs[0].data))])
		}
		cubins++
	}
	if cubins == 0 {
		t.Errorf("no cubin made for any of sm_70..sm_90 (architectures %v)", archs)
	}
	// A compilation error carries NVRTC's log, naming the file and line.
	_, err = rtc.compile(kernelSource+"\nextern \"C\" __global__ void k_bad() { undefined_thing = 1; }\n", "bad.cu", []string{archOption(70, false)}, false)
	if e, ok := err.(*Error); !ok || !strings.Contains(e.Log, "bad.cu") || !strings.Contains(e.Log, "undefined_thing") {
		t.Errorf("compiling bad source: %v, want an error whose log names bad.cu and undefined_thing", err)
	}
}

func imgOptions(imgs []image) []string {
	var out []string
	for _, im := range imgs {
		out = append(out, fmt.Sprintf("%s (cubin %v)", im.option, im.cubin))
	}
	return out
}

// fakeNVRTC compiles nothing: its output is "cubin:<options>" or
// "ptx:<options>", so tests see which options reached which output. Options
// in fail are refused with NVRTC_ERROR_COMPILATION and a log.
func fakeNVRTC(archs []int32, fail map[string]bool) *nvrtcFuncs {
	progs := map[uintptr]string{}
	next := uintptr(0)
	out := func(p uintptr, kind string) []byte { return []byte(kind + ":" + progs[p] + "\x00") }
	return &nvrtcFuncs{
		NumSupportedArchs: func(n *int32) int32 { *n = int32(len(archs)); return 0 },
		SupportedArchs: func(a *int32) int32 {
			copy(unsafe.Slice(a, len(archs)), archs)
			return 0
		},
		CreateProgram: func(p *uintptr, _, _ *byte, _ int32, _, _ uintptr) int32 { next++; *p = next; return 0 },
		CompileProgram: func(p uintptr, n int32, options unsafe.Pointer) int32 {
			var opts []string
			for _, o := range unsafe.Slice((**byte)(options), n) {
				opts = append(opts, cString(o))
			}
			progs[p] = strings.Join(opts, " ")
			if fail[progs[p]] {
				return nvrtcErrorCompilation
			}
			return 0
		},
		GetProgramLogSize: func(p uintptr, n *uint64) int32 { *n = uint64(len("log of " + progs[p] + "\x00")); return 0 },
		GetProgramLog: func(p uintptr, log *byte) int32 {
			copy(unsafe.Slice(log, len("log of "+progs[p])+1), "log of "+progs[p]+"\x00")
			return 0
		},
		GetPTXSize:     func(p uintptr, n *uint64) int32 { *n = uint64(len(out(p, "ptx"))); return 0 },
		GetPTX:         func(p uintptr, b *byte) int32 { copy(unsafe.Slice(b, len(out(p, "ptx"))), out(p, "ptx")); return 0 },
		GetCUBINSize:   func(p uintptr, n *uint64) int32 { *n = uint64(len(out(p, "cubin"))); return 0 },
		GetCUBIN:       func(p uintptr, b *byte) int32 { copy(unsafe.Slice(b, len(out(p, "cubin"))), out(p, "cubin")); return 0 },
		DestroyProgram: func(p *uintptr) int32 { return 0 },
	}
}

// TestKernelImages: a cubin for the device's own architecture when NVRTC
// supports it, then PTX; PTX only for a device newer than NVRTC; a cubin
// that fails to compile leaves the PTX.
func TestKernelImages(t *testing.T) {
	archs := []int32{70, 75, 80, 86, 89, 90}
	for _, c := range []struct {
		cc   int
		fail map[string]bool
		want string
	}{
		{90, nil, "[cubin:--gpu-architecture=sm_90 ptx:--gpu-architecture=compute_90]"},
		{86, nil, "[cubin:--gpu-architecture=sm_86 ptx:--gpu-architecture=compute_86]"},
		{100, nil, "[ptx:--gpu-architecture=compute_90]"}, // B200 with an NVRTC 12.x older than it
		{87, nil, "[ptx:--gpu-architecture=compute_86]"},
		{90, map[string]bool{"--gpu-architecture=sm_90": true}, "[ptx:--gpu-architecture=compute_90]"},
	} {
		imgs, err := fakeNVRTC(archs, c.fail).kernelImages("src", "k.cu", c.cc)
		if err != nil {
			t.Errorf("cc %d: %v", c.cc, err)
			continue
		}
		var got []string
		for _, im := range imgs {
			got = append(got, strings.TrimRight(string(im.data), "\x00"))
			if want := strings.HasPrefix(string(im.data), "cubin"); im.cubin != want || !strings.HasSuffix(string(im.data), im.option+"\x00") {
				t.Errorf("cc %d: image %+v", c.cc, im)
			}
		}
		if fmt.Sprint(got) != c.want {
			t.Errorf("cc %d: images %v, want %v", c.cc, got, c.want)
		}
	}
	// Nothing compiles: the error has both logs.
	fail := map[string]bool{"--gpu-architecture=sm_90": true, "--gpu-architecture=compute_90": true}
	_, err := fakeNVRTC(archs, fail).kernelImages("src", "k.cu", 90)
	if err == nil || !strings.Contains(err.Error(), "log of --gpu-architecture=sm_90") || !strings.Contains(err.Error(), "log of --gpu-architecture=compute_90") {
		t.Errorf("nothing compiles: error %v, want both logs", err)
	}
}

// TestLoadKernels: the module loader gets the cubin first through
// cuModuleLoadDataEx with an error-log buffer; when the driver refuses it,
// the PTX is loaded; when it refuses both, the error carries each log.
func TestLoadKernels(t *testing.T) {
	rtc := fakeNVRTC([]int32{80, 90}, nil)
	var loaded []string
	refuse := map[string]bool{}
	d := &driverFuncs{
		ModuleLoadDataEx: func(m *uintptr, img unsafe.Pointer, n uint32, opts *int32, vals *uintptr) int32 {
			text := cString((*byte)(img))
			loaded = append(loaded, text)
			// The values are pointers or integers widened to pointers.
			o, v := unsafe.Slice(opts, n), unsafe.Slice((*unsafe.Pointer)(unsafe.Pointer(vals)), n)
			var errBuf *byte
			var errSize uintptr
			for i := range o {
				switch o[i] {
				case jitErrorLog:
					errBuf = (*byte)(v[i])
				case jitErrorLogSize:
					errSize = uintptr(v[i])
				}
			}
			if errBuf == nil || errSize < 64 {
				t.Errorf("cuModuleLoadDataEx without an error log buffer: options %v", o)
				return 1
			}
			if refuse[text[:strings.IndexByte(text, ':')]] {
				msg := "ptxas fatal: refused " + text + "\x00"
				copy(unsafe.Slice(errBuf, errSize), msg)
				return 222 // CUDA_ERROR_UNSUPPORTED_PTX_VERSION
			}
			*m = 77
			return 0
		},
	}
	m, how, err := loadKernels(d, rtc, 90)
	if err != nil || m != 77 || how != "cubin sm_90" || len(loaded) != 1 {
		t.Errorf("loadKernels: module %d, %q, %v; loaded %q", m, how, err, loaded)
	}
	loaded, refuse["cubin"] = nil, true
	m, how, err = loadKernels(d, rtc, 90)
	if err != nil || m != 77 || how != "PTX compute_90" || len(loaded) != 2 {
		t.Errorf("cubin refused: module %d, %q, %v; loaded %q", m, how, err, loaded)
	}
	refuse["ptx"] = true
	_, _, err = loadKernels(d, rtc, 90)
	for _, want := range []string{"cuModuleLoadDataEx (cubin, --gpu-architecture=sm_90)", "ptxas fatal: refused cubin:--gpu-architecture=sm_90",
		"cuModuleLoadDataEx (PTX, --gpu-architecture=compute_90)", "ptxas fatal: refused ptx:--gpu-architecture=compute_90"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("both refused: error %v\nwant it to contain %q", err, want)
		}
	}
}
