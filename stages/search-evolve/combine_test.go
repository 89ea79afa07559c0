package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pertnas/formats/artifact"
	"pertnas/formats/genotype"
	"pertnas/internal/stage"
)

// TestCombine: the normal cell of a run folder and the reduction cell of a
// built-in genotype end up in genotype.json and genotype.py, which read back
// as the combination.
func TestCombine(t *testing.T) {
	run := t.TempDir()
	ev, _ := genotype.Named("PERTNAS_EVOLUTIONARY")
	if err := artifact.WriteJSON(filepath.Join(run, "genotype.json"), ev); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "combined")
	_, k := parse(t, "combine", "--normal", run, "--reduce", "DARTS_V2", "--out", out)
	if err := k.Run(); err != nil {
		t.Fatal(err)
	}
	v2, _ := genotype.Named("DARTS_V2")
	want := genotype.Combine(ev, v2)
	for _, f := range []string{"genotype.json", "genotype.py"} {
		g, err := genotype.Load(filepath.Join(out, f))
		if err != nil {
			t.Fatal(err)
		}
		if !g.Equal(want) {
			t.Errorf("%s = %s, want %s", f, g.Repr(), want.Repr())
		}
	}
	py, _ := os.ReadFile(filepath.Join(out, "genotype.py"))
	if !strings.Contains(string(py), "Normal cell from "+run+", reduction cell from DARTS_V2") {
		t.Errorf("genotype.py does not say where the cells come from:\n%s", py)
	}
}

// TestCombineBadInput: each unusable argument is bad input naming its flag,
// and nothing is written.
func TestCombineBadInput(t *testing.T) {
	dir := t.TempDir()
	unfinished := filepath.Join(dir, "unfinished")
	os.Mkdir(unfinished, 0o755)
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"normal": 3}`), 0o644)
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	out := filepath.Join(dir, "out")
	for _, c := range []struct {
		normal, reduce, out string
		want                []string
	}{
		{"NOPE", "DARTS_V2", out, []string{"--normal", "NOPE"}},
		{"DARTS_V2", unfinished, out, []string{"--reduce", unfinished, "has no genotype.json"}},
		{bad, "DARTS_V2", out, []string{"--normal", bad}},
		{"DARTS_V1", "DARTS_V2", file, []string{"--out", file, "is a file"}},
	} {
		_, k := parse(t, "combine", "--normal", c.normal, "--reduce", c.reduce, "--out", c.out)
		err := k.Run()
		if err == nil || !stage.IsBadInput(err) {
			t.Errorf("%v: error %v is not bad input", c, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %q does not name %q", c, err, w)
			}
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a refused combine wrote %s", out)
	}
}
