package supernet

import (
	"context"
	"errors"
	"math"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"pertnas/formats/artifact"
	"pertnas/formats/genotype"
	"pertnas/pertnas"
	"pertnas/train"
)

// tinySearch is the smoke preset shrunk further for the tests: a 3-cell,
// 4-channel network on 8x8 images, 32 training images (two batches of 16)
// and 16 validation images, one or two fine-tune steps per perturbation.
func tinySearch() pertnas.Config {
	c := pertnas.Smoke()
	c.Layers, c.Channels = 3, 4
	c.BatchSize = 16
	c.TrainImages, c.ValImages = 32, 16
	c.FinetuneBase, c.ExpandExtra, c.FineExtra, c.TopoExtra = 1, 0, 0, 1
	c.ValFraction = 0.2
	c.Seed = 11
	return c
}

// search runs the members side by side (one goroutine each, Worker = the
// member index), then the selection. cancelAt, when positive, cancels
// every job after that many progress reports of the job, once, and reruns
// it: the rerun resumes from the job's saved state.
func search(t *testing.T, dir string, cfg pertnas.Config, b pertnas.Builder, cancelAt int) (*pertnas.Result, [][]pertnas.ValuationRow) {
	t.Helper()
	job := func(worker int, f func(context.Context, pertnas.Options) error) error {
		for attempt := 0; ; attempt++ {
			ctx, cancel := context.WithCancel(context.Background())
			var reports atomic.Int64
			o := pertnas.Options{Dir: dir, Config: cfg, Builder: b, Worker: worker, Progress: func(pertnas.Progress) {
				if cancelAt > 0 && attempt == 0 && reports.Add(1) == int64(cancelAt) {
					cancel()
				}
			}}
			err := f(ctx, o)
			cancel()
			if attempt == 0 && cancelAt > 0 {
				if !errors.Is(err, context.Canceled) {
					return errors.Join(errors.New("the job was not interrupted"), err)
				}
				continue
			}
			return err
		}
	}
	vals := make([][]pertnas.ValuationRow, cfg.Npop)
	errs := make([]error, cfg.Npop)
	var wg sync.WaitGroup
	for m := range cfg.Npop {
		wg.Go(func() {
			errs[m] = job(m, func(ctx context.Context, o pertnas.Options) (err error) {
				vals[m], err = pertnas.Member(ctx, o, m)
				return err
			})
		})
	}
	wg.Wait()
	for m, err := range errs {
		if err != nil {
			t.Fatalf("member %d: %v", m, err)
		}
	}
	var res *pertnas.Result
	err := job(0, func(ctx context.Context, o pertnas.Options) (err error) {
		res, err = pertnas.Select(ctx, o)
		return err
	})
	if err != nil {
		t.Fatalf("select: %v", err)
	}
	return res, vals
}

// openTiny opens tinySearch's Builder over a small generated dataset (120
// training and 16 test images of 8x8), closed at the end of the test.
func openTiny(t *testing.T) (pertnas.Config, pertnas.Builder) {
	t.Helper()
	data := t.TempDir()
	writeDataset(t, data, 120, 16, 8, 5)
	cfg := tinySearch()
	b, err := Open(cfg, pertnas.Env{Data: data, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.(*Builder).Close() })
	return cfg, b
}

// TestSearchEndToEnd runs the PertNAS algorithm with this Builder: members
// in parallel, then the selection; the valuations must be real
// measurements and the result a valid genotype.
func TestSearchEndToEnd(t *testing.T) {
	cfg, b := openTiny(t)
	dir := t.TempDir()
	res, vals := search(t, dir, cfg, b, 0)

	distinct := map[float64]bool{}
	for m, rows := range vals {
		if len(rows) != pertnas.NumEdges*pertnas.NumOps {
			t.Fatalf("member %d: %d valuation rows", m, len(rows))
		}
		for _, r := range rows {
			if math.IsNaN(r.Diff) || r.AccBefore < 0 || r.AccBefore > 1 || r.AccAfter < 0 || r.AccAfter > 1 {
				t.Fatalf("member %d: bad valuation row %+v", m, r)
			}
			distinct[r.Diff] = true
		}
	}
	if len(distinct) < 3 {
		t.Fatalf("the perturbations measured %d distinct diffs: %v", len(distinct), distinct)
	}
	if err := res.Genotype.Validate(); err != nil {
		t.Fatal(err)
	}
	var onDisk genotype.Genotype
	if err := artifact.ReadJSON(pertnas.GenotypePath(dir), &onDisk); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(onDisk.Normal, res.Genotype.Normal) {
		t.Fatalf("genotype.json %v, result %v", onDisk.Normal, res.Genotype.Normal)
	}
	t.Logf("genotype %v", res.Genotype.Normal)

	if testing.Short() {
		return
	}
	// Killed (cancelled) in the middle of every job and rerun: the same
	// numbers as uninterrupted, which needs Save/Load and the data order
	// to be exact.
	dir2 := t.TempDir()
	res2, vals2 := search(t, dir2, cfg, b, 40)
	if !reflect.DeepEqual(vals, vals2) {
		t.Fatal("interrupted members give other valuations")
	}
	if !reflect.DeepEqual(res.Rows, res2.Rows) || !reflect.DeepEqual(res.Genotype, res2.Genotype) {
		t.Fatal("interrupted selection gives other decisions")
	}
}

// nanLR builds networks whose training epochs run at a NaN learning rate:
// the first step makes every weight NaN, the second step's loss is NaN.
type nanLR struct{ pertnas.Builder }

func (b nanLR) Build(req pertnas.BuildRequest) (pertnas.Supernet, error) {
	s, err := b.Builder.Build(req)
	return nanLRNet{s}, err
}

type nanLRNet struct{ pertnas.Supernet }

func (n nanLRNet) TrainEpoch(ctx context.Context, dataSeed uint64, _ float64, tick func(step, steps int)) (pertnas.EpochStats, error) {
	return n.Supernet.TrainEpoch(ctx, dataSeed, math.NaN(), tick)
}

// TestSearchDivergence: a non-finite loss stops the member with an error
// naming the member, the unit and the step (a *train.DivergenceError), not
// a search that trains on with NaN weights; the rerun resumes from the saved
// state and stops at the same place.
func TestSearchDivergence(t *testing.T) {
	cfg, b := openTiny(t)
	dir := t.TempDir()
	var msgs []string
	for range 2 {
		_, err := pertnas.Member(context.Background(), pertnas.Options{Dir: dir, Config: cfg, Builder: nanLR{b}, Worker: 0}, 1)
		var de *train.DivergenceError
		if !errors.As(err, &de) || de.Epoch != -1 || de.Step != 1 || !strings.HasPrefix(err.Error(), "member 1: ") ||
			!strings.HasSuffix(err.Error(), "supernet: train epoch: training diverged at step 1: loss is NaN") {
			t.Fatalf("got %v, want member 1 to diverge at step 1", err)
		}
		msgs = append(msgs, err.Error())
	}
	if msgs[0] != msgs[1] {
		t.Fatalf("the rerun stops elsewhere: %q, then %q", msgs[0], msgs[1])
	}
	t.Log(msgs[0])
}
