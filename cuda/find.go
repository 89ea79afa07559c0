package cuda

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Lib names one of the NVIDIA libraries the backend binds at run time.
type Lib int

// The libraries, in the order they are loaded (a library is loaded after the
// ones it depends on, so that the dynamic loader finds them already in memory).
const (
	LibDriver   Lib = iota // libcuda.so.1: the CUDA driver API
	LibNvrtc               // libnvrtc.so: run-time compilation of CUDA C to PTX
	LibCublasLt            // libcublasLt.so: needed by cuBLAS (and some cuDNN engines)
	LibCublas              // libcublas.so: GEMM
	LibCudnn               // libcudnn.so.9: the cuDNN shim, which loads its sub-libraries
	numLibs
)

// String returns the library's short name ("cuda", "cublas", ...).
func (l Lib) String() string {
	switch l {
	case LibDriver:
		return "cuda"
	case LibNvrtc:
		return "nvrtc"
	case LibCublasLt:
		return "cublasLt"
	case LibCublas:
		return "cublas"
	case LibCudnn:
		return "cudnn"
	}
	return fmt.Sprintf("Lib(%d)", int(l))
}

// sonames lists the file names tried for each library, preferred first.
var sonames = [numLibs][]string{
	LibDriver:   {"libcuda.so.1", "libcuda.so"},
	LibNvrtc:    {"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2"},
	LibCublasLt: {"libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so.11"},
	LibCublas:   {"libcublas.so.13", "libcublas.so.12", "libcublas.so.11"},
	LibCudnn:    {"libcudnn.so.9"},
}

// companions are libraries the main ones dlopen by name at run time (glob
// patterns: NVRTC asks for libnvrtc-builtins.so.MAJOR.MINOR). When one sits
// next to the library that was found, it is loaded first (RTLD_GLOBAL) so
// that the later dlopen by name resolves to the copy already in memory even
// when its folder is on no search path.
var companions = [numLibs][]string{
	LibNvrtc: {"libnvrtc-builtins.so.*"},
	LibCudnn: {
		"libcudnn_graph.so.9", "libcudnn_engines_precompiled.so.9",
		"libcudnn_engines_runtime_compiled.so.9", "libcudnn_heuristic.so.9",
		"libcudnn_ops.so.9", "libcudnn_cnn.so.9", "libcudnn_adv.so.9",
	},
}

// EnvLibDir is the environment variable naming a folder (or a list of folders
// separated by ':') searched first for the NVIDIA libraries.
const EnvLibDir = "PERTNAS_CUDA_LIB_DIR"

// FindOptions says where Find looks. The zero value searches the real
// environment of the process.
type FindOptions struct {
	// Dir is an explicit folder (or ':'-separated folders) searched first,
	// typically from the --cuda-lib-dir flag. Empty: the PERTNAS_CUDA_LIB_DIR
	// environment variable is used instead.
	Dir string
	// Getenv reads environment variables; nil means os.Getenv.
	Getenv func(string) string
	// Root is prefixed to every absolute system path Find globs (/usr/lib,
	// /usr/local/lib/python3*, /etc/ld.so.conf, ...). Empty means "/".
	// Tests point it at a fake tree.
	Root string
	// NoSystemLoader leaves out the last-resort candidates that are bare
	// sonames resolved by the dynamic loader's own cache.
	NoSystemLoader bool
}

// Candidate is one place a library may be loaded from.
type Candidate struct {
	Path       string   // absolute file path, or a bare soname for the system loader
	Origin     string   // why this place was searched, e.g. "LD_LIBRARY_PATH"
	Companions []string // existing companion files in the same folder, loaded first
}

// Found is the result of a search: for every library, the candidates that
// exist, in the order they are to be tried, and every path that was looked at.
type Found struct {
	Candidates [numLibs][]Candidate
	Tried      [numLibs][]string // every path checked, in order, with its origin
}

// searchDir is a folder to look in and the reason it is searched.
type searchDir struct{ dir, origin string }

// Find looks for the NVIDIA libraries, in this order:
//  1. the explicit folder(s) (opts.Dir, else $PERTNAS_CUDA_LIB_DIR);
//  2. the folders of $LD_LIBRARY_PATH;
//  3. Python environments: site-packages/nvidia/*/lib (and torch/lib) under
//     $VIRTUAL_ENV, $CONDA_PREFIX, the prefixes of every python on $PATH,
//     ~/.local, /usr/local/lib/python3*/dist-packages and /usr/lib/python3/dist-packages;
//  4. the system folders (/usr/local/cuda*/lib64, /usr/lib/x86_64-linux-gnu,
//     the folders named in /etc/ld.so.conf.d, ...);
//  5. the bare soname, left to the dynamic loader (unless opts.NoSystemLoader).
//
// A libcuda in a folder named "stubs" (a toolkit's lib64/stubs, often on
// LD_LIBRARY_PATH in containers) is skipped: it is the link-time stub, whose
// cuInit fails with CUDA_ERROR_STUB_LIBRARY. Find only checks that files
// exist; OpenLibraries opens them. It never fails: a library with no
// candidate makes OpenLibraries return an error listing Tried.
func Find(opts FindOptions) *Found {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	dirs := searchDirs(opts, getenv)
	f := &Found{}
	for lib := Lib(0); lib < numLibs; lib++ {
		for _, d := range dirs {
			for _, name := range sonames[lib] {
				p := filepath.Join(d.dir, name)
				if lib == LibDriver && filepath.Base(d.dir) == "stubs" {
					f.Tried[lib] = append(f.Tried[lib], p+" ("+d.origin+"; a stub folder, skipped)")
					continue
				}
				f.Tried[lib] = append(f.Tried[lib], p+" ("+d.origin+")")
				if isFile(p) {
					f.Candidates[lib] = append(f.Candidates[lib], Candidate{Path: p, Origin: d.origin, Companions: companionsIn(lib, d.dir)})
				}
			}
		}
		if !opts.NoSystemLoader {
			for _, name := range sonames[lib] {
				f.Tried[lib] = append(f.Tried[lib], name+" (system loader)")
				f.Candidates[lib] = append(f.Candidates[lib], Candidate{Path: name, Origin: "system loader"})
			}
		}
	}
	return f
}

// companionsIn lists the companion files of lib that exist in dir.
func companionsIn(lib Lib, dir string) []string {
	var out []string
	for _, pattern := range companions[lib] {
		m, _ := filepath.Glob(filepath.Join(dir, pattern))
		sort.Strings(m)
		for _, p := range m {
			if isFile(p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// sonameMajor is the CUDA major version in a library's file name
// (libcublas.so.12 -> 12, libnvrtc.so.11.2 -> 11), or 0.
func sonameMajor(path string) int {
	base := filepath.Base(path)
	i := strings.Index(base, ".so.")
	if i < 0 {
		return 0
	}
	v := base[i+4:]
	if j := strings.IndexByte(v, '.'); j >= 0 {
		v = v[:j]
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0
	}
	return n
}

// searchDirs lists the folders to search, in order, without duplicates.
func searchDirs(opts FindOptions, getenv func(string) string) []searchDir {
	var out []searchDir
	seen := map[string]bool{}
	add := func(dir, origin string) {
		if dir == "" {
			return
		}
		dir = filepath.Clean(dir)
		key := dir // one folder reached by two paths (/bin -> /usr/bin) is searched once
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			key = real
		}
		if seen[key] {
			return
		}
		seen[key] = true
		out = append(out, searchDir{dir, origin})
	}
	root := func(p string) string {
		if opts.Root == "" {
			return p
		}
		return filepath.Join(opts.Root, p)
	}
	glob := func(pattern string) []string {
		m, _ := filepath.Glob(pattern) // only ErrBadPattern, impossible for our patterns
		// Newest version first: python3.12 before python3.9 before python3.
		sort.Slice(m, func(i, j int) bool {
			if len(m[i]) != len(m[j]) {
				return len(m[i]) > len(m[j])
			}
			return m[i] > m[j]
		})
		return m
	}

	explicit, origin := opts.Dir, "--cuda-lib-dir"
	if explicit == "" {
		explicit, origin = getenv(EnvLibDir), EnvLibDir
	}
	for _, d := range filepath.SplitList(explicit) {
		add(d, origin)
	}
	for _, d := range filepath.SplitList(getenv("LD_LIBRARY_PATH")) {
		add(d, "LD_LIBRARY_PATH")
	}

	// Python environments. Each site-packages contributes nvidia/*/lib (the
	// NVIDIA wheels: nvidia/cu13/lib, nvidia/cudnn/lib, nvidia/cublas/lib, ...)
	// and torch/lib.
	var sites []searchDir
	addPrefix := func(prefix, origin string) {
		if prefix == "" {
			return
		}
		for _, sub := range []string{"lib/python3*/site-packages", "lib/python3*/dist-packages", "lib64/python3*/site-packages"} {
			for _, s := range glob(filepath.Join(prefix, sub)) {
				sites = append(sites, searchDir{s, origin})
			}
		}
	}
	addPrefix(getenv("VIRTUAL_ENV"), "VIRTUAL_ENV")
	addPrefix(getenv("CONDA_PREFIX"), "CONDA_PREFIX")
	for _, d := range filepath.SplitList(getenv("PATH")) {
		if d == "" || !filepath.IsAbs(d) {
			continue
		}
		if isFile(filepath.Join(d, "python3")) || isFile(filepath.Join(d, "python")) {
			addPrefix(filepath.Dir(d), "python on PATH ("+d+")")
		}
	}
	if home := getenv("HOME"); home != "" {
		addPrefix(filepath.Join(home, ".local"), "~/.local")
	}
	for _, s := range glob(root("/usr/local/lib/python3*/dist-packages")) {
		sites = append(sites, searchDir{s, "system python"})
	}
	for _, s := range glob(root("/usr/lib/python3*/dist-packages")) {
		sites = append(sites, searchDir{s, "system python"})
	}
	for _, s := range sites {
		for _, lib := range glob(filepath.Join(s.dir, "nvidia", "*", "lib")) {
			add(lib, s.origin)
		}
		add(filepath.Join(s.dir, "torch", "lib"), s.origin)
	}

	// System folders.
	for _, d := range []string{
		"/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib",
	} {
		add(root(d), "system")
	}
	for _, d := range glob(root("/usr/local/cuda-*/lib64")) {
		add(d, "system")
	}
	for _, d := range ldSoConfDirs(root) {
		add(root(d), "/etc/ld.so.conf")
	}
	for _, d := range []string{
		"/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/lib64",
		"/usr/lib", "/usr/local/lib", "/usr/lib/wsl/lib",
	} {
		add(root(d), "system")
	}
	return out
}

// ldSoConfDirs reads the folders named in /etc/ld.so.conf and the files it
// includes (one level of "include" globs, which is how distributions use it).
func ldSoConfDirs(root func(string) string) []string {
	var dirs []string
	var read func(path string, depth int)
	read = func(path string, depth int) {
		data, err := os.ReadFile(path)
		if err != nil || depth > 2 {
			return
		}
		for _, line := range strings.Split(string(data), "\n") {
			if i := strings.IndexByte(line, '#'); i >= 0 {
				line = line[:i]
			}
			line = strings.TrimSpace(line)
			switch {
			case line == "":
			case strings.HasPrefix(line, "include "):
				pat := strings.TrimSpace(strings.TrimPrefix(line, "include "))
				if !filepath.IsAbs(pat) {
					pat = filepath.Join("/etc", pat)
				}
				m, _ := filepath.Glob(root(pat))
				sort.Strings(m)
				for _, p := range m {
					read(p, depth+1)
				}
			case filepath.IsAbs(line):
				dirs = append(dirs, line)
			}
		}
	}
	read(root("/etc/ld.so.conf"), 0)
	return dirs
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
