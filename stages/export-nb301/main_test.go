package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunDARTSV2(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := run([]string{"--genotype", "DARTS_V2", "--out", dir}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, f := range []string{"genotype.py", "config.json", "features.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "score.json")); err == nil {
		t.Error("score.json written without --models")
	}
}

func TestRunScores(t *testing.T) {
	models := t.TempDir()
	b, err := os.ReadFile(filepath.Join("..", "..", "nb301", "testdata", "xgb_a.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(models, "0"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(models, "0", "surrogate_model.model"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := run([]string{"--genotype", "PERTNAS_SUPERNET", "--same-cell", "--out", dir, "--models", models}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var printed, written map[string]any
	if err := json.Unmarshal(out.Bytes(), &printed); err != nil {
		t.Fatalf("stdout is not the score JSON: %v\n%s", err, out.String())
	}
	sb, err := os.ReadFile(filepath.Join(dir, "score.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(sb, &written); err != nil {
		t.Fatal(err)
	}
	acc, ok := written["accuracy"].(map[string]any)
	if !ok || acc["mean"] != printed["accuracy"].(map[string]any)["mean"] {
		t.Errorf("score.json %v, printed %v", written, printed)
	}
}

func TestRunExitCodes(t *testing.T) {
	dir := t.TempDir()
	twice := filepath.Join(dir, "twice.json")
	os.WriteFile(twice, []byte(`{"normal": [["sep_conv_3x3", 0], ["sep_conv_3x3", 0]]}`), 0o644)
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"help", []string{"--help"}, 0, "--same-cell"},
		{"no genotype", []string{"--out", dir}, 2, "missing flags"},
		{"unknown name", []string{"--genotype", "NOPE", "--out", dir}, 2, "NOPE"},
		{"bad file", []string{"--genotype", twice, "--out", dir}, 2, "twice.json"},
		{"no models", []string{"--genotype", "DARTS_V1", "--out", filepath.Join(dir, "refused"), "--models", filepath.Join(dir, "none")}, 2, "none"},
	} {
		var out, errb bytes.Buffer
		code := run(c.args, &out, &errb)
		if code != c.code || !strings.Contains(out.String()+errb.String(), c.want) {
			t.Errorf("%s: exit %d (want %d), output %q lacks %q", c.name, code, c.code, out.String()+errb.String(), c.want)
		}
	}
	// A refused export writes nothing (the models are read first).
	if _, err := os.Stat(filepath.Join(dir, "refused")); !os.IsNotExist(err) {
		t.Errorf("a refused export wrote %s: %v", filepath.Join(dir, "refused"), err)
	}
}
