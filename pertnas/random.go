package pertnas

import (
	"slices"

	"pertnas/formats/genotype"
)

// RandomGenotype draws a cell uniformly from the space the search selects
// in, the baseline of random-sampling NAS evaluations: every node keeps two
// distinct inputs drawn uniformly among the states before it, each with an op
// drawn uniformly from the seven DARTS ops (none is never drawn). Like a
// search result, the one cell is both the normal and the reduction cell.
// Pairs are listed in input order within a node, as the search writes them.
// The same seed gives the same genotype.
func RandomGenotype(seed uint64) genotype.Genotype {
	rng := rngFor(seed, "random-genotype")
	var pairs []genotype.Pair
	for node := 0; node < genotype.Nodes; node++ {
		states := node + 2
		a := rng.IntN(states)
		b := rng.IntN(states - 1)
		if b >= a {
			b++
		}
		ins := []int{a, b}
		slices.Sort(ins)
		for _, in := range ins {
			pairs = append(pairs, genotype.Pair{Op: genotype.Ops[rng.IntN(len(genotype.Ops))], Input: in})
		}
	}
	return genotype.Genotype{
		Normal: pairs, NormalConcat: slices.Clone(genotype.Concat),
		Reduce: slices.Clone(pairs), ReduceConcat: slices.Clone(genotype.Concat),
	}
}
