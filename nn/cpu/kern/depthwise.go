package kern

import (
	"fmt"
	"sync"
)

// The depthwise kernels work on a "flat" layout. The input plane, zero-padded
// by pad on every side (hp×wp = (h+2pad)×(w+2pad)), is split into stride²
// phase planes: phase (py, px) holds padded pixels (s·Y+py, s·X+px) at Y·P+X,
// with pitch P = ceil(wp/s) and R = ceil(hp/s) rows. The output pixel
// (oy, ox) then lives at q = oy·P+ox of a flat output of pitch P, and tap
// (ky, kx) reads the phase planes at q+off[ky·k+kx], a constant offset. So the
// forward pass is a 1-D multi-tap filter over a contiguous array (flatConv),
// the filter gradient is one dot product per tap (flatDots), and the data
// gradient is flatConv again with the offsets reversed, per phase plane.
// Columns ox >= ow of the flat output are computed and thrown away.
//
// On the assembly path, when the output rows are a whole number of 8-float
// vectors, the same sums are formed row by row instead (dwRows, dwDots):
// output row oy is flat row oy, so the forward pass writes straight into
// out, the filter gradient reads dout in place, and the stride-1 data
// gradient adds straight into din, with no unused columns.
// dwRowsAsm sums the taps in flatConv's order, so both give the same bits.
// With AVX-512 (dw512_amd64.go) the rows go in 16-float vectors (dwRows,
// the same bits again), the dot products too (dwDots, another summation
// order), and the plane copies and stride-2 splits use 64-byte moves.
//
// The forward pass and data gradient of the DARTS geometries (k 3 or 5,
// dilation 1 or 2, pad = dil·(k-1)/2; stride 1 with rows of 8, 16 or 32,
// or stride 2 with rows of 16 or 32 and an even number of them) skip the
// flat layout on AVX-512: the register-shift kernels (dwshift_amd64.s) read
// the unpadded rows in place, make the shifted copies the taps read in
// registers, zero-filled where they reach the padding, and run all planes
// of a call at once. At stride 2 they split each input row into its even
// and odd columns (the phase planes' columns) in registers, and the data
// gradient merges the two halves of its sums back into din order, adding
// them to din or storing +0 + sum as the flat path's scatter does. They sum
// the taps in the same order, as FMAs from +0, so they give the same bits
// as the flat kernels; they skip the rows of padding, which the flat
// kernels add as w·0: that leaves a sum unchanged unless it is -0 (a
// product that underflowed) or w is not finite. Their filter gradient
// (dwdots_amd64.s; at stride 2 the S2G kernels of dwshift_amd64.s)
// likewise reads the unpadded rows, shifts them in registers (masked
// lanes: the padding) and keeps one vector sum per tap, running many
// planes per call (Depthwise.BackwardFilterPlanes);
// its summation order is its own, each plane's sums added to dwt in turn.

// dwGeom is the flat layout of one depthwise convolution.
type dwGeom struct {
	h, w, k, s, pad, dil, oh, ow int
	p, r, psize                  int // pitch, rows and size of one phase plane
	nflat                        int // flat outputs computed: roundUp8((oh-1)·P+ow)
	maxOff                       int // largest tap offset
	m                            int // largest tap offset within its phase plane
}

// dwScratch is the working memory of depthwise calls, laid out for one
// geometry and kept between calls of the same geometry. The zero parts of
// the buffers (padding, unused columns) are never written, so a call only
// rewrites the image parts.
type dwScratch struct {
	g      dwGeom
	ok     bool      // g describes the buffers
	offs   []int     // tap offsets into planes, tap order ky·k+kx
	planes []float32 // phase planes of the padded input
	out    []float32 // flat forward output (nflat)
	dflat  []float32 // dout in the flat layout (nflat), zero at unused columns
	dbuf   []float32 // dout in the flat layout after m leading zeros (backward data)
	dplane []float32 // one phase plane of the input gradient
	res    []float32 // per-tap filter gradients
	// backward data: the taps of phase plane p are ptap[pstart[p]:pstart[p+1]]
	// (tap indices) reading dbuf at poff (m minus the in-plane offset).
	ptap, poff, pstart []int
	w2                 []float32
}

var dwPool = sync.Pool{New: func() any { return new(dwScratch) }}

// dwOutSize returns the output length of a convolution along one axis.
func dwOutSize(in, k, stride, pad, dil int) int {
	return (in+2*pad-dil*(k-1)-1)/stride + 1
}

func checkDW(fn string, in []float32, h, w int, wt []float32, k, stride, pad, dil int, out []float32, oh, ow int) {
	checkDWGeom(fn, h, w, k, stride, pad, dil, oh, ow)
	if len(in) < h*w || len(out) < oh*ow || len(wt) < k*k {
		panic(fmt.Sprintf("kern.%s: slices too short: in %d < %d, out %d < %d or weights %d < %d", fn, len(in), h*w, len(out), oh*ow, len(wt), k*k))
	}
}

// checkDWGeom panics unless the geometry is valid and gives oh×ow outputs.
func checkDWGeom(fn string, h, w, k, stride, pad, dil, oh, ow int) {
	if h < 1 || w < 1 || k < 1 || stride < 1 || pad < 0 || dil < 1 {
		panic(fmt.Sprintf("kern.%s: bad geometry h=%d w=%d k=%d stride=%d pad=%d dil=%d", fn, h, w, k, stride, pad, dil))
	}
	if eh, ew := dwOutSize(h, k, stride, pad, dil), dwOutSize(w, k, stride, pad, dil); eh != oh || ew != ow || oh < 1 || ow < 1 {
		panic(fmt.Sprintf("kern.%s: output %d×%d, geometry gives %d×%d", fn, oh, ow, eh, ew))
	}
}

// zeroed returns a cleared slice of length n, reusing s's storage.
func zeroed[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// getDW returns a scratch laid out (and zeroed outside the image parts) for
// the geometry; put it back with dwPool.Put.
func getDW(h, w, k, s, pad, dil, oh, ow int) *dwScratch {
	sc := dwPool.Get().(*dwScratch)
	key := dwGeom{h: h, w: w, k: k, s: s, pad: pad, dil: dil, oh: oh, ow: ow}
	if sc.ok && sc.g.h == h && sc.g.w == w && sc.g.k == k && sc.g.s == s && sc.g.pad == pad && sc.g.dil == dil {
		return sc
	}
	g := key
	hp, wp := h+2*pad, w+2*pad
	g.p = (wp + s - 1) / s
	g.r = (hp + s - 1) / s
	g.psize = g.p * g.r
	g.nflat = roundUp8((oh-1)*g.p + ow)
	sc.offs = zeroed(sc.offs, k*k)
	for ky := range k {
		for kx := range k {
			dy, dx := ky*dil, kx*dil
			off := ((dy%s)*s+dx%s)*g.psize + (dy/s)*g.p + dx/s
			sc.offs[ky*k+kx] = off
			g.maxOff = max(g.maxOff, off)
			g.m = max(g.m, off%g.psize)
		}
	}
	// Reads of flatConv/flatDots reach planes[maxOff+nflat-1].
	sc.planes = zeroed(sc.planes, max(s*s*g.psize, g.maxOff+g.nflat))
	sc.out = zeroed(sc.out, g.nflat)
	sc.dflat = zeroed(sc.dflat, g.nflat)
	nr := roundUp8(g.psize)
	sc.dbuf = zeroed(sc.dbuf, g.m+nr)
	sc.dplane = zeroed(sc.dplane, nr)
	sc.res = zeroed(sc.res, k*k)
	sc.w2 = zeroed(sc.w2, k*k)
	sc.ptap, sc.poff, sc.pstart = sc.ptap[:0], sc.poff[:0], append(sc.pstart[:0], 0)
	for pi := range s * s {
		for t, off := range sc.offs {
			if off/g.psize == pi {
				sc.ptap = append(sc.ptap, t)
				sc.poff = append(sc.poff, g.m-off%g.psize)
			}
		}
		sc.pstart = append(sc.pstart, len(sc.ptap))
	}
	sc.g, sc.ok = g, true
	return sc
}

// fillPlanes writes the image part of the phase planes from in.
func (sc *dwScratch) fillPlanes(in []float32) []float32 {
	g, pl := &sc.g, sc.planes
	if g.s == 1 {
		copyRows(g.h, g.w, in, g.w, pl[g.pad*g.p+g.pad:], g.p, false)
		return pl
	}
	if g.s == 2 {
		// Even ix go to phase column pad&1 at ix/2 + pad>>1, odd ix to the
		// other one at ix/2 + (pad+1)>>1 (no divisions in the loop).
		offE := (g.pad&1)*g.psize + g.pad>>1
		offO := ((g.pad+1)&1)*g.psize + (g.pad+1)>>1
		half, j0 := g.w/2, 0
		if useAsm && g.w >= 16 {
			// Rows of one parity go to consecutive rows of one phase row
			// plane: one call each for the first multiple of 16 columns.
			j0 = (g.w &^ 15) / 2
			for iy0 := range min(2, g.h) {
				y := iy0 + g.pad
				base := (y&1)*2*g.psize + (y>>1)*g.p
				deinterleave((g.h-iy0+1)/2, 2*j0, in[iy0*g.w:], 2*g.w, pl[base+offE:], pl[base+offO:], g.p)
			}
			if j0 == half && g.w&1 == 0 {
				return pl
			}
		}
		for iy := range g.h {
			y := iy + g.pad
			base := (y&1)*2*g.psize + (y>>1)*g.p
			row := in[iy*g.w : (iy+1)*g.w]
			de := pl[base+offE : base+offE+(g.w+1)/2]
			do := pl[base+offO : base+offO+half]
			for j := j0; j < half; j++ {
				de[j] = row[2*j]
				do[j] = row[2*j+1]
			}
			if g.w&1 != 0 {
				de[half] = row[g.w-1]
			}
		}
		return pl
	}
	s := g.s
	for iy := range g.h {
		y := iy + g.pad
		rowBase := (y%s)*s*g.psize + (y/s)*g.p
		row := in[iy*g.w : (iy+1)*g.w]
		for px := range s {
			ix0 := (px - g.pad%s + s) % s // first ix with (ix+pad)%s == px
			if ix0 >= g.w {
				continue
			}
			dst := pl[rowBase+px*g.psize+(ix0+g.pad)/s:]
			for j, ix := 0, ix0; ix < g.w; ix, j = ix+s, j+1 {
				dst[j] = row[ix]
			}
		}
	}
	return pl
}

// DepthwiseForward computes one output plane of a depthwise convolution:
// out[oy·ow+ox] = Σ_{ky,kx} wt[ky·k+kx]·in[(oy·stride-pad+ky·dil)·w + ox·stride-pad+kx·dil]
// with zero padding, summing the taps in the order ky·k+kx. out is overwritten.
// oh and ow must be the output sizes of the geometry,
// oh = (h+2·pad-dil·(k-1)-1)/stride + 1 and likewise ow from w.
func DepthwiseForward(in []float32, h, w int, wt []float32, k, stride, pad, dil int, out []float32, oh, ow int) {
	checkDW("DepthwiseForward", in, h, w, wt, k, stride, pad, dil, out, oh, ow)
	g := dwGeom{h: h, w: w, k: k, s: stride, pad: pad, dil: dil, oh: oh, ow: ow}
	if f := dwShift(&g, false); f != nil {
		dwShiftPlanes(f, 1, &g, false, in, wt, out, false) // no scratch needed
		return
	}
	sc := getDW(h, w, k, stride, pad, dil, oh, ow)
	sc.forward(in, wt[:k*k], out)
	dwPool.Put(sc)
}

// DepthwiseForwardPlanes is DepthwiseForward over c consecutive planes:
// plane i of in (h·w elements at i·h·w) with weights wt[i·k·k:(i+1)·k·k]
// gives plane i of out (oh·ow elements at i·oh·ow). One call per sample
// saves the per-plane checks and scratch look-ups; the results are those of
// DepthwiseForward plane by plane.
func DepthwiseForwardPlanes(c int, in []float32, h, w int, wt []float32, k, stride, pad, dil int, out []float32, oh, ow int) {
	depthwiseForwardPlanes("DepthwiseForwardPlanes", c, in, h, w, wt, k, stride, pad, dil, nil, nil, false, out, oh, ow)
}

// DepthwiseForwardPlanesAffine is DepthwiseForwardPlanes of value(x) for x
// in in: plane i's values are x·scale[i] + shift[i] (the product rounded,
// then the sum, as ScaleShift; no such step when scale is nil), then, when
// relu, max(·, 0) with -0 and NaN kept (ReluForward), and the convolution
// pads the values with zeros. The results are, bit for bit, those of
// writing the values with ScaleShift, ScaleShiftReLU or ReluForward and then
// calling DepthwiseForwardPlanes; geometries with a register-shift kernel
// (k 3 or 5, dilation 1 or 2, pad = dil·(k-1)/2, stride 1 with w 8, 16 or
// 32 or stride 2 with w 16 or 32 and h even, on AVX-512) form the values
// as they load the rows, in one pass. scale and shift are both nil or both
// hold c values.
func DepthwiseForwardPlanesAffine(c int, in []float32, h, w int, wt []float32, k, stride, pad, dil int, scale, shift []float32, relu bool, out []float32, oh, ow int) {
	depthwiseForwardPlanes("DepthwiseForwardPlanesAffine", c, in, h, w, wt, k, stride, pad, dil, scale, shift, relu, out, oh, ow)
}

// depthwiseForwardPlanes checks the operands of fn and runs it.
func depthwiseForwardPlanes(fn string, c int, in []float32, h, w int, wt []float32, k, stride, pad, dil int, scale, shift []float32, relu bool, out []float32, oh, ow int) {
	if c < 1 {
		panic(fmt.Sprintf("kern.%s: %d planes", fn, c))
	}
	hw, ohw, kk := h*w, oh*ow, k*k
	checkDW(fn, in, h, w, wt, k, stride, pad, dil, out, oh, ow)
	if len(in) < c*hw || len(out) < c*ohw || len(wt) < c*kk {
		panic(fmt.Sprintf("kern.%s: slices too short for %d planes: in %d, out %d, weights %d", fn, c, len(in), len(out), len(wt)))
	}
	checkAffine(fn, c, scale, shift)
	sc := getDW(h, w, k, stride, pad, dil, oh, ow)
	sc.forwardPlanesAffine(c, in, wt, scale, shift, relu, out)
	dwPool.Put(sc)
}

// dwValues holds value planes for forwardPlanesAffine.
var dwValues = sync.Pool{New: func() any { return new([]float32) }}

// Depthwise is one depthwise convolution geometry with its working memory,
// for running many planes without the per-plane set-up of the functions
// above (whose results its methods give, bit for bit). Get one with
// GetDepthwise and give it back with Release; it is not safe for
// concurrent use.
type Depthwise struct{ sc *dwScratch }

// GetDepthwise returns a Depthwise for planes of h×w, a k×k kernel with the
// stride, padding and dilation, and oh×ow outputs (which must be the
// geometry's, as for DepthwiseForward); it panics on a bad geometry.
func GetDepthwise(h, w, k, stride, pad, dil, oh, ow int) Depthwise {
	checkDWGeom("GetDepthwise", h, w, k, stride, pad, dil, oh, ow)
	return Depthwise{getDW(h, w, k, stride, pad, dil, oh, ow)}
}

// Release gives the working memory back; d must not be used afterwards.
func (d Depthwise) Release() { dwPool.Put(d.sc) }

// checkPlanes panics unless the slices hold one input plane, one output
// plane and one kernel.
func (d Depthwise) checkPlanes(fn string, in, wt, out []float32) {
	g := &d.sc.g
	if len(in) < g.h*g.w || len(out) < g.oh*g.ow || len(wt) < g.k*g.k {
		panic(fmt.Sprintf("kern.Depthwise.%s: slices too short: input %d < %d, output %d < %d or weights %d < %d", fn, len(in), g.h*g.w, len(out), g.oh*g.ow, len(wt), g.k*g.k))
	}
}

// Forward is DepthwiseForward: out = conv(in, wt).
func (d Depthwise) Forward(in, wt, out []float32) {
	d.checkPlanes("Forward", in, wt, out)
	d.sc.forward(in, wt[:d.sc.g.k*d.sc.g.k], out)
}

// ForwardPlanesAffine is ForwardPlanes of value(x), as
// DepthwiseForwardPlanesAffine: plane i's values are x·scale[i] + shift[i]
// (none when scale is nil), then max(·, 0) when relu.
func (d Depthwise) ForwardPlanesAffine(c int, in, wt, scale, shift []float32, relu bool, out []float32) {
	g := &d.sc.g
	d.checkPlanesN("ForwardPlanesAffine", c, in, g.h*g.w, wt, out, g.oh*g.ow)
	checkAffine("Depthwise.ForwardPlanesAffine", c, scale, shift)
	d.sc.forwardPlanesAffine(c, in, wt, scale, shift, relu, out)
}

// BackwardDataPlanes forms the input gradients of c planes: plane i of
// dout (oh·ow floats at i·oh·ow) with weights wt[i·k·k:(i+1)·k·k] gives
// plane i of din (h·w floats at i·h·w), din[iy,ix] = Σ over taps and
// outputs that read (iy, ix) of wt[tap]·dout[out], the taps summed in the
// order ky·k+kx; the sum is added to din when accumulate, else stored.
func (d Depthwise) BackwardDataPlanes(c int, dout, wt, din []float32, accumulate bool) {
	g := &d.sc.g
	d.checkPlanesN("BackwardDataPlanes", c, din, g.h*g.w, wt, dout, g.oh*g.ow)
	if f := dwShift(g, true); f != nil {
		dwShiftPlanes(f, c, g, true, dout, wt, din, accumulate)
		return
	}
	hw, ohw, kk := g.h*g.w, g.oh*g.ow, g.k*g.k
	for i := range c {
		d.sc.backwardData(dout[i*ohw:(i+1)*ohw], wt[i*kk:(i+1)*kk], din[i*hw:(i+1)*hw], accumulate)
	}
}

// checkPlanesN panics unless the slices hold c input planes of n1 floats,
// c output planes of n2 and c kernels.
func (d Depthwise) checkPlanesN(fn string, c int, a []float32, n1 int, wt, b []float32, n2 int) {
	kk := d.sc.g.k * d.sc.g.k
	if c < 1 || len(a) < c*n1 || len(b) < c*n2 || len(wt) < c*kk {
		panic(fmt.Sprintf("kern.Depthwise.%s: %d planes: input %d < %d, output %d < %d or weights %d < %d", fn, c, len(a), c*n1, len(b), c*n2, len(wt), c*kk))
	}
}

// BackwardFilterPlanes adds to dwt[ky·k+kx] the gradient of the loss with
// respect to that weight from np planes, plane i of the input at
// in[i·inStride:] with plane i of dout at dout[i·doutStride:] (strides in
// elements, >= 0): Σ_{oy,ox} dout[oy,ox]·in(padded)[oy·stride+ky·dil-pad,
// ox·stride+kx·dil-pad]. Each plane's sum per tap is formed in full and then
// added to dwt, plane after plane.
func (d Depthwise) BackwardFilterPlanes(np int, in []float32, inStride int, dout []float32, doutStride int, dwt []float32) {
	g := &d.sc.g
	if np < 0 || inStride < 0 || doutStride < 0 {
		panic(fmt.Sprintf("kern.Depthwise.BackwardFilterPlanes: %d planes, strides %d and %d", np, inStride, doutStride))
	}
	if np == 0 {
		return
	}
	if len(in) < (np-1)*inStride+g.h*g.w || len(dout) < (np-1)*doutStride+g.oh*g.ow || len(dwt) < g.k*g.k {
		panic(fmt.Sprintf("kern.Depthwise.BackwardFilterPlanes: slices too short for %d planes: input %d (stride %d), output %d (stride %d), weights %d", np, len(in), inStride, len(dout), doutStride, len(dwt)))
	}
	if dwGradFast(g.h, g.w, g.k, g.s, g.pad, g.dil, np, in, inStride, dout, doutStride, dwt) {
		return
	}
	for i := range np {
		d.sc.backwardFilter(in[i*inStride:], dout[i*doutStride:], dwt)
	}
}

// forward computes one output plane from in (DepthwiseForward).
func (sc *dwScratch) forward(in, wt, out []float32) {
	g := &sc.g
	if f := dwShift(g, false); f != nil {
		dwShiftPlanes(f, 1, g, false, in, wt, out, false)
		return
	}
	planes := sc.fillPlanes(in)
	if useAsm && g.ow%8 == 0 {
		// Output row oy is flat row oy: compute it in place.
		dwRows(g.oh, g.ow, planes, g.p, sc.offs, g.maxOff, wt, out, g.ow, false)
		return
	}
	flatConv(g.nflat, planes, sc.offs, wt, sc.out)
	copyRows(g.oh, g.ow, sc.out, g.p, out, g.ow, false)
}

// forwardPlanes runs forward over c planes (DepthwiseForwardPlanes), in one
// register-shift kernel call when the geometry has one.
func (sc *dwScratch) forwardPlanes(c int, in, wt, out []float32) {
	g := &sc.g
	if f := dwShift(g, false); f != nil {
		dwShiftPlanes(f, c, g, false, in, wt, out, false)
		return
	}
	hw, ohw, kk := g.h*g.w, g.oh*g.ow, g.k*g.k
	for i := range c {
		sc.forward(in[i*hw:(i+1)*hw], wt[i*kk:(i+1)*kk], out[i*ohw:(i+1)*ohw])
	}
}

// forwardPlanesAffine runs forwardPlanes on the values of c planes
// (DepthwiseForwardPlanesAffine), formed by a register-shift kernel as it
// loads the rows when the geometry has one, else a plane at a time in
// pooled scratch.
func (sc *dwScratch) forwardPlanesAffine(c int, in, wt, scale, shift []float32, relu bool, out []float32) {
	if scale == nil && !relu {
		sc.forwardPlanes(c, in, wt, out)
		return
	}
	g := &sc.g
	if f := dwShiftAff(g); f != nil {
		dwShiftAffPlanes(f, c, g, in, wt, out, scale, shift, relu)
		return
	}
	hw, ohw, kk := g.h*g.w, g.oh*g.ow, g.k*g.k
	vp := dwValues.Get().(*[]float32)
	defer dwValues.Put(vp)
	if cap(*vp) < hw {
		*vp = make([]float32, hw)
	}
	v := (*vp)[:hw]
	for i := range c {
		x := in[i*hw : (i+1)*hw]
		switch {
		case scale != nil && relu:
			ScaleShiftReLU(v, x, scale[i], shift[i])
		case scale != nil:
			ScaleShift(v, x, scale[i], shift[i])
		default:
			ReluForward(v, x)
		}
		sc.forward(v, wt[i*kk:(i+1)*kk], out[i*ohw:(i+1)*ohw])
	}
}

// checkAffine panics unless scale and shift are both nil or both hold c
// values.
func checkAffine(fn string, c int, scale, shift []float32) {
	if (scale == nil) != (shift == nil) || scale != nil && (len(scale) < c || len(shift) < c) {
		panic(fmt.Sprintf("kern.%s: scale/shift of %d/%d for %d planes", fn, len(scale), len(shift), c))
	}
}

// backwardFilter adds the filter gradient of one plane to dwt
// (BackwardFilterPlanes of one plane).
func (sc *dwScratch) backwardFilter(in, dout, dwt []float32) {
	g := &sc.g
	if dwGradFast(g.h, g.w, g.k, g.s, g.pad, g.dil, 1, in, 0, dout, 0, dwt) {
		return
	}
	planes := sc.fillPlanes(in)
	if useAsm && g.ow%8 == 0 {
		// Output row oy is flat row oy: read dout in place.
		dwDots(g.oh, g.ow, dout, g.ow, planes, g.p, sc.offs, g.maxOff, sc.res)
	} else {
		copyRows(g.oh, g.ow, dout, g.ow, sc.dflat, g.p, false)
		flatDots(g.nflat, sc.dflat, planes, sc.offs, sc.res)
	}
	for t, v := range sc.res {
		dwt[t] += v
	}
}

// backwardData adds the input gradient of one plane to din, or sets din to
// it unless accumulate (BackwardDataPlanes of one plane).
func (sc *dwScratch) backwardData(dout, wt, din []float32, accumulate bool) {
	g := &sc.g
	if f := dwShift(g, true); f != nil {
		dwShiftPlanes(f, 1, g, true, dout, wt, din, accumulate)
		return
	}
	h, w, k := g.h, g.w, g.k
	s, d, dp := g.s, sc.dbuf, sc.dplane
	copyRows(g.oh, g.ow, dout, g.ow, d[g.m:], g.p, false)
	if s == 1 && useAsm && w%8 == 0 {
		// One phase plane with every tap in order (ptap[t] = t, poff[t]
		// <= m): din row iy is phase row iy+pad from column pad, so write
		// the sums straight into it.
		dwRows(h, w, d[g.pad*g.p+g.pad:], g.p, sc.poff, g.m, wt[:k*k], din, w, accumulate)
		return
	}
	if !accumulate {
		clear(din[:h*w])
	}
	for py := range s {
		for px := range s {
			pi := py*s + px
			lo, hi := sc.pstart[pi], sc.pstart[pi+1]
			if lo == hi {
				continue // no tap reads this phase plane
			}
			w2 := sc.w2[:hi-lo]
			for j, t := range sc.ptap[lo:hi] {
				w2[j] = wt[t]
			}
			flatConv(len(dp), d, sc.poff[lo:hi], w2, dp)
			// Scatter the phase plane back to the unpadded input positions.
			iy0 := (py - g.pad%s + s) % s // first iy with (iy+pad)%s == py
			ix0 := (px - g.pad%s + s) % s
			if ix0 >= w {
				continue
			}
			// Row iy of din reads phase row (iy+pad)/s from column (ix0+pad)/s.
			srcOff := ((iy0+g.pad)/s)*g.p + (ix0+g.pad)/s
			if s == 1 {
				copyRows(h, w, dp[srcOff:], g.p, din, w, true)
				continue
			}
			nAsm := 0 // stride 2: elements of each row done by addStrided2Asm
			if s == 2 && useAsm && w >= 16 {
				nAsm = min((w-ix0+1)/2, w/2) &^ 7 // within row[:2·nAsm]
			}
			if nAsm > 0 && iy0 < h {
				addStrided2Asm((h-iy0+1)/2, nAsm, din[iy0*w:], 2*w, dp[srcOff:], g.p, ix0 == 1)
				if ix0+2*nAsm >= w {
					continue
				}
			}
			for iy := iy0; iy < h; iy, srcOff = iy+s, srcOff+g.p {
				row := din[iy*w : (iy+1)*w]
				src := dp[srcOff:]
				for ix, j := ix0+s*nAsm, nAsm; ix < w; ix, j = ix+s, j+1 {
					row[ix] += src[j]
				}
			}
		}
	}
}

// flatConv sets dst[q] = Σ_t wts[t]·src[q+offs[t]] for q < n (n a multiple of
// 8), summing t in order from zero.
func flatConv(n int, src []float32, offs []int, wts []float32, dst []float32) {
	if useAsm {
		flatConvAsm(n, src, offs, wts, dst)
		return
	}
	flatConvGo(n, src, offs, wts, dst)
}

// flatDots sets out[t] = Σ_{q<n} x[q]·src[q+offs[t]] (n a multiple of 8).
func flatDots(n int, x, src []float32, offs []int, out []float32) {
	if useAsm {
		flatDotsAsm(n, x, src, offs, out)
		return
	}
	flatDotsGo(n, x, src, offs, out)
}

// flatConvGo rounds each step as a fused multiply-add does, like the
// assembly (and like Go on FMA architectures): the float32 product is exact
// in float64, so only the sum is rounded (to float64, then float32, which
// differs from one rounding only in rare halfway cases). Rounding the
// product separately as well changes outputs by about an ulp, which the
// gradients of a deep network can amplify past the PyTorch parity
// tolerances (darts TestEvalNetworkParity under -tags purego did).
func flatConvGo(n int, src []float32, offs []int, wts []float32, dst []float32) {
	dst = dst[:n]
	clear(dst)
	for t, off := range offs {
		wv := float64(wts[t])
		s := src[off : off+n]
		for i := range dst {
			dst[i] = float32(wv*float64(s[i]) + float64(dst[i]))
		}
	}
}

func flatDotsGo(n int, x, src []float32, offs []int, out []float32) {
	x = x[:n]
	for t, off := range offs {
		out[t] = dotGo(x, src[off:off+n])
	}
}

// copyRows sets dst[r*dstride+i] = src[r*sstride+i], or adds it when add,
// for r < rows and i < w.
func copyRows(rows, w int, src []float32, sstride int, dst []float32, dstride int, add bool) {
	if rows <= 0 || w <= 0 {
		return
	}
	if useAsm {
		copyRowsFast(rows, w, src, sstride, dst, dstride, add)
		return
	}
	for r := range rows {
		s, d := src[r*sstride:r*sstride+w], dst[r*dstride:r*dstride+w]
		if !add {
			copy(d, s)
			continue
		}
		for i, v := range s {
			d[i] += v
		}
	}
}
