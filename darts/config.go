package darts

import (
	"fmt"
	"slices"

	"pertnas/formats/genotype"
)

// SearchConfig is the edge configuration of the search cell: the candidate
// set of every edge (genotype.EdgeConfig, the type the search algorithm
// uses too), edges in DARTS order (genotype.EdgeIndex). Its JSON form is
// {"edges": [{"ops": [3, 5], "none": true}, ...]} with 14 edges.
type SearchConfig struct {
	Edges genotype.EdgeConfig `json:"edges"`
}

// FullConfig returns the configuration with all 7 ops on every edge, plus
// none if withNone (the DARTS supernet).
func FullConfig(withNone bool) SearchConfig {
	var c SearchConfig
	for e := range c.Edges {
		c.Edges[e] = genotype.EdgeOps{Ops: genotype.AllOps, None: withNone}
	}
	return c
}

// Validate reports an op bit outside the 7 ops, naming the edge.
func (c SearchConfig) Validate() error {
	for e, eo := range c.Edges {
		if bad := eo.Ops &^ genotype.AllOps; bad != 0 {
			return fmt.Errorf("darts: search config edge %d: op bits %#x outside the %d ops", e, uint8(bad), NumOps)
		}
	}
	return nil
}

// ConfigFromCell returns the configuration holding exactly the edges of a
// discrete cell (8 valid pairs, as in a Genotype): each kept edge gets its
// one op, every other edge is empty; no none.
func ConfigFromCell(pairs []genotype.Pair) (SearchConfig, error) {
	g := genotype.Genotype{Normal: pairs, NormalConcat: genotype.Concat, Reduce: pairs, ReduceConcat: genotype.Concat}
	if err := g.Validate(); err != nil {
		return SearchConfig{}, fmt.Errorf("darts: %w", err)
	}
	var c SearchConfig
	for j, p := range pairs {
		c.Edges[genotype.EdgeIndex(j/2, p.Input)].Ops = genotype.OpSetOf(genotype.OpIndex(p.Op))
	}
	return c, nil
}

// Genotype returns the discrete cell c describes, used as both normal and
// reduction cell: every edge must hold at most one op and no none, and every
// node exactly two edges with an op.
func (c SearchConfig) Genotype() (genotype.Genotype, error) {
	if err := c.Validate(); err != nil {
		return genotype.Genotype{}, err
	}
	var pairs []genotype.Pair
	for node := 0; node < genotype.Nodes; node++ {
		var kept []genotype.Pair
		for in := 0; in < node+2; in++ {
			e := genotype.EdgeIndex(node, in)
			eo := c.Edges[e]
			if eo.None || eo.Ops.Len() > 1 {
				return genotype.Genotype{}, fmt.Errorf("darts: search config edge %d is not discrete: %d ops, none %v", e, eo.Ops.Len(), eo.None)
			}
			if eo.Ops.Len() == 1 {
				kept = append(kept, genotype.Pair{Op: genotype.Ops[eo.Ops.List()[0]], Input: in})
			}
		}
		if len(kept) != 2 {
			return genotype.Genotype{}, fmt.Errorf("darts: search config node %d has %d edges with an op, want 2", node, len(kept))
		}
		pairs = append(pairs, kept...)
	}
	return genotype.Genotype{
		Normal: pairs, NormalConcat: slices.Clone(genotype.Concat),
		Reduce: slices.Clone(pairs), ReduceConcat: slices.Clone(genotype.Concat),
	}, nil
}
