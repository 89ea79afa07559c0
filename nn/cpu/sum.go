package cpu

import (
	"pertnas/nn"
	"pertnas/nn/cpu/kern"
)

// SumInputs sets y = Σ value(xs[i]) (nn.FusedInput): plane by plane, the
// first term's values written as ApplyInput writes them and each further
// term added as ApplyInput adds it (kern.Axpy with alpha 1), so y is read
// and written once instead of once per term.
func (be *Backend) SumInputs(n, c, hw int, xs []nn.Input, y nn.Buffer) {
	yd := data(y)
	be.terms = be.terms[:0]
	for _, x := range xs {
		in := inputOf(x)
		checkInput("SumInputs", n, c, hw, in, yd)
		be.terms = append(be.terms, in)
	}
	if len(be.terms) == 0 {
		panic("cpu: SumInputs of nothing")
	}
	terms := be.terms
	be.dwPlanes(n*c, hw, func(p, worker int) {
		dst, ch := yd[p*hw:(p+1)*hw], p%c
		terms[0].values(dst, ch, terms[0].plane(p, c, hw), false)
		for _, in := range terms[1:] {
			kern.Axpy(1, be.planeValues(in, ch, in.plane(p, c, hw), worker), dst)
		}
	})
	clear(be.terms) // drop the slice references until the next call
}
