package nn_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
)

// fixture is one named float32 array from nn/testdata/torch_ops.bin
// (written by scripts/torch_fixtures_nn.py; format described there).
type fixture struct {
	shape []int
	data  []float32
}

var (
	fixturesOnce sync.Once
	fixtures     map[string]fixture
	fixturesErr  error
)

func readFixtures(path string) (map[string]fixture, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	const magic = "PNNFIX1\n"
	if !strings.HasPrefix(string(raw), magic) {
		return nil, fmt.Errorf("%s: bad magic", path)
	}
	out := map[string]fixture{}
	off := len(magic)
	need := func(n int) error {
		if off+n > len(raw) {
			return fmt.Errorf("%s: truncated at byte %d", path, off)
		}
		return nil
	}
	for off < len(raw) {
		if err := need(2); err != nil {
			return nil, err
		}
		nl := int(binary.LittleEndian.Uint16(raw[off:]))
		off += 2
		if err := need(nl + 1); err != nil {
			return nil, err
		}
		name := string(raw[off : off+nl])
		off += nl
		rank := int(raw[off])
		off++
		if err := need(4 * rank); err != nil {
			return nil, err
		}
		f := fixture{shape: make([]int, rank)}
		n := 1
		for i := range f.shape {
			f.shape[i] = int(binary.LittleEndian.Uint32(raw[off:]))
			off += 4
			n *= f.shape[i]
		}
		if err := need(4 * n); err != nil {
			return nil, err
		}
		f.data = make([]float32, n)
		for i := range f.data {
			f.data[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[off:]))
			off += 4
		}
		out[name] = f
	}
	return out, nil
}

// fx returns fixture name, failing the test if it is missing.
func fx(t *testing.T, name string) fixture {
	t.Helper()
	fixturesOnce.Do(func() { fixtures, fixturesErr = readFixtures("testdata/torch_ops.bin") })
	if fixturesErr != nil {
		t.Fatal(fixturesErr)
	}
	f, ok := fixtures[name]
	if !ok {
		t.Fatalf("fixture %q missing", name)
	}
	return f
}

// fixtureCases returns the case names "<prefix><x>" present in the file.
func fixtureCases(t *testing.T, prefix string) []string {
	t.Helper()
	fx(t, "relu/x") // load
	seen := map[string]bool{}
	for name := range fixtures {
		if strings.HasPrefix(name, prefix) {
			seen[name[:strings.IndexByte(name, '/')]] = true
		}
	}
	var out []string
	for c := range seen {
		out = append(out, c)
	}
	sort.Strings(out)
	if len(out) == 0 {
		t.Fatalf("no fixture cases %q*", prefix)
	}
	return out
}

func ints(f fixture) []int {
	out := make([]int, len(f.data))
	for i, v := range f.data {
		out[i] = int(v)
	}
	return out
}

// relErr is the norm-based relative error ||got-want||₂ / max(||want||₂, 1e-12).
func relErr(got, want []float32) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	var d, w float64
	for i := range got {
		e := float64(got[i]) - float64(want[i])
		d += e * e
		w += float64(want[i]) * float64(want[i])
	}
	return math.Sqrt(d) / math.Max(math.Sqrt(w), 1e-12)
}

// parityTol is the PyTorch-parity bound on relErr.
const parityTol = 1e-4

func expectClose(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if e := relErr(got, want); !(e <= tol) {
		t.Errorf("%s: relative error %.3g > %.1g (len %d vs %d)", what, e, tol, len(got), len(want))
	}
}
