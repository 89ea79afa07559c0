package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"pertnas/nn"
)

// TestAvgPoolStride2MatchesGo: the 3×3 stride-2 average pool through the
// stride-1 kernels (forward subsampled, gradient spread) gives the bits of
// the Go plane code, forward and backward (adding and setting), on even and
// odd sizes.
func TestAvgPoolStride2MatchesGo(t *testing.T) {
	be := New(2)
	defer be.Close()
	rng := rand.New(rand.NewPCG(7, 7))
	for h := 2; h <= 35; h++ {
		w := h + rng.IntN(3) - 1
		if w < 2 {
			w = 2
		}
		d := nn.PoolDesc{N: 2, C: 3, H: h, W: w, OH: (h + 1) / 2, OW: (w + 1) / 2, K: 3, Stride: 2, Pad: 1}
		hw, ohw := h*w, d.OH*d.OW
		x, dy, dx0 := normals(rng, d.N*d.C*hw), normals(rng, d.N*d.C*ohw), normals(rng, d.N*d.C*hw)
		xb, yb, dyb, dxb := be.Alloc(len(x)), be.Alloc(len(dy)), be.Alloc(len(dy)), be.Alloc(len(x))
		be.Upload(xb, x)
		be.Upload(dyb, dy)
		be.AvgPool(d, false, xb, yb)
		be.Upload(dxb, dx0)
		be.AvgPoolBackward(d, false, dyb, dxb, true)
		gotAdd := append([]float32(nil), be.Data(dxb)...)
		be.AvgPoolBackward(d, false, dyb, dxb, false)
		tmp := make([]float32, h*d.OW+d.OW)
		for p := range d.N * d.C {
			y := make([]float32, ohw)
			avgPoolPlane(d, false, x[p*hw:(p+1)*hw], y, tmp)
			add := append([]float32(nil), dx0[p*hw:(p+1)*hw]...)
			avgPoolBackwardPlane(d, false, dy[p*ohw:(p+1)*ohw], add, tmp)
			set := make([]float32, hw)
			avgPoolBackwardPlane(d, false, dy[p*ohw:(p+1)*ohw], set, tmp)
			for _, c := range []struct {
				name      string
				got, want []float32
			}{
				{"forward", be.Data(yb)[p*ohw : (p+1)*ohw], y},
				{"backward adding", gotAdd[p*hw : (p+1)*hw], add},
				{"backward setting", be.Data(dxb)[p*hw : (p+1)*hw], set},
			} {
				for i := range c.want {
					if math.Float32bits(c.got[i]) != math.Float32bits(c.want[i]) {
						t.Fatalf("%dx%d plane %d: %s [%d] = %v, want %v", h, w, p, c.name, i, c.got[i], c.want[i])
					}
				}
			}
		}
	}
}

func normals(rng *rand.Rand, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(rng.NormFloat64())
	}
	return out
}
