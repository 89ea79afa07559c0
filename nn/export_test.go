package nn

// BackwardFrom seeds y's gradient with dy and propagates (tests only).
func (g *Graph) BackwardFrom(y *Tensor, dy []float32) {
	if !y.needGrad {
		return
	}
	gt := g.gradOf(y)
	g.b.Upload(gt.buf, dy)
	g.propagate()
}

// RequireGrad marks a leaf tensor as needing a gradient (tests only).
func RequireGrad(t *Tensor) *Tensor { t.needGrad = true; return t }
