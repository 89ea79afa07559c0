//go:build !amd64 || purego

package kern

// dwShiftFn is the type of the register-shift depthwise kernels, which this
// build does not have.
type dwShiftFn func(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool)

// dwShiftAffFn is the type of the register-shift kernels of value(x), which
// this build does not have.
type dwShiftAffFn func(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool, scale, shift *float32, relu bool)

// useDWShift: no register-shift kernels in this build.
var useDWShift = false

// dwShiftOn reports false: no register-shift kernels in this build.
func dwShiftOn() bool { return false }

// dwShift returns nil: no register-shift kernels in this build.
func dwShift(g *dwGeom, bwd bool) dwShiftFn { return nil }

// dwShiftPlanes is never called in this build (dwShift is nil).
func dwShiftPlanes(f dwShiftFn, n int, g *dwGeom, bwd bool, src, wt, dst []float32, add bool) {
	panic("kern: no register-shift depthwise kernels in this build")
}

// dwShiftAff returns nil: no register-shift kernels in this build.
func dwShiftAff(g *dwGeom) dwShiftAffFn { return nil }

// dwShiftAffPlanes is never called in this build (dwShiftAff is nil).
func dwShiftAffPlanes(f dwShiftAffFn, n int, g *dwGeom, src, wt, dst, scale, shift []float32, relu bool) {
	panic("kern: no register-shift depthwise kernels in this build")
}

// dwShiftIndex reports no kernel: none in this build.
func dwShiftIndex(g *dwGeom) (kd, wi int, s2, ok bool) { return 0, 0, false, false }
