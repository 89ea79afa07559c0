package imagenet

import (
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"

	"pertnas/formats/artifact"
)

// SynthOptions sizes a synthetic ImageNet-style folder.
type SynthOptions struct {
	Classes int // 1..10
	Train   int // training images per class
	Val     int // validation images per class
	MinSide int // image sides are uniform in [MinSide, MaxSide]
	MaxSide int
	Quality int // JPEG quality, default 90
	Seed    uint64
	FlatVal bool // write val/ images directly with val/labels.txt, not in class folders
}

// SynthPatterns is the number of distinct classes WriteSynth can draw.
const SynthPatterns = 10

// SynthClass is the folder name (a wnid-like id) of synthetic class k.
func SynthClass(k int) string { return fmt.Sprintf("n%08d", 1000+k) }

// WriteSynth writes a small learnable dataset in ImageNet's folder layout
// under dir: train/<class>/<class>_<i>.JPEG and val/<class>/<class>_val_<i>.JPEG
// (or val/<class>_val_<i>.JPEG with val/labels.txt when FlatVal). Class k
// is a texture: pattern k%5 (horizontal stripes, vertical stripes,
// checkerboard, rings, diagonal cross-hatch) at a fine or a coarse period
// (k/5), in two random colours per image with random phase and pixel
// noise, so the class survives flips, colour jitter and moderate crops but
// not by colour alone. Images have random sizes; the files are baseline
// JPEGs. The same options always give the same bytes.
func WriteSynth(dir string, o SynthOptions) error {
	if o.Quality == 0 {
		o.Quality = 90
	}
	if o.Classes < 1 || o.Classes > SynthPatterns || o.Train < 1 || o.Val < 1 || o.MinSide < 8 || o.MaxSide < o.MinSide || o.MaxSide > 4096 || o.Quality < 1 || o.Quality > 100 {
		return badInput("imagenet synth: want 1..%d classes, >= 1 train and val images per class, 8 <= min side <= max side <= 4096, quality 1..100; got %+v", SynthPatterns, o)
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x696d6167656e6574))
	var labels []byte
	for _, split := range []struct {
		name string
		per  int
	}{{"train", o.Train}, {"val", o.Val}} {
		for i := range split.per {
			for k := range o.Classes {
				c := SynthClass(k)
				img := synthImage(rng, k, o.MinSide+rng.IntN(o.MaxSide-o.MinSide+1), o.MinSide+rng.IntN(o.MaxSide-o.MinSide+1))
				name := fmt.Sprintf("%s_%d.JPEG", c, i)
				path := filepath.Join(dir, split.name, c, name)
				if split.name == "val" {
					name = fmt.Sprintf("%s_val_%d.JPEG", c, i)
					path = filepath.Join(dir, "val", c, name)
					if o.FlatVal {
						path = filepath.Join(dir, "val", name)
						labels = fmt.Appendf(labels, "%s %s\n", name, c)
					}
				}
				err := artifact.WriteFile(path, func(w io.Writer) error {
					return jpeg.Encode(w, img, &jpeg.Options{Quality: o.Quality})
				})
				if err != nil {
					return err
				}
			}
		}
	}
	if o.FlatVal {
		return artifact.WriteFile(filepath.Join(dir, "val", "labels.txt"), func(w io.Writer) error {
			_, err := w.Write(labels)
			return err
		})
	}
	return nil
}

// synthImage draws one h x w image of class k.
func synthImage(rng *rand.Rand, k, h, w int) *image.RGBA {
	period := 5.0 + rng.Float64()
	if k/5 == 1 {
		period = 14 + 3*rng.Float64()
	}
	phase := 2 * math.Pi * rng.Float64()
	cy, cx := float64(h)*rng.Float64(), float64(w)*rng.Float64()
	var c1, c2 [3]float64
	for c := range 3 {
		c1[c], c2[c] = 255*rng.Float64(), 255*rng.Float64()
	}
	// Keep the two colours apart so the texture is visible.
	if d := math.Abs(c1[0]-c2[0]) + math.Abs(c1[1]-c2[1]) + math.Abs(c1[2]-c2[2]); d < 200 {
		for c := range 3 {
			c1[c], c2[c] = 0.5*c1[c], 127+0.5*c2[c]
		}
	}
	f := 2 * math.Pi / period
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			fy, fx := float64(y), float64(x)
			var v float64
			switch k % 5 {
			case 0:
				v = math.Sin(f*fy + phase)
			case 1:
				v = math.Sin(f*fx + phase)
			case 2:
				v = math.Sin(f*fx+phase) * math.Sin(f*fy+phase)
			case 3:
				v = math.Sin(f*math.Hypot(fy-cy, fx-cx) + phase)
			default:
				v = 0.5 * (math.Sin(f*(fx+fy)/math.Sqrt2+phase) + math.Sin(f*(fx-fy)/math.Sqrt2+phase))
			}
			t := 0.5 + 0.5*v
			o := img.PixOffset(x, y)
			for c := range 3 {
				p := c1[c] + t*(c2[c]-c1[c]) + 12*rng.NormFloat64()
				img.Pix[o+c] = byte(max(0, min(255, p+0.5)))
			}
			img.Pix[o+3] = 255
		}
	}
	return img
}

// BenchImage draws benchmark image i: ImageNet's typical sizes (500x375
// and 375x500 alternately), smooth colour fields under pixel noise and
// edges, which cost a JPEG decoder about what photographs do (smooth
// gradients alone decode unrealistically fast). rng supplies the noise.
func BenchImage(rng *rand.Rand, i int) *image.RGBA {
	w, h := 500, 375
	if i%2 == 1 {
		w, h = h, w
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for p := range w * h {
		x, y := p%w, p/w
		noise := rng.IntN(48)
		edge := 0
		if (x/23+y/31+i)%3 == 0 {
			edge = 60
		}
		img.Pix[p*4] = byte(min(255, x*200/w+noise+edge))
		img.Pix[p*4+1] = byte(min(255, y*180/h+noise/2+(x*y/97)%40))
		img.Pix[p*4+2] = byte(min(255, 90+((x^y)+i*7)%80+noise-edge/2))
		img.Pix[p*4+3] = 255
	}
	return img
}

// BenchSeed seeds the generator of the benchmark images.
const BenchSeed = 17

// WriteBench writes the input-pipeline benchmark set under dir: n
// BenchImage JPEGs (quality 90) in train/<class>/ (class i mod 10) and 20
// more in val/<class>/, from one generator seeded with BenchSeed.
func WriteBench(dir string, n int) error {
	if n < 1 {
		return badInput("imagenet bench set: want >= 1 images, got %d", n)
	}
	rng := rand.New(rand.NewPCG(BenchSeed, 0))
	for _, split := range []struct {
		name string
		n    int
	}{{"train", n}, {"val", 20}} {
		for i := range split.n {
			img := BenchImage(rng, i)
			path := filepath.Join(dir, split.name, SynthClass(i%10), fmt.Sprintf("img%05d.JPEG", i))
			err := artifact.WriteFile(path, func(w io.Writer) error {
				return jpeg.Encode(w, img, &jpeg.Options{Quality: 90})
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}
