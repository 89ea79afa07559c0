package loader

import "math"

// ColorJitter is torchvision's ColorJitter(Brightness, Contrast, Saturation,
// Hue) as applied to a PIL RGB image, reproduced bit for bit on uint8 pixels
// (checked against PIL in the tests):
//
//   - brightness factor b uniform in [max(0, 1-Brightness), 1+Brightness):
//     PIL blend of black and the image, v' = trunc(b*v) clipped to 0..255;
//   - contrast factor c likewise: blend of the mean grey and the image,
//     where the mean is int(mean(L)+0.5) of the image's PIL "L" conversion
//     (L = (19595 R + 38470 G + 7471 B + 32768) >> 16);
//   - saturation factor s likewise: blend of each pixel's own L and the pixel;
//   - hue offset h uniform in [-Hue, Hue): PIL's RGB -> HSV conversion,
//     H += uint8(trunc(255*h)) modulo 256, HSV -> RGB.
//
// PIL blends in float32 and truncates (clips when extrapolating). The four
// operations run in a random order (a uniform permutation, as torchvision's
// randperm), each only when its parameter is non-zero. Random draws, after
// the crop's and Augment's other draws: the permutation (3 draws), then b, c,
// s, h for the enabled ones. Flip commutes with every step, so applying
// jitter before or after the flip gives the same pixels.
type ColorJitter struct {
	Brightness, Contrast, Saturation, Hue float64
}

// ImageNetJitter is the DARTS/ImageNet recipe's ColorJitter(0.4, 0.4, 0.4, 0.2).
var ImageNetJitter = ColorJitter{Brightness: 0.4, Contrast: 0.4, Saturation: 0.4, Hue: 0.2}

func (j *ColorJitter) enabled() bool { return *j != ColorJitter{} }

// jitterDraws are the random choices of one sample's colour jitter.
type jitterDraws struct {
	order              [4]int // 0 brightness, 1 contrast, 2 saturation, 3 hue
	b, c, s, h         float64
	doB, doC, doS, doH bool
}

func (j *ColorJitter) draw(r *sampleRNG) jitterDraws {
	d := jitterDraws{order: [4]int{0, 1, 2, 3}}
	for i := 3; i > 0; i-- {
		k := r.intn(i + 1)
		d.order[i], d.order[k] = d.order[k], d.order[i]
	}
	factor := func(v float64) float64 { return r.uniform(max(0, 1-v), 1+v) }
	if d.doB = j.Brightness > 0; d.doB {
		d.b = factor(j.Brightness)
	}
	if d.doC = j.Contrast > 0; d.doC {
		d.c = factor(j.Contrast)
	}
	if d.doS = j.Saturation > 0; d.doS {
		d.s = factor(j.Saturation)
	}
	if d.doH = j.Hue > 0; d.doH {
		d.h = r.uniform(-j.Hue, j.Hue)
	}
	return d
}

// apply jitters pix (RGB HWC) in place.
func (d *jitterDraws) apply(pix []byte) {
	for _, op := range d.order {
		switch {
		case op == 0 && d.doB:
			adjustBrightness(pix, d.b)
		case op == 1 && d.doC:
			adjustContrast(pix, d.c)
		case op == 2 && d.doS:
			adjustSaturation(pix, d.s)
		case op == 3 && d.doH:
			adjustHue(pix, d.h)
		}
	}
}

// blend is PIL's ImagingBlend of one byte: in1 + alpha*(in2-in1) in float32,
// truncated, clipped when alpha is outside [0, 1].
func blend(in1, in2 byte, alpha float32) byte {
	v := float32(float32(in1) + float32(alpha*float32(int(in2)-int(in1))))
	if alpha >= 0 && alpha <= 1 {
		return byte(v)
	}
	if v <= 0 {
		return 0
	}
	if v >= 255 {
		return 255
	}
	return byte(v)
}

// luma is PIL's RGB -> L conversion.
func luma(r, g, b byte) byte {
	return byte((uint32(r)*19595 + uint32(g)*38470 + uint32(b)*7471 + 0x8000) >> 16)
}

func adjustBrightness(pix []byte, f float64) {
	a := float32(f)
	if a == 1 {
		return
	}
	for i, v := range pix {
		pix[i] = blend(0, v, a)
	}
}

func adjustContrast(pix []byte, f float64) {
	var sum uint64
	n := len(pix) / 3
	for p := range n {
		sum += uint64(luma(pix[3*p], pix[3*p+1], pix[3*p+2]))
	}
	mean := byte(int(float64(sum)/float64(n) + 0.5))
	a := float32(f)
	if a == 1 {
		return
	}
	for i, v := range pix {
		pix[i] = blend(mean, v, a)
	}
}

func adjustSaturation(pix []byte, f float64) {
	a := float32(f)
	if a == 1 {
		return
	}
	for p := 0; p+2 < len(pix); p += 3 {
		l := luma(pix[p], pix[p+1], pix[p+2])
		pix[p], pix[p+1], pix[p+2] = blend(l, pix[p], a), blend(l, pix[p+1], a), blend(l, pix[p+2], a)
	}
}

func adjustHue(pix []byte, f float64) {
	// numpy's uint8 cast of hue*255: truncation toward zero, then modulo 256.
	shift := byte(int(f * 255))
	for p := 0; p+2 < len(pix); p += 3 {
		h, s, v := rgbToHSV(pix[p], pix[p+1], pix[p+2])
		pix[p], pix[p+1], pix[p+2] = hsvToRGB(h+shift, s, v)
	}
}

func clipInt8(v int) byte { return byte(max(0, min(v, 255))) }

// rgbToHSV is PIL's rgb2hsv (Convert.c), float32 where PIL uses float.
func rgbToHSV(r, g, b byte) (byte, byte, byte) {
	maxc, minc := max(r, g, b), min(r, g, b)
	if maxc == minc {
		return 0, 0, maxc
	}
	cr := float32(maxc - minc)
	s := cr / float32(maxc)
	rc := float32(maxc-r) / cr
	gc := float32(maxc-g) / cr
	bc := float32(maxc-b) / cr
	var h float32
	switch {
	case r == maxc:
		h = bc - gc
	case g == maxc:
		h = float32(2.0 + float64(rc) - float64(bc))
	default:
		h = float32(4.0 + float64(gc) - float64(rc))
	}
	// fmod(h/6 + 1, 1): the argument lies in [5/6, 2), where subtracting
	// 1 is exact, so this equals C's fmod.
	x := float64(h)/6.0 + 1.0
	if x >= 1 {
		x--
	}
	h = float32(x)
	return clipInt8(int(float64(h) * 255.0)), clipInt8(int(float64(s) * 255.0)), maxc
}

// hsvToRGB is PIL's hsv2rgb (Convert.c), float32 where PIL uses float;
// C's round (halves away from zero) is math.Round.
func hsvToRGB(h, s, v byte) (byte, byte, byte) {
	if s == 0 {
		return v, v, v
	}
	hf := float64(float32(h)) * 6.0 / 255.0
	i := int(math.Floor(hf))
	f := float32(hf - float64(i))
	fs := float32(float64(s) / 255.0)
	fv := float64(v)
	p := clipInt8(int(math.Round(fv * (1.0 - float64(fs)))))
	q := clipInt8(int(math.Round(fv * (1.0 - float64(float32(fs*f))))))
	t := clipInt8(int(math.Round(fv * (1.0 - float64(fs)*(1.0-float64(f))))))
	switch i % 6 {
	case 0:
		return v, t, p
	case 1:
		return q, v, p
	case 2:
		return p, v, t
	case 3:
		return p, q, v
	case 4:
		return t, p, v
	}
	return v, p, q
}
