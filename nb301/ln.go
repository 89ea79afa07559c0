package nb301

import (
	"math"
	"math/big"
)

// lnPrec is the working precision, in bits, of ln: far beyond float64's 53,
// so that rounding the result once gives the correctly rounded logarithm
// (unless the exact value lay within 2^-200 of a rounding boundary).
const lnPrec = 256

// ln returns the natural logarithm of x > 0 correctly rounded to float64
// (round to nearest, ties to even). ConfigSpace takes logarithms with numpy,
// whose double log is the C library's, and glibc's log is correctly rounded
// on every value NB301's space uses; Go's math.Log is not (it differs by one
// ulp for ln 0.01, which moves SimpleTrainNode:mixup:alpha by one ulp), so
// the encoding uses this one. It is slow (microseconds) and meant for the
// handful of logarithms an encoding takes. Zero, negative, infinite and NaN
// arguments are left to math.Log.
func ln(x float64) float64 {
	if !(x > 0) || math.IsInf(x, 1) {
		return math.Log(x)
	}
	// x = m * 2^e with m in [sqrt(1/2), sqrt(2)).
	m, e := math.Frexp(x)
	if m < math.Sqrt2/2 {
		m *= 2
		e--
	}
	// ln m = 2 atanh((m-1)/(m+1)), ln 2 = 2 atanh(1/3); both exact inputs.
	bm := new(big.Float).SetPrec(lnPrec).SetFloat64(m)
	one := new(big.Float).SetPrec(lnPrec).SetInt64(1)
	s := new(big.Float).SetPrec(lnPrec).Sub(bm, one)
	s.Quo(s, new(big.Float).SetPrec(lnPrec).Add(bm, one))
	sum := atanh2(s)
	if e != 0 {
		third := new(big.Float).SetPrec(lnPrec).Quo(one, new(big.Float).SetPrec(lnPrec).SetInt64(3))
		ln2 := atanh2(third)
		sum.Add(sum, ln2.Mul(ln2, new(big.Float).SetPrec(lnPrec).SetInt64(int64(e))))
	}
	f, _ := sum.Float64()
	return f
}

// atanh2 returns 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...) for |s| <= 1/3,
// summed until the terms no longer change the sum at lnPrec bits.
func atanh2(s *big.Float) *big.Float {
	sum := new(big.Float).SetPrec(lnPrec).Set(s)
	s2 := new(big.Float).SetPrec(lnPrec).Mul(s, s)
	pow := new(big.Float).SetPrec(lnPrec).Set(s)
	term := new(big.Float).SetPrec(lnPrec)
	for k := int64(3); ; k += 2 {
		pow.Mul(pow, s2)
		term.Quo(pow, new(big.Float).SetPrec(lnPrec).SetInt64(k))
		if term.Sign() == 0 || term.MantExp(nil)-sum.MantExp(nil) < -lnPrec-8 {
			break
		}
		sum.Add(sum, term)
	}
	return sum.Mul(sum, new(big.Float).SetPrec(lnPrec).SetInt64(2))
}
