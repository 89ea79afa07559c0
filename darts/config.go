package darts

import (
	"fmt"
	"slices"

	"pertnas/formats/genotype"
)

// EdgeConfig is the candidate set of one search edge: the enabled ops
// (indices into genotype.Ops, distinct) and whether none is a candidate.
type EdgeConfig struct {
	Ops     []int `json:"ops"`
	HasNone bool  `json:"none"`
}

// SearchConfig is the edge configuration of the search cell: one
// EdgeConfig per edge, edges in DARTS order (genotype.EdgeIndex). Its JSON
// form is {"edges": [{"ops": [3, 5], "none": true}, ...]} with 14 edges.
type SearchConfig struct {
	Edges [genotype.Edges]EdgeConfig `json:"edges"`
}

// FullConfig returns the configuration with all 7 ops on every edge, plus
// none if withNone (the DARTS supernet).
func FullConfig(withNone bool) SearchConfig {
	var c SearchConfig
	for e := range c.Edges {
		c.Edges[e] = EdgeConfig{Ops: []int{0, 1, 2, 3, 4, 5, 6}, HasNone: withNone}
	}
	return c
}

// Clone returns a deep copy of c.
func (c SearchConfig) Clone() SearchConfig {
	for e := range c.Edges {
		c.Edges[e].Ops = slices.Clone(c.Edges[e].Ops)
	}
	return c
}

// Validate reports an op index outside 0..6 or an op listed twice on an
// edge, naming the edge.
func (c SearchConfig) Validate() error {
	for e, ec := range c.Edges {
		var seen [NumOps]bool
		for _, o := range ec.Ops {
			if o < 0 || o >= NumOps {
				return fmt.Errorf("darts: search config edge %d: op index %d outside 0..%d", e, o, NumOps-1)
			}
			if seen[o] {
				return fmt.Errorf("darts: search config edge %d: op %s listed twice", e, genotype.Ops[o])
			}
			seen[o] = true
		}
	}
	return nil
}

// sortedOps returns the edge's ops in ascending order (the order their
// modules are created and named in).
func (ec EdgeConfig) sortedOps() []int {
	ops := slices.Clone(ec.Ops)
	slices.Sort(ops)
	return ops
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
		c.Edges[genotype.EdgeIndex(j/2, p.Input)].Ops = []int{genotype.OpIndex(p.Op)}
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
			ec := c.Edges[e]
			if ec.HasNone || len(ec.Ops) > 1 {
				return genotype.Genotype{}, fmt.Errorf("darts: search config edge %d is not discrete: %d ops, none %v", e, len(ec.Ops), ec.HasNone)
			}
			if len(ec.Ops) == 1 {
				kept = append(kept, genotype.Pair{Op: genotype.Ops[ec.Ops[0]], Input: in})
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
