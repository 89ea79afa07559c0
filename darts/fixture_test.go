package darts

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"pertnas/formats/checkpoint"
	"pertnas/nn"
	"pertnas/nn/cpu"
)

// fixture is one file written by scripts/torch_fixtures_darts.py.
type fixture struct {
	t        *testing.T
	tensors  map[string]checkpoint.Tensor
	order    []string
	meta     map[string]string
	grads    []string
	generate map[string]struct {
		Seed  uint64  `json:"seed"`
		Bound float64 `json:"bound"`
	}
}

func loadFixture(t *testing.T, path string) *fixture {
	t.Helper()
	ts, meta, err := checkpoint.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, tensors: map[string]checkpoint.Tensor{}, meta: meta}
	for _, x := range ts {
		f.tensors[x.Name] = x
		f.order = append(f.order, x.Name)
	}
	if err := json.Unmarshal([]byte(meta["generated"]), &f.generate); err != nil {
		t.Fatalf("%s: generated: %v", path, err)
	}
	if err := json.Unmarshal([]byte(meta["grads"]), &f.grads); err != nil {
		t.Fatalf("%s: grads: %v", path, err)
	}
	return f
}

func (f *fixture) get(name string) checkpoint.Tensor {
	x, ok := f.tensors[name]
	if !ok {
		f.t.Fatalf("fixture has no tensor %q", name)
	}
	return x
}

func (f *fixture) metaInt(key string) int {
	v, err := strconv.Atoi(f.meta[key])
	if err != nil {
		f.t.Fatalf("fixture metadata %s: %v", key, err)
	}
	return v
}

// splitmix returns n uniform [0,1) values: splitmix64 of seed + (i+1)*golden,
// top 24 bits (the script's splitmix).
func splitmix(seed uint64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		x := seed + uint64(i+1)*0x9E3779B97F4A7C15
		x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
		x = (x ^ (x >> 27)) * 0x94D049BB133111EB
		x ^= x >> 31
		out[i] = float64(x>>40) / (1 << 24)
	}
	return out
}

// stateDict returns the fixture's state dict for net, the tensors too big
// to store generated from their seeds (shapes from net's own state dict).
func (f *fixture) stateDict(s *nn.Scope) []checkpoint.Tensor {
	var sd []checkpoint.Tensor
	for _, name := range f.order {
		if rest, ok := strings.CutPrefix(name, "state."); ok {
			x := f.tensors[name]
			x.Name = rest
			sd = append(sd, x)
		}
	}
	for _, own := range s.StateDict() {
		gen, ok := f.generate[own.Name]
		if !ok {
			continue
		}
		vals := make([]float32, len(own.F32))
		for i, u := range splitmix(gen.Seed, len(vals)) {
			vals[i] = float32((u*2 - 1) * gen.Bound)
		}
		sd = append(sd, checkpoint.Tensor{Name: own.Name, Shape: own.Shape, F32: vals})
	}
	return sd
}

// input returns the fixture's input as the value of a parameter of its own
// scope, so that Backward computes the gradient with respect to it.
func (f *fixture) input(b nn.Backend) *nn.Param {
	in := f.get("input")
	p := nn.NewScope(b, nil).NewParam("input", in.Shape...)
	b.Upload(p.Value.Buffer(), in.F32)
	return p
}

// labels returns the fixture's int64 labels as int32.
func (f *fixture) labels() []int32 {
	l := f.get("labels")
	out := make([]int32, len(l.I64))
	for i, v := range l.I64 {
		out[i] = int32(v)
	}
	return out
}

// assertClose checks got against the fixture tensor want: the largest
// absolute difference must be within tol times the largest |want| (and the
// sizes must agree).
func assertClose(t *testing.T, what string, got []float32, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values, want %d", what, len(got), len(want))
		return
	}
	var maxDiff, maxRef float64
	for i := range got {
		if math.IsNaN(float64(got[i])) {
			t.Errorf("%s: NaN at %d", what, i)
			return
		}
		maxDiff = math.Max(maxDiff, math.Abs(float64(got[i])-float64(want[i])))
		maxRef = math.Max(maxRef, math.Abs(float64(want[i])))
	}
	if maxRef == 0 {
		if maxDiff != 0 {
			t.Errorf("%s: want all zeros, max |got| %g", what, maxDiff)
		}
		return
	}
	t.Logf("%s: relative max difference %.2g", what, maxDiff/maxRef)
	if maxDiff > tol*maxRef {
		t.Errorf("%s: max difference %.3g is %.3g of max |value| %.3g (tolerance %g)", what, maxDiff, maxDiff/maxRef, maxRef, tol)
	}
}

// nameShapes reads a names_*.txt.gz file: "name d0xd1x..." per line.
func nameShapes(t *testing.T, path string) []string {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	zr, err := gzip.NewReader(fh)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		lines = append(lines, strings.TrimSpace(sc.Text()))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// ownNameShapes lists a scope's state dict in the names-file form.
func ownNameShapes(s *nn.Scope) []string {
	var lines []string
	for _, nt := range s.StateDict() {
		dims := make([]string, len(nt.Shape))
		for i, d := range nt.Shape {
			dims[i] = strconv.Itoa(d)
		}
		lines = append(lines, strings.TrimSpace(fmt.Sprintf("%s %s", nt.Name, strings.Join(dims, "x"))))
	}
	return lines
}

func newBackend() nn.Backend { return cpu.New(0) }
