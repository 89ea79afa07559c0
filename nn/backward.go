package nn

// backward propagates nd.out.grad into nd's inputs (and parameters).
// Backend backward kernels accumulate, so gradients from several consumers
// of a tensor add up; a tensor's first gradient is written instead (by a
// backward kernel with accumulate false, a copy, or a handed-over buffer)
// when possible, and zero-filled then accumulated otherwise.
func (g *Graph) backward(nd *node) {
	b := g.b
	dy := nd.out.grad
	var x *Tensor
	if len(nd.in) > 0 {
		x = nd.in[0]
	}
	switch nd.kind {
	case opConv:
		c := nd.conv
		d := c.desc(x)
		if c.W.Grad != nil {
			b.Conv2DBackwardFilter(d, x.buf, dy.buf, c.W.Grad.buf)
		}
		if x.needGrad {
			dx, set := g.gradDst(x)
			b.Conv2DBackwardData(d, dy.buf, c.W.Value.buf, dx, !set)
		}
	case opBNTrain, opBNInfer:
		bn := nd.bn
		d := bn.desc(x)
		var dx, dgamma, dbeta Buffer
		if bn.Weight != nil {
			dgamma, dbeta = bn.Weight.Grad.buf, bn.Bias.Grad.buf
		}
		if nd.kind == opBNTrain {
			set := false
			if x.needGrad {
				dx, set = g.gradDst(x)
			}
			b.BatchNormTrainBackward(d, x.buf, dy.buf, optBuf(bn.Weight), nd.aux[0].buf, nd.aux[1].buf, dx, dgamma, dbeta, !set)
		} else {
			if x.needGrad {
				dx = g.gradOf(x).buf
			}
			b.BatchNormInferBackward(d, x.buf, dy.buf, optBuf(bn.Weight), bn.RunningMean.buf, bn.RunningVar.buf, dx, dgamma, dbeta)
		}
	case opLinear:
		l := nd.lin
		n := x.shape[0]
		b.MatMul(true, false, l.Out, l.In, n, dy.buf, x.buf, true, l.W.Grad.buf)
		b.RowBiasBackward(n, l.Out, dy.buf, l.B.Grad.buf)
		if x.needGrad {
			dx, set := g.gradDst(x)
			b.MatMul(false, false, n, l.In, l.Out, dy.buf, l.W.Value.buf, !set, dx)
		}
	case opReLU:
		// The kernels mask by "> 0", where max(x, 0) and x agree: mask
		// with x.
		if x.param == nil && x.grad == nil {
			// dy is read for the last time here: mask it in place and
			// hand its buffer over as x's gradient.
			b.ReLUBackward(x.buf, dy.buf, dy.buf, false)
			x.grad, nd.out.grad = dy, nil
			break
		}
		b.ReLUBackward(x.buf, dy.buf, g.gradOf(x).buf, true)
	case opMaxPool:
		dx, set := g.gradDst(x)
		b.MaxPoolBackward(nd.pool, x.buf, dy.buf, dx, !set)
	case opAvgPool:
		dx, set := g.gradDst(x)
		b.AvgPoolBackward(nd.pool, nd.flag, dy.buf, dx, !set)
	case opGAP:
		dx, set := g.gradDst(x)
		b.GlobalAvgPoolBackward(nd.i[0], nd.i[1], nd.i[2], dy.buf, dx, !set)
	case opConcat:
		n, c, hw := nd.out.shape[0], nd.out.shape[1], nd.out.shape[2]*nd.out.shape[3]
		off := 0
		for _, xi := range nd.in {
			ci := xi.shape[1]
			if xi.needGrad {
				dx, set := g.gradDst(xi)
				b.CopyChannels(n, hw, dy.buf, c, off, dx, ci, 0, ci, !set)
			}
			off += ci
		}
	case opSlice:
		n, hw := x.shape[0], x.shape[2]*x.shape[3]
		c0, c1 := nd.i[0], nd.i[1]
		b.CopyChannels(n, hw, dy.buf, c1-c0, 0, g.gradOf(x).buf, x.shape[1], c0, c1-c0, true)
	case opShift:
		b.ShiftBackward(x.shape[0], x.shape[1], x.shape[2], x.shape[3], nd.i[0], nd.i[1], dy.buf, g.gradOf(x).buf)
	case opAdd:
		last := len(nd.in) - 1
		for i, xi := range nd.in {
			if !xi.needGrad {
				continue
			}
			if i == last && xi.param == nil && xi.grad == nil && sameShape(xi, dy) {
				// dy is read for the last time here: hand its buffer over.
				xi.grad, nd.out.grad = dy, nil
				continue
			}
			g.addScaled(xi, 1, dy)
		}
	case opScale:
		g.addScaled(x, nd.alpha, dy)
	case opMaskedSum:
		for i, xi := range nd.in {
			g.addScaled(xi, nd.f[i], dy)
		}
	case opScaleSamples:
		n := x.shape[0]
		dx, set := g.gradDst(x)
		b.ScaleSamples(n, x.n/n, nd.f, dy.buf, dx, !set)
	case opFlatten:
		g.addScaled(x, 1, dy)
	case opCE:
		n, k := x.shape[0], x.shape[1]
		b.SoftmaxCrossEntropyBackward(n, k, nd.aux[0].buf, nd.lab, nd.alpha, dy.buf, g.gradOf(x).buf)
	}
}

// addScaled adds alpha*dy to x's gradient (writing it when it is the first).
func (g *Graph) addScaled(x *Tensor, alpha float32, dy *Tensor) {
	dx, set := g.gradDst(x)
	switch {
	case !set:
		g.b.Axpy(dx, alpha, dy.buf)
	case alpha == 1:
		g.b.Copy(dx, dy.buf)
	default:
		g.b.Scale(dx, alpha, dy.buf)
	}
}
