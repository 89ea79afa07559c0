package loader

// Augment is the per-sample transform of training images, applied in this
// order (the order of the DARTS reference's torchvision pipeline):
//
//  1. translate (when Pad > 0): pad the image by Pad pixels on every side with
//     the colour Fill, then crop back to the original size at offsets
//     (oy, ox) drawn uniformly from [0, 2*Pad] each. DARTS's
//     RandomCrop(32, padding=4) is Pad 4 with Fill black. FFCV's
//     RandomTranslate(padding=p) is Pad p with Fill black too: its fill
//     argument (default (0, 0, 0)) is stored but never used by the code it
//     generates, which copies the image into the middle of a padded buffer
//     that is never written elsewhere (fresh memory: zeros).
//  2. horizontal flip (when Flip) with probability 1/2. FFCV flips before
//     it translates; the two orders give the same distribution of outputs.
//  3. normalise every channel: (v - Mean[c]) / Std[c], v on the 0..255 scale.
//  4. cutout (when Cutout > 0), placed by CutoutMode:
//     - CutoutDARTS, DARTS's Cutout: a centre (cy, cx) is drawn uniformly
//     over the whole image, y in [0, H) then x in [0, W); the square rows
//     clip(cy-Cutout/2, 0, H) up to clip(cy+Cutout/2, 0, H) (exclusive) and
//     likewise for columns are set to 0 after normalisation (that is, to
//     the mean colour). Near a border the square is clipped, so the cut
//     area is at most (2*(Cutout/2))^2 and may be smaller; Cutout/2 rounds
//     down, as in DARTS.
//     - CutoutFFCV, FFCV's Cutout(Cutout, CutoutFill): the top-left corner
//     (cy, cx) is drawn uniformly from [0, H-Cutout] then [0, W-Cutout], so
//     the Cutout x Cutout square always lies whole inside the image, and its
//     pixels take the colour CutoutFill before normalisation (FFCV cuts the
//     uint8 image; normalising CutoutFill gives the same values).
//
// The random draws of one sample come, in the order oy, ox, flip, cy, cx,
// from a stream derived from (seed, epoch, sample id) only.
type Augment struct {
	Flip       bool
	Pad        int
	Fill       [3]uint8
	Cutout     int
	CutoutMode CutoutMode
	CutoutFill [3]uint8 // CutoutFFCV only
	// Jitter, when not zero, runs on the uint8 pixels before step 1 (see
	// ColorJitter); its draws follow cx.
	Jitter ColorJitter
}

// CutoutMode is how cutout places and fills its square (see Augment).
type CutoutMode uint8

// Cutout modes.
const (
	CutoutDARTS CutoutMode = iota // centre anywhere, clipped, 0 after normalisation
	CutoutFFCV                    // whole square inside the image, CutoutFill colour
)

// DARTSTrain returns the DARTS CIFAR training augmentation: pad-4 random
// crop with black padding, horizontal flip, and cutout of the given side
// (0 for none).
func DARTSTrain(cutout int) Augment { return Augment{Flip: true, Pad: 4, Cutout: cutout} }

// Normalisation constants on the 0..255 scale.
var (
	// DARTSMean and DARTSStd are the constants of the DARTS reference code
	// (CIFAR_MEAN (0.4914, 0.4822, 0.4465), CIFAR_STD (0.2470, 0.2435,
	// 0.2616), times 255); docs/spec/darts.md's training recipe.
	DARTSMean = [3]float32{0.49139968 * 255, 0.48215827 * 255, 0.44653124 * 255}
	DARTSStd  = [3]float32{0.24703233 * 255, 0.24348505 * 255, 0.26158768 * 255}
	// FFCVMean and FFCVStd are the constants of FFCV's CIFAR example
	// (docs/spec/beton.md).
	FFCVMean = [3]float32{125.307, 122.961, 113.8575}
	FFCVStd  = [3]float32{51.5865, 50.847, 51.255}
	// ImageNetMean and ImageNetStd are torchvision's ImageNet constants
	// (0.485, 0.456, 0.406) and (0.229, 0.224, 0.225), times 255.
	ImageNetMean = [3]float32{0.485 * 255, 0.456 * 255, 0.406 * 255}
	ImageNetStd  = [3]float32{0.229 * 255, 0.224 * 255, 0.225 * 255}
)

// draws are the random choices made for one sample.
type draws struct {
	oy, ox int
	flip   bool
	cy, cx int
	jitter jitterDraws
}

func (a *Augment) draw(r *sampleRNG, h, w int) draws {
	var d draws
	if a.Pad > 0 {
		d.oy = r.intn(2*a.Pad + 1)
		d.ox = r.intn(2*a.Pad + 1)
	} else {
		d.oy, d.ox = a.Pad, a.Pad // Pad 0: no shift
	}
	if a.Flip {
		d.flip = r.coin()
	}
	switch {
	case a.Cutout > 0 && a.CutoutMode == CutoutFFCV:
		d.cy = r.intn(max(h-a.Cutout+1, 1))
		d.cx = r.intn(max(w-a.Cutout+1, 1))
	case a.Cutout > 0:
		d.cy = r.intn(h)
		d.cx = r.intn(w)
	}
	if a.Jitter.enabled() {
		d.jitter = a.Jitter.draw(r)
	}
	return d
}

// normLUT maps a channel's byte value to its normalised float.
type normLUT [3][256]float32

func newNormLUT(mean, std [3]float32) *normLUT {
	var t normLUT
	for c := range 3 {
		for v := range 256 {
			t[c][v] = (float32(v) - mean[c]) / std[c]
		}
	}
	return &t
}

// transform writes the augmented, normalised image into dst (3*h*w floats,
// CHW) from src (h*w*3 bytes, HWC) using the draws d.
func (a *Augment) transform(dst []float32, src []byte, h, w int, d draws, lut *normLUT) {
	plane := h * w
	r0, r1, r2 := dst[:plane:plane], dst[plane:2*plane:2*plane], dst[2*plane:3*plane:3*plane]
	f0, f1, f2 := lut[0][a.Fill[0]], lut[1][a.Fill[1]], lut[2][a.Fill[2]]
	l0, l1, l2 := &lut[0], &lut[1], &lut[2]
	src = src[:h*w*3]
	for y := range h {
		sy := y + d.oy - a.Pad
		row := y * w
		o0, o1, o2 := r0[row:row+w], r1[row:row+w], r2[row:row+w]
		if sy < 0 || sy >= h {
			for x := range w {
				o0[x], o1[x], o2[x] = f0, f1, f2
			}
			continue
		}
		srow := src[sy*w*3 : (sy+1)*w*3]
		shift := d.ox - a.Pad
		for x := range w {
			sx := x
			if d.flip {
				sx = w - 1 - x
			}
			sx += shift
			if sx < 0 || sx >= w {
				o0[x], o1[x], o2[x] = f0, f1, f2
				continue
			}
			p := srow[sx*3 : sx*3+3]
			o0[x], o1[x], o2[x] = l0[p[0]], l1[p[1]], l2[p[2]]
		}
	}
	if a.Cutout > 0 && a.CutoutMode == CutoutFFCV {
		y2, x2 := min(d.cy+a.Cutout, h), min(d.cx+a.Cutout, w)
		for c, p := range [3][]float32{r0, r1, r2} {
			v := lut[c][a.CutoutFill[c]]
			for y := d.cy; y < y2; y++ {
				row := p[y*w+d.cx : y*w+x2]
				for x := range row {
					row[x] = v
				}
			}
		}
	} else if a.Cutout > 0 {
		half := a.Cutout / 2
		y1, y2 := clamp(d.cy-half, 0, h), clamp(d.cy+half, 0, h)
		x1, x2 := clamp(d.cx-half, 0, w), clamp(d.cx+half, 0, w)
		for _, p := range [3][]float32{r0, r1, r2} {
			for y := y1; y < y2; y++ {
				clear(p[y*w+x1 : y*w+x2])
			}
		}
	}
}

func clamp(v, lo, hi int) int { return max(lo, min(v, hi)) }
