package report

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"pertnas/formats/artifact"
	"pertnas/formats/genotype"
	"pertnas/pertnas"
	"pertnas/train"
	"pertnas/train/traineval"
)

// fakeRun writes a finished run folder of npop members with made-up but
// well-formed artifacts: valuations where op 3 matters on every edge,
// a selection with one decision per phase kind, logs, an evaluation.
func fakeRun(t *testing.T, npop int, withEval bool) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	cfg := pertnas.Smoke()
	cfg.Npop = npop
	if err := pertnas.ClaimRun(dir, cfg); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for m := 0; m < npop; m++ {
		var rows []pertnas.ValuationRow
		for e := 0; e < pertnas.NumEdges; e++ {
			for o := 0; o < pertnas.NumOps; o++ {
				d := 0.01*rng.NormFloat64() - 0.002*float64(e%3)
				if o == 3 {
					d -= 0.05
				}
				rows = append(rows, pertnas.ValuationRow{Member: m, Edge: e, Op: o, AccBefore: 0.5, AccAfter: 0.5 + d, Diff: d})
			}
		}
		md := filepath.Join(dir, "members", strconv.Itoa(m))
		if err := artifact.WriteTable(filepath.Join(md, "valuation.arrow"), rows); err != nil {
			t.Fatal(err)
		}
		logRows := []pertnas.LogRow{
			{Phase: "expand", Kind: "build", Edge: 0, Op: -1, Epoch: -1, Seconds: 1.5, Loss: math.NaN(), LR: math.NaN()},
			{Phase: "expand", Kind: "epoch", Edge: 0, Op: -1, Epoch: 0, Step: 4, Loss: 2.1, Acc: 0.3, LR: 0.1, Seconds: 10},
			{Phase: "expand", Kind: "perturb", Edge: 0, Op: 3, Epoch: -1, Step: 20, Loss: 1.9, Acc: 0.4, LR: 0.01, Seconds: 4},
		}
		if err := artifact.WriteTable(filepath.Join(md, "log.arrow"), logRows); err != nil {
			t.Fatal(err)
		}
	}
	sel := []pertnas.SelectionRow{}
	for o := 0; o < pertnas.NumOps; o++ { // coarse on edge 0: keeps ops 3 and 5
		d, dec := -0.001*float64(o), pertnas.Drop
		switch o {
		case 3:
			d, dec = -0.05, pertnas.Keep
		case 5:
			d, dec = -0.02, pertnas.Keep
		}
		sel = append(sel, pertnas.SelectionRow{Phase: "coarse", Edge: 0, Op: o, OpName: genotype.Ops[o], Diff: d, Decision: dec})
	}
	sel = append(sel,
		pertnas.SelectionRow{Phase: "fine", Round: 12, Edge: 0, Op: 3, OpName: "sep_conv_3x3", Diff: -0.04, Decision: pertnas.Keep},
		pertnas.SelectionRow{Phase: "fine", Round: 12, Edge: 0, Op: 5, OpName: "dil_conv_3x3", Diff: -0.039, Decision: pertnas.Drop},
		pertnas.SelectionRow{Phase: "topology", Round: 0, Node: 1, Edge: 2, Op: 3, OpName: "sep_conv_3x3", Diff: -0.1, Decision: pertnas.Keep},
		pertnas.SelectionRow{Phase: "topology", Round: 0, Node: 1, Edge: 3, Op: 3, OpName: "sep_conv_3x3", Diff: -0.08, Decision: pertnas.Keep},
		pertnas.SelectionRow{Phase: "topology", Round: 0, Node: 1, Edge: 4, Op: 1, OpName: "avg_pool_3x3", Diff: 0.01, Decision: pertnas.Drop},
		pertnas.SelectionRow{Phase: "topology", Round: 0, Node: 1, Edge: 0, Op: 3, OpName: "sep_conv_3x3", Diff: -0.3, Decision: pertnas.Other},
	)
	if err := artifact.WriteTable(filepath.Join(dir, "selection.arrow"), sel); err != nil {
		t.Fatal(err)
	}
	if err := artifact.WriteTable(filepath.Join(dir, "select", "log.arrow"), []pertnas.LogRow{
		{Phase: "coarse", Kind: "epoch", Edge: -1, Op: -1, Seconds: 7, Loss: 1, Acc: 0.5, LR: 0.1},
		{Phase: "fine", Kind: "perturb", Edge: 0, Op: 3, Epoch: -1, Seconds: 3, Loss: 1, Acc: 0.5, LR: 0.1},
	}); err != nil {
		t.Fatal(err)
	}
	g, _ := genotype.Named("PERTNAS_SUPERNET")
	sum := pertnas.Summary{Config: cfg, Seed: cfg.Seed, Genotype: g, GenotypeRepr: g.Repr(), NodeOrder: []int{1, 2, 3},
		Phases:  []pertnas.PhaseCost{{Phase: "expand", Seconds: 31}, {Phase: "coarse", Seconds: 7}, {Phase: "fine", Seconds: 3}, {Phase: "topology", Seconds: 2}},
		Seconds: 43}
	if err := artifact.WriteJSON(filepath.Join(dir, "search.json"), sum); err != nil {
		t.Fatal(err)
	}
	if err := artifact.WriteJSON(filepath.Join(dir, "genotype.json"), g); err != nil {
		t.Fatal(err)
	}
	if withEval {
		var rows []train.Row
		for e := 1; e <= 10; e++ {
			acc := 1 - 0.9*math.Exp(-float64(e)/3)
			rows = append(rows, train.Row{Epoch: e, TrainLoss: 2 * math.Exp(-float64(e)/4), TrainAcc: acc, TestLoss: 2.2 * math.Exp(-float64(e)/4), TestAcc: acc - 0.02, LR: 0.025})
		}
		if err := artifact.WriteTable(filepath.Join(dir, "eval", "metrics.arrow"), rows); err != nil {
			t.Fatal(err)
		}
		res := traineval.Result{Dataset: "cifar10", Epochs: 10, BestTestAcc: 0.9751, BestEpoch: 9, FinalTestAcc: 0.9737, Parameters: 3979414, Device: "cpu", WallSeconds: 100}
		if err := artifact.WriteJSON(filepath.Join(dir, "eval", "result.json"), res); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestDecisionsAndNoise(t *testing.T) {
	r, err := Load(fakeRun(t, 3, false))
	if err != nil {
		t.Fatal(err)
	}
	if math.IsNaN(r.Noise) || r.Noise < 0.007 || r.Noise > 0.013 {
		t.Errorf("noise %v, want about 0.01 (the members' N(0, 0.01) spread)", r.Noise)
	}
	ds := r.Decisions()
	if len(ds) != 3 {
		t.Fatalf("%d decisions, want coarse, fine, topology: %+v", len(ds), ds)
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-12 }
	coarse, fine, topo := ds[0], ds[1], ds[2]
	// coarse: lowest dropped diff -0.006 (op 6) minus highest kept -0.02.
	if coarse.Phase != "coarse" || len(coarse.Kept) != 2 || len(coarse.Dropped) != 5 || !near(coarse.Margin, 0.014) ||
		!near(coarse.Noise, r.Noise/math.Sqrt(3)) {
		t.Errorf("coarse decision %+v", coarse)
	}
	if fine.Phase != "fine" || fine.Kept[0].Label != "sep_conv_3x3" || !near(fine.Margin, 0.001) || fine.Noise != r.Noise || fine.Z() >= 1 {
		t.Errorf("fine decision %+v", fine)
	}
	// topology: the edge of another node (Other) is no candidate.
	if topo.Phase != "topology" || topo.Edge != -1 || len(topo.Kept) != 2 || len(topo.Dropped) != 1 || !near(topo.Margin, 0.09) {
		t.Errorf("topology decision %+v", topo)
	}
	if one, err := Load(fakeRun(t, 1, false)); err != nil || !math.IsNaN(one.Noise) {
		t.Errorf("one member: noise %v, %v; want NaN", one.Noise, err)
	}
}

func TestRenderContents(t *testing.T) {
	dir := fakeRun(t, 2, true)
	path, err := Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, want := range []string{
		"<!DOCTYPE html>", "PertNAS run run", `alt="normal cell" src="data:image/svg`, `alt="reduction cell" src="data:image/svg`,
		"population mean over 2 members", "member 0", "member 1",
		"Decisions of phases 4–6", "e2: c_{k-2}→1 sep_conv_3x3", // a topology candidate
		"seconds per phase", "97.51%", "97.37%", "top-1 accuracy", `&#34;npop&#34;: 2`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if n := strings.Count(page, `r="3.5"`); n != 8 { // the 8 edges of the normal cell, on the mean
		t.Errorf("%d chosen (edge, op) dots, want 8", n)
	}
	if n := strings.Count(page, `stroke="#000" stroke-width="2"`); n != 2 { // coarse keeps of the fake selection
		t.Errorf("%d coarse frames, want 2", n)
	}
	for _, banned := range []string{"<script", "http://", "https://"} {
		if i := strings.Index(strings.ReplaceAll(page, `xmlns="http://www.w3.org/2000/svg"`, ""), banned); i >= 0 {
			t.Errorf("report contains %q (must need no network and no script)", banned)
		}
	}
	// Without an evaluation the page says how to make one.
	var buf bytes.Buffer
	r, err := Load(fakeRun(t, 2, false))
	if err != nil {
		t.Fatal(err)
	}
	if err := Render(&buf, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "No evaluation yet") {
		t.Error("report without eval/ does not say so")
	}
}

func TestLoadErrors(t *testing.T) {
	dir := fakeRun(t, 2, false)
	os.Remove(filepath.Join(dir, "search.json"))
	empty := t.TempDir()
	for _, c := range []struct{ dir, want string }{
		{filepath.Join(empty, "none"), "none"},
		{empty, "run.json"},
		{dir, "search has not finished"},
	} {
		_, err := Write(c.dir)
		var ie *InputError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an InputError naming %q", c.dir, err, c.want)
		}
		if _, err := os.Stat(filepath.Join(c.dir, File)); err == nil {
			t.Errorf("%s: a refused report was written", c.dir)
		}
	}
}

// TestNiceTicks: the ticks cover the data, are evenly spaced by 1, 2 or 5
// times a power of ten, and number about five.
func TestNiceTicks(t *testing.T) {
	for _, c := range [][2]float64{{48.1, 98.8}, {0.04, 2.03}, {0, 1}, {0.3, 0.31}, {1, 1}, {-3, 7}, {1e-5, 3e-4}} {
		ts := niceTicks(c[0], c[1])
		if len(ts) < 3 || len(ts) > 8 || ts[0] > c[0] || ts[len(ts)-1] < c[1] {
			t.Errorf("niceTicks(%v) = %v", c, ts)
			continue
		}
		step := ts[1] - ts[0]
		m := step / math.Pow(10, math.Floor(math.Log10(step)))
		if math.Abs(m-1) > 1e-9 && math.Abs(m-2) > 1e-9 && math.Abs(m-5) > 1e-9 {
			t.Errorf("niceTicks(%v) = %v: step %v", c, ts, step)
		}
	}
}
