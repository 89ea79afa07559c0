package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"pertnas/formats/checkpoint"
)

// Param is a trainable tensor, its gradient and its PyTorch state_dict name.
type Param struct {
	Name  string // e.g. "cells.0._ops.3.op.1.weight"
	Value *Tensor
	Grad  *Tensor // same shape as Value; accumulated by Graph.Backward
}

// registry is shared by a Scope and all its children.
type registry struct {
	b       Backend
	rng     *rand.Rand
	params  []*Param
	bns     []*BatchNorm
	entries []entry // state_dict order
	names   map[string]bool
}

// entry is one module's contribution to the state dict, in creation order.
type entry struct {
	param *Param
	bn    *BatchNorm // running_mean, running_var, num_batches_tracked
}

// Scope names and registers parameters and batch-norm layers. Names are
// dotted like PyTorch's state_dict keys: s.Sub("cells").Sub("0").Conv2D("conv", ...)
// creates "cells.0.conv.weight". Everything created under a scope tree is
// registered once, in creation order, which is the state_dict order when
// modules are created in the PyTorch module's registration order.
type Scope struct {
	prefix string
	reg    *registry
}

// NewScope starts a registry on b; rng (seeded by the caller) draws every
// initial weight.
func NewScope(b Backend, rng *rand.Rand) *Scope {
	return &Scope{reg: &registry{b: b, rng: rng, names: map[string]bool{}}}
}

// Sub returns a child scope whose names get the prefix "name.".
func (s *Scope) Sub(name string) *Scope {
	return &Scope{prefix: s.prefix + name + ".", reg: s.reg}
}

// Prefix returns the scope's name prefix ("" or "a.b.").
func (s *Scope) Prefix() string { return s.prefix }

// Backend returns the backend tensors are created on.
func (s *Scope) Backend() Backend { return s.reg.b }

// RNG returns the generator used for initialisation.
func (s *Scope) RNG() *rand.Rand { return s.reg.rng }

// Params returns every parameter of the registry in creation order.
func (s *Scope) Params() []*Param { return s.reg.params }

// BatchNorms returns every batch-norm layer of the registry in creation order.
func (s *Scope) BatchNorms() []*BatchNorm { return s.reg.bns }

func (s *Scope) claim(name string) string {
	full := s.prefix + name
	if s.reg.names[full] {
		panic(fmt.Sprintf("nn: duplicate tensor name %q", full))
	}
	s.reg.names[full] = true
	return full
}

// NewParam registers a zero-initialised parameter "prefix.name" of the given
// shape (with its zeroed gradient).
func (s *Scope) NewParam(name string, shape ...int) *Param {
	p := &Param{Name: s.claim(name)}
	p.Value = NewTensor(s.reg.b, shape...)
	p.Value.param = p
	p.Value.needGrad = true
	p.Grad = NewTensor(s.reg.b, shape...)
	s.reg.params = append(s.reg.params, p)
	s.reg.entries = append(s.reg.entries, entry{param: p})
	return p
}

// initUniform fills p with uniform(-bound, bound) draws from the scope RNG.
func (s *Scope) initUniform(p *Param, bound float64) {
	data := make([]float32, p.Value.Numel())
	for i := range data {
		data[i] = float32((s.reg.rng.Float64()*2 - 1) * bound)
	}
	s.reg.b.Upload(p.Value.buf, data)
}

// kaimingBound is PyTorch's kaiming_uniform_(a=sqrt(5)) bound: 1/sqrt(fan_in).
func kaimingBound(fanIn int) float64 { return 1 / math.Sqrt(float64(fanIn)) }

// Conv2D creates a bias-free convolution "name.weight" [cout, cin/groups, k, k]
// initialised like PyTorch (kaiming_uniform, a=sqrt(5)).
func (s *Scope) Conv2D(name string, cin, cout, k, stride, pad, dilation, groups int) *Conv2D {
	if groups < 1 || cin%groups != 0 || cout%groups != 0 {
		panic(fmt.Sprintf("nn: Conv2D %s: channels %d->%d not divisible by groups %d", s.prefix+name, cin, cout, groups))
	}
	w := s.Sub(name).NewParam("weight", cout, cin/groups, k, k)
	s.initUniform(w, kaimingBound(cin/groups*k*k))
	return &Conv2D{W: w, Cin: cin, Cout: cout, K: k, Stride: stride, Pad: pad, Dilation: dilation, Groups: groups}
}

// Linear creates "name.weight" [out, in] and "name.bias" [out], initialised
// like PyTorch (weight kaiming_uniform a=sqrt(5), bias uniform ±1/sqrt(in)).
func (s *Scope) Linear(name string, in, out int) *Linear {
	sub := s.Sub(name)
	w := sub.NewParam("weight", out, in)
	s.initUniform(w, kaimingBound(in))
	b := sub.NewParam("bias", out)
	s.initUniform(b, 1/math.Sqrt(float64(in)))
	return &Linear{W: w, B: b, In: in, Out: out}
}

// BatchNorm creates a batch-norm layer over c channels (eps 1e-5, momentum
// 0.1): "name.weight" (ones) and "name.bias" (zeros) when affine, then
// running_mean (0), running_var (1) and num_batches_tracked (0).
func (s *Scope) BatchNorm(name string, c int, affine bool) *BatchNorm {
	sub := s.Sub(name)
	bn := &BatchNorm{C: c, Eps: 1e-5, Momentum: 0.1}
	if affine {
		bn.Weight = sub.NewParam("weight", c)
		ones := make([]float32, c)
		for i := range ones {
			ones[i] = 1
		}
		s.reg.b.Upload(bn.Weight.Value.buf, ones)
		bn.Bias = sub.NewParam("bias", c)
	}
	bn.Name = s.prefix + name
	sub.claim("running_mean")
	sub.claim("running_var")
	sub.claim("num_batches_tracked")
	bn.RunningMean = NewTensor(s.reg.b, c)
	bn.RunningVar = NewTensor(s.reg.b, c)
	s.reg.b.Fill(bn.RunningVar.buf, 1)
	s.reg.bns = append(s.reg.bns, bn)
	s.reg.entries = append(s.reg.entries, entry{bn: bn})
	return bn
}

// StateDict returns every tensor PyTorch's state_dict would hold, in order:
// parameters and BN buffers (running_mean, running_var, num_batches_tracked
// as an int64 scalar). The data are copies.
func (s *Scope) StateDict() []checkpoint.Tensor {
	var out []checkpoint.Tensor
	host := func(name string, t *Tensor) checkpoint.Tensor {
		data := make([]float32, t.Numel())
		t.b.Download(data, t.buf)
		return checkpoint.Tensor{Name: name, Shape: append([]int{}, t.Shape()...), F32: data}
	}
	for _, e := range s.reg.entries {
		if e.param != nil {
			out = append(out, host(e.param.Name, e.param.Value))
			continue
		}
		out = append(out,
			host(e.bn.Name+".running_mean", e.bn.RunningMean),
			host(e.bn.Name+".running_var", e.bn.RunningVar),
			checkpoint.Tensor{Name: e.bn.Name + ".num_batches_tracked", Shape: []int{}, I64: []int64{e.bn.NumBatchesTracked}})
	}
	return out
}

// LoadStateDict sets every registered tensor from sd. Like PyTorch's strict
// load_state_dict it fails (changing nothing) if a name is missing, unexpected,
// duplicated, or has the wrong shape or element type; the error names the tensor.
func (s *Scope) LoadStateDict(sd []checkpoint.Tensor) error {
	byName := make(map[string]*checkpoint.Tensor, len(sd))
	for i := range sd {
		nt := &sd[i]
		if byName[nt.Name] != nil {
			return fmt.Errorf("state dict: duplicate tensor %q", nt.Name)
		}
		byName[nt.Name] = nt
	}
	want := s.StateDict() // names, shapes and kinds in order
	for _, w := range want {
		got := byName[w.Name]
		if got == nil {
			return fmt.Errorf("state dict: missing tensor %q", w.Name)
		}
		if !equalInts(got.Shape, w.Shape) {
			return fmt.Errorf("state dict: tensor %q has shape %v, want %v", w.Name, got.Shape, w.Shape)
		}
		if w.I64 != nil {
			if len(got.I64) != 1 || got.F32 != nil {
				return fmt.Errorf("state dict: tensor %q must be one int64 value", w.Name)
			}
		} else if len(got.F32) != numel(w.Shape) || got.I64 != nil {
			return fmt.Errorf("state dict: tensor %q must hold %d float32 values, has %d", w.Name, numel(w.Shape), len(got.F32))
		}
		delete(byName, w.Name)
	}
	for _, nt := range sd {
		if byName[nt.Name] != nil {
			return fmt.Errorf("state dict: unexpected tensor %q", nt.Name)
		}
	}
	for i := range sd {
		byName[sd[i].Name] = &sd[i]
	}
	b := s.reg.b
	for _, e := range s.reg.entries {
		if e.param != nil {
			b.Upload(e.param.Value.buf, byName[e.param.Name].F32)
			continue
		}
		b.Upload(e.bn.RunningMean.buf, byName[e.bn.Name+".running_mean"].F32)
		b.Upload(e.bn.RunningVar.buf, byName[e.bn.Name+".running_var"].F32)
		e.bn.NumBatchesTracked = byName[e.bn.Name+".num_batches_tracked"].I64[0]
	}
	return nil
}

// NumParams returns the total number of trainable values.
func (s *Scope) NumParams() int {
	n := 0
	for _, p := range s.reg.params {
		n += p.Value.Numel()
	}
	return n
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
