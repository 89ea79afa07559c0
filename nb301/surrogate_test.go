package nb301

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// xgbFixtures reads testdata/predictions.json (scripts/nb301_fixtures.py):
// feature rows (null = NaN) and xgboost 1.7's own predictions.
func xgbFixtures(t testing.TB) ([][]float64, map[string][]float64) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "predictions.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Features    [][]*float64         `json:"features"`
		Predictions map[string][]float64 `json:"predictions"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	rows := make([][]float64, len(f.Features))
	for i, r := range f.Features {
		rows[i] = make([]float64, len(r))
		for j, v := range r {
			rows[i][j] = math.NaN()
			if v != nil {
				rows[i][j] = *v
			}
		}
	}
	return rows, f.Predictions
}

// TestPickledBoostersMatchXGBoost reads the Booster pickles the way NB301
// ships them (protocol 3) and in protocols 2, 4, 5, and matches xgboost's own
// predictions to 1e-5.
func TestPickledBoostersMatchXGBoost(t *testing.T) {
	rows, preds := xgbFixtures(t)
	for _, c := range []struct{ file, model string }{
		{"xgb_a.pkl", "xgb_a"}, {"xgb_a_p2.pkl", "xgb_a"}, {"xgb_a_p4.pkl", "xgb_a"},
		{"xgb_a_p5.pkl", "xgb_a"}, {"xgb_b.pkl", "xgb_b"}, {"xgb_b.json", "xgb_b"},
		{"xgb_a_ubj.pkl", "xgb_a"}, // plain pickle.dump with xgboost 1.7: UBJSON snapshot
		{"xgb_a.ubj", "xgb_a"},
	} {
		m, err := LoadMember(filepath.Join("testdata", c.file))
		if err != nil {
			t.Fatal(err)
		}
		if m.Kind != KindXGBoost {
			t.Errorf("%s: kind %s", c.file, m.Kind)
		}
		for i, row := range rows {
			if got := m.Predict(row); math.Abs(got-preds[c.model][i]) > 1e-5 {
				t.Errorf("%s row %d: %.7f, xgboost %.7f", c.file, i, got, preds[c.model][i])
			}
		}
	}
}

func TestPickledLightGBM(t *testing.T) {
	pk, err := LoadMember(filepath.Join("testdata", "lgb_runtime.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	txt, err := LoadMember(filepath.Join("testdata", "lgb_runtime.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if pk.Kind != KindLightGBM || txt.Kind != KindLightGBM {
		t.Fatalf("kinds %s, %s", pk.Kind, txt.Kind)
	}
	x := make([]float64, 56)
	x[5] = 1
	x[0] = -1
	// Hand-traced in nb301/lgb's test: 3500 - 100 + 25.
	if a, b := pk.Predict(x), txt.Predict(x); a != 3425 || b != 3425 {
		t.Errorf("pickled %v, text %v, want 3425", a, b)
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// ensembleDir lays out a models folder the way NB301's model download is
// laid out (one folder per member holding surrogate_model.model and config
// JSON files), plus a LightGBM runtime member and a graph-network folder
// whose PyTorch files cannot be read here.
func ensembleDir(t *testing.T) string {
	dir := t.TempDir()
	copyFile(t, "testdata/xgb_a.pkl", filepath.Join(dir, "xgb_v0.9", "0", "surrogate_model.model"))
	copyFile(t, "testdata/xgb_b.pkl", filepath.Join(dir, "xgb_v0.9", "1", "surrogate_model.model"))
	if err := os.WriteFile(filepath.Join(dir, "xgb_v0.9", "0", "model_config.json"), []byte(`{"model": "xgb"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a model\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	copyFile(t, "testdata/lgb_runtime.pkl", filepath.Join(dir, "lgb_runtime_v0.9", "0", "surrogate_model.model"))
	if err := os.MkdirAll(filepath.Join(dir, "gnn_gin_v0.9", "0"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "gnn_gin_v0.9", "0", "surrogate_model.model"), []byte("PK\x03\x04 a torch zip"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestEnsemble(t *testing.T) {
	rows, preds := xgbFixtures(t)
	e, err := LoadEnsemble(ensembleDir(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Accuracy) != 2 || len(e.Runtime) != 1 || e.Version != "0.9" {
		t.Fatalf("%d accuracy, %d runtime members, version %q", len(e.Accuracy), len(e.Runtime), e.Version)
	}
	s := e.Predict(rows[0], 0)
	a, b := preds["xgb_a"][0], preds["xgb_b"][0]
	if math.Abs(s.Accuracy.Mean-(a+b)/2) > 1e-5 || math.Abs(s.Accuracy.Std-math.Abs(a-b)/2) > 1e-5 {
		t.Errorf("mean %v std %v, want %v %v", s.Accuracy.Mean, s.Accuracy.Std, (a+b)/2, math.Abs(a-b)/2)
	}
	if !strings.HasSuffix(s.Accuracy.Members[0].File, filepath.Join("0", "surrogate_model.model")) || s.Version != "0.9" {
		t.Errorf("members %+v", s.Accuracy.Members)
	}
	if s.Runtime == nil || s.Runtime.Std != 0 || len(s.Runtime.Members) != 1 {
		t.Errorf("runtime %+v", s.Runtime)
	}
	// Noise: reproducible for a seed, different across seeds, drawn around the mean.
	// The mean and std do not depend on the seed.
	n1, n2, n3 := e.Predict(rows[0], 7), e.Predict(rows[0], 7), e.Predict(rows[0], 8)
	if n1.Accuracy.Noisy != n2.Accuracy.Noisy || n1.Accuracy.Noisy == n3.Accuracy.Noisy || n3.Accuracy.Mean != s.Accuracy.Mean {
		t.Errorf("noise draws %v %v %v", n1.Accuracy.Noisy, n2.Accuracy.Noisy, n3.Accuracy.Noisy)
	}
	if math.Abs(n1.Accuracy.Noisy-s.Accuracy.Mean) > 6*s.Accuracy.Std || n1.Accuracy.Noisy == s.Accuracy.Mean {
		t.Errorf("noisy %v, mean %v (std %v)", n1.Accuracy.Noisy, s.Accuracy.Mean, s.Accuracy.Std)
	}
}

// TestEnsembleVersions: a whole NB301 download is accepted when it holds
// one release (its version read from the folder names); v0.9 and v1.0
// members in one folder are refused, naming both.
func TestEnsembleVersions(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, "testdata/xgb_a.pkl", filepath.Join(dir, "nb_models_1.0", "xgb_v1.0", "s0", "surrogate_model.model"))
	e, err := LoadEnsemble(filepath.Join(dir, "nb_models_1.0"))
	if err != nil || e.Version != "1.0" {
		t.Fatalf("v1.0 folder: %v, version %q", err, e.Version)
	}
	copyFile(t, "testdata/xgb_b.pkl", filepath.Join(dir, "xgb_v0.9", "s0", "surrogate_model.model"))
	_, err = LoadEnsemble(dir)
	if err == nil || !strings.Contains(err.Error(), "v1.0") || !strings.Contains(err.Error(), "v0.9") {
		t.Errorf("mixed releases: %v", err)
	}
	plain := t.TempDir()
	copyFile(t, "testdata/xgb_a.pkl", filepath.Join(plain, "m", "surrogate_model.model"))
	if e, err := LoadEnsemble(plain); err != nil || e.Version != "" {
		t.Errorf("folder naming no release: %v, version %q", err, e.Version)
	}
}

func TestEnsembleErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadEnsemble(dir); err == nil || !strings.Contains(err.Error(), "no XGBoost surrogate model") {
		t.Errorf("empty folder: %v", err)
	}
	bad := filepath.Join(dir, "m", "surrogate_model.model")
	copyFile(t, "testdata/xgb_a.pkl", bad)
	b, _ := os.ReadFile(bad)
	if err := os.WriteFile(bad, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadEnsemble(dir)
	var me *ModelError
	if !errors.As(err, &me) || me.Path != bad || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("truncated pickle: %v", err)
	}
	if err := os.WriteFile(bad, []byte("\x80\x03cbuiltins\nlist\nq\x00)\x81q\x01}b."), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadEnsemble(dir); err == nil || !strings.Contains(err.Error(), "builtins.list object, want xgboost.core.Booster") {
		t.Errorf("wrong class: %v", err)
	}
	if err := os.WriteFile(bad, []byte("\x80\x03cxgboost.core\nBooster\nq\x00)\x81q\x01}X\x06\x00\x00\x00handleK\x01sb."), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadEnsemble(dir); err == nil || !strings.Contains(err.Error(), "handle is a int, want bytes") {
		t.Errorf("bad handle: %v", err)
	}
}

// TestRunScoreJSON: score.json reports the folder, its release, the mean
// and the noisy draw (as example.py's with_noise=True) side by side.
func TestRunScoreJSON(t *testing.T) {
	models, out := ensembleDir(t), t.TempDir()
	var stdout strings.Builder
	_, s, err := Run(Options{Genotype: "DARTS_V2", Out: out, Models: models, Seed: 3}, &stdout)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(out, ScoreFile))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Models   string `json:"models"`
		Version  string `json:"version"`
		Seed     uint64 `json:"seed"`
		Accuracy struct {
			Mean  *float64 `json:"mean"`
			Noisy *float64 `json:"noisy"`
		} `json:"accuracy"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Models != models || doc.Version != "0.9" || doc.Seed != 3 || doc.Accuracy.Mean == nil || doc.Accuracy.Noisy == nil ||
		*doc.Accuracy.Mean != s.Accuracy.Mean || *doc.Accuracy.Noisy != s.Accuracy.Noisy {
		t.Errorf("score.json %s", b)
	}
}
