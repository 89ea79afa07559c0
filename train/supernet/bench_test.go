package supernet

import (
	"context"
	"flag"
	"testing"
	"time"

	"pertnas/formats/artifact"
	"pertnas/pertnas"
)

// Benchmarks (run with -benchtime=1x; each iteration is a whole measurement):
//
//	go test -run '^$' -bench 'PaperCost|SmokeSearch' -benchtime=1x ./train/supernet/
//
// BenchmarkPaperCost times training steps and validation passes of the
// paper preset's networks (L=5, C=16, batch 256, 32x32 images) and
// extrapolates each phase's cost from the published counts.
// BenchmarkSmokeSearch runs the smoke preset end to end.

// benchBatch is the batch of BenchmarkPaperCost's measurements (the paper's
// 256 needs several GB of memory on the CPU backend; images/s hardly depend
// on the batch beyond a few dozen images): go test ... -args -batch 64.
var benchBatch = flag.Int("batch", 256, "BenchmarkPaperCost: training and validation batch")

// costNet is one of the networks a search trains.
type costNet struct {
	name  string
	edges pertnas.EdgeConfig
}

func paperNets() []costNet {
	expand := pertnas.InitialCell(pertnas.Paper(), 0)
	expand[0] = pertnas.EdgeOps{Ops: pertnas.AllOps, None: true}
	var coarse, single pertnas.EdgeConfig
	for e := range coarse {
		// A typical selection keeps the separable convolutions.
		coarse[e] = pertnas.EdgeOps{Ops: pertnas.OpSetOf(3, 4), None: true}
		single[e] = pertnas.EdgeOps{Ops: pertnas.OpSetOf(3)}
	}
	return []costNet{{"expand", expand}, {"coarse", coarse}, {"single", single}}
}

// throughput measures training and evaluation images per second of a net.
func throughput(b *testing.B, bl *Builder, edges pertnas.EdgeConfig) (train, eval float64) {
	n, err := bl.build(pertnas.BuildRequest{Edges: edges, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	ctx := context.Background()
	// Warm up: the first step allocates the tape's memory.
	if _, err := n.FineTune(ctx, 1, 1, 0.05, nil); err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	st, err := n.TrainEpoch(ctx, 2, 0.05, nil)
	if err != nil {
		b.Fatal(err)
	}
	train = float64(st.Steps*bl.opt.BatchSize) / time.Since(t0).Seconds()
	t0 = time.Now()
	if _, err := n.Accuracy(ctx); err != nil {
		b.Fatal(err)
	}
	eval = float64(len(bl.valIDs)) / time.Since(t0).Seconds()
	return train, eval
}

func BenchmarkPaperCost(b *testing.B) {
	dir := b.TempDir()
	bs := *benchBatch
	writeDataset(b, dir, 2*bs, bs, 32, 1)
	o := FromConfig(pertnas.Paper(), pertnas.Env{Data: dir})
	o.BatchSize = bs
	o.ValSource = "test" // two training steps, one validation batch
	bl, err := New(o)
	if err != nil {
		b.Fatal(err)
	}
	defer bl.Close()
	for b.Loop() {
		rate := map[string][2]float64{}
		for _, cn := range paperNets() {
			tr, ev := throughput(b, bl, cn.edges)
			rate[cn.name] = [2]float64{tr, ev}
			b.ReportMetric(tr, cn.name+"-train-img/s")
			b.ReportMetric(ev, cn.name+"-eval-img/s")
		}
		// Published counts: 45k training images per epoch, 5k validation
		// images, batch 256 (docs/spec/pertnas.md).
		const epochImgs, valImgs, batch = 45000.0, 5000.0, 256.0
		cost := func(net string, epochs, finetuneSteps, evals float64) float64 {
			r := rate[net]
			return (epochs*epochImgs+finetuneSteps*batch)/r[0] + evals*valImgs/r[1]
		}
		cfg := pertnas.Paper()
		p2 := 14 * cost("expand", 5, 7*float64(cfg.FinetuneBase+cfg.ExpandExtra), 8)
		p4 := cost("coarse", 5, 0, 0)
		// Phase 5 moves from two ops per edge to one: the mean of both.
		p5 := 14 * (cost("coarse", 5, 2*float64(cfg.FinetuneBase+cfg.FineExtra), 3) + cost("single", 5, 2*float64(cfg.FinetuneBase+cfg.FineExtra), 3)) / 2
		// Phase 6 perturbs every edge still holding an op: 14, then fewer as
		// nodes drop inputs (35 perturbations in the smoke run).
		p6 := cost("single", 10, 35*float64(cfg.FinetuneBase+cfg.TopoExtra), 3+35)
		b.ReportMetric(p2/3600, "phase2-member-h")
		b.ReportMetric((p4+p5+p6)/3600, "phases4-6-h")
		b.Logf("phase 2 per member %.1f h; phase 4 %.1f h, phase 5 %.1f h, phase 6 %.1f h; search with %d members in sequence %.1f h",
			p2/3600, p4/3600, p5/3600, p6/3600, cfg.Npop, (float64(cfg.Npop)*p2+p4+p5+p6)/3600)
		for _, cn := range paperNets() {
			b.Logf("%-7s train %.1f img/s, eval %.1f img/s (%s)", cn.name, rate[cn.name][0], rate[cn.name][1], cn.edges)
		}
	}
}

func BenchmarkSmokeSearch(b *testing.B) {
	data := b.TempDir()
	// 10% of 1500 held out: 150 >= the 128 validation images; 1350 >= 256.
	writeDataset(b, data, 1500, 128, 32, 1)
	cfg := pertnas.Smoke()
	bl, err := Open(cfg, pertnas.Env{Data: data})
	if err != nil {
		b.Fatal(err)
	}
	defer bl.(*Builder).Close()
	for b.Loop() {
		dir := b.TempDir()
		ctx := context.Background()
		t0 := time.Now()
		for m := range cfg.Npop {
			if _, err := pertnas.Member(ctx, pertnas.Options{Dir: dir, Config: cfg, Builder: bl}, m); err != nil {
				b.Fatal(err)
			}
		}
		members := time.Since(t0)
		res, err := pertnas.Select(ctx, pertnas.Options{Dir: dir, Config: cfg, Builder: bl})
		if err != nil {
			b.Fatal(err)
		}
		total := time.Since(t0)
		var sum pertnas.Summary
		if err := artifact.ReadJSON(dir+"/search.json", &sum); err != nil {
			b.Fatal(err)
		}
		for _, p := range sum.Phases {
			b.Logf("%-8s %6.1f s  %3d epochs %4d train steps %3d evaluations %3d perturbations %4d fine-tune steps",
				p.Phase, p.Seconds, p.Epochs, p.TrainSteps, p.Evaluations, p.Perturbations, p.FinetuneSteps)
		}
		b.Logf("members (%d, in sequence) %.1f s, selection %.1f s, genotype %v", cfg.Npop, members.Seconds(), (total - members).Seconds(), res.Genotype.Normal)
		b.ReportMetric(total.Seconds(), "search-s")
		b.ReportMetric(members.Seconds()/float64(cfg.Npop), "member-s")
	}
}
