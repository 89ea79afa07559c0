package cifar

import (
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
)

// SynthClasses are the class names of the synthetic dataset: each class is a
// shape; colours, position, size and stripe period are random per image.
var SynthClasses = []string{"disc", "square", "ring", "cross", "triangle", "hstripes", "vstripes", "diagonal", "checker", "twodots"}

// Synth generates a learnable synthetic dataset in CIFAR-10 record layout:
// image i of a split has label i%10 and shows that class's shape (see
// SynthClasses) at a random position and scale, in a random colour on a
// random background of clearly different brightness, with a random gradient
// and pixel noise. Colours carry no class information, so mean colour does
// not separate the classes; a small CNN learns the shapes within a few
// epochs. The output depends only on the arguments (not on the number of
// CPUs): every image has its own generator seeded from (seed, split, index).
func Synth(train, test int, seed uint64) (Records, Records) {
	return synthSplit(train, seed, 0), synthSplit(test, seed, 1)
}

// WriteSynthArchive writes Synth's dataset with WriteArchive10.
func WriteSynthArchive(w io.Writer, train, test int, seed uint64, level int) error {
	tr, te := Synth(train, test, seed)
	return WriteArchive10(w, tr, te, SynthClasses, level)
}

func synthSplit(n int, seed, split uint64) Records {
	const rs = 1 + PixelBytes
	out := make(Records, n*rs)
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				rng := rand.New(rand.NewPCG(seed, split<<40|uint64(i)))
				rec := out[i*rs : (i+1)*rs]
				rec[0] = byte(i % 10)
				drawSynth(rec[1:], i%10, rng)
			}
		})
	}
	wg.Wait()
	return out
}

// drawSynth renders one image of class into planes (R, G, B).
func drawSynth(planes []byte, class int, rng *rand.Rand) {
	r := 7 + 6*rng.Float64() // shape radius in pixels
	cx := r*0.8 + (Side-1.6*r)*rng.Float64()
	cy := r*0.8 + (Side-1.6*r)*rng.Float64()
	period := 3 + 3*rng.Float64() // stripe period
	bg := randomColour(rng)
	fg := randomColour(rng)
	for i := 0; i < 20 && math.Abs(luma(fg)-luma(bg)) < 90; i++ {
		fg = randomColour(rng)
	}
	gx, gy := 2*rng.Float64()-1, 2*rng.Float64()-1 // background gradient per pixel, roughly ±1
	for y := range Side {
		for x := range Side {
			dx, dy := float64(x)+0.5-cx, float64(y)+0.5-cy
			c := bg
			shade := (gx*float64(x-16) + gy*float64(y-16)) * 1.5
			if inside(class, dx, dy, r, period) {
				c, shade = fg, 0
			}
			noise := rng.Uint64()
			for ch := range 3 {
				v := c[ch] + shade + float64(int(noise>>(8*ch)&63)-32)
				planes[ch*PlaneSize+y*Side+x] = byte(math.Max(0, math.Min(255, v)))
			}
		}
	}
}

func randomColour(rng *rand.Rand) [3]float64 {
	return [3]float64{255 * rng.Float64(), 255 * rng.Float64(), 255 * rng.Float64()}
}

func luma(c [3]float64) float64 { return 0.299*c[0] + 0.587*c[1] + 0.114*c[2] }

// inside reports whether offset (dx, dy) from the centre is in class's shape
// of radius r.
func inside(class int, dx, dy, r, period float64) bool {
	ax, ay := math.Abs(dx), math.Abs(dy)
	box := ax < r*0.85 && ay < r*0.85
	stripe := func(t float64) bool { return math.Mod(t+4*r, period) < period/2 }
	switch class {
	case 0: // disc
		return math.Hypot(dx, dy) < r
	case 1: // square
		return ax < r*0.75 && ay < r*0.75
	case 2: // ring
		d := math.Hypot(dx, dy)
		return d < r && d > r*0.55
	case 3: // cross
		return (ax < r*0.28 && ay < r) || (ay < r*0.28 && ax < r)
	case 4: // triangle, apex up
		return dy > -r && dy < r*0.8 && ax < (dy+r)*0.55
	case 5: // horizontal stripes
		return box && stripe(dy)
	case 6: // vertical stripes
		return box && stripe(dx)
	case 7: // diagonal stripes
		return box && stripe((dx+dy)/math.Sqrt2)
	case 8: // checkerboard
		return box && stripe(dx) != stripe(dy)
	case 9: // two dots side by side
		return math.Hypot(ax-r*0.55, dy) < r*0.4
	}
	return false
}
