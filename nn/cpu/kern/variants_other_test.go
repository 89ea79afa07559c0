//go:build !amd64 || purego

package kern

var asmVariants []struct {
	name string
	set  func() (restore func())
}

// avx2Only: no AVX-512 kernels to switch off in this build.
var avx2Only func() (restore func())
