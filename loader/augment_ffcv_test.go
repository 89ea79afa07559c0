package loader

import "testing"

// TestCutoutFFCV: FFCV's Cutout puts the whole side x side square inside the
// image, its corner uniform over [0, H-side] x [0, W-side] (both ends
// reached), filled with CutoutFill before normalisation.
func TestCutoutFFCV(t *testing.T) {
	const h, w, side = 6, 7, 4
	src := make([]byte, h*w*3)
	for i := range src {
		src[i] = 100
	}
	a := Augment{Cutout: side, CutoutMode: CutoutFFCV, CutoutFill: [3]uint8{125, 122, 113}}
	lut := newNormLUT([3]float32{}, [3]float32{1, 1, 1})
	corners := map[[2]int]int{}
	for s := range 3000 {
		r := newSampleRNG(9, 1, s)
		d := a.draw(&r, h, w)
		if d.cy < 0 || d.cy > h-side || d.cx < 0 || d.cx > w-side {
			t.Fatalf("corner (%d,%d): the square leaves the image", d.cy, d.cx)
		}
		corners[[2]int{d.cy, d.cx}]++
		dst := make([]float32, 3*h*w)
		a.transform(dst, src, h, w, d, lut)
		for c := range 3 {
			cut := 0
			for y := range h {
				for x := range w {
					in := y >= d.cy && y < d.cy+side && x >= d.cx && x < d.cx+side
					want := float32(100)
					if in {
						want = float32(a.CutoutFill[c])
						cut++
					}
					if v := dst[c*h*w+y*w+x]; v != want {
						t.Fatalf("corner (%d,%d) pixel (%d,%d,%d) = %v, want %v", d.cy, d.cx, c, y, x, v, want)
					}
				}
			}
			if cut != side*side {
				t.Fatalf("cut %d pixels, want the full %d", cut, side*side)
			}
		}
	}
	if want := (h - side + 1) * (w - side + 1); len(corners) != want {
		t.Fatalf("saw %d distinct corners, want all %d", len(corners), want)
	}
}

// TestTranslateBlackFill: FFCV's RandomTranslate(2) pads with black.
func TestTranslateBlackFill(t *testing.T) {
	const h, w = 4, 4
	src := make([]byte, h*w*3)
	for i := range src {
		src[i] = 200
	}
	a := Augment{Pad: 2}
	lut := newNormLUT(FFCVMean, FFCVStd)
	d := draws{oy: 0, ox: 4} // shifted down 2 and left 2
	dst := make([]float32, 3*h*w)
	a.transform(dst, src, h, w, d, lut)
	for c := range 3 {
		black := (0 - FFCVMean[c]) / FFCVStd[c]
		img := (200 - FFCVMean[c]) / FFCVStd[c]
		for y := range h {
			for x := range w {
				want := img
				if y < 2 || x >= 2 {
					want = black
				}
				if v := dst[c*h*w+y*w+x]; v != want {
					t.Fatalf("pixel (%d,%d,%d) = %v, want %v", c, y, x, v, want)
				}
			}
		}
	}
}
