package nn_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"pertnas/nn"
	"pertnas/nn/cpu"
)

// gradsAfter runs one forward/backward of smallNet on batch 0, through the
// scaler when not nil, and returns whether the step should be taken and
// every parameter gradient.
func gradsAfter(be nn.Backend, s *nn.LossScaler) (bool, [][]float32) {
	net := newSmallNet(be, 5)
	g := nn.NewGraph(be)
	x, labels := batch(0)
	net.dropSrc.Seed(7, 0)
	nn.ZeroGrad(net.sc.Params())
	loss := net.loss(g, g.FromHost(x, 16, 3, 16, 16), labels)
	s.Backward(g, loss)
	step := s.Unscale(net.sc.Params())
	var grads [][]float32
	for _, p := range net.sc.Params() {
		grads = append(grads, p.Grad.Host())
	}
	return step, grads
}

// A power-of-two loss scale is exact in float32: scaled backward then
// unscale gives the unscaled gradients bit for bit.
func TestLossScalerExact(t *testing.T) {
	be := cpu.New(1)
	_, want := gradsAfter(be, nil)
	s := nn.NewLossScaler()
	step, got := gradsAfter(be, s)
	if !step || s.Scale != 65536 || s.Clean != 1 || s.Skipped != 0 {
		t.Fatalf("clean step: step %v, scaler %+v", step, *s)
	}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Fatalf("gradient %d differs after scaling by 2^16 and unscaling", i)
		}
	}
	// A backend's fused unscale gives the same.
	u := &unscaler{Backend: be}
	if _, got := gradsAfter(u, nn.NewLossScaler()); u.calls != 1 || !slices.Equal(got[3], want[3]) {
		t.Fatalf("GradUnscaler: %d calls", u.calls)
	}
}

// unscaler is a CPU backend with a (counting) GradUnscaler.
type unscaler struct {
	nn.Backend
	calls int
}

func (u *unscaler) UnscaleGrads(grads []nn.Buffer, inv float32) bool {
	u.calls++
	finite := true
	for _, g := range grads {
		u.Scale(g, inv, g)
		if ss := u.SumSquares(g); math.IsNaN(ss) || math.IsInf(ss, 0) {
			finite = false
		}
	}
	return finite
}

// Overflow skips the step and halves the scale; GrowthInterval clean steps
// double it.
func TestLossScalerDynamics(t *testing.T) {
	be := cpu.New(1)
	p := nn.NewScope(be, rand.New(rand.NewPCG(1, 2))).Linear("fc", 2, 2).W
	params := []*nn.Param{p}
	s := &nn.LossScaler{Scale: 1024, GrowthInterval: 2}
	set := func(v float32) { be.Upload(p.Grad.Buffer(), []float32{v, 1, 2, 3}) }
	set(float32(math.Inf(1)))
	if s.Unscale(params) || s.Scale != 512 || s.Skipped != 1 || s.Clean != 0 {
		t.Fatalf("overflow: %+v", *s)
	}
	set(float32(math.NaN()))
	if s.Unscale(params) || s.Scale != 256 || s.Skipped != 2 {
		t.Fatalf("NaN: %+v", *s)
	}
	set(512)
	if !s.Unscale(params) || s.Scale != 256 || s.Clean != 1 {
		t.Fatalf("first clean step: %+v", *s)
	}
	if got := p.Grad.Host()[0]; got != 2 {
		t.Errorf("512 unscaled by 256 gave %v", got)
	}
	set(1)
	if !s.Unscale(params) || s.Scale != 512 || s.Clean != 0 {
		t.Fatalf("growth after 2 clean steps: %+v", *s)
	}
}
