package darts

import (
	"fmt"
	"strconv"

	"pertnas/formats/genotype"
	"pertnas/nn"
)

// Op indices into genotype.Ops (the PRIMITIVES order without none).
const (
	MaxPool3x3 = iota
	AvgPool3x3
	SkipConnect
	SepConv3x3
	SepConv5x5
	DilConv3x3
	DilConv5x5
	NumOps
)

// op is one module of a cell. madds returns the multiply-adds of its
// convolutions for one image of spatial size h x w, and its output size.
type op interface {
	forward(g *nn.Graph, x *nn.Tensor) *nn.Tensor
	madds(h, w int) (n int64, oh, ow int)
}

// convMAdds is the multiply-adds of c on one h x w image, and its output size.
func convMAdds(c *nn.Conv2D, h, w int) (int64, int, int) {
	oh, ow := c.OutSize(h), c.OutSize(w)
	return int64(c.Cout) * int64(oh*ow) * int64(c.Cin/c.Groups*c.K*c.K), oh, ow
}

// reluConvBN is ReLU, conv k x k, BN: names op.1 (conv) and op.2 (BN).
type reluConvBN struct {
	conv *nn.Conv2D
	bn   *nn.BatchNorm
}

func newReLUConvBN(s *nn.Scope, cin, cout, k, stride, pad int, affine bool) *reluConvBN {
	s = s.Sub("op")
	return &reluConvBN{
		conv: s.Conv2D("1", cin, cout, k, stride, pad, 1, 1),
		bn:   s.BatchNorm("2", cout, affine),
	}
}

func (m *reluConvBN) forward(g *nn.Graph, x *nn.Tensor) *nn.Tensor {
	return m.bn.Forward(g, m.conv.Forward(g, g.ReLU(x)))
}

func (m *reluConvBN) madds(h, w int) (int64, int, int) { return convMAdds(m.conv, h, w) }

// factorizedReduce halves the resolution: ReLU, then the channel concat of
// conv_1 (1x1, stride 2) on x and conv_2 on x shifted by one pixel, then bn.
type factorizedReduce struct {
	conv1, conv2 *nn.Conv2D
	bn           *nn.BatchNorm
}

func newFactorizedReduce(s *nn.Scope, cin, cout int, affine bool) *factorizedReduce {
	return &factorizedReduce{
		conv1: s.Conv2D("conv_1", cin, cout/2, 1, 2, 0, 1, 1),
		conv2: s.Conv2D("conv_2", cin, cout/2, 1, 2, 0, 1, 1),
		bn:    s.BatchNorm("bn", cout, affine),
	}
}

func (m *factorizedReduce) forward(g *nn.Graph, x *nn.Tensor) *nn.Tensor {
	x = g.ReLU(x)
	a := m.conv1.Forward(g, x)
	b := m.conv2.Forward(g, g.Shift(x, 1, 1))
	return m.bn.Forward(g, g.Concat(a, b))
}

func (m *factorizedReduce) madds(h, w int) (int64, int, int) {
	n1, oh, ow := convMAdds(m.conv1, h, w)
	n2, _, _ := convMAdds(m.conv2, h-1, w-1)
	return n1 + n2, oh, ow
}

// sepConv is two stacked (ReLU, depthwise k x k, pointwise 1x1, BN) blocks,
// the first with the stride: names op.{1,2,3,5,6,7}.
type sepConv struct {
	dw1, pw1, dw2, pw2 *nn.Conv2D
	bn1, bn2           *nn.BatchNorm
}

func newSepConv(s *nn.Scope, c, k, stride, pad int, affine bool) *sepConv {
	s = s.Sub("op")
	m := &sepConv{}
	m.dw1 = s.Conv2D("1", c, c, k, stride, pad, 1, c)
	m.pw1 = s.Conv2D("2", c, c, 1, 1, 0, 1, 1)
	m.bn1 = s.BatchNorm("3", c, affine)
	m.dw2 = s.Conv2D("5", c, c, k, 1, pad, 1, c)
	m.pw2 = s.Conv2D("6", c, c, 1, 1, 0, 1, 1)
	m.bn2 = s.BatchNorm("7", c, affine)
	return m
}

func (m *sepConv) forward(g *nn.Graph, x *nn.Tensor) *nn.Tensor {
	x = m.bn1.Forward(g, m.pw1.Forward(g, m.dw1.Forward(g, g.ReLU(x))))
	return m.bn2.Forward(g, m.pw2.Forward(g, m.dw2.Forward(g, g.ReLU(x))))
}

func (m *sepConv) madds(h, w int) (int64, int, int) {
	var total int64
	for _, c := range []*nn.Conv2D{m.dw1, m.pw1, m.dw2, m.pw2} {
		var n int64
		n, h, w = convMAdds(c, h, w)
		total += n
	}
	return total, h, w
}

// dilConv is ReLU, depthwise k x k with dilation 2, pointwise 1x1, BN:
// names op.{1,2,3}.
type dilConv struct {
	dw, pw *nn.Conv2D
	bn     *nn.BatchNorm
}

func newDilConv(s *nn.Scope, c, k, stride, pad int, affine bool) *dilConv {
	s = s.Sub("op")
	return &dilConv{
		dw: s.Conv2D("1", c, c, k, stride, pad, 2, c),
		pw: s.Conv2D("2", c, c, 1, 1, 0, 1, 1),
		bn: s.BatchNorm("3", c, affine),
	}
}

func (m *dilConv) forward(g *nn.Graph, x *nn.Tensor) *nn.Tensor {
	return m.bn.Forward(g, m.pw.Forward(g, m.dw.Forward(g, g.ReLU(x))))
}

func (m *dilConv) madds(h, w int) (int64, int, int) {
	n1, h, w := convMAdds(m.dw, h, w)
	n2, h, w := convMAdds(m.pw, h, w)
	return n1 + n2, h, w
}

// pool is a 3x3 max or average pool (padding 1, not counted in the average),
// followed in search networks by bn (affine=false; nil in evaluation cells).
type pool struct {
	max    bool
	stride int
	bn     *nn.BatchNorm
}

func (m *pool) forward(g *nn.Graph, x *nn.Tensor) *nn.Tensor {
	var y *nn.Tensor
	if m.max {
		y = g.MaxPool(x, 3, m.stride, 1)
	} else {
		y = g.AvgPool(x, 3, m.stride, 1, false)
	}
	if m.bn != nil {
		y = m.bn.Forward(g, y)
	}
	return y
}

func (m *pool) madds(h, w int) (int64, int, int) {
	return 0, (h-1)/m.stride + 1, (w-1)/m.stride + 1
}

// identity is skip_connect with stride 1.
type identity struct{}

func (identity) forward(_ *nn.Graph, x *nn.Tensor) *nn.Tensor { return x }
func (identity) madds(h, w int) (int64, int, int)             { return 0, h, w }

// newOp builds operation o (an index into genotype.Ops) on c channels with
// the given stride under scope s, named as in the DARTS reference. In search
// networks (searchPool) a pooling op is followed by BN(affine=false) named
// "1", the op itself being module "0" of an nn.Sequential.
func newOp(s *nn.Scope, o, c, stride int, affine, searchPool bool) (op, error) {
	switch o {
	case MaxPool3x3, AvgPool3x3:
		m := &pool{max: o == MaxPool3x3, stride: stride}
		if searchPool {
			m.bn = s.BatchNorm("1", c, false)
		}
		return m, nil
	case SkipConnect:
		if stride == 1 {
			return identity{}, nil
		}
		if c%2 != 0 {
			return nil, fmt.Errorf("darts: skip_connect with stride 2 needs an even channel count, have %d", c)
		}
		return newFactorizedReduce(s, c, c, affine), nil
	case SepConv3x3:
		return newSepConv(s, c, 3, stride, 1, affine), nil
	case SepConv5x5:
		return newSepConv(s, c, 5, stride, 2, affine), nil
	case DilConv3x3:
		return newDilConv(s, c, 3, stride, 2, affine), nil
	case DilConv5x5:
		return newDilConv(s, c, 5, stride, 4, affine), nil
	}
	return nil, fmt.Errorf("darts: op index %d outside 0..%d", o, NumOps-1)
}

// opIndex maps an op name to its index, with an error naming it.
func opIndex(name string) (int, error) {
	if o := genotype.OpIndex(name); o >= 0 {
		return o, nil
	}
	return 0, fmt.Errorf("darts: unknown op %q", name)
}

// itoa is strconv.Itoa, short for scope names.
func itoa(i int) string { return strconv.Itoa(i) }
