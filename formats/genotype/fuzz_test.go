package genotype

import (
	"encoding/json"
	"testing"
)

func FuzzParseRepr(f *testing.F) {
	for _, name := range Names() {
		g, _ := Named(name)
		f.Add(g.Repr())
		f.Add(name + " = " + g.Repr())
	}
	f.Add("Genotype(normal=[('sep_conv_3x3', 0)], normal_concat=range(2, 6))")
	f.Add("Genotype(\n# c\n[], range(6), [], [2,3,],)")
	f.Add("X = 'abc")
	f.Fuzz(func(t *testing.T, s string) {
		g, err := ParseRepr(s)
		if err != nil {
			return
		}
		if err := g.Validate(); err != nil {
			t.Fatalf("parsed genotype invalid: %v", err)
		}
		h, err := ParseRepr(g.Repr())
		if err != nil || !h.Equal(g) {
			t.Fatalf("repr round trip: %v", err)
		}
	})
}

func FuzzParseJSON(f *testing.F) {
	for _, name := range Names() {
		g, _ := Named(name)
		b, _ := json.Marshal(g)
		f.Add(b)
	}
	f.Add([]byte(`{"normal": [{"op": "skip_connect", "input": 0}], "reduce": null}`))
	f.Add([]byte(`{"normal": [}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := ParseJSON(b)
		if err != nil {
			return
		}
		if err := g.Validate(); err != nil {
			t.Fatalf("parsed genotype invalid: %v", err)
		}
		out, err := json.Marshal(g)
		if err != nil {
			t.Fatal(err)
		}
		h, err := ParseJSON(out)
		if err != nil || !h.Equal(g) {
			t.Fatalf("JSON round trip: %v", err)
		}
	})
}
