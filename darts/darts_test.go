package darts

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"pertnas/formats/checkpoint"
	"pertnas/formats/genotype"
	"pertnas/nn"
)

func named(t *testing.T, name string) genotype.Genotype {
	t.Helper()
	g, ok := genotype.Named(name)
	if !ok {
		t.Fatalf("no genotype %s", name)
	}
	return g
}

func rng(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 1)) }

// TestCounts checks parameter counts (docs/spec/darts.md's table) and
// multiply-adds against the PyTorch reference (printed by
// scripts/torch_fixtures_darts.py), and the state_dict names, shapes and
// order against the reference modules' (testdata/names_*.txt.gz).
func TestCounts(t *testing.T) {
	b := newBackend()
	cases := []struct {
		name        string
		build       func() (params, aux int, madds int64, s *nn.Scope)
		params, aux int
		madds       int64
		names       string
	}{
		{"CIFAR DARTS_V2", func() (int, int, int64, *nn.Scope) {
			n, err := NewCIFARNetwork(b, named(t, "DARTS_V2"), CIFAROptions(10), rng(1))
			if err != nil {
				t.Fatal(err)
			}
			return n.NumParams(), n.Scope().NumParams() - n.NumParams(), n.MultAdds(32, 32), n.Scope()
		}, 3349342, 476426, 528359040, "names_cifar_darts_v2.txt.gz"},
		{"CIFAR PERTNAS_EVOLUTIONARY", func() (int, int, int64, *nn.Scope) {
			n, err := NewCIFARNetwork(b, named(t, "PERTNAS_EVOLUTIONARY"), CIFAROptions(10), rng(1))
			if err != nil {
				t.Fatal(err)
			}
			return n.NumParams(), n.Scope().NumParams() - n.NumParams(), n.MultAdds(32, 32), n.Scope()
		}, 3979414, 476426, 617109120, ""},
		{"ImageNet DARTS_V2", func() (int, int, int64, *nn.Scope) {
			n, err := NewImageNetNetwork(b, named(t, "DARTS_V2"), ImageNetOptions(1000), rng(1))
			if err != nil {
				t.Fatal(err)
			}
			return n.NumParams(), n.Scope().NumParams() - n.NumParams(), n.MultAdds(224, 224), n.Scope()
		}, 4718752, 1260776, 529911552, ""},
		{"ImageNet PERTNAS_EVOLUTIONARY", func() (int, int, int64, *nn.Scope) {
			n, err := NewImageNetNetwork(b, named(t, "PERTNAS_EVOLUTIONARY"), ImageNetOptions(1000), rng(1))
			if err != nil {
				t.Fatal(err)
			}
			return n.NumParams(), n.Scope().NumParams() - n.NumParams(), n.MultAdds(224, 224), n.Scope()
		}, 5622496, 1260776, 619024128, "names_imagenet_evolutionary.txt.gz"},
		{"supernet L=8", func() (int, int, int64, *nn.Scope) {
			n, err := NewSearchNetwork(b, FullConfig(true), SearchOptions{Layers: 8}, rng(1))
			if err != nil {
				t.Fatal(err)
			}
			return n.NumParams(), 0, n.MultAdds(32, 32), n.Scope()
		}, 1930618, 0, 300255744, ""},
		{"supernet L=5", func() (int, int, int64, *nn.Scope) {
			n, err := NewSearchNetwork(b, FullConfig(true), SearchOptions{}, rng(1))
			if err != nil {
				t.Fatal(err)
			}
			return n.NumParams(), 0, n.MultAdds(32, 32), n.Scope()
		}, 1275834, 0, 186698240, "names_supernet_l5.txt.gz"},
	}
	for _, c := range cases {
		params, aux, madds, s := c.build()
		if params != c.params || aux != c.aux || madds != c.madds {
			t.Errorf("%s: %d parameters (+%d auxiliary), %d multiply-adds; want %d (+%d), %d", c.name, params, aux, madds, c.params, c.aux, c.madds)
		}
		if c.names == "" {
			continue
		}
		want := nameShapes(t, "testdata/"+c.names)
		got := ownNameShapes(s)
		if !slices.Equal(got, want) {
			for i := 0; i < min(len(got), len(want)); i++ {
				if got[i] != want[i] {
					t.Errorf("%s: state_dict entry %d is %q, PyTorch has %q", c.name, i, got[i], want[i])
					break
				}
			}
			t.Errorf("%s: %d state_dict entries, PyTorch has %d", c.name, len(got), len(want))
		}
	}
}

func TestNetworkErrors(t *testing.T) {
	b := newBackend()
	v2 := named(t, "DARTS_V2")
	bad := genotype.Combine(v2, v2)
	bad.Normal[0].Op = "conv_9x9"
	cases := []struct {
		err  error
		want string
	}{
		{second(NewCIFARNetwork(b, bad, CIFAROptions(10), rng(1))), `darts: genotype: normal pair 0 (node 0): unknown op "conv_9x9"`},
		{second(NewCIFARNetwork(b, v2, EvalOptions{C: 7, Layers: 8, Classes: 10}, rng(1))), "darts: init channels 7: want an even number >= 2"},
		{second(NewImageNetNetwork(b, v2, EvalOptions{C: 8, Layers: 0, Classes: 10}, rng(1))), "darts: 0 layers: want at least 1"},
		{second(NewCIFARNetwork(b, v2, EvalOptions{C: 8, Layers: 3}, rng(1))), "darts: 0 classes: want at least 1"},
		{second(NewSearchNetwork(b, SearchConfig{Edges: genotype.EdgeConfig{3: {Ops: genotype.OpSetOf(2, 7)}}}, SearchOptions{}, rng(1))), "darts: search config edge 3: op bits 0x80 outside the 7 ops"},
		{second(NewSearchNetwork(b, FullConfig(false), SearchOptions{C: -4}, rng(1))), "darts: init channels -4: want an even number >= 2"},
	}
	for i, c := range cases {
		if c.err == nil || !strings.HasPrefix(c.err.Error(), c.want) {
			t.Errorf("case %d: got %v, want %s", i, c.err, c.want)
		}
	}
}

func second[T any](_ T, err error) error { return err }

// smallSearch builds a C 4, 3-cell search network for cfg.
func smallSearch(t *testing.T, cfg SearchConfig, seed uint64) *SearchNetwork {
	t.Helper()
	n, err := NewSearchNetwork(newBackend(), cfg, SearchOptions{C: 4, Layers: 3}, rng(seed))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func randInput(b nn.Backend, seed uint64, shape ...int) *nn.Tensor {
	r := rng(seed)
	x := nn.NewTensor(b, shape...)
	data := make([]float32, x.Numel())
	for i := range data {
		data[i] = float32(r.NormFloat64())
	}
	return nn.FromHost(b, data, shape...)
}

// evalLogits runs n in inference mode on x.
func evalLogits(n *SearchNetwork, x *nn.Tensor) []float32 {
	g := nn.NewGraph(n.Scope().Backend())
	g.Training, g.NoGrad = false, true
	return slices.Clone(n.Forward(g, x).Host())
}

// copyWeights loads into dst every tensor of src that dst has.
func copyWeights(t *testing.T, dst, src *nn.Scope) {
	t.Helper()
	have := map[string]checkpoint.Tensor{}
	for _, nt := range src.StateDict() {
		have[nt.Name] = nt
	}
	var sd []checkpoint.Tensor
	for _, nt := range dst.StateDict() {
		sd = append(sd, have[nt.Name])
	}
	if err := dst.LoadStateDict(sd); err != nil {
		t.Fatal(err)
	}
}

// TestMaskEqualsRemoval: masking (edge, op) gives exactly the network
// without that op; none changes nothing; ResetMasks restores the output.
func TestMaskEqualsRemoval(t *testing.T) {
	cfg := FullConfig(true)
	full := smallSearch(t, cfg, 1)
	x := randInput(full.Scope().Backend(), 9, 2, 3, 8, 8)
	before := evalLogits(full, x)

	removed := cfg
	removed.Edges[4].Ops = genotype.OpSetOf(0, 1, 2, 4, 5, 6) // without sep_conv_3x3
	removed.Edges[9].Ops = 0                                  // edge 9 empty: only none
	for e := range removed.Edges {
		removed.Edges[e].None = e == 9
	}
	small := smallSearch(t, removed, 2)
	copyWeights(t, small.Scope(), full.Scope())
	want := evalLogits(small, x)

	if err := full.SetMask(4, SepConv3x3, false); err != nil {
		t.Fatal(err)
	}
	for o := 0; o < NumOps; o++ {
		if err := full.SetMask(9, o, false); err != nil {
			t.Fatal(err)
		}
	}
	if full.Mask(4, SepConv3x3) || !full.Mask(4, SepConv5x5) {
		t.Fatal("Mask does not report SetMask")
	}
	got := evalLogits(full, x)
	if !slices.Equal(got, want) {
		t.Errorf("masked logits %v\nwant (op removed) %v", got, want)
	}
	if slices.Equal(got, before) {
		t.Error("masking changed nothing")
	}
	full.ResetMasks()
	if after := evalLogits(full, x); !slices.Equal(after, before) {
		t.Errorf("after ResetMasks %v, want %v", after, before)
	}
	// Masked ops get no gradient.
	if err := full.SetMask(4, SepConv3x3, false); err != nil {
		t.Fatal(err)
	}
	g := nn.NewGraph(full.Scope().Backend())
	nn.ZeroGrad(full.Params())
	g.Backward(g.CrossEntropy(full.Forward(g, x), []int32{1, 2}, 0))
	for _, p := range full.Params() {
		masked := strings.Contains(p.Name, "._ops.4._ops.4.")
		var sum float64
		for _, v := range p.Grad.Host() {
			sum += float64(v * v)
		}
		if masked && sum != 0 {
			t.Errorf("masked %s has gradient", p.Name)
		}
		if strings.HasPrefix(p.Name, "cells.1._ops.4._ops.5.op.1") && sum == 0 {
			t.Errorf("unmasked %s has no gradient", p.Name)
		}
	}
}

func TestSetMaskErrors(t *testing.T) {
	var cfg SearchConfig
	cfg.Edges[3] = genotype.EdgeOps{Ops: genotype.OpSetOf(MaxPool3x3, DilConv5x5)}
	n := smallSearch(t, cfg, 1)
	for _, c := range []struct {
		edge, op int
		want     string
	}{
		{3, SepConv3x3, "darts: op sep_conv_3x3 is not a candidate of edge 3"},
		{14, 0, "darts: mask (edge 14, op 0) outside 0..13, 0..6"},
		{0, -1, "darts: mask (edge 0, op -1) outside 0..13, 0..6"},
		{2, 7, "darts: mask (edge 2, op 7) outside 0..13, 0..6"},
	} {
		if err := n.SetMask(c.edge, c.op, false); err == nil || err.Error() != c.want {
			t.Errorf("SetMask(%d, %d) = %v, want %s", c.edge, c.op, err, c.want)
		}
	}
	if err := n.SetMask(3, DilConv5x5, false); err != nil {
		t.Fatal(err)
	}
	// A configuration with every node empty still runs (zeros everywhere).
	logits := evalLogits(smallSearch(t, SearchConfig{}, 1), randInput(n.Scope().Backend(), 1, 2, 3, 8, 8))
	if len(logits) != 20 {
		t.Fatalf("logits %v", logits)
	}
}

// TestSeededBuild: the same seed builds the same weights; another seed does not.
func TestSeededBuild(t *testing.T) {
	sd := func(seed uint64) []checkpoint.Tensor {
		return smallSearch(t, FullConfig(false), seed).Scope().StateDict()
	}
	a, b, c := sd(5), sd(5), sd(6)
	same := func(x, y []checkpoint.Tensor) bool {
		for i := range x {
			if !slices.Equal(x[i].F32, y[i].F32) {
				return false
			}
		}
		return true
	}
	if !same(a, b) || same(a, c) {
		t.Error("weights do not follow the seed")
	}
}

func TestConfig(t *testing.T) {
	for _, name := range genotype.Names() {
		g := named(t, name)
		cfg, err := ConfigFromCell(g.Normal)
		if err != nil {
			t.Fatal(err)
		}
		back, err := cfg.Genotype()
		if err != nil {
			t.Fatal(err)
		}
		// Pairs come back ordered by input within each node.
		want := genotype.Combine(g, g)
		for j := 0; j < len(want.Normal); j += 2 {
			if want.Normal[j].Input > want.Normal[j+1].Input {
				want.Normal[j], want.Normal[j+1] = want.Normal[j+1], want.Normal[j]
			}
		}
		want.Reduce = slices.Clone(want.Normal)
		if !back.Equal(want) {
			t.Errorf("%s: config round trip gives %s", name, back.Repr())
		}
		n := 0
		for _, eo := range cfg.Edges {
			n += eo.Ops.Len()
		}
		if n != 8 {
			t.Errorf("%s: config holds %d ops", name, n)
		}
	}
	full := FullConfig(true)
	if _, err := full.Genotype(); err == nil || err.Error() != "darts: search config edge 0 is not discrete: 7 ops, none true" {
		t.Errorf("Genotype of the supernet: %v", err)
	}
	if _, err := (SearchConfig{}).Genotype(); err == nil || err.Error() != "darts: search config node 0 has 0 edges with an op, want 2" {
		t.Errorf("Genotype of the empty config: %v", err)
	}
	if _, err := ConfigFromCell(named(t, "DARTS_V2").Normal[:6]); err == nil || !strings.Contains(err.Error(), "has 6 pairs") {
		t.Errorf("ConfigFromCell of 6 pairs: %v", err)
	}
}
