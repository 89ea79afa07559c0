package cpu

import (
	"fmt"

	"pertnas/nn"
	"pertnas/nn/cpu/kern"
)

// Convolution strategy, by shape:
//   - depthwise (Groups == C == OC): kern's one-plane depthwise kernels
//     through a kern.Depthwise per item, an item being a fixed group of
//     (sample, channel) planes; the filter gradient is one item per
//     channel, summing samples in order;
//   - pointwise (1×1, stride 1, no padding): per sample and group, a GEMM
//     Y[OC, HW] = W[OC, C]·X[C, HW] straight on the NCHW data;
//   - anything else: im2col into per-worker scratch, then the same GEMM.
// Filter gradients of the GEMM paths are summed per fixed group of samples
// into partial buffers, which are then added to dW in group order.

// maxSampleGroups bounds the number of partial filter gradients.
const maxSampleGroups = 8

// checkConv panics unless the buffers fit d (x nil: not checked).
func checkConv(op string, d nn.ConvDesc, x, w, y []float32) {
	if d.Groups < 1 || d.C%d.Groups != 0 || d.OC%d.Groups != 0 ||
		(x != nil && len(x) < d.N*d.C*d.H*d.W) || len(w) < d.OC*(d.C/d.Groups)*d.K*d.K || len(y) < d.N*d.OC*d.OH*d.OW {
		panic(fmt.Sprintf("cpu: %s: bad descriptor %+v for buffers %d, %d, %d", op, d, len(x), len(w), len(y)))
	}
}

// checkConvIn is checkConv for an input that may be deferred; an input with
// a depthwise stage only feeds a pointwise convolution.
func checkConvIn(op string, d nn.ConvDesc, in input, w, y []float32) {
	if in.elementwise() {
		in.checkLen(op, d.N, d.C, d.H*d.W)
		checkConv(op, d, nil, w, y)
		return
	}
	s := in.dw
	if !isPointwise(d) || d.Groups != 1 || !isDepthwise(s) || s.C != d.C || s.N != d.N || s.OH != d.H || s.OW != d.W ||
		len(in.dww) < s.C*s.K*s.K || len(w) < d.OC*d.C || len(y) < d.N*d.OC*d.OH*d.OW {
		panic(fmt.Sprintf("cpu: %s %+v of depthwise stage %+v: buffers %d, %d, %d", op, d, s, len(in.dww), len(w), len(y)))
	}
	in.checkLen(op, s.N, s.C, s.H*s.W)
}

func isDepthwise(d nn.ConvDesc) bool { return d.Groups == d.C && d.OC == d.C }

func isPointwise(d nn.ConvDesc) bool { return d.K == 1 && d.Stride == 1 && d.Pad == 0 }

// isStride2Pointwise: a 1×1 stride-2 unpadded convolution (factorized
// reduce), whose im2col is the even columns of the even rows.
func isStride2Pointwise(d nn.ConvDesc) bool { return d.K == 1 && d.Stride == 2 && d.Pad == 0 }

// im2col writes the cg channels starting at x (one sample, one group) as
// col[(ci*K+ky)*K+kx][oy*OW+ox], zero where the window is in the padding.
func im2col(d nn.ConvDesc, cg int, x, col []float32) {
	hw, ohw := d.H*d.W, d.OH*d.OW
	if isStride2Pointwise(d) {
		for ci := 0; ci < cg; ci++ {
			kern.Subsample2(d.OH, d.W, x[ci*hw:(ci+1)*hw], 2*d.W, col[ci*ohw:(ci+1)*ohw], d.OW)
		}
		return
	}
	for ci := 0; ci < cg; ci++ {
		plane := x[ci*hw : (ci+1)*hw]
		for ky := 0; ky < d.K; ky++ {
			for kx := 0; kx < d.K; kx++ {
				row := col[((ci*d.K+ky)*d.K+kx)*ohw:][:ohw]
				for oy := 0; oy < d.OH; oy++ {
					iy := oy*d.Stride - d.Pad + ky*d.Dilation
					out := row[oy*d.OW : (oy+1)*d.OW]
					if iy < 0 || iy >= d.H {
						clear(out)
						continue
					}
					in := plane[iy*d.W : (iy+1)*d.W]
					ix := -d.Pad + kx*d.Dilation
					for ox := range out {
						if ix >= 0 && ix < d.W {
							out[ox] = in[ix]
						} else {
							out[ox] = 0
						}
						ix += d.Stride
					}
				}
			}
		}
	}
}

// col2im adds col (laid out as im2col's) into the cg channels at dx, or
// sets them to it (zero where no window reads) unless accumulate.
func col2im(d nn.ConvDesc, cg int, col, dx []float32, accumulate bool) {
	hw, ohw := d.H*d.W, d.OH*d.OW
	if isStride2Pointwise(d) {
		for ci := 0; ci < cg; ci++ {
			plane := dx[ci*hw : (ci+1)*hw]
			kern.Spread2(d.OH, d.W, col[ci*ohw:(ci+1)*ohw], d.OW, plane, 2*d.W, accumulate)
			if !accumulate {
				for iy := 1; iy < d.H; iy += 2 {
					clear(plane[iy*d.W : (iy+1)*d.W])
				}
			}
		}
		return
	}
	if !accumulate {
		clear(dx[:cg*hw])
	}
	col2imAdd(d, cg, col, dx)
}

func col2imAdd(d nn.ConvDesc, cg int, col, dx []float32) {
	hw, ohw := d.H*d.W, d.OH*d.OW
	for ci := 0; ci < cg; ci++ {
		plane := dx[ci*hw : (ci+1)*hw]
		for ky := 0; ky < d.K; ky++ {
			for kx := 0; kx < d.K; kx++ {
				row := col[((ci*d.K+ky)*d.K+kx)*ohw:][:ohw]
				for oy := 0; oy < d.OH; oy++ {
					iy := oy*d.Stride - d.Pad + ky*d.Dilation
					if iy < 0 || iy >= d.H {
						continue
					}
					in := plane[iy*d.W : (iy+1)*d.W]
					ix := -d.Pad + kx*d.Dilation
					for _, v := range row[oy*d.OW : (oy+1)*d.OW] {
						if ix >= 0 && ix < d.W {
							in[ix] += v
						}
						ix += d.Stride
					}
				}
			}
		}
	}
}

// Conv2DForward sets y = conv(x, w). A depthwise convolution's output is
// deferred unless eager or in place, or x is itself deferred with a
// depthwise stage (then computed first, and y at once); a deferred x is
// read as convInput says.
func (be *Backend) Conv2DForward(d nn.ConvDesc, x, w, y nn.Buffer) {
	if xb := x.(*Buf); isDepthwise(d) && be.defers(y, x, w) && !(xb.deferred && xb.rec.dww != nil) {
		wd := be.in(w)
		if xb.n != d.N*d.C*d.H*d.W || len(wd) < d.C*d.K*d.K || y.Len() != d.N*d.OC*d.OH*d.OW {
			panic(fmt.Sprintf("cpu: Conv2DForward: bad descriptor %+v for buffers %d, %d, %d", d, xb.n, len(wd), y.Len()))
		}
		in, n, c, hw := be.elementwise(x)
		in.dw, in.dww = d, wd
		be.deferTo(y, in, n, c, hw)
		return
	}
	be.conv2DForward(d, be.convInput(d, x), be.in(w), be.out(y))
}

// dwPlanes runs fn over the n planes of hw elements each in fixed groups of
// about planeGrain elements (the split depends on the shapes only).
func (be *Backend) dwPlanes(n, hw int, fn func(p, worker int)) {
	c := min(chunks(n*hw, planeGrain), n)
	be.pool.run(c, func(i, worker int) {
		lo, hi := span(i, c, n)
		for p := lo; p < hi; p++ {
			fn(p, worker)
		}
	})
}

// dwValueGroup is the number of input values (about 32 KiB, in L1) that
// the depthwise filter gradient forms at a time for a deferred input.
const dwValueGroup = 8192

// dwSamples runs fn over the N samples of the depthwise convolution d, with
// a kern.Depthwise for d per item.
func (be *Backend) dwSamples(d nn.ConvDesc, fn func(conv kern.Depthwise, n, worker int)) {
	be.pool.run(d.N, func(n, worker int) {
		conv := kern.GetDepthwise(d.H, d.W, d.K, d.Stride, d.Pad, d.Dilation, d.OH, d.OW)
		fn(conv, n, worker)
		conv.Release()
	})
}

// dwConvPlanes is dwPlanes over the N·C input planes of the depthwise
// convolution d, with a kern.Depthwise for d per group of planes.
func (be *Backend) dwConvPlanes(d nn.ConvDesc, fn func(conv kern.Depthwise, p, worker int)) {
	n := d.N * d.C
	c := min(chunks(n*d.H*d.W, planeGrain), n)
	be.pool.run(c, func(i, worker int) {
		conv := kern.GetDepthwise(d.H, d.W, d.K, d.Stride, d.Pad, d.Dilation, d.OH, d.OW)
		lo, hi := span(i, c, n)
		for p := lo; p < hi; p++ {
			fn(conv, p, worker)
		}
		conv.Release()
	})
}

func (be *Backend) conv2DForward(d nn.ConvDesc, in input, wd, yd []float32) {
	checkConvIn("Conv2DForward", d, in, wd, yd)
	in.check("Conv2DForward", d.C)
	hw, ohw, kk := d.H*d.W, d.OH*d.OW, d.K*d.K
	if isDepthwise(d) {
		if in.parts == nil {
			// Per sample: one call over its C contiguous planes, forming
			// the input's values as it loads them.
			scale, shift := in.affine(d.C)
			be.dwSamples(d, func(conv kern.Depthwise, n, _ int) {
				conv.ForwardPlanesAffine(d.C, in.x[n*d.C*hw:(n+1)*d.C*hw], wd, scale, shift, in.relu, yd[n*d.C*ohw:(n+1)*d.C*ohw])
			})
			return
		}
		be.dwConvPlanes(d, func(conv kern.Depthwise, p, worker int) {
			c := p % d.C
			conv.Forward(be.planeValues(in, c, in.plane(p, d.C, hw), worker), wd[c*kk:(c+1)*kk], yd[p*ohw:(p+1)*ohw])
		})
		return
	}
	cg, og := d.C/d.Groups, d.OC/d.Groups
	ckk := cg * kk
	pw := isPointwise(d)
	be.pool.run(d.N, func(n, worker int) {
		xn := be.sampleValues(in, n, d.C, hw, worker)
		for g := 0; g < d.Groups; g++ {
			xg := xn[g*cg*hw:]
			col := xg
			if !pw {
				col = be.scratchFor(worker, ckk*ohw)
				im2col(d, cg, xg, col)
			}
			kern.Gemm(false, false, og, ohw, ckk, wd[g*og*ckk:], ckk, col, ohw, false, yd[(n*d.OC+g*og)*ohw:], ohw)
		}
	})
}

// Conv2DBackwardData writes (or adds, when accumulate) the input gradient
// to dx.
func (be *Backend) Conv2DBackwardData(d nn.ConvDesc, dy, w, dx nn.Buffer, accumulate bool) {
	gd, wd, xd := be.in(dy), be.in(w), be.dst(dx, accumulate)
	checkConv("Conv2DBackwardData", d, xd, wd, gd)
	hw, ohw, kk := d.H*d.W, d.OH*d.OW, d.K*d.K
	if isDepthwise(d) {
		be.dwSamples(d, func(conv kern.Depthwise, n, _ int) {
			conv.BackwardDataPlanes(d.C, gd[n*d.C*ohw:(n+1)*d.C*ohw], wd, xd[n*d.C*hw:(n+1)*d.C*hw], accumulate)
		})
		return
	}
	cg, og := d.C/d.Groups, d.OC/d.Groups
	ckk := cg * kk
	pw := isPointwise(d)
	be.pool.run(d.N, func(n, worker int) {
		for g := 0; g < d.Groups; g++ {
			dyg := gd[(n*d.OC+g*og)*ohw:]
			dxg := xd[(n*d.C+g*cg)*hw:]
			if pw {
				kern.Gemm(true, false, ckk, ohw, og, wd[g*og*ckk:], ckk, dyg, ohw, accumulate, dxg, hw)
				continue
			}
			col := be.scratchFor(worker, ckk*ohw)
			kern.Gemm(true, false, ckk, ohw, og, wd[g*og*ckk:], ckk, dyg, ohw, false, col, ohw)
			col2im(d, cg, col, dxg, accumulate)
		}
	})
}

// Conv2DBackwardFilter adds the weight gradient into dw, reading a
// deferred x as convInput says.
func (be *Backend) Conv2DBackwardFilter(d nn.ConvDesc, x, dy, dw nn.Buffer) {
	in := be.convInput(d, x)
	gd, wd := be.in(dy), be.in(dw)
	checkConvIn("Conv2DBackwardFilter", d, in, wd, gd)
	in.check("Conv2DBackwardFilter", d.C)
	hw, ohw, kk := d.H*d.W, d.OH*d.OW, d.K*d.K
	if isDepthwise(d) {
		// Per channel, its plane of every sample in order. The kernel adds
		// each plane's sums to wd plane by plane, so feeding the planes in
		// groups (values formed in scratch) gives the bits of one call.
		be.pool.run(d.C, func(c, worker int) {
			conv := kern.GetDepthwise(d.H, d.W, d.K, d.Stride, d.Pad, d.Dilation, d.OH, d.OW)
			dwc := wd[c*kk : (c+1)*kk]
			if in.parts == nil && in.scale == nil && !in.relu {
				conv.BackwardFilterPlanes(d.N, in.x[c*hw:], d.C*hw, gd[c*ohw:], d.C*ohw, dwc)
				conv.Release()
				return
			}
			group := max(1, min(d.N, dwValueGroup/hw))
			vals := be.valueScratch(worker, group*hw)
			for n0 := 0; n0 < d.N; n0 += group {
				m := min(group, d.N-n0)
				for i := range m {
					in.values(vals[i*hw:(i+1)*hw], c, in.plane((n0+i)*d.C+c, d.C, hw), false)
				}
				conv.BackwardFilterPlanes(m, vals, hw, gd[(n0*d.C+c)*ohw:], d.C*ohw, dwc)
			}
			conv.Release()
		})
		return
	}
	cg, og := d.C/d.Groups, d.OC/d.Groups
	ckk := cg * kk
	wsize := d.OC * ckk
	pw := isPointwise(d)
	ng := min(d.N, maxSampleGroups)
	parts := be.partials(ng * wsize)
	be.pool.run(ng, func(item, worker int) {
		part := parts[item*wsize : (item+1)*wsize]
		lo, hi := span(item, ng, d.N)
		for n := lo; n < hi; n++ {
			xn := be.sampleValues(in, n, d.C, hw, worker)
			for g := 0; g < d.Groups; g++ {
				xg := xn[g*cg*hw:]
				col := xg
				if !pw {
					col = be.scratchFor(worker, ckk*ohw)
					im2col(d, cg, xg, col)
				}
				kern.Gemm(false, true, og, ckk, ohw, gd[(n*d.OC+g*og)*ohw:], ohw, col, ohw, n > lo, part[g*og*ckk:], ckk)
			}
		}
	})
	for item := 0; item < ng; item++ {
		kern.Axpy(1, parts[item*wsize:(item+1)*wsize], wd[:wsize])
	}
}
