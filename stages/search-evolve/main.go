// Command search-evolve runs the PertNAS search (spec/pertnas.md) over one
// run folder: "member --index I" runs phases 1-2 for one population member,
// "select" runs phases 3-7 once every member is done, "run" does both in one
// process. Every job resumes from its saved state when rerun. Exit status:
// 0 done, 1 failure at run time, 2 bad input (flags, configuration, a run
// folder started with another configuration).
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/alecthomas/kong"

	"pertnas/formats/artifact"
	"pertnas/internal/stage"
	"pertnas/pertnas"
)

// common are the flags of every subcommand. A hyperparameter flag left out
// takes the preset's value.
type common struct {
	RunDir    string `name:"run" help:"Run folder (created if missing; its run.json pins the configuration)." required:"" placeholder:"DIR"`
	Data      string `help:"Dataset folder (the output of convert-cifar)." required:"" placeholder:"DIR"`
	Preset    string `help:"Base configuration: ${enum} (paper: the published one; smoke: every phase in minutes on 2 CPU cores)." enum:"paper,smoke" default:"paper"`
	Device    string `help:"Device: cpu, auto (the GPU when usable, else the CPU), cuda or cuda:N (may differ between the jobs of a run)." default:"cpu"`
	Threads   int    `help:"CPU threads (0: all); never changes a result." default:"0"`
	Precision string `help:"GPU arithmetic: fp32, tf32 (TF32 tensor cores), fp16 (mixed precision with loss scaling) or bf16 (mixed precision); pinned in run.json. The CPU runs fp32." enum:"fp32,tf32,fp16,bf16" default:"fp32"`

	Npop         *int     `help:"Population size [paper 4]."`
	OpCap        *int     `name:"op-cap" help:"Ops per edge in a member's initial cell [1]."`
	ExpandEpochs *int     `help:"Phase 2: training epochs per expanded edge [5]."`
	CoarseEpochs *int     `help:"Phase 4: training epochs [5]."`
	FineEpochs   *int     `help:"Phase 5: training epochs after each edge [5]."`
	TopoEpochs   *int     `help:"Phase 6: training epochs after each node but the last [5]."`
	FinetuneBase *int     `help:"Fine-tune steps of every perturbation [50]."`
	ExpandExtra  *int     `help:"Extra fine-tune steps in phase 2 [20]."`
	FineExtra    *int     `help:"Extra fine-tune steps in phase 5 [80]."`
	TopoExtra    *int     `help:"Extra fine-tune steps in phase 6 [130]."`
	CoarseKeep   *int     `help:"Ops per edge kept by coarse selection [2]."`
	Lr0          *float64 `name:"lr0" help:"Base learning rate [0.2176]."`
	ExpandLrDiv  *float64 `name:"expand-lr-div" help:"Phase 2 trains at lr0/this [2.5]."`
	CoarseLrDiv  *float64 `name:"coarse-lr-div" help:"Phase 4 trains at lr0/this [3]."`
	FineLrDiv    *float64 `name:"fine-lr-div" help:"Phase 5 trains at lr0/this [2.5]."`
	TopoLrDiv    *float64 `name:"topo-lr-div" help:"Phase 6 fine-tunes (fresh SGD) and trains at lr0/this [2.5]."`
	LrMin        *float64 `name:"lr-min" help:"Floor of the cosine schedule [0.001]."`
	FinetuneLr   *float64 `name:"finetune-lr" help:"Fine-tune lr of phases 2 and 5; 0: the final lr of the preceding training, as published [0]."`
	Momentum     *float64 `help:"SGD momentum [0.9]."`
	WeightDecay  *float64 `help:"SGD weight decay [3e-4]."`
	BatchSize    *int     `help:"Batch size [256]."`
	Layers       *int     `help:"Cells of the search network [5]."`
	Channels     *int     `help:"Initial channels of the search network [16]."`
	ValSource    *string  `help:"Validation split: train (a seeded part of the training set) or test (the CIFAR test set, as the published script did; biased, for comparison only) [train]." enum:"train,test"`
	ValFraction  *float64 `help:"Share of the training set held out for validation with --val-source train [0.1]."`
	TrainImages  *int     `help:"Use only this many training images (0: all) [smoke 256]."`
	ValImages    *int     `help:"Use only this many validation images (0: all) [smoke 128]."`
	Seed         *uint64  `help:"Run seed: every random choice derives from it [1]."`
}

// config is the preset with the flags given on top.
func (c *common) config() (pertnas.Config, error) {
	cfg, err := pertnas.Preset(c.Preset)
	if err != nil {
		return cfg, err
	}
	stage.SetIfGiven(&cfg.Npop, c.Npop)
	stage.SetIfGiven(&cfg.OpCap, c.OpCap)
	stage.SetIfGiven(&cfg.ExpandEpochs, c.ExpandEpochs)
	stage.SetIfGiven(&cfg.CoarseEpochs, c.CoarseEpochs)
	stage.SetIfGiven(&cfg.FineEpochs, c.FineEpochs)
	stage.SetIfGiven(&cfg.TopoEpochs, c.TopoEpochs)
	stage.SetIfGiven(&cfg.FinetuneBase, c.FinetuneBase)
	stage.SetIfGiven(&cfg.ExpandExtra, c.ExpandExtra)
	stage.SetIfGiven(&cfg.FineExtra, c.FineExtra)
	stage.SetIfGiven(&cfg.TopoExtra, c.TopoExtra)
	stage.SetIfGiven(&cfg.CoarseKeep, c.CoarseKeep)
	stage.SetIfGiven(&cfg.LR0, c.Lr0)
	stage.SetIfGiven(&cfg.ExpandLRDiv, c.ExpandLrDiv)
	stage.SetIfGiven(&cfg.CoarseLRDiv, c.CoarseLrDiv)
	stage.SetIfGiven(&cfg.FineLRDiv, c.FineLrDiv)
	stage.SetIfGiven(&cfg.TopoLRDiv, c.TopoLrDiv)
	stage.SetIfGiven(&cfg.LRMin, c.LrMin)
	stage.SetIfGiven(&cfg.FinetuneLR, c.FinetuneLr)
	stage.SetIfGiven(&cfg.Momentum, c.Momentum)
	stage.SetIfGiven(&cfg.WeightDecay, c.WeightDecay)
	stage.SetIfGiven(&cfg.BatchSize, c.BatchSize)
	stage.SetIfGiven(&cfg.Layers, c.Layers)
	stage.SetIfGiven(&cfg.Channels, c.Channels)
	stage.SetIfGiven(&cfg.ValSource, c.ValSource)
	stage.SetIfGiven(&cfg.ValFraction, c.ValFraction)
	stage.SetIfGiven(&cfg.TrainImages, c.TrainImages)
	stage.SetIfGiven(&cfg.ValImages, c.ValImages)
	stage.SetIfGiven(&cfg.Seed, c.Seed)
	cfg.Device = c.Device
	if cfg.Precision = c.Precision; cfg.Precision == "fp32" {
		cfg.Precision = ""
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("%w: %w", pertnas.ErrBadConfig, err)
	}
	return cfg, nil
}

// options checks the configuration and opens the search backend.
func (c *common) options() (pertnas.Options, error) {
	cfg, err := c.config()
	if err != nil {
		return pertnas.Options{}, err
	}
	if openBuilder == nil {
		return pertnas.Options{}, errNoBackend
	}
	if err := pertnas.ClaimRun(c.RunDir, cfg); err != nil {
		return pertnas.Options{}, err
	}
	b, err := openBuilder(cfg, pertnas.Env{Data: c.Data, Threads: c.Threads})
	if err != nil {
		return pertnas.Options{}, fmt.Errorf("search backend: %w", err)
	}
	return pertnas.Options{Dir: c.RunDir, Config: cfg, Builder: b}, nil
}

var errNoBackend = errors.New("search backend not available: this build has no network/training integration wired (pertnas.OpenBuilder)")

type memberCmd struct {
	common
	Index int `help:"Population member to run (0..npop-1)." required:""`
}

func (c *memberCmd) Run(ctx context.Context) error {
	o, err := c.options()
	if err != nil {
		return err
	}
	disp := newDisplay(o.Config, []string{fmt.Sprintf("member %d", c.Index)})
	o.Progress = disp.report
	rows, err := pertnas.Member(ctx, o, c.Index)
	disp.close(err == nil)
	if err != nil {
		return err
	}
	slog.Info("member done", "member", c.Index, "valuation", pertnas.ValuationPath(c.RunDir, c.Index), "rows", len(rows))
	return nil
}

type selectCmd struct {
	common
}

func (c *selectCmd) Run(ctx context.Context) error {
	o, err := c.options()
	if err != nil {
		return err
	}
	disp := newDisplay(o.Config, []string{"select"})
	o.Progress = disp.report
	res, err := pertnas.Select(ctx, o)
	disp.close(err == nil)
	if err != nil {
		return err
	}
	printResult(c.RunDir, res)
	return nil
}

type runCmd struct {
	common
	Parallel int `help:"Members trained side by side in this process (each on BuildRequest.Worker = its slot)." default:"1"`
}

func (c *runCmd) Run(ctx context.Context) error {
	o, err := c.options()
	if err != nil {
		return err
	}
	var jobs []string
	for m := 0; m < o.Config.Npop; m++ {
		jobs = append(jobs, fmt.Sprintf("member %d", m))
	}
	disp := newDisplay(o.Config, append(jobs, "select"))
	o.Progress = disp.report
	res, err := pertnas.Run(ctx, o, c.Parallel)
	disp.close(err == nil)
	if err != nil {
		return err
	}
	printResult(c.RunDir, res)
	return nil
}

// printResult prints the genotype on the terminal, as the published tool did.
func printResult(run string, res *pertnas.Result) {
	fmt.Println(res.Genotype.Repr())
	slog.Info("search done", "genotype", pertnas.GenotypePath(run), "node_order", res.NodeOrder)
}

// randomCmd draws a random cell of the search space: the baseline a search
// is compared with.
type randomCmd struct {
	Seed uint64 `help:"Seed of the draw (the same seed gives the same cell)." default:"1"`
	Out  string `help:"genotype.json to write (atomically)." required:"" placeholder:"FILE"`
}

func (c *randomCmd) Run() error {
	g := pertnas.RandomGenotype(c.Seed)
	if err := artifact.WriteJSON(c.Out, g); err != nil {
		return err
	}
	fmt.Println(g.Repr())
	return nil
}

type cli struct {
	Member memberCmd `cmd:"" help:"Phases 1-2 for one population member: expand every edge and value its ops."`
	Select selectCmd `cmd:"" help:"Phases 3-7 over the finished members: mean valuation, coarse and fine op selection, topology selection."`
	Run    runCmd    `cmd:"" help:"Every member, then the selection, in one process."`
	Random randomCmd `cmd:"" help:"Write a cell drawn uniformly from the search space (normal = reduce), the random-sampling baseline."`

	// Tools over finished genotypes and runs.
	Combine combineCmd `cmd:"" help:"Write a genotype with the normal cell of one genotype or run and the reduction cell of another (the published evaluation protocol)."`
	Report  reportCmd  `cmd:"" help:"Write RUN/report.html: the cell, the valuations, every decision against the noise, timings, training curves (one static page)."`
}

func main() {
	stage.Stage{Name: "search-evolve", Grammar: &cli{},
		BadInput:    func(err error) bool { return errors.Is(err, pertnas.ErrBadConfig) || isBadInput(err) },
		Interrupted: "interrupted; the state is saved, rerun the same command to continue",
		Options: []kong.Option{
			kong.Description("PertNAS search: population members (phases 1-2) and selection (phases 3-7) over one run folder; every job resumes when rerun."),
		}}.Main()
}
