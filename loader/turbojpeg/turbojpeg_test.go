package turbojpeg

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"testing"
)

func decoder(t testing.TB) *Decoder {
	t.Helper()
	d, err := NewDecoder()
	if err != nil {
		t.Skipf("libturbojpeg not available (Debian: apt-get install libturbojpeg0): %v", err)
	}
	t.Cleanup(d.Close)
	return d
}

// testJPEGs returns textured JPEGs of odd sizes: Go's encoder writes 4:2:0
// colour and greyscale files; the PIL fixtures add 4:2:2 and 4:4:4.
func testJPEGs(t testing.TB) map[string][]byte {
	out := map[string][]byte{}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, sz := range [][2]int{{203, 157}, {64, 48}, {17, 33}} {
		w, h := sz[0], sz[1]
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		grey := image.NewGray(image.Rect(0, 0, w, h))
		for p := range w * h {
			x, y := p%w, p/w
			n := byte(rng.IntN(40))
			img.Pix[p*4], img.Pix[p*4+1], img.Pix[p*4+2], img.Pix[p*4+3] = byte(x*7)+n, byte(y*3+x)+n, byte(x^y)+n, 255
			grey.Pix[p] = byte(x*5+y) + n
		}
		for name, m := range map[string]image.Image{"420": img, "grey": grey} {
			var b bytes.Buffer
			if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 90}); err != nil {
				t.Fatal(err)
			}
			out[fmt.Sprintf("%s-%dx%d", name, w, h)] = b.Bytes()
		}
	}
	raw, err := os.ReadFile("../testdata/pil_fixtures.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		JPEGs []struct {
			Name string
			JPEG []byte
		}
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	for _, j := range f.JPEGs {
		out["pil-"+j.Name] = j.JPEG
	}
	return out
}

// TestRegionEqualsWholeDecode decodes random windows of every test image
// and checks each window's pixels against the whole-image decode.
func TestRegionEqualsWholeDecode(t *testing.T) {
	d := decoder(t)
	rng := rand.New(rand.NewPCG(3, 4))
	for name, data := range testJPEGs(t) {
		hd, err := d.Header(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		W, H := hd.Width, hd.Height
		whole := make([]byte, W*H*3)
		if err := d.Decode(whole, data, W, H); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		buf := make([]byte, W*H*3)
		cropped := 0
		for trial := range 60 {
			win := Region{W: 1 + rng.IntN(W), H: 1 + rng.IntN(H)}
			if trial < 4 { // the corners
				win.W, win.H = 1+rng.IntN(W/2+1), 1+rng.IntN(H/2+1)
			}
			win.X, win.Y = rng.IntN(W-win.W+1), rng.IntN(H-win.H+1)
			switch trial {
			case 1:
				win.X = W - win.W
			case 2:
				win.Y = H - win.H
			case 3:
				win.X, win.Y = W-win.W, H-win.H
			}
			r, err := d.DecodeRegion(buf, data, hd, win)
			if err != nil {
				t.Fatalf("%s window %+v: %v", name, win, err)
			}
			if r != RegionFor(hd, win) || r.X > win.X || r.Y > win.Y || r.X+r.W < win.X+win.W || r.Y+r.H < win.Y+win.H {
				t.Fatalf("%s window %+v: region %+v", name, win, r)
			}
			if r.W*r.H < W*H {
				cropped++
			}
			for y := win.Y; y < win.Y+win.H; y++ {
				got := buf[((y-r.Y)*r.W+win.X-r.X)*3:][:win.W*3]
				want := whole[(y*W+win.X)*3:][:win.W*3]
				if !bytes.Equal(got, want) {
					t.Fatalf("%s (subsampling %d) window %+v region %+v: row %d differs from the whole decode", name, hd.Subsamp, win, r, y)
				}
			}
		}
		if W > 32 && cropped == 0 {
			t.Errorf("%s: no window was decoded cropped", name)
		}
	}
}

// TestScaledDecode checks DCT-domain scaling's sizes and that the result
// resembles the image.
func TestScaledDecode(t *testing.T) {
	d := decoder(t)
	data := testJPEGs(t)["420-203x157"]
	hd, err := d.Header(data)
	if err != nil {
		t.Fatal(err)
	}
	whole := make([]byte, hd.Width*hd.Height*3)
	if err := d.Decode(whole, data, hd.Width, hd.Height); err != nil {
		t.Fatal(err)
	}
	for _, den := range []int{2, 4, 8} {
		w, h := Scaled(hd.Width, den), Scaled(hd.Height, den)
		out := make([]byte, w*h*3)
		if err := d.Decode(out, data, w, h); err != nil {
			t.Fatalf("1/%d: %v", den, err)
		}
		// Each scaled pixel is close to the mean of its den x den block.
		var sum, n float64
		for y := range hd.Height / den {
			for x := range hd.Width / den {
				for c := range 3 {
					m := 0.0
					for dy := range den {
						for dx := range den {
							m += float64(whole[((y*den+dy)*hd.Width+x*den+dx)*3+c])
						}
					}
					m /= float64(den * den)
					sum += abs(m - float64(out[(y*w+x)*3+c]))
					n++
				}
			}
		}
		if mean := sum / n; mean > 6 {
			t.Errorf("1/%d: mean |scaled - block mean| %.2f", den, mean)
		}
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestBadInput(t *testing.T) {
	d := decoder(t)
	if _, err := d.Header([]byte("not a jpeg")); err == nil {
		t.Error("header of garbage accepted")
	}
	buf := make([]byte, 300)
	if err := d.Decode(buf, []byte{0xff, 0xd8, 0xff, 0xd9}, 10, 10); err == nil {
		t.Error("empty JPEG decoded")
	}
	data := testJPEGs(t)["420-203x157"]
	hd, _ := d.Header(data)
	if _, err := d.DecodeRegion(buf, data, hd, Region{0, 0, 100, 100}); err == nil {
		t.Error("short buffer accepted")
	}
	if _, err := d.DecodeRegion(make([]byte, hd.Width*hd.Height*3), data, hd, Region{hd.Width - 5, 0, 10, 10}); err == nil {
		t.Error("window outside the image accepted")
	}
}

// TestNoAllocs checks that steady-state decoding allocates nothing.
func TestNoAllocs(t *testing.T) {
	d := decoder(t)
	data := testJPEGs(t)["420-203x157"]
	hd, _ := d.Header(data)
	buf := make([]byte, hd.Width*hd.Height*3)
	win := Region{50, 40, 70, 60}
	if _, err := d.DecodeRegion(buf, data, hd, win); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(20, func() {
		if _, err := d.Header(data); err != nil {
			t.Fatal(err)
		}
		if _, err := d.DecodeRegion(buf, data, hd, win); err != nil {
			t.Fatal(err)
		}
		if err := d.Decode(buf, data, hd.Width, hd.Height); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("%v allocations per decode", n)
	}
}

func BenchmarkDecode(b *testing.B) {
	d := decoder(b)
	data := testJPEGs(b)["420-203x157"]
	hd, _ := d.Header(data)
	buf := make([]byte, hd.Width*hd.Height*3)
	for b.Loop() {
		if err := d.Decode(buf, data, hd.Width, hd.Height); err != nil {
			b.Fatal(err)
		}
	}
}
