package study

import (
	"math"
	"slices"
)

// Mean is the arithmetic mean of xs (NaN for none).
func Mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// Std is the sample standard deviation of xs (n-1 in the denominator; NaN
// for fewer than two values).
func Std(xs []float64) float64 {
	if len(xs) < 2 {
		return math.NaN()
	}
	m, s := Mean(xs), 0.0
	for _, x := range xs {
		s += (x - m) * (x - m)
	}
	return math.Sqrt(s / float64(len(xs)-1))
}

// MannWhitney is the Mann-Whitney U test of a against b: U counts the pairs
// (x in a, y in b) with x > y, ties counting one half; AUC = U/(len(a)
// len(b)) is the probability that a value of a beats one of b. P is the
// exact two-sided p-value of the permutation test on U: the share of all
// C(n+m, n) ways to split the pooled values into groups of len(a) and
// len(b) whose U is at least as far from n m / 2 as the observed one (exact
// with ties too). It needs C(n+m, n) <= 5e6, else P is NaN.
type MannWhitney struct {
	U, AUC, P float64
}

// MannWhitneyU tests a against b (see MannWhitney).
func MannWhitneyU(a, b []float64) MannWhitney {
	n, m := len(a), len(b)
	if n == 0 || m == 0 {
		return MannWhitney{math.NaN(), math.NaN(), math.NaN()}
	}
	pooled := append(slices.Clone(a), b...)
	u := uStat(pooled, func(i int) bool { return i < n })
	r := MannWhitney{U: u, AUC: u / float64(n*m), P: math.NaN()}
	if binom(n+m, n) > 5e6 {
		return r
	}
	centre := float64(n*m) / 2
	dev := math.Abs(u-centre) - 1e-9
	in := make([]bool, n+m)
	var total, extreme int
	var rec func(start, left int)
	rec = func(start, left int) {
		if left == 0 {
			total++
			if math.Abs(uStat(pooled, func(i int) bool { return in[i] })-centre) >= dev {
				extreme++
			}
			return
		}
		for i := start; i <= n+m-left; i++ {
			in[i] = true
			rec(i+1, left-1)
			in[i] = false
		}
	}
	rec(0, n)
	r.P = float64(extreme) / float64(total)
	return r
}

// uStat is U of the values whose index is in the first group against the rest.
func uStat(xs []float64, first func(int) bool) float64 {
	u := 0.0
	for i, x := range xs {
		if !first(i) {
			continue
		}
		for j, y := range xs {
			switch {
			case first(j):
			case x > y:
				u++
			case x == y:
				u += 0.5
			}
		}
	}
	return u
}

func binom(n, k int) float64 {
	r := 1.0
	for i := 1; i <= k; i++ {
		r = r * float64(n-k+i) / float64(i)
	}
	return r
}

// Spearman is the rank correlation of the pairs (x[i], y[i]), ties given
// their mean rank (NaN when either side is constant or fewer than 3 pairs).
func Spearman(x, y []float64) float64 {
	if len(x) != len(y) || len(x) < 3 {
		return math.NaN()
	}
	return pearson(ranks(x), ranks(y))
}

func ranks(xs []float64) []float64 {
	idx := make([]int, len(xs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case xs[a] < xs[b]:
			return -1
		case xs[a] > xs[b]:
			return 1
		}
		return 0
	})
	r := make([]float64, len(xs))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && xs[idx[j+1]] == xs[idx[i]] {
			j++
		}
		for k := i; k <= j; k++ {
			r[idx[k]] = float64(i+j)/2 + 1
		}
		i = j + 1
	}
	return r
}

func pearson(x, y []float64) float64 {
	mx, my := Mean(x), Mean(y)
	var sxy, sxx, syy float64
	for i := range x {
		sxy += (x[i] - mx) * (y[i] - my)
		sxx += (x[i] - mx) * (x[i] - mx)
		syy += (y[i] - my) * (y[i] - my)
	}
	if sxx == 0 || syy == 0 {
		return math.NaN()
	}
	return sxy / math.Sqrt(sxx*syy)
}
