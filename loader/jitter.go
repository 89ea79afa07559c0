package loader

import (
	"math"
	"sync"

	"pertnas/loader/imgkern"
)

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

// The four operations below give PIL's bytes (the reference is PIL's
// arithmetic, spelled out in imgkern.Blend, imgkern.Luma, rgbToHSV and
// hsvToRGB) but avoid repeating work per pixel: brightness and contrast are
// imgkern.BlendBytes (contrast's mean from imgkern.LumaSum), saturation is
// imgkern.Saturate, and hue is imgkern.ShiftHue, which looks up the hue and
// saturation of a colour in tables built once from rgbToHSV and converts
// back with per-image tables of the shifted hues' sectors (checked over
// every input in the tests).

func adjustBrightness(pix []byte, f float64) {
	a := float32(f)
	if a == 1 {
		return
	}
	imgkern.BlendBytes(pix, 0, a)
}

func adjustContrast(pix []byte, f float64) {
	n := len(pix) / 3
	mean := byte(int(float64(imgkern.LumaSum(pix))/float64(n) + 0.5))
	a := float32(f)
	if a == 1 {
		return
	}
	imgkern.BlendBytes(pix, mean, a)
}

// adjustSaturation is imgkern.Blend(luma, v, f) on every channel v of a
// pixel; for f in [0, 1] the blend's result lies in [0, 255] unclipped, so the clipped
// form of imgkern.Saturate gives the same bytes for every factor.
func adjustSaturation(pix []byte, f float64) {
	a := float32(f)
	if a == 1 {
		return
	}
	imgkern.Saturate(pix, a)
}

// hueLUT builds imgkern's hue tables once from rgbToHSV and hsvToRGB
// (which depend only on a colour's differences from its maximum, its range
// and maximum).
var hueLUT = sync.OnceValue(func() *imgkern.HueTables {
	t := new(imgkern.HueTables)
	for d1 := range 256 {
		for d2 := range 256 {
			i := d1<<8 | d2
			a, b := byte(255-d1), byte(255-d2)
			t.Hue[0][i], _, _ = rgbToHSV(255, a, b)
			if d1 > 0 {
				t.Hue[1][i], _, _ = rgbToHSV(a, 255, b)
				if d2 > 0 {
					t.Hue[2][i], _, _ = rgbToHSV(a, b, 255)
				}
			}
			if c, m := d1, d2; c > 0 && c <= m {
				_, t.Sat[i], _ = rgbToHSV(byte(m), byte(m-c), byte(m-c))
			}
			// hsvToRGB gives p as its blue output in sector 0 (hue 0).
			if d1 > 0 {
				_, _, t.P[i] = hsvToRGB(0, byte(d1), byte(d2))
			}
		}
		t.FS[d1] = float32(float64(d1) / 255.0)
	}
	return t
})

// hueShift fills sh with hsvToRGB's sector and fraction of every hue moved
// by shift.
func hueShift(sh *imgkern.HueShift, shift byte) {
	for h := range 256 {
		hf := float64(float32(byte(h)+shift)) * 6.0 / 255.0
		i := int(math.Floor(hf))
		sh.Sector[h], sh.Frac[h] = uint8(i%6), float32(hf-float64(i))
	}
}

func adjustHue(pix []byte, f float64) {
	// numpy's uint8 cast of hue*255: truncation toward zero, then modulo 256.
	var sh imgkern.HueShift
	hueShift(&sh, byte(int(f*255)))
	imgkern.ShiftHue(pix, hueLUT(), &sh)
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
// C's round (halves away from zero) is math.Round. Here and in the other
// reproductions of PIL's arithmetic, explicit conversions round every
// product, so that the compiler never fuses a multiply and an add (PIL's C
// is compiled without fused multiply-add on x86-64).
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
	t := clipInt8(int(math.Round(fv * (1.0 - float64(float64(fs)*(1.0-float64(f)))))))
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
