package nn

import "fmt"

// MaxDims is the largest tensor rank the engine handles (NCHW).
const MaxDims = 4

// Tensor is a float32 array of up to four dimensions stored in a Buffer on
// a Backend. Tensors made by a Graph live until the Graph's next Reset.
type Tensor struct {
	shape [MaxDims]int
	nd    int
	n     int
	buf   Buffer
	b     Backend
	slot  int     // index of buf in its Graph's used list; -1 when not owned
	graph *Graph  // the Graph that made the tensor this step, or nil
	relu  *Tensor // cached g.ReLU(t) of a graph tensor

	// Autograd bookkeeping (graph tensors and parameters only).
	grad     *Tensor // accumulated gradient; nil until something flows in
	needGrad bool    // a gradient must be propagated to this tensor
	param    *Param  // set for parameter values: grads go to param.Grad
}

// Shape returns the dimensions (NCHW, [N, F], [C] or [] for a scalar).
// The slice aliases the tensor: do not modify it.
func (t *Tensor) Shape() []int { return t.shape[:t.nd] }

// Dim returns dimension i.
func (t *Tensor) Dim(i int) int { return t.shape[i] }

// Numel returns the number of elements (1 for a scalar).
func (t *Tensor) Numel() int { return t.n }

// Buffer returns the tensor's storage on its backend.
func (t *Tensor) Buffer() Buffer { return t.buf }

// Backend returns the backend holding the tensor.
func (t *Tensor) Backend() Backend { return t.b }

// Grad returns the gradient accumulated by the last Graph.Backward for a
// graph tensor, or nil. (Parameter gradients are in Param.Grad.) The tape
// reuses gradient storage: read an intermediate tensor's gradient only for
// inputs and leaves; for others it may have been overwritten.
func (t *Tensor) Grad() *Tensor { return t.grad }

// Host returns the tensor's values on the host. On a host backend it is the
// storage itself: callers must not keep it across Graph.Reset or modify it.
func (t *Tensor) Host() []float32 {
	if hb, ok := t.b.(HostBuffer); ok {
		return hb.Data(t.buf)[:t.n]
	}
	out := make([]float32, t.n)
	t.b.Download(out, t.buf)
	return out
}

// Item returns the single value of a one-element tensor.
func (t *Tensor) Item() float32 {
	if t.n != 1 {
		panic(fmt.Sprintf("nn: Item on tensor of shape %v", t.Shape()))
	}
	if hb, ok := t.b.(HostBuffer); ok {
		return hb.Data(t.buf)[0]
	}
	var v [1]float32
	t.b.Download(v[:], t.buf)
	return v[0]
}

func (t *Tensor) setShape(shape []int) {
	if len(shape) > MaxDims {
		panic(fmt.Sprintf("nn: tensor rank %d > %d", len(shape), MaxDims))
	}
	t.nd = len(shape)
	t.n = 1
	for i, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("nn: negative dimension in shape %v", shape))
		}
		t.shape[i] = d
		t.n *= d
	}
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// NewTensor allocates a zeroed tensor of the given shape on b.
func NewTensor(b Backend, shape ...int) *Tensor {
	t := &Tensor{b: b, slot: -1}
	t.setShape(shape)
	t.buf = b.Alloc(t.n)
	return t
}

// FromHost allocates a tensor on b holding a copy of data;
// len(data) must equal the product of shape.
func FromHost(b Backend, data []float32, shape ...int) *Tensor {
	t := NewTensor(b, shape...)
	if len(data) != t.n {
		panic(fmt.Sprintf("nn: FromHost: %d values for shape %v", len(data), shape))
	}
	b.Upload(t.buf, data)
	return t
}

func sameShape(a, b *Tensor) bool {
	if a.nd != b.nd {
		return false
	}
	for i := 0; i < a.nd; i++ {
		if a.shape[i] != b.shape[i] {
			return false
		}
	}
	return true
}
