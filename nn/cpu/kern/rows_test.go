package kern

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestCopyRows: set and add over random widths (whole vectors, masked
// tails, both) and strides against a plain loop, on every path; slices end
// at guard pages, and short slices panic.
func TestCopyRows(t *testing.T) {
	paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(27, 28))
		for range 300 {
			rows, w := 1+rng.IntN(12), 1+rng.IntN(70)
			ss, ds := w+rng.IntN(9), w+rng.IntN(9)
			add := rng.IntN(2) == 1
			src := randSlice(rng, guarded(t, (rows-1)*ss+w))
			dst := randSlice(rng, guarded(t, (rows-1)*ds+w))
			want := append([]float32(nil), dst...)
			for r := range rows {
				for i := range w {
					if add {
						want[r*ds+i] += src[r*ss+i]
					} else {
						want[r*ds+i] = src[r*ss+i]
					}
				}
			}
			CopyRows(rows, w, src, ss, dst, ds, add)
			for i := range dst {
				if math.Float32bits(dst[i]) != math.Float32bits(want[i]) {
					t.Fatalf("rows %d w %d ss %d ds %d add %v: dst[%d] = %g, want %g", rows, w, ss, ds, add, i, dst[i], want[i])
				}
			}
		}
	})
	mustPanic(t, "short source", func() { CopyRows(2, 4, make([]float32, 7), 4, make([]float32, 8), 4, false) })
	mustPanic(t, "short destination", func() { CopyRows(2, 4, make([]float32, 8), 4, make([]float32, 9), 6, true) })
}
