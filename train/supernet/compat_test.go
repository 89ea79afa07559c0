package supernet

import (
	"testing"

	"pertnas/loader"
	"pertnas/pertnas"
)

// TestUpstreamAugment: the default options train with SearchAugment and
// DARTS's normalisation; --compat upstream gives FFCV's pipeline as
// upstream configured it (black translation fill, FFCV cutout filled with
// (125,122,113), FFCV mean/std).
func TestUpstreamAugment(t *testing.T) {
	def := FromConfig(pertnas.Paper(), pertnas.Env{Data: "d"})
	if def.augment() != SearchAugment {
		t.Errorf("default augment %+v, want SearchAugment", def.augment())
	}
	if m, s := def.norm(); m != ([3]float32{}) || s != ([3]float32{}) {
		t.Errorf("default normalisation %v %v, want the loader's default (DARTS)", m, s)
	}
	cfg := pertnas.Paper()
	if err := cfg.SetCompat(pertnas.CompatUpstream); err != nil {
		t.Fatal(err)
	}
	up := FromConfig(cfg, pertnas.Env{Data: "d"})
	want := loader.Augment{Flip: true, Pad: 2, Cutout: 8, CutoutMode: loader.CutoutFFCV, CutoutFill: [3]uint8{125, 122, 113}}
	if up.augment() != want {
		t.Errorf("upstream augment %+v, want %+v", up.augment(), want)
	}
	if m, s := up.norm(); m != loader.FFCVMean || s != loader.FFCVStd {
		t.Errorf("upstream normalisation %v %v, want FFCV's", m, s)
	}
	up.Cutout = "fancy"
	if err := up.check(); err == nil {
		t.Error("cutout \"fancy\" accepted")
	}
}
