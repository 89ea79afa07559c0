package traineval

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestJPEGDCTScaleRecipe checks that --jpeg-dct-scale is absent from the
// recorded recipe when off (runs without it keep their bytes), present when
// on, and refused outside ImageNet.
func TestJPEGDCTScaleRecipe(t *testing.T) {
	r, _ := Preset("imagenet", "smoke")
	off, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(off), "jpeg_dct_scale") {
		t.Errorf("recipe without the option records it: %s", off)
	}
	r.JPEGDCTScale = true
	on, _ := json.Marshal(r)
	if !strings.Contains(string(on), `"jpeg_dct_scale":true`) {
		t.Errorf("recipe with the option does not record it: %s", on)
	}
	if err := r.Validate("imagenet"); err != nil {
		t.Errorf("imagenet: %v", err)
	}
	c, _ := Preset("cifar10", "smoke")
	c.JPEGDCTScale = true
	if err := c.Validate("cifar10"); err == nil || !strings.Contains(err.Error(), "--jpeg-dct-scale") {
		t.Errorf("cifar10 with --jpeg-dct-scale: %v, want an error naming the flag", err)
	}
}
