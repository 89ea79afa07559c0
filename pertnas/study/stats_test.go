package study

import (
	"math"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// The exact Mann-Whitney p-values below are those of scipy.stats.mannwhitneyu
// (method="exact", two-sided) for the untied cases, and of the permutation
// count for the tied one.
func TestMannWhitneyU(t *testing.T) {
	for _, tc := range []struct {
		a, b      []float64
		u, auc, p float64
	}{
		// Complete separation, 3 vs 3: 2 of the 20 splits are as extreme.
		{[]float64{4, 5, 6}, []float64{1, 2, 3}, 9, 1, 0.1},
		{[]float64{1, 2, 3}, []float64{4, 5, 6}, 0, 0, 0.1},
		// 4 vs 4, one inversion: U = 15; splits with U >= 15 or <= 1: 2*2 of 70.
		{[]float64{3, 5, 6, 7}, []float64{1, 2, 4, 0}, 15, 15.0 / 16, 4.0 / 70},
		// All tied: U at the centre, p = 1.
		{[]float64{1, 1}, []float64{1, 1}, 2, 0.5, 1},
	} {
		r := MannWhitneyU(tc.a, tc.b)
		if !near(r.U, tc.u) || !near(r.AUC, tc.auc) || !near(r.P, tc.p) {
			t.Errorf("MannWhitneyU(%v, %v) = %+v, want U %v AUC %v p %v", tc.a, tc.b, r, tc.u, tc.auc, tc.p)
		}
	}
}

func TestMeanStdSpearman(t *testing.T) {
	if m, s := Mean([]float64{1, 2, 3, 4}), Std([]float64{1, 2, 3, 4}); !near(m, 2.5) || !near(s, math.Sqrt(5.0/3)) {
		t.Errorf("mean %v std %v, want 2.5 %v", m, s, math.Sqrt(5.0/3))
	}
	if r := Spearman([]float64{1, 2, 3, 4}, []float64{10, 20, 30, 100}); !near(r, 1) {
		t.Errorf("monotone Spearman %v, want 1", r)
	}
	if r := Spearman([]float64{1, 2, 3, 4}, []float64{4, 3, 2, 1}); !near(r, -1) {
		t.Errorf("reversed Spearman %v, want -1", r)
	}
	// Ties take mean ranks: x ranks 1.5 1.5 3 4, y ranks 1 2 3 4.
	if r := Spearman([]float64{0, 0, 1, 2}, []float64{1, 2, 3, 4}); !near(r, pearson([]float64{1.5, 1.5, 3, 4}, []float64{1, 2, 3, 4})) {
		t.Errorf("tied Spearman %v", r)
	}
}
