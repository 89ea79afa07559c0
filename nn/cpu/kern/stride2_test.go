package kern

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSubsample2Spread2 checks both kernels (whichever path this machine
// runs, and the Go loops) against index-by-index references on every row
// width from 1 to 70, with row strides larger than the rows: elements
// outside the rows must keep their sentinel values, and adding leaves the
// odd columns' bits (negative zeros included) alone.
func TestSubsample2Spread2(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, fast := range []bool{true, false} {
		restore := func() {}
		if !fast && avx2Only != nil {
			restore = avx2Only()
		}
		for w := 1; w <= 70; w++ {
			for _, rows := range []int{1, 3} {
				n := (w + 1) / 2
				ss, ds := w+3, n+5
				src := randSlice(rng, make([]float32, (rows-1)*ss+w))
				dst := make([]float32, (rows-1)*ds+n+2)
				for i := range dst {
					dst[i] = 7
				}
				Subsample2(rows, w, src, ss, dst, ds)
				for i := range dst {
					r, j := i/ds, i%ds
					want := float32(7)
					if r < rows && j < n {
						want = src[r*ss+2*j]
					}
					if math.Float32bits(dst[i]) != math.Float32bits(want) {
						t.Fatalf("fast=%v Subsample2 w=%d rows=%d: dst[%d] = %v, want %v", fast, w, rows, i, dst[i], want)
					}
				}

				g := randSlice(rng, make([]float32, (rows-1)*ds+n))
				for _, add := range []bool{false, true} {
					out := randSlice(rng, make([]float32, (rows-1)*ss+w+2))
					out[1] = float32(math.Copysign(0, -1))
					before := append([]float32(nil), out...)
					Spread2(rows, w, g, ds, out, ss, add)
					for i := range out {
						r, x := i/ss, i%ss
						want := before[i]
						if r < rows && x < w {
							switch {
							case x%2 == 0 && add:
								want = before[i] + g[r*ds+x/2]
							case x%2 == 0:
								want = g[r*ds+x/2]
							case !add:
								want = 0
							}
						}
						if math.Float32bits(out[i]) != math.Float32bits(want) {
							t.Fatalf("fast=%v Spread2 add=%v w=%d rows=%d: out[%d] = %v, want %v", fast, add, w, rows, i, out[i], want)
						}
					}
				}
			}
		}
		restore()
	}
}
