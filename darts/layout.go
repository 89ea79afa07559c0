package darts

import (
	"fmt"
	"strings"

	"pertnas/nn"
)

// cellPlan is one cell's place in a network: channel counts and whether it
// (and its predecessor) reduce the resolution.
type cellPlan struct {
	cPrevPrev, cPrev, c      int
	reduction, reductionPrev bool
}

// planCells lays out layers cells as NetworkCIFAR does: cells layers/3 and
// 2*layers/3 reduce and double the channels; every cell outputs 4c channels.
// It returns the plans, the channels of the last cell's output, and those of
// the output of cell 2*layers/3 (the auxiliary head's input).
func planCells(layers, c, cStem int, reductionPrev bool) (plans []cellPlan, cOut, cAux int) {
	cpp, cp := cStem, cStem
	for i := 0; i < layers; i++ {
		reduction := i == layers/3 || i == 2*layers/3
		if reduction {
			c *= 2
		}
		plans = append(plans, cellPlan{cPrevPrev: cpp, cPrev: cp, c: c, reduction: reduction, reductionPrev: reductionPrev})
		reductionPrev = reduction
		cpp, cp = cp, 4*c
		if i == 2*layers/3 {
			cAux = cp
		}
	}
	return plans, cp, cAux
}

// newPreprocess builds preprocess0 and preprocess1 of a cell.
func newPreprocess(s *nn.Scope, p cellPlan, affine bool) (pre0, pre1 op) {
	if p.reductionPrev {
		pre0 = newFactorizedReduce(s.Sub("preprocess0"), p.cPrevPrev, p.c, affine)
	} else {
		pre0 = newReLUConvBN(s.Sub("preprocess0"), p.cPrevPrev, p.c, 1, 1, 0, affine)
	}
	pre1 = newReLUConvBN(s.Sub("preprocess1"), p.cPrev, p.c, 1, 1, 0, affine)
	return pre0, pre1
}

// checkSizes validates the common network sizes.
func checkSizes(c, layers, classes int) error {
	switch {
	case c < 2 || c%2 != 0:
		return fmt.Errorf("darts: init channels %d: want an even number >= 2", c)
	case layers < 1:
		return fmt.Errorf("darts: %d layers: want at least 1", layers)
	case classes < 1:
		return fmt.Errorf("darts: %d classes: want at least 1", classes)
	}
	return nil
}

// countParams sums the sizes of params whose names do not start with skip
// (empty: count all).
func countParams(params []*nn.Param, skip string) int {
	n := 0
	for _, p := range params {
		if skip == "" || !strings.HasPrefix(p.Name, skip) {
			n += p.Value.Numel()
		}
	}
	return n
}

// checkInput panics with a clear message when x is not an NCHW batch of
// 3-channel images whose size every reduction of the network can halve:
// divisible by div.
func checkInput(net string, x *nn.Tensor, div int) {
	sh := x.Shape()
	if len(sh) != 4 || sh[1] != 3 || sh[2]%div != 0 || sh[3]%div != 0 || sh[2] == 0 || sh[3] == 0 {
		panic(fmt.Sprintf("darts: %s: input shape %v, want [N 3 H W] with H and W multiples of %d", net, sh, div))
	}
}
