package train

import (
	"math"
	"slices"
	"testing"

	"pertnas/formats/cifar"
	"pertnas/loader"
	"pertnas/nn"
	"pertnas/nn/cpu"
)

func TestCorrect(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, c := range []struct {
		name       string
		row        []float32
		label      int32
		top1, top5 int
	}{
		{"label largest", []float32{0, 1, 2, 3, 4, 5, 6}, 6, 1, 1},
		{"fifth largest", []float32{0, 1, 2, 3, 4, 5, 6}, 2, 0, 1},
		{"sixth largest", []float32{0, 1, 2, 3, 4, 5, 6}, 1, 0, 0},
		{"tie, label first", []float32{1, 1, 1, 1, 1, 1, 1}, 0, 1, 1},
		{"tie, label second", []float32{0, 3, 3, 0, 0, 0, 0}, 2, 0, 1},
		{"tie, five equal ones before the label", []float32{1, 1, 1, 1, 1, 1, 1}, 5, 0, 0},
		{"tie, four equal ones before the label", []float32{1, 1, 1, 1, 1, 1, 1}, 4, 0, 1},
		{"+Inf label", []float32{0, inf, 2, 3, 4, 5, 6}, 1, 1, 1},
		{"NaN label", []float32{1, 1, 1, 1, 1, 1, nan}, 6, 0, 0},
		{"NaN elsewhere, label largest", []float32{nan, 0, 1, 2, 3, 4, 9}, 6, 0, 0},
		{"NaN elsewhere, label fifth", []float32{0, 1, 2, 3, 4, 5, nan}, 2, 0, 0},
	} {
		top1, top5 := Correct(c.row, []int32{c.label})
		if top1 != c.top1 || top5 != c.top5 {
			t.Errorf("%s: top-1 %d top-5 %d, want %d and %d", c.name, top1, top5, c.top1, c.top5)
		}
	}
	// Several rows are counted row by row.
	logits := []float32{0, 1, 2, 3, 4, 5, 6, 6, 5, 4, 3, 2, 1, 0, 0, 1, 2, 3, 4, 5, 6}
	if top1, top5 := Correct(logits, []int32{6, 0, 1}); top1 != 2 || top5 != 2 {
		t.Fatalf("three rows: top-1 %d top-5 %d, want 2 and 2", top1, top5)
	}
	if top1, top5 := Correct(nil, nil); top1 != 0 || top5 != 0 {
		t.Fatalf("no rows: %d %d", top1, top5)
	}
}

// oneBatch returns the first batch of a 16-image synthetic loader.
func oneBatch(t *testing.T) *loader.Batch {
	tr, _ := cifar.Synth(16, 0, 5)
	l, err := loader.New(synthSource(tr), loader.Config{BatchSize: 16, Workers: 1, Classes: 10})
	if err != nil {
		t.Fatal(err)
	}
	it := l.Epoch(0)
	t.Cleanup(it.Close)
	if !it.Next() {
		t.Fatal(it.Err())
	}
	return it.Batch()
}

// stateOf copies the parameters (params) or the whole state dict (BN
// running statistics too).
func stateOf(m *tinyNet, params bool) [][]float32 {
	var out [][]float32
	if params {
		for _, p := range m.Scope().Params() {
			out = append(out, slices.Clone(p.Value.Host()))
		}
		return out
	}
	for _, ts := range m.Scope().StateDict() {
		out = append(out, slices.Clone(ts.F32))
	}
	return out
}

func sameState(a, b [][]float32) bool {
	return slices.EqualFunc(a, b, func(x, y []float32) bool { return slices.Equal(x, y) })
}

func newStep(m *tinyNet, clip float32) *Step {
	return &Step{Graph: nn.NewGraph(m.Scope().Backend()), Opt: nn.NewSGD(m.Scope().Params(), 0.1, 0.9, 0), GradClip: clip, AuxWeight: 0.4}
}

// A step with a NaN loss is refused: a *DivergenceError placed where the
// caller said, and no parameter changes.
func TestStepDivergence(t *testing.T) {
	b := oneBatch(t)
	m := newTiny(cpu.New(1), 3, 10)
	m.nanAt = 1
	s := newStep(m, 5)
	forward := func(g *nn.Graph, x *nn.Tensor) (*nn.Tensor, *nn.Tensor) { return m.Forward(g, x, 0, nil) }
	before := stateOf(m, true)
	_, err := s.Train(b, forward, -1, 4)
	de, ok := err.(*DivergenceError)
	if !ok || de.Epoch != -1 || de.Step != 4 || err.Error() != "training diverged at step 4: loss is NaN" {
		t.Fatalf("got %v, want a divergence at step 4", err)
	}
	if s.Opt.Steps() != 0 || !sameState(stateOf(m, true), before) {
		t.Fatal("the diverged step changed the parameters")
	}
	// The next (finite) batch steps.
	o, err := s.Train(b, forward, 0, 5)
	if err != nil || s.Opt.Steps() != 1 || sameState(stateOf(m, true), before) {
		t.Fatalf("finite step: %v, %d steps", err, s.Opt.Steps())
	}
	if o.Top1 > o.Top5 || o.Top5 > b.N || !(o.Loss > 0) {
		t.Fatalf("outcome %+v", o)
	}
}

// Eval measures in inference mode and changes no state; it agrees with
// Correct on the logits and with Evaluate on a one-batch loader.
func TestStepEval(t *testing.T) {
	b := oneBatch(t)
	m := newTiny(cpu.New(1), 3, 10)
	s := newStep(m, 0)
	forward := func(g *nn.Graph, x *nn.Tensor) (*nn.Tensor, *nn.Tensor) { return m.Forward(g, x, 0, nil) }
	before := stateOf(m, false)
	o := s.Eval(b, forward)
	if !sameState(stateOf(m, false), before) {
		t.Fatal("Eval changed the state")
	}
	g := nn.NewGraph(m.Scope().Backend())
	g.Training, g.NoGrad = false, true
	logits, _ := m.Forward(g, g.FromHost(b.Images[:b.N*3*b.H*b.W], b.N, 3, b.H, b.W), 0, nil)
	top1, top5 := Correct(logits.Host(), b.Labels[:b.N])
	loss := float64(g.CrossEntropy(logits, b.Labels[:b.N], 0).Item())
	if o != (Outcome{loss, top1, top5}) {
		t.Fatalf("Eval %+v, want %+v", o, Outcome{loss, top1, top5})
	}
}
