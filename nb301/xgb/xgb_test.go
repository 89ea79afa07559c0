package xgb

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixtures is nb301/testdata/predictions.json, written by
// scripts/nb301_fixtures.py: feature rows (null = NaN) and the predictions
// xgboost 1.7 made for them.
type fixtures struct {
	Features    [][]*float64         `json:"features"`
	Predictions map[string][]float64 `json:"predictions"`
}

func loadFixtures(t testing.TB) ([][]float64, map[string][]float64) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "predictions.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f fixtures
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	rows := make([][]float64, len(f.Features))
	nan := 0
	for i, r := range f.Features {
		rows[i] = make([]float64, len(r))
		for j, v := range r {
			if v == nil {
				rows[i][j] = math.NaN()
				nan++
			} else {
				rows[i][j] = *v
			}
		}
	}
	if len(rows) != 8 || len(rows[0]) != 56 || nan == 0 {
		t.Fatalf("fixture rows: %d rows, %d NaN", len(rows), nan)
	}
	return rows, f.Predictions
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func checkPredictions(t *testing.T, label string, m *Model, rows [][]float64, want []float64) {
	t.Helper()
	if len(want) != len(rows) {
		t.Fatalf("%s: %d expected predictions for %d rows", label, len(want), len(rows))
	}
	for i, row := range rows {
		got := float64(m.Predict(row))
		if math.Abs(got-want[i]) > 1e-5 {
			t.Errorf("%s row %d: got %.7f, xgboost %.7f", label, i, got, want[i])
		} else if got != want[i] {
			// Same float32 summation order as xgboost 1.7's CPU predictor
			// (base margin, then each tree's leaf in turn): bit-exact.
			t.Errorf("%s row %d: got %.9g, xgboost %.9g: within 1e-5 but not bit-exact", label, i, got, want[i])
		}
	}
}

func TestPredictionsMatchXGBoost(t *testing.T) {
	rows, preds := loadFixtures(t)
	// The legacy pickle buffers are tested in package nb301 (through the
	// pickle reader); here the raw encodings.
	for _, c := range []struct {
		file, model string
		read        func([]byte) (*Model, error)
	}{
		{"xgb_a.json", "xgb_a", ReadJSON},
		{"xgb_b.json", "xgb_b", ReadJSON},
		{"xgb_a.bin", "xgb_a", ReadBinary},
		{"xgb_a.bin", "xgb_a", ReadSerialized},
		{"xgb_a.ubj", "xgb_a", ReadUBJSON},
	} {
		m, err := c.read(readFixture(t, c.file))
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if m.NumFeature != 56 || m.Objective != "reg:squarederror" || len(m.Trees) != 20 {
			t.Errorf("%s: %d features, objective %q, %d trees", c.file, m.NumFeature, m.Objective, len(m.Trees))
		}
		checkPredictions(t, c.file, m, rows, preds[c.model])
	}
}

// TestBinaryEqualsJSON: the two encodings of one booster decode to the same
// trees, node by node.
func TestBinaryEqualsJSON(t *testing.T) {
	mb, err := ReadBinary(readFixture(t, "xgb_a.bin"))
	if err != nil {
		t.Fatal(err)
	}
	mj, err := ReadJSON(readFixture(t, "xgb_a.json"))
	if err != nil {
		t.Fatal(err)
	}
	if mb.BaseMargin != 0.5 || mj.BaseMargin != 0.5 {
		t.Errorf("base margins %v, %v, want 0.5", mb.BaseMargin, mj.BaseMargin)
	}
	leaves, defaultLeft := 0, 0
	for ti := range mb.Trees {
		a, b := mb.Trees[ti], mj.Trees[ti]
		if len(a.Left) != len(b.Left) {
			t.Fatalf("tree %d: %d vs %d nodes", ti, len(a.Left), len(b.Left))
		}
		for i := range a.Left {
			if a.Left[i] != b.Left[i] || a.Right[i] != b.Right[i] || a.Value[i] != b.Value[i] ||
				(a.Left[i] != -1 && (a.Feature[i] != b.Feature[i] || a.DefaultLeft[i] != b.DefaultLeft[i])) {
				t.Fatalf("tree %d node %d differs: binary %v/%v/%v/%v/%v json %v/%v/%v/%v/%v", ti, i,
					a.Left[i], a.Right[i], a.Feature[i], a.DefaultLeft[i], a.Value[i],
					b.Left[i], b.Right[i], b.Feature[i], b.DefaultLeft[i], b.Value[i])
			}
			if a.Left[i] == -1 {
				leaves++
			} else if a.DefaultLeft[i] {
				defaultLeft++
			}
		}
	}
	if leaves == 0 || defaultLeft == 0 {
		t.Errorf("fixture exercises too little: %d leaves, %d default-left splits", leaves, defaultLeft)
	}
}

// tinyModel is a hand-built tree: x0 < 0.5 goes left (leaf 1), else right
// (leaf 2); a missing x0 goes right.
func tinyModel() *Model {
	return &Model{BaseMargin: 0.5, Trees: []Tree{{
		Left: []int32{1, -1, -1}, Right: []int32{2, -1, -1}, Feature: []uint32{0, 0, 0},
		DefaultLeft: []bool{false, false, false}, Value: []float32{0.5, 1, 2},
	}}}
}

func TestPredictRule(t *testing.T) {
	m := tinyModel()
	for _, c := range []struct {
		x    []float64
		want float32
	}{
		{[]float64{0.49}, 1.5},
		{[]float64{0.5}, 2.5},          // equal goes right: strictly less goes left
		{[]float64{0.50000001}, 2.5},   // rounds to float32 0.5
		{[]float64{0.4999999999}, 2.5}, // rounds to float32 0.5, not less
		{[]float64{math.NaN()}, 2.5},   // missing: default right
		{nil, 2.5},                     // absent feature is missing
		{[]float64{-1}, 1.5},
	} {
		if got := m.Predict(c.x); got != c.want {
			t.Errorf("Predict(%v) = %v, want %v", c.x, got, c.want)
		}
	}
	m.Trees[0].DefaultLeft[0] = true
	if got := m.Predict([]float64{math.NaN()}); got != 1.5 {
		t.Errorf("missing with default left: %v, want 1.5", got)
	}
	m.Weights = []float32{0.5}
	if got := m.Predict([]float64{0}); got != 1 {
		t.Errorf("dart weight 0.5: %v, want 1", got)
	}
}

func TestValidateRejectsCycles(t *testing.T) {
	m := tinyModel()
	m.Trees[0].Left[1] = 0 // node 1 points back to the root
	m.Trees[0].Right[1] = 2
	if err := m.validate(); err == nil || !strings.Contains(err.Error(), "reached twice") {
		t.Errorf("cycle: %v", err)
	}
	m = tinyModel()
	m.Trees[0].Right[0] = 7
	if err := m.validate(); err == nil || !strings.Contains(err.Error(), "outside") {
		t.Errorf("child out of range: %v", err)
	}
}

func TestBinaryErrors(t *testing.T) {
	good := readFixture(t, "xgb_a.bin")
	objOff := 4 + learnerParamSize // after "binf" and the parameters
	badObj := append([]byte(nil), good...)
	copy(badObj[objOff+8:], "binary:logistic\x00")
	binary.LittleEndian.PutUint64(badObj[objOff:], 15)
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "truncated learner model parameters"},
		{"truncated", good[:len(good)/2], "does not fit"},
		{"huge string", func() []byte {
			b := append([]byte(nil), good...)
			binary.LittleEndian.PutUint64(b[objOff:], 1<<62)
			return b
		}(), "objective name length"},
		{"objective", badObj, `objective "binary:logi`},
		{"base64", []byte("bs64abcd"), "base64"},
	} {
		_, err := ReadBinary(c.data)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to mention %q", c.name, err, c.want)
		}
	}
}

func TestSerializedForms(t *testing.T) {
	rows, preds := loadFixtures(t)
	bin := readFixture(t, "xgb_a.bin")
	buf := []byte(serialisationHeader)
	buf = binary.LittleEndian.AppendUint64(buf, uint64(len(bin)))
	buf = append(buf, bin...)
	buf = append(buf, `{"learner":{}}`...)
	m, err := ReadSerialized(buf)
	if err != nil {
		t.Fatal(err)
	}
	checkPredictions(t, "CONFIG-offset", m, rows, preds["xgb_a"])

	// Before xgboost 1.0 a pickle held the bare binary model, no "binf".
	if m, err = ReadSerialized(bin[4:]); err != nil {
		t.Fatal(err)
	}
	checkPredictions(t, "bare binary", m, rows, preds["xgb_a"])

	snap := `{"Model":` + string(readFixture(t, "xgb_a.json")) + `,"Config":{}}`
	if m, err = ReadSerialized([]byte(snap)); err != nil {
		t.Fatal(err)
	}
	checkPredictions(t, "json snapshot", m, rows, preds["xgb_a"])

	if _, err := ReadSerialized([]byte("{L\x00\x00")); err == nil || !strings.Contains(err.Error(), "offset 2: truncated ubjson integer") {
		t.Errorf("truncated UBJSON: %v", err)
	}
	if _, err := ReadSerialized([]byte("{U\x06ConfigZ}")); err == nil || !strings.Contains(err.Error(), "no \"Model\"") {
		t.Errorf("UBJSON snapshot without a model: %v", err)
	}
	bad := append([]byte(serialisationHeader), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f)
	if _, err := ReadSerialized(bad); err == nil || !strings.Contains(err.Error(), "model size") {
		t.Errorf("oversized offset: %v", err)
	}
}

func TestJSONErrors(t *testing.T) {
	good := string(readFixture(t, "xgb_a.json"))
	for _, c := range []struct {
		name, doc, want string
	}{
		{"not json", "{", "json model"},
		{"no learner", "{}", "no \"learner\""},
		{"objective", strings.Replace(good, `"reg:squarederror"`, `"binary:logistic"`, 1), "binary:logistic"},
		{"classes", strings.Replace(good, `"num_class":"0"`, `"num_class":"3"`, 1), "num_class"},
		{"booster", strings.Replace(good, `"name":"gbtree"`, `"name":"gblinear"`, 1), "gblinear"},
		{"child", strings.Replace(good, `"left_children":[1,`, `"left_children":[1000,`, 1), "outside"},
		{"lengths", strings.Replace(good, `"split_indices":[`, `"split_indices":[0,`, 1), "split_indices has"},
	} {
		if c.doc == good {
			t.Fatalf("%s: replacement did not apply", c.name)
		}
		_, err := ReadJSON([]byte(c.doc))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to mention %q", c.name, err, c.want)
		}
	}
}

func FuzzReadBinary(f *testing.F) {
	f.Add(readFixture(f, "xgb_a.bin"))
	f.Add([]byte("binf"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if m, err := ReadBinary(data); err == nil {
			m.Predict(make([]float64, 56))
		}
	})
}

func FuzzReadSerialized(f *testing.F) {
	bin := readFixture(f, "xgb_a.bin")
	buf := binary.LittleEndian.AppendUint64([]byte(serialisationHeader), uint64(len(bin)))
	f.Add(append(buf, bin...))
	f.Add([]byte(`{"Model":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if m, err := ReadSerialized(data); err == nil {
			m.Predict(make([]float64, 56))
		}
	})
}

func FuzzReadJSON(f *testing.F) {
	f.Add(readFixture(f, "xgb_a.json"))
	f.Add([]byte(`{"learner":{"learner_model_param":{"base_score":"0.5","num_feature":"1"},"objective":{"name":"reg:squarederror"},"gradient_booster":{"name":"gbtree","model":{"trees":[{"left_children":[1,-1,-1],"right_children":[2,-1,-1],"split_indices":[0,0,0],"split_conditions":[0.5,1,2],"default_left":[0,0,0]}]}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if m, err := ReadJSON(data); err == nil {
			m.Predict([]float64{math.NaN()})
		}
	})
}

func TestUBJSONValues(t *testing.T) {
	// Hand-assembled: {"a": [$d#U2 1.5 -2], "b": [i-3 T Z ], "c": S U1 "x", "d": {#U1 U1 "e" D 0.25}}
	doc := "{U\x01a[$d#U\x02\x3f\xc0\x00\x00\xc0\x00\x00\x00" +
		"U\x01b[i\xfdTZN]" +
		"U\x01cSU\x01x" +
		"U\x01d{#U\x01U\x01eD\x3f\xd0\x00\x00\x00\x00\x00\x00}"
	v, err := decodeUBJSON([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(v)
	if want := `{"a":[1.5,-2],"b":[-3,true,null],"c":"x","d":{"e":0.25}}`; string(got) != want {
		t.Errorf("decoded %s, want %s", got, want)
	}
	for _, c := range []struct{ doc, want string }{
		{"[$d#U\x01\x00", "truncated ubjson float32"},
		{"[#U\xff", "length 255 outside"},
		{"?", "unknown ubjson marker 0x3f"},
		{"[D\x7f\xf8\x00\x00\x00\x00\x00\x00]", "non-finite"},
		{strings.Repeat("[", 100), "nesting deeper"},
	} {
		if _, err := decodeUBJSON([]byte(c.doc)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.doc, err, c.want)
		}
	}
}

func FuzzReadUBJSON(f *testing.F) {
	f.Add(readFixture(f, "xgb_a.ubj"))
	f.Add([]byte("{U\x01a[$d#U\x02\x3f\xc0\x00\x00\xc0\x00\x00\x00}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if m, err := ReadUBJSON(data); err == nil {
			m.Predict(make([]float64, 56))
		}
	})
}

func BenchmarkPredict(b *testing.B) {
	rows, _ := loadFixtures(b)
	m, err := ReadJSON(readFixture(b, "xgb_a.json"))
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		m.Predict(rows[i%len(rows)])
	}
}

func BenchmarkReadBinary(b *testing.B) {
	data := readFixture(b, "xgb_a.bin")
	for b.Loop() {
		if _, err := ReadBinary(data); err != nil {
			b.Fatal(err)
		}
	}
}
