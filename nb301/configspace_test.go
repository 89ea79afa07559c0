package nb301

import (
	"encoding/json"
	"math"
	"os"
	"slices"
	"strconv"
	"testing"

	"pertnas/formats/genotype"
)

// TestVectorsMatchConfigSpace compares the whole feature vector, bit for
// bit, with ConfigSpace's encoding as numpy computes it (the fixture of
// scripts/nb301_configspace_vectors.py) for the built-in cells and 20 random
// ones: the order, every categorical index, and the logarithmic values
// (batch_size, learning_rate, weight_decay, mixup:alpha) to the last bit.
func TestVectorsMatchConfigSpace(t *testing.T) {
	b, err := os.ReadFile("testdata/configspace_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Names []string `json:"names"`
		Cases []struct {
			Name     string            `json:"name"`
			Genotype genotype.Genotype `json:"genotype"`
			Vector   []string          `json:"vector"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Cases) < 20 {
		t.Fatalf("fixture has %d cases", len(doc.Cases))
	}
	for _, c := range doc.Cases {
		g := c.Genotype
		g.NormalConcat, g.ReduceConcat = genotype.Concat, genotype.Concat
		e, err := Build(g, false)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		var names []string
		for _, f := range e.Features {
			names = append(names, f.Name)
		}
		if !slices.Equal(names, doc.Names) {
			t.Fatalf("%s: feature order\n%v\nwant\n%v", c.Name, names, doc.Names)
		}
		for i, f := range e.Features {
			want, err := strconv.ParseFloat(c.Vector[i], 64)
			if err != nil {
				t.Fatalf("%s: fixture value %q: %v", c.Name, c.Vector[i], err)
			}
			if math.Float64bits(f.Value) != math.Float64bits(want) {
				t.Errorf("%s: %s = %v (%x), ConfigSpace %v (%x)", c.Name, f.Name,
					f.Value, math.Float64bits(f.Value), want, math.Float64bits(want))
			}
		}
	}
}

// TestLnCorrectlyRounded: ln agrees with the C library's log on the values
// the NB301 space takes logarithms of (where Go's math.Log(0.01) is one ulp
// off), and stays within one ulp of math.Log elsewhere.
func TestLnCorrectlyRounded(t *testing.T) {
	// Bits of glibc's log (Python's math.log) for each value.
	for x, want := range map[float64]float64{
		0.01:      -4.605170185988091,
		0.7:       -0.35667494393873245,
		0.2:       -1.6094379124341003,
		96:        4.564348191467836,
		63.50001:  4.151040063378948,
		128.49999: 4.85592882651426,
		0.025:     -3.6888794541139363,
		0.0003:    -8.111728083308073,
		1:         0,
		2:         0.6931471805599453,
		5e-324:    -744.4400719213812,
	} {
		if got := ln(x); got != want {
			t.Errorf("ln(%v) = %v, want %v", x, got, want)
		}
	}
	for i := 0; i < 2000; i++ {
		x := math.Ldexp(1+float64(i)/2000, i%200-100)
		got, ref := ln(x), math.Log(x)
		if d := math.Float64bits(got) - math.Float64bits(ref); got != ref && d != 1 && d != math.MaxUint64 {
			t.Fatalf("ln(%v) = %v, math.Log %v: more than one ulp apart", x, got, ref)
		}
	}
}
