//go:build amd64 && !purego

package kern

// asmVariants are alternative assembly code paths that the default
// thresholds select only for some shapes; the tests run each on all shapes.
var asmVariants = []struct {
	name string
	set  func() (restore func())
}{
	{"asm-transB-dot", func() func() { // transB always through gemmDot4x3
		saved := transBPackMaxK
		transBPackMaxK = 0
		return func() { transBPackMaxK = saved }
	}},
	{"asm-transB-packed", func() func() { // transB always through packed panels
		saved := transBPackMaxK
		transBPackMaxK = 1 << 30
		return func() { transBPackMaxK = saved }
	}},
}
