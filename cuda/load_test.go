package cuda

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeLib compiles a shared library from C++ source into path (each call a
// new file, so that the dynamic loader sees a distinct library).
func fakeLib(t *testing.T, path, src string) {
	t.Helper()
	cxx, err := exec.LookPath("g++")
	if err != nil {
		t.Skip("no g++ to build the fake NVIDIA libraries")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(cxx, "-shared", "-fPIC", "-o", path, "-x", "c++", "-")
	cmd.Stdin = strings.NewReader(src)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", path, err, out)
	}
}

// fakeDriver is a libcuda whose cuInit returns initResult and whose
// cuDriverGetVersion reports version.
func fakeDriver(t *testing.T, path string, initResult, version int) {
	fakeLib(t, path, fmt.Sprintf(`extern "C" int cuInit(unsigned f) { return %d; }
extern "C" int cuDriverGetVersion(int *v) { *v = %d; return 0; }`, initResult, version))
}

// fakeTree builds folders of fake libraries, searched in this order through
// LD_LIBRARY_PATH: a toolkit's stubs folder and another stub libcuda, the
// real driver (CUDA version driver), CUDA 13 and CUDA 12 sets of NVRTC and
// cuBLAS (without cuBLASLt 12 when noLt12), and cuDNN builds for CUDA 13
// then 12 (without the latter when noCudnn12). It returns the root and the
// search.
func fakeTree(t *testing.T, driver int, noLt12, noCudnn12 bool) (string, *Found) {
	root := t.TempDir()
	fakeDriver(t, filepath.Join(root, "cuda-12.8/lib64/stubs/libcuda.so.1"), 34, 12080)
	fakeDriver(t, filepath.Join(root, "oldstub/libcuda.so.1"), 34, 12080)
	fakeDriver(t, filepath.Join(root, "driver/libcuda.so.1"), 0, driver)
	for _, m := range []string{"13", "12"} {
		for _, name := range []string{"libnvrtc.so.", "libcublasLt.so.", "libcublas.so."} {
			if m == "12" && noLt12 && name == "libcublasLt.so." {
				continue
			}
			fakeLib(t, filepath.Join(root, "cu"+m, name+m), `extern "C" int marker() { return `+m+`; }`)
		}
		if m == "12" && noCudnn12 {
			continue
		}
		fakeLib(t, filepath.Join(root, "cudnn-cu"+m, "libcudnn.so.9"),
			`extern "C" unsigned long cudnnGetCudartVersion() { return `+m+`0`+map[string]string{"13": "00", "12": "80"}[m]+`; }`)
	}
	var dirs []string
	for _, d := range []string{"cuda-12.8/lib64/stubs", "oldstub", "driver", "cu13", "cu12", "cudnn-cu13", "cudnn-cu12"} {
		dirs = append(dirs, filepath.Join(root, d))
	}
	f := Find(FindOptions{Root: filepath.Join(root, "emptyroot"), NoSystemLoader: true,
		Getenv: envOf(map[string]string{"LD_LIBRARY_PATH": strings.Join(dirs, ":")})})
	return root, f
}

// TestOpenPicksOneCUDAMajor: with fake library folders, the stub libcuda of
// a stubs folder is never tried, another stub is skipped on
// CUDA_ERROR_STUB_LIBRARY, and NVRTC, cuBLASLt, cuBLAS and cuDNN come from
// the newest CUDA major the driver runs, whatever the search order; the
// versions line says so.
func TestOpenPicksOneCUDAMajor(t *testing.T) {
	for _, c := range []struct {
		driver int
		major  string
	}{{12080, "12"}, {13000, "13"}} {
		root, f := fakeTree(t, c.driver, false, false)
		if tried := strings.Join(f.Tried[LibDriver], "\n"); !strings.Contains(tried, "lib64/stubs/libcuda.so.1 (LD_LIBRARY_PATH; a stub folder, skipped)") {
			t.Errorf("the stubs folder is not reported as skipped:\n%s", tried)
		}
		l, err := OpenLibraries(f)
		if err != nil {
			t.Fatalf("driver %d: %v", c.driver, err)
		}
		want := [numLibs]string{
			LibDriver: filepath.Join(root, "driver/libcuda.so.1"), LibNvrtc: filepath.Join(root, "cu"+c.major, "libnvrtc.so."+c.major),
			LibCublasLt: filepath.Join(root, "cu"+c.major, "libcublasLt.so."+c.major), LibCublas: filepath.Join(root, "cu"+c.major, "libcublas.so."+c.major),
			LibCudnn: filepath.Join(root, "cudnn-cu"+c.major, "libcudnn.so.9"),
		}
		if l.Paths != want {
			t.Errorf("driver %d: loaded\n%q\nwant\n%q", c.driver, l.Paths, want)
		}
		v := l.Versions()
		for _, s := range []string{
			fmt.Sprintf("driver CUDA %d.%d, libraries CUDA %s, cuDNN built for CUDA %s.", c.driver/1000, c.driver%1000/10, c.major, c.major),
			filepath.Join(root, "oldstub/libcuda.so.1") + " (LD_LIBRARY_PATH): a stub library (cuInit: CUDA_ERROR_STUB_LIBRARY), skipped",
		} {
			if !strings.Contains(v, s) {
				t.Errorf("driver %d: versions line\n%s\nlacks %q", c.driver, v, s)
			}
		}
		if c.major == "12" && !strings.Contains(v, "CUDA 13 libraries not tried: the driver runs CUDA 12.8") {
			t.Errorf("versions line does not say why CUDA 13 was passed over:\n%s", v)
		}
		l.Close()
	}
	// A CUDA 12 driver with an incomplete CUDA 12 set: an error, not a
	// mixed or too-new set.
	_, f := fakeTree(t, 12080, true, false)
	_, err := OpenLibraries(f)
	if err == nil || !strings.Contains(err.Error(), "no complete set of NVRTC, cuBLASLt and cuBLAS of one major, CUDA 12 or older (the driver's)") ||
		!strings.Contains(err.Error(), "cublasLt (libcublasLt.so.13 or libcublasLt.so.12 or libcublasLt.so.11) not loadable") {
		t.Errorf("incomplete CUDA 12 set: %v", err)
	}
	// Only a cuDNN for CUDA 13 beside a CUDA 12 set: loaded, with a note.
	root, f := fakeTree(t, 12080, false, true)
	l, err := OpenLibraries(f)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if want := filepath.Join(root, "cudnn-cu13/libcudnn.so.9"); l.Paths[LibCudnn] != want || l.CUDAMajor != 12 ||
		!strings.Contains(l.Versions(), "no cuDNN built for CUDA 12 found; "+want+" is built for CUDA 13") {
		t.Errorf("cuDNN for CUDA 13 only: loaded %s, versions %s", l.Paths[LibCudnn], l.Versions())
	}
}
