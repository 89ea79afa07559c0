package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"pertnas/nn"
)

// TestIm2colAgainstNaive: im2col and col2im (adding and setting), which
// handle the padding by column ranges and 1×1 stride-2 convolutions by
// kern.Subsample2/Spread2, against element-by-element versions over random
// geometries (strides, paddings wider than the kernel reach, dilations;
// every fourth a 1×1 stride-2 one up to 70 wide), bit for bit.
func TestIm2colAgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for n := 0; n < 500; {
		d := nn.ConvDesc{N: 1, C: 1 + rng.IntN(3), H: 1 + rng.IntN(9), W: 1 + rng.IntN(9), K: 1 + rng.IntN(4),
			Stride: 1 + rng.IntN(3), Pad: rng.IntN(5), Dilation: 1 + rng.IntN(3), Groups: 1}
		if n%4 == 0 {
			d.H, d.W, d.K, d.Stride, d.Pad = 1+rng.IntN(70), 1+rng.IntN(70), 1, 2, 0
		}
		ext := d.Dilation*(d.K-1) + 1
		if d.H+2*d.Pad < ext || d.W+2*d.Pad < ext {
			continue
		}
		n++
		d.OC = d.C
		d.OH = (d.H+2*d.Pad-ext)/d.Stride + 1
		d.OW = (d.W+2*d.Pad-ext)/d.Stride + 1
		x := make([]float32, d.C*d.H*d.W)
		for i := range x {
			x[i] = rng.Float32()*2 - 1
		}
		ncol := d.C * d.K * d.K * d.OH * d.OW
		got, want := make([]float32, ncol), make([]float32, ncol)
		for i := range got {
			got[i] = float32(math.NaN()) // every element must be written
		}
		im2col(d, d.C, x, got)
		dxGot := append([]float32(nil), x...)
		dxWant := append([]float32(nil), x...)
		dxSet := make([]float32, len(x))
		for i := range dxSet {
			dxSet[i] = float32(math.NaN()) // every element must be written
		}
		setWant := make([]float32, len(x))
		i := 0
		for ci := range d.C {
			for ky := range d.K {
				for kx := range d.K {
					for oy := range d.OH {
						for ox := range d.OW {
							iy, ix := oy*d.Stride-d.Pad+ky*d.Dilation, ox*d.Stride-d.Pad+kx*d.Dilation
							if iy >= 0 && iy < d.H && ix >= 0 && ix < d.W {
								want[i] = x[(ci*d.H+iy)*d.W+ix]
								dxWant[(ci*d.H+iy)*d.W+ix] += want[i]
								setWant[(ci*d.H+iy)*d.W+ix] += want[i]
							}
							i++
						}
					}
				}
			}
		}
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%+v: im2col col[%d] = %g, want %g", d, i, got[i], want[i])
			}
		}
		col2im(d, d.C, want, dxGot, true)
		col2im(d, d.C, want, dxSet, false)
		for i := range dxGot {
			if math.Float32bits(dxGot[i]) != math.Float32bits(dxWant[i]) {
				t.Fatalf("%+v: col2im adding: dx[%d] = %g, want %g", d, i, dxGot[i], dxWant[i])
			}
			if math.Float32bits(dxSet[i]) != math.Float32bits(setWant[i]) {
				t.Fatalf("%+v: col2im setting: dx[%d] = %g, want %g", d, i, dxSet[i], setWant[i])
			}
		}
	}
}
