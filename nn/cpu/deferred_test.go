package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"pertnas/nn"
)

// deferredCase builds the deferred outputs of one backend and reads each
// through every kernel that reads a deferred input through its recipe,
// then computes it (Data) and reads it again. Every read is logged, so two
// backends can be compared value by value.
type deferredCase struct {
	be   *Backend
	rng  *rand.Rand
	log  [][]float32
	name []string
}

func (c *deferredCase) buf(v []float32) nn.Buffer {
	b := c.be.Alloc(len(v))
	c.be.Upload(b, v)
	return b
}

func (c *deferredCase) rand(n int) nn.Buffer { return c.buf(normals(c.rng, n)) }

func (c *deferredCase) read(name string, b nn.Buffer) {
	c.log = append(c.log, append([]float32(nil), c.be.Data(b)...))
	c.name = append(c.name, name)
}

const (
	dN, dC, dC2, dH = 3, 5, 2, 6
	dHW             = dH * dH
)

// dwDesc is a 3×3 depthwise convolution over c channels (stride 1 or 2).
func dwDesc(c, stride int) nn.ConvDesc {
	oh := (dH+2-3)/stride + 1
	return nn.ConvDesc{N: dN, C: c, H: dH, W: dH, OC: c, OH: oh, OW: oh, K: 3, Stride: stride, Pad: 1, Dilation: 1, Groups: c}
}

// run builds batch norm, ReLU (of a stored buffer, of a batch norm, of a
// concatenation), concatenation and depthwise outputs and reads them.
func (c *deferredCase) run() {
	be := c.be
	x, x2 := c.rand(dN*dC*dHW), c.rand(dN*dC2*dHW)
	st := func() nn.Buffer { return be.Alloc(dC) }
	bn, r, rx := be.Alloc(dN*dC*dHW), be.Alloc(dN*dC*dHW), be.Alloc(dN*dC*dHW)
	cat, rc := be.Alloc(dN*(dC+dC2)*dHW), be.Alloc(dN*(dC+dC2)*dHW)
	be.BatchNormTrain(nn.BNDesc{N: dN, C: dC, HW: dHW, Eps: 1e-5, Momentum: 0.1}, x, c.rand(dC), c.rand(dC), st(), st(), bn, st(), st())
	be.ReLU(bn, r)
	be.ReLU(x, rx)
	be.Concat(dN, dHW, []nn.Buffer{x, x2}, []int{dC, dC2}, cat)
	be.ReLU(cat, rc)
	ew := []struct {
		name string
		b    nn.Buffer
		c    int
	}{{"bn", bn, dC}, {"relu(bn)", r, dC}, {"relu(x)", rx, dC}, {"concat", cat, dC + dC2}, {"relu(concat)", rc, dC + dC2}}
	type dwOut struct {
		name string
		b    nn.Buffer
		d    nn.ConvDesc
	}
	var dws []dwOut
	for _, e := range ew {
		for _, stride := range []int{1, 2} {
			d := dwDesc(e.c, stride)
			y := be.Alloc(d.N * d.OC * d.OH * d.OW)
			be.Conv2DForward(d, e.b, c.rand(9*e.c), y)
			dws = append(dws, dwOut{fmt.Sprintf("dw%d(%s)", stride, e.name), y, d})
		}
	}
	for pass := range 2 {
		for _, e := range ew {
			n := dN * e.c * dHW
			name := fmt.Sprintf("%s pass %d", e.name, pass)
			y := be.Alloc(n)
			be.Copy(y, e.b)
			c.read(name+" Copy", y)
			be.Scale(y, -0.75, e.b)
			c.read(name+" Scale", y)
			be.Axpy(y, 1.5, e.b)
			c.read(name+" Axpy", y)
			be.ScaleSamples(dN, e.c*dHW, []float32{2, 0, -1}, e.b, y, false)
			c.read(name+" ScaleSamples", y)
			dy := c.rand(n)
			be.ReLUBackward(e.b, dy, y, true)
			c.read(name+" ReLUBackward add", y)
			be.ReLUBackward(e.b, dy, dy, false)
			c.read(name+" ReLUBackward in place", dy)
			for _, k := range []int{1, 3} {
				d := nn.ConvDesc{N: dN, C: e.c, H: dH, W: dH, OC: 4, OH: dH, OW: dH, K: k, Stride: 1, Pad: k / 2, Dilation: 1, Groups: 1}
				w, out, dw := c.rand(4*e.c*k*k), be.Alloc(dN*4*dHW), be.Alloc(4*e.c*k*k)
				be.Conv2DForward(d, e.b, w, out)
				c.read(fmt.Sprintf("%s conv%d", name, k), out)
				be.Conv2DBackwardFilter(d, e.b, c.rand(dN*4*dHW), dw)
				c.read(fmt.Sprintf("%s conv%d filter", name, k), dw)
			}
		}
		for _, o := range dws {
			name := fmt.Sprintf("%s pass %d", o.name, pass)
			d := nn.ConvDesc{N: dN, C: o.d.C, H: o.d.OH, W: o.d.OW, OC: 4, OH: o.d.OH, OW: o.d.OW, K: 1, Stride: 1, Dilation: 1, Groups: 1}
			w, out, dw := c.rand(4*o.d.C), be.Alloc(dN*4*o.d.OH*o.d.OW), be.Alloc(4*o.d.C)
			be.Conv2DForward(d, o.b, w, out)
			c.read(name+" pointwise", out)
			be.Conv2DBackwardFilter(d, o.b, c.rand(dN*4*o.d.OH*o.d.OW), dw)
			c.read(name+" pointwise filter", dw)
		}
		// Compute every deferred output; the second pass reads them stored.
		for _, e := range ew {
			c.read(e.name, e.b)
		}
		for _, o := range dws {
			c.read(o.name, o.b)
		}
	}
}

// TestDeferredBitIdentical: every deferred output, read through its recipe
// by each kernel that can, computed (Data), and read again stored, has the
// bits of the eager backend's; deferring gives the output's storage back.
func TestDeferredBitIdentical(t *testing.T) {
	for _, threads := range []int{1, 3} {
		var cases [2]*deferredCase
		for i := range cases {
			be := New(threads)
			defer be.Close()
			be.SetEager(i == 0)
			cases[i] = &deferredCase{be: be, rng: rand.New(rand.NewPCG(1, 2))}
			cases[i].run()
		}
		want, got := cases[0], cases[1]
		if len(got.log) != len(want.log) || len(got.log) < 100 {
			t.Fatalf("%d reads, want %d", len(got.log), len(want.log))
		}
		for i := range want.log {
			if len(got.log[i]) != len(want.log[i]) {
				t.Fatalf("threads %d: %s: %d values, want %d", threads, want.name[i], len(got.log[i]), len(want.log[i]))
			}
			for j, v := range want.log[i] {
				if math.Float32bits(got.log[i][j]) != math.Float32bits(v) {
					t.Fatalf("threads %d: %s: value %d is %v, want %v", threads, want.name[i], j, got.log[i][j], v)
				}
			}
		}
	}
}

// TestDeferredStorage: a deferred output has no storage of its own until
// it is read or overwritten; writing it discards its recipe, and the
// storage it gave back serves the next buffer that needs some, as does a
// recycled buffer's (zeroed for Alloc). A deferred
// ReLU of a deferred ReLU reads the first one's source, not its storage.
func TestDeferredStorage(t *testing.T) {
	be := New(2)
	defer be.Close()
	x, y, z := be.Alloc(8), be.Alloc(8), be.Alloc(8)
	be.Upload(x, []float32{-1, 2, -3, 4, -5, 6, -7, 8})
	given := &y.(*Buf).data[0]
	be.ReLU(x, y)
	if yb := y.(*Buf); !yb.deferred || yb.data != nil {
		t.Fatalf("ReLU output: deferred %v, storage %v", yb.deferred, yb.data)
	}
	be.Fill(y, 3)
	if &y.(*Buf).data[0] != given {
		t.Errorf("overwritten deferred output did not take the spare storage back")
	}
	for i, v := range be.Data(y) {
		if v != 3 {
			t.Fatalf("Fill of a deferred buffer: y[%d] = %v", i, v)
		}
	}
	be.Recycle(y)
	if yb := y.(*Buf); yb.data != nil || yb.deferred {
		t.Fatalf("recycled buffer: deferred %v, storage %v", yb.deferred, yb.data)
	}
	w := be.Alloc(8)
	if &w.(*Buf).data[0] != given {
		t.Errorf("Alloc did not take the recycled storage")
	}
	for i, v := range be.Data(w) {
		if v != 0 {
			t.Fatalf("Alloc of recycled storage: w[%d] = %v", i, v)
		}
	}
	be.ReLU(x, y)
	be.ReLU(y, z)
	if r := &z.(*Buf).rec; &r.x[0] != &be.Data(x)[0] || !r.relu {
		t.Errorf("ReLU of a deferred ReLU does not read the first one's source")
	}
	for i, v := range be.Data(z) {
		if want := max(be.Data(x)[i], 0); v != want {
			t.Fatalf("z[%d] = %v, want %v", i, v, want)
		}
	}
}
