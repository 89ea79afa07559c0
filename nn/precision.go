package nn

import "math"

// ActivationAllocator is an optional Backend extension for mixed
// precision: AllocActivation returns a zeroed buffer of n values for a
// graph's tensors (activations, their gradients, losses), which such a
// backend may store in a narrower type than float32. Every method of a
// backend that implements it accepts buffers of either kind in any
// position; Upload and Download convert. Parameters, their gradients and
// optimizer state stay in buffers from Alloc (float32).
type ActivationAllocator interface {
	AllocActivation(n int) Buffer
}

// GradUnscaler is an optional Backend extension for loss scaling: it
// multiplies every buffer by inv in place and reports whether every result
// is finite, waiting for the device once. Backends without it are served by
// Scale and SumSquares per buffer.
type GradUnscaler interface {
	UnscaleGrads(grads []Buffer, inv float32) (finite bool)
}

// SumSquarer is an optional Backend extension: SumSquaresAll returns the
// sum over all buffers of SumSquares, in the same fixed order, waiting for
// the device once instead of once per buffer.
type SumSquarer interface {
	SumSquaresAll(xs []Buffer) float64
}

// gradBuffers lists the gradient buffers of params.
func gradBuffers(params []*Param) []Buffer {
	bufs := make([]Buffer, len(params))
	for i, p := range params {
		bufs[i] = p.Grad.buf
	}
	return bufs
}

// sumSquaresAll is the sum of squares of the gradients of params, summed
// per parameter in order (float64).
func sumSquaresAll(params []*Param) float64 {
	if len(params) == 0 {
		return 0
	}
	be := params[0].Grad.b
	if s, ok := be.(SumSquarer); ok {
		return s.SumSquaresAll(gradBuffers(params))
	}
	var ss float64
	for _, p := range params {
		ss += be.SumSquares(p.Grad.buf)
	}
	return ss
}

// LossScaler is dynamic loss scaling for fp16 training, as PyTorch's
// GradScaler: the backward pass starts from Scale instead of 1, so small
// gradients survive fp16; before each optimizer step the parameter
// gradients are divided by Scale. A step whose gradients overflowed
// (inf/NaN) is skipped and Scale halves; after GrowthInterval clean steps
// in a row Scale doubles.
type LossScaler struct {
	Scale          float32 // current scale
	GrowthInterval int     // clean steps before the scale doubles
	Clean          int     // clean steps since the last change
	Skipped        int64   // steps skipped for overflow, in total
}

// NewLossScaler returns PyTorch's defaults: scale 2^16, growth every 2000
// clean steps.
func NewLossScaler() *LossScaler {
	return &LossScaler{Scale: 65536, GrowthInterval: 2000}
}

// Backward runs g.BackwardSeed(loss, Scale) (a nil scaler: g.Backward).
func (s *LossScaler) Backward(g *Graph, loss *Tensor) {
	if s == nil {
		g.Backward(loss)
		return
	}
	g.BackwardSeed(loss, s.Scale)
}

// Unscale divides the gradients of params by Scale and reports whether
// the optimizer should step (every gradient finite). On overflow the scale
// halves; after GrowthInterval clean steps it doubles. A nil scaler always
// steps.
func (s *LossScaler) Unscale(params []*Param) bool {
	if s == nil || len(params) == 0 {
		return true
	}
	inv := 1 / s.Scale
	be := params[0].Grad.b
	var finite bool
	if u, ok := be.(GradUnscaler); ok {
		finite = u.UnscaleGrads(gradBuffers(params), inv)
	} else {
		for _, p := range params {
			be.Scale(p.Grad.buf, inv, p.Grad.buf)
		}
		ss := sumSquaresAll(params)
		finite = !math.IsNaN(ss) && !math.IsInf(ss, 0)
	}
	if !finite {
		s.Scale /= 2
		s.Clean = 0
		s.Skipped++
		return false
	}
	if s.Clean++; s.Clean >= s.GrowthInterval {
		s.Scale *= 2
		s.Clean = 0
	}
	return true
}
