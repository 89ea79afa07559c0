package darts

import (
	"math"
	"slices"
	"testing"

	"pertnas/formats/genotype"
	"pertnas/nn"
)

func cellOf(pairs ...genotype.Pair) genotype.Genotype {
	return genotype.Genotype{Normal: pairs, NormalConcat: genotype.Concat, Reduce: pairs, ReduceConcat: genotype.Concat}
}

// TestDropPath: identity ops are never dropped; every other op output is, per
// sample, either zero or scaled by 1/(1-p).
func TestDropPath(t *testing.T) {
	b := newBackend()
	const n, c = 16, 4
	s0 := randInput(b, 1, n, 6, 4, 4)
	s1 := randInput(b, 2, n, 6, 4, 4)
	plan := cellPlan{cPrevPrev: 6, cPrev: 6, c: c}
	skip := func(in int) genotype.Pair { return genotype.Pair{Op: "skip_connect", Input: in} }

	ids, err := newEvalCell(nn.NewScope(b, rng(1)), cellOf(skip(0), skip(1), skip(0), skip(1), skip(0), skip(1), skip(0), skip(1)), plan)
	if err != nil {
		t.Fatal(err)
	}
	g := nn.NewGraph(b)
	want := slices.Clone(ids.forward(g, s0, s1, 0, nil).Host())
	if got := ids.forward(g, s0, s1, 0.5, rng(3)).Host(); !slices.Equal(got, want) {
		t.Error("drop path hit an identity op")
	}

	pools, err := newEvalCell(nn.NewScope(b, rng(1)),
		cellOf(genotype.Pair{Op: "max_pool_3x3", Input: 0}, skip(1), skip(0), skip(1), skip(0), skip(1), skip(0), skip(1)), plan)
	if err != nil {
		t.Fatal(err)
	}
	g.Reset()
	pool := slices.Clone(g.MaxPool(pools.pre0.forward(g, s0), 3, 1, 1).Host())
	p1 := slices.Clone(pools.pre1.forward(g, s1).Host())
	out := pools.forward(g, s0, s1, 0.5, rng(4)).Host() // [n, 4c, 4, 4]; node 0 is channels [0, c)
	per := c * 16
	kept := 0
	for i := 0; i < n; i++ {
		var k float64 = -1
		for j := 0; j < per; j++ {
			node0 := float64(out[i*4*per+j])
			d, m := node0-float64(p1[i*per+j]), float64(pool[i*per+j])
			if math.Abs(m) < 1e-3 {
				continue
			}
			if k < 0 {
				k = d / m
			}
			if math.Abs(d-k*m) > 1e-4 {
				t.Fatalf("sample %d: op output scaled unevenly", i)
			}
		}
		switch {
		case math.Abs(k) < 1e-5:
		case math.Abs(k-2) < 1e-5:
			kept++
		default:
			t.Fatalf("sample %d: op output scaled by %g, want 0 or 2", i, k)
		}
	}
	if kept == 0 || kept == n {
		t.Errorf("%d of %d samples kept with p = 0.5", kept, n)
	}
}

// TestEvalNetworkDropPath: drop path acts in training only and follows the RNG.
func TestEvalNetworkDropPath(t *testing.T) {
	b := newBackend()
	net, err := NewCIFARNetwork(b, named(t, "DARTS_V2"), EvalOptions{C: 4, Layers: 3, Classes: 10, Auxiliary: true}, rng(1))
	if err != nil {
		t.Fatal(err)
	}
	x := randInput(b, 5, 4, 3, 32, 32)
	run := func(train bool, p float32, seed uint64) []float32 {
		g := nn.NewGraph(b)
		g.Training = train
		net.DropPathProb = p
		logits, aux := net.Forward(g, x, rng(seed))
		if (aux != nil) != train {
			t.Fatalf("auxiliary logits %v in training %v", aux != nil, train)
		}
		return slices.Clone(logits.Host())
	}
	if !slices.Equal(run(false, 0.3, 1), run(false, 0, 1)) {
		t.Error("drop path changed an evaluation forward")
	}
	a, a2, other, none := run(true, 0.3, 1), run(true, 0.3, 1), run(true, 0.3, 2), run(true, 0, 1)
	if !slices.Equal(a, a2) {
		t.Error("same drop-path seed, different logits")
	}
	if slices.Equal(a, other) || slices.Equal(a, none) {
		t.Error("drop path had no effect or ignored the seed")
	}
	if got := net.MultAdds(32, 32); got <= 0 {
		t.Errorf("MultAdds %d", got)
	}
}
