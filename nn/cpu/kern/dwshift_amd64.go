//go:build amd64 && !purego

package kern

//go:generate go run dwshift_gen.go -o dwshift_amd64.s

// The register-shift kernels of dwshift_amd64.s (see dwshift_gen.go): for
// n >= 1 planes, plane p of src (p·sPlane floats on, rows sRow apart)
// convolved with weights wt[p·k·k:] into plane p of dst (dPlane, dRow),
// stride 1, "same" padding, h >= 1 rows; F forward, B data gradient; set or
// added (add). The w = 8 kernels need contiguous rows (sRow = dRow = 8).
type dwShiftFn func(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool)

//go:noescape
func dwsK3D1W8F(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool)

//go:noescape
func dwsK3D1W8B(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool)

//go:noescape
func dwsK3D1W16F(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool)

//go:noescape
func dwsK3D1W16B(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool)

//go:noescape
func dwsK3D1W32F(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool)

//go:noescape
func dwsK3D1W32B(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool)

//go:noescape
func dwsK5D1W8F(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool)

//go:noescape
func dwsK5D1W8B(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool)

//go:noescape
func dwsK5D1W16F(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool)

//go:noescape
func dwsK5D1W16B(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool)

//go:noescape
func dwsK5D1W32F(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool)

//go:noescape
func dwsK5D1W32B(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool)

//go:noescape
func dwsK3D2W8F(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool)

//go:noescape
func dwsK3D2W8B(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool)

//go:noescape
func dwsK3D2W16F(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool)

//go:noescape
func dwsK3D2W16B(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool)

//go:noescape
func dwsK3D2W32F(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool)

//go:noescape
func dwsK3D2W32B(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool)

//go:noescape
func dwsK5D2W8F(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool)

//go:noescape
func dwsK5D2W8B(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool)

//go:noescape
func dwsK5D2W16F(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool)

//go:noescape
func dwsK5D2W16B(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool)

//go:noescape
func dwsK5D2W32F(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool)

//go:noescape
func dwsK5D2W32B(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool)

//go:noescape
func dwsK3D1W8A(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool, scale, shift *float32, relu bool)

//go:noescape
func dwsK3D1W16A(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool, scale, shift *float32, relu bool)

//go:noescape
func dwsK3D1W32A(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool, scale, shift *float32, relu bool)

//go:noescape
func dwsK5D1W8A(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool, scale, shift *float32, relu bool)

//go:noescape
func dwsK5D1W16A(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool, scale, shift *float32, relu bool)

//go:noescape
func dwsK5D1W32A(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool, scale, shift *float32, relu bool)

//go:noescape
func dwsK3D2W8A(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool, scale, shift *float32, relu bool)

//go:noescape
func dwsK3D2W16A(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool, scale, shift *float32, relu bool)

//go:noescape
func dwsK3D2W32A(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool, scale, shift *float32, relu bool)

//go:noescape
func dwsK5D2W8A(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool, scale, shift *float32, relu bool)

//go:noescape
func dwsK5D2W16A(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool, scale, shift *float32, relu bool)

//go:noescape
func dwsK5D2W32A(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool, scale, shift *float32, relu bool)

// dwShiftAffFn is the type of the A kernels: F kernels of value(x).
type dwShiftAffFn func(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool, scale, shift *float32, relu bool)

// dwShiftAffFns[kd][wi], indexed as dwShiftFns.
var dwShiftAffFns = [4][3]dwShiftAffFn{
	{dwsK3D1W8A, dwsK3D1W16A, dwsK3D1W32A},
	{dwsK5D1W8A, dwsK5D1W16A, dwsK5D1W32A},
	{dwsK3D2W8A, dwsK3D2W16A, dwsK3D2W32A},
	{dwsK5D2W8A, dwsK5D2W16A, dwsK5D2W32A},
}

// dwShiftFns[kd][wi][dir]: kd 0..3 for k3d1, k5d1, k3d2, k5d2; wi 0..2 for
// w 8, 16, 32; dir 0 forward, 1 data gradient.
var dwShiftFns = [4][3][2]dwShiftFn{
	{{dwsK3D1W8F, dwsK3D1W8B}, {dwsK3D1W16F, dwsK3D1W16B}, {dwsK3D1W32F, dwsK3D1W32B}},
	{{dwsK5D1W8F, dwsK5D1W8B}, {dwsK5D1W16F, dwsK5D1W16B}, {dwsK5D1W32F, dwsK5D1W32B}},
	{{dwsK3D2W8F, dwsK3D2W8B}, {dwsK3D2W16F, dwsK3D2W16B}, {dwsK3D2W32F, dwsK3D2W32B}},
	{{dwsK5D2W8F, dwsK5D2W8B}, {dwsK5D2W16F, dwsK5D2W16B}, {dwsK5D2W32F, dwsK5D2W32B}},
}

// useDWShift lets tests switch the register-shift kernels off (the flat
// layout kernels then run, as on CPUs without AVX-512).
var useDWShift = true

// dwShiftOn reports whether the register-shift kernels run: assembly on,
// AVX-512 on and useDWShift.
func dwShiftOn() bool { return useAsm && useAVX512 && useDWShift }

// dwShiftIndex returns the indexes of the geometry's register-shift kernels
// in dwShiftFns (ok false when it has none or the CPU cannot run them):
// stride 1, k 3 or 5, dilation 1 or 2, "same" padding, w 8, 16 or 32.
func dwShiftIndex(g *dwGeom) (kd, wi int, ok bool) {
	if !dwShiftOn() || g.s != 1 || g.oh != g.h || g.ow != g.w {
		return 0, 0, false
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
		return 0, 0, false
	}
	switch g.w {
	case 8:
		wi = 0
	case 16:
		wi = 1
	case 32:
		wi = 2
	default:
		return 0, 0, false
	}
	return kd, wi, true
}

// dwShift returns the register-shift kernel of the geometry for the
// forward pass or (bwd) the data gradient, or nil (dwShiftIndex).
func dwShift(g *dwGeom, bwd bool) dwShiftFn {
	kd, wi, ok := dwShiftIndex(g)
	if !ok {
		return nil
	}
	if bwd {
		return dwShiftFns[kd][wi][1]
	}
	return dwShiftFns[kd][wi][0]
}

// dwShiftAff returns the A kernel (forward of value(x)) of the geometry, or
// nil (dwShiftIndex).
func dwShiftAff(g *dwGeom) dwShiftAffFn {
	kd, wi, ok := dwShiftIndex(g)
	if !ok {
		return nil
	}
	return dwShiftAffFns[kd][wi]
}

// dwShiftPlanes runs the kernel f over n planes of h×w (contiguous, h·w
// apart, weights k·k apart) from src into dst, set or added. The caller has
// checked the lengths.
func dwShiftPlanes(f dwShiftFn, n int, src []float32, h, w int, wt []float32, k int, dst []float32, add bool) {
	hw := h * w
	_, _, _ = src[n*hw-1], dst[n*hw-1], wt[n*k*k-1]
	f(n, &src[0], hw, w, &dst[0], hw, w, &wt[0], h, add)
}

// dwShiftAffPlanes runs the A kernel f over n planes as dwShiftPlanes (set,
// not added), with scale and shift (nil, or n values) and relu.
func dwShiftAffPlanes(f dwShiftAffFn, n int, src []float32, h, w int, wt []float32, k int, dst []float32, scale, shift []float32, relu bool) {
	hw := h * w
	_, _, _ = src[n*hw-1], dst[n*hw-1], wt[n*k*k-1]
	var sp, hp *float32
	if scale != nil {
		_, _ = scale[n-1], shift[n-1]
		sp, hp = &scale[0], &shift[0]
	}
	f(n, &src[0], hw, w, &dst[0], hw, w, &wt[0], h, false, sp, hp, relu)
}
