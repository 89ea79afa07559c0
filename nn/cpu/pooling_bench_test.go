package cpu_test

import (
	"fmt"
	"testing"

	"pertnas/nn"
	"pertnas/nn/cpu"
)

// BenchmarkPoolStride2 times the reduction-cell pools (3×3, stride 2,
// padding 1) at the DARTS search shapes; K*K FLOPs per output element.
func BenchmarkPoolStride2(b *testing.B) {
	for _, s := range dartsShapes[:2] {
		d := nn.PoolDesc{N: benchN, C: s.c, H: s.hw, W: s.hw, OH: s.hw / 2, OW: s.hw / 2, K: 3, Stride: 2, Pad: 1}
		n, on := d.N*d.C*d.H*d.W, d.N*d.C*d.OH*d.OW
		for _, op := range []string{"max_fwd", "max_bwd", "avg_fwd", "avg_bwd"} {
			b.Run(fmt.Sprintf("C%d_%dx%d/%s", s.c, s.hw, s.hw, op), func(b *testing.B) {
				be := cpu.New(0)
				defer be.Close()
				x, y, dx := randBuf(be, n, 1), randBuf(be, on, 2), be.Alloc(n)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					switch op {
					case "max_fwd":
						be.MaxPool(d, x, y)
					case "max_bwd":
						be.MaxPoolBackward(d, x, y, dx)
					case "avg_fwd":
						be.AvgPool(d, false, x, y)
					case "avg_bwd":
						be.AvgPoolBackward(d, false, y, dx)
					}
				}
				report(b, float64(on*9))
			})
		}
	}
}
