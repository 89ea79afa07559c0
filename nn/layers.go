package nn

import "fmt"

// Conv2D is a bias-free 2-D convolution with a square kernel.
type Conv2D struct {
	W                                           *Param // [Cout, Cin/Groups, K, K] (OIHW)
	Cin, Cout, K, Stride, Pad, Dilation, Groups int
}

// OutSize returns the output height for input height h (and likewise width).
func (c *Conv2D) OutSize(h int) int { return (h+2*c.Pad-c.Dilation*(c.K-1)-1)/c.Stride + 1 }

// Forward convolves x [N, Cin, H, W] to [N, Cout, OH, OW].
func (c *Conv2D) Forward(g *Graph, x *Tensor) *Tensor {
	if x.nd != 4 || x.shape[1] != c.Cin {
		panic(fmt.Sprintf("nn: conv %s: input shape %v, want [N %d H W]", c.W.Name, x.Shape(), c.Cin))
	}
	d := c.desc(x)
	if d.OH <= 0 || d.OW <= 0 {
		panic(fmt.Sprintf("nn: conv %s: input %v too small", c.W.Name, x.Shape()))
	}
	y := g.tensor(d.N, d.OC, d.OH, d.OW)
	g.b.Conv2DForward(d, x.buf, c.W.Value.buf, y.buf)
	if nd := g.recordIf(true, opConv, y, x); nd != nil {
		nd.conv = c
	}
	return y
}

func (c *Conv2D) desc(x *Tensor) ConvDesc {
	return ConvDesc{N: x.shape[0], C: c.Cin, H: x.shape[2], W: x.shape[3],
		OC: c.Cout, OH: c.OutSize(x.shape[2]), OW: c.OutSize(x.shape[3]),
		K: c.K, Stride: c.Stride, Pad: c.Pad, Dilation: c.Dilation, Groups: c.Groups}
}

// BatchNorm normalises each channel. Weight and Bias are nil when not affine.
type BatchNorm struct {
	Name              string // module name, e.g. "stem.1"
	Weight, Bias      *Param
	RunningMean       *Tensor // [C]
	RunningVar        *Tensor // [C]
	NumBatchesTracked int64
	C                 int
	Eps, Momentum     float32
}

func (bn *BatchNorm) desc(x *Tensor) BNDesc {
	if (x.nd != 4 && x.nd != 2) || x.shape[1] != bn.C {
		panic(fmt.Sprintf("nn: batch norm %s: input shape %v, want [N %d ...]", bn.Name, x.Shape(), bn.C))
	}
	hw := 1
	if x.nd == 4 {
		hw = x.shape[2] * x.shape[3]
	}
	return BNDesc{N: x.shape[0], C: bn.C, HW: hw, Eps: bn.Eps, Momentum: bn.Momentum}
}

func optBuf(p *Param) Buffer {
	if p == nil {
		return nil
	}
	return p.Value.buf
}

// Forward normalises x ([N, C, H, W] or [N, C]). In training it uses the
// batch statistics (biased variance) and updates the running statistics
// (unbiased variance) and NumBatchesTracked; otherwise it uses the running
// statistics.
func (bn *BatchNorm) Forward(g *Graph, x *Tensor) *Tensor {
	d := bn.desc(x)
	y := g.tensorLike(x)
	if g.Training {
		mean, inv := g.statTensor(bn.C), g.statTensor(bn.C)
		g.b.BatchNormTrain(d, x.buf, optBuf(bn.Weight), optBuf(bn.Bias), bn.RunningMean.buf, bn.RunningVar.buf, y.buf, mean.buf, inv.buf)
		bn.NumBatchesTracked++
		if nd := g.recordIf(bn.Weight != nil, opBNTrain, y, x); nd != nil {
			nd.bn = bn
			nd.aux = [2]*Tensor{mean, inv}
		}
		return y
	}
	g.b.BatchNormInfer(d, x.buf, optBuf(bn.Weight), optBuf(bn.Bias), bn.RunningMean.buf, bn.RunningVar.buf, y.buf)
	if nd := g.recordIf(bn.Weight != nil, opBNInfer, y, x); nd != nil {
		nd.bn = bn
	}
	return y
}

// Linear is a fully connected layer y = x·Wᵀ + b.
type Linear struct {
	W, B    *Param // W [Out, In], B [Out]
	In, Out int
}

// Forward maps x [N, In] to [N, Out].
func (l *Linear) Forward(g *Graph, x *Tensor) *Tensor {
	if x.nd != 2 || x.shape[1] != l.In {
		panic(fmt.Sprintf("nn: linear %s: input shape %v, want [N %d]", l.W.Name, x.Shape(), l.In))
	}
	n := x.shape[0]
	y := g.tensor(n, l.Out)
	g.b.MatMul(false, true, n, l.Out, l.In, x.buf, l.W.Value.buf, false, y.buf)
	g.b.AddRowBias(n, l.Out, l.B.Value.buf, y.buf)
	if nd := g.recordIf(true, opLinear, y, x); nd != nil {
		nd.lin = l
	}
	return y
}
