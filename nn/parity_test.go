package nn_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"pertnas/nn"
	"pertnas/nn/cpu"
	"pertnas/train/schedule"
)

// These tests compare every op's outputs and gradients with PyTorch 1.13's
// on the fixtures of scripts/torch_fixtures_nn.py, to parityTol in the
// norm-based relative error relErr.

func newScope(be nn.Backend) *nn.Scope { return nn.NewScope(be, rand.New(rand.NewPCG(1, 2))) }

func upload(t *testing.T, dst *nn.Tensor, name string) {
	t.Helper()
	f := fx(t, name)
	dst.Backend().Upload(dst.Buffer(), f.data)
}

func input(t *testing.T, g *nn.Graph, name string) *nn.Tensor {
	t.Helper()
	f := fx(t, name)
	return nn.RequireGrad(g.FromHost(f.data, f.shape...))
}

func TestTorchParityConv(t *testing.T) {
	be := cpu.New(2)
	for _, c := range fixtureCases(t, "conv_") {
		cfg := ints(fx(t, c+"/cfg"))
		n, cin, h, w, cout, k, s, p, d, grp := cfg[0], cfg[1], cfg[2], cfg[3], cfg[4], cfg[5], cfg[6], cfg[7], cfg[8], cfg[9]
		_, _, _, _ = n, h, w, d
		conv := newScope(be).Conv2D("c", cin, cout, k, s, p, d, grp)
		upload(t, conv.W.Value, c+"/w")
		g := nn.NewGraph(be)
		for rep := 0; rep < 2; rep++ { // the second pass reuses the graph's buffers
			g.Reset()
			nn.ZeroGrad([]*nn.Param{conv.W})
			x := input(t, g, c+"/x")
			y := conv.Forward(g, x)
			if fmt.Sprint(y.Shape()) != fmt.Sprint(fx(t, c+"/y").shape) {
				t.Fatalf("%s: output shape %v, want %v", c, y.Shape(), fx(t, c+"/y").shape)
			}
			expectClose(t, c+" y", y.Host(), fx(t, c+"/y").data, parityTol)
			g.BackwardFrom(y, fx(t, c+"/dy").data)
			expectClose(t, c+" dx", x.Grad().Host(), fx(t, c+"/dx").data, parityTol)
			expectClose(t, c+" dw", conv.W.Grad.Host(), fx(t, c+"/dw").data, parityTol)
		}
	}
}

func TestTorchParityBatchNorm(t *testing.T) {
	be := cpu.New(2)
	for _, c := range []string{"bn_affine", "bn_plain"} {
		affine := c == "bn_affine"
		sc := newScope(be)
		bn := sc.BatchNorm("bn", 5, affine)
		if affine {
			upload(t, bn.Weight.Value, c+"/gamma")
			upload(t, bn.Bias.Value, c+"/beta")
		}
		g := nn.NewGraph(be)
		check := func(p string) {
			g.Reset()
			nn.ZeroGrad(sc.Params())
			x := input(t, g, p+"x")
			y := bn.Forward(g, x)
			expectClose(t, p+"y", y.Host(), fx(t, p+"y").data, parityTol)
			g.BackwardFrom(y, fx(t, p+"dy").data)
			expectClose(t, p+"dx", x.Grad().Host(), fx(t, p+"dx").data, parityTol)
			if affine {
				expectClose(t, p+"dgamma", bn.Weight.Grad.Host(), fx(t, p+"dgamma").data, parityTol)
				expectClose(t, p+"dbeta", bn.Bias.Grad.Host(), fx(t, p+"dbeta").data, parityTol)
			}
		}
		for step := 0; step < 2; step++ {
			p := fmt.Sprintf("%s/train%d_", c, step)
			check(p)
			expectClose(t, p+"running_mean", bn.RunningMean.Host(), fx(t, p+"running_mean").data, parityTol)
			expectClose(t, p+"running_var", bn.RunningVar.Host(), fx(t, p+"running_var").data, parityTol)
		}
		if bn.NumBatchesTracked != 2 {
			t.Errorf("%s: num_batches_tracked %d, want 2", c, bn.NumBatchesTracked)
		}
		g.Training = false
		check(c + "/eval_")
		if bn.NumBatchesTracked != 2 {
			t.Errorf("%s: eval changed num_batches_tracked to %d", c, bn.NumBatchesTracked)
		}
	}
	// [N, F] input (BatchNorm1d).
	sc := newScope(be)
	bn := sc.BatchNorm("bn", 6, true)
	g := nn.NewGraph(be)
	x := input(t, g, "bn1d/x")
	y := bn.Forward(g, x)
	expectClose(t, "bn1d y", y.Host(), fx(t, "bn1d/y").data, parityTol)
	g.BackwardFrom(y, fx(t, "bn1d/dy").data)
	expectClose(t, "bn1d dx", x.Grad().Host(), fx(t, "bn1d/dx").data, parityTol)
	expectClose(t, "bn1d dgamma", bn.Weight.Grad.Host(), fx(t, "bn1d/dgamma").data, parityTol)
	expectClose(t, "bn1d dbeta", bn.Bias.Grad.Host(), fx(t, "bn1d/dbeta").data, parityTol)
	expectClose(t, "bn1d running_var", bn.RunningVar.Host(), fx(t, "bn1d/running_var").data, parityTol)
}

func TestTorchParityPool(t *testing.T) {
	be := cpu.New(2)
	for _, c := range fixtureCases(t, "pool_") {
		cfg := ints(fx(t, c+"/cfg"))
		k, s, p, kind := cfg[4], cfg[5], cfg[6], cfg[7]
		g := nn.NewGraph(be)
		x := input(t, g, c+"/x")
		var y *nn.Tensor
		if kind == 0 {
			y = g.MaxPool(x, k, s, p)
		} else {
			y = g.AvgPool(x, k, s, p, kind == 2)
		}
		if fmt.Sprint(y.Shape()) != fmt.Sprint(fx(t, c+"/y").shape) {
			t.Fatalf("%s: output shape %v, want %v", c, y.Shape(), fx(t, c+"/y").shape)
		}
		expectClose(t, c+" y", y.Host(), fx(t, c+"/y").data, parityTol)
		g.BackwardFrom(y, fx(t, c+"/dy").data)
		expectClose(t, c+" dx", x.Grad().Host(), fx(t, c+"/dx").data, parityTol)
	}
}

func TestTorchParitySimpleOps(t *testing.T) {
	be := cpu.New(2)
	for _, c := range []string{"relu", "gap"} {
		g := nn.NewGraph(be)
		x := input(t, g, c+"/x")
		var y *nn.Tensor
		if c == "relu" {
			y = g.ReLU(x)
		} else {
			y = g.GlobalAvgPool(x)
		}
		expectClose(t, c+" y", y.Host(), fx(t, c+"/y").data, parityTol)
		g.BackwardFrom(y, fx(t, c+"/dy").data)
		expectClose(t, c+" dx", x.Grad().Host(), fx(t, c+"/dx").data, parityTol)
	}

	lin := newScope(be).Linear("fc", 7, 4)
	upload(t, lin.W.Value, "linear/w")
	upload(t, lin.B.Value, "linear/b")
	g := nn.NewGraph(be)
	x := input(t, g, "linear/x")
	y := lin.Forward(g, x)
	expectClose(t, "linear y", y.Host(), fx(t, "linear/y").data, parityTol)
	g.BackwardFrom(y, fx(t, "linear/dy").data)
	expectClose(t, "linear dx", x.Grad().Host(), fx(t, "linear/dx").data, parityTol)
	expectClose(t, "linear dw", lin.W.Grad.Host(), fx(t, "linear/dw").data, parityTol)
	expectClose(t, "linear db", lin.B.Grad.Host(), fx(t, "linear/db").data, parityTol)
}

func TestTorchParityCrossEntropy(t *testing.T) {
	be := cpu.New(2)
	for _, c := range fixtureCases(t, "ce_") {
		g := nn.NewGraph(be)
		logits := input(t, g, c+"/logits")
		var labels []int32
		for _, v := range ints(fx(t, c+"/labels")) {
			labels = append(labels, int32(v))
		}
		loss := g.CrossEntropy(logits, labels, fx(t, c+"/smoothing").data[0])
		if len(loss.Shape()) != 0 {
			t.Errorf("%s: loss shape %v, want scalar", c, loss.Shape())
		}
		expectClose(t, c+" loss", loss.Host(), fx(t, c+"/loss").data, parityTol)
		g.Backward(loss)
		expectClose(t, c+" dlogits", logits.Grad().Host(), fx(t, c+"/dlogits").data, parityTol)
	}
}

// FactorizedReduce exercises ReLU, strided 1x1 convs, Shift, Concat and a
// non-affine BN together, with two consumers of the ReLU output.
func TestTorchParityFactorizedReduce(t *testing.T) {
	be := cpu.New(2)
	sc := newScope(be)
	c1 := sc.Conv2D("conv_1", 4, 3, 1, 2, 0, 1, 1)
	c2 := sc.Conv2D("conv_2", 4, 3, 1, 2, 0, 1, 1)
	bn := sc.BatchNorm("bn", 6, false)
	upload(t, c1.W.Value, "facred/w1")
	upload(t, c2.W.Value, "facred/w2")
	g := nn.NewGraph(be)
	x := input(t, g, "facred/x")
	r := g.ReLU(x)
	y := bn.Forward(g, g.Concat(c1.Forward(g, r), c2.Forward(g, g.Shift(r, 1, 1))))
	expectClose(t, "facred y", y.Host(), fx(t, "facred/y").data, parityTol)
	g.BackwardFrom(y, fx(t, "facred/dy").data)
	expectClose(t, "facred dx", x.Grad().Host(), fx(t, "facred/dx").data, parityTol)
	expectClose(t, "facred dw1", c1.W.Grad.Host(), fx(t, "facred/dw1").data, parityTol)
	expectClose(t, "facred dw2", c2.W.Grad.Host(), fx(t, "facred/dw2").data, parityTol)
}

func TestTorchParitySGD(t *testing.T) {
	be := cpu.New(2)
	sc := newScope(be)
	w := sc.NewParam("w", 6, 5)
	b := sc.NewParam("b", 5)
	upload(t, w.Value, "sgd/w0")
	upload(t, b.Value, "sgd/b0")
	opt := nn.NewSGD(sc.Params(), 0.1, 0.9, 3e-4)
	for step := 0; step < 4; step++ {
		opt.LR = fx(t, fmt.Sprintf("sgd/lr%d", step)).data[0]
		upload(t, w.Grad, fmt.Sprintf("sgd/gw%d", step))
		upload(t, b.Grad, fmt.Sprintf("sgd/gb%d", step))
		opt.Step()
		expectClose(t, fmt.Sprintf("sgd w%d", step+1), w.Value.Host(), fx(t, fmt.Sprintf("sgd/w%d", step+1)).data, parityTol)
		expectClose(t, fmt.Sprintf("sgd b%d", step+1), b.Value.Host(), fx(t, fmt.Sprintf("sgd/b%d", step+1)).data, parityTol)
		st := opt.State()
		expectClose(t, fmt.Sprintf("sgd momentum%d", step+1), st[1].F32, fx(t, fmt.Sprintf("sgd/mw%d", step+1)).data, parityTol)
	}
}

func TestTorchParityClipGradNorm(t *testing.T) {
	be := cpu.New(2)
	for _, c := range []string{"clip_hit", "clip_miss"} {
		sc := newScope(be)
		p1, p2 := sc.NewParam("a", 4, 3), sc.NewParam("b", 7)
		upload(t, p1.Grad, c+"/g1")
		upload(t, p2.Grad, c+"/g2")
		norm := nn.ClipGradNorm(sc.Params(), fx(t, c+"/max").data[0])
		expectClose(t, c+" norm", []float32{norm}, fx(t, c+"/norm").data, parityTol)
		expectClose(t, c+" g1", p1.Grad.Host(), fx(t, c+"/c1").data, parityTol)
		expectClose(t, c+" g2", p2.Grad.Host(), fx(t, c+"/c2").data, parityTol)
	}
}

func TestTorchParityCosineLR(t *testing.T) {
	want := fx(t, "cosine/lrs").data
	got := make([]float32, len(want))
	for e := range got {
		got[e] = float32(schedule.Cosine(0.025, 0.001, e, len(want)))
	}
	expectClose(t, "cosine lr", got, want, 1e-6)
}

// TestTorchParityPlumbing: Concat, SliceChannels, Scale, Add, MaskedSum
// (with a skipped 0 term), Shift and Flatten together.
func TestTorchParityPlumbing(t *testing.T) {
	be := cpu.New(2)
	g := nn.NewGraph(be)
	a, b := input(t, g, "misc/a"), input(t, g, "misc/b")
	c := g.SliceChannels(g.Concat(a, b), 1, 4)
	tt := g.Add(g.Scale(c, -0.7), a)
	m := g.MaskedSum([]*nn.Tensor{tt, b, a}, []float32{1, 0, 0.5})
	y := g.Flatten(g.Shift(m, 1, 1))
	if fmt.Sprint(y.Shape()) != fmt.Sprint(fx(t, "misc/y").shape) {
		t.Fatalf("output shape %v, want %v", y.Shape(), fx(t, "misc/y").shape)
	}
	expectClose(t, "misc y", y.Host(), fx(t, "misc/y").data, parityTol)
	g.BackwardFrom(y, fx(t, "misc/dy").data)
	expectClose(t, "misc da", a.Grad().Host(), fx(t, "misc/da").data, parityTol)
	expectClose(t, "misc db", b.Grad().Host(), fx(t, "misc/db").data, parityTol)
}
