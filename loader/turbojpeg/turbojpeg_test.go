package turbojpeg

import (
	"bytes"
	"encoding/json"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

func decoder(t testing.TB) *Decoder {
	t.Helper()
	d, err := NewDecoder()
	if err != nil && os.Getenv("PERTNAS_REQUIRE_TURBOJPEG") != "" {
		t.Fatalf("PERTNAS_REQUIRE_TURBOJPEG is set: %v", err)
	}
	if err != nil {
		t.Skipf("libturbojpeg not available (Debian: apt-get install libturbojpeg0): %v", err)
	}
	t.Cleanup(d.Close)
	return d
}

// textured encodes a w x h textured colour image as a 4:2:0 JPEG (Go's
// encoder) at quality 90.
func textured(t testing.TB, w, h int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for p := range w * h {
		x, y := p%w, p/w
		n := byte(rng.IntN(40))
		img.Pix[p*4], img.Pix[p*4+1], img.Pix[p*4+2], img.Pix[p*4+3] = byte(x*7)+n, byte(y*3+x)+n, byte(x^y)+n, 255
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestMatchesPIL decodes the PIL fixtures (4:2:0, 4:2:2, 4:4:4 and grey
// JPEGs of an odd size, with PIL's decoded pixels) and checks every byte.
func TestMatchesPIL(t *testing.T) {
	d := decoder(t)
	raw, err := os.ReadFile("../testdata/pil_fixtures.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		JPEGs []struct {
			Name string
			JPEG []byte
			H, W int
			Out  []byte
		}
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.JPEGs) == 0 {
		t.Fatal("no JPEG fixtures")
	}
	for _, c := range f.JPEGs {
		hd, err := d.Header(c.JPEG)
		if err != nil || hd.Width != c.W || hd.Height != c.H {
			t.Fatalf("%s: header %+v, %v; want %dx%d", c.Name, hd, err, c.W, c.H)
		}
		got := make([]byte, c.W*c.H*3)
		if err := d.Decode(got, c.JPEG, c.W, c.H); err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if !bytes.Equal(got, c.Out) {
			t.Errorf("%s: pixels differ from PIL's", c.Name)
		}
	}
}

func TestBadInput(t *testing.T) {
	d := decoder(t)
	if _, err := d.Header([]byte("not a jpeg")); err == nil {
		t.Error("header of garbage accepted")
	}
	if _, err := d.Header(nil); err == nil {
		t.Error("empty input accepted")
	}
	data := textured(t, 203, 157)
	if hd, err := d.Header(data); err != nil || hd != (Header{203, 157, 2}) {
		t.Errorf("header %+v, %v; want 203x157 4:2:0", hd, err)
	}
	if err := d.Decode(make([]byte, 300), data, 203, 157); err == nil {
		t.Error("short buffer accepted")
	}
	if err := d.Decode(make([]byte, 204*157*3), data, 204, 157); err == nil {
		t.Error("wrong size accepted")
	}
	if err := d.Decode(make([]byte, 203*157*3), data[:len(data)/3], 203, 157); err != nil {
		t.Errorf("truncated file (a warning in libjpeg: an image, grey where data is missing): %v", err)
	}
}

// TestNoAllocs checks that steady-state decoding allocates nothing.
func TestNoAllocs(t *testing.T) {
	d := decoder(t)
	data := textured(t, 203, 157)
	buf := make([]byte, 203*157*3)
	if n := testing.AllocsPerRun(20, func() {
		if err := d.Decode(buf, data, 203, 157); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("%v allocations per decode", n)
	}
}

// TestDecodeScaled checks the scaled decodes' sizes, that each pixel is
// near the mean of its denom x denom block in the whole decode (within 8 on
// average: the reduced transforms keep the block's low frequencies, which
// noise and sharp edges leave far from the mean; measured 5.2, 2.5, 1.9
// at 1/2, 1/4, 1/8), and the errors.
func TestDecodeScaled(t *testing.T) {
	d := decoder(t)
	const w, h = 203, 157
	data := textured(t, w, h)
	full := make([]byte, w*h*3)
	if err := d.Decode(full, data, w, h); err != nil {
		t.Fatal(err)
	}
	for _, denom := range []int{2, 4, 8} {
		sw, sh := ScaledSize(w, h, denom)
		if want := [2]int{(w + denom - 1) / denom, (h + denom - 1) / denom}; [2]int{sw, sh} != want {
			t.Fatalf("1/%d: size %dx%d, want %v", denom, sw, sh, want)
		}
		got := make([]byte, sw*sh*3)
		if err := d.DecodeScaled(got, data, w, h, denom); err != nil {
			t.Fatal(err)
		}
		var sum float64
		for y := range sh {
			for x := range sw {
				for c := range 3 {
					var s, n float64
					for yy := y * denom; yy < min((y+1)*denom, h); yy++ {
						for xx := x * denom; xx < min((x+1)*denom, w); xx++ {
							s += float64(full[(yy*w+xx)*3+c])
							n++
						}
					}
					sum += math.Abs(float64(got[(y*sw+x)*3+c]) - s/n)
				}
			}
		}
		if mean := sum / float64(sw*sh*3); mean > 8 {
			t.Errorf("1/%d: mean distance %.2f from the block means of the whole decode", denom, mean)
		}
		if err := d.DecodeScaled(got[:len(got)-1], data, w, h, denom); err == nil {
			t.Errorf("1/%d: short buffer accepted", denom)
		}
	}
	if err := d.DecodeScaled(full, data, w, h, 3); err == nil {
		t.Error("scale 1/3 accepted")
	}
	small := textured(t, 7, 5)
	if err := d.DecodeScaled(full, small, 7, 5, 2); err == nil {
		t.Error("a 7x5 image decoded at 1/2")
	}
}
