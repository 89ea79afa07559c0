package nn_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"pertnas/formats/checkpoint"
	"pertnas/nn"
	"pertnas/nn/cpu"
)

func TestStateDictNamesAndRoundTrip(t *testing.T) {
	be := cpu.New(1)
	net := newSmallNet(be, 1)
	sd := net.sc.StateDict()
	wantNames := []string{
		"stem.0.weight",
		"stem.1.weight", "stem.1.bias", "stem.1.running_mean", "stem.1.running_var", "stem.1.num_batches_tracked",
		"op.1.weight", "op.2.weight",
		"op.3.running_mean", "op.3.running_var", "op.3.num_batches_tracked",
		"reduce.conv_1.weight", "reduce.conv_2.weight",
		"reduce.bn.weight", "reduce.bn.bias", "reduce.bn.running_mean", "reduce.bn.running_var", "reduce.bn.num_batches_tracked",
		"classifier.weight", "classifier.bias",
	}
	if len(sd) != len(wantNames) {
		t.Fatalf("%d tensors, want %d", len(sd), len(wantNames))
	}
	for i, nt := range sd {
		if nt.Name != wantNames[i] {
			t.Errorf("entry %d: %q, want %q", i, nt.Name, wantNames[i])
		}
	}
	if got := sd[0].Shape; len(got) != 4 || got[0] != 8 || got[1] != 3 || got[2] != 3 || got[3] != 3 {
		t.Errorf("stem.0.weight shape %v", got)
	}
	if got := sd[6].Shape; got[1] != 1 { // depthwise: [C, 1, k, k]
		t.Errorf("depthwise weight shape %v", got)
	}
	if nt := sd[5]; len(nt.Shape) != 0 || len(nt.I64) != 1 || nt.F32 != nil {
		t.Errorf("num_batches_tracked entry %+v", nt)
	}
	if got := sd[18].Shape; got[0] != 10 || got[1] != 16 {
		t.Errorf("classifier.weight shape %v, want [10 16]", got)
	}
	// PyTorch default init bound for the stem: 1/sqrt(fan_in) = 1/sqrt(27).
	bound := float32(1 / math.Sqrt(27))
	var maxAbs float32
	for _, v := range sd[0].F32 {
		maxAbs = max(maxAbs, float32(math.Abs(float64(v))))
	}
	if maxAbs > bound || maxAbs < bound/2 {
		t.Errorf("stem init max |w| = %v, want just below %v", maxAbs, bound)
	}

	// Train a step so running stats and counters move, then copy into a
	// differently seeded net: every tensor must come over exactly.
	tr := newTrainer(be)
	tr.step(0)
	src := tr.net.sc.StateDict()
	dst := newSmallNet(be, 2)
	if err := dst.sc.LoadStateDict(src); err != nil {
		t.Fatal(err)
	}
	back := dst.sc.StateDict()
	for i := range src {
		for j := range src[i].F32 {
			if math.Float32bits(src[i].F32[j]) != math.Float32bits(back[i].F32[j]) {
				t.Fatalf("%s[%d] not copied", src[i].Name, j)
			}
		}
		if src[i].I64 != nil && src[i].I64[0] != back[i].I64[0] {
			t.Fatalf("%s not copied", src[i].Name)
		}
	}
	if back[5].I64[0] != 1 {
		t.Errorf("stem.1.num_batches_tracked = %d after one step, want 1", back[5].I64[0])
	}
}

func TestLoadStateDictErrors(t *testing.T) {
	be := cpu.New(1)
	net := newSmallNet(be, 1)
	good := net.sc.StateDict()
	before := net.sc.StateDict()
	mutate := func(f func(sd []checkpoint.Tensor) []checkpoint.Tensor) []checkpoint.Tensor {
		sd := append([]checkpoint.Tensor{}, good...)
		return f(sd)
	}
	cases := []struct {
		name string
		sd   []checkpoint.Tensor
		want string
	}{
		{"missing", mutate(func(sd []checkpoint.Tensor) []checkpoint.Tensor { return sd[1:] }), `missing tensor "stem.0.weight"`},
		{"unexpected", mutate(func(sd []checkpoint.Tensor) []checkpoint.Tensor {
			return append(sd, checkpoint.Tensor{Name: "extra.weight", Shape: []int{1}, F32: []float32{0}})
		}), `unexpected tensor "extra.weight"`},
		{"shape", mutate(func(sd []checkpoint.Tensor) []checkpoint.Tensor {
			sd[18] = checkpoint.Tensor{Name: sd[18].Name, Shape: []int{16, 10}, F32: sd[18].F32}
			return sd
		}), `"classifier.weight" has shape [16 10], want [10 16]`},
		{"short data", mutate(func(sd []checkpoint.Tensor) []checkpoint.Tensor {
			sd[0] = checkpoint.Tensor{Name: sd[0].Name, Shape: sd[0].Shape, F32: sd[0].F32[:5]}
			return sd
		}), `"stem.0.weight" must hold 216 float32 values, has 5`},
		{"int kind", mutate(func(sd []checkpoint.Tensor) []checkpoint.Tensor {
			sd[5] = checkpoint.Tensor{Name: sd[5].Name, Shape: []int{}, F32: []float32{1}}
			return sd
		}), `"stem.1.num_batches_tracked" must be one int64 value`},
		{"duplicate", mutate(func(sd []checkpoint.Tensor) []checkpoint.Tensor { return append(sd, sd[0]) }), `duplicate tensor "stem.0.weight"`},
	}
	for _, c := range cases {
		// poison values so a partial load would show
		for i := range c.sd {
			if c.sd[i].F32 != nil && c.name != "short data" {
				c.sd[i].F32 = append([]float32{}, c.sd[i].F32...)
				c.sd[i].F32[0] = 1234
			}
		}
		err := net.sc.LoadStateDict(c.sd)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to contain %q", c.name, err, c.want)
		}
	}
	after := net.sc.StateDict()
	for i := range before {
		for j := range before[i].F32 {
			if before[i].F32[j] != after[i].F32[j] {
				t.Fatalf("failed load changed %s", before[i].Name)
			}
		}
	}
}

func TestSGDStateRoundTrip(t *testing.T) {
	be := cpu.New(1)
	a, b := newTrainer(be), newTrainer(be)
	for i := 0; i < 3; i++ {
		a.step(i)
	}
	if err := b.net.sc.LoadStateDict(a.net.sc.StateDict()); err != nil {
		t.Fatal(err)
	}
	if err := b.opt.LoadState(a.opt.State()); err != nil {
		t.Fatal(err)
	}
	if b.opt.Steps() != 3 {
		t.Errorf("steps %d after load, want 3", b.opt.Steps())
	}
	for i := 3; i < 5; i++ {
		if la, lb := a.step(i), b.step(i); math.Float32bits(la) != math.Float32bits(lb) {
			t.Fatalf("step %d: resumed loss %v, original %v", i, lb, la)
		}
	}
	st := a.opt.State()
	if err := b.opt.LoadState(st[:len(st)-1]); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("truncated state: error %v", err)
	}
	st[1].Shape = []int{1}
	if err := b.opt.LoadState(st); err == nil || !strings.Contains(err.Error(), "shape") {
		t.Errorf("misshapen state: error %v", err)
	}
}

func TestZerosMaskedSumDropPath(t *testing.T) {
	be := cpu.New(1)
	g := nn.NewGraph(be)
	x := nn.RequireGrad(g.FromHost([]float32{1, 2, 3, 4}, 1, 1, 2, 2))
	z := g.Zeros(1, 1, 2, 2)
	for _, v := range z.Host() {
		if v != 0 {
			t.Fatalf("Zeros gave %v", z.Host())
		}
	}
	s := g.MaskedSum([]*nn.Tensor{x, z}, []float32{0, 0})
	for _, v := range s.Host() {
		if v != 0 {
			t.Fatalf("all-masked sum gave %v", s.Host())
		}
	}
	// DropPath is the identity outside training.
	g.Training = false
	if y := g.DropPath(x, 0.5, rand.New(rand.NewPCG(1, 1))); y != x {
		t.Error("DropPath in eval mode is not the identity")
	}
}
