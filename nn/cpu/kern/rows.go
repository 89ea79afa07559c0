package kern

import "fmt"

// CopyRows sets dst[r·dstride+i] = src[r·sstride+i], or adds it to dst when
// add, for r < rows and i < w (one addition per element, so both paths give
// the same bits). It panics if a slice is too short.
func CopyRows(rows, w int, src []float32, sstride int, dst []float32, dstride int, add bool) {
	if rows <= 0 || w <= 0 {
		return
	}
	if len(src) < (rows-1)*sstride+w || len(dst) < (rows-1)*dstride+w {
		panic(fmt.Sprintf("kern.CopyRows: slices too short for %d rows of %d: src %d (stride %d), dst %d (stride %d)", rows, w, len(src), sstride, len(dst), dstride))
	}
	copyRows(rows, w, src, sstride, dst, dstride, add)
}
