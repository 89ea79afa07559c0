package cuda

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestKernelNames: kernelNames lists exactly the extern "C" kernels of the
// source, each once, so that every lookup after loading the module succeeds.
func TestKernelNames(t *testing.T) {
	re := regexp.MustCompile(`extern "C" __global__ void (\w+)\(`)
	var inSource []string
	for _, m := range re.FindAllStringSubmatch(kernelSource, -1) {
		inSource = append(inSource, m[1])
	}
	if strings.Join(inSource, " ") != strings.Join(kernelNames, " ") {
		t.Errorf("kernels in source:\n%v\nkernelNames:\n%v", inSource, kernelNames)
	}
	seen := map[string]bool{}
	for _, n := range kernelNames {
		if seen[n] {
			t.Errorf("kernel %s listed twice", n)
		}
		seen[n] = true
	}
	if strings.Count(kernelSource, "{") != strings.Count(kernelSource, "}") {
		t.Error("unbalanced braces in kernelSource")
	}
	if !strings.Contains(kernelSource, "#ifndef BLOCK\n#define BLOCK 256\n") || blockSize != 256 {
		t.Error("BLOCK in the kernel source and blockSize differ")
	}
}

// cudaPrelude lets a host C++ compiler parse kernelSource: it declares the
// CUDA built-ins the kernels use. It checks syntax and types, not behaviour.
const cudaPrelude = `
#include <cmath>
#define __global__
#define __device__
#define __shared__ static
struct dim3 { unsigned x, y, z; };
extern dim3 blockIdx, threadIdx, blockDim, gridDim;
void __syncthreads();
#define __forceinline__ inline
float __int_as_float(int);
int __float_as_int(float);
float rsqrtf(float);
// The fp16 conversions are inline PTX, which only NVRTC parses.
#define HOST_EMULATION
float h2f(unsigned short);
unsigned short f2h(float);
`

// TestKernelSourceCompiles parses the kernels with the host C++ compiler when
// one is installed (NVRTC itself only exists on GPU machines).
func TestKernelSourceCompiles(t *testing.T) {
	cxx, err := exec.LookPath("g++")
	if err != nil {
		if cxx, err = exec.LookPath("clang++"); err != nil {
			t.Skip("no g++ or clang++ to parse the kernel source")
		}
	}
	cmd := exec.Command(cxx, "-fsyntax-only", "-Wall", "-Wno-unused-function", "-Wno-sign-compare", "-x", "c++", "-")
	cmd.Stdin = strings.NewReader(cudaPrelude + kernelSource)
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("%s -fsyntax-only on the kernel source: %v\n%s", cxx, err, out)
	}
}
