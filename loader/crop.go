package loader

import (
	"fmt"
	"math"

	"pertnas/loader/imgkern"
	"pertnas/loader/turbojpeg"
)

// CropMode says how images of any size are brought to a fixed square size.
type CropMode int

const (
	// NoCrop uses images as stored; every image must have the first one's size.
	NoCrop CropMode = iota
	// RandomResizedCrop is torchvision's RandomResizedCrop(Size, Scale,
	// Ratio) with bilinear interpolation: a box of random area fraction and
	// aspect ratio (see Crop) is cut out and resized to Size x Size.
	RandomResizedCrop
	// CenterCrop is torchvision's Resize(Resize) then CenterCrop(Size): the
	// shorter side is resized (bilinear) to Resize, the longer one to
	// int(Resize*long/short), and the central Size x Size square is kept
	// (top = round((H'-Size)/2), left likewise, Python's round half to even).
	CenterCrop
)

// Crop describes the geometric step that makes every image Size x Size,
// applied after decoding and before Augment. Bilinear resizing follows PIL's
// Image.resize(BILINEAR) exactly (what torchvision applies to PIL images): a
// triangle filter whose support widens with the downscale factor
// (antialiasing), horizontal pass then vertical, 8-bit fixed-point
// coefficients with 22 fractional bits and a rounded, clipped uint8 result
// after each pass. The crop box is cut first, so no pixel outside it
// contributes.
//
// RandomResizedCrop draws, for up to 10 attempts, an area fraction s
// uniform in [Scale[0], Scale[1]) and a log aspect ratio uniform in
// [log Ratio[0], log Ratio[1]); w = round(sqrt(s*A*r)), h = round(sqrt(s*A/r))
// (half to even, A = image area); the first attempt with 0 < w <= W and
// 0 < h <= H is placed at top i uniform in [0, H-h] and left j uniform in
// [0, W-w]. If all 10 fail, the fallback is torchvision's: the largest
// centred box whose aspect ratio is clamped into [Ratio[0], Ratio[1]].
type Crop struct {
	Mode CropMode
	// Size is the output side (224 for ImageNet).
	Size int
	// Resize is CenterCrop's shorter side before cropping (256 for
	// ImageNet); it must be >= Size.
	Resize int
	// Scale and Ratio bound RandomResizedCrop's boxes; zero values mean
	// torchvision's defaults (0.08, 1) and (3/4, 4/3).
	Scale, Ratio [2]float64
}

// ImageNetTrainCrop is the ImageNet training crop: RandomResizedCrop(size),
// scale (0.08, 1), ratio (3/4, 4/3).
func ImageNetTrainCrop(size int) Crop {
	return Crop{Mode: RandomResizedCrop, Size: size, Scale: [2]float64{0.08, 1}, Ratio: [2]float64{3. / 4, 4. / 3}}
}

// ImageNetTestCrop is the ImageNet evaluation crop: Resize(resize) then
// CenterCrop(size) (256 and 224 in the standard recipe).
func ImageNetTestCrop(size, resize int) Crop {
	return Crop{Mode: CenterCrop, Size: size, Resize: resize}
}

func (c *Crop) normalized() (Crop, error) {
	o := *c
	switch o.Mode {
	case NoCrop:
		return o, nil
	case RandomResizedCrop:
		if o.Scale == ([2]float64{}) {
			o.Scale = [2]float64{0.08, 1}
		}
		if o.Ratio == ([2]float64{}) {
			o.Ratio = [2]float64{3. / 4, 4. / 3}
		}
		if !(o.Scale[0] > 0 && o.Scale[0] <= o.Scale[1] && o.Ratio[0] > 0 && o.Ratio[0] <= o.Ratio[1]) {
			return o, fmt.Errorf("loader: random resized crop scale %v and ratio %v: want 0 < lo <= hi", o.Scale, o.Ratio)
		}
	case CenterCrop:
		if o.Resize < o.Size {
			return o, fmt.Errorf("loader: centre crop %d after resizing to %d: the resize must be at least the crop", o.Size, o.Resize)
		}
	default:
		return o, fmt.Errorf("loader: unknown crop mode %d", o.Mode)
	}
	if o.Size <= 0 || o.Size > 1<<14 {
		return o, fmt.Errorf("loader: crop size %d: want 1 to %d", o.Size, 1<<14)
	}
	return o, nil
}

// box is a crop rectangle: top i, left j, height h, width w.
type box struct{ i, j, h, w int }

// roundEven is Python 3's round() to an integer (half to even).
func roundEven(x float64) int { return int(math.RoundToEven(x)) }

// randomResizedBox draws torchvision's RandomResizedCrop box for an
// height x width image.
func (c *Crop) randomResizedBox(r *sampleRNG, height, width int) box {
	area := float64(height * width)
	lr0, lr1 := math.Log(c.Ratio[0]), math.Log(c.Ratio[1])
	for range 10 {
		target := area * r.uniform(c.Scale[0], c.Scale[1])
		aspect := math.Exp(r.uniform(lr0, lr1))
		w := roundEven(math.Sqrt(target * aspect))
		h := roundEven(math.Sqrt(target / aspect))
		if 0 < w && w <= width && 0 < h && h <= height {
			i := r.intn(height - h + 1)
			j := r.intn(width - w + 1)
			return box{i, j, h, w}
		}
	}
	inRatio := float64(width) / float64(height)
	w, h := width, height
	switch {
	case inRatio < c.Ratio[0]:
		h = roundEven(float64(w) / c.Ratio[0])
	case inRatio > c.Ratio[1]:
		w = roundEven(float64(h) * c.Ratio[1])
	}
	return box{(height - h) / 2, (width - w) / 2, h, w}
}

// resizedSize is torchvision's Resize(shorter) output size for an
// height x width image: the shorter side becomes shorter, the longer
// int(shorter*long/short).
func resizedSize(height, width, shorter int) (h, w int) {
	if width <= height {
		return int(float64(shorter) * float64(height) / float64(width)), shorter
	}
	return shorter, int(float64(shorter) * float64(width) / float64(height))
}

// centerOffsets are CenterCrop(size)'s top and left offsets in an
// height x width image (torchvision: int(round((H - size) / 2.0))).
func centerOffsets(height, width, size int) (top, left int) {
	return roundEven(float64(height-size) / 2), roundEven(float64(width-size) / 2)
}

// precisionBits is PIL's fixed-point precision for 8-bit resampling.
const precisionBits = imgkern.Precision

// coeffs are PIL's resampling coefficients for one axis: output x reads
// inputs first[x] .. first[x]+count[x]-1 with weights k[x*ksize:].
type coeffs struct {
	ksize        int
	first, count []int
	k            []int32
	pre          []float64
}

// span is one axis of a resize's source: the pixels [first, first+n) of
// the image are read and the box [lo, hi) in their coordinates (PIL's
// resize box, 0 <= lo < hi <= n) is resized. A crop box of whole pixels is
// span{first, n, 0, n}.
type span struct {
	first, n int
	lo, hi   float64
}

// pixels is the span of the whole pixels [first, first+n).
func pixels(first, n int) span { return span{first, n, 0, float64(n)} }

// compute fills c for resizing the span s to outSize with PIL's bilinear
// (triangle) filter, PIL's precompute_coeffs and normalize_coeffs_8bpc.
func (c *coeffs) compute(s span, outSize int) {
	inSize := s.n
	scale := (s.hi - s.lo) / float64(outSize)
	filterscale := max(scale, 1)
	support := 1 * filterscale
	c.ksize = int(math.Ceil(support))*2 + 1
	c.first = growInts(c.first, outSize)
	c.count = growInts(c.count, outSize)
	if n := outSize * c.ksize; cap(c.pre) < n {
		// Headroom: the next boxes' filters are often a little wider.
		c.pre, c.k = make([]float64, 2*n), make([]int32, 2*n)
	}
	c.pre, c.k = c.pre[:outSize*c.ksize], c.k[:outSize*c.ksize]
	ss := 1 / filterscale
	for xx := range outSize {
		center := s.lo + (float64(xx)+0.5)*scale
		xmin := max(int(center-support+0.5), 0)
		xmax := min(int(center+support+0.5), inSize) - xmin
		k := c.pre[xx*c.ksize : (xx+1)*c.ksize]
		ww := 0.0
		for x := range xmax {
			w := triangle((float64(x+xmin) - center + 0.5) * ss)
			k[x] = w
			ww += w
		}
		for x := range xmax {
			if ww != 0 {
				k[x] /= ww
			}
		}
		for x := max(xmax, 0); x < c.ksize; x++ {
			k[x] = 0
		}
		c.first[xx], c.count[xx] = xmin, xmax
	}
	for i, v := range c.pre {
		if v < 0 {
			c.k[i] = int32(-0.5 + v*(1<<precisionBits))
		} else {
			c.k[i] = int32(0.5 + v*(1<<precisionBits))
		}
	}
}

func triangle(x float64) float64 {
	x = math.Abs(x)
	if x < 1 {
		return 1 - x
	}
	return 0
}

func growInts(s []int, n int) []int {
	if cap(s) < n {
		return make([]int, n)
	}
	return s[:n]
}

func growBytes(s []byte, n int) []byte {
	if cap(s) < n {
		return make([]byte, n)
	}
	return s[:n]
}

// resizer resizes RGB HWC images like PIL's BILINEAR resize, reusing its
// buffers (and its coefficients while the sizes repeat) between calls. It
// is not safe for concurrent use.
type resizer struct {
	horiz, vert coeffs
	hIn, vIn    span // the spans and sizes horiz and vert were computed for
	hOut, vOut  int
	hoff        []int32 // horizontal pass: each output's first byte in a row
	hw          []int32 // and its weights (imgkern.HorizWeights)
	chunks      int
	tmp         []byte // the horizontal pass
}

// prepare computes the coefficients for resizing the spans v (rows) and h
// (columns) to outH x outW, unless they are those of the previous call.
func (rs *resizer) prepare(v, h span, outH, outW int) {
	v.first, h.first = 0, 0 // the coefficients do not depend on where the span is
	if rs.hIn != h || rs.hOut != outW {
		hk := &rs.horiz
		hk.compute(h, outW)
		rs.hIn, rs.hOut = h, outW
		rs.chunks = (hk.ksize + imgkern.ChunkTaps - 1) / imgkern.ChunkTaps
		if cap(rs.hoff) < outW {
			rs.hoff = make([]int32, outW)
		}
		if n := outW * 16 * rs.chunks; cap(rs.hw) < n {
			rs.hw = make([]int32, 2*n)
		}
		rs.hoff, rs.hw = rs.hoff[:outW], rs.hw[:outW*16*rs.chunks]
		for x := range outW {
			rs.hoff[x] = int32(3 * hk.first[x])
			imgkern.HorizWeights(rs.hw[x*16*rs.chunks:], hk.k[x*hk.ksize:x*hk.ksize+hk.count[x]], rs.chunks)
		}
	}
	if rs.vIn != v || rs.vOut != outH {
		rs.vert.compute(v, outH)
		rs.vIn, rs.vOut = v, outH
	}
}

// rowsRead returns the rows [y0, y1) of the box that the output rows
// [wy, wy+dh) read (after prepare).
func (rs *resizer) rowsRead(wy, dh int) (y0, y1 int) {
	c := &rs.vert
	y0, y1 = c.first[wy], 0
	for i := wy; i < wy+dh; i++ {
		if c.count[i] > 0 {
			y0 = min(y0, c.first[i])
			y1 = max(y1, c.first[i]+c.count[i])
		}
	}
	return y0, max(y0, y1)
}

// resize resizes the spans v (rows) and h (columns) of the image src (srcW
// pixels wide, RGB HWC) to outH x outW and writes the window of the result
// at rows [wy, wy+dh) and columns [wx, wx+dw) into dst (dh*dw*3 bytes,
// HWC). The window's pixels equal those of the full resize; only the rows
// and columns the window reads are resized horizontally. The passes are
// imgkern.HorizRGB and imgkern.Taps.
func (rs *resizer) resize(dst, src []byte, srcW int, v, h span, outH, outW, wy, wx, dh, dw int) {
	rs.prepare(v, h, outH, outW)
	y0, y1 := rs.rowsRead(wy, dh)
	m := dw * 3 // bytes of one horizontally resized row
	rs.tmp = growBytes(rs.tmp, (y1-y0)*m)
	off, w := rs.hoff[wx:wx+dw], rs.hw[wx*16*rs.chunks:(wx+dw)*16*rs.chunks]
	for y := y0; y < y1; y++ {
		srow := src[((v.first+y)*srcW+h.first)*3:]
		imgkern.HorizRGB(rs.tmp[(y-y0)*m:(y-y0+1)*m], srow, off, w, rs.chunks)
	}
	vk := &rs.vert
	for y := range dh {
		yy := wy + y
		k := vk.k[yy*vk.ksize : yy*vk.ksize+vk.count[yy]]
		imgkern.Taps(dst[y*m:(y+1)*m], rs.tmp[(vk.first[yy]-y0)*m:], m, k)
	}
}

// cropPlan is how one image becomes Size x Size: the box b is resized to
// outH x outW and the window of that at (wy, wx) kept.
type cropPlan struct {
	b                  box
	outH, outW, wy, wx int
}

// plan draws RandomResizedCrop's box from r (unused by CenterCrop) for an
// height x width image.
func (c *Crop) plan(r *sampleRNG, height, width int) cropPlan {
	s := c.Size
	if c.Mode == RandomResizedCrop {
		return cropPlan{b: c.randomResizedBox(r, height, width), outH: s, outW: s}
	}
	h, w := resizedSize(height, width, c.Resize)
	top, left := centerOffsets(h, w, s)
	return cropPlan{box{0, 0, height, width}, h, w, top, left}
}

// apply crops and resizes src (height x width, RGB HWC) to c.Size x c.Size
// into dst, drawing RandomResizedCrop's box from r.
func (c *Crop) apply(rs *resizer, dst, src []byte, height, width int, r *sampleRNG) {
	c.resize(rs, dst, src, width, c.plan(r, height, width), 1)
}

// resize resizes src, the image of plan p decoded at 1/denom (srcW pixels
// wide), to c.Size x c.Size into dst. At 1/1 the box is whole pixels; at
// 1/denom it is the box scaled by 1/denom, fractional, and the resize
// reads the whole pixels that hold it (PIL's resize with a box).
func (c *Crop) resize(rs *resizer, dst, src []byte, srcW int, p cropPlan, denom int) {
	v, h := pixels(p.b.i, p.b.h), pixels(p.b.j, p.b.w)
	if denom > 1 {
		v, h = scaledSpan(p.b.i, p.b.h, denom), scaledSpan(p.b.j, p.b.w, denom)
	}
	rs.resize(dst, src, srcW, v, h, p.outH, p.outW, p.wy, p.wx, c.Size, c.Size)
}

// scaledSpan is the span of the pixels [first, first+n) of an image in
// that image decoded at 1/denom.
func scaledSpan(first, n, denom int) span {
	d := float64(denom)
	lo, hi := float64(first)/d, float64(first+n)/d
	f := int(lo) // lo >= 0
	return span{f, int(math.Ceil(hi)) - f, lo - float64(f), hi - float64(f)}
}

// dctDenom is the largest DCT-domain scale, 8, 4 or 2, at which plan p's
// box still spans at least its resized size in both directions (1 if none
// does or the height x width image is too small for scaled decoding).
func (p *cropPlan) dctDenom(height, width int) int {
	if max(height, width) < turbojpeg.MinScaledSide {
		return 1
	}
	for _, d := range []int{8, 4, 2} {
		if p.b.h >= d*p.outH && p.b.w >= d*p.outW {
			return d
		}
	}
	return 1
}
