package cpu

import (
	"fmt"

	"pertnas/nn"
	"pertnas/nn/cpu/kern"
)

// Deferred outputs (see the package doc). A deferred buffer's recipe is an
// input: how a kernel reads values it was not given in storage. Readers
// that can recompute them plane by plane in per-worker scratch do so with
// the same arithmetic (kern.ScaleShift, then kern.ReluForward, or both in
// one pass by kern.ScaleShiftReLU; the depthwise kernels) that would have
// stored them, so the values are bit for bit those of the stored tensor.

// input is how a kernel reads a tensor: x itself (plain), or
// relu?(x·scale[c] + shift[c]) over x of [n, c, hw] (scale and shift nil:
// the identity), where x may instead be the channel concatenation of parts
// (partC[i] channels each, same n and hw); with dww set, the depthwise
// convolution dw (weights dww) of that. A depthwise stage is read only by
// 1×1, stride 1, unpadded, ungrouped convolutions (forward and filter
// gradient); other readers compute it (Backend.materialize).
type input struct {
	x, scale, shift []float32
	parts           [][]float32 // x nil: the channel concatenation of parts
	partC           []int
	relu            bool
	dw              nn.ConvDesc
	dww             []float32 // set: a depthwise stage
}

// recipe is a deferred buffer's input, with the [n, c, hw] shape of its
// elementwise stage (1, 1, len for a plain ReLU, whose arithmetic does not
// depend on the shape). It owns its scale, shift, parts and partC slices,
// reused from one recording to the next.
type recipe struct {
	input
	n, c, hw int
	own      struct {
		scale, shift []float32
		parts        [][]float32
		partC        []int
	}
}

// set makes r the recipe of in over [n, c, hw], copying in's slices.
func (r *recipe) set(in input, n, c, hw int) {
	o := &r.own
	if in.scale != nil {
		o.scale = append(o.scale[:0], in.scale[:c]...)
		o.shift = append(o.shift[:0], in.shift[:c]...)
		in.scale, in.shift = o.scale, o.shift
	}
	if in.parts != nil {
		o.parts = append(o.parts[:0], in.parts...)
		o.partC = append(o.partC[:0], in.partC...)
		in.parts, in.partC = o.parts, o.partC
	}
	r.input, r.n, r.c, r.hw = in, n, c, hw
}

// affineSlots returns r's own scale and shift slices of c elements, to be
// filled and then recorded by set.
func (r *recipe) affineSlots(c int) (scale, shift []float32) {
	o := &r.own
	o.scale, o.shift = grow(o.scale, c), grow(o.shift, c)
	return o.scale, o.shift
}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// deferTo makes y a deferred buffer of in over [n, c, hw] and gives its
// storage back to the backend (the caller checks a depthwise stage's
// shapes).
func (be *Backend) deferTo(y nn.Buffer, in input, n, c, hw int) {
	yb := y.(*Buf)
	if in.dww == nil && n*c*hw != yb.n {
		panic(fmt.Sprintf("cpu: deferred output of %d elements for [%d %d %d]", yb.n, n, c, hw))
	}
	yb.rec.set(in, n, c, hw)
	yb.deferred = true
	be.giveBack(yb)
}

// defers reports whether an op may defer its output y, given the buffers
// it reads: not in eager mode, and never in place.
func (be *Backend) defers(y nn.Buffer, xs ...nn.Buffer) bool {
	if be.eager {
		return false
	}
	for _, x := range xs {
		if x == y {
			return false
		}
	}
	return true
}

// elementwise returns how to read x as the source of an elementwise or
// depthwise stage: its recipe when it is deferred without a depthwise
// stage, else its values (computed first if deferred) as a plain input
// over [1, 1, len].
func (be *Backend) elementwise(x nn.Buffer) (in input, n, c, hw int) {
	if r, ok := through(x); ok {
		return r.input, r.n, r.c, r.hw
	}
	return input{x: be.in(x)}, 1, 1, x.Len()
}

// through returns the recipe of x when it is deferred without a depthwise
// stage (ok), for the kernels that read such an input plane by plane.
func through(x nn.Buffer) (r *recipe, ok bool) {
	xb := x.(*Buf)
	if xb.deferred && xb.rec.dww == nil {
		return &xb.rec, true
	}
	return nil, false
}

// convInput returns how the convolution d reads x: through its recipe when
// x is deferred without a depthwise stage, or with one and d is a plain
// 1×1 convolution; else x's values (computed first if deferred).
func (be *Backend) convInput(d nn.ConvDesc, x nn.Buffer) input {
	xb := x.(*Buf)
	if xb.deferred && (xb.rec.dww == nil || isPointwise(d) && d.Groups == 1) {
		return xb.rec.input
	}
	return input{x: be.in(x)}
}

// materialize computes a deferred buffer's values into storage of its own;
// it stays stored until it is next written as an output.
func (be *Backend) materialize(b *Buf) {
	r := &b.rec
	yd := be.storage(b.n)
	switch {
	case r.dww != nil:
		ew := r.input
		ew.dw, ew.dww = nn.ConvDesc{}, nil
		be.conv2DForward(r.dw, ew, r.dww, yd)
	case r.parts != nil && r.scale == nil && !r.relu:
		be.concat(r.n, r.hw, r.parts, r.partC, yd)
	default:
		be.applyInput(r, 1, yd, false)
	}
	b.data, b.deferred = yd, false
}

// Concat sets y to the channel concatenation of xs (cs[i] channels each):
// deferred unless eager or in place.
func (be *Backend) Concat(n, hw int, xs []nn.Buffer, cs []int, y nn.Buffer) {
	if len(xs) == 0 || len(xs) != len(cs) {
		panic(fmt.Sprintf("cpu: Concat of %d buffers with %d channel counts", len(xs), len(cs)))
	}
	parts := be.parts[:0]
	c := 0
	for i, x := range xs {
		xd := be.in(x)
		if cs[i] < 1 || len(xd) != n*cs[i]*hw {
			panic(fmt.Sprintf("cpu: Concat: part %d of %d for [%d %d %d]", i, len(xd), n, cs[i], hw))
		}
		parts = append(parts, xd)
		c += cs[i]
	}
	be.parts = parts
	if y.Len() != n*c*hw {
		panic(fmt.Sprintf("cpu: Concat: output of %d for [%d %d %d]", y.Len(), n, c, hw))
	}
	if be.defers(y, xs...) {
		be.deferTo(y, input{parts: parts, partC: cs}, n, c, hw)
		return
	}
	be.concat(n, hw, parts, cs, be.out(y))
}

func (be *Backend) concat(n, hw int, parts [][]float32, partC []int, yd []float32) {
	c := 0
	for _, pc := range partC {
		c += pc
	}
	off := 0
	for i, p := range parts {
		be.copyChannels(n, hw, p, partC[i], 0, yd, c, off, partC[i], false)
		off += partC[i]
	}
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

// flat reports whether the input is x through an optional ReLU, values
// whose arithmetic does not depend on how they are split.
func (in input) flat() bool { return in.scale == nil && in.parts == nil }

// applyInput sets yd = alpha·value(r), or adds it when accumulate,
// rounding as Copy/Scale and Axpy do (r without a depthwise stage).
func (be *Backend) applyInput(r *recipe, alpha float32, yd []float32, accumulate bool) {
	in := r.input
	checkInput("applyInput", r.n, r.c, r.hw, in, yd)
	if in.flat() {
		k := chunks(len(yd), grain)
		be.pool.run(k, func(i, worker int) {
			lo, hi := span(i, k, len(yd))
			be.applyPlane(in, 0, in.x[lo:hi], yd[lo:hi], alpha, accumulate, worker)
		})
		return
	}
	be.dwPlanes(r.n*r.c, r.hw, func(p, worker int) {
		be.applyPlane(in, p%r.c, in.plane(p, r.c, r.hw), yd[p*r.hw:(p+1)*r.hw], alpha, accumulate, worker)
	})
}

// applyPlane is applyInput for the values of channel c's plane src.
func (be *Backend) applyPlane(in input, c int, src, dst []float32, alpha float32, accumulate bool, worker int) {
	if accumulate {
		// y + float32(alpha*v): what Backend.Axpy computes.
		kern.Axpy(alpha, be.planeValues(in, c, src, worker), dst)
		return
	}
	in.values(dst, c, src, false)
	if alpha != 1 {
		kern.Scale(alpha, dst)
	}
}

// reluBackwardIn sets (or adds) xd = gd where the affine part of r's
// values is positive (r without a depthwise stage; its ReLU is ignored:
// relu(v) > 0 where v > 0); xd may be gd.
func (be *Backend) reluBackwardIn(r *recipe, gd, xd []float32, accumulate bool) {
	in := r.input
	checkInput("ReLUBackward", r.n, r.c, r.hw, in, gd, xd)
	if in.flat() {
		be.reluBackward(in.x, gd, xd, accumulate)
		return
	}
	hw := r.hw
	be.dwPlanes(r.n*r.c, hw, func(p, worker int) {
		src := in.plane(p, r.c, hw)
		v := src
		if in.scale != nil {
			v = be.valueScratch(worker, hw)
			in.values(v, p%r.c, src, true)
		}
		if accumulate {
			kern.ReluBackwardAdd(xd[p*hw:(p+1)*hw], gd[p*hw:(p+1)*hw], v)
		} else {
			kern.ReluBackward(xd[p*hw:(p+1)*hw], gd[p*hw:(p+1)*hw], v)
		}
	})
}
