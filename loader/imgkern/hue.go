package imgkern

// HueTables hold the parts of PIL's RGB -> HSV -> RGB round trip that do
// not depend on a hue shift, filled by the caller with PIL's values (the
// loader builds them from its reproduction of PIL's rgb2hsv and hsv2rgb).
// The Go and AVX-512 forms of ShiftHue look them up; the AVX2 form computes
// what Hue, Sat and P hold in PIL's arithmetic instead (320 KB of tables
// miss the caches), so the forms agree on PIL's tables only. For a colour
// with maximum m, minimum n and range c = m - n:
//
//   - its saturation s is Sat[c<<8|m], PIL's int(255*float64(float32(c) /
//     float32(m))) (0 for c = 0);
//   - its hue is Hue[0][(m-g)<<8|(m-b)] when red is the maximum, else
//     Hue[1][(m-r)<<8|(m-b)] when green is, else Hue[2][(m-r)<<8|(m-g)]:
//     with x, y the float32 quotients (m-b)/c, (m-g)/c and k = 0 (red),
//     (m-r)/c, (m-b)/c and k = 2 (green), else (m-g)/c, (m-r)/c and k = 4,
//     h = float32(k + x - y), then h = float32(h/6 + 1, less 1 from 1 up)
//     in float64, and the hue is int(255*float64(h));
//   - FS[s] is float32(s/255) and P[s<<8|v] hsv2rgb's p = round(v*(1 -
//     float64(FS[s]))).
//
// The field order matters to the assembly kernels, which read 4 bytes from
// each entry's address (the bytes past a table's end are the next field's;
// the padding covers the last one).
type HueTables struct {
	Hue [3][1 << 16]byte
	Sat [1 << 16]byte
	P   [1 << 16]byte
	FS  [256]float32
	_   [4]byte
}

// HueShift holds hsv2rgb's sector (0..5) and fraction of each hue after a
// shift: hue h maps to Sector[h] and Frac[h]. The kernels read 4 bytes from
// each Sector entry (the bytes past the end are Frac's).
type HueShift struct {
	Sector [256]uint8
	Frac   [256]float32
}

// sectorPick says which of hsv2rgb's (v, p, q, t) are R, G and B in each
// sector.
var sectorPick = [6][3]uint8{{0, 3, 1}, {2, 0, 1}, {1, 0, 3}, {1, 2, 0}, {3, 1, 0}, {0, 1, 2}}

// HSVSector is hsv2rgb for s > 0, the hue given by its sector and
// fraction: (v, p, q, t) with p from t.P, q = round(v*(1 - fs*f)) (the
// product fs*f in float32, the rest in float64), t = round(v*(1 -
// fs*(1-f))) in float64, arranged by the sector. C's round is floor(x+0.5)
// here: the products are non-negative (the loader checks every input).
func HSVSector(t *HueTables, sector uint8, f float32, s, v byte) (byte, byte, byte) {
	fs := t.FS[s]
	fv := float64(v)
	var c [4]byte
	c[0] = v
	c[1] = t.P[int(s)<<8|int(v)]
	c[2] = byte(int(float64(fv*(1.0-float64(fs*f))) + 0.5))
	c[3] = byte(int(float64(fv*(1.0-float64(float64(fs)*(1.0-float64(f))))) + 0.5))
	k := &sectorPick[sector]
	return c[k[0]], c[k[1]], c[k[2]]
}

// ShiftHue converts every RGB pixel of pix to HSV with t, moves its hue by
// sh and converts back, in place: a pixel whose saturation is 0 (grey ones
// included) becomes (m, m, m), the others HSVSector of their shifted hue.
// t must hold PIL's values (HueTables), which the AVX2 form computes.
func ShiftHue(pix []byte, t *HueTables, sh *HueShift) {
	n, done := len(pix)/3, 0
	switch rgbPath(n) {
	case AVX512:
		done = n &^ 15
		shiftHueAVX512(&pix[0], done, t, sh, &sectorShifts)
	case AVX2:
		done = n &^ 7
		shiftHueAVX2(&pix[0], done, t, sh, &sectorShifts)
	}
	shiftHueGo(pix[done*3:], t, sh)
}

// sectorShifts are, for the kernels, the bit shifts that pick R, G and B
// from the bytes (v, p, q, t) packed in a dword, by sector: 16 dwords per
// channel (6 used).
var sectorShifts = func() (s [3][16]uint32) {
	for sec, k := range sectorPick {
		for c := range 3 {
			s[c][sec] = 8 * uint32(k[c])
		}
	}
	return s
}()

// shiftHueGo is ShiftHue in Go, the reference.
func shiftHueGo(pix []byte, t *HueTables, sh *HueShift) {
	for p := 0; p+2 < len(pix); p += 3 {
		q := pix[p : p+3]
		r, g, b := q[0], q[1], q[2]
		m, c := max(r, g, b), max(r, g, b)-min(r, g, b)
		s := t.Sat[int(c)<<8|int(m)]
		if s == 0 {
			q[0], q[1], q[2] = m, m, m
			continue
		}
		var h byte
		switch {
		case r == m:
			h = t.Hue[0][int(m-g)<<8|int(m-b)]
		case g == m:
			h = t.Hue[1][int(m-r)<<8|int(m-b)]
		default:
			h = t.Hue[2][int(m-r)<<8|int(m-g)]
		}
		q[0], q[1], q[2] = HSVSector(t, sh.Sector[h], sh.Frac[h], s, m)
	}
}
