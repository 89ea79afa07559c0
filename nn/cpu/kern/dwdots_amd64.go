//go:build amd64 && !purego

package kern

import "sync/atomic"

// The register-shift filter gradient (dwdots_amd64.s) of stride-1 "same"
// depthwise convolutions: w ∈ {8, 16, 32}, k ∈ {3, 5}, dil ∈ {1, 2},
// pad = dil·(k-1)/2. It reads the unpadded planes in place: every unit of
// the input plane (a 16-float vector: one row of w = 16, two rows of w = 8,
// half a row of w = 32) is loaded once, its copies shifted by
// dx = kx·dil - pad are made in registers with the out-of-row lanes zeroed
// (the padding), and each copy is multiplied with the dout vector dy =
// ky·dil - pad rows above, masked to the rows that exist, into one vector
// accumulator per tap. A tap's lanes are summed at the end of each plane
// and that sum is added to dwt[tap]: as Depthwise.BackwardFilterPlanes's
// contract asks, in another order than the flat path's.
//
// At stride 2 (w ∈ {16, 32}, h even) the kernels are generated with the
// other register-shift kernels (dwshift_gen.go, s2grad): the input rows
// are split into even and odd columns in registers, the dout rows shifted
// instead of the input, and the lanes of the k² accumulators summed in a
// tree at the end of each plane.

//go:noescape
func dwGradV1K3(np int, in *float32, ins int, dout *float32, douts int, nu int, tab *uint16, ctl *[14][16]int32, dwt *float32)

//go:noescape
func dwGradV1K5(np int, in *float32, ins int, dout *float32, douts int, nu int, tab *uint16, ctl *[14][16]int32, dwt *float32)

//go:noescape
func dwGradV2K3(np int, in *float32, ins int, dout *float32, douts int, nu int, tab *uint16, ctl *[14][16]int32, dwt *float32)

//go:noescape
func dwGradV2K5(np int, in *float32, ins int, dout *float32, douts int, nu int, tab *uint16, ctl *[14][16]int32, dwt *float32)

// The stride-2 filter gradient kernels (dwsK*S2G: np planes of h×w input,
// ins floats apart, and h/2 × w/2 dout, douts floats apart; w 16 or 32, h
// even; the same contract as the kernels above) and their table dwGrad2Fns
// are generated (dwshift_decl_amd64.go).

// dwGradPlan holds the tables of one geometry for the kernels above
// (dwdots_amd64.s describes how they read them). It is not changed once
// built.
type dwGradPlan struct {
	nu int // units (of 16 floats) per input plane
	// tab: per unit 16 uint16: the lane mask of the input inside the
	// plane; for ky < k at 1+ky the lanes whose dout row oy and input row
	// oy+dy both lie inside it, and at 8+ky the byte offset from the
	// unit's place of the dout vector to load (a whole vector when all
	// its lanes count, else the 8 lanes of the one w = 8 row that does);
	// at 7 all ones when all the unit's masks are.
	tab []uint16
	// ctl: row 0 the lane masks of the shift slots (lanes 0-3 one table or
	// left half, 8-11 right half); rows 1-4 and 5-8 the permutation
	// indexes of the slots, one table or left half, and right half; row 9
	// the byte offsets of the dout vectors of whole units (lanes 0-4), the
	// lane masks of dwt[0:16] and dwt[16:32] (lanes 8, 9) and the byte
	// offset of the latter (lane 10, 0 when empty); rows 10, 11 the
	// indexes into (dwt[0:16], dwt[16:32]) of the kernels' running totals
	// of passes 0 and 1, rows 12, 13 the inverse permutation.
	ctl [14][16]int32
}

// dwGradMaxH is the tallest plane whose plan is kept; taller ones take the
// flat path.
const dwGradMaxH = 64

// dwGradPlans caches the plans by [k == 5][dil == 2][w 8, 16, 32][h].
var dwGradPlans [2][2][3][dwGradMaxH + 1]atomic.Pointer[dwGradPlan]

// newDWGradPlan builds the plan of an h×w plane, k×k kernel, dilation dil.
func newDWGradPlan(h, w, k, dil int) *dwGradPlan {
	pad := dil * (k - 1) / 2
	p := new(dwGradPlan)
	rpu := 1 // rows per unit
	if w == 8 {
		rpu = 2
	}
	p.nu = (h + rpu - 1) / rpu
	p.tab = make([]uint16, 16*p.nu)
	for u := range p.nu {
		e := p.tab[16*u : 16*u+16]
		for l := range 16 {
			iy := u*rpu + l/min(w, 16)
			if iy >= h {
				continue
			}
			e[0] |= 1 << l
			for ky := range k {
				if oy := iy - (ky*dil - pad); oy >= 0 && oy < h {
					e[1+ky] |= 1 << l
				}
			}
		}
		e[7] = 0xFFFF
		for ky := range k {
			off := -(ky*dil - pad) * w * 4
			if e[1+ky] == 0xFF00 {
				off += 32 // only the second w = 8 row
			}
			e[8+ky] = uint16(int16(off))
		}
		for _, m := range e[:1+k] {
			e[7] &= m
		}
	}
	for ky := range k {
		p.ctl[9][ky] = int32(-(ky*dil - pad) * w * 4)
	}
	// The kx of each shift slot, and of each copy j of each pass (the
	// kernels' accumulator ky·G + j).
	slots, passes := []int{0, 2}, [][]int{{1, 0, 2}}
	if k == 5 {
		slots, passes = []int{0, 1, 3, 4}, [][]int{{2, 0, 1}, {3, 4}}
	}
	for s, kx := range slots {
		dx := kx*dil - pad
		var mL, mR int32
		for l := range 16 {
			if w < 32 {
				// One table: lane l is column l%w of its row.
				if c := l%w + dx; c >= 0 && c < w {
					mL |= 1 << l
				}
				p.ctl[1+s][l] = int32((l + dx) & 15)
				continue
			}
			// Two tables (the row's halves): lane l of the left half is
			// column l, of the right half column 16+l; index = column.
			if c := l + dx; c >= 0 && c < 32 {
				mL |= 1 << l
			}
			if c := 16 + l + dx; c >= 0 && c < 32 {
				mR |= 1 << l
			}
			p.ctl[1+s][l] = int32((l + dx) & 31)
			p.ctl[5+s][l] = int32((16 + l + dx) & 31)
		}
		p.ctl[0][s], p.ctl[0][8+s] = mL, mR
	}
	kk := k * k
	p.ctl[9][8], p.ctl[9][9] = int32(1)<<min(kk, 16)-1, int32(1)<<max(kk-16, 0)-1
	if kk > 16 {
		p.ctl[9][10] = 64
	}
	for pi, kxs := range passes {
		g := len(kxs)
		for l := range 16 {
			// The reduction leaves accumulator 4r+q in lane 4q+r.
			if a := 4*(l%4) + l/4; a < k*g {
				t := a/g*k + kxs[a%g]
				p.ctl[10+pi][l] = int32(t)
				p.ctl[12+t/16][t%16] = int32(16*pi + l)
			}
		}
	}
	return p
}

// dwGradCovers reports whether dwGradFast takes the geometry: the assembly
// kernels in use, AVX-512, k 3 or 5, dilation 1 or 2, pad = dil·(k-1)/2,
// and either stride 1 with w 8, 16 or 32 and 1 <= h <= dwGradMaxH, or
// stride 2 with w 16 or 32 and h even (any height: no plan), a kernel of
// dwshift_amd64.s that useDWShift switches off with the others there.
func dwGradCovers(h, w, k, s, pad, dil int) bool {
	if !useAsm || !useAVX512 || k != 3 && k != 5 || dil != 1 && dil != 2 || pad != dil*(k-1)/2 {
		return false
	}
	switch s {
	case 1:
		return h >= 1 && h <= dwGradMaxH && (w == 8 || w == 16 || w == 32)
	case 2:
		return useDWShift && h >= 2 && h%2 == 0 && (w == 16 || w == 32)
	}
	return false
}

// dwGradFast adds to dwt the filter gradients of np planes of a "same"
// depthwise convolution, plane i of in at in[i·inStride:] (h×w) and of
// dout at dout[i·doutStride:] (h×w, or h/2 × w/2 at stride 2), one plane
// after another: for
// each tap the plane's sum, formed in full, is added to dwt[tap]. It
// reports false, doing nothing, unless the register-shift kernels cover
// the geometry and the CPU has AVX-512. The caller checks the slices.
func dwGradFast(h, w, k, s, pad, dil, np int, in []float32, inStride int, dout []float32, doutStride int, dwt []float32) bool {
	if !dwGradCovers(h, w, k, s, pad, dil) {
		return false
	}
	if np < 1 {
		return true
	}
	_ = in[(np-1)*inStride+h*w-1]
	_ = dwt[k*k-1]
	if s == 2 {
		_ = dout[(np-1)*doutStride+h*w/4-1]
		kd := 2*(dil-1) + k/5 // k3d1, k5d1, k3d2, k5d2: 0..3
		dwGrad2Fns[kd][w/32](np, &in[0], inStride, &dout[0], doutStride, h, &dwt[0])
		return true
	}
	wc := w / 16 // 8, 16, 32 → 0, 1, 2
	_ = dout[(np-1)*doutStride+h*w-1]
	slot := &dwGradPlans[k/5][dil-1][wc][h]
	p := slot.Load()
	if p == nil {
		p = newDWGradPlan(h, w, k, dil)
		slot.Store(p)
	}
	switch {
	case w < 32 && k == 3:
		dwGradV1K3(np, &in[0], 4*inStride, &dout[0], 4*doutStride, p.nu, &p.tab[0], &p.ctl, &dwt[0])
	case w < 32:
		dwGradV1K5(np, &in[0], 4*inStride, &dout[0], 4*doutStride, p.nu, &p.tab[0], &p.ctl, &dwt[0])
	case k == 3:
		dwGradV2K3(np, &in[0], 4*inStride, &dout[0], 4*doutStride, p.nu, &p.tab[0], &p.ctl, &dwt[0])
	default:
		dwGradV2K5(np, &in[0], 4*inStride, &dout[0], 4*doutStride, p.nu, &p.tab[0], &p.ctl, &dwt[0])
	}
	return true
}
