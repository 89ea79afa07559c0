// Package device opens the compute device of every stage that trains
// networks (search-evolve, train-eval) from the flags they share:
//
//	--device auto|cpu|cuda|cuda:N   default auto: the GPU when usable, else the CPU
//	--precision fp32|tf32|fp16|bf16 default fp32; the CPU runs fp32 only
//	--cuda-lib-dir DIR              the NVIDIA libraries' folder(s) (default: search)
//	--threads N                     CPU threads, 0 = all cores; never changes a result
//	--kernels auto|purego|avx2|avx512  CPU kernel path, pinned by the run (UseKernels)
//	--deterministic                 GPU: repeatable cuDNN algorithm choices (cuda.Options.Deterministic)
//
// Flags.Validate checks the values alone (kong calls it while parsing, so a
// bad value is refused before anything is written); Flags.Open probes the
// hardware and returns a Device, or a bad-input error (exit status 2) when
// the device asked for is not there: a short message naming the flag and
// the folders searched for the libraries.
package device

import (
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"pertnas/cuda"
	"pertnas/internal/stage"
	"pertnas/nn"
	"pertnas/nn/cpu"
)

// Flags are the device flags of every computing stage (embed them in the
// kong grammar).
type Flags struct {
	Device     string `default:"auto" placeholder:"auto|cpu|cuda|cuda:N" help:"Where to run: auto (the GPU when usable, else the CPU), cpu, cuda (GPU 0) or cuda:N."`
	Precision  string `default:"fp32" enum:"fp32,tf32,fp16,bf16" help:"GPU arithmetic: fp32 (strict), tf32 (TF32 tensor-core convolutions and GEMMs), fp16 (mixed precision with dynamic loss scaling) or bf16 (mixed precision). The CPU runs fp32 only."`
	CudaLibDir string `name:"cuda-lib-dir" placeholder:"DIR" help:"Folder(s), ':'-separated, holding the NVIDIA libraries for the GPU (default: PERTNAS_CUDA_LIB_DIR, then the usual places)."`
	Threads    int    `default:"0" help:"CPU threads (0: all cores); results do not depend on it."`
	Kernels    string `default:"auto" placeholder:"auto|purego|avx2|avx512" help:"CPU kernel path: purego, avx2 or avx512 sum in different orders, so a run gives the same bits only on machines running the same path. auto: the path the run (or checkpoint) was started on, else the fastest this CPU has. Give one path to every job of a run on mixed machines."`
	// Deterministic is pinned by the run like --precision.
	Deterministic bool `help:"GPU: only cuDNN algorithms cuDNN marks deterministic, chosen by a fixed order instead of by timing, and the own depthwise kernels, so a rerun on the same GPU and libraries gives the same bits (slower). Pinned by the run. The CPU is always deterministic."`
}

// Validate checks the values without touching the hardware.
func (f *Flags) Validate() error {
	if _, _, err := parseDevice(f.Device); err != nil {
		return err
	}
	if _, _, err := cuda.ParsePrecision(f.Precision); err != nil {
		return stage.FlagErrorf("--precision", "want fp32, tf32, fp16 or bf16, got %q", f.Precision)
	}
	if f.Threads < 0 {
		return stage.FlagErrorf("--threads", "must be >= 0 (0: all cores), got %d", f.Threads)
	}
	return f.validateKernels()
}

// parseDevice reads --device: auto, cpu, cuda (ordinal 0) or cuda:N.
func parseDevice(s string) (kind string, ordinal int, err error) {
	switch s {
	case "auto", "cpu", "cuda":
		return s, 0, nil
	}
	if n, ok := strings.CutPrefix(s, "cuda:"); ok {
		if i, err := strconv.Atoi(n); err == nil && i >= 0 {
			return "cuda", i, nil
		}
	}
	return "", 0, stage.FlagErrorf("--device", "want auto, cpu, cuda or cuda:N, got %q", s)
}

// Device is an opened device: what the backends are made of.
type Device struct {
	// CUDA is true for a GPU, false for the CPU.
	CUDA bool
	// Ordinal is the GPU's number (with CUDA).
	Ordinal int
	// Precision is the --precision value ("fp32" on the CPU).
	Precision string
	// Deterministic is --deterministic (the CPU is deterministic anyway).
	Deterministic bool
	// Threads is the CPU backend's thread count (0: all cores).
	Threads int
	// Description says what was opened, for logs and result files:
	// "cpu (2 threads)" or "cuda:0 <name> (sm_90, ...) fp16".
	Description string

	opts cuda.Options
}

// Open resolves the flags to a device. auto takes the GPU when its
// libraries load and a device is visible, else the CPU; cuda and cuda:N
// that cannot be opened, and a reduced precision on the CPU, are bad input.
func (f *Flags) Open() (*Device, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	kind, ordinal, _ := parseDevice(f.Device)
	prec, tf32, _ := cuda.ParsePrecision(f.Precision)
	d := &Device{Precision: f.Precision, Threads: f.Threads, Deterministic: f.Deterministic,
		opts: cuda.Options{LibDir: f.CudaLibDir, Precision: prec, TF32: tf32, Deterministic: f.Deterministic}}
	if kind != "cpu" {
		info, err := cuda.Probe(f.CudaLibDir, ordinal)
		switch {
		case err == nil:
			d.CUDA, d.Ordinal = true, ordinal
			d.Description = fmt.Sprintf("cuda:%d %s %s", ordinal, info, f.Precision)
			if f.Deterministic {
				d.Description += " deterministic"
			}
			return d, nil
		case kind == "cuda":
			return nil, stage.FlagErrorf("--device", "%s: no usable GPU: %s; searched %s (set --cuda-lib-dir DIR or %s, or use --device cpu)",
				f.Device, firstLine(err), searched(f.CudaLibDir), cuda.EnvLibDir)
		}
	}
	if f.Precision != "fp32" {
		if kind == "cpu" {
			return nil, stage.FlagErrorf("--precision", "%s needs a GPU (--device cuda); the CPU runs fp32", f.Precision)
		}
		return nil, stage.FlagErrorf("--precision", "%s needs a GPU and --device auto found none; the CPU runs fp32", f.Precision)
	}
	threads := f.Threads
	if threads == 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	d.Description = fmt.Sprintf("cpu (%d %s)", threads, plural(threads, "thread", "threads"))
	return d, nil
}

// Name is "cpu" or "cuda:N".
func (d *Device) Name() string {
	if d.CUDA {
		return "cuda:" + strconv.Itoa(d.Ordinal)
	}
	return "cpu"
}

// Backend makes one backend on the device (the caller closes a GPU one
// when done; a CPU one stops with the garbage collector).
func (d *Device) Backend() (nn.Backend, error) {
	if !d.CUDA {
		return cpu.New(d.Threads), nil
	}
	return cuda.New(d.Ordinal, d.opts)
}

// WorkerBackends is, on a GPU, a function giving each worker (a job run
// side by side with others in one process) one backend made on first use
// and reused by the worker's successive networks; nil on the CPU, where
// every network gets a fresh backend of Threads threads.
func (d *Device) WorkerBackends() func(worker int) (nn.Backend, func(), error) {
	if !d.CUDA {
		return nil
	}
	var mu sync.Mutex
	backends := map[int]nn.Backend{}
	return func(worker int) (nn.Backend, func(), error) {
		mu.Lock()
		defer mu.Unlock()
		if b, ok := backends[worker]; ok {
			return b, nil, nil
		}
		b, err := cuda.New(d.Ordinal, d.opts)
		if err != nil {
			return nil, nil, err
		}
		backends[worker] = b
		return b, nil, nil
	}
}

// LossScaling reports whether the precision needs dynamic loss scaling.
func (d *Device) LossScaling() bool { return d.CUDA && d.opts.Precision.NeedsLossScaling() }

// firstLine is the first line of err's message without the "cuda: "
// prefixes and the loader's own hint (it follows with one line per path
// tried; Open says where it searched in one line).
func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	s, _, _ = strings.Cut(strings.TrimSuffix(s, ":"), " (set --cuda-lib-dir")
	for {
		rest, ok := strings.CutPrefix(s, "cuda: ")
		if !ok {
			return s
		}
		s = rest
	}
}

// searched lists the folders looked in for the CUDA driver library, in
// order, each once.
func searched(libDir string) string {
	var dirs []string
	for _, t := range cuda.Find(cuda.FindOptions{Dir: libDir, NoSystemLoader: true}).Tried[cuda.LibDriver] {
		path, _, _ := strings.Cut(t, " (")
		if dir := filepath.Dir(path); !slices.Contains(dirs, dir) {
			dirs = append(dirs, dir)
		}
	}
	if len(dirs) == 0 {
		return "no folder (and the system loader)"
	}
	return strings.Join(dirs, ", ") + " and the system loader"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
