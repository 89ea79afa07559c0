package nn

import (
	"fmt"
	"math"

	"pertnas/formats/checkpoint"
)

// SGD is stochastic gradient descent with momentum and weight decay,
// PyTorch semantics (dampening 0):
//
//	g = grad + WeightDecay*w
//	buf = g on the first step, else Momentum*buf + g
//	w -= LR * buf            (Nesterov: w -= LR * (g + Momentum*buf))
type SGD struct {
	LR, Momentum, WeightDecay float32
	Nesterov                  bool

	params []*Param
	bufs   []*Tensor // momentum buffers, allocated at construction
	steps  int64     // completed steps (0: buffers not yet initialised)
}

// NewSGD returns an optimiser over params.
func NewSGD(params []*Param, lr, momentum, wd float32) *SGD {
	o := &SGD{LR: lr, Momentum: momentum, WeightDecay: wd, params: params}
	if len(params) > 0 {
		b := params[0].Value.b
		o.bufs = make([]*Tensor, len(params))
		for i, p := range params {
			o.bufs[i] = NewTensor(b, p.Value.Shape()...)
		}
	}
	return o
}

// Params returns the parameters the optimiser updates.
func (o *SGD) Params() []*Param { return o.params }

// Steps returns the number of completed steps.
func (o *SGD) Steps() int64 { return o.steps }

// Step applies one update from the current gradients.
func (o *SGD) Step() {
	first := o.steps == 0
	for i, p := range o.params {
		var buf Buffer
		if o.Momentum != 0 {
			buf = o.bufs[i].buf
		}
		p.Value.b.SGDStep(p.Value.buf, p.Grad.buf, buf, o.LR, o.Momentum, o.WeightDecay, o.Nesterov, first)
	}
	o.steps++
}

// ZeroGrad sets every parameter's gradient to zero.
func (o *SGD) ZeroGrad() { ZeroGrad(o.params) }

// ZeroGrad sets the gradients of params to zero.
func ZeroGrad(params []*Param) {
	for _, p := range params {
		p.Grad.b.Fill(p.Grad.buf, 0)
	}
}

// ClipGradNorm scales the gradients so that their global L2 norm is at most
// maxNorm, like torch.nn.utils.clip_grad_norm_ (coefficient
// maxNorm/(norm+1e-6), applied when below 1). It returns the norm before
// clipping. Sums of squares are taken in float64 in a fixed order.
func ClipGradNorm(params []*Param, maxNorm float32) float32 {
	total := float32(math.Sqrt(sumSquaresAll(params)))
	coef := maxNorm / (total + 1e-6)
	if coef < 1 {
		for _, p := range params {
			p.Grad.b.Scale(p.Grad.buf, coef, p.Grad.buf)
		}
	}
	return total
}

// State returns the optimiser state for resuming: "step" (int64 scalar) and
// "<param>.momentum_buffer" for every parameter (zeros before the first step).
func (o *SGD) State() []checkpoint.Tensor {
	out := []checkpoint.Tensor{{Name: "step", Shape: []int{}, I64: []int64{o.steps}}}
	for i, p := range o.params {
		t := o.bufs[i]
		data := make([]float32, t.n)
		t.b.Download(data, t.buf)
		out = append(out, checkpoint.Tensor{Name: p.Name + ".momentum_buffer", Shape: append([]int{}, t.Shape()...), F32: data})
	}
	return out
}

// LoadState restores what State returned; the error names a missing,
// unexpected or misshapen entry, and nothing changes on error.
func (o *SGD) LoadState(st []checkpoint.Tensor) error {
	byName := map[string]*checkpoint.Tensor{}
	for i := range st {
		if byName[st[i].Name] != nil {
			return fmt.Errorf("optimizer state: duplicate entry %q", st[i].Name)
		}
		byName[st[i].Name] = &st[i]
	}
	step := byName["step"]
	if step == nil || len(step.I64) != 1 || step.I64[0] < 0 {
		return fmt.Errorf("optimizer state: missing or bad \"step\"")
	}
	for i, p := range o.params {
		name := p.Name + ".momentum_buffer"
		nt := byName[name]
		if nt == nil {
			return fmt.Errorf("optimizer state: missing %q", name)
		}
		if !equalInts(nt.Shape, o.bufs[i].Shape()) || len(nt.F32) != o.bufs[i].n {
			return fmt.Errorf("optimizer state: %q has shape %v, want %v", name, nt.Shape, o.bufs[i].Shape())
		}
	}
	if len(st) != len(o.params)+1 {
		return fmt.Errorf("optimizer state: %d entries, want %d", len(st), len(o.params)+1)
	}
	for i, p := range o.params {
		o.bufs[i].b.Upload(o.bufs[i].buf, byName[p.Name+".momentum_buffer"].F32)
	}
	o.steps = step.I64[0]
	return nil
}
