//go:build !amd64 || purego

package kern

// maxPool3Asm: no assembly in this build.
func maxPool3Asm(h, w, s int, x, g, din []float32) bool { return false }

// maxPool3FwdAsm: no assembly in this build.
func maxPool3FwdAsm(h, w, s int, x, out []float32) bool { return false }

// avgPool3FwdAsm: no assembly in this build.
func avgPool3FwdAsm(h, w int, x, out []float32) bool { return false }

// avgPool3Asm: no assembly in this build.
func avgPool3Asm(h, w int, g, din []float32) bool { return false }
