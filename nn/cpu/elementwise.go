package cpu

import (
	"fmt"

	"pertnas/nn"
	"pertnas/nn/cpu/kern"
)

// grain is the number of elements per item in elementwise loops.
const grain = 1 << 14

// each runs fn over fixed chunks of [0, n).
func (be *Backend) each(n int, fn func(lo, hi int)) {
	c := chunks(n, grain)
	be.pool.run(c, func(i, _ int) {
		lo, hi := span(i, c, n)
		fn(lo, hi)
	})
}

func sameLen(op string, a, b []float32) {
	if len(a) != len(b) {
		panic(fmt.Sprintf("cpu: %s of lengths %d and %d", op, len(a), len(b)))
	}
}

// Fill sets every element to v.
func (be *Backend) Fill(dst nn.Buffer, v float32) {
	d := be.out(dst)
	be.each(len(d), func(lo, hi int) {
		s := d[lo:hi]
		if v == 0 {
			clear(s)
			return
		}
		for i := range s {
			s[i] = v
		}
	})
}

// Copy copies src to dst.
func (be *Backend) Copy(dst, src nn.Buffer) {
	if r, ok := through(src); ok && dst != src {
		be.applyInput(r, 1, be.out(dst), false)
		return
	}
	s, d := be.in(src), be.out(dst)
	sameLen("Copy", d, s)
	be.each(len(d), func(lo, hi int) { copy(d[lo:hi], s[lo:hi]) })
}

// Scale sets y = alpha*x.
func (be *Backend) Scale(y nn.Buffer, alpha float32, x nn.Buffer) {
	if r, ok := through(x); ok && y != x {
		be.applyInput(r, alpha, be.out(y), false)
		return
	}
	xd, yd := be.in(x), be.out(y)
	sameLen("Scale", yd, xd)
	be.each(len(yd), func(lo, hi int) {
		ys, xs := yd[lo:hi], xd[lo:hi]
		for i, v := range xs {
			ys[i] = alpha * v
		}
	})
}

// Axpy sets y += alpha*x.
func (be *Backend) Axpy(y nn.Buffer, alpha float32, x nn.Buffer) {
	if r, ok := through(x); ok && y != x {
		be.applyInput(r, alpha, be.in(y), true)
		return
	}
	yd, xd := be.in(y), be.in(x)
	sameLen("Axpy", yd, xd)
	be.each(len(yd), func(lo, hi int) {
		ys, xs := yd[lo:hi], xd[lo:hi]
		if alpha == 1 {
			for i, v := range xs {
				ys[i] += v
			}
			return
		}
		for i, v := range xs {
			ys[i] += alpha * v
		}
	})
}

// SumSquares returns Σ x², in float64, chunk partials summed in order.
func (be *Backend) SumSquares(x nn.Buffer) float64 {
	xd := be.in(x)
	c := chunks(len(xd), grain)
	parts := make([]float64, c)
	be.pool.run(c, func(i, _ int) {
		lo, hi := span(i, c, len(xd))
		var s float64
		for _, v := range xd[lo:hi] {
			s += float64(v) * float64(v)
		}
		parts[i] = s
	})
	var s float64
	for _, p := range parts {
		s += p
	}
	return s
}

// ReLU sets y = max(x, 0): deferred unless eager or in place (a deferred
// x with a depthwise stage is computed first).
func (be *Backend) ReLU(x, y nn.Buffer) {
	if be.defers(y, x) {
		in, n, c, hw := be.elementwise(x)
		in.relu = true
		be.deferTo(y, in, n, c, hw)
		return
	}
	xd, yd := be.in(x), be.out(y)
	sameLen("ReLU", yd, xd)
	be.each(len(yd), func(lo, hi int) {
		kern.ReluForward(yd[lo:hi], xd[lo:hi])
	})
}

// ReLUBackward sets (or adds, when accumulate) dx = dy where y > 0 and 0
// elsewhere; without accumulate dx may be dy. A deferred y without a
// depthwise stage is read through its recipe.
func (be *Backend) ReLUBackward(y, dy, dx nn.Buffer, accumulate bool) {
	gd := be.in(dy)
	if r, ok := through(y); ok {
		be.reluBackwardIn(r, gd, be.dst(dx, accumulate), accumulate)
		return
	}
	be.reluBackward(be.in(y), gd, be.dst(dx, accumulate), accumulate)
}

func (be *Backend) reluBackward(yd, gd, xd []float32, accumulate bool) {
	sameLen("ReLUBackward", yd, gd)
	sameLen("ReLUBackward", yd, xd)
	be.each(len(yd), func(lo, hi int) {
		if accumulate {
			kern.ReluBackwardAdd(xd[lo:hi], gd[lo:hi], yd[lo:hi])
		} else {
			kern.ReluBackward(xd[lo:hi], gd[lo:hi], yd[lo:hi])
		}
	})
}

// SGDStep applies one PyTorch SGD update (see nn.Backend).
func (be *Backend) SGDStep(w, grad, buf nn.Buffer, lr, momentum, wd float32, nesterov, first bool) {
	wd_, gd, bd := be.in(w), be.in(grad), be.in(buf)
	sameLen("SGDStep", wd_, gd)
	if momentum != 0 {
		sameLen("SGDStep", wd_, bd)
	}
	be.each(len(wd_), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			g := gd[i]
			if wd != 0 {
				g += wd * wd_[i]
			}
			if momentum != 0 {
				b := g
				if !first {
					b = momentum*bd[i] + g
				}
				bd[i] = b
				if nesterov {
					g += momentum * b
				} else {
					g = b
				}
			}
			wd_[i] -= lr * g
		}
	})
}

// ScaleSamples sets (or adds) y[i,:] = s[i]*x[i,:]. A deferred x without
// a depthwise stage is read through its recipe into y, then scaled in place.
func (be *Backend) ScaleSamples(n, size int, s []float32, x, y nn.Buffer, accumulate bool) {
	if r, ok := through(x); ok && !accumulate && x != y {
		be.applyInput(r, 1, be.out(y), false)
		x = y
	}
	xd, yd := be.in(x), be.dst(y, accumulate)
	if len(xd) < n*size || len(yd) < n*size || len(s) < n {
		panic(fmt.Sprintf("cpu: ScaleSamples %d×%d on buffers of %d and %d", n, size, len(xd), len(yd)))
	}
	be.pool.run(n, func(i, _ int) {
		a := s[i]
		xs, ys := xd[i*size:(i+1)*size], yd[i*size:(i+1)*size]
		if accumulate {
			if a == 0 {
				return
			}
			for j, v := range xs {
				ys[j] += a * v
			}
			return
		}
		for j, v := range xs {
			ys[j] = a * v
		}
	})
}

// CopyChannels copies (or adds) c channels per sample between channel
// offsets of two NCHW buffers.
func (be *Backend) CopyChannels(n, hw int, src nn.Buffer, srcC, srcOff int, dst nn.Buffer, dstC, dstOff, c int, accumulate bool) {
	be.copyChannels(n, hw, be.in(src), srcC, srcOff, be.dst(dst, accumulate || c < dstC), dstC, dstOff, c, accumulate)
}

func (be *Backend) copyChannels(n, hw int, sd []float32, srcC, srcOff int, dd []float32, dstC, dstOff, c int, accumulate bool) {
	if srcOff+c > srcC || dstOff+c > dstC || len(sd) < n*srcC*hw || len(dd) < n*dstC*hw {
		panic(fmt.Sprintf("cpu: CopyChannels of %d channels from %d/%d to %d/%d", c, srcOff, srcC, dstOff, dstC))
	}
	be.pool.run(n, func(i, _ int) {
		s := sd[(i*srcC+srcOff)*hw : (i*srcC+srcOff+c)*hw]
		d := dd[(i*dstC+dstOff)*hw : (i*dstC+dstOff+c)*hw]
		if !accumulate {
			copy(d, s)
			return
		}
		for j, v := range s {
			d[j] += v
		}
	})
}

// Shift sets y = x[:, :, offY:, offX:].
func (be *Backend) Shift(n, c, h, w, offY, offX int, x, y nn.Buffer) {
	xd, yd := be.in(x), be.out(y)
	oh, ow := h-offY, w-offX
	be.pool.run(n, func(i, _ int) {
		for ch := i * c; ch < (i+1)*c; ch++ {
			kern.CopyRows(oh, ow, xd[ch*h*w+offY*w+offX:(ch+1)*h*w], w, yd[ch*oh*ow:(ch+1)*oh*ow], ow, false)
		}
	})
}

// ShiftBackward adds dy into dx[:, :, offY:, offX:].
func (be *Backend) ShiftBackward(n, c, h, w, offY, offX int, dy, dx nn.Buffer) {
	gd, xd := be.in(dy), be.in(dx)
	oh, ow := h-offY, w-offX
	be.pool.run(n, func(i, _ int) {
		for ch := i * c; ch < (i+1)*c; ch++ {
			kern.CopyRows(oh, ow, gd[ch*oh*ow:(ch+1)*oh*ow], ow, xd[ch*h*w+offY*w+offX:(ch+1)*h*w], w, true)
		}
	})
}
