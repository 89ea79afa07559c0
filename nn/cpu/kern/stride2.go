package kern

import "fmt"

// Stride-2 row resampling for 1×1 stride-2 convolutions (factorized
// reduce): gathering the even columns of the even rows without im2col's
// per-element index arithmetic, and spreading gradients back.

// Subsample2 sets dst[r*ds+j] = src[r*ss+2j] for r < rows and
// j < (w+1)/2: the even columns of rows of w elements.
func Subsample2(rows, w int, src []float32, ss int, dst []float32, ds int) {
	if rows <= 0 || w <= 0 {
		return
	}
	n := (w + 1) / 2
	if len(src) < (rows-1)*ss+w || len(dst) < (rows-1)*ds+n {
		panic(fmt.Sprintf("kern.Subsample2: %d rows of %d: src %d (stride %d) or dst %d (stride %d) too short", rows, w, len(src), ss, len(dst), ds))
	}
	if subsample2Fast(rows, w, src, ss, dst, ds) {
		return
	}
	for r := range rows {
		s, d := src[r*ss:r*ss+w], dst[r*ds:r*ds+n]
		for j := range d {
			d[j] = s[2*j]
		}
	}
}

// Spread2 is the adjoint of Subsample2 on rows of w elements: for r < rows
// it sets dst[r*ds+2j] = src[r*ss+j] and dst[r*ds+2j+1] = 0 within the row,
// or, when add, adds src[r*ss+j] to dst[r*ds+2j] and leaves the odd
// columns as they are.
func Spread2(rows, w int, src []float32, ss int, dst []float32, ds int, add bool) {
	if rows <= 0 || w <= 0 {
		return
	}
	n := (w + 1) / 2
	if len(src) < (rows-1)*ss+n || len(dst) < (rows-1)*ds+w {
		panic(fmt.Sprintf("kern.Spread2: %d rows of %d: src %d (stride %d) or dst %d (stride %d) too short", rows, w, len(src), ss, len(dst), ds))
	}
	if spread2Fast(rows, w, src, ss, dst, ds, add) {
		return
	}
	for r := range rows {
		s, d := src[r*ss:r*ss+n], dst[r*ds:r*ds+w]
		for j, v := range s {
			if add {
				d[2*j] += v
				continue
			}
			d[2*j] = v
			if 2*j+1 < w {
				d[2*j+1] = 0
			}
		}
	}
}
