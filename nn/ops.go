package nn

import (
	"fmt"
	"math/rand/v2"
)

func check4(op string, x *Tensor) {
	if x.nd != 4 {
		panic(fmt.Sprintf("nn: %s: input shape %v, want NCHW", op, x.Shape()))
	}
}

// ReLU returns max(x, 0) elementwise. Calling it again on the same graph
// tensor returns the same result (computed once; in a DARTS cell every
// edge leaving a state starts with ReLU of that state).
func (g *Graph) ReLU(x *Tensor) *Tensor {
	if x.graph == g && x.relu != nil {
		return x.relu
	}
	y := g.tensorLike(x)
	g.b.ReLU(x.buf, y.buf)
	g.record(opReLU, y, x)
	if x.graph == g {
		x.relu = y
	}
	return y
}

func (g *Graph) poolDesc(op string, x *Tensor, k, stride, pad int) PoolDesc {
	check4(op, x)
	d := PoolDesc{N: x.shape[0], C: x.shape[1], H: x.shape[2], W: x.shape[3], K: k, Stride: stride, Pad: pad}
	d.OH = (d.H+2*pad-k)/stride + 1
	d.OW = (d.W+2*pad-k)/stride + 1
	if d.OH <= 0 || d.OW <= 0 || stride <= 0 || 2*pad > k {
		panic(fmt.Sprintf("nn: %s k=%d stride=%d pad=%d on %v", op, k, stride, pad, x.Shape()))
	}
	return d
}

// MaxPool is max pooling with a k×k window (padding never wins).
func (g *Graph) MaxPool(x *Tensor, k, stride, pad int) *Tensor {
	d := g.poolDesc("MaxPool", x, k, stride, pad)
	y := g.tensor(d.N, d.C, d.OH, d.OW)
	g.b.MaxPool(d, x.buf, y.buf)
	if nd := g.record(opMaxPool, y, x); nd != nil {
		nd.pool = d
	}
	return y
}

// AvgPool is average pooling with a k×k window; with countIncludePad false
// the divisor is the number of window elements inside the image.
func (g *Graph) AvgPool(x *Tensor, k, stride, pad int, countIncludePad bool) *Tensor {
	d := g.poolDesc("AvgPool", x, k, stride, pad)
	y := g.tensor(d.N, d.C, d.OH, d.OW)
	g.b.AvgPool(d, countIncludePad, x.buf, y.buf)
	if nd := g.record(opAvgPool, y, x); nd != nil {
		nd.pool = d
		nd.flag = countIncludePad
	}
	return y
}

// GlobalAvgPool averages each channel: [N, C, H, W] -> [N, C].
func (g *Graph) GlobalAvgPool(x *Tensor) *Tensor {
	check4("GlobalAvgPool", x)
	n, c, hw := x.shape[0], x.shape[1], x.shape[2]*x.shape[3]
	y := g.tensor(n, c)
	g.b.GlobalAvgPool(n, c, hw, x.buf, y.buf)
	if nd := g.record(opGAP, y, x); nd != nil {
		nd.i = [4]int{n, c, hw}
	}
	return y
}

// Concat joins NCHW tensors of equal N, H, W along channels.
func (g *Graph) Concat(xs ...*Tensor) *Tensor {
	if len(xs) == 0 {
		panic("nn: Concat of nothing")
	}
	x0 := xs[0]
	check4("Concat", x0)
	c := 0
	for _, x := range xs {
		check4("Concat", x)
		if x.shape[0] != x0.shape[0] || x.shape[2] != x0.shape[2] || x.shape[3] != x0.shape[3] {
			panic(fmt.Sprintf("nn: Concat of %v and %v", x0.Shape(), x.Shape()))
		}
		c += x.shape[1]
	}
	y := g.tensor(x0.shape[0], c, x0.shape[2], x0.shape[3])
	g.parts, g.partC = g.parts[:0], g.partC[:0]
	for _, x := range xs {
		g.parts = append(g.parts, x.buf)
		g.partC = append(g.partC, x.shape[1])
	}
	g.b.Concat(x0.shape[0], x0.shape[2]*x0.shape[3], g.parts, g.partC, y.buf)
	g.record(opConcat, y, xs...)
	return y
}

// SliceChannels returns channels [c0, c1) of x.
func (g *Graph) SliceChannels(x *Tensor, c0, c1 int) *Tensor {
	check4("SliceChannels", x)
	if c0 < 0 || c1 > x.shape[1] || c0 >= c1 {
		panic(fmt.Sprintf("nn: SliceChannels [%d,%d) of %v", c0, c1, x.Shape()))
	}
	n, hw := x.shape[0], x.shape[2]*x.shape[3]
	y := g.tensor(n, c1-c0, x.shape[2], x.shape[3])
	g.b.CopyChannels(n, hw, x.buf, x.shape[1], c0, y.buf, c1-c0, 0, c1-c0, false)
	if nd := g.record(opSlice, y, x); nd != nil {
		nd.i = [4]int{c0, c1}
	}
	return y
}

// Shift returns x[:, :, dy:, dx:] (FactorizedReduce's second path).
func (g *Graph) Shift(x *Tensor, dy, dx int) *Tensor {
	check4("Shift", x)
	n, c, h, w := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	if dy < 0 || dx < 0 || dy >= h || dx >= w {
		panic(fmt.Sprintf("nn: Shift by %d,%d of %v", dy, dx, x.Shape()))
	}
	y := g.tensor(n, c, h-dy, w-dx)
	g.b.Shift(n, c, h, w, dy, dx, x.buf, y.buf)
	if nd := g.record(opShift, y, x); nd != nil {
		nd.i = [4]int{dy, dx}
	}
	return y
}

// Add returns the elementwise sum of one or more tensors of equal shape.
func (g *Graph) Add(xs ...*Tensor) *Tensor {
	if len(xs) == 0 {
		panic("nn: Add of nothing")
	}
	for _, x := range xs[1:] {
		if !sameShape(x, xs[0]) {
			panic(fmt.Sprintf("nn: Add of %v and %v", xs[0].Shape(), x.Shape()))
		}
	}
	y := g.tensorLike(xs[0])
	for i, x := range xs {
		g.addInto(y, 1, x, i > 0)
	}
	g.record(opAdd, y, xs...)
	return y
}

// addInto sets y = alpha*x (Copy when alpha is 1), or adds alpha*x when
// accumulate.
func (g *Graph) addInto(y *Tensor, alpha float32, x *Tensor, accumulate bool) {
	switch {
	case accumulate:
		g.b.Axpy(y.buf, alpha, x.buf)
	case alpha == 1:
		g.b.Copy(y.buf, x.buf)
	default:
		g.b.Scale(y.buf, alpha, x.buf)
	}
}

// Scale returns s*x.
func (g *Graph) Scale(x *Tensor, s float32) *Tensor {
	y := g.tensorLike(x)
	g.b.Scale(y.buf, s, x.buf)
	if nd := g.record(opScale, y, x); nd != nil {
		nd.alpha = s
	}
	return y
}

// MaskedSum returns sum_i mask[i]*xs[i]. Terms whose mask is 0 are skipped
// entirely (neither computed into the sum nor given a gradient); if every
// mask is 0 the result is zeros shaped like xs[0].
func (g *Graph) MaskedSum(xs []*Tensor, mask []float32) *Tensor {
	if len(xs) == 0 || len(xs) != len(mask) {
		panic(fmt.Sprintf("nn: MaskedSum of %d tensors with %d mask values", len(xs), len(mask)))
	}
	y := g.tensorLike(xs[0])
	first := true
	for i, x := range xs {
		if mask[i] == 0 {
			continue
		}
		if !sameShape(x, xs[0]) {
			panic(fmt.Sprintf("nn: MaskedSum of %v and %v", xs[0].Shape(), x.Shape()))
		}
		g.addInto(y, mask[i], x, !first)
		first = false
	}
	if first {
		g.b.Fill(y.buf, 0)
		return y
	}
	nd := g.record(opMaskedSum, y)
	if !g.NoGrad {
		for i, x := range xs {
			if mask[i] != 0 && x.needGrad {
				if nd == nil {
					nd = g.recordIf(true, opMaskedSum, y)
				}
				nd.in = append(nd.in, x)
				nd.f = append(nd.f, mask[i])
			}
		}
	}
	return y
}

// DropPath zeroes each sample of x with probability p and divides the kept
// ones by 1-p (one rng draw per sample, in order: kept when
// rng.Float32() < 1-p). Identity when !g.Training or p == 0.
func (g *Graph) DropPath(x *Tensor, p float32, rng *rand.Rand) *Tensor {
	if !g.Training || p == 0 {
		return x
	}
	n := x.shape[0]
	keep := 1 - p
	s := g.scratch[:0]
	for i := 0; i < n; i++ {
		if rng.Float32() < keep {
			s = append(s, 1/keep)
		} else {
			s = append(s, 0)
		}
	}
	g.scratch = s
	y := g.tensorLike(x)
	g.b.ScaleSamples(n, x.n/n, s, x.buf, y.buf, false)
	if nd := g.record(opScaleSamples, y, x); nd != nil {
		nd.f = append(nd.f, s...)
	}
	return y
}

// Flatten reshapes [N, ...] to [N, rest].
func (g *Graph) Flatten(x *Tensor) *Tensor {
	n := x.shape[0]
	y := g.view(x, n, x.n/n)
	g.record(opFlatten, y, x)
	return y
}

// CrossEntropy returns the mean over the batch of the softmax cross-entropy
// of logits [N, classes] against labels, with PyTorch's label smoothing
// (target = (1-smoothing)*onehot + smoothing/classes). The result is a scalar.
func (g *Graph) CrossEntropy(logits *Tensor, labels []int32, smoothing float32) *Tensor {
	if logits.nd != 2 || len(labels) != logits.shape[0] {
		panic(fmt.Sprintf("nn: CrossEntropy of %v with %d labels", logits.Shape(), len(labels)))
	}
	n, k := logits.shape[0], logits.shape[1]
	for i, l := range labels {
		if l < 0 || int(l) >= k {
			panic(fmt.Sprintf("nn: CrossEntropy: label %d of sample %d outside [0,%d)", l, i, k))
		}
	}
	probs := g.tensor(n, k)
	loss := g.tensor()
	g.b.SoftmaxCrossEntropy(n, k, logits.buf, labels, smoothing, probs.buf, loss.buf)
	if nd := g.record(opCE, loss, logits); nd != nil {
		nd.aux[0] = probs
		nd.lab = append(nd.lab[:0], labels...)
		nd.alpha = smoothing
	}
	return loss
}
