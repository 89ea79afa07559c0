package cpu

import (
	"fmt"
	"math"

	"pertnas/nn"
	"pertnas/nn/cpu/kern"
)

// Pooling: items are fixed groups of (sample, channel) planes.

const planeGrain = 1 << 13 // input elements per item

func (be *Backend) planes(d nn.PoolDesc, fn func(p, worker int)) {
	np := d.N * d.C
	c := chunks(np*d.H*d.W, planeGrain)
	c = min(c, np)
	be.pool.run(c, func(i, worker int) {
		lo, hi := span(i, c, np)
		for p := lo; p < hi; p++ {
			fn(p, worker)
		}
	})
}

func checkPool(op string, d nn.PoolDesc, x, y []float32) {
	if len(x) != d.N*d.C*d.H*d.W || len(y) != d.N*d.C*d.OH*d.OW || d.K < 1 || d.Stride < 1 || d.Pad < 0 ||
		d.OH < 1 || d.OW < 1 || (d.OH-1)*d.Stride-d.Pad >= d.H || (d.OW-1)*d.Stride-d.Pad >= d.W {
		panic(fmt.Sprintf("cpu: %s: buffers %d, %d for %+v", op, len(x), len(y), d))
	}
}

// span1 returns the in-image bounds [lo, hi) of output index o's window
// along a dimension of size n.
func span1(o, stride, pad, k, n int) (lo, hi int) {
	lo = o*stride - pad
	return max(lo, 0), min(lo+k, n)
}

// divisor1 is the window length along one dimension for PyTorch's average
// pooling divisor: clipped to the image, or to the padded image (countPad).
func divisor1(o, stride, pad, k, n int, countPad bool) int {
	if countPad {
		lo := o*stride - pad
		return min(lo+k, n+pad) - lo
	}
	lo, hi := span1(o, stride, pad, k, n)
	return hi - lo
}

// Pooling is separable: a pass along each row into a [H, OW] scratch, then
// a pass down the columns.

// MaxPool sets y to the window maxima. 3×3 windows with stride 1 or 2 and
// padding 1 go through kern's assembly where the CPU has it: the same
// results except with NaN inputs (see kern.MaxPool3Forward).
func (be *Backend) MaxPool(d nn.PoolDesc, x, y nn.Buffer) {
	xd, yd := be.in(x), be.out(y)
	checkPool("MaxPool", d, xd, yd)
	hw, ohw := d.H*d.W, d.OH*d.OW
	same3, kern3 := isSame3(d), isKernPool3(d)
	be.planes(d, func(p, worker int) {
		in, out := xd[p*hw:(p+1)*hw], yd[p*ohw:(p+1)*ohw]
		if kern3 && kern.MaxPool3Forward(d.H, d.W, d.Stride, in, out) {
			return
		}
		tmp := be.scratchFor(worker, d.H*d.OW)
		for iy := 0; iy < d.H; iy++ {
			row, t := in[iy*d.W:(iy+1)*d.W], tmp[iy*d.OW:(iy+1)*d.OW]
			if same3 {
				max3Row(row, t)
				continue
			}
			for ox := range t {
				lo, hi := span1(ox, d.Stride, d.Pad, d.K, d.W)
				m := row[lo]
				for _, v := range row[lo+1 : hi] {
					m = max(m, v)
				}
				t[ox] = m
			}
		}
		for oy := 0; oy < d.OH; oy++ {
			lo, hi := span1(oy, d.Stride, d.Pad, d.K, d.H)
			o := out[oy*d.OW : (oy+1)*d.OW]
			copy(o, tmp[lo*d.OW:(lo+1)*d.OW])
			for iy := lo + 1; iy < hi; iy++ {
				t := tmp[iy*d.OW : (iy+1)*d.OW]
				t = t[:len(o)]
				for ox, v := range t {
					o[ox] = max(o[ox], v)
				}
			}
		}
	})
}

// MaxPoolBackward writes (or adds, when accumulate) each output gradient
// to its window's first maximum in row-major order (PyTorch's CPU choice).
func (be *Backend) MaxPoolBackward(d nn.PoolDesc, x, dy, dx nn.Buffer, accumulate bool) {
	xd, gd, dxd := be.in(x), be.in(dy), be.dst(dx, accumulate)
	checkPool("MaxPoolBackward", d, xd, gd)
	hw, ohw := d.H*d.W, d.OH*d.OW
	kern3 := isKernPool3(d)
	be.planes(d, func(p, worker int) {
		in, g, din := xd[p*hw:(p+1)*hw], gd[p*ohw:(p+1)*ohw], dxd[p*hw:(p+1)*hw]
		if !accumulate {
			clear(din)
		}
		if kern3 && kern.MaxPool3Backward(d.H, d.W, d.Stride, in, g, din) {
			return
		}
		same3 := isSame3(d)
		tmp := be.scratchFor(worker, 2*d.H*d.OW)
		// Branch-free arg-max (random data would mispredict every compare):
		// compare order-preserving integer keys of the floats; val holds
		// the row maxima's keys, idx their columns (both as raw bits).
		val, idx := tmp[:d.H*d.OW], tmp[d.H*d.OW:]
		for iy := 0; iy < d.H; iy++ {
			row := in[iy*d.W : (iy+1)*d.W]
			if same3 {
				argMax3Row(row, val[iy*d.OW:(iy+1)*d.OW], idx[iy*d.OW:(iy+1)*d.OW])
				continue
			}
			for ox := 0; ox < d.OW; ox++ {
				lo, hi := span1(ox, d.Stride, d.Pad, d.K, d.W)
				m, at := floatKey(row[lo]), lo
				for ix := lo + 1; ix < hi; ix++ {
					k := floatKey(row[ix])
					gt := (m - k) >> 63 // all ones iff k > m
					m ^= (m ^ k) & gt
					at ^= (at ^ ix) & int(gt)
				}
				val[iy*d.OW+ox] = math.Float32frombits(uint32(int32(m)))
				idx[iy*d.OW+ox] = math.Float32frombits(uint32(at))
			}
		}
		for oy := 0; oy < d.OH; oy++ {
			lo, hi := span1(oy, d.Stride, d.Pad, d.K, d.H)
			if hi-lo == 3 {
				// Three rows: the loop below unrolled.
				ow := d.OW
				v0, v1, v2 := val[lo*ow:(lo+1)*ow], val[(lo+1)*ow:(lo+2)*ow], val[(lo+2)*ow:(lo+3)*ow]
				gr := g[oy*ow : (oy+1)*ow]
				for ox := range gr {
					m, best := bitsKey(v0[ox]), lo
					k := bitsKey(v1[ox])
					gt := (m - k) >> 63
					m ^= (m ^ k) & gt
					best ^= (best ^ (lo + 1)) & int(gt)
					k = bitsKey(v2[ox])
					gt = (m - k) >> 63
					best ^= (best ^ (lo + 2)) & int(gt)
					din[best*d.W+int(math.Float32bits(idx[best*ow+ox]))] += gr[ox]
				}
				continue
			}
			for ox := 0; ox < d.OW; ox++ {
				best := lo
				m := int64(int32(math.Float32bits(val[lo*d.OW+ox])))
				for iy := lo + 1; iy < hi; iy++ {
					k := int64(int32(math.Float32bits(val[iy*d.OW+ox])))
					gt := (m - k) >> 63
					m ^= (m ^ k) & gt
					best ^= (best ^ iy) & int(gt)
				}
				din[best*d.W+int(math.Float32bits(idx[best*d.OW+ox]))] += g[oy*d.OW+ox]
			}
		}
	})
}

// isSame3 reports a 3×3 window, stride 1, padding 1 (the DARTS pools),
// whose row passes have the unrolled versions below: the same operations in
// the same order as the general loops, so the same bits.
func isSame3(d nn.PoolDesc) bool {
	return d.K == 3 && d.Stride == 1 && d.Pad == 1 && d.W >= 2 && d.OW == d.W
}

// isHalf3 reports a 3×3 window, stride 2, padding 1 whose outputs are the
// even rows and columns of isSame3's.
func isHalf3(d nn.PoolDesc) bool {
	return d.K == 3 && d.Stride == 2 && d.Pad == 1 && d.W >= 2 && d.H >= 2 && d.OW == (d.W+1)/2 && d.OH == (d.H+1)/2
}

// isKernPool3 reports a 3×3 window, padding 1, stride 1 or 2 (the DARTS
// max pools), which kern's MaxPool3 kernels take.
func isKernPool3(d nn.PoolDesc) bool {
	return d.K == 3 && d.Pad == 1 && (d.Stride == 1 || d.Stride == 2) &&
		d.OH == (d.H-1)/d.Stride+1 && d.OW == (d.W-1)/d.Stride+1
}

// max3Row sets t[ox] = the maximum of row[ox-1:ox+2] clipped to the row
// (len(t) == len(row) >= 2), folding left to right like MaxPool's loop.
func max3Row(row, t []float32) {
	w := len(row)
	t = t[:w]
	t[0] = max(row[0], row[1])
	for ox := 1; ox < w-1; ox++ {
		t[ox] = max(max(row[ox-1], row[ox]), row[ox+1])
	}
	t[w-1] = max(row[w-2], row[w-1])
}

// sum3Row sets t[ox] to the sum of row[ox-1:ox+2] clipped to the row
// (len(t) == len(row) >= 2), added left to right from zero like AvgPool's
// loop (so a -0 sum comes out +0 as there).
func sum3Row(row, t []float32) {
	w := len(row)
	t = t[:w]
	var s float32
	s += row[0]
	s += row[1]
	t[0] = s
	for ox := 1; ox < w-1; ox++ {
		var s float32
		s += row[ox-1]
		s += row[ox]
		s += row[ox+1]
		t[ox] = s
	}
	s = 0
	s += row[w-2]
	s += row[w-1]
	t[w-1] = s
}

// spread3Row adds t[ox] to row[ox-1:ox+2] clipped to the row, for ox in
// order (len(t) == len(row) >= 2), like avgPoolBackward's loop.
func spread3Row(t, row []float32) {
	w := len(row)
	t = t[:w]
	row[0] += t[0]
	row[1] += t[0]
	for ox := 1; ox < w-1; ox++ {
		v := t[ox]
		row[ox-1] += v
		row[ox] += v
		row[ox+1] += v
	}
	row[w-2] += t[w-1]
	row[w-1] += t[w-1]
}

// argMax3Row is the row pass of maxPoolBackward for 3-wide windows, stride
// 1, padding 1 (len(val) == len(idx) == len(row) >= 2): val[ox] gets the
// key (as bits) of the first maximum of row[ox-1:ox+2] clipped to the row,
// idx[ox] its column (as bits), exactly as the general loop does.
func argMax3Row(row, val, idx []float32) {
	w := len(row)
	val, idx = val[:w], idx[:w]
	put := func(ox int, m int64, at int) {
		val[ox] = math.Float32frombits(uint32(int32(m)))
		idx[ox] = math.Float32frombits(uint32(at))
	}
	// The edges: windows of two.
	m, at := floatKey(row[0]), 0
	k := floatKey(row[1])
	gt := (m - k) >> 63
	m ^= (m ^ k) & gt
	at ^= (at ^ 1) & int(gt)
	put(0, m, at)
	m, at = floatKey(row[w-2]), w-2
	k = floatKey(row[w-1])
	gt = (m - k) >> 63
	m ^= (m ^ k) & gt
	at ^= (at ^ (w - 1)) & int(gt)
	put(w-1, m, at)
	if w < 3 {
		return
	}
	k0, k1 := floatKey(row[0]), floatKey(row[1])
	for ox := 1; ox < w-1; ox++ {
		k2 := floatKey(row[ox+1])
		m, at := k0, ox-1
		gt := (m - k1) >> 63
		m ^= (m ^ k1) & gt
		at ^= (at ^ ox) & int(gt)
		gt = (m - k2) >> 63
		m ^= (m ^ k2) & gt
		at ^= (at ^ (ox + 1)) & int(gt)
		put(ox, m, at)
		k0, k1 = k1, k2
	}
}

// bitsKey reads back a key stored as float32 bits by maxPoolBackward.
func bitsKey(v float32) int64 { return int64(int32(math.Float32bits(v))) }

// floatKey maps a float32 to an integer with the same order (-0 < +0;
// NaNs with the sign bit clear sort above +Inf).
func floatKey(v float32) int64 {
	b := int32(math.Float32bits(v))
	return int64(b ^ (b >> 31 & 0x7fffffff))
}

// AvgPool sets y to the window averages (3×3 windows with stride 1,
// padding 1 and countPad false through kern's assembly where the CPU has
// it, with the same bits).
func (be *Backend) AvgPool(d nn.PoolDesc, countPad bool, x, y nn.Buffer) {
	xd, yd := be.in(x), be.out(y)
	checkPool("AvgPool", d, xd, yd)
	hw, ohw := d.H*d.W, d.OH*d.OW
	same3, half3 := isSame3(d), isHalf3(d)
	be.planes(d, func(p, worker int) {
		in, out := xd[p*hw:(p+1)*hw], yd[p*ohw:(p+1)*ohw]
		if same3 && !countPad && kern.AvgPool3Forward(d.H, d.W, in, out) {
			return
		}
		if half3 && !countPad {
			// The stride-2 outputs are the stride-1 ones at even rows and
			// columns, with the same sums: take those from the kernel.
			full := be.scratchFor(worker, hw)
			if kern.AvgPool3Forward(d.H, d.W, in, full) {
				kern.Subsample2(d.OH, d.W, full, 2*d.W, out, d.OW)
				return
			}
		}
		avgPoolPlane(d, countPad, in, out, be.scratchFor(worker, d.H*d.OW+d.OW))
	})
}

// avgPoolPlane is AvgPool on one plane in Go: row sums, then column sums of
// those, then the division by the window's size (tmp: H·OW+OW scratch).
func avgPoolPlane(d nn.PoolDesc, countPad bool, in, out, tmp []float32) {
	same3 := isSame3(d)
	inv := tmp[d.H*d.OW:]
	for ox := range inv {
		inv[ox] = float32(divisor1(ox, d.Stride, d.Pad, d.K, d.W, countPad))
	}
	for iy := 0; iy < d.H; iy++ {
		row, t := in[iy*d.W:(iy+1)*d.W], tmp[iy*d.OW:(iy+1)*d.OW]
		if same3 {
			sum3Row(row, t)
			continue
		}
		for ox := range t {
			lo, hi := span1(ox, d.Stride, d.Pad, d.K, d.W)
			var s float32
			for _, v := range row[lo:hi] {
				s += v
			}
			t[ox] = s
		}
	}
	for oy := 0; oy < d.OH; oy++ {
		lo, hi := span1(oy, d.Stride, d.Pad, d.K, d.H)
		dy := float32(divisor1(oy, d.Stride, d.Pad, d.K, d.H, countPad))
		o := out[oy*d.OW : (oy+1)*d.OW]
		copy(o, tmp[lo*d.OW:(lo+1)*d.OW])
		for iy := lo + 1; iy < hi; iy++ {
			t := tmp[iy*d.OW : (iy+1)*d.OW]
			t = t[:len(o)]
			for ox, v := range t {
				o[ox] += v
			}
		}
		for ox := range o {
			o[ox] /= dy * inv[ox]
		}
	}
}

// AvgPoolBackward writes (or adds, when accumulate) the spread of each
// output gradient over its window.
func (be *Backend) AvgPoolBackward(d nn.PoolDesc, countPad bool, dy, dx nn.Buffer, accumulate bool) {
	gd, dxd := be.in(dy), be.dst(dx, accumulate)
	checkPool("AvgPoolBackward", d, dxd, gd)
	hw, ohw := d.H*d.W, d.OH*d.OW
	same3, half3 := isSame3(d), isHalf3(d)
	be.planes(d, func(p, worker int) {
		g, din := gd[p*ohw:(p+1)*ohw], dxd[p*hw:(p+1)*hw]
		if !accumulate {
			clear(din)
		}
		if same3 && !countPad && kern.AvgPool3Backward(d.H, d.W, g, din) {
			return
		}
		if half3 && !countPad && kern.Accelerated() {
			// The stride-1 gradient of g spread to the even rows and
			// columns (zeros elsewhere) adds the same sums, plus +0 terms
			// (which can only turn a -0 in din into +0).
			full := be.scratchFor(worker, hw)
			kern.Spread2(d.OH, d.W, g, d.OW, full, 2*d.W, false)
			for iy := 1; iy < d.H; iy += 2 {
				clear(full[iy*d.W : (iy+1)*d.W])
			}
			if kern.AvgPool3Backward(d.H, d.W, full, din) {
				return
			}
		}
		avgPoolBackwardPlane(d, countPad, g, din, be.scratchFor(worker, d.H*d.OW+d.OW))
	})
}

// avgPoolBackwardPlane adds AvgPool's input gradient of one plane in Go:
// g divided by the window sizes summed down the columns (from +0, top to
// bottom), then along the rows into din, left to right (tmp: H·OW+OW
// scratch).
func avgPoolBackwardPlane(d nn.PoolDesc, countPad bool, g, din, tmp []float32) {
	same3 := isSame3(d)
	t, div := tmp[:d.H*d.OW], tmp[d.H*d.OW:]
	clear(t)
	for ox := range div {
		div[ox] = float32(divisor1(ox, d.Stride, d.Pad, d.K, d.W, countPad))
	}
	// Down the columns: t[iy, ox] = Σ over outputs oy covering iy of g/div.
	for oy := 0; oy < d.OH; oy++ {
		lo, hi := span1(oy, d.Stride, d.Pad, d.K, d.H)
		dvy := float32(divisor1(oy, d.Stride, d.Pad, d.K, d.H, countPad))
		grow := g[oy*d.OW : (oy+1)*d.OW]
		for iy := lo; iy < hi; iy++ {
			tr := t[iy*d.OW : (iy+1)*d.OW]
			tr = tr[:len(grow)]
			for ox, v := range grow {
				tr[ox] += v / (dvy * div[ox])
			}
		}
	}
	// Along the rows.
	for iy := 0; iy < d.H; iy++ {
		tr, row := t[iy*d.OW:(iy+1)*d.OW], din[iy*d.W:(iy+1)*d.W]
		if same3 {
			spread3Row(tr, row)
			continue
		}
		for ox, v := range tr {
			lo, hi := span1(ox, d.Stride, d.Pad, d.K, d.W)
			seg := row[lo:hi]
			for i := range seg {
				seg[i] += v
			}
		}
	}
}

// GlobalAvgPool sets y[n, c] to the mean of plane (n, c) (float64 sum).
func (be *Backend) GlobalAvgPool(n, c, hw int, x, y nn.Buffer) {
	xd, yd := be.in(x), be.out(y)
	if len(xd) != n*c*hw || len(yd) != n*c {
		panic(fmt.Sprintf("cpu: GlobalAvgPool: buffers %d, %d for %d×%d×%d", len(xd), len(yd), n, c, hw))
	}
	np := n * c
	k := min(chunks(np*hw, planeGrain), np)
	be.pool.run(k, func(i, _ int) {
		lo, hi := span(i, k, np)
		for p := lo; p < hi; p++ {
			var s float64
			for _, v := range xd[p*hw : (p+1)*hw] {
				s += float64(v)
			}
			yd[p] = float32(s / float64(hw))
		}
	})
}

// GlobalAvgPoolBackward writes (or adds, when accumulate) dy[n, c]/hw to
// every element of plane (n, c).
func (be *Backend) GlobalAvgPoolBackward(n, c, hw int, dy, dx nn.Buffer, accumulate bool) {
	gd, dxd := be.in(dy), be.dst(dx, accumulate)
	if len(dxd) != n*c*hw || len(gd) != n*c {
		panic(fmt.Sprintf("cpu: GlobalAvgPoolBackward: buffers %d, %d for %d×%d×%d", len(gd), len(dxd), n, c, hw))
	}
	np := n * c
	k := min(chunks(np*hw, planeGrain), np)
	be.pool.run(k, func(i, _ int) {
		lo, hi := span(i, k, np)
		for p := lo; p < hi; p++ {
			v := gd[p] / float32(hw)
			row := dxd[p*hw : (p+1)*hw]
			if !accumulate {
				for j := range row {
					row[j] = v
				}
				continue
			}
			for j := range row {
				row[j] += v
			}
		}
	})
}
