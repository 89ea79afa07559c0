package schedule

import (
	"math"
	"testing"
)

// TestCosine checks the end points and that the search's former form of
// the schedule gives the same bits. (PyTorch parity of the values is
// TestTorchParityCosineLR in package nn, on a committed fixture.)
func TestCosine(t *testing.T) {
	if Cosine(0.025, 0, 10, 10) != 0 || Cosine(0.3, 0.1, 0, 0) != 0.3 {
		t.Errorf("end points: %v %v", Cosine(0.025, 0, 10, 10), Cosine(0.3, 0.1, 0, 0))
	}
	// The form the search used before it lived here: (base-min)*(1+cos)
	// halved after the product. Halving is exact, so the bits agree.
	for e := 0; e <= 50; e++ {
		old := 0.001 + (0.2176/2.5-0.001)*(1+math.Cos(math.Pi*float64(e)/50))/2
		if got := Cosine(0.2176/2.5, 0.001, e, 50); got != old {
			t.Fatalf("epoch %d: %v, the search's old form gave %v", e, got, old)
		}
	}
}

func TestLinear(t *testing.T) {
	if Linear(0.1, 5, 10) != 0.05 || Linear(0.1, 10, 10) != 0 || Linear(0.1, 3, 0) != 0.1 {
		t.Errorf("linear: %v %v %v", Linear(0.1, 5, 10), Linear(0.1, 10, 10), Linear(0.1, 3, 0))
	}
}
