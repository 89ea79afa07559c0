package train

import (
	"math"
	"testing"
)

func TestCountCorrect(t *testing.T) {
	nan := float32(math.NaN())
	logits := []float32{
		0, 1, 2, 3, 4, 5, 6, // label 6: rank 0
		0, 1, 2, 3, 4, 5, 6, // label 2: rank 4 (top-5, not top-1)
		0, 1, 2, 3, 4, 5, 6, // label 1: rank 5
		1, 1, 1, 1, 1, 1, 1, // label 0: first of equals, rank 0
		1, 1, 1, 1, 1, 1, 1, // label 5: five equal ones before it, rank 5
		1, 1, 1, 1, 1, 1, nan, // label 6: NaN is never correct
	}
	labels := []int32{6, 2, 1, 0, 5, 6}
	top1, top5 := countCorrect(logits, labels)
	if top1 != 2 || top5 != 3 {
		t.Fatalf("top-1 %d top-5 %d, want 2 and 3", top1, top5)
	}
}
