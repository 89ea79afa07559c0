package pertnas

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"pertnas/formats/genotype"
	"pertnas/train/schedule"
)

// runMember runs member m of cfg on a fresh fake and returns its rows and
// the calls it made.
func runMember(t *testing.T, cfg Config, m int) ([]ValuationRow, []call) {
	t.Helper()
	w := newFakeWorld()
	rows, err := Member(context.Background(), opts(testDir(t), cfg, w), m)
	if err != nil {
		t.Fatal(err)
	}
	return rows, w.calls
}

func countKind(cs []call, kind string) int {
	n := 0
	for _, c := range cs {
		if c.Kind == kind {
			n++
		}
	}
	return n
}

// TestRestoreNone: without a restore, the targets of one perturb-val
// fine-tune one after the other on the same network: the accuracies equal
// those of a hand-run fake that masks, fine-tunes, measures and unmasks
// each op in turn without ever restoring, and differ from the exact
// restore's from the second target on.
func TestRestoreNone(t *testing.T) {
	cfg := testConfig()
	cfg.Restore = "none"
	const m = 1
	rows, calls := runMember(t, cfg, m)
	if n := countKind(calls, "snapshot") + countKind(calls, "restore"); n != 0 {
		t.Fatalf("%d snapshot/restore calls with restore none", n)
	}
	// Weights are saved after every epoch and every perturbation.
	if n, want := countKind(calls, "save"), NumEdges*(cfg.ExpandEpochs+NumOps); n != want {
		t.Errorf("%d saves, want %d", n, want)
	}
	exact, _ := runMember(t, testConfig(), m)

	// Hand-run edge 3 on a fake.
	const e = 3
	w := newFakeWorld()
	edges := InitialCell(cfg, m)
	edges[e] = EdgeOps{Ops: AllOps, None: true}
	net, err := w.Build(BuildRequest{Edges: edges, Seed: derive(cfg.Seed, "expand/weights", m, e)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for k := 0; k < cfg.ExpandEpochs; k++ {
		if _, err := net.TrainEpoch(ctx, derive(cfg.Seed, "expand/epoch", m, e, k), schedule.Cosine(cfg.LR0/cfg.ExpandLRDiv, cfg.LRMin, k, cfg.ExpandEpochs), nil); err != nil {
			t.Fatal(err)
		}
	}
	a0, _ := net.Accuracy(ctx)
	for op := 0; op < NumOps; op++ {
		net.SetMask(e, op, false)
		net.FineTune(ctx, derive(cfg.Seed, "expand/finetune", m, e), cfg.expandSteps(), cfg.LRMin, nil)
		a1, _ := net.Accuracy(ctx)
		net.SetMask(e, op, true)
		r := rows[e*NumOps+op]
		if r.AccBefore != a0 || r.AccAfter != a1 {
			t.Errorf("edge %d op %d: acc %v -> %v, want the accumulated %v -> %v", e, op, r.AccBefore, r.AccAfter, a0, a1)
		}
		x := exact[e*NumOps+op]
		if same := x.AccAfter == r.AccAfter; same != (op == 0) {
			t.Errorf("edge %d op %d: restore none %v, exact %v: want equal only for the first target", e, op, r.AccAfter, x.AccAfter)
		}
	}
}

// TestRestoreNoneResumes: a member with restore none killed at many points
// and rerun ends with the rows of an uninterrupted one (the accumulated
// state is saved after every perturbation).
func TestRestoreNoneResumes(t *testing.T) {
	cfg := testConfig()
	cfg.Restore = "none"
	want, calls := runMember(t, cfg, 0)
	dir := testDir(t)
	for kill := 7; kill < len(calls); kill += len(calls) / 9 {
		w := newFakeWorld()
		w.failAt = kill
		if _, err := Member(context.Background(), opts(dir, cfg, w), 0); err == nil {
			break
		}
	}
	got, err := Member(context.Background(), opts(dir, cfg, newFakeWorld()), 0)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatal("resumed restore-none member differs from the uninterrupted one")
	}
}

// TestInitCellSep3 builds the documented network: every edge sep_conv_3x3
// alone (no none), the expanded edge all ops plus none.
func TestInitCellSep3(t *testing.T) {
	cfg := testConfig()
	cfg.InitCell = "sep3"
	sep3 := OpSetOf(genotype.OpIndex("sep_conv_3x3"))
	for m := 0; m < 2; m++ {
		for e, eo := range InitialCell(cfg, m) {
			if eo.Ops != sep3 || eo.None {
				t.Fatalf("member %d edge %d: %s none=%v, want sep_conv_3x3 alone", m, e, eo.Ops, eo.None)
			}
		}
	}
	_, calls := runMember(t, cfg, 1)
	e := 0
	for _, c := range calls {
		if c.Kind != "build" {
			continue
		}
		for f, eo := range c.Edges {
			want := EdgeOps{Ops: sep3}
			if f == e {
				want = EdgeOps{Ops: AllOps, None: true}
			}
			if eo != want {
				t.Fatalf("build %d edge %d: %+v, want %+v", e, f, eo, want)
			}
		}
		e++
	}
	if e != NumEdges {
		t.Fatalf("%d builds, want %d", e, NumEdges)
	}
}

// TestFinetunePlusOne counts the steps: N+1 in every phase.
func TestFinetunePlusOne(t *testing.T) {
	cfg := testConfig()
	cfg.FinetunePlusOne = true
	w := newFakeWorld()
	runSearch(t, testDir(t), cfg, w)
	want := map[int]int{cfg.FinetuneBase + cfg.ExpandExtra + 1: NumEdges * NumOps * cfg.Npop}
	got := map[int]int{}
	for _, c := range w.calls {
		if c.Kind == "finetune" {
			got[c.Steps]++
		}
	}
	if got[cfg.FinetuneBase+cfg.ExpandExtra+1] != want[cfg.FinetuneBase+cfg.ExpandExtra+1] {
		t.Errorf("expand fine-tunes of N+1 = %d steps: %d, want %d", cfg.FinetuneBase+cfg.ExpandExtra+1, got[cfg.FinetuneBase+cfg.ExpandExtra+1], want[cfg.FinetuneBase+cfg.ExpandExtra+1])
	}
	for _, n := range []int{cfg.FinetuneBase + cfg.FineExtra + 1, cfg.FinetuneBase + cfg.TopoExtra + 1} {
		if got[n] == 0 {
			t.Errorf("no fine-tune of %d steps (fine/topology N+1): %v", n, got)
		}
	}
	for _, n := range []int{cfg.expandSteps() - 1, cfg.fineSteps() - 1, cfg.topoSteps() - 1} {
		if got[n] != 0 {
			t.Errorf("%d fine-tunes of the configured %d steps, want none", got[n], n)
		}
	}
}

// TestFinetuneBatchesFresh: each target of a perturb-val gets its own data
// seed (a new pass over the data); by default they share one.
func TestFinetuneBatchesFresh(t *testing.T) {
	for _, fresh := range []bool{false, true} {
		cfg := testConfig()
		if fresh {
			cfg.FinetuneBatches = "fresh"
		}
		_, calls := runMember(t, cfg, 0)
		var seeds []uint64
		for _, c := range calls {
			if c.Kind == "finetune" {
				seeds = append(seeds, c.Seed)
			}
		}
		for e := 0; e < NumEdges; e++ {
			distinct := map[uint64]bool{}
			for _, s := range seeds[e*NumOps : (e+1)*NumOps] {
				distinct[s] = true
			}
			if want := map[bool]int{false: 1, true: NumOps}[fresh]; len(distinct) != want {
				t.Fatalf("fresh=%v edge %d: %d distinct data seeds over %d targets, want %d", fresh, e, len(distinct), NumOps, want)
			}
		}
	}
}

// TestGradScalerFresh: a fresh loss scaler at the start of every training
// run and every perturb-val (every target when the restore is exact).
func TestGradScalerFresh(t *testing.T) {
	for _, tc := range []struct {
		restore string
		want    int
	}{{"", NumEdges * (1 + NumOps)}, {"none", NumEdges * (1 + 1)}} {
		cfg := testConfig()
		cfg.GradScaler, cfg.Restore = "fresh", tc.restore
		_, calls := runMember(t, cfg, 0)
		if n := countKind(calls, "scaler"); n != tc.want {
			t.Errorf("restore %q: %d scaler resets, want %d", tc.restore, n, tc.want)
		}
		// The first reset of every edge comes before its first epoch.
		for i, c := range calls {
			if c.Kind == "build" && (calls[i+1].Kind != "scaler" || calls[i+2].Kind != "epoch") {
				t.Fatalf("restore %q: after build call %d come %s, %s; want scaler, epoch", tc.restore, i, calls[i+1].Kind, calls[i+2].Kind)
			}
		}
	}
	_, calls := runMember(t, testConfig(), 0)
	if n := countKind(calls, "scaler"); n != 0 {
		t.Errorf("default: %d scaler resets, want 0", n)
	}
}

// TestCompat: upstream sets every switch and run.json records them; the
// default writes none of the new keys (a default run.json is unchanged).
func TestCompat(t *testing.T) {
	cfg := Paper()
	b, _ := json.Marshal(cfg)
	for _, k := range []string{"restore", "init_cell", "finetune_batches", "finetune_plus_one", "translate_fill", "cutout", "normalise", "grad_scaler", "compat"} {
		if strings.Contains(string(b), `"`+k+`"`) {
			t.Errorf("default run.json has key %s: %s", k, b)
		}
	}
	if err := cfg.SetCompat(CompatDefault); err != nil || !reflect.DeepEqual(cfg, Paper()) {
		t.Fatalf("compat %s changed the config (%v)", CompatDefault, err)
	}
	if err := cfg.SetCompat(CompatUpstream); err != nil {
		t.Fatal(err)
	}
	want := Paper()
	want.Compat, want.ValSource, want.Restore, want.InitCell, want.FinetuneBatches, want.FinetunePlusOne = "upstream", "test", "none", "sep3", "fresh", true
	want.TranslateFill, want.Cutout, want.Normalise, want.GradScaler = "black", "ffcv", "ffcv", "fresh"
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("upstream config %+v, want %+v", cfg, want)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if d := Paper().Diff(cfg); len(d) != 10 {
		t.Errorf("run.json differs from the default in %d keys, want 10: %v", len(d), d)
	}
	if err := cfg.SetCompat("pytorch"); err == nil {
		t.Error("compat pytorch accepted")
	}
	cfg.Restore, cfg.Cutout = "sometimes", "none"
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), `restore = "sometimes"`) || !strings.Contains(err.Error(), `cutout = "none"`) {
		t.Errorf("bad switches: %v", err)
	}
}
