package cuda

import (
	"math"
)

// Reference conversions for the tests: IEEE float32 -> fp16/bf16 with
// rounding to nearest even, and back (exact).

// f16Bits rounds f to the nearest fp16 (ties to even; overflow to ±Inf;
// NaN to the quiet NaN).
func f16Bits(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp, mant := int(b>>23&0xff), b&0x7fffff
	if exp == 0xff {
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127
	if e > 15 {
		return sign | 0x7c00
	}
	if e >= -14 { // normal: keep 10 of the 23 mantissa bits
		h := uint32(e+15)<<10 | mant>>13
		if r := mant & 0x1fff; r > 0x1000 || (r == 0x1000 && h&1 == 1) {
			h++ // a carry into the exponent is still right (up to Inf)
		}
		return sign | uint16(h)
	}
	if e < -25 || exp == 0 {
		return sign // below half the smallest subnormal (float32 subnormals too)
	}
	// Subnormal: value / 2^-24 = full * 2^(e+1).
	full, shift := mant|0x800000, uint(-e-1)
	q, rem, half := full>>shift, full&(1<<shift-1), uint32(1)<<(shift-1)
	if rem > half || (rem == half && q&1 == 1) {
		q++
	}
	return sign | uint16(q)
}

// f16Value widens fp16 bits to float32 (exact).
func f16Value(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp, mant := uint32(h>>10&0x1f), uint32(h&0x3ff)
	switch exp {
	case 0: // zero or subnormal: mant * 2^-24
		v := float32(mant) * (1.0 / (1 << 24))
		return math.Float32frombits(math.Float32bits(v) | sign)
	case 31:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13) // Inf or NaN
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// bf16Bits rounds f to the nearest bfloat16 (ties to even; NaN to quiet NaN).
func bf16Bits(f float32) uint16 {
	u := math.Float32bits(f)
	if u&0x7fffffff > 0x7f800000 {
		return 0x7fc0
	}
	return uint16((u + 0x7fff + (u >> 16 & 1)) >> 16)
}

// bf16Value widens bfloat16 bits to float32 (exact).
func bf16Value(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// roundTo returns f rounded to dt and widened back.
func roundTo(dt dtype, f float32) float32 {
	switch dt {
	case f16:
		return f16Value(f16Bits(f))
	case bf16:
		return bf16Value(bf16Bits(f))
	}
	return f
}
