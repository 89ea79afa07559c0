//go:build !amd64 || purego

package kern

// No AVX-512 kernels in this build: Subsample2 and Spread2 loop in Go.
func subsample2Fast(rows, w int, src []float32, ss int, dst []float32, ds int) bool { return false }

func spread2Fast(rows, w int, src []float32, ss int, dst []float32, ds int, add bool) bool {
	return false
}
