package pertnas

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"pertnas/formats/artifact"
	"pertnas/formats/genotype"
)

// testConfig is a small configuration whose counts differ between phases,
// so that a mixed-up count shows.
func testConfig() Config {
	c := Smoke()
	c.Npop = 2
	c.ExpandEpochs, c.CoarseEpochs, c.FineEpochs, c.TopoEpochs = 2, 3, 1, 2
	c.FinetuneBase, c.ExpandExtra, c.FineExtra, c.TopoExtra = 2, 1, 3, 5
	c.Seed = 7
	return c
}

// testDir is a fresh folder, on tmpfs where there is one: the search syncs
// every state file it writes, which a disk makes slow.
func testDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("/dev/shm", "pertnas-test-")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func opts(dir string, cfg Config, w *fakeWorld) Options {
	return Options{Dir: dir, Config: cfg, Builder: w}
}

// runSearch runs every member then the selection, uninterrupted.
func runSearch(t *testing.T, dir string, cfg Config, w *fakeWorld) *Result {
	t.Helper()
	ctx := context.Background()
	for m := 0; m < cfg.Npop; m++ {
		if _, err := Member(ctx, opts(dir, cfg, w), m); err != nil {
			t.Fatalf("member %d: %v", m, err)
		}
	}
	res, err := Select(ctx, opts(dir, cfg, w))
	if err != nil {
		t.Fatalf("select: %v", err)
	}
	return res
}

// algorithmic drops the calls that are bookkeeping (save, load, close).
func algorithmic(cs []call) []call {
	var out []call
	for _, c := range cs {
		switch c.Kind {
		case "save", "load", "close":
		default:
			out = append(out, c)
		}
	}
	return out
}

// walker checks a call sequence against the spec, step by step.
type walker struct {
	t     *testing.T
	calls []call
	i     int
}

func (w *walker) next(kind string) call {
	w.t.Helper()
	if w.i >= len(w.calls) {
		w.t.Fatalf("call %d: want %s, calls ended", w.i, kind)
	}
	c := w.calls[w.i]
	if c.Kind != kind {
		w.t.Fatalf("call %d: got %s %+v, want %s", w.i, c.Kind, c, kind)
	}
	w.i++
	return c
}

func (w *walker) end() {
	w.t.Helper()
	if w.i != len(w.calls) {
		w.t.Fatalf("%d calls after the last expected one, first %+v", len(w.calls)-w.i, w.calls[w.i])
	}
}

// train expects a fresh build of edges, then epochs epochs of the cosine
// schedule from lr0.
func (w *walker) train(edges EdgeConfig, epochs int, lr0, lrMin float64, seeds map[uint64]bool) {
	w.t.Helper()
	b := w.next("build")
	if b.Edges != edges {
		w.t.Fatalf("call %d: built %v, want %v", w.i-1, b.Edges, edges)
	}
	if seeds[b.Seed] {
		w.t.Fatalf("call %d: weight seed %d used twice", w.i-1, b.Seed)
	}
	seeds[b.Seed] = true
	for k := 0; k < epochs; k++ {
		c := w.next("epoch")
		want := lrMin + (lr0-lrMin)*(1+math.Cos(math.Pi*float64(k)/float64(epochs)))/2
		if math.Abs(c.LR-want) > 1e-15 {
			w.t.Fatalf("call %d: epoch %d lr %v, want %v", w.i-1, k, c.LR, want)
		}
		if k == 0 && math.Abs(c.LR-lr0) > 1e-15 {
			w.t.Fatalf("first epoch lr %v, want %v", c.LR, lr0)
		}
	}
}

// perturbVal expects perturb-val over targets and returns each target's
// accuracy after fine-tuning and the accuracy before.
func (w *walker) perturbVal(targets [][2]int, steps int, lr float64) (a0 float64, a1 []float64) {
	w.t.Helper()
	a0 = w.next("acc").Acc
	var seed uint64
	for i, tg := range targets {
		w.next("snapshot")
		m := w.next("mask")
		if m.Edge != tg[0] || m.Op != tg[1] || m.On {
			w.t.Fatalf("call %d: mask %+v, want edge %d op %d off", w.i-1, m, tg[0], tg[1])
		}
		f := w.next("finetune")
		if f.Steps != steps || math.Abs(f.LR-lr) > 1e-15 {
			w.t.Fatalf("call %d: fine-tune %d steps at %v, want %d at %v", w.i-1, f.Steps, f.LR, steps, lr)
		}
		if i == 0 {
			seed = f.Seed
		} else if f.Seed != seed {
			w.t.Fatalf("call %d: targets of one perturb-val fine-tune on different data", w.i-1)
		}
		a1 = append(a1, w.next("acc").Acc)
		m = w.next("mask")
		if m.Edge != tg[0] || m.Op != tg[1] || !m.On {
			w.t.Fatalf("call %d: mask %+v, want edge %d op %d back on", w.i-1, m, tg[0], tg[1])
		}
		w.next("restore")
	}
	return a0, a1
}

func TestMemberFollowsSpec(t *testing.T) {
	cfg := testConfig()
	w := newFakeWorld()
	dir := testDir(t)
	const m = 1
	rows, err := Member(context.Background(), opts(dir, cfg, w), m)
	if err != nil {
		t.Fatal(err)
	}
	init := InitialCell(cfg, m)
	for e, eo := range init {
		if eo.Ops.Len() != cfg.OpCap || !eo.None {
			t.Fatalf("initial edge %d = %+v, want %d op(s) + none", e, eo, cfg.OpCap)
		}
	}
	wk := &walker{t: t, calls: algorithmic(w.calls)}
	seeds := map[uint64]bool{}
	var want []ValuationRow
	for e := 0; e < NumEdges; e++ {
		edges := init
		edges[e] = EdgeOps{Ops: AllOps, None: true}
		wk.train(edges, cfg.ExpandEpochs, cfg.LR0/2.5, 0.001, seeds)
		var targets [][2]int
		for o := 0; o < NumOps; o++ {
			targets = append(targets, [2]int{e, o})
		}
		a0, a1 := wk.perturbVal(targets, cfg.FinetuneBase+cfg.ExpandExtra, 0.001)
		for o := range a1 {
			want = append(want, ValuationRow{Member: m, Edge: e, Op: o, AccBefore: a0, AccAfter: a1[o], Diff: a1[o] - a0})
		}
	}
	wk.end()
	if !reflect.DeepEqual(rows, want) {
		t.Fatalf("valuation rows differ from the perturbations")
	}
	got, err := ReadValuation(dir, m)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("valuation.arrow: %v", err)
	}
	// one save per epoch, no load in an uninterrupted run
	saves, loads := 0, 0
	for _, c := range w.calls {
		switch c.Kind {
		case "save":
			saves++
		case "load":
			loads++
		}
	}
	if saves != NumEdges*cfg.ExpandEpochs || loads != 0 {
		t.Fatalf("%d saves, %d loads; want %d, 0", saves, loads, NumEdges*cfg.ExpandEpochs)
	}
	var log []LogRow
	if err := artifact.ReadTable(filepath.Join(dir, "members", "1", "log.arrow"), &log); err != nil {
		t.Fatal(err)
	}
	if len(log) != MemberUnits(cfg) {
		t.Fatalf("log has %d rows, want %d", len(log), MemberUnits(cfg))
	}
	// epochs are numbered from 1 within each training, as in train-eval
	next := 1
	for i, r := range log {
		switch {
		case r.Kind == "epoch" && r.Epoch != next:
			t.Fatalf("log row %d: epoch %d, want %d", i, r.Epoch, next)
		case r.Kind == "epoch":
			next = r.Epoch%cfg.ExpandEpochs + 1
		case r.Epoch != -1:
			t.Fatalf("log row %d (%s): epoch %d, want -1", i, r.Kind, r.Epoch)
		}
	}
	ents, _ := os.ReadDir(filepath.Join(dir, "members", "1", "state"))
	if len(ents) != 1 || ents[0].Name() != "state.json" {
		t.Fatalf("state folder after completion holds %v", ents)
	}
}

func TestSelectFollowsSpec(t *testing.T) {
	cfg := testConfig()
	dir := testDir(t)
	ctx := context.Background()
	members := make([][]ValuationRow, cfg.Npop)
	for m := range members {
		var err error
		if members[m], err = Member(ctx, opts(dir, cfg, newFakeWorld()), m); err != nil {
			t.Fatal(err)
		}
	}
	w := newFakeWorld()
	res, err := Select(ctx, opts(dir, cfg, w))
	if err != nil {
		t.Fatal(err)
	}
	wk := &walker{t: t, calls: algorithmic(w.calls)}
	seeds := map[uint64]bool{}

	// phase 3: mean of the members
	for e := 0; e < NumEdges; e++ {
		for o := 0; o < NumOps; o++ {
			mean := (members[0][e*NumOps+o].Diff + members[1][e*NumOps+o].Diff) / 2
			if math.Abs(res.Mean[e][o]-mean) > 1e-15 {
				t.Fatalf("mean valuation [%d][%d] = %v, want %v", e, o, res.Mean[e][o], mean)
			}
		}
	}
	// phase 4: keep the 2 most negative + none
	var cell EdgeConfig
	for e := range cell {
		ops := []int{0, 1, 2, 3, 4, 5, 6}
		slices.SortFunc(ops, func(a, b int) int { return cmp.Compare(res.Mean[e][a], res.Mean[e][b]) })
		for _, o := range ops[2:] {
			if res.Mean[e][o] <= res.Mean[e][ops[1]] && o != ops[1] && res.Mean[e][o] == res.Mean[e][ops[1]] {
				t.Fatalf("edge %d: tie in the mean valuation; the fake should avoid ties", e)
			}
		}
		cell[e] = EdgeOps{Ops: OpSetOf(ops[0], ops[1]), None: true}
	}
	wk.train(cell, cfg.CoarseEpochs, cfg.LR0/3, 0.001, seeds)
	// phase 5
	order := []int{13, 12, 8, 11, 7, 4, 9, 10, 5, 6, 2, 3, 0, 1}
	for _, e := range order {
		ops := cell[e].Ops.List()
		if len(ops) != 2 {
			t.Fatalf("edge %d reaches fine selection with %d ops", e, len(ops))
		}
		a0, a1 := wk.perturbVal([][2]int{{e, ops[0]}, {e, ops[1]}}, cfg.FinetuneBase+cfg.FineExtra, 0.001)
		keep := ops[0]
		if a1[1]-a0 < a1[0]-a0 {
			keep = ops[1]
		}
		cell[e].Ops = OpSetOf(keep)
		wk.train(cell, cfg.FineEpochs, cfg.LR0/2.5, 0.001, seeds)
	}
	for e := range cell {
		cell[e].None = false
	}
	// phase 6
	nodeOrder := NodeOrder(cfg)
	if !reflect.DeepEqual(res.NodeOrder, nodeOrder) || !slices.Equal(slices.Sorted(slices.Values(nodeOrder)), []int{1, 2, 3}) {
		t.Fatalf("node order %v / %v", res.NodeOrder, nodeOrder)
	}
	for t2, node := range nodeOrder {
		wk.next("reset")
		var targets [][2]int
		for e := range cell {
			if ops := cell[e].Ops.List(); len(ops) == 1 {
				targets = append(targets, [2]int{e, ops[0]})
			}
		}
		a0, a1 := wk.perturbVal(targets, cfg.FinetuneBase+cfg.TopoExtra, cfg.LR0/2.5)
		diff := map[int]float64{}
		for i, tg := range targets {
			diff[tg[0]] = a1[i] - a0
		}
		in := NodeEdges(node)
		slices.SortFunc(in, func(a, b int) int { return cmp.Compare(diff[a], diff[b]) })
		for _, e := range in[2:] {
			cell[e].Ops = 0
		}
		if t2 < 2 {
			wk.train(cell, cfg.TopoEpochs, cfg.LR0/2.5, 0.001, seeds)
		}
	}
	wk.end()
	// phase 7
	var want []genotype.Pair
	for node := 0; node < 4; node++ {
		for _, e := range NodeEdges(node) {
			if ops := cell[e].Ops.List(); len(ops) == 1 {
				_, in := EdgeNode(e)
				want = append(want, genotype.Pair{Op: genotype.Ops[ops[0]], Input: in})
			}
		}
	}
	if !reflect.DeepEqual(res.Genotype.Normal, want) || !reflect.DeepEqual(res.Genotype.Reduce, want) {
		t.Fatalf("genotype %v, want normal = reduce = %v", res.Genotype.Repr(), want)
	}
	if err := res.Genotype.Validate(); err != nil {
		t.Fatal(err)
	}
	// selection.arrow holds every decision
	var sel []SelectionRow
	if err := artifact.ReadTable(filepath.Join(dir, "selection.arrow"), &sel); err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, r := range sel {
		count[r.Phase+"/"+r.Decision]++
	}
	wantCount := map[string]int{"coarse/keep": 28, "coarse/drop": 70, "fine/keep": 14, "fine/drop": 14,
		"topology/keep": 6, "topology/drop": 6}
	for k, v := range wantCount {
		if count[k] != v {
			t.Errorf("selection.arrow: %d %s rows, want %d", count[k], k, v)
		}
	}
	if n := count["topology/other"] + 12; n != len(algorithmicKind(w.calls, "finetune"))-28 {
		t.Errorf("topology rows %d, topology perturbations %d", n, len(algorithmicKind(w.calls, "finetune"))-28)
	}
	if !reflect.DeepEqual(sel, res.Rows) {
		t.Errorf("selection.arrow differs from the result's rows")
	}
}

func algorithmicKind(cs []call, kind string) []call {
	var out []call
	for _, c := range cs {
		if c.Kind == kind {
			out = append(out, c)
		}
	}
	return out
}

// TestDecisionsKeepImportantOps: with the fake, an op's accuracy cost when
// removed grows with its importance, so the search must end with each
// node's most important inputs and each edge's most important op.
func TestDecisionsKeepImportantOps(t *testing.T) {
	cfg := testConfig()
	res := runSearch(t, testDir(t), cfg, newFakeWorld())
	imp := fakeImportance()
	best := func(e int) int {
		b := 0
		for o := range imp[e] {
			if imp[e][o] > imp[e][b] {
				b = o
			}
		}
		return b
	}
	var want []genotype.Pair
	for node := 0; node < 4; node++ {
		in := NodeEdges(node)
		slices.SortFunc(in, func(a, b int) int { return -cmp.Compare(imp[a][best(a)], imp[b][best(b)]) })
		in = in[:2]
		slices.Sort(in)
		for _, e := range in {
			_, input := EdgeNode(e)
			want = append(want, genotype.Pair{Op: genotype.Ops[best(e)], Input: input})
		}
	}
	if !reflect.DeepEqual(res.Genotype.Normal, want) {
		t.Fatalf("genotype normal %v\nwant %v", res.Genotype.Normal, want)
	}
}

// artifactsOf reads the files that must not depend on interruptions.
func artifactsOf(t *testing.T, dir string, cfg Config) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	names := []string{"genotype.json", "genotype.py", "selection.arrow", "cell.svg", "run.json"}
	for m := 0; m < cfg.Npop; m++ {
		names = append(names, filepath.Join("members", string(rune('0'+m)), "valuation.arrow"))
	}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		out[n] = b
	}
	return out
}

func compareArtifacts(t *testing.T, a, b map[string][]byte) {
	t.Helper()
	for n := range a {
		if !bytes.Equal(a[n], b[n]) {
			t.Errorf("%s differs", n)
		}
	}
}

// TestResumeAfterKills kills the search over and over and reruns it, then
// compares the artifacts with an uninterrupted run's. Chain "every unit"
// kills each attempt at the first call after its first completed unit, so
// every unit is interrupted once; chain "mixed" kills at varying depths,
// including while a rerun rebuilds and loads its network.
func TestResumeAfterKills(t *testing.T) {
	cfg := testConfig()
	refDir := testDir(t)
	runSearch(t, refDir, cfg, newFakeWorld())
	ref := artifactsOf(t, refDir, cfg)
	units := cfg.Npop*MemberUnits(cfg) + SelectUnits(cfg)

	for _, chain := range []string{"every unit", "mixed"} {
		dir := testDir(t)
		kills, loads := 0, 0
		killedIn := map[[2]int]bool{}         // (job, unit in work when killed)
		for _, job := range []int{0, 1, -1} { // members, then select
			for attempt := 0; ; attempt++ {
				if attempt > 2*units {
					t.Fatalf("%s: job %d does not finish", chain, job)
				}
				w := newFakeWorld()
				start := journalLen(t, dir, job)
				off := 1
				if chain == "mixed" {
					off = 1 + attempt%7
					if attempt%3 == 2 {
						w.failAt = 1 + attempt%4 // while resuming
					}
				}
				o := opts(dir, cfg, w)
				o.Progress = func(p Progress) {
					if p.Steps == 0 && p.Done == start+1 && w.failAt == 0 {
						w.failAt = w.n + off
					}
				}
				if start == 0 && attempt == 0 {
					w.failAt = 1
				}
				var err error
				if job >= 0 {
					_, err = Member(context.Background(), o, job)
				} else {
					_, err = Select(context.Background(), o)
				}
				loads += len(algorithmicKind(w.calls, "load"))
				if err == nil {
					break
				}
				if !errors.Is(err, errInjected) {
					t.Fatalf("%s: job %d attempt %d: %v", chain, job, attempt, err)
				}
				kills++
				killedIn[[2]int{job, journalLen(t, dir, job)}] = true
			}
		}
		if chain == "every unit" && len(killedIn) != units {
			t.Fatalf("%s: kills hit %d of %d units", chain, len(killedIn), units)
		}
		if loads == 0 {
			t.Fatalf("%s: no rerun loaded saved weights", chain)
		}
		compareArtifacts(t, ref, artifactsOf(t, dir, cfg))
		t.Logf("%s: %d kills in %d of %d units, %d weight loads", chain, kills, len(killedIn), units, loads)
	}
}

// journalLen is the number of completed units of a job (-1: select).
func journalLen(t *testing.T, dir string, job int) int {
	path := filepath.Join(dir, "select", "state", "state.json")
	if job >= 0 {
		path = filepath.Join(dir, "members", fmt.Sprint(job), "state", "state.json")
	}
	var st stateFile
	if err := artifact.ReadJSON(path, &st); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return 0
		}
		t.Fatal(err)
	}
	return len(st.Journal)
}

// TestResumeSingleKill kills each job once at a seeded sample of calls.
func TestResumeSingleKill(t *testing.T) {
	cfg := testConfig()
	refDir := testDir(t)
	w0 := newFakeWorld()
	runSearch(t, refDir, cfg, w0)
	ref := artifactsOf(t, refDir, cfg)
	total := w0.n
	rng := rngFor(1, "test")
	ctx := context.Background()
	for i := 0; i < 4; i++ {
		at := 1 + rng.IntN(total)
		dir := testDir(t)
		w := newFakeWorld()
		w.failAt = at
		killed := false
		for m := 0; m < cfg.Npop; m++ {
			if _, err := Member(ctx, opts(dir, cfg, w), m); err != nil {
				if !errors.Is(err, errInjected) || killed {
					t.Fatal(err)
				}
				killed = true
				w.failAt = 0
				if _, err := Member(ctx, opts(dir, cfg, w), m); err != nil {
					t.Fatal(err)
				}
			}
		}
		if _, err := Select(ctx, opts(dir, cfg, w)); err != nil {
			if !errors.Is(err, errInjected) || killed {
				t.Fatal(err)
			}
			killed = true
			w.failAt = 0
			if _, err := Select(ctx, opts(dir, cfg, w)); err != nil {
				t.Fatal(err)
			}
		}
		if !killed {
			t.Fatalf("kill at call %d of %d did not happen", at, total)
		}
		compareArtifacts(t, ref, artifactsOf(t, dir, cfg))
	}
}

func TestCancelledContext(t *testing.T) {
	cfg := testConfig()
	dir := testDir(t)
	ctx, cancel := context.WithCancel(context.Background())
	w := newFakeWorld()
	n := 0
	o := opts(dir, cfg, w)
	o.Progress = func(p Progress) {
		if p.Steps == 0 {
			n++
			if n == 20 {
				cancel()
			}
		}
	}
	if _, err := Member(ctx, o, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled member: %v", err)
	}
	if _, err := Member(context.Background(), opts(dir, cfg, newFakeWorld()), 0); err != nil {
		t.Fatal(err)
	}
}

func TestRerunCompleteIsNoOp(t *testing.T) {
	cfg := testConfig()
	dir := testDir(t)
	runSearch(t, dir, cfg, newFakeWorld())
	before := artifactsOf(t, dir, cfg)
	w := newFakeWorld()
	runSearch(t, dir, cfg, w)
	if len(w.calls) != 0 {
		t.Fatalf("rerunning a complete search made %d model calls", len(w.calls))
	}
	compareArtifacts(t, before, artifactsOf(t, dir, cfg))
}

func TestSeeds(t *testing.T) {
	cfg := testConfig()
	a, b, c := testDir(t), testDir(t), testDir(t)
	runSearch(t, a, cfg, newFakeWorld())
	runSearch(t, b, cfg, newFakeWorld())
	compareArtifacts(t, artifactsOf(t, a, cfg), artifactsOf(t, b, cfg))
	cfg2 := cfg
	cfg2.Seed++
	runSearch(t, c, cfg2, newFakeWorld())
	va, _ := ReadValuation(a, 0)
	vc, _ := ReadValuation(c, 0)
	if reflect.DeepEqual(va, vc) {
		t.Fatal("different seeds gave the same valuation")
	}
	if InitialCell(cfg, 0) == InitialCell(cfg2, 0) && InitialCell(cfg, 1) == InitialCell(cfg2, 1) {
		t.Fatal("different seeds gave the same initial cells")
	}
	if InitialCell(cfg, 0) == InitialCell(cfg, 1) {
		t.Fatal("members 0 and 1 start from the same cell")
	}
}

func TestOutputs(t *testing.T) {
	cfg := testConfig()
	dir := testDir(t)
	res := runSearch(t, dir, cfg, newFakeWorld())
	b, _ := os.ReadFile(filepath.Join(dir, "genotype.json"))
	g, err := genotype.ParseJSON(b)
	if err != nil || !g.Equal(res.Genotype) {
		t.Fatalf("genotype.json: %v", err)
	}
	py, _ := os.ReadFile(filepath.Join(dir, "genotype.py"))
	if !strings.Contains(string(py), "\nPERTNAS = Genotype(") {
		t.Fatalf("genotype.py lacks the assignment:\n%s", py)
	}
	g2, err := genotype.ParseRepr(string(py))
	if err != nil || !g2.Equal(res.Genotype) {
		t.Fatalf("genotype.py: %v", err)
	}
	var sum Summary
	if err := artifact.ReadJSON(filepath.Join(dir, "search.json"), &sum); err != nil {
		t.Fatal(err)
	}
	phases := map[string]PhaseCost{}
	for _, p := range sum.Phases {
		phases[p.Phase] = p
	}
	checks := []struct {
		phase                 string
		epochs, perturbs, fts int
	}{
		{"expand", cfg.Npop * NumEdges * cfg.ExpandEpochs, cfg.Npop * NumEdges * NumOps, cfg.Npop * NumEdges * NumOps * (cfg.FinetuneBase + cfg.ExpandExtra)},
		{"coarse", cfg.CoarseEpochs, 0, 0},
		{"fine", NumEdges * cfg.FineEpochs, 2 * NumEdges, 2 * NumEdges * (cfg.FinetuneBase + cfg.FineExtra)},
	}
	for _, c := range checks {
		p := phases[c.phase]
		if p.Epochs != c.epochs || p.Perturbations != c.perturbs || p.FinetuneSteps != c.fts {
			t.Errorf("search.json %s: %+v, want %d epochs, %d perturbations, %d fine-tune steps", c.phase, p, c.epochs, c.perturbs, c.fts)
		}
	}
	if p := phases["topology"]; p.Epochs != 2*cfg.TopoEpochs || p.Builds != 2 {
		t.Errorf("search.json topology: %+v", p)
	}
	// the plan predicts the counts exactly (the fake's epoch is 4 steps)
	for _, want := range Plan(cfg, 4) {
		got := phases[want.Phase]
		got.Seconds = 0
		if got != want {
			t.Errorf("phase %s: ran %+v, planned %+v", want.Phase, got, want)
		}
	}
	if len(sum.Members) != cfg.Npop || sum.Config != cfg || !reflect.DeepEqual(sum.NodeOrder, res.NodeOrder) {
		t.Errorf("search.json: %+v", sum)
	}
	svg, _ := os.ReadFile(filepath.Join(dir, "cell.svg"))
	if !bytes.Equal(svg, CellSVG(res.Genotype.Normal, "PertNAS cell (normal = reduce), seed 7")) {
		t.Errorf("cell.svg is not the genotype's drawing")
	}
}

func TestClaimRun(t *testing.T) {
	dir := testDir(t)
	cfg := testConfig()
	if err := ClaimRun(dir, cfg); err != nil {
		t.Fatal(err)
	}
	if err := ClaimRun(dir, cfg); err != nil {
		t.Fatalf("same configuration refused: %v", err)
	}
	dev := cfg
	dev.Device = "cuda:1"
	if err := ClaimRun(dir, dev); err != nil {
		t.Fatalf("another device refused: %v", err)
	}
	other := cfg
	other.Npop = 3
	other.LR0 = 0.1
	err := ClaimRun(dir, other)
	if err == nil || !strings.Contains(err.Error(), "npop: 2 -> 3") || !strings.Contains(err.Error(), "lr0: 0.2176 -> 0.1") || !strings.Contains(err.Error(), dir) {
		t.Fatalf("different configuration: %v", err)
	}
	if _, err := Member(context.Background(), opts(dir, other, newFakeWorld()), 0); err == nil {
		t.Fatal("member with another configuration ran")
	}
	if _, err := Select(context.Background(), opts(dir, other, newFakeWorld())); err == nil {
		t.Fatal("select with another configuration ran")
	}
	bad := cfg
	bad.ValSource = "val"
	if err := ClaimRun(testDir(t), bad); err == nil || !strings.Contains(err.Error(), "val_source") {
		t.Fatalf("invalid configuration: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "run.json"), []byte(`{"npop": 2, "typo": 1}`), 0o644)
	if err := ClaimRun(dir, cfg); err == nil || !strings.Contains(err.Error(), "run.json") {
		t.Fatalf("corrupt run.json: %v", err)
	}
}

func TestSelectNeedsMembers(t *testing.T) {
	cfg := testConfig()
	cfg.Npop = 3
	dir := testDir(t)
	if _, err := Member(context.Background(), opts(dir, cfg, newFakeWorld()), 1); err != nil {
		t.Fatal(err)
	}
	_, err := Select(context.Background(), opts(dir, cfg, newFakeWorld()))
	if err == nil || !strings.Contains(err.Error(), "members [0 2]") {
		t.Fatalf("select without members: %v", err)
	}
	if _, err := Member(context.Background(), opts(dir, cfg, newFakeWorld()), 3); err == nil {
		t.Fatal("member index npop accepted")
	}
}

func TestResumeRefusesForeignState(t *testing.T) {
	cfg := testConfig()
	dir := testDir(t)
	w := newFakeWorld()
	w.failAt = 40
	if _, err := Member(context.Background(), opts(dir, cfg, w), 0); !errors.Is(err, errInjected) {
		t.Fatal(err)
	}
	// same run.json, but the member's state was made with other settings
	st := filepath.Join(dir, "members", "0", "state", "state.json")
	b, _ := os.ReadFile(st)
	os.WriteFile(st, bytes.Replace(b, []byte(`"phase": "expand"`), []byte(`"phase": "other"`), 1), 0o644)
	_, err := Member(context.Background(), opts(dir, cfg, newFakeWorld()), 0)
	if err == nil || !strings.Contains(err.Error(), "state.json") {
		t.Fatalf("foreign state: %v", err)
	}
	os.WriteFile(st, []byte("{"), 0o644)
	if _, err := Member(context.Background(), opts(dir, cfg, newFakeWorld()), 0); err == nil || !strings.Contains(err.Error(), "state.json") {
		t.Fatalf("corrupt state: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, name := range []string{"paper", "smoke"} {
		c, err := Preset(name)
		if err != nil || c.Validate() != nil {
			t.Fatalf("preset %s: %v %v", name, err, c.Validate())
		}
	}
	p := Paper()
	if p.Npop != 4 || p.OpCap != 1 || p.ExpandEpochs != 5 || p.FinetuneBase+p.ExpandExtra != 70 || p.FinetuneBase+p.FineExtra != 130 ||
		p.FinetuneBase+p.TopoExtra != 180 || p.LR0 != 0.2176 || p.LRMin != 0.001 || p.BatchSize != 256 || p.Layers != 5 ||
		p.Channels != 16 || p.CoarseLRDiv != 3 || p.ExpandLRDiv != 2.5 || p.ValFraction != 0.1 || p.ValSource != "train" {
		t.Fatalf("paper preset %+v does not match docs/spec/pertnas.md", p)
	}
	c := Paper()
	c.Npop, c.Channels, c.LRMin = 0, 15, -1
	err := c.Validate()
	for _, k := range []string{"npop", "channels", "lr_min"} {
		if err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("Validate: %v lacks %s", err, k)
		}
	}
	if _, err := Preset("huge"); err == nil {
		t.Error("unknown preset accepted")
	}
}

func TestEdgeNode(t *testing.T) {
	want := [][2]int{{0, 0}, {0, 1}, {1, 0}, {1, 1}, {1, 2}, {2, 0}, {2, 1}, {2, 2}, {2, 3}, {3, 0}, {3, 1}, {3, 2}, {3, 3}, {3, 4}}
	for e, w := range want {
		n, in := EdgeNode(e)
		if n != w[0] || in != w[1] {
			t.Fatalf("edge %d: node %d input %d", e, n, in)
		}
	}
	if !slices.Equal(NodeEdges(3), []int{9, 10, 11, 12, 13}) {
		t.Fatal(NodeEdges(3))
	}
}

func TestSelectUnits(t *testing.T) {
	cfg := testConfig()
	dir := testDir(t)
	var last Progress
	o := opts(dir, cfg, newFakeWorld())
	for m := 0; m < cfg.Npop; m++ {
		if _, err := Member(context.Background(), o, m); err != nil {
			t.Fatal(err)
		}
	}
	o.Progress = func(p Progress) { last = p }
	if _, err := Select(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if last.Done != SelectUnits(cfg) || last.Total != last.Done || last.Job != "select" {
		t.Fatalf("last progress %+v, planned %d units", last, SelectUnits(cfg))
	}
}

func TestRunParallelMatchesJobs(t *testing.T) {
	cfg := testConfig()
	cfg.Npop = 3
	a, b := testDir(t), testDir(t)
	runSearch(t, a, cfg, newFakeWorld())
	var mu sync.Mutex
	workers := map[int]bool{}
	o := opts(b, cfg, newFakeWorld())
	o.Builder = builderFunc(func(req BuildRequest) (Supernet, error) {
		mu.Lock()
		workers[req.Worker] = true
		mu.Unlock()
		return newFakeWorld().Build(req)
	})
	if _, err := Run(context.Background(), o, 2); err != nil {
		t.Fatal(err)
	}
	compareArtifacts(t, artifactsOf(t, a, cfg), artifactsOf(t, b, cfg))
	if !workers[0] || !workers[1] || len(workers) != 2 {
		t.Fatalf("workers used: %v", workers)
	}
}

type builderFunc func(BuildRequest) (Supernet, error)

func (f builderFunc) Build(r BuildRequest) (Supernet, error) { return f(r) }
