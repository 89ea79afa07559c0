package cpu

import (
	"fmt"

	"pertnas/nn"
	"pertnas/nn/cpu/kern"
)

// Virtual inputs (nn.FusedInput): a batch norm's or a ReLU's output that
// was never stored is recomputed plane by plane from its source into
// per-worker scratch, with the same arithmetic (kern.ScaleShift, then
// kern.ReluForward, or both in one pass by kern.ScaleShiftReLU) that would
// have produced it, so the values are bit for bit those of the stored tensor.

// input is an nn.Input on host slices.
type input struct {
	x, scale, shift []float32
	parts           [][]float32 // x nil: the channel concatenation of parts
	partC           []int
	relu            bool
	dw              nn.ConvDesc
	dww             []float32 // set: a depthwise stage (see nn.Input)
}

func inputOf(in nn.Input) input {
	r := input{x: data(in.X), scale: data(in.Scale), shift: data(in.Shift), relu: in.ReLU, dw: in.DW, dww: data(in.DWW)}
	if in.X == nil {
		if len(in.Parts) == 0 || len(in.Parts) != len(in.PartC) {
			panic(fmt.Sprintf("cpu: input of %d parts with %d channel counts", len(in.Parts), len(in.PartC)))
		}
		r.partC = in.PartC
		for _, p := range in.Parts {
			r.parts = append(r.parts, data(p))
		}
	}
	return r
}

// plane returns source plane p ([n, c, hw] order) of the input.
func (in input) plane(p, c, hw int) []float32 {
	if in.parts == nil {
		return in.x[p*hw : (p+1)*hw]
	}
	n, ch := p/c, p%c
	for j, pc := range in.partC {
		if ch < pc {
			q := (n*pc + ch) * hw
			return in.parts[j][q : q+hw]
		}
		ch -= pc
	}
	panic(fmt.Sprintf("cpu: channel %d beyond the input's parts %v", p%c, in.partC))
}

// checkLen panics unless the source holds [n, c, hw].
func (in input) checkLen(op string, n, c, hw int) {
	if in.parts == nil {
		if len(in.x) < n*c*hw {
			panic(fmt.Sprintf("cpu: %s: input of %d for [%d %d %d]", op, len(in.x), n, c, hw))
		}
		return
	}
	total := 0
	for j, pc := range in.partC {
		if pc < 1 || len(in.parts[j]) < n*pc*hw {
			panic(fmt.Sprintf("cpu: %s: part %d of %d for [%d %d %d]", op, j, len(in.parts[j]), n, pc, hw))
		}
		total += pc
	}
	if total != c {
		panic(fmt.Sprintf("cpu: %s: parts of %v channels for %d", op, in.partC, c))
	}
}

// affine returns the scale and shift of c channels (nil, nil: none), as the
// kern depthwise kernels that form the values take them.
func (in input) affine(c int) (scale, shift []float32) {
	if in.scale == nil {
		return nil, nil
	}
	return in.scale[:c], in.shift[:c]
}

// plain reports whether the values are x itself.
func (in input) plain() bool { return in.scale == nil && !in.relu && in.dww == nil && in.parts == nil }

// elementwise reports whether the input has no depthwise stage.
func (in input) elementwise() bool { return in.dww == nil }

func (in input) check(op string, c int) {
	if (in.scale == nil) != (in.shift == nil) || (in.scale != nil && (len(in.scale) < c || len(in.shift) < c)) {
		panic(fmt.Sprintf("cpu: %s: input scale/shift of %d/%d for %d channels", op, len(in.scale), len(in.shift), c))
	}
}

// values writes the values of channel c's plane src to dst (equal lengths);
// with affineOnly the ReLU is left out.
func (in input) values(dst []float32, c int, src []float32, affineOnly bool) {
	if in.scale != nil && in.relu && !affineOnly {
		kern.ScaleShiftReLU(dst, src, in.scale[c], in.shift[c])
		return
	}
	from := src
	if in.scale != nil {
		kern.ScaleShift(dst, src, in.scale[c], in.shift[c])
		from = dst
	}
	if in.relu && !affineOnly {
		kern.ReluForward(dst, from)
	} else if from != nil && &from[0] != &dst[0] {
		copy(dst, from)
	}
}

// valueScratch returns worker's value scratch of n elements.
func (be *Backend) valueScratch(worker, n int) []float32 {
	if cap(be.values[worker]) < n {
		be.values[worker] = make([]float32, n)
	}
	return be.values[worker][:n]
}

// planeValues returns the values of channel c's plane src, ignoring any
// depthwise stage: src itself when the input is plain, else a copy in
// worker's value scratch.
func (be *Backend) planeValues(in input, c int, src []float32, worker int) []float32 {
	if in.scale == nil && !in.relu {
		return src
	}
	v := be.valueScratch(worker, len(src))
	in.values(v, c, src, false)
	return v
}

// sampleValues returns the values of sample n's c channels of hw elements:
// x's own storage when the input is plain, else worker scratch. With a
// depthwise stage the result is in the worker's conv scratch (scratchFor),
// which the caller must then not use.
func (be *Backend) sampleValues(in input, n, c, hw int, worker int) []float32 {
	if in.dww == nil {
		if in.plain() {
			return in.x[n*c*hw : (n+1)*c*hw]
		}
		v := be.valueScratch(worker, c*hw)
		for ch := 0; ch < c; ch++ {
			in.values(v[ch*hw:(ch+1)*hw], ch, in.plane(n*c+ch, c, hw), false)
		}
		return v
	}
	d := in.dw
	ihw, kk := d.H*d.W, d.K*d.K
	if d.OH*d.OW != hw || d.C != c || d.OC != c || d.Groups != c {
		panic(fmt.Sprintf("cpu: depthwise input stage %+v for %d channels of %d", d, c, hw))
	}
	out := be.scratchFor(worker, c*hw)
	if in.parts != nil && in.scale == nil && !in.relu {
		// Plain parts: convolve each plane where it is, without a copy.
		for ch := 0; ch < c; ch++ {
			src := in.plane(n*c+ch, c, ihw)
			kern.DepthwiseForward(src, d.H, d.W, in.dww[ch*kk:(ch+1)*kk], d.K, d.Stride, d.Pad, d.Dilation, out[ch*hw:(ch+1)*hw], d.OH, d.OW)
		}
		return out
	}
	if in.parts == nil {
		// The sample's c planes are contiguous in x: one depthwise call,
		// which forms the values of the elementwise stage itself (as
		// in.values would, bit for bit).
		scale, shift := in.affine(c)
		kern.DepthwiseForwardPlanesAffine(c, in.x[n*c*ihw:(n+1)*c*ihw], d.H, d.W, in.dww, d.K, d.Stride, d.Pad, d.Dilation, scale, shift, in.relu, out, d.OH, d.OW)
		return out
	}
	// The values of the parts' planes, contiguous in value scratch; then
	// one depthwise call.
	src := be.valueScratch(worker, c*ihw)
	for ch := 0; ch < c; ch++ {
		in.values(src[ch*ihw:(ch+1)*ihw], ch, in.plane(n*c+ch, c, ihw), false)
	}
	kern.DepthwiseForwardPlanes(c, src, d.H, d.W, in.dww, d.K, d.Stride, d.Pad, d.Dilation, out, d.OH, d.OW)
	return out
}

func checkInput(op string, n, c, hw int, in input, bufs ...[]float32) {
	in.check(op, c)
	if !in.elementwise() {
		panic(fmt.Sprintf("cpu: %s of an input with a depthwise stage", op))
	}
	in.checkLen(op, n, c, hw)
	for _, b := range bufs {
		if len(b) != n*c*hw {
			panic(fmt.Sprintf("cpu: %s: buffer of %d for [%d %d %d]", op, len(b), n, c, hw))
		}
	}
}

// ApplyInput sets y = alpha·value(x), or adds it when accumulate
// (nn.FusedInput), rounding as Copy/Scale and Axpy do.
func (be *Backend) ApplyInput(n, c, hw int, x nn.Input, alpha float32, y nn.Buffer, accumulate bool) {
	in, yd := inputOf(x), data(y)
	checkInput("ApplyInput", n, c, hw, in, yd)
	be.dwPlanes(n*c, hw, func(p, worker int) {
		src, dst := in.plane(p, c, hw), yd[p*hw:(p+1)*hw]
		ch := p % c
		if accumulate {
			// y + float32(alpha*v): what Backend.Axpy computes.
			kern.Axpy(alpha, be.planeValues(in, ch, src, worker), dst)
			return
		}
		in.values(dst, ch, src, false)
		if alpha != 1 {
			kern.Scale(alpha, dst)
		}
	})
}

// ReLUBackwardIn sets (or adds) dx = dy where the affine part of x is
// positive (nn.FusedInput); dx may be dy.
func (be *Backend) ReLUBackwardIn(n, c, hw int, x nn.Input, dy, dx nn.Buffer, accumulate bool) {
	in, gd, xd := inputOf(x), data(dy), data(dx)
	checkInput("ReLUBackwardIn", n, c, hw, in, gd, xd)
	be.dwPlanes(n*c, hw, func(p, worker int) {
		src := in.plane(p, c, hw)
		v := src
		if in.scale != nil {
			v = be.valueScratch(worker, hw)
			in.values(v, p%c, src, true)
		}
		if accumulate {
			kern.ReluBackwardAdd(xd[p*hw:(p+1)*hw], gd[p*hw:(p+1)*hw], v)
		} else {
			kern.ReluBackward(xd[p*hw:(p+1)*hw], gd[p*hw:(p+1)*hw], v)
		}
	})
}
