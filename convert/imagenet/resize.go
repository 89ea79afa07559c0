package imagenet

import "image"

// areaResize shrinks src to w x h (each at most src's size) by area
// averaging: every output pixel is the mean of the source area it covers,
// partial pixels weighted by the covered fraction (OpenCV's INTER_AREA
// when shrinking). The result is opaque.
func areaResize(src *image.RGBA, w, h int) *image.RGBA {
	sw, sh := src.Bounds().Dx(), src.Bounds().Dy()
	xs, ys := spans(sw, w), spans(sh, h)
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	acc := make([]float64, w*3)
	for oy, yspan := range ys {
		clear(acc)
		for _, yt := range yspan {
			row := src.Pix[yt.i*src.Stride:]
			for ox, xspan := range xs {
				var r, g, b float64
				for _, xt := range xspan {
					p := row[xt.i*4 : xt.i*4+3]
					r += float64(p[0]) * xt.w
					g += float64(p[1]) * xt.w
					b += float64(p[2]) * xt.w
				}
				acc[ox*3] += r * yt.w
				acc[ox*3+1] += g * yt.w
				acc[ox*3+2] += b * yt.w
			}
		}
		drow := out.Pix[oy*out.Stride:]
		for ox := range w {
			for c := range 3 {
				drow[ox*4+c] = byte(min(255, acc[ox*3+c]+0.5))
			}
			drow[ox*4+3] = 255
		}
	}
	return out
}

// tap is a source index and its weight.
type tap struct {
	i int
	w float64
}

// spans returns, for each of n output cells over in source pixels, the
// source pixels it covers and their weights (summing to 1).
func spans(in, n int) [][]tap {
	scale := float64(in) / float64(n)
	out := make([][]tap, n)
	for o := range n {
		lo, hi := float64(o)*scale, float64(o+1)*scale
		for i := int(lo); i < in && float64(i) < hi; i++ {
			cover := min(hi, float64(i+1)) - max(lo, float64(i))
			if cover > 1e-12 {
				out[o] = append(out[o], tap{i, cover / scale})
			}
		}
	}
	return out
}
