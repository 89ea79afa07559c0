//go:build amd64 && !purego

package kern

//go:generate go run dwshift_gen.go -o dwshift_amd64.s -decl dwshift_decl_amd64.go

// The register-shift kernels of dwshift_amd64.s (see dwshift_gen.go; their
// declarations and the dispatch tables dwShiftFns, dwShiftAffFns,
// dwShift2Fns and dwShift2AffFns are in dwshift_decl_amd64.go): for
// n >= 1 planes, plane p of src (p·sPlane floats on, rows sRow apart)
// convolved with weights wt[p·k·k:] into plane p of dst (dPlane, dRow),
// stride 1, "same" padding, h >= 1 rows; F forward, B data gradient; set or
// added (add). The w = 8 kernels need contiguous rows (sRow = dRow = 8).
// The S2 kernels (dwShift2Fns) are those of stride 2 (h even, the input
// h×w, the output h/2 × w/2; src the output plane and dst the input plane
// for B).
type dwShiftFn func(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool)

// dwShiftAffFn is the type of the A kernels: F kernels of value(x).
type dwShiftAffFn func(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool, scale, shift *float32, relu bool)

// useDWShift lets tests switch the register-shift kernels off (the flat
// layout kernels then run, as on CPUs without AVX-512).
var useDWShift = true

// dwShiftOn reports whether the register-shift kernels run: assembly on,
// AVX-512 on and useDWShift.
func dwShiftOn() bool { return useAsm && useAVX512 && useDWShift }

// dwShiftIndex returns the indexes of the geometry's register-shift kernels
// in dwShiftFns, or in dwShift2Fns when s2 (ok false when it has none or
// the CPU cannot run them): k 3 or 5, dilation 1 or 2, pad = dil·(k-1)/2,
// and either stride 1 with w 8, 16 or 32, or stride 2 with w 16 or 32 and
// h even (output h/2 × w/2).
func dwShiftIndex(g *dwGeom) (kd, wi int, s2, ok bool) {
	if !dwShiftOn() {
		return 0, 0, false, false
	}
	switch {
	case g.k == 3 && g.dil == 1 && g.pad == 1:
		kd = 0
	case g.k == 5 && g.dil == 1 && g.pad == 2:
		kd = 1
	case g.k == 3 && g.dil == 2 && g.pad == 2:
		kd = 2
	case g.k == 5 && g.dil == 2 && g.pad == 4:
		kd = 3
	default:
		return 0, 0, false, false
	}
	switch {
	case g.s == 1 && g.oh == g.h && g.ow == g.w && (g.w == 8 || g.w == 16 || g.w == 32):
		return kd, g.w / 16, false, true // w 8, 16, 32: 0, 1, 2
	case g.s == 2 && g.h%2 == 0 && g.oh == g.h/2 && g.ow == g.w/2 && (g.w == 16 || g.w == 32):
		return kd, g.w/16 - 1, true, true
	}
	return 0, 0, false, false
}

// dwShift returns the register-shift kernel of the geometry for the
// forward pass or (bwd) the data gradient, or nil (dwShiftIndex).
func dwShift(g *dwGeom, bwd bool) dwShiftFn {
	kd, wi, s2, ok := dwShiftIndex(g)
	if !ok {
		return nil
	}
	dir := 0
	if bwd {
		dir = 1
	}
	if s2 {
		return dwShift2Fns[kd][wi][dir]
	}
	return dwShiftFns[kd][wi][dir]
}

// dwShiftAff returns the A kernel (forward of value(x)) of the geometry, or
// nil (dwShiftIndex).
func dwShiftAff(g *dwGeom) dwShiftAffFn {
	kd, wi, s2, ok := dwShiftIndex(g)
	if !ok {
		return nil
	}
	if s2 {
		return dwShift2AffFns[kd][wi]
	}
	return dwShiftAffFns[kd][wi]
}

// dwShiftPlanes runs the kernel f of geometry g over n planes: the forward
// pass (src: n planes of h×w, dst: n planes of oh×ow) or, when bwd, the
// data gradient (src: oh×ow planes of dout, dst: h×w planes of din); planes
// contiguous, weights k·k apart; dst set or added. The caller has checked
// the lengths.
func dwShiftPlanes(f dwShiftFn, n int, g *dwGeom, bwd bool, src, wt, dst []float32, add bool) {
	sh, sw, dh, dw := g.h, g.w, g.oh, g.ow
	if bwd {
		sh, sw, dh, dw = dh, dw, sh, sw
	}
	_, _, _ = src[n*sh*sw-1], dst[n*dh*dw-1], wt[n*g.k*g.k-1]
	f(n, &src[0], sh*sw, sw, &dst[0], dh*dw, dw, &wt[0], g.h, add)
}

// dwShiftAffPlanes runs the A kernel f of geometry g over n planes as
// dwShiftPlanes does the forward pass (set, not added), with scale and
// shift (nil, or n values) and relu.
func dwShiftAffPlanes(f dwShiftAffFn, n int, g *dwGeom, src, wt, dst, scale, shift []float32, relu bool) {
	_, _, _ = src[n*g.h*g.w-1], dst[n*g.oh*g.ow-1], wt[n*g.k*g.k-1]
	var sp, hp *float32
	if scale != nil {
		_, _ = scale[n-1], shift[n-1]
		sp, hp = &scale[0], &shift[0]
	}
	f(n, &src[0], g.h*g.w, g.w, &dst[0], g.oh*g.ow, g.ow, &wt[0], g.h, false, sp, hp, relu)
}
