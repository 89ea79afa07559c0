package darts

import (
	"fmt"
	"math/rand/v2"

	"pertnas/formats/genotype"
	"pertnas/nn"
)

// evalCell is a discrete cell of an evaluation network (model.py's Cell).
type evalCell struct {
	pre0, pre1 op
	ops        []op // one per genotype pair: cells.{k}._ops.{j}
	inputs     []int
	concat     []int
}

func newEvalCell(s *nn.Scope, g genotype.Genotype, p cellPlan) (*evalCell, error) {
	pairs, concat := g.Normal, g.NormalConcat
	if p.reduction {
		pairs, concat = g.Reduce, g.ReduceConcat
	}
	cell := &evalCell{concat: concat}
	cell.pre0, cell.pre1 = newPreprocess(s, p, true)
	ops := s.Sub("_ops")
	for j, pair := range pairs {
		o, err := opIndex(pair.Op)
		if err != nil {
			return nil, err
		}
		stride := 1
		if p.reduction && pair.Input < 2 {
			stride = 2
		}
		m, err := newOp(ops.Sub(itoa(j)), o, p.c, stride, true, false)
		if err != nil {
			return nil, err
		}
		cell.ops = append(cell.ops, m)
		cell.inputs = append(cell.inputs, pair.Input)
	}
	return cell, nil
}

// forward applies the cell; in training, drop path with probability p hits
// the output of every op that is not an identity.
func (c *evalCell) forward(g *nn.Graph, s0, s1 *nn.Tensor, p float32, rng *rand.Rand) *nn.Tensor {
	states := []*nn.Tensor{c.pre0.forward(g, s0), c.pre1.forward(g, s1)}
	for i := 0; i < len(c.ops)/2; i++ {
		var h [2]*nn.Tensor
		for k := range h {
			m := c.ops[2*i+k]
			h[k] = m.forward(g, states[c.inputs[2*i+k]])
			if _, id := m.(identity); !id {
				h[k] = g.DropPath(h[k], p, rng)
			}
		}
		states = append(states, g.Add(h[0], h[1]))
	}
	out := make([]*nn.Tensor, len(c.concat))
	for i, k := range c.concat {
		out[i] = states[k]
	}
	return g.Concat(out...)
}

func (c *evalCell) madds(h0, w0, h1, w1 int) (int64, int, int) {
	n0, h, w := c.pre0.madds(h0, w0)
	n1, _, _ := c.pre1.madds(h1, w1)
	total := n0 + n1
	sizes := [][2]int{{h, w}, {h, w}}
	for i := 0; i < len(c.ops)/2; i++ {
		var oh, ow int
		for k := 2 * i; k < 2*i+2; k++ {
			in := sizes[c.inputs[k]]
			var n int64
			n, oh, ow = c.ops[k].madds(in[0], in[1])
			total += n
		}
		sizes = append(sizes, [2]int{oh, ow})
	}
	last := sizes[len(sizes)-1]
	return total, last[0], last[1]
}

// auxHead is the auxiliary classifier (AuxiliaryHeadCIFAR / ImageNet).
type auxHead struct {
	stride       int
	conv1, conv2 *nn.Conv2D
	bn1, bn2     *nn.BatchNorm // bn2 nil in the ImageNet head
	classifier   *nn.Linear
}

func newAuxHead(s *nn.Scope, c, classes int, imagenet bool) *auxHead {
	f := s.Sub("features")
	h := &auxHead{stride: 3}
	if imagenet {
		h.stride = 2
	}
	h.conv1 = f.Conv2D("2", c, 128, 1, 1, 0, 1, 1)
	h.bn1 = f.BatchNorm("3", 128, true)
	h.conv2 = f.Conv2D("5", 128, 768, 2, 1, 0, 1, 1)
	if !imagenet {
		h.bn2 = f.BatchNorm("6", 768, true)
	}
	h.classifier = s.Linear("classifier", 768, classes)
	return h
}

func (h *auxHead) forward(g *nn.Graph, x *nn.Tensor) *nn.Tensor {
	x = g.AvgPool(g.ReLU(x), 5, h.stride, 0, false)
	x = g.ReLU(h.bn1.Forward(g, h.conv1.Forward(g, x)))
	x = h.conv2.Forward(g, x)
	if h.bn2 != nil {
		x = h.bn2.Forward(g, x)
	}
	return h.classifier.Forward(g, g.Flatten(g.ReLU(x)))
}

// EvalOptions sizes an evaluation network.
type EvalOptions struct {
	C         int  // initial channels (36 CIFAR, 48 ImageNet)
	Layers    int  // cells (20 CIFAR, 14 ImageNet)
	Classes   int  // output classes
	Auxiliary bool // build the auxiliary head on the output of cell 2*Layers/3
}

// CIFAROptions returns the CIFAR evaluation setting of docs/spec/darts.md:
// C 36, 20 cells, auxiliary head, the given number of classes.
func CIFAROptions(classes int) EvalOptions {
	return EvalOptions{C: 36, Layers: 20, Classes: classes, Auxiliary: true}
}

// ImageNetOptions returns the ImageNet mobile setting: C 48, 14 cells,
// auxiliary head, the given number of classes.
func ImageNetOptions(classes int) EvalOptions {
	return EvalOptions{C: 48, Layers: 14, Classes: classes, Auxiliary: true}
}

// EvalNetwork is a DARTS evaluation network: NetworkCIFAR or
// NetworkImageNet of the reference code, with its tensor names.
type EvalNetwork struct {
	// DropPathProb is the drop-path probability applied in training to
	// every non-identity op output (set it per epoch).
	DropPathProb float32

	scope    *nn.Scope
	opt      EvalOptions
	imagenet bool
	geno     genotype.Genotype

	stem       []stemLayer // CIFAR: stem; ImageNet: stem0 then stem1
	stem1At    int         // ImageNet: index in stem where stem1 starts
	cells      []*evalCell
	aux        *auxHead
	classifier *nn.Linear
}

// stemLayer is one step of a stem: a ReLU, a convolution or a BN.
type stemLayer struct {
	relu bool
	conv *nn.Conv2D
	bn   *nn.BatchNorm
}

func (l stemLayer) forward(g *nn.Graph, x *nn.Tensor) *nn.Tensor {
	switch {
	case l.relu:
		return g.ReLU(x)
	case l.conv != nil:
		return l.conv.Forward(g, x)
	}
	return l.bn.Forward(g, x)
}

// NewCIFARNetwork builds NetworkCIFAR for geno on backend b, initialising
// the weights from rng like PyTorch's defaults. Stem: conv3x3 (3 -> 3C) + BN.
func NewCIFARNetwork(b nn.Backend, geno genotype.Genotype, opt EvalOptions, rng *rand.Rand) (*EvalNetwork, error) {
	return newEvalNetwork(b, geno, opt, rng, false)
}

// NewImageNetNetwork builds NetworkImageNet (mobile setting) for geno:
// stem0 = conv3x3 s2 (3 -> C/2), BN, ReLU, conv3x3 s2 (C/2 -> C), BN;
// stem1 = ReLU, conv3x3 s2, BN; the first cell treats its predecessor as a
// reduction; the auxiliary head pools with stride 2 and has no BN after its
// 768-channel convolution. Input 224x224; the global pool averages the
// final 7x7 map.
func NewImageNetNetwork(b nn.Backend, geno genotype.Genotype, opt EvalOptions, rng *rand.Rand) (*EvalNetwork, error) {
	return newEvalNetwork(b, geno, opt, rng, true)
}

func newEvalNetwork(b nn.Backend, geno genotype.Genotype, opt EvalOptions, rng *rand.Rand, imagenet bool) (*EvalNetwork, error) {
	if err := geno.Validate(); err != nil {
		return nil, fmt.Errorf("darts: %w", err)
	}
	if err := checkSizes(opt.C, opt.Layers, opt.Classes); err != nil {
		return nil, err
	}
	s := nn.NewScope(b, rng)
	n := &EvalNetwork{scope: s, opt: opt, imagenet: imagenet, geno: genotype.Combine(geno, geno)}
	var plans []cellPlan
	var cOut, cAux int
	if imagenet {
		c := opt.C
		s0 := s.Sub("stem0")
		n.stem = []stemLayer{
			{conv: s0.Conv2D("0", 3, c/2, 3, 2, 1, 1, 1)},
			{bn: s0.BatchNorm("1", c/2, true)},
			{relu: true},
			{conv: s0.Conv2D("3", c/2, c, 3, 2, 1, 1, 1)},
			{bn: s0.BatchNorm("4", c, true)},
		}
		n.stem1At = len(n.stem)
		s1 := s.Sub("stem1")
		n.stem = append(n.stem,
			stemLayer{relu: true},
			stemLayer{conv: s1.Conv2D("1", c, c, 3, 2, 1, 1, 1)},
			stemLayer{bn: s1.BatchNorm("2", c, true)})
		plans, cOut, cAux = planCells(opt.Layers, c, c, true)
	} else {
		st := s.Sub("stem")
		n.stem = []stemLayer{
			{conv: st.Conv2D("0", 3, 3*opt.C, 3, 1, 1, 1, 1)},
			{bn: st.BatchNorm("1", 3*opt.C, true)},
		}
		n.stem1At = len(n.stem)
		plans, cOut, cAux = planCells(opt.Layers, opt.C, 3*opt.C, false)
	}
	cells := s.Sub("cells")
	for k, p := range plans {
		cell, err := newEvalCell(cells.Sub(itoa(k)), geno, p)
		if err != nil {
			return nil, err
		}
		n.cells = append(n.cells, cell)
	}
	if opt.Auxiliary {
		n.aux = newAuxHead(s.Sub("auxiliary_head"), cAux, opt.Classes, imagenet)
	}
	n.classifier = s.Linear("classifier", cOut, opt.Classes)
	return n, nil
}

// Scope returns the registry of the network's parameters and BN layers
// (its state_dict).
func (n *EvalNetwork) Scope() *nn.Scope { return n.scope }

// Params returns every parameter, the auxiliary head's included (train them all).
func (n *EvalNetwork) Params() []*nn.Param { return n.scope.Params() }

// Options returns the sizes the network was built with.
func (n *EvalNetwork) Options() EvalOptions { return n.opt }

// Genotype returns the cell the network was built from.
func (n *EvalNetwork) Genotype() genotype.Genotype { return genotype.Combine(n.geno, n.geno) }

// NumParams returns the number of parameters without the auxiliary head, as
// DARTS reports it (utils.count_parameters_in_MB).
func (n *EvalNetwork) NumParams() int { return countParams(n.scope.Params(), "auxiliary_head.") }

// Forward returns the logits [N, classes] for images x [N, 3, H, W] and, in
// training with an auxiliary head, the auxiliary logits (else nil). rng draws
// the drop-path masks; it may be nil when DropPathProb is 0 or g is not
// training. g.Training selects batch or running BN statistics.
func (n *EvalNetwork) Forward(g *nn.Graph, x *nn.Tensor, rng *rand.Rand) (logits, aux *nn.Tensor) {
	div := 4
	if n.imagenet {
		div = 32
	}
	checkInput("evaluation network", x, div)
	for _, l := range n.stem[:n.stem1At] {
		x = l.forward(g, x)
	}
	s0, s1 := x, x
	if n.imagenet {
		for _, l := range n.stem[n.stem1At:] {
			s1 = l.forward(g, s1)
		}
	}
	p := n.DropPathProb
	if !g.Training {
		p = 0
	}
	for k, cell := range n.cells {
		s0, s1 = s1, cell.forward(g, s0, s1, p, rng)
		if k == 2*n.opt.Layers/3 && n.aux != nil && g.Training {
			aux = n.aux.forward(g, s1)
			// The reference head's first ReLU is in place: it rectifies s1
			// for the rest of the network too. Later cells start with a
			// ReLU anyway, but when this is the last cell (Layers <= 3)
			// the global pool sees the rectified map.
			s1 = g.ReLU(s1)
		}
	}
	return n.classifier.Forward(g, g.GlobalAvgPool(s1)), aux
}

// MultAdds returns the multiply-adds of the convolutions and the classifier
// for one h x w image at inference (no auxiliary head): the FLOPs figure of
// DARTS-family papers (528M for DARTS_V2 on CIFAR).
func (n *EvalNetwork) MultAdds(h, w int) int64 {
	var total int64
	h0, w0 := h, w
	for i, l := range n.stem {
		if l.conv != nil {
			var m int64
			m, h, w = convMAdds(l.conv, h, w)
			total += m
		}
		if i == n.stem1At-1 {
			h0, w0 = h, w
		}
	}
	h1, w1 := h, w
	for _, cell := range n.cells {
		m, oh, ow := cell.madds(h0, w0, h1, w1)
		total += m
		h0, w0, h1, w1 = h1, w1, oh, ow
	}
	return total + int64(n.classifier.In*n.classifier.Out)
}
