//go:build amd64 && !purego

package kern

//go:noescape
func subsample2Z(rows, nfull int, tail uint64, src *float32, ss int, dst *float32, ds int)

//go:noescape
func spread2Z(rows, nfull int, tail uint64, src *float32, ss int, dst *float32, ds int, add bool)

// lowBits returns a mask of the n lowest of 16 lanes (n clamped to 0..16).
func lowBits(n int) uint64 { return uint64(1)<<min(max(n, 0), 16) - 1 }

// subsample2Fast runs Subsample2 (checked operands) on AVX-512 machines:
// blocks of 16 outputs from 32 source floats, the last block masked so that
// nothing past a row's w elements is read.
func subsample2Fast(rows, w int, src []float32, ss int, dst []float32, ds int) bool {
	if !useAVX512 {
		return false
	}
	nfull := w / 32
	m := (w+1)/2 - 16*nfull
	var tail uint64
	if m > 0 {
		c := 2*m - 1 // source lanes of the tail block
		tail = lowBits(c) | lowBits(c-16)<<16 | lowBits(m)<<32
	}
	subsample2Z(rows, nfull, tail, &src[0], ss, &dst[0], ds)
	return true
}

// spread2Fast runs Spread2 (checked operands) on AVX-512 machines: blocks
// of 32 destination floats from 16 source floats, the last block masked to
// the row's w elements.
func spread2Fast(rows, w int, src []float32, ss int, dst []float32, ds int, add bool) bool {
	if !useAVX512 {
		return false
	}
	nfull := w / 32
	m := (w+1)/2 - 16*nfull
	l := w - 32*nfull // destination lanes of the tail block
	tail := lowBits(m) | lowBits(l)<<16 | lowBits(l-16)<<32
	spread2Z(rows, nfull, tail, &src[0], ss, &dst[0], ds, add)
	return true
}
