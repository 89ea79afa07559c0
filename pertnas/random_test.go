package pertnas

import (
	"slices"
	"testing"

	"pertnas/formats/genotype"
)

// TestRandomGenotype: every draw is a valid cell (normal = reduce), the same
// seed gives the same cell, and over many seeds every (node, input) pair and
// every op turns up about as often as a uniform draw predicts.
func TestRandomGenotype(t *testing.T) {
	if !RandomGenotype(7).Equal(RandomGenotype(7)) {
		t.Fatal("seed 7 gave two different cells")
	}
	if RandomGenotype(7).Equal(RandomGenotype(8)) {
		t.Fatal("seeds 7 and 8 gave the same cell")
	}
	const n = 4000
	var ops [len(genotype.Ops)]int
	inputs := map[[2]int]int{}
	for s := uint64(0); s < n; s++ {
		g := RandomGenotype(s)
		if err := g.Validate(); err != nil {
			t.Fatalf("seed %d: %v", s, err)
		}
		if !slices.Equal(g.Normal, g.Reduce) {
			t.Fatalf("seed %d: normal and reduce differ", s)
		}
		for i, p := range g.Normal {
			node := i / 2
			if i%2 == 1 && p.Input <= g.Normal[i-1].Input {
				t.Fatalf("seed %d node %d: inputs %d, %d not distinct and ascending", s, node, g.Normal[i-1].Input, p.Input)
			}
			ops[genotype.OpIndex(p.Op)]++
			inputs[[2]int{node, p.Input}]++
		}
	}
	for k, c := range ops {
		// 8n draws over 7 ops: mean 4571, sd ~63.
		if want := 8 * n / 7; c < want-400 || c > want+400 {
			t.Errorf("op %s drawn %d times of %d, want about %d", genotype.Ops[k], c, 8*n, want)
		}
	}
	for node := 0; node < genotype.Nodes; node++ {
		// Each of the node+2 states is one of the 2 inputs with probability 2/(node+2).
		want := 2 * n / (node + 2)
		for in := 0; in < node+2; in++ {
			if c := inputs[[2]int{node, in}]; c < want-300 || c > want+300 {
				t.Errorf("node %d reads state %d in %d of %d cells, want about %d", node, in, c, n, want)
			}
		}
	}
}
