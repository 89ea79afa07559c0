// Package supernet implements pertnas.Builder and pertnas.Supernet: the
// PertNAS search network of package darts, trained and evaluated by the
// project's one training step (train.Step) on the batches of package loader.
//
// A Builder holds what every network of a run shares: the dataset (the
// .beton files of convert-cifar, opened once), the training/validation
// split, the network sizes, the optimiser settings and the way to make a
// backend. Each built network (Net) owns its backend, its tape and its SGD,
// so networks built from one Builder run side by side on their own
// goroutines.
//
// # Data
//
// Training batches visit the training split in a random order with the
// search augmentation (SearchAugment by default: flip, translate pad 2 with
// the mean colour, DARTS cutout 8, then the DARTS normalisation; the
// upstream-exact switches of Options select FFCV's black translation fill,
// FFCV's cutout and FFCV's normalisation), the last incomplete batch
// dropped. The order and every augmentation draw of a TrainEpoch or FineTune
// call derive from its dataSeed (and the epoch of the data within the call)
// through the loader, never from state kept between calls. The validation
// split is evaluated in file order without augmentation.
//
// The split: with ValSource "train" a seeded ValFraction of the training file
// (loader.Split with Options.SplitSeed) is held out for validation and the
// rest is trained on; with "test" the whole training file is trained on and
// the test file is the validation split. TrainImages and ValImages, when
// positive, keep the first that many ids of each split (ids ascending).
//
// # Training
//
// Every step is train.Step's: cross-entropy without label smoothing, no
// auxiliary head, no gradient clipping, SGD with the run's momentum and
// weight decay, dynamic loss scaling with Options.LossScaling. Accuracy is
// train.Correct's top-1. A non-finite loss stops TrainEpoch or FineTune
// with a *train.DivergenceError naming the step within the call (the search
// adds the member and the unit); that step changes no parameter, and the
// search, whose state is saved at every finished unit, reruns from there.
//
// # Determinism
//
// A Net's numbers depend only on its state (weights, BN statistics, SGD
// momentum and step count, masks) and the arguments of each call: rebuilt
// with the same BuildRequest and loaded from a Save, it continues exactly as
// the original (bit for bit, on a backend whose results do not depend on its
// thread count, as the CPU one's do not).
package supernet

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"

	"pertnas/darts"
	"pertnas/formats/beton"
	"pertnas/formats/dataset"
	"pertnas/loader"
	"pertnas/nn"
	"pertnas/nn/cpu"
	"pertnas/pertnas"
)

// SearchAugment is the default training augmentation of the search
// (docs/spec/pertnas.md: FFCV-style flip, translate with padding 2, cutout 8):
// the translation pads with the mean colour and the cutout is DARTS's
// (clipped at the border, zero after normalisation). Upstream differs (see
// Options.TranslateFill, Cutout, Normalise): FFCV's RandomTranslate pads
// with black (loader.Augment), FFCV's Cutout as upstream configured it
// keeps the whole square inside the image and fills it with
// UpstreamCutoutFill.
var SearchAugment = loader.Augment{
	Flip:   true,
	Pad:    2,
	Fill:   [3]uint8{125, 123, 114}, // round(loader.DARTSMean)
	Cutout: 8,
}

// UpstreamCutoutFill is the fill upstream gave FFCV's Cutout:
// tuple(map(int, CIFAR_MEAN)) of FFCV's mean (125.307, 122.961, 113.8575).
var UpstreamCutoutFill = [3]uint8{125, 122, 113}

// Options configure a Builder. Zero values of the optional fields take the
// documented defaults.
type Options struct {
	// Data is the dataset folder, a dataset.CIFAR one: its training and
	// test files (the latter only read with ValSource "test") and, when
	// Classes is 0, its manifest.
	Data string

	Layers, Channels int // search network: cells and initial channels
	// Classes is the number of classes; 0 reads num_classes from the
	// folder's manifest.json.
	Classes int

	BatchSize   int     // training batch
	EvalBatch   int     // validation batch (0: BatchSize); never changes a number
	Momentum    float64 // SGD momentum
	WeightDecay float64 // SGD weight decay

	ValSource   string  // "train" (held out of the training file) or "test"
	ValFraction float64 // held-out fraction with ValSource "train"
	SplitSeed   uint64  // seeds the held-out subset
	TrainImages int     // > 0: train on the first this many ids of the split
	ValImages   int     // > 0: validate on the first this many ids

	// Threads is the CPU backend's thread count (<= 0: GOMAXPROCS) when
	// NewBackend is nil.
	Threads int
	// LoaderWorkers is the number of decoding goroutines per loader
	// (<= 0: min(2, GOMAXPROCS)).
	LoaderWorkers int
	// NewBackend, if not nil, gives the backend of a network built for
	// BuildRequest.Worker (a GPU backend placing workers on devices, say)
	// and the function that gives it back when the network is closed (nil:
	// nothing to do). A factory may hand the same backend to the successive
	// networks of one worker (a worker uses one network at a time), but not
	// to two workers at once unless the backend allows concurrent use. Nil:
	// a fresh CPU backend of Threads threads per network, closed with it.
	NewBackend func(worker int) (be nn.Backend, release func(), err error)
	// LossScaling turns on dynamic loss scaling (nn.LossScaler, one per
	// network, saved with it), needed by fp16 mixed precision.
	LossScaling bool

	// The augmentation switches of pertnas.Config ("" is SearchAugment's
	// choice): TranslateFill "black" pads translations with (0, 0, 0);
	// Cutout "ffcv" is FFCV's Cutout filled with UpstreamCutoutFill;
	// Normalise "ffcv" uses loader.FFCVMean/FFCVStd for training and
	// validation images alike.
	TranslateFill, Cutout, Normalise string
}

// augment returns the training augmentation the options select.
func (o Options) augment() loader.Augment {
	a := SearchAugment
	if o.TranslateFill == "black" {
		a.Fill = [3]uint8{}
	}
	if o.Cutout == "ffcv" {
		a.CutoutMode, a.CutoutFill = loader.CutoutFFCV, UpstreamCutoutFill
	}
	return a
}

// norm returns the normalisation constants (zero: the loader's default,
// DARTS's).
func (o Options) norm() (mean, std [3]float32) {
	if o.Normalise == "ffcv" {
		return loader.FFCVMean, loader.FFCVStd
	}
	return mean, std
}

// FromConfig returns the Options of a search run's configuration and
// environment (CPU backend; a GPU needs Options.NewBackend).
func FromConfig(cfg pertnas.Config, env pertnas.Env) Options {
	return Options{
		Data:        env.Data,
		Layers:      cfg.Layers,
		Channels:    cfg.Channels,
		BatchSize:   cfg.BatchSize,
		Momentum:    cfg.Momentum,
		WeightDecay: cfg.WeightDecay,
		ValSource:   cfg.ValSource,
		ValFraction: cfg.ValFraction,
		SplitSeed:   cfg.Seed,
		TrainImages: cfg.TrainImages,
		ValImages:   cfg.ValImages,
		Threads:     env.Threads,

		TranslateFill: cfg.TranslateFill,
		Cutout:        cfg.Cutout,
		Normalise:     cfg.Normalise,
	}
}

// Open is a pertnas.OpenBuilder: the Builder for cfg on env's dataset. Only
// the "cpu" device is served here; other devices need a Builder made with
// New and an Options.NewBackend.
func Open(cfg pertnas.Config, env pertnas.Env) (pertnas.Builder, error) {
	if cfg.Device != "cpu" {
		return nil, fmt.Errorf("supernet: device %q: only cpu is wired here (give Options.NewBackend to New for another)", cfg.Device)
	}
	return New(FromConfig(cfg, env))
}

var _ pertnas.OpenBuilder = Open

// Builder makes search networks for one run. It is safe for concurrent use;
// Close it after its networks.
type Builder struct {
	opt      Options
	data     *dataset.Folder
	classes  int
	files    []*beton.Reader
	trainSrc loader.Source
	valSrc   loader.Source
	trainIDs []int
	valIDs   []int
	h, w     int
}

var _ pertnas.Builder = (*Builder)(nil)

// New checks opts, opens the dataset and computes the split.
func New(opts Options) (*Builder, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	if opts.EvalBatch <= 0 {
		opts.EvalBatch = opts.BatchSize
	}
	if opts.LoaderWorkers <= 0 {
		opts.LoaderWorkers = min(2, runtime.GOMAXPROCS(0))
	}
	data, err := dataset.Open(opts.Data, dataset.CIFAR)
	if err != nil {
		return nil, fmt.Errorf("supernet: %w", err)
	}
	b := &Builder{opt: opts, data: data, classes: opts.Classes}
	if b.classes == 0 {
		if data.Manifest == nil {
			return nil, fmt.Errorf("supernet: dataset %s: no %s (or set the number of classes)", opts.Data, data.ManifestPath())
		}
		b.classes = data.Manifest.NumClasses
	}
	if err := b.openData(); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

func (o *Options) check() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if o.Data == "" {
		bad("no dataset folder")
	}
	if o.Layers < 1 {
		bad("layers %d: want >= 1", o.Layers)
	}
	if o.Channels < 2 || o.Channels%2 != 0 {
		bad("channels %d: want an even number >= 2", o.Channels)
	}
	if o.Classes < 0 || o.Classes == 1 {
		bad("classes %d: want >= 2 (0: from the manifest)", o.Classes)
	}
	if o.BatchSize < 1 {
		bad("batch size %d: want >= 1", o.BatchSize)
	}
	if !(o.Momentum >= 0 && o.Momentum < 1) {
		bad("momentum %v: want 0 <= momentum < 1", o.Momentum)
	}
	if !(o.WeightDecay >= 0 && o.WeightDecay <= 1) {
		bad("weight decay %v: want 0..1", o.WeightDecay)
	}
	switch o.ValSource {
	case "train":
		if !(o.ValFraction > 0 && o.ValFraction < 1) {
			bad("val fraction %v: want 0 < fraction < 1", o.ValFraction)
		}
	case "test":
	default:
		bad("val source %q: want train or test", o.ValSource)
	}
	if o.TrainImages < 0 || o.ValImages < 0 {
		bad("image limits %d, %d: want >= 0", o.TrainImages, o.ValImages)
	}
	for _, s := range []struct{ name, v, want string }{
		{"translate fill", o.TranslateFill, "black"}, {"cutout", o.Cutout, "ffcv"}, {"normalise", o.Normalise, "ffcv"}} {
		if s.v != "" && s.v != s.want {
			bad("%s %q: want \"\" or %q", s.name, s.v, s.want)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("supernet: options: %w", err)
	}
	return nil
}

func (b *Builder) open(path string) (loader.Source, error) {
	r, err := beton.Open(path)
	if err != nil {
		return nil, fmt.Errorf("supernet: %w", err)
	}
	b.files = append(b.files, r)
	src, err := loader.NewBetonSource(r, "image", "label")
	if err != nil {
		return nil, fmt.Errorf("supernet: %s: %w", r.Path(), err)
	}
	return src, nil
}

func (b *Builder) openData() error {
	o := b.opt
	var err error
	trainPath, testPath := b.data.TrainPath(), b.data.TestPath()
	if b.trainSrc, err = b.open(trainPath); err != nil {
		return err
	}
	n := b.trainSrc.NumSamples()
	if o.ValSource == "train" {
		if b.trainIDs, b.valIDs, err = loader.Split(n, o.ValFraction, o.SplitSeed); err != nil {
			return fmt.Errorf("supernet: %s: %w", trainPath, err)
		}
		b.valSrc = b.trainSrc
	} else {
		if b.valSrc, err = b.open(testPath); err != nil {
			return err
		}
		b.trainIDs = ids(n)
		b.valIDs = ids(b.valSrc.NumSamples())
	}
	if o.TrainImages > 0 && o.TrainImages < len(b.trainIDs) {
		b.trainIDs = b.trainIDs[:o.TrainImages]
	}
	if o.ValImages > 0 && o.ValImages < len(b.valIDs) {
		b.valIDs = b.valIDs[:o.ValImages]
	}
	if len(b.trainIDs) < o.BatchSize {
		return fmt.Errorf("supernet: %s: the training split has %d images, fewer than one batch of %d", trainPath, len(b.trainIDs), o.BatchSize)
	}
	if len(b.valIDs) == 0 {
		return fmt.Errorf("supernet: %s: the validation split is empty", map[string]string{"train": trainPath, "test": testPath}[o.ValSource])
	}
	// Checks every image's size and label once, up front, so that a bad
	// file fails here and not in the middle of a search.
	l, err := b.valLoader()
	if err != nil {
		return err
	}
	_, b.h, b.w = l.Shape()
	if b.h%4 != 0 || b.w%4 != 0 {
		// The search network's two reductions need even sizes at both.
		return fmt.Errorf("supernet: dataset %s: images are %dx%d, want sides that are multiples of 4", o.Data, b.w, b.h)
	}
	if err := b.scan(l); err != nil {
		return err
	}
	tl, err := loader.New(b.trainSrc, loader.Config{BatchSize: o.EvalBatch, Indices: b.trainIDs,
		Workers: o.LoaderWorkers, Classes: b.classes})
	if err != nil {
		return fmt.Errorf("supernet: %s: %w", trainPath, err)
	}
	if _, h, w := tl.Shape(); h != b.h || w != b.w {
		return fmt.Errorf("supernet: %s: images are %dx%d, the validation images %dx%d", trainPath, w, h, b.w, b.h)
	}
	return b.scan(tl)
}

// scan reads one epoch of l, reporting the first bad sample.
func (b *Builder) scan(l *loader.Loader) error {
	it := l.Epoch(0)
	defer it.Close()
	for it.Next() {
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("supernet: dataset %s: %w", b.opt.Data, err)
	}
	return nil
}

func ids(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// trainLoader returns a loader over the training split whose order and
// augmentation derive from seed.
func (b *Builder) trainLoader(seed uint64) (*loader.Loader, error) {
	mean, std := b.opt.norm()
	l, err := loader.New(b.trainSrc, loader.Config{
		BatchSize: b.opt.BatchSize, Order: loader.Random, Seed: seed, DropLast: true,
		Workers: b.opt.LoaderWorkers, Indices: b.trainIDs, Augment: b.opt.augment(), Classes: b.classes,
		Mean: mean, Std: std,
	})
	if err != nil {
		return nil, fmt.Errorf("supernet: training split of %s: %w", b.opt.Data, err)
	}
	return l, nil
}

// valLoader returns a loader over the validation split in file order.
func (b *Builder) valLoader() (*loader.Loader, error) {
	mean, std := b.opt.norm()
	l, err := loader.New(b.valSrc, loader.Config{
		BatchSize: b.opt.EvalBatch, Order: loader.Sequential, Workers: b.opt.LoaderWorkers,
		Indices: b.valIDs, Classes: b.classes, Mean: mean, Std: std,
	})
	if err != nil {
		return nil, fmt.Errorf("supernet: validation split of %s: %w", b.opt.Data, err)
	}
	return l, nil
}

// Split returns the sample ids trained on and validated on (copies).
func (b *Builder) Split() (train, val []int) { return slices.Clone(b.trainIDs), slices.Clone(b.valIDs) }

// Classes returns the number of classes.
func (b *Builder) Classes() int { return b.classes }

// Close closes the dataset files; the Builder's networks must not train or
// evaluate afterwards.
func (b *Builder) Close() (err error) {
	defer nn.RecoverDeviceFailure(&err)
	var errs []error
	for _, r := range b.files {
		errs = append(errs, r.Close())
	}
	b.files = nil
	return errors.Join(errs...)
}

// Build makes a fresh network for req: weights drawn from a PCG generator
// seeded by req.Seed, every mask 1, a fresh SGD. It is safe to call from
// several goroutines.
func (b *Builder) Build(req pertnas.BuildRequest) (_ pertnas.Supernet, err error) {
	defer nn.RecoverDeviceFailure(&err)
	return b.build(req)
}

func (b *Builder) build(req pertnas.BuildRequest) (*Net, error) {
	for e, eo := range req.Edges {
		if eo.Ops&^pertnas.AllOps != 0 {
			return nil, fmt.Errorf("supernet: build: edge %d holds op bits %#x outside the %d ops", e, uint8(eo.Ops), pertnas.NumOps)
		}
	}
	be, release, err := b.backend(req.Worker)
	if err != nil {
		return nil, err
	}
	net, err := darts.NewSearchNetwork(be, darts.SearchConfig{Edges: req.Edges},
		darts.SearchOptions{C: b.opt.Channels, Layers: b.opt.Layers, Classes: b.classes}, weightRNG(req.Seed))
	if err != nil {
		release()
		return nil, fmt.Errorf("supernet: build %s: %w", req.Edges, err)
	}
	n := &Net{b: b, release: release, net: net, edges: req.Edges, g: nn.NewGraph(be)}
	n.opt = n.newSGD()
	if b.opt.LossScaling {
		n.scaler = nn.NewLossScaler()
	}
	return n, nil
}

func (b *Builder) backend(worker int) (nn.Backend, func(), error) {
	if b.opt.NewBackend == nil {
		be := cpu.New(b.opt.Threads)
		return be, be.Close, nil
	}
	be, release, err := b.opt.NewBackend(worker)
	if err != nil {
		return nil, nil, fmt.Errorf("supernet: backend for worker %d: %w", worker, err)
	}
	if release == nil {
		release = func() {}
	}
	return be, release, nil
}

// String describes the builder's data and network for a stage's log.
func (b *Builder) String() string {
	return fmt.Sprintf("search network L=%d C=%d, %d classes, %dx%d images: %d training, %d validation (val source %s) from %s",
		b.opt.Layers, b.opt.Channels, b.classes, b.w, b.h, len(b.trainIDs), len(b.valIDs), b.opt.ValSource, b.opt.Data)
}

// weightRNG is the generator of a network's initial weights.
func weightRNG(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x853c49e6748fea9b))
}
