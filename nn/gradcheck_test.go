package nn_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"pertnas/nn"
	"pertnas/nn/cpu"
)

// Finite-difference gradient checks. For each op, L = Σ r⊙op(inputs) with a
// fixed random r, evaluated in float32 by the engine and summed in float64.
// For up to gcSamples elements of every input and parameter, the central
// difference (L(v+ε) - L(v-ε)) / 2ε with ε = gcEps is compared with the
// analytic gradient from Backward; the norm-based relative error over the
// sampled elements must be below gcTol.
const (
	gcEps     = 1e-2
	gcTol     = 1e-2
	gcSamples = 24
)

type gradCase struct {
	name   string
	shapes [][]int
	setup  func(sc *nn.Scope) func(g *nn.Graph, xs []*nn.Tensor) *nn.Tensor
}

func same(f func(g *nn.Graph, xs []*nn.Tensor) *nn.Tensor) func(*nn.Scope) func(*nn.Graph, []*nn.Tensor) *nn.Tensor {
	return func(*nn.Scope) func(*nn.Graph, []*nn.Tensor) *nn.Tensor { return f }
}

func convCase(name string, cin, cout, k, s, p, d, groups, h int) gradCase {
	return gradCase{name, [][]int{{2, cin, h, h}}, func(sc *nn.Scope) func(*nn.Graph, []*nn.Tensor) *nn.Tensor {
		c := sc.Conv2D("c", cin, cout, k, s, p, d, groups)
		return func(g *nn.Graph, xs []*nn.Tensor) *nn.Tensor { return c.Forward(g, xs[0]) }
	}}
}

func bnCase(name string, affine, training bool) gradCase {
	return gradCase{name, [][]int{{3, 4, 3, 3}}, func(sc *nn.Scope) func(*nn.Graph, []*nn.Tensor) *nn.Tensor {
		bn := sc.BatchNorm("bn", 4, affine)
		be := sc.Backend()
		if affine { // move off the trivial init so dgamma matters
			be.Upload(bn.Weight.Value.Buffer(), []float32{0.5, 0.75, 1, 1.25})
		}
		be.Upload(bn.RunningVar.Buffer(), []float32{0.7, 0.9, 1.1, 1.3})
		return func(g *nn.Graph, xs []*nn.Tensor) *nn.Tensor {
			g.Training = training
			return bn.Forward(g, xs[0])
		}
	}}
}

var gradCases = []gradCase{
	convCase("conv3x3", 3, 4, 3, 1, 1, 1, 1, 5),
	convCase("conv1x1s2", 4, 3, 1, 2, 0, 1, 1, 6),
	convCase("pointwise", 5, 4, 1, 1, 0, 1, 1, 4),
	convCase("dw3x3s2", 3, 3, 3, 2, 1, 1, 3, 7),
	convCase("dil5x5", 3, 3, 5, 1, 4, 2, 3, 6),
	convCase("groups2", 4, 6, 3, 1, 1, 1, 2, 5),
	convCase("conv2x2", 3, 5, 2, 1, 0, 1, 1, 2),
	bnCase("bn_train_affine", true, true),
	bnCase("bn_train_plain", false, true),
	bnCase("bn_eval_affine", true, false),
	{"relu", [][]int{{2, 3, 4, 4}}, same(func(g *nn.Graph, xs []*nn.Tensor) *nn.Tensor { return g.ReLU(xs[0]) })},
	{"relu_shared", [][]int{{2, 3, 2, 2}}, same(func(g *nn.Graph, xs []*nn.Tensor) *nn.Tensor {
		r := g.ReLU(xs[0])
		if g.ReLU(xs[0]) != r {
			panic("ReLU of the same tensor not shared")
		}
		return g.Add(g.Scale(g.ReLU(xs[0]), 2), r, g.MaxPool(r, 3, 1, 1))
	})},
	{"maxpool3s2", [][]int{{2, 2, 7, 7}}, same(func(g *nn.Graph, xs []*nn.Tensor) *nn.Tensor { return g.MaxPool(xs[0], 3, 2, 1) })},
	{"avgpool3s1", [][]int{{2, 2, 5, 5}}, same(func(g *nn.Graph, xs []*nn.Tensor) *nn.Tensor { return g.AvgPool(xs[0], 3, 1, 1, false) })},
	{"avgpool5s3", [][]int{{2, 2, 8, 8}}, same(func(g *nn.Graph, xs []*nn.Tensor) *nn.Tensor { return g.AvgPool(xs[0], 5, 3, 0, false) })},
	{"gap", [][]int{{2, 3, 3, 4}}, same(func(g *nn.Graph, xs []*nn.Tensor) *nn.Tensor { return g.GlobalAvgPool(xs[0]) })},
	{"concat_slice", [][]int{{2, 2, 3, 3}, {2, 3, 3, 3}}, same(func(g *nn.Graph, xs []*nn.Tensor) *nn.Tensor {
		return g.SliceChannels(g.Concat(xs[0], xs[1], xs[0]), 1, 6)
	})},
	{"shift", [][]int{{2, 2, 5, 5}}, same(func(g *nn.Graph, xs []*nn.Tensor) *nn.Tensor { return g.Shift(xs[0], 1, 1) })},
	{"add_scale", [][]int{{2, 3}, {2, 3}, {2, 3}}, same(func(g *nn.Graph, xs []*nn.Tensor) *nn.Tensor {
		return g.Add(xs[0], g.Scale(xs[1], -0.7), xs[2], xs[0])
	})},
	{"add_chain", [][]int{{2, 3, 2, 2}, {2, 3, 2, 2}}, same(func(g *nn.Graph, xs []*nn.Tensor) *nn.Tensor {
		y := g.Add(g.Scale(xs[0], 2), xs[1])
		return g.Add(g.ReLU(y), g.Add(xs[1], g.ReLU(xs[0])), y)
	})},
	{"masked_sum", [][]int{{2, 2, 3, 3}, {2, 2, 3, 3}, {2, 2, 3, 3}}, same(func(g *nn.Graph, xs []*nn.Tensor) *nn.Tensor {
		return g.MaskedSum(xs, []float32{1, 0, 0.5})
	})},
	{"drop_path", [][]int{{6, 2, 2, 2}}, same(func(g *nn.Graph, xs []*nn.Tensor) *nn.Tensor {
		return g.DropPath(xs[0], 0.4, rand.New(rand.NewPCG(3, 4)))
	})},
	{"flatten_linear", [][]int{{3, 2, 2, 2}}, func(sc *nn.Scope) func(*nn.Graph, []*nn.Tensor) *nn.Tensor {
		l := sc.Linear("fc", 8, 5)
		return func(g *nn.Graph, xs []*nn.Tensor) *nn.Tensor { return l.Forward(g, g.Flatten(xs[0])) }
	}},
	{"cross_entropy", [][]int{{4, 6}}, same(func(g *nn.Graph, xs []*nn.Tensor) *nn.Tensor {
		return g.CrossEntropy(xs[0], []int32{0, 5, 2, 2}, 0.1)
	})},
}

// plainBackend hides the optional interfaces of the backend it wraps
// (HostBuffer), so Tensor.Host's Download path gets tested too.
type plainBackend struct{ nn.Backend }

func TestGradCheck(t *testing.T) {
	t.Run("cpu", func(t *testing.T) { testGradCheck(t, cpu.New(2)) })
	t.Run("plain", func(t *testing.T) { testGradCheck(t, plainBackend{cpu.New(2)}) })
}

func testGradCheck(t *testing.T, be nn.Backend) {
	for _, tc := range gradCases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, uint64(len(tc.name))))
			sc := nn.NewScope(be, rand.New(rand.NewPCG(5, 6)))
			build := tc.setup(sc)
			hosts := make([][]float32, len(tc.shapes))
			for i, sh := range tc.shapes {
				n := 1
				for _, d := range sh {
					n *= d
				}
				hosts[i] = make([]float32, n)
				for j := range hosts[i] {
					hosts[i][j] = float32(rng.NormFloat64())
				}
			}
			g := nn.NewGraph(be)
			var r []float32
			var xs []*nn.Tensor
			forward := func() (*nn.Tensor, float64) {
				g.Reset()
				xs = xs[:0]
				for i, h := range hosts {
					xs = append(xs, nn.RequireGrad(g.FromHost(h, tc.shapes[i]...)))
				}
				y := build(g, xs)
				if r == nil {
					r = make([]float32, y.Numel())
					for j := range r {
						r[j] = float32(rng.NormFloat64())
					}
				}
				var l float64
				for j, v := range y.Host() {
					l += float64(r[j]) * float64(v)
				}
				return y, l
			}
			nn.ZeroGrad(sc.Params())
			y, _ := forward()
			g.BackwardFrom(y, r)
			type target struct {
				name     string
				values   []float32
				analytic []float32
				param    *nn.Param // values are uploaded to it before each forward
			}
			var targets []target
			for i, x := range xs {
				grad := make([]float32, x.Numel()) // no gradient: zeros (masked-out terms)
				if x.Grad() != nil {
					copy(grad, x.Grad().Host())
				}
				targets = append(targets, target{fmt.Sprintf("input %d", i), hosts[i], grad, nil})
			}
			for _, p := range sc.Params() {
				targets = append(targets, target{p.Name, append([]float32{}, p.Value.Host()...), append([]float32{}, p.Grad.Host()...), p})
			}
			for _, tg := range targets {
				var fd, an []float32
				idx := rng.Perm(len(tg.values))
				if len(idx) > gcSamples {
					idx = idx[:gcSamples]
				}
				at := func(j int, v float32) float64 {
					tg.values[j] = v
					if tg.param != nil {
						be.Upload(tg.param.Value.Buffer(), tg.values)
					}
					_, l := forward()
					return l
				}
				for _, j := range idx {
					v := tg.values[j]
					lp := at(j, v+gcEps)
					lm := at(j, v-gcEps)
					tg.values[j] = v
					if tg.param != nil {
						be.Upload(tg.param.Value.Buffer(), tg.values)
					}
					fd = append(fd, float32((lp-lm)/(2*gcEps)))
					an = append(an, tg.analytic[j])
				}
				if allZero(fd) && allZero(an) {
					continue
				}
				if e := relErr(an, fd); !(e <= gcTol) || math.IsNaN(e) {
					t.Errorf("%s: analytic vs finite-difference relative error %.3g > %g\nanalytic %v\nfd       %v", tg.name, e, gcTol, an, fd)
				}
			}
		})
	}
}

func allZero(v []float32) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}
