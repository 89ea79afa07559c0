package imgkern

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"pertnas/internal/cpupath"
)

// TestTapsPaths checks every supported path against the Go form on random
// rows, lengths (block multiples and tails), tap counts and weights: PIL's
// normalised bilinear weights, and extreme ones that drive the sums past
// both ends of the clip.
func TestTapsPaths(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	paths := Supported()
	if len(paths) == 1 {
		t.Log("only the Go path runs here")
	}
	defer Use(Current())
	for trial := range 400 {
		n := rng.IntN(70)
		if trial%5 == 0 {
			n = 16 * (1 + rng.IntN(8))
		}
		stride := n + rng.IntN(9)
		nk := 1 + rng.IntN(7)
		k := make([]int32, nk)
		switch trial % 3 {
		case 0: // normalised weights summing to 1 << Precision
			left := int32(1 << Precision)
			for i := range nk - 1 {
				k[i] = rng.Int32N(left + 1)
				left -= k[i]
			}
			k[nk-1] = left
		case 1: // negative and oversized weights (clipping)
			for i := range k {
				k[i] = rng.Int32N(3<<Precision) - 1<<Precision
			}
		default:
			for i := range k {
				k[i] = rng.Int32N(1 << (Precision - 1))
			}
		}
		src := make([]byte, (nk-1)*stride+n+rng.IntN(3))
		for i := range src {
			src[i] = byte(rng.IntN(256))
		}
		want := make([]byte, n)
		tapsGo(want, src, stride, k)
		for _, p := range paths {
			if _, err := Use(p); err != nil {
				t.Fatal(err)
			}
			got := make([]byte, n)
			Taps(got, src, stride, k)
			if !bytes.Equal(got, want) {
				t.Fatalf("%s: %d outputs, %d taps %v, stride %d: %v, Go %v", p, n, nk, k, stride, got, want)
			}
		}
	}
}

func TestClip8(t *testing.T) {
	for _, c := range []struct {
		v    int32
		want byte
	}{{-5, 0}, {0, 0}, {1<<Precision - 1, 0}, {1 << Precision, 1}, {255<<Precision - 1, 254}, {255 << Precision, 255}, {1 << 30, 255}} {
		if got := Clip8(c.v); got != c.want {
			t.Errorf("Clip8(%d) = %d, want %d", c.v, got, c.want)
		}
	}
}

// TestEnvPath checks the start-up choice: auto and empty give the fastest
// supported path, a named supported path is taken, anything else is an
// error naming the variable, and PERTNAS_PUREGO wins over a valid choice.
func TestEnvPath(t *testing.T) {
	ps := Supported()
	best := ps[len(ps)-1]
	t.Setenv(cpupath.EnvPureGo, "")
	for _, want := range []string{"", "auto"} {
		if p, err := envPath(want); err != nil || p != best {
			t.Errorf("envPath(%q) = %v, %v; want %v", want, p, err, best)
		}
	}
	for _, p := range ps {
		if got, err := envPath(string(p)); err != nil || got != p {
			t.Errorf("envPath(%q) = %v, %v", p, got, err)
		}
	}
	bad := []string{"sse9", "AVX2", " avx2"}
	if len(ps) < 3 {
		bad = append(bad, string(AVX512)) // this CPU lacks it
	}
	for _, b := range bad {
		if _, err := envPath(b); err == nil || !strings.Contains(err.Error(), "PERTNAS_IMGKERN") {
			t.Errorf("envPath(%q): error %v, want one naming PERTNAS_IMGKERN", b, err)
		}
	}
	t.Setenv(cpupath.EnvPureGo, "1")
	for _, want := range []string{"", "auto", string(best)} {
		if p, err := envPath(want); err != nil || p != PureGo {
			t.Errorf("PERTNAS_PUREGO=1: envPath(%q) = %v, %v; want purego", want, p, err)
		}
	}
	if _, err := envPath("sse9"); err == nil {
		t.Error("PERTNAS_PUREGO=1: envPath accepts sse9")
	}
}

func TestUseRejects(t *testing.T) {
	if _, err := Use("sse9"); err == nil {
		t.Error("unknown path accepted")
	}
}

func BenchmarkTaps(b *testing.B) {
	src := make([]byte, 4*672+672)
	k := []int32{1 << 20, 1 << 21, 1 << 20, 5}
	dst := make([]byte, 672)
	defer Use(Current())
	for _, p := range Supported() {
		b.Run(string(p), func(b *testing.B) {
			Use(p)
			for b.Loop() {
				Taps(dst, src, 672, k)
			}
		})
	}
}

// TestHorizRGBPaths checks HorizRGB on every path against the weighted
// sums computed directly, for tap counts across chunk boundaries, offsets
// up to the end of the source (where the kernel must leave pixels to the
// Go form) and clipping weights.
func TestHorizRGBPaths(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	defer Use(Current())
	for trial := range 300 {
		n := 1 + rng.IntN(40)
		maxTaps := 1 + rng.IntN(12)
		chunks := (maxTaps + ChunkTaps - 1) / ChunkTaps
		src := make([]byte, 3*(n*2+maxTaps)+rng.IntN(4))
		for i := range src {
			src[i] = byte(rng.IntN(256))
		}
		off := make([]int32, n)
		ks := make([][]int32, n)
		w := make([]int32, n*16*chunks)
		pos := 0
		for j := range n {
			cnt := 1 + rng.IntN(maxTaps)
			pos = min(pos+rng.IntN(3), len(src)/3-cnt)
			off[j] = int32(3 * pos)
			ks[j] = make([]int32, cnt)
			for i := range ks[j] {
				if trial%2 == 0 {
					ks[j][i] = rng.Int32N(1 << (Precision - 1))
				} else {
					ks[j][i] = rng.Int32N(3<<Precision) - 1<<Precision
				}
			}
			HorizWeights(w[j*16*chunks:], ks[j], chunks)
		}
		want := make([]byte, 3*n)
		for j := range n {
			for c := range 3 {
				s := int32(1 << (Precision - 1))
				for i, kv := range ks[j] {
					s += int32(src[int(off[j])+3*i+c]) * kv
				}
				want[3*j+c] = Clip8(s)
			}
		}
		for _, p := range Supported() {
			if _, err := Use(p); err != nil {
				t.Fatal(err)
			}
			got := make([]byte, 3*n)
			HorizRGB(got, src, off, w, chunks)
			if !bytes.Equal(got, want) {
				t.Fatalf("%s trial %d: %d pixels, %d chunks: %v, want %v", p, trial, n, chunks, got, want)
			}
		}
	}
}

// TestSaturateLumaPaths checks Saturate and LumaSum on every path against
// the Go forms (and LumaSum against Luma), on random images of lengths
// around the 16-pixel blocks, for factors in and outside [0, 1].
func TestSaturateLumaPaths(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	defer Use(Current())
	t.Logf("paths %v, VBMI kernels: %v", Supported(), hasVBMI)
	for trial := range 200 {
		n := rng.IntN(80)
		img := make([]byte, 3*n)
		for i := range img {
			img[i] = byte(rng.IntN(256))
		}
		if trial%4 == 0 { // saturated and grey pixels
			for i := 0; i+2 < len(img); i += 3 {
				img[i], img[i+1], img[i+2] = 255*byte(rng.IntN(2)), 0, byte(rng.IntN(2))*img[i]
			}
		}
		a := float32(rng.Float64()*3 - 0.5)
		if trial%7 == 0 {
			a = []float32{0, 1, 0.6, 1.4, 2.5, -0.3}[trial%6]
		}
		want := bytes.Clone(img)
		saturateGo(want, a)
		var wantSum uint64
		for i := 0; i+2 < len(img); i += 3 {
			wantSum += uint64(Luma(img[i], img[i+1], img[i+2]))
		}
		for _, p := range Supported() {
			if _, err := Use(p); err != nil {
				t.Fatal(err)
			}
			if s := LumaSum(img); s != wantSum {
				t.Fatalf("%s: LumaSum of %d pixels %d, want %d", p, n, s, wantSum)
			}
			got := bytes.Clone(img)
			Saturate(got, a)
			if !bytes.Equal(got, want) {
				t.Fatalf("%s: Saturate(%v) of %d pixels: %v, want %v", p, a, n, got, want)
			}
		}
	}
}

// pilHueTables returns HueTables holding PIL's values as their doc states
// them (the loader checks its own tables, built from its reproduction of
// PIL's rgb2hsv and hsv2rgb, against every colour). It panics where the
// doc's hue for red maxima, float32(0 + x - y) from float64, differs from
// PIL's float32 subtraction x - y.
var pilHueTables = sync.OnceValue(func() *HueTables {
	t := new(HueTables)
	hue := func(k float64, x, y, c int) byte {
		qx, qy := float32(x)/float32(c), float32(y)/float32(c)
		h := float32(k + float64(qx) - float64(qy))
		if k == 0 && h != qx-qy {
			panic(fmt.Sprintf("hue of x %d, y %d, c %d: float64 sum %v, float32 %v", x, y, c, h, qx-qy))
		}
		v := float64(h)/6 + 1
		if v >= 1 {
			v--
		}
		return byte(int(float64(float32(v)) * 255))
	}
	for d1 := range 256 {
		t.FS[d1] = float32(float64(d1) / 255)
	}
	for d1 := range 256 {
		for d2 := range 256 {
			i := d1<<8 | d2
			if c := max(d1, d2); c > 0 {
				t.Hue[0][i] = hue(0, d2, d1, c)
				t.Hue[1][i] = hue(2, d1, d2, c)
				t.Hue[2][i] = hue(4, d2, d1, c)
			}
			if c, m := d1, d2; c > 0 && c <= m {
				t.Sat[i] = byte(int(255 * float64(float32(c)/float32(m))))
			}
			t.P[i] = byte(math.Round(float64(d2) * (1 - float64(t.FS[d1]))))
		}
	}
	return t
})

// pilHueShift fills sh as PIL's hsv2rgb shifts every hue by shift.
func pilHueShift(sh *HueShift, shift byte) {
	for h := range 256 {
		hf := float64(float32(byte(h)+shift)) * 6.0 / 255.0
		i := math.Floor(hf)
		sh.Sector[h], sh.Frac[h] = uint8(int(i)%6), float32(hf-i)
	}
}

// TestShiftHuePaths checks ShiftHue on every path against the Go form with
// PIL's tables and random shift tables (sectors 0..5, fractions in [0, 1))
// on random images around the 8- and 16-pixel blocks, grey and saturated
// pixels among them.
func TestShiftHuePaths(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	defer Use(Current())
	tb := pilHueTables()
	for trial := range 200 {
		sh := new(HueShift)
		for h := range 256 {
			sh.Sector[h], sh.Frac[h] = uint8(rng.IntN(6)), rng.Float32()
		}
		n := rng.IntN(100)
		img := make([]byte, 3*n)
		for i := range img {
			img[i] = byte(rng.IntN(256))
		}
		for i := 0; i+2 < len(img); i += 9 {
			img[i+1], img[i+2] = img[i], img[i] // grey
		}
		if trial%3 == 0 {
			for i := 0; i+2 < len(img); i += 3 { // channels 0, 255 and equal
				img[i], img[i+1], img[i+2] = []byte{0, 255, img[i]}[rng.IntN(3)], 255*byte(rng.IntN(2)), img[i+rng.IntN(2)]
			}
		}
		want := bytes.Clone(img)
		shiftHueGo(want, tb, sh)
		for _, p := range Supported() {
			if _, err := Use(p); err != nil {
				t.Fatal(err)
			}
			got := bytes.Clone(img)
			ShiftHue(got, tb, sh)
			if i := firstDiff(got, want); i >= 0 {
				t.Fatalf("%s trial %d: byte %d of %d pixels is %d, Go %d (pixel %v)", p, trial, i, n, got[i], want[i], img[i/3*3:i/3*3+3])
			}
		}
	}
}

// TestShiftHueEveryColour checks ShiftHue on every path against the Go
// form on all 2^24 colours with PIL's tables, for shifts in every sector
// (the AVX2 form computes what the tables hold: this covers every input of
// that arithmetic).
func TestShiftHueEveryColour(t *testing.T) {
	defer Use(Current())
	tb := pilHueTables()
	img := make([]byte, 3<<24)
	for c := range 1 << 24 {
		img[3*c], img[3*c+1], img[3*c+2] = byte(c>>16), byte(c>>8), byte(c)
	}
	want, got := make([]byte, len(img)), make([]byte, len(img))
	var sh HueShift
	for _, shift := range []byte{0, 37, 128, 230} {
		pilHueShift(&sh, shift)
		copy(want, img)
		shiftHueGo(want, tb, &sh)
		for _, p := range Supported() {
			if _, err := Use(p); err != nil {
				t.Fatal(err)
			}
			copy(got, img)
			ShiftHue(got, tb, &sh)
			if i := firstDiff(got, want); i >= 0 {
				t.Fatalf("%s shift %d: colour %v gives byte %d, Go %d", p, shift, img[i/3*3:i/3*3+3], got[i], want[i])
			}
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

// TestBlendBytesPaths checks BlendBytes on every path against Blend for
// every byte value, several in1 and a spread of alphas: ColorJitter's
// factors (uniform in [0.6, 1.4)), the ends of [0, 1] and their float32
// neighbours, and extrapolations far enough to clip, also past int32's
// range. The image holds every
// byte twice in the kernels' 32-byte blocks and a tail the Go form does.
func TestBlendBytesPaths(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	defer Use(Current())
	alphas := []float32{0, 1, 0.6, 1.4, 0.5, 0.99999994, 1.0000001, 1e-7, -1e-7,
		-0.5, -3, 2, 3.7, 255, -255, 1e6, 1e8, -1e8, 1e30, -1e30}
	for range 64 {
		alphas = append(alphas, 0.6+0.8*rng.Float32())
	}
	img := make([]byte, 2*256+31)
	for v := range 256 {
		img[v], img[511-v] = byte(v), byte(v)
	}
	for i := 512; i < len(img); i++ {
		img[i] = byte(rng.IntN(256))
	}
	for _, in1 := range []byte{0, 1, 77, 127, 128, 200, 254, 255} {
		for _, a := range alphas {
			want := make([]byte, len(img))
			for i, v := range img {
				want[i] = Blend(in1, v, a)
			}
			for _, p := range Supported() {
				if _, err := Use(p); err != nil {
					t.Fatal(err)
				}
				got := bytes.Clone(img)
				BlendBytes(got, in1, a)
				if i := firstDiff(got, want); i >= 0 {
					t.Fatalf("%s in1 %d alpha %v: byte %d (%d): %d, want %d", p, in1, a, i, img[i], got[i], want[i])
				}
			}
		}
	}
}

// TestMapBytesPaths checks mapBytes on every path against table lookups.
func TestMapBytesPaths(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	defer Use(Current())
	var table [256]byte
	for trial := range 50 {
		for i := range table {
			table[i] = byte(rng.IntN(256))
		}
		img := make([]byte, rng.IntN(300))
		for i := range img {
			img[i] = byte(rng.IntN(256))
		}
		want := make([]byte, len(img))
		for i, v := range img {
			want[i] = table[v]
		}
		for _, p := range Supported() {
			if _, err := Use(p); err != nil {
				t.Fatal(err)
			}
			got := bytes.Clone(img)
			mapBytes(got, &table)
			if i := firstDiff(got, want); i >= 0 {
				t.Fatalf("%s trial %d: byte %d of %d: %d, want %d", p, trial, i, len(img), got[i], want[i])
			}
		}
	}
}

// benchImage returns a w x h RGB image like a photograph's texture: colour
// fields with edges and pixel noise (random pixels would make the hue
// tables miss far more than images do).
func benchImage(w, h int) []byte {
	rng := rand.New(rand.NewPCG(15, 16))
	img := make([]byte, 3*w*h)
	for y := range h {
		for x := range w {
			for c := range 3 {
				base := (x/40*37 + y/30*53 + c*80) % 256
				img[3*(y*w+x)+c] = byte(min(max(base+rng.IntN(33)-16, 0), 255))
			}
		}
	}
	return img
}

// triangle returns fixed-point weights of a triangle filter (bilinear) that
// scales in samples to out: first sample and taps of each output, the
// weights normalised to 1 << Precision as PIL's are.
func triangle(in, out int) (first []int, k [][]int32) {
	scale := float64(in) / float64(out)
	support := max(scale, 1)
	for i := range out {
		c := (float64(i) + 0.5) * scale
		lo, hi := max(int(c-support+0.5), 0), min(int(c+support+0.5), in)
		ws := make([]float64, hi-lo)
		var sum float64
		for j := range ws {
			ws[j] = max(0, 1-abs((float64(lo+j)+0.5-c)/support))
			sum += ws[j]
		}
		kk := make([]int32, len(ws))
		for j := range ws {
			kk[j] = int32(ws[j] / sum * (1 << Precision))
		}
		first, k = append(first, lo), append(k, kk)
	}
	return first, k
}

func abs(x float64) float64 { return max(x, -x) }

// cpuLoop runs f b.N times and reports the process's CPU time per call
// (cpu-ns/op), which varies far less than the wall time on a machine shared
// with other work (run with GOMAXPROCS=1).
func cpuLoop(b *testing.B, f func()) {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			b.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start, n := cpu(), 0
	for b.Loop() {
		f()
		n++
	}
	b.ReportMetric(float64(cpu()-start)/float64(n), "cpu-ns/op")
}

// BenchmarkKernels times each kernel per image on every supported path:
// the resize of a 500x375 image to 224x224 (HorizRGB over its 375 rows to
// 224 columns, then Taps for 224 rows of 224 pixels) and the colour jitter
// kernels on 224x224 images (the loader jitters the crops) and 500x375 ones,
// hue with PIL's tables. ns/op and cpu-ns/op are per image.
func BenchmarkKernels(b *testing.B) {
	defer Use(Current())
	const sw, sh, dw, dh = 500, 375, 224, 224
	src := benchImage(sw, sh)
	hf, hk := triangle(sw, dw)
	chunks := 0
	for _, k := range hk {
		chunks = max(chunks, (len(k)+ChunkTaps-1)/ChunkTaps)
	}
	off := make([]int32, dw)
	w := make([]int32, dw*16*chunks)
	for x := range dw {
		off[x] = int32(3 * hf[x])
		HorizWeights(w[x*16*chunks:], hk[x], chunks)
	}
	tmp := make([]byte, 3*dw*sh)
	vf, vk := triangle(sh, dh)
	out := make([]byte, 3*dw*dh)
	tb := pilHueTables()
	hs := new(HueShift)
	pilHueShift(hs, 51)
	kernels := []struct {
		name string
		run  func(img []byte)
	}{
		{"blend", func(img []byte) { BlendBytes(img, 0, 1.25) }},
		{"lumasum", func(img []byte) { LumaSum(img) }},
		{"saturate", func(img []byte) { Saturate(img, 0.7) }},
		{"hue", func(img []byte) { ShiftHue(img, tb, hs) }},
	}
	for _, p := range Supported() {
		Use(p)
		b.Run("horiz/500x375to224x375/"+string(p), func(b *testing.B) {
			cpuLoop(b, func() {
				for y := range sh {
					HorizRGB(tmp[3*dw*y:3*dw*(y+1)], src[3*sw*y:3*sw*(y+1)], off, w, chunks)
				}
			})
		})
		b.Run("taps/224x375to224x224/"+string(p), func(b *testing.B) {
			cpuLoop(b, func() {
				for y := range dh {
					Taps(out[3*dw*y:3*dw*(y+1)], tmp[3*dw*vf[y]:], 3*dw, vk[y])
				}
			})
		})
		for _, k := range kernels {
			for _, size := range [][2]int{{224, 224}, {500, 375}} {
				img := benchImage(size[0], size[1])
				work := make([]byte, len(img))
				b.Run(fmt.Sprintf("%s/%dx%d/%s", k.name, size[0], size[1], p), func(b *testing.B) {
					cpuLoop(b, func() {
						copy(work, img)
						k.run(work)
					})
				})
			}
		}
	}
}
