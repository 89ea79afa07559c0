package cpu

import (
	"fmt"
	"math"

	"pertnas/nn"
	"pertnas/nn/cpu/kern"
)

// Batch norm: one item per channel. In training mode each channel's sums run
// over its planes in the fixed order of kern.ShiftedMomentsPlanes and
// kern.DotDevPlanes; the inference-mode backward pass sums over samples and
// positions in order, in float64.

func checkBN(op string, d nn.BNDesc, bufs ...[]float32) {
	n := d.N * d.C * d.HW
	if d.N < 1 || d.C < 1 || d.HW < 1 {
		panic(fmt.Sprintf("cpu: %s: bad descriptor %+v", op, d))
	}
	for _, b := range bufs {
		if b != nil && len(b) != n {
			panic(fmt.Sprintf("cpu: %s: buffer of %d for %+v", op, len(b), d))
		}
	}
}

// channelStats returns the mean and biased variance of channel c in one
// pass: sums of x-k and (x-k)² with k the channel's first value (so the
// subtraction of squares does not cancel), over the channel's planes
// (kern.ShiftedMomentsPlanes).
func channelStats(d nn.BNDesc, x []float32, c int) (mean, variance float64) {
	k := x[c*d.HW]
	s, q := kern.ShiftedMomentsPlanes(x[c*d.HW:], d.N, d.HW, d.C*d.HW, k)
	m := float64(d.N * d.HW)
	dm := s / m
	return float64(k) + dm, max(q/m-dm*dm, 0)
}

// normalize writes y = x*scale + (shift - mean*scale) for channel c (scale
// and shift fold gamma, beta and the inverse deviation).
func normalize(d nn.BNDesc, x, y []float32, c int, mean, scale, shift float32) {
	o := c * d.HW
	kern.ScaleShiftPlanes(y[o:], x[o:], d.N, d.HW, d.C*d.HW, scale, shift-mean*scale)
}

func gammaBeta(gamma, beta []float32, c int) (float32, float32) {
	g, b := float32(1), float32(0)
	if gamma != nil {
		g = gamma[c]
	}
	if beta != nil {
		b = beta[c]
	}
	return g, b
}

// BatchNormTrain normalises with batch statistics and updates the running
// ones. The output is deferred (y = x·scale + shift per channel) unless
// eager or in place; the statistics are not.
func (be *Backend) BatchNormTrain(d nn.BNDesc, x, gamma, beta, runMean, runVar, y, saveMean, saveInvStd nn.Buffer) {
	xd := be.in(x)
	gd, bd, rm, rv := be.in(gamma), be.in(beta), be.in(runMean), be.in(runVar)
	sm, si := be.out(saveMean), be.out(saveInvStd)
	checkBN("BatchNormTrain", d, xd)
	if y.Len() != len(xd) {
		panic(fmt.Sprintf("cpu: BatchNormTrain: output of %d for %+v", y.Len(), d))
	}
	var yd, sc, sh []float32
	if be.defers(y, x) {
		sc, sh = y.(*Buf).rec.affineSlots(d.C)
	} else {
		yd = be.out(y)
	}
	m := float64(d.N * d.HW)
	be.pool.run(d.C, func(c, _ int) {
		mean, v := channelStats(d, xd, c)
		inv := float32(1 / math.Sqrt(v+float64(d.Eps)))
		sm[c], si[c] = float32(mean), inv
		unbiased := v
		if m > 1 {
			unbiased = v * m / (m - 1)
		}
		mom := d.Momentum
		rm[c] = (1-mom)*rm[c] + mom*float32(mean)
		rv[c] = (1-mom)*rv[c] + mom*float32(unbiased)
		g, b := gammaBeta(gd, bd, c)
		if yd == nil {
			s := inv * g
			sc[c], sh[c] = s, b-float32(mean)*s
			return
		}
		normalize(d, xd, yd, c, float32(mean), inv*g, b)
	})
	if yd == nil {
		be.deferTo(y, input{x: xd, scale: sc, shift: sh}, d.N, d.C, d.HW)
	}
}

// BatchNormTrainBackward writes (or adds, when accumulate) the input
// gradient of a training-mode batch norm to dx and adds its parameter
// gradients to dgamma and dbeta.
func (be *Backend) BatchNormTrainBackward(d nn.BNDesc, x, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta nn.Buffer, accumulate bool) {
	xd, gyd, dxd := be.in(x), be.in(dy), be.dst(dx, accumulate)
	gd, sm, si, dgd, dbd := be.in(gamma), be.in(saveMean), be.in(saveInvStd), be.in(dgamma), be.in(dbeta)
	checkBN("BatchNormTrainBackward", d, xd, gyd, dxd)
	m := float64(d.N * d.HW)
	be.pool.run(d.C, func(c, _ int) {
		mean, inv := float64(sm[c]), float64(si[c])
		// Σ dy, Σ dy*xhat
		sdy, sdyx := kern.DotDevPlanes(gyd[c*d.HW:], xd[c*d.HW:], d.N, d.HW, d.C*d.HW, sm[c])
		sdyx *= inv
		if dgd != nil {
			dgd[c] += float32(sdyx)
		}
		if dbd != nil {
			dbd[c] += float32(sdy)
		}
		if dxd == nil {
			return
		}
		g, _ := gammaBeta(gd, nil, c)
		// dx = g*inv*(dy - mean(dy) - xhat*mean(dy*xhat))
		k := float32(float64(g) * inv)
		mdy, mdyx := float32(sdy/m), float32(sdyx/m)
		meanf, invf := float32(mean), float32(inv)
		// dx (+)= k*dy - (x*b + c0), each product and sum rounded on its
		// own: t = -(x*b + c0) exactly (negation), then t += k*dy, then
		// dx = t or dx += t (one pass).
		a, b := k*mdy, k*invf*mdyx
		c0 := a - meanf*b
		o := c * d.HW
		kern.AffineAxpyPlanes(dxd[o:], xd[o:], gyd[o:], d.N, d.HW, d.C*d.HW, -b, -c0, k, accumulate)
	})
}

// BatchNormInfer normalises with the running statistics.
func (be *Backend) BatchNormInfer(d nn.BNDesc, x, gamma, beta, runMean, runVar, y nn.Buffer) {
	xd, yd := be.in(x), be.out(y)
	gd, bd, rm, rv := be.in(gamma), be.in(beta), be.in(runMean), be.in(runVar)
	checkBN("BatchNormInfer", d, xd, yd)
	be.pool.run(d.C, func(c, _ int) {
		inv := float32(1 / math.Sqrt(float64(rv[c])+float64(d.Eps)))
		g, b := gammaBeta(gd, bd, c)
		normalize(d, xd, yd, c, rm[c], inv*g, b)
	})
}

// BatchNormInferBackward adds the gradients of an inference-mode batch norm
// (a fixed per-channel affine map).
func (be *Backend) BatchNormInferBackward(d nn.BNDesc, x, dy, gamma, runMean, runVar, dx, dgamma, dbeta nn.Buffer) {
	xd, gyd, dxd := be.in(x), be.in(dy), be.in(dx)
	gd, rm, rv, dgd, dbd := be.in(gamma), be.in(runMean), be.in(runVar), be.in(dgamma), be.in(dbeta)
	checkBN("BatchNormInferBackward", d, xd, gyd, dxd)
	be.pool.run(d.C, func(c, _ int) {
		inv := float32(1 / math.Sqrt(float64(rv[c])+float64(d.Eps)))
		g, _ := gammaBeta(gd, nil, c)
		var sdy, sdyx float64
		for n := 0; n < d.N; n++ {
			o := (n*d.C + c) * d.HW
			gs := gyd[o : o+d.HW]
			for i, v := range xd[o : o+d.HW] {
				sdy += float64(gs[i])
				sdyx += float64(gs[i]) * float64((v-rm[c])*inv)
			}
			if dxd != nil {
				dxs := dxd[o : o+d.HW]
				for i, gv := range gs {
					dxs[i] += gv * g * inv
				}
			}
		}
		if dgd != nil {
			dgd[c] += float32(sdyx)
		}
		if dbd != nil {
			dbd[c] += float32(sdy)
		}
	})
}
