package genotype

import (
	"fmt"
	"slices"
	"strings"
)

// Concat is the only output concatenation the DARTS space allows: the four
// intermediate nodes.
var Concat = []int{2, 3, 4, 5}

// Validate reports the first problem of g, naming the cell ("normal" or
// "reduce"), the pair and the node: a pair count other than 8, an op that is
// not one of Ops (none included: it exists only inside the search), an input
// index outside 0..node+1, a node that reads the same input twice, or a
// concat list other than [2, 3, 4, 5].
func (g Genotype) Validate() error {
	if err := validateCell("normal", g.Normal); err != nil {
		return err
	}
	if err := validateConcat("normal_concat", g.NormalConcat); err != nil {
		return err
	}
	if err := validateCell("reduce", g.Reduce); err != nil {
		return err
	}
	return validateConcat("reduce_concat", g.ReduceConcat)
}

func validateCell(cell string, pairs []Pair) error {
	if len(pairs) != 2*Nodes {
		return fmt.Errorf("genotype: %s has %d pairs, want %d (2 per node)", cell, len(pairs), 2*Nodes)
	}
	for j, p := range pairs {
		node := j / 2
		if OpIndex(p.Op) < 0 {
			if p.Op == None {
				return fmt.Errorf("genotype: %s pair %d (node %d): op %q is not allowed in a genotype", cell, j, node, p.Op)
			}
			return fmt.Errorf("genotype: %s pair %d (node %d): unknown op %q (want one of %s)", cell, j, node, p.Op, strings.Join(Ops[:], ", "))
		}
		if p.Input < 0 || p.Input > node+1 {
			return fmt.Errorf("genotype: %s pair %d (node %d): input %d out of range 0..%d", cell, j, node, p.Input, node+1)
		}
		if j%2 == 1 && pairs[j-1].Input == p.Input {
			return fmt.Errorf("genotype: %s node %d uses input %d twice (pairs %d and %d)", cell, node, p.Input, j-1, j)
		}
	}
	return nil
}

func validateConcat(key string, c []int) error {
	if !slices.Equal(c, Concat) {
		return fmt.Errorf("genotype: %s is %v, want %v", key, c, Concat)
	}
	return nil
}

// Combine returns a genotype whose normal cell (and concat) is normalFrom's
// and whose reduction cell is reduceFrom's, as the published evaluation of a
// searched normal cell with another reduction cell did. The result shares no
// memory with its arguments.
func Combine(normalFrom, reduceFrom Genotype) Genotype {
	return Genotype{
		Normal:       slices.Clone(normalFrom.Normal),
		NormalConcat: slices.Clone(normalFrom.NormalConcat),
		Reduce:       slices.Clone(reduceFrom.Reduce),
		ReduceConcat: slices.Clone(reduceFrom.ReduceConcat),
	}
}
