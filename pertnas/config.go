// Package pertnas is the PertNAS search (docs/spec/pertnas.md): a population of
// members each expands every edge of a random cell and values its ops by
// perturbation (phases 1-2, Member); the selection averages the members'
// valuations, then selects ops coarsely and finely and finally the topology
// (phases 3-7, Select), giving a genotype.
//
// The package owns the algorithm, its resumable state and its artifacts; the
// networks and their training live behind the Builder and Supernet
// interfaces (implemented by the darts/nn/loader integration).
//
// # Run folder
//
//	DIR/run.json                      the run's Config (a rerun with another one is refused)
//	DIR/members/I/valuation.arrow     member I's 14x7 valuation (written when the member completes)
//	DIR/members/I/log.arrow           one row per unit of work (build, epoch, accuracy, perturbation)
//	DIR/members/I/member.json         the member's initial cell and costs
//	DIR/members/I/state/              resume state: state.json (journal) and the last network weights
//	DIR/select/log.arrow, select/state/   the same for the selection
//	DIR/selection.arrow               every decision of phases 4-6 and the perturbation behind it
//	DIR/genotype.json, genotype.py, cell.svg, search.json
//
// # Resume
//
// Every job keeps a journal of completed units (a network build, a training
// epoch, an accuracy, a perturbation, an optimiser reset) with their results,
// and the network weights after the last unit that changed them. A rerun
// replays the journal without touching a network, then rebuilds the current
// network, loads its weights and continues. Since every random choice derives
// from the run seed, a job killed at any moment and rerun to the end gives the
// same numbers as an uninterrupted one.
//
// # Choices the spec leaves open
//
//   - Every target of one perturb-val fine-tunes on the same batches (one
//     data seed per perturb-val), so the diffs differ only by the masked op.
//   - The lr of training epoch k of E is PyTorch's CosineAnnealingLR stepped
//     after each epoch; "the final lr of the preceding training" is the lr
//     after the last step, lr_min.
//   - Phase 6 fine-tunes at lr0/topo_lr_div after resetting the optimiser,
//     and trains after each node (but the last) at the same lr0/topo_lr_div.
//   - Dropping none after phase 5 keeps the trained network: none outputs
//     zeros, so removing it changes nothing the network computes.
//   - Ties go to the lower op index (coarse, fine) or edge index (topology).
package pertnas

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"pertnas/nn/cpu/kern"
)

// Config holds every knob of a search. Its JSON form (the field tags) is the
// content of run.json.
type Config struct {
	Npop  int `json:"npop"`   // population size [4]
	OpCap int `json:"op_cap"` // ops per edge in a member's initial cell [1]

	ExpandEpochs int `json:"expand_epochs"` // phase 2: epochs per expanded edge [5]
	CoarseEpochs int `json:"coarse_epochs"` // phase 4 [5]
	FineEpochs   int `json:"fine_epochs"`   // phase 5, after each edge [5]
	TopoEpochs   int `json:"topo_epochs"`   // phase 6, after each node but the last [5]

	FinetuneBase int `json:"finetune_base"` // fine-tune steps of every perturbation [50]
	ExpandExtra  int `json:"expand_extra"`  // + extra steps in phase 2 [20]
	FineExtra    int `json:"fine_extra"`    // + extra steps in phase 5 [80]
	TopoExtra    int `json:"topo_extra"`    // + extra steps in phase 6 [130]

	CoarseKeep int `json:"coarse_keep"` // ops per edge kept by coarse selection [2]

	LR0         float64 `json:"lr0"`           // base learning rate [0.2176]
	ExpandLRDiv float64 `json:"expand_lr_div"` // phase 2 trains at lr0/2.5
	CoarseLRDiv float64 `json:"coarse_lr_div"` // phase 4 trains at lr0/3
	FineLRDiv   float64 `json:"fine_lr_div"`   // phase 5 trains at lr0/2.5
	TopoLRDiv   float64 `json:"topo_lr_div"`   // phase 6: fresh SGD and training at lr0/2.5
	LRMin       float64 `json:"lr_min"`        // cosine schedule floor [0.001]
	// FinetuneLR is the fine-tuning lr of phases 2 and 5; 0 means the lr the
	// optimiser holds after the preceding training (as published), which is
	// LRMin for the cosine schedule.
	FinetuneLR  float64 `json:"finetune_lr"`
	Momentum    float64 `json:"momentum"`     // SGD momentum [0.9]
	WeightDecay float64 `json:"weight_decay"` // [3e-4]

	BatchSize int `json:"batch_size"` // [256]
	Layers    int `json:"layers"`     // cells of the search network [5]
	Channels  int `json:"channels"`   // initial channels [16]

	// ValSource "train": validation is a seeded ValFraction of the training
	// set, the rest is trained on (default). "test": the CIFAR test set, as
	// the published script did (it selects on the test set, so its
	// accuracies are not an unbiased estimate; use only to compare).
	ValSource   string  `json:"val_source"`
	ValFraction float64 `json:"val_fraction"` // [0.1]
	// TrainImages and ValImages cap the images used (0: all), for quick runs.
	TrainImages int `json:"train_images"`
	ValImages   int `json:"val_images"`

	// Upstream-exact switches (SetCompat "upstream" sets them all). Each
	// zero value is this project's behaviour and is left out of run.json,
	// so a default run's run.json is what it was before the switches.
	//
	// Restore "" restores a perturbed network exactly (weights, BN
	// statistics, optimiser state) before the next target and after the
	// last; "none" restores nothing, as the published script did in effect
	// (its backup referenced the live tensors), so fine-tuning accumulates
	// over the targets of one perturb-val and stays after it.
	Restore string `json:"restore,omitempty"`
	// InitCell "" (random+none) gives every edge of a member's initial
	// cell OpCap random ops plus none (upstream HEAD); "sep3" gives every
	// edge sep_conv_3x3 alone, without none (the copy of the search script
	// saved with the published evaluation).
	InitCell string `json:"init_cell,omitempty"`
	// FinetuneBatches "" (same): every target of one perturb-val
	// fine-tunes on the same batches; "fresh": each target starts a new
	// shuffled pass over the training data, as upstream's loader did.
	FinetuneBatches string `json:"finetune_batches,omitempty"`
	// FinetunePlusOne runs N+1 fine-tune steps where N are configured, as
	// upstream's loop did (it breaks after the step with index N).
	FinetunePlusOne bool `json:"finetune_plus_one,omitempty"`
	// TranslateFill is the colour random translation pads with: "" (the
	// mean colour (125, 123, 114)) or "black" ((0, 0, 0): what FFCV's
	// RandomTranslate, which upstream used, pads with).
	TranslateFill string `json:"translate_fill,omitempty"`
	// Cutout "" (darts): a square centred anywhere, clipped at the border,
	// zeroed after normalisation; "ffcv": FFCV's Cutout as upstream
	// configured it, a full square inside the image filled with
	// (125, 122, 113) before normalisation.
	Cutout string `json:"cutout,omitempty"`
	// Normalise "" (darts): DARTS's CIFAR mean/std; "ffcv": the constants
	// of FFCV's CIFAR example, which upstream used.
	Normalise string `json:"normalise,omitempty"`
	// GradScaler "" (persistent): with Precision fp16 one loss scaler lives
	// through a job (saved with the weights); "fresh": a new scaler for
	// every training run of epochs and every perturb-val, as upstream made
	// a GradScaler per call. Only fp16 scales losses.
	GradScaler string `json:"grad_scaler,omitempty"`
	// Compat records the preset of switches the run started from: ""
	// (pertnas-go, this project's defaults) or "upstream".
	Compat string `json:"compat,omitempty"`

	Seed   uint64 `json:"seed"`
	Device string `json:"device"` // "cpu", "cuda", "cuda:1"; may differ between the jobs of a run
	// Precision is the GPU arithmetic: "" (fp32), "tf32", "fp16" (mixed,
	// with loss scaling) or "bf16" (mixed); the CPU runs "" only.
	Precision string `json:"precision,omitempty"`
	// Deterministic (--deterministic) restricts the GPU to repeatable cuDNN
	// algorithm choices (cuda.Options.Deterministic); pinned like Precision.
	Deterministic bool `json:"deterministic,omitempty"`
	// Kernels is the CPU kernel path every job of the run computes with
	// (kern.Path: "purego", "avx2", "avx512"); the paths sum in different
	// orders, so a job on another path would not give the run's numbers.
	// The presets take the path this process started on (kern.Default).
	// A run.json written before paths were recorded has none (""): its
	// jobs continue on the path they are given.
	Kernels string `json:"kernels"`
}

// Paper is the published configuration (docs/spec/pertnas.md).
func Paper() Config {
	return Config{
		Npop: 4, OpCap: 1,
		ExpandEpochs: 5, CoarseEpochs: 5, FineEpochs: 5, TopoEpochs: 5,
		FinetuneBase: 50, ExpandExtra: 20, FineExtra: 80, TopoExtra: 130,
		CoarseKeep: 2,
		LR0:        0.2176, ExpandLRDiv: 2.5, CoarseLRDiv: 3, FineLRDiv: 2.5, TopoLRDiv: 2.5,
		LRMin: 0.001, Momentum: 0.9, WeightDecay: 3e-4,
		BatchSize: 256, Layers: 5, Channels: 16,
		ValSource: "train", ValFraction: 0.1,
		Seed: 1, Device: "cpu", Kernels: string(kern.Default()),
	}
}

// Smoke runs every phase with tiny counts: one epoch per training on a few
// hundred images, a few fine-tune steps, two members; minutes on 2 CPU cores.
func Smoke() Config {
	c := Paper()
	c.Npop = 2
	c.ExpandEpochs, c.CoarseEpochs, c.FineEpochs, c.TopoEpochs = 1, 1, 1, 1
	c.FinetuneBase, c.ExpandExtra, c.FineExtra, c.TopoExtra = 2, 1, 2, 3
	c.BatchSize = 32
	c.Layers, c.Channels = 5, 8
	c.TrainImages, c.ValImages = 256, 128
	return c
}

// Compat presets of the upstream-exact switches.
const (
	CompatDefault  = "pertnas-go"
	CompatUpstream = "upstream"
)

// SetCompat sets the switches of compat: CompatUpstream sets validation on
// the test split, Restore none, InitCell sep3 (the script saved with the
// published evaluation), FinetuneBatches fresh, FinetunePlusOne,
// TranslateFill black, Cutout ffcv, Normalise ffcv and GradScaler fresh;
// CompatDefault changes nothing. Flags applied after it override single
// switches.
func (c *Config) SetCompat(compat string) error {
	switch compat {
	case CompatDefault, "":
		return nil
	case CompatUpstream:
	default:
		return fmt.Errorf("compat %q: want %s or %s", compat, CompatDefault, CompatUpstream)
	}
	c.Compat = CompatUpstream
	c.ValSource = "test"
	c.Restore = "none"
	c.InitCell = "sep3"
	c.FinetuneBatches = "fresh"
	c.FinetunePlusOne = true
	c.TranslateFill = "black"
	c.Cutout = "ffcv"
	c.Normalise = "ffcv"
	c.GradScaler = "fresh"
	return nil
}

// Preset returns the named preset: "paper" or "smoke".
func Preset(name string) (Config, error) {
	switch name {
	case "paper":
		return Paper(), nil
	case "smoke":
		return Smoke(), nil
	}
	return Config{}, fmt.Errorf("unknown preset %q (want paper or smoke)", name)
}

// Validate reports every out-of-range knob, naming its JSON key.
func (c Config) Validate() error {
	var errs []error
	bad := func(key string, v any, want string) {
		errs = append(errs, fmt.Errorf("%s = %v: want %s", key, v, want))
	}
	pos := func(key string, v int) {
		if v < 1 {
			bad(key, v, ">= 1")
		}
	}
	nonneg := func(key string, v int) {
		if v < 0 {
			bad(key, v, ">= 0")
		}
	}
	pos("npop", c.Npop)
	if c.OpCap < 1 || c.OpCap > NumOps {
		bad("op_cap", c.OpCap, fmt.Sprintf("1..%d", NumOps))
	}
	pos("expand_epochs", c.ExpandEpochs)
	pos("coarse_epochs", c.CoarseEpochs)
	pos("fine_epochs", c.FineEpochs)
	pos("topo_epochs", c.TopoEpochs)
	nonneg("finetune_base", c.FinetuneBase)
	nonneg("expand_extra", c.ExpandExtra)
	nonneg("fine_extra", c.FineExtra)
	nonneg("topo_extra", c.TopoExtra)
	if c.FinetuneBase+c.ExpandExtra < 1 || c.FinetuneBase+c.FineExtra < 1 || c.FinetuneBase+c.TopoExtra < 1 {
		bad("finetune_base", c.FinetuneBase, "base + extra >= 1 in every phase")
	}
	if c.CoarseKeep < 1 || c.CoarseKeep > NumOps {
		bad("coarse_keep", c.CoarseKeep, fmt.Sprintf("1..%d", NumOps))
	}
	posf := func(key string, v float64) {
		if !(v > 0) || v > 1e6 {
			bad(key, v, "> 0")
		}
	}
	posf("lr0", c.LR0)
	posf("expand_lr_div", c.ExpandLRDiv)
	posf("coarse_lr_div", c.CoarseLRDiv)
	posf("fine_lr_div", c.FineLRDiv)
	posf("topo_lr_div", c.TopoLRDiv)
	if !(c.LRMin >= 0) || c.LRMin > c.LR0 {
		bad("lr_min", c.LRMin, "0 <= lr_min <= lr0")
	}
	if !(c.FinetuneLR >= 0) || c.FinetuneLR > 1e6 {
		bad("finetune_lr", c.FinetuneLR, ">= 0 (0: final lr of the preceding training)")
	}
	if !(c.Momentum >= 0 && c.Momentum < 1) {
		bad("momentum", c.Momentum, "0 <= momentum < 1")
	}
	if !(c.WeightDecay >= 0) || c.WeightDecay > 1 {
		bad("weight_decay", c.WeightDecay, "0..1")
	}
	pos("batch_size", c.BatchSize)
	pos("layers", c.Layers)
	if c.Channels < 2 || c.Channels%2 != 0 {
		bad("channels", c.Channels, "an even number >= 2")
	}
	switch c.ValSource {
	case "train":
		if !(c.ValFraction > 0 && c.ValFraction < 1) {
			bad("val_fraction", c.ValFraction, "0 < val_fraction < 1")
		}
	case "test":
	default:
		bad("val_source", c.ValSource, `"train" or "test"`)
	}
	nonneg("train_images", c.TrainImages)
	nonneg("val_images", c.ValImages)
	if c.Device == "" {
		bad("device", `""`, "a device name such as cpu or cuda")
	}
	switch c.Precision {
	case "", "tf32", "fp16", "bf16":
	default:
		bad("precision", c.Precision, `"" (fp32), "tf32", "fp16" or "bf16"`)
	}
	if c.Kernels != "" && !slices.Contains(kern.Paths, kern.Path(c.Kernels)) {
		bad("kernels", fmtJSON(c.Kernels), `"purego", "avx2" or "avx512"`)
	}
	oneOf := func(key, v string, want string) {
		if v != "" && v != want {
			bad(key, fmtJSON(v), fmt.Sprintf(`"" or %q`, want))
		}
	}
	oneOf("restore", c.Restore, "none")
	oneOf("init_cell", c.InitCell, "sep3")
	oneOf("finetune_batches", c.FinetuneBatches, "fresh")
	oneOf("translate_fill", c.TranslateFill, "black")
	oneOf("cutout", c.Cutout, "ffcv")
	oneOf("normalise", c.Normalise, "ffcv")
	oneOf("grad_scaler", c.GradScaler, "fresh")
	oneOf("compat", c.Compat, CompatUpstream)
	return errors.Join(errs...)
}

// runFree lists the keys of run.json that may differ between the jobs of a
// run: they choose where a job runs, not what it computes.
var runFree = map[string]bool{"device": true}

// Diff returns the JSON keys whose values differ between c and o, each as
// "key: A -> B", sorted by key; keys in runFree are ignored, and so is
// kernels when c, the run's recorded configuration, has none.
func (c Config) Diff(o Config) []string {
	a, b := configMap(c), configMap(o)
	// The union: a key left out when zero (omitempty) is in one map only.
	keys := slices.Compact(slices.Sorted(func(yield func(string) bool) {
		for k := range maps.Keys(a) {
			yield(k)
		}
		for k := range maps.Keys(b) {
			yield(k)
		}
	}))
	var out []string
	for _, k := range keys {
		if runFree[k] || k == "kernels" && c.Kernels == "" {
			continue
		}
		if !reflect.DeepEqual(a[k], b[k]) {
			out = append(out, fmt.Sprintf("%s: %v -> %v", k, fmtJSON(a[k]), fmtJSON(b[k])))
		}
	}
	return out
}

func configMap(c Config) map[string]any {
	raw, _ := json.Marshal(c) // a Config of plain numbers and strings always marshals
	m := map[string]any{}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	_ = dec.Decode(&m)
	return m
}

func fmtJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// expandSteps, fineSteps and topoSteps are the fine-tune steps of a
// perturbation in phases 2, 5 and 6.
func (c Config) expandSteps() int { return c.FinetuneBase + c.ExpandExtra + c.plusOne() }
func (c Config) fineSteps() int   { return c.FinetuneBase + c.FineExtra + c.plusOne() }
func (c Config) topoSteps() int   { return c.FinetuneBase + c.TopoExtra + c.plusOne() }

// plusOne is the step upstream's fine-tune loop ran after the N-th.
func (c Config) plusOne() int {
	if c.FinetunePlusOne {
		return 1
	}
	return 0
}

// finetuneSeed is the data seed of target i of a perturb-val whose seed is
// seed: seed itself for every target, or with FinetuneBatches fresh a seed
// of the target's own (a new pass over the data).
func (c Config) finetuneSeed(seed uint64, i int) uint64 {
	if c.FinetuneBatches == "fresh" {
		return derive(seed, "finetune/target", i)
	}
	return seed
}
