package darts

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"pertnas/formats/checkpoint"
	"pertnas/formats/genotype"
	"pertnas/nn"
)

// Tolerances against the float64 PyTorch reference.
const (
	tolOut  = 1e-4 // logits, loss
	tolGrad = 1e-4 // gradients
)

// TestEvalNetworkParity runs NetworkCIFAR (DARTS_V2, C 8, 4 cells: normal,
// reduction, reduction, normal after reduction; auxiliary head on cell 2)
// with the PyTorch fixture's weights: eval-mode logits, train-mode logits,
// auxiliary logits, loss, gradients and updated BN statistics.
func TestEvalNetworkParity(t *testing.T) {
	f := loadFixture(t, "testdata/eval_cifar.safetensors")
	b := newBackend()
	net := fixtureNetwork(t, f, b, NewCIFARNetwork)
	in := f.input(b)
	labels := f.labels()

	g := nn.NewGraph(b)
	g.Training, g.NoGrad = false, true
	logits, aux := net.Forward(g, in.Value, nil)
	if aux != nil {
		t.Error("auxiliary logits in eval mode")
	}
	assertClose(t, "eval logits", logits.Host(), f.get("logits_eval").F32, tolOut)

	checkTrainStep(t, f, b, net, in.Value, labels, in)
}

// TestSearchNetworkParity runs a search network (C 8, 3 cells) with a mixed
// edge configuration (op subsets, none, a none-only edge, an empty edge, an
// edge with all ops) and six masked (edge, op) pairs against PyTorch.
func TestSearchNetworkParity(t *testing.T) {
	f := loadFixture(t, "testdata/search.safetensors")
	b := newBackend()
	var cfg SearchConfig
	var masked [][2]int
	if err := json.Unmarshal([]byte(f.meta["config"]), &cfg.Edges); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(f.meta["masked"]), &masked); err != nil {
		t.Fatal(err)
	}
	net, err := NewSearchNetwork(b, cfg, SearchOptions{C: f.metaInt("C"), Layers: f.metaInt("layers"), Classes: f.metaInt("classes")}, rand.New(rand.NewPCG(3, 4)))
	if err != nil {
		t.Fatal(err)
	}
	if err := net.Scope().LoadStateDict(f.stateDict(net.Scope())); err != nil {
		t.Fatal(err)
	}
	for _, m := range masked {
		if err := net.SetMask(m[0], m[1], false); err != nil {
			t.Fatal(err)
		}
	}
	in := f.input(b)
	g := nn.NewGraph(b)
	g.Training, g.NoGrad = false, true
	assertClose(t, "eval logits", net.Forward(g, in.Value).Host(), f.get("logits_eval").F32, tolOut)

	g = nn.NewGraph(b)
	g.Training = true
	logits := net.Forward(g, in.Value)
	assertClose(t, "train logits", logits.Host(), f.get("logits").F32, tolOut)
	loss := g.CrossEntropy(logits, f.labels(), 0)
	assertClose(t, "loss", loss.Host(), f.get("loss").F32, tolOut)
	nn.ZeroGrad(net.Params())
	g.Backward(loss)
	checkGrads(t, f, append(net.Params(), in))
	checkPost(t, f, net.Scope())
}

func checkGrads(t *testing.T, f *fixture, params []*nn.Param) {
	t.Helper()
	byName := map[string]*nn.Param{}
	for _, p := range params {
		byName[p.Name] = p
	}
	names := slices.Clone(f.grads)
	if _, ok := f.tensors["grad.input"]; ok {
		names = append(names, "input")
	}
	for _, name := range names {
		p := byName[name]
		if p == nil {
			t.Errorf("no parameter %s", name)
			continue
		}
		assertClose(t, "gradient of "+name, p.Grad.Host(), f.get("grad."+name).F32, tolGrad)
	}
}

// checkPost compares BN running statistics after the training forward.
func checkPost(t *testing.T, f *fixture, s *nn.Scope) {
	t.Helper()
	own := map[string]checkpoint.Tensor{}
	for _, nt := range s.StateDict() {
		own[nt.Name] = nt
	}
	n := 0
	for _, name := range f.order {
		rest, ok := strings.CutPrefix(name, "post.")
		if !ok {
			continue
		}
		n++
		want := f.tensors[name]
		got := own[rest]
		if want.I64 != nil {
			if len(got.I64) != 1 || got.I64[0] != want.I64[0] {
				t.Errorf("%s = %v, want %v", rest, got.I64, want.I64)
			}
			continue
		}
		assertClose(t, "after training forward, "+rest, got.F32, want.F32, tolOut)
	}
	if n == 0 {
		t.Error("fixture has no post.* tensors")
	}
}

// checkTrainStep runs net on x in training mode (drop path off) and
// compares the logits, auxiliary logits, loss (auxiliary weight 0.4), the
// gradients of net's parameters and of extra, and the updated batch-norm
// statistics with the fixture.
func checkTrainStep(t *testing.T, f *fixture, b nn.Backend, net *EvalNetwork, x *nn.Tensor, labels []int32, extra ...*nn.Param) {
	t.Helper()
	g := nn.NewGraph(b)
	g.Training = true
	net.DropPathProb = 0
	logits, aux := net.Forward(g, x, nil)
	if aux == nil {
		t.Fatal("no auxiliary logits in training")
	}
	assertClose(t, "train logits", logits.Host(), f.get("logits").F32, tolOut)
	assertClose(t, "auxiliary logits", aux.Host(), f.get("logits_aux").F32, tolOut)
	loss := g.Add(g.CrossEntropy(logits, labels, 0), g.Scale(g.CrossEntropy(aux, labels, 0), 0.4))
	assertClose(t, "loss", loss.Host(), f.get("loss").F32, tolOut)
	nn.ZeroGrad(net.Params())
	g.Backward(loss)
	checkGrads(t, f, append(net.Params(), extra...))
	checkPost(t, f, net.Scope())
}

// fixtureNetwork builds the evaluation network newNet makes for the
// fixture's genotype, C, layers and classes (auxiliary head on) and loads
// the fixture's weights into it.
func fixtureNetwork(t *testing.T, f *fixture, b nn.Backend,
	newNet func(nn.Backend, genotype.Genotype, EvalOptions, *rand.Rand) (*EvalNetwork, error)) *EvalNetwork {
	t.Helper()
	geno, ok := genotype.Named(f.meta["genotype"])
	if !ok {
		t.Fatalf("fixture genotype %q is not a built-in name", f.meta["genotype"])
	}
	opt := EvalOptions{C: f.metaInt("C"), Layers: f.metaInt("layers"), Classes: f.metaInt("classes"), Auxiliary: true}
	net, err := newNet(b, geno, opt, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if err := net.Scope().LoadStateDict(f.stateDict(net.Scope())); err != nil {
		t.Fatal(err)
	}
	return net
}

// TestImageNetNetworkParity runs NetworkImageNet (PERTNAS_EVOLUTIONARY, C 8,
// 3 cells, auxiliary head) on two generated 224x224 images against PyTorch.
func TestImageNetNetworkParity(t *testing.T) {
	f := loadFixture(t, "testdata/eval_imagenet.safetensors")
	b := newBackend()
	net := fixtureNetwork(t, f, b, NewImageNetNetwork)
	vals := splitmix(uint64(f.metaInt("input_seed")), 2*3*224*224)
	data := make([]float32, len(vals))
	for i, u := range vals {
		data[i] = float32(u*2 - 1)
	}
	x := nn.FromHost(b, data, 2, 3, 224, 224)
	labels := f.labels()

	g := nn.NewGraph(b)
	g.Training, g.NoGrad = false, true
	logits, _ := net.Forward(g, x, nil)
	assertClose(t, "eval logits", logits.Host(), f.get("logits_eval").F32, tolOut)

	checkTrainStep(t, f, b, net, x, labels)
}
