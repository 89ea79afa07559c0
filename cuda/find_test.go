package cuda

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// touch creates an empty file (a fake shared library) and its folders.
func touch(t *testing.T, path string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func paths(cs []Candidate) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Path)
	}
	return out
}

func TestFindOrder(t *testing.T) {
	tmp := t.TempDir()
	root := filepath.Join(tmp, "root")
	explicit := filepath.Join(tmp, "explicit")
	ldlib := filepath.Join(tmp, "ldlib")
	venv := filepath.Join(tmp, "venv")
	home := filepath.Join(tmp, "home")
	pybin := filepath.Join(tmp, "py", "bin")

	// The same library in every place, to check the order.
	inExplicit := touch(t, filepath.Join(explicit, "libcublas.so.13"))
	inLD := touch(t, filepath.Join(ldlib, "libcublas.so.13"))
	inVenv := touch(t, filepath.Join(venv, "lib/python3.12/site-packages/nvidia/cu13/lib/libcublas.so.13"))
	inVenvOld := touch(t, filepath.Join(venv, "lib/python3.9/site-packages/nvidia/cublas/lib/libcublas.so.13"))
	touch(t, filepath.Join(pybin, "python3"))
	inPyPath := touch(t, filepath.Join(tmp, "py/lib/python3.11/site-packages/nvidia/cublas/lib/libcublas.so.12"))
	inLocal := touch(t, filepath.Join(home, ".local/lib/python3.10/site-packages/nvidia/cublas/lib/libcublas.so.13"))
	inSysPy := touch(t, filepath.Join(root, "usr/local/lib/python3.12/dist-packages/nvidia/cublas/lib/libcublas.so.13"))
	inCuda := touch(t, filepath.Join(root, "usr/local/cuda/lib64/libcublas.so.13"))
	touch(t, filepath.Join(root, "etc/ld.so.conf"))
	if err := os.WriteFile(filepath.Join(root, "etc/ld.so.conf"), []byte("include /etc/ld.so.conf.d/*.conf\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "etc/ld.so.conf.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/ld.so.conf.d/nvidia.conf"), []byte("# driver\n/opt/nvidia/lib\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	inConf := touch(t, filepath.Join(root, "opt/nvidia/lib/libcuda.so.1"))
	inSys := touch(t, filepath.Join(root, "usr/lib/x86_64-linux-gnu/libcuda.so.1"))
	// cuDNN with its sub-libraries next to it.
	cudnn := touch(t, filepath.Join(venv, "lib/python3.12/site-packages/nvidia/cudnn/lib/libcudnn.so.9"))
	graph := touch(t, filepath.Join(filepath.Dir(cudnn), "libcudnn_graph.so.9"))
	ops := touch(t, filepath.Join(filepath.Dir(cudnn), "libcudnn_ops.so.9"))

	f := Find(FindOptions{
		Dir:  explicit,
		Root: root,
		Getenv: envOf(map[string]string{
			"LD_LIBRARY_PATH": ldlib,
			"VIRTUAL_ENV":     venv,
			"HOME":            home,
			"PATH":            pybin + ":relative/bin",
			EnvLibDir:         "/ignored/because/Dir/is/set",
		}),
	})
	want := []string{inExplicit, inLD, inVenv, inVenvOld, inPyPath, inLocal, inSysPy, inCuda, "libcublas.so.13", "libcublas.so.12", "libcublas.so.11"}
	if got := paths(f.Candidates[LibCublas]); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("cublas candidates:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := f.Candidates[LibCublas][0].Origin; got != "--cuda-lib-dir" {
		t.Errorf("origin of the explicit dir = %q", got)
	}
	wantDrv := []string{inConf, inSys, "libcuda.so.1", "libcuda.so"}
	if got := paths(f.Candidates[LibDriver]); strings.Join(got, "\n") != strings.Join(wantDrv, "\n") {
		t.Errorf("driver candidates %q, want %q", got, wantDrv)
	}
	if got := f.Candidates[LibCudnn][0].Companions; len(got) != 2 || got[0] != graph || got[1] != ops {
		t.Errorf("cudnn companions %q, want [%s %s]", got, graph, ops)
	}
	// Tried lists every looked-at path, including those that do not exist.
	tried := strings.Join(f.Tried[LibCudnn], "\n")
	for _, s := range []string{filepath.Join(explicit, "libcudnn.so.9") + " (--cuda-lib-dir)", filepath.Join(ldlib, "libcudnn.so.9") + " (LD_LIBRARY_PATH)", "libcudnn.so.9 (system loader)"} {
		if !strings.Contains(tried, s) {
			t.Errorf("Tried lacks %q:\n%s", s, tried)
		}
	}
}

func TestFindEnvDirAndNoSystem(t *testing.T) {
	tmp := t.TempDir()
	a, b := filepath.Join(tmp, "a"), filepath.Join(tmp, "b")
	nv := touch(t, filepath.Join(b, "libnvrtc.so.13"))
	builtins := touch(t, filepath.Join(b, "libnvrtc-builtins.so.13.0"))
	link := filepath.Join(tmp, "link-to-b")
	if err := os.Symlink(b, link); err != nil {
		t.Fatal(err)
	}
	f := Find(FindOptions{Root: filepath.Join(tmp, "emptyroot"), NoSystemLoader: true,
		Getenv: envOf(map[string]string{EnvLibDir: a + ":" + b, "LD_LIBRARY_PATH": link})})
	if got := paths(f.Candidates[LibNvrtc]); len(got) != 1 || got[0] != nv {
		t.Errorf("nvrtc candidates %q, want [%s] (the symlinked folder searched once)", got, nv)
	}
	if got := f.Candidates[LibNvrtc][0].Origin; got != EnvLibDir {
		t.Errorf("origin %q, want %s", got, EnvLibDir)
	}
	if got := f.Candidates[LibNvrtc][0].Companions; len(got) != 1 || got[0] != builtins {
		t.Errorf("nvrtc companions %q", got)
	}
	if len(f.Candidates[LibDriver]) != 0 {
		t.Errorf("driver candidates without system loader: %v", f.Candidates[LibDriver])
	}
	// Newer soname first within one folder.
	touch(t, filepath.Join(a, "libcublasLt.so.12"))
	touch(t, filepath.Join(a, "libcublasLt.so.13"))
	f = Find(FindOptions{Dir: a, Root: filepath.Join(tmp, "emptyroot"), NoSystemLoader: true, Getenv: envOf(nil)})
	if got := paths(f.Candidates[LibCublasLt]); len(got) != 2 || !strings.HasSuffix(got[0], ".so.13") {
		t.Errorf("cublasLt candidates %q, want .so.13 first", got)
	}
}

func TestOpenErrorListsEverythingTried(t *testing.T) {
	tmp := t.TempDir()
	fake := touch(t, filepath.Join(tmp, "libs", "libcuda.so.1")) // not an ELF file: dlopen fails
	f := Find(FindOptions{Dir: filepath.Join(tmp, "libs"), Root: filepath.Join(tmp, "root"), NoSystemLoader: true, Getenv: envOf(nil)})
	_, err := OpenLibraries(f)
	if err == nil {
		t.Fatal("Open succeeded on fake libraries")
	}
	msg := err.Error()
	for _, s := range []string{
		EnvLibDir, "--cuda-lib-dir",
		"cuda (libcuda.so.1 or libcuda.so) not loadable",
		"found but failed to load",
		fake + " (--cuda-lib-dir):", // the dlopen error follows
		"cudnn (libcudnn.so.9) not loadable",
		filepath.Join(tmp, "libs", "libcudnn.so.9") + " (--cuda-lib-dir)",
		filepath.Join(tmp, "root", "usr/lib/x86_64-linux-gnu", "libcublas.so.13") + " (system)",
		"none of these exists",
	} {
		if !strings.Contains(msg, s) {
			t.Errorf("error lacks %q:\n%s", s, msg)
		}
	}
}

func TestSizeClass(t *testing.T) {
	for _, c := range []struct{ in, want int }{
		{1, 512}, {512, 512}, {513, 640}, {1000, 1024}, {1024, 1024}, {1025, 1280},
		{3 << 20, 3 << 20}, {(3 << 20) + 1, 7 << 19}, {100 << 20, 112 << 20},
	} {
		if got := sizeClass(c.in); got != c.want {
			t.Errorf("sizeClass(%d) = %d, want %d", c.in, got, c.want)
		}
	}
	for n := 1; n < 1<<22; n = n*3 + 1 {
		if c := sizeClass(n); c < n || float64(c) > 1.25*float64(n)+512 {
			t.Errorf("sizeClass(%d) = %d: outside [n, 1.25n]", n, c)
		}
	}
}
