package lgb

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readModel(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "lgb_runtime.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// row returns a 56-feature row of zeros with the given features set.
func row(set map[int]float64) []float64 {
	x := make([]float64, 56)
	for j, v := range set {
		x[j] = v
	}
	return x
}

// TestHandTracedPredictions evaluates the hand-written model
// nb301/testdata/lgb_runtime.txt (LightGBM is not installable here, so the
// expected values are traced by hand from the file):
//
//	tree 0: node 0 splits f5 at 0.5 (decision_type 2: default left, missing
//	        type None, so NaN counts as 0); left -> node 1, right -> leaf 1
//	        (3500). Node 1 splits f12 at 2.5 (decision_type 10: default left,
//	        missing type NaN); left -> leaf 0 (3000), right -> leaf 2 (4200).
//	tree 1: f0 at 1e-35 (decision_type 4: missing type Zero, default right);
//	        |f0| ~ 0 or NaN -> right (150); f0 <= 1e-35 -> left (-100),
//	        else right (150).
//	tree 2: a single leaf, 25.
func TestHandTracedPredictions(t *testing.T) {
	m, err := Read(readModel(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Trees) != 3 || m.MaxFeatureIdx != 55 || m.Objective != "regression" {
		t.Fatalf("model: %d trees, max feature %d, objective %q", len(m.Trees), m.MaxFeatureIdx, m.Objective)
	}
	nan := math.NaN()
	for _, c := range []struct {
		name string
		x    []float64
		want float64
	}{
		{"all zero: f5 0<=0.5, f12 0<=2.5 -> 3000; f0 zero -> 150", row(nil), 3000 + 150 + 25},
		{"f5=1 -> 3500; f0=-1 -> -100", row(map[int]float64{5: 1, 0: -1}), 3500 - 100 + 25},
		{"f5 NaN->0 left, f12 NaN default left -> 3000; f0 NaN->0 zero -> 150", row(map[int]float64{5: nan, 12: nan, 0: nan}), 3000 + 150 + 25},
		{"f5=0.5 (<=) left, f12=3 -> 4200; f0=0.7 -> 150", row(map[int]float64{5: 0.5, 12: 3, 0: 0.7}), 4200 + 150 + 25},
		{"f12=2.5 (<=) -> 3000; f0=1e-36 zero -> 150", row(map[int]float64{12: 2.5, 0: 1e-36}), 3000 + 150 + 25},
		{"f0=-1e-30 -> -100", row(map[int]float64{0: -1e-30}), 3000 - 100 + 25},
		{"short row: all missing", nil, 3000 + 150 + 25},
	} {
		if got := m.Predict(c.x); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
	// average_output (random-forest mode) divides by the tree count.
	avg := strings.Replace(string(readModel(t)), "objective=regression\n", "objective=regression\naverage_output\n", 1)
	m, err = Read([]byte(avg))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.Predict(row(nil)), (3000.0+150+25)/3; got != want {
		t.Errorf("average_output: got %v, want %v", got, want)
	}
}

func TestReadErrors(t *testing.T) {
	good := string(readModel(t))
	for _, c := range []struct {
		name, doc, want string
	}{
		{"empty", "", "line 1"},
		{"no end", good[:strings.Index(good, "end of trees")], "end of file"},
		{"objective", strings.Replace(good, "objective=regression\n", "objective=binary sigmoid:1\n", 1), `"binary sigmoid:1"`},
		{"classes", strings.Replace(good, "num_class=1", "num_class=3", 1), "num_class=3"},
		{"leaf count", strings.Replace(good, "leaf_value=3000 3500 4200", "leaf_value=3000 3500", 1), "tree 0 (line 11): leaf_value has 2 values, want 3"},
		{"number", strings.Replace(good, "threshold=0.5 2.5", "threshold=0.5 x", 1), `threshold value 1: "x"`},
		{"child", strings.Replace(good, "right_child=-2 -3", "right_child=-2 -7", 1), "child -7 outside"},
		{"cycle", strings.Replace(good, "left_child=1 -1", "left_child=1 0", 1), "reached twice"},
		{"feature", strings.Replace(good, "split_feature=5 12", "split_feature=5 99", 1), "split_feature 99 outside 0..55"},
		{"categorical", strings.Replace(good, "decision_type=2 10", "decision_type=3 10", 1), "decision_type 3"},
		{"tree order", strings.Replace(good, "Tree=1", "Tree=5", 1), `"Tree=5", want "Tree=1"`},
	} {
		if c.doc == good {
			t.Fatalf("%s: replacement did not apply", c.name)
		}
		_, err := Read([]byte(c.doc))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to mention %q", c.name, err, c.want)
		}
	}
}

func FuzzRead(f *testing.F) {
	f.Add(readModel(f))
	f.Add([]byte("tree\nobjective=regression\nmax_feature_idx=0\nTree=0\nnum_leaves=1\nleaf_value=1\nend of trees\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if m, err := Read(data); err == nil {
			m.Predict([]float64{math.NaN(), 0, 1})
		}
	})
}
