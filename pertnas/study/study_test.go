package study

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pertnas/formats/artifact"
	"pertnas/pertnas"
)

// writeResult writes a train-eval result.json for cell with the given seed.
func writeResult(t *testing.T, dir, cell string, seed int, final float64) {
	t.Helper()
	p := filepath.Join(dir, cell, fmt.Sprintf("train-%d", seed), "result.json")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := artifact.WriteJSON(p, map[string]any{"seed": seed, "final_test_acc": final, "best_test_acc": final + 0.01, "parameters": 12345, "epochs": 4}); err != nil {
		t.Fatal(err)
	}
}

// writeSearch writes a finished-looking search run: run.json and one
// valuation table per member, diff(m, edge, op) = signal(edge, op) + noise(m, edge, op).
func writeSearch(t *testing.T, dir string, signal, noise func(m, e, o int) float64) {
	t.Helper()
	cfg := pertnas.Smoke()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := pertnas.ClaimRun(dir, cfg); err != nil {
		t.Fatal(err)
	}
	for m := 0; m < cfg.Npop; m++ {
		var rows []pertnas.ValuationRow
		for e := 0; e < 14; e++ {
			for o := 0; o < 7; o++ {
				d := signal(m, e, o) + noise(m, e, o)
				rows = append(rows, pertnas.ValuationRow{Member: m, Edge: e, Op: o, AccBefore: 0.5, AccAfter: 0.5 + d, Diff: d})
			}
		}
		if err := os.MkdirAll(filepath.Dir(pertnas.ValuationPath(dir, m)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := artifact.WriteTable(pertnas.ValuationPath(dir, m), rows); err != nil {
			t.Fatal(err)
		}
	}
}

// TestStudy: a study where every searched cell beats every random one, and
// whose valuations carry a signal both members share, is reported as such;
// the SVG is well-formed with one dot per training.
func TestStudy(t *testing.T) {
	dir := t.TempDir()
	ds := filepath.Join(dir, "fashion")
	for k := 1; k <= 3; k++ {
		for s := 1; s <= 2; s++ {
			writeResult(t, ds, fmt.Sprintf("search-%d", k), s, 0.80+0.01*float64(k)+0.001*float64(s))
			writeResult(t, ds, fmt.Sprintf("random-%d", k), s, 0.70+0.01*float64(k)+0.001*float64(s))
		}
		writeSearch(t, filepath.Join(ds, fmt.Sprintf("search-%d", k)),
			func(m, e, o int) float64 { return -0.01 * float64(o) },
			func(m, e, o int) float64 { return 0.001 * float64((m*7+e*3+o)%3-1) })
	}
	writeResult(t, ds, "DARTS_V2", 1, 0.85)
	data, err := Load(dir, []string{"fashion"})
	if err != nil {
		t.Fatal(err)
	}
	d := data[0]
	if got := strings.Join(d.Groups(), ","); got != "search,random,DARTS_V2" {
		t.Errorf("groups %s", got)
	}
	if d.Cells[0].Name != "search-1" || len(d.Cells[0].Runs) != 2 || d.Cells[0].Runs[1].FinalAcc != 0.812 {
		t.Errorf("first cell %+v", d.Cells[0])
	}
	if len(d.Searches) != 3 {
		t.Fatalf("%d search valuations, want 3", len(d.Searches))
	}
	v := d.Searches[0]
	if v.Members != 2 || v.Diffs != 2*14*7 || v.ValImages != 128 || !(v.Agreement > 0.9) || !(v.MeanSD > 5*v.NoiseSD) {
		t.Errorf("valuation %+v: want 2 members, 196 diffs, 128 val images, agreement > 0.9, spread of means >> noise", v)
	}
	var md, svg bytes.Buffer
	if err := WriteMarkdown(&md, Setup{Command: "make study"}, data, "study.svg"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| search | 3 | 6 | 82.15% |",
		"| random | 3 | 6 | 72.15% |",
		"every training (6 vs 6; the seeds of one cell are not independent): U = 36, P(search > random) = 1.00, p = 0.00216",
		"cell means (3 vs 3): U = 9, P(search > random) = 1.00, p = 0.1",
		"**Verdict:** the searched cells beat the random ones by 10.00 points",
		"| search-1 | 1: 81.10%, 2: 81.20% | 81.15% |",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, md.String())
		}
	}
	if err := WriteSVG(&svg, data); err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(&svg)
	dots := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "circle" {
			dots++
		}
	}
	if dots != 13 {
		t.Errorf("SVG has %d dots, want 13 trainings", dots)
	}
}

// TestSummariseNoise: valuations that are noise alone give an agreement
// near 0 and a spread of member means near noise/sqrt(members).
func TestSummariseNoise(t *testing.T) {
	var members [][]pertnas.ValuationRow
	x := uint64(1)
	for m := 0; m < 4; m++ {
		var rows []pertnas.ValuationRow
		for e := 0; e < 14; e++ {
			for o := 0; o < 7; o++ {
				x = x*6364136223846793005 + 1442695040888963407
				d := float64(int(x>>40)%1000-500) / 10000 // uniform in [-0.05, 0.05)
				rows = append(rows, pertnas.ValuationRow{Member: m, Edge: e, Op: o, Diff: d})
			}
		}
		members = append(members, rows)
	}
	v := Summarise(members)
	if math.Abs(v.Agreement) > 0.15 {
		t.Errorf("agreement %v on pure noise, want about 0", v.Agreement)
	}
	if r := v.MeanSD / (v.NoiseSD / 2); r < 0.8 || r > 1.25 {
		t.Errorf("spread of means / (noise/sqrt 4) = %v, want about 1", r)
	}
}
