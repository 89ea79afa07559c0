package darts

import (
	"fmt"
	"math/rand/v2"

	"pertnas/formats/genotype"
	"pertnas/nn"
)

// SearchOptions sizes a search network; zero fields take the PertNAS
// defaults (C 16, 5 cells, 10 classes).
type SearchOptions struct {
	C, Layers, Classes int
}

func (o SearchOptions) withDefaults() SearchOptions {
	if o.C == 0 {
		o.C = 16
	}
	if o.Layers == 0 {
		o.Layers = 5
	}
	if o.Classes == 0 {
		o.Classes = 10
	}
	return o
}

// searchEdge holds an edge's candidate op modules, ops ascending.
type searchEdge struct {
	idx []int // op indices
	ops []op
}

// searchCell is a cell of the search network (model_search.py's Cell with
// the edge candidate sets of a SearchConfig; BN affine=false).
type searchCell struct {
	pre0, pre1 op
	reduction  bool
	c          int
	edges      [genotype.Edges]searchEdge
}

func newSearchCell(s *nn.Scope, cfg SearchConfig, p cellPlan) (*searchCell, error) {
	cell := &searchCell{reduction: p.reduction, c: p.c}
	cell.pre0, cell.pre1 = newPreprocess(s, p, false)
	edges := s.Sub("_ops")
	for node := 0; node < genotype.Nodes; node++ {
		for in := 0; in < node+2; in++ {
			e := genotype.EdgeIndex(node, in)
			stride := 1
			if p.reduction && in < 2 {
				stride = 2
			}
			mixed := edges.Sub(itoa(e)).Sub("_ops")
			for _, o := range cfg.Edges[e].Ops.List() {
				// Named by the DARTS PRIMITIVES index, where none is 0.
				m, err := newOp(mixed.Sub(itoa(o+1)), o, p.c, stride, false, true)
				if err != nil {
					return nil, err
				}
				cell.edges[e].idx = append(cell.edges[e].idx, o)
				cell.edges[e].ops = append(cell.edges[e].ops, m)
			}
		}
	}
	return cell, nil
}

// forward sums, for every node, the outputs of the unmasked ops of its
// incoming edges. Masked ops are not computed at all (their BN statistics
// stay as they are; PyTorch's mask multiply would still update them). A
// node without any unmasked op is zeros (none's output).
func (c *searchCell) forward(g *nn.Graph, s0, s1 *nn.Tensor, mask *[genotype.Edges][NumOps]bool) *nn.Tensor {
	states := []*nn.Tensor{c.pre0.forward(g, s0), c.pre1.forward(g, s1)}
	var terms []*nn.Tensor
	for node := 0; node < genotype.Nodes; node++ {
		terms = terms[:0]
		for in, x := range states {
			e := genotype.EdgeIndex(node, in)
			for k, o := range c.edges[e].idx {
				if mask[e][o] {
					terms = append(terms, c.edges[e].ops[k].forward(g, x))
				}
			}
		}
		switch len(terms) {
		case 0:
			sh := states[1].Shape()
			h, w := sh[2], sh[3]
			if c.reduction {
				h, w = (h-1)/2+1, (w-1)/2+1
			}
			states = append(states, g.Zeros(sh[0], c.c, h, w))
		case 1:
			states = append(states, terms[0])
		default:
			states = append(states, g.Add(terms...))
		}
	}
	return g.Concat(states[2:]...)
}

func (c *searchCell) madds(h0, w0, h1, w1 int) (int64, int, int) {
	n0, h, w := c.pre0.madds(h0, w0)
	n1, _, _ := c.pre1.madds(h1, w1)
	total := n0 + n1
	oh, ow := h, w
	if c.reduction {
		oh, ow = (h-1)/2+1, (w-1)/2+1
	}
	for node := 0; node < genotype.Nodes; node++ {
		for in := 0; in < node+2; in++ {
			ih, iw := h, w
			if in >= 2 {
				ih, iw = oh, ow
			}
			for _, m := range c.edges[genotype.EdgeIndex(node, in)].ops {
				n, _, _ := m.madds(ih, iw)
				total += n
			}
		}
	}
	return total, oh, ow
}

// SearchNetwork is the PertNAS search network: the CIFAR network layout with
// ONE search cell configuration used by every cell (reduction cells apply it
// with stride 2 on the edges from states 0 and 1), BN affine=false in the
// cells. Tensor names follow DARTS's model_search.Network:
// cells.{k}._ops.{edge}._ops.{p}.… with p the PRIMITIVES index counting none
// as 0 (op index + 1); a pooling op's BN is cells.{k}._ops.{e}._ops.{p}.1.
//
// Each (edge, op) has a 0/1 mask shared by all cells, initially 1, that
// SetMask changes without rebuilding the network. An edge's output is the
// sum of its unmasked ops; none adds zeros and so changes nothing numerically.
type SearchNetwork struct {
	scope *nn.Scope
	cfg   SearchConfig
	opt   SearchOptions

	mask       [genotype.Edges][NumOps]bool
	stemConv   *nn.Conv2D
	stemBN     *nn.BatchNorm
	cells      []*searchCell
	classifier *nn.Linear
}

// NewSearchNetwork builds a fresh search network for cfg on backend b, its
// weights drawn from rng like PyTorch's defaults.
func NewSearchNetwork(b nn.Backend, cfg SearchConfig, opt SearchOptions, rng *rand.Rand) (*SearchNetwork, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	opt = opt.withDefaults()
	if err := checkSizes(opt.C, opt.Layers, opt.Classes); err != nil {
		return nil, err
	}
	s := nn.NewScope(b, rng)
	n := &SearchNetwork{scope: s, cfg: cfg, opt: opt}
	n.ResetMasks()
	st := s.Sub("stem")
	n.stemConv = st.Conv2D("0", 3, 3*opt.C, 3, 1, 1, 1, 1)
	n.stemBN = st.BatchNorm("1", 3*opt.C, true)
	plans, cOut, _ := planCells(opt.Layers, opt.C, 3*opt.C, false)
	cells := s.Sub("cells")
	for k, p := range plans {
		cell, err := newSearchCell(cells.Sub(itoa(k)), n.cfg, p)
		if err != nil {
			return nil, err
		}
		n.cells = append(n.cells, cell)
	}
	n.classifier = s.Linear("classifier", cOut, opt.Classes)
	return n, nil
}

// Scope returns the registry of the network's parameters and BN layers.
func (n *SearchNetwork) Scope() *nn.Scope { return n.scope }

// Params returns every parameter in creation order.
func (n *SearchNetwork) Params() []*nn.Param { return n.scope.Params() }

// NumParams returns the number of parameters.
func (n *SearchNetwork) NumParams() int { return countParams(n.scope.Params(), "") }

// Config returns the configuration the network was built for.
func (n *SearchNetwork) Config() SearchConfig { return n.cfg }

// Options returns the sizes the network was built with (defaults filled in).
func (n *SearchNetwork) Options() SearchOptions { return n.opt }

// ResetMasks sets every mask to 1.
func (n *SearchNetwork) ResetMasks() {
	for e := range n.mask {
		for o := range n.mask[e] {
			n.mask[e][o] = true
		}
	}
}

// SetMask sets the mask of op (an index into genotype.Ops) on edge in every
// cell: on = 1, off = 0. The op must be a candidate of the edge.
func (n *SearchNetwork) SetMask(edge, op int, on bool) error {
	if edge < 0 || edge >= genotype.Edges || op < 0 || op >= NumOps {
		return fmt.Errorf("darts: mask (edge %d, op %d) outside 0..%d, 0..%d", edge, op, genotype.Edges-1, NumOps-1)
	}
	if n.cfg.Edges[edge].Ops.Has(op) {
		n.mask[edge][op] = on
		return nil
	}
	return fmt.Errorf("darts: op %s is not a candidate of edge %d", genotype.Ops[op], edge)
}

// Mask reports whether op on edge is unmasked (mask 1).
func (n *SearchNetwork) Mask(edge, op int) bool { return n.mask[edge][op] }

// Forward returns the logits [N, classes] for images x [N, 3, H, W].
// g.Training selects batch or running BN statistics.
func (n *SearchNetwork) Forward(g *nn.Graph, x *nn.Tensor) *nn.Tensor {
	checkInput("search network", x, 4)
	s1 := n.stemBN.Forward(g, n.stemConv.Forward(g, x))
	s0 := s1
	for _, cell := range n.cells {
		s0, s1 = s1, cell.forward(g, s0, s1, &n.mask)
	}
	return n.classifier.Forward(g, g.GlobalAvgPool(s1))
}

// MultAdds returns the multiply-adds of every candidate op's convolutions
// and the classifier for one h x w image (masks ignored).
func (n *SearchNetwork) MultAdds(h, w int) int64 {
	total, h, w := convMAdds(n.stemConv, h, w)
	h0, w0, h1, w1 := h, w, h, w
	for _, cell := range n.cells {
		m, oh, ow := cell.madds(h0, w0, h1, w1)
		total += m
		h0, w0, h1, w1 = h1, w1, oh, ow
	}
	return total + int64(n.classifier.In*n.classifier.Out)
}
