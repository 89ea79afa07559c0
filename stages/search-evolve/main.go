// Command search-evolve runs the PertNAS search (docs/spec/pertnas.md) over one
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
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"pertnas/formats/artifact"
	"pertnas/internal/stage"
	"pertnas/internal/stage/device"
	"pertnas/pertnas"
)

// common are the flags of every subcommand. A hyperparameter flag left out
// takes the preset's value.
type common struct {
	RunDir string `name:"run" help:"Run folder (created if missing; its run.json pins the configuration)." required:"" placeholder:"DIR"`
	Data   string `help:"Dataset folder (the output of convert-cifar)." required:"" placeholder:"DIR"`
	Preset string `help:"Base configuration: ${enum} (paper: the published one; smoke: every phase in minutes on 2 CPU cores)." enum:"paper,smoke" default:"paper"`
	// The device may differ between the jobs of a run; the precision is
	// pinned in run.json.
	device.Flags

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

	// Upstream-exact switches (README "Where we differ"); --compat upstream
	// sets them all, a switch given as well overrides it.
	Compat          string  `help:"Preset of the upstream-exact switches: pertnas-go (this project's behaviour) or upstream (the published scripts' behaviour: --val-source test --restore none --init-cell sep3 --finetune-batches fresh --finetune-plus-one --translate-fill black --cutout ffcv --normalise ffcv --grad-scaler fresh)." enum:"pertnas-go,upstream" default:"pertnas-go"`
	Restore         *string `help:"After each perturbation: exact (weights, BN statistics and optimiser state restored) or none (fine-tuning accumulates, as upstream in effect) [exact]." enum:"exact,none"`
	InitCell        *string `name:"init-cell" help:"Member's initial cell: random+none (op-cap random ops + none per edge, upstream HEAD) or sep3 (sep_conv_3x3 alone per edge, the script saved with the published evaluation) [random+none]." enum:"random+none,sep3"`
	FinetuneBatches *string `help:"Fine-tune data of the targets of one perturb-val: same (the same batches) or fresh (a new shuffled pass per target, as upstream) [same]." enum:"same,fresh"`
	FinetunePlusOne *bool   `name:"finetune-plus-one" help:"Run N+1 fine-tune steps where N are configured, as upstream's loop did [false]."`
	TranslateFill   *string `help:"Colour random translation pads with: mean (125,123,114) or black (FFCV's RandomTranslate, as upstream) [mean]." enum:"mean,black"`
	Cutout          *string `help:"Cutout: darts (centre anywhere, clipped, zero after normalisation) or ffcv (a full 8x8 square inside the image filled with (125,122,113) before normalisation, as upstream) [darts]." enum:"darts,ffcv"`
	Normalise       *string `help:"Normalisation constants: darts (DARTS's CIFAR mean/std) or ffcv (FFCV's CIFAR example, as upstream) [darts]." enum:"darts,ffcv"`
	GradScaler      *string `help:"fp16 loss scaler: persistent (one per job, saved with the weights) or fresh (a new one per training run and per perturb-val, as upstream's GradScaler per call) [persistent]." enum:"persistent,fresh"`
}

// setSwitch sets *dst from a given flag value, the default name standing for "".
func setSwitch(dst *string, v *string, defaultName string) {
	if v != nil {
		if *dst = *v; *v == defaultName {
			*dst = ""
		}
	}
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
	if err := cfg.SetCompat(c.Compat); err != nil {
		return cfg, fmt.Errorf("%w: %w", pertnas.ErrBadConfig, err)
	}
	stage.SetIfGiven(&cfg.ValSource, c.ValSource)
	setSwitch(&cfg.Restore, c.Restore, "exact")
	setSwitch(&cfg.InitCell, c.InitCell, "random+none")
	setSwitch(&cfg.FinetuneBatches, c.FinetuneBatches, "same")
	stage.SetIfGiven(&cfg.FinetunePlusOne, c.FinetunePlusOne)
	setSwitch(&cfg.TranslateFill, c.TranslateFill, "mean")
	setSwitch(&cfg.Cutout, c.Cutout, "darts")
	setSwitch(&cfg.Normalise, c.Normalise, "darts")
	setSwitch(&cfg.GradScaler, c.GradScaler, "persistent")
	cfg.Device = c.Device
	if cfg.Precision = c.Precision; cfg.Precision == "fp32" {
		cfg.Precision = ""
	}
	cfg.Deterministic = c.Deterministic
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("%w: %w", pertnas.ErrBadConfig, flagNames(err))
	}
	return cfg, nil
}

// configKey is a line of pertnas.Config.Validate's error: "key = value:
// want what".
var configKey = regexp.MustCompile(`(?m)^([a-z0-9_]+) = (.*): want (.*)$`)

// flagNames rewrites the configuration's complaints in the flags' names:
// "weight_decay = -1: want 0..1" becomes "--weight-decay: want 0..1, got -1".
func flagNames(err error) error {
	return errors.New(configKey.ReplaceAllStringFunc(err.Error(), func(line string) string {
		m := configKey.FindStringSubmatch(line)
		return "--" + strings.ReplaceAll(m[1], "_", "-") + ": want " + m[3] + ", got " + m[2]
	}))
}

// Validate refuses bad flag values while parsing (kong calls it), before
// anything is read or written.
func (c *common) Validate() error {
	_, err := c.config()
	return err
}

// options checks everything the job needs without writing: the
// configuration against the run folder's run.json, the device, the dataset
// (every image's size and label); then it removes what killed writes left
// in the folders this job alone writes (clean, run-relative: "" is the run
// folder's top level, recursive says whether below it too). Only the
// pertnas job started afterwards writes into the run folder.
func (c *common) options(clean string, recursive bool) (pertnas.Options, error) {
	cfg, err := c.config()
	if err != nil {
		return pertnas.Options{}, err
	}
	if openBuilder == nil {
		return pertnas.Options{}, errNoBackend
	}
	dev, err := c.Flags.Open()
	if err != nil {
		return pertnas.Options{}, err
	}
	cfg.Device = dev.Name()
	pinned := "" // the run's kernel path, once run.json exists
	if old, err := pertnas.ReadRunConfig(c.RunDir); err == nil {
		pinned = old.Kernels
	}
	kernels, err := c.Flags.UseKernels(pinned, filepath.Join(c.RunDir, "run.json"))
	if err != nil {
		return pertnas.Options{}, err
	}
	cfg.Kernels = string(kernels)
	if err := pertnas.CheckRun(c.RunDir, cfg); err != nil {
		return pertnas.Options{}, err
	}
	b, err := openBuilder(cfg, pertnas.Env{Data: c.Data, Threads: c.Threads}, dev)
	if err != nil {
		return pertnas.Options{}, stage.BadInput(fmt.Errorf("--data %s: %w", c.Data, err))
	}
	slog.Info("search-evolve", "device", dev.Description, "kernels", kernels, "run", c.RunDir, "data", c.Data)
	removed, err := stage.RemoveTemps(filepath.Join(c.RunDir, clean), recursive, stage.IsRunJSONTemp)
	if err != nil {
		return pertnas.Options{}, err
	}
	if len(removed) > 0 {
		slog.Info("removed the temporary files of killed writes", "files", len(removed), "under", filepath.Join(c.RunDir, clean))
	}
	return pertnas.Options{Dir: c.RunDir, Config: cfg, Builder: b}, nil
}

var errNoBackend = errors.New("search backend not available: this build has no network/training integration wired (pertnas.OpenBuilder)")

type memberCmd struct {
	common
	Index int `help:"Population member to run (0..npop-1)." required:"" placeholder:"I"`
}

func (c *memberCmd) Run(ctx context.Context) error {
	cfg, err := c.config()
	if err != nil {
		return err
	}
	if c.Index < 0 || c.Index >= cfg.Npop {
		return stage.FlagErrorf("--index", "must be in 0..%d (--npop %d), got %d", cfg.Npop-1, cfg.Npop, c.Index)
	}
	o, err := c.options(filepath.Join("members", strconv.Itoa(c.Index)), true)
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
	cfg, err := c.config()
	if err != nil {
		return err
	}
	if err := membersDone(c.RunDir, cfg.Npop); err != nil {
		return err
	}
	o, err := c.options("", false)
	if err != nil {
		return err
	}
	if _, err := stage.RemoveTemps(filepath.Join(c.RunDir, "select"), true, nil); err != nil {
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

// Validate refuses a bad --parallel with the rest of the flags.
func (c *runCmd) Validate() error {
	if c.Parallel < 1 {
		return stage.FlagErrorf("--parallel", "must be >= 1, got %d", c.Parallel)
	}
	return nil
}

func (c *runCmd) Run(ctx context.Context) error {
	o, err := c.options("", true)
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

// membersDone checks, before select writes anything, that every member
// has written a readable valuation table.
func membersDone(run string, npop int) error {
	var missing []string
	for m := range npop {
		_, err := pertnas.ReadValuation(run, m)
		switch {
		case errors.Is(err, os.ErrNotExist):
			missing = append(missing, strconv.Itoa(m))
		case err != nil:
			return stage.BadInput(fmt.Errorf("member %d: %w (rerun search-evolve member --index %d after removing it)", m, err, m))
		}
	}
	if len(missing) > 0 {
		return stage.BadInput(fmt.Errorf("run %s: members %s have not finished (no members/I/valuation.arrow); run search-evolve member --index I first",
			run, strings.Join(missing, ", ")))
	}
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
		Description: "PertNAS search: population members (phases 1-2) and selection (phases 3-7) over one run folder; every job resumes when rerun.",
		BadInput:    func(err error) bool { return errors.Is(err, pertnas.ErrBadConfig) },
		Interrupted: "interrupted; the state is saved, rerun the same command to continue",
	}.Main()
}
