package pertnas

import (
	"context"

	"pertnas/formats/genotype"
)

// NumOps is the number of candidate operations (genotype.Ops, PRIMITIVES
// without none); NumEdges the number of edges of a cell.
const (
	NumOps   = len(genotype.Ops)
	NumEdges = genotype.Edges
)

// The candidate sets of the search cell are genotype's types, shared with
// the search network of package darts (one definition, no translation);
// the names below are the search's.
type (
	// OpSet is genotype.OpSet: bit i set means op i is a candidate.
	OpSet = genotype.OpSet
	// EdgeOps is genotype.EdgeOps: the candidate set of one edge.
	EdgeOps = genotype.EdgeOps
	// EdgeConfig is genotype.EdgeConfig: the candidates of each edge.
	EdgeConfig = genotype.EdgeConfig
)

// AllOps holds all seven ops.
const AllOps = genotype.AllOps

// OpSetOf returns the set holding ops (each 0..6).
func OpSetOf(ops ...int) OpSet { return genotype.OpSetOf(ops...) }

// EdgeNode returns the node (0..3) an edge feeds and the state it reads
// (0, 1: the cell inputs; 2..: earlier nodes).
func EdgeNode(edge int) (node, input int) {
	for n := 0; n < genotype.Nodes; n++ {
		if edge < genotype.EdgeIndex(n, n+2) {
			return n, edge - genotype.EdgeIndex(n, 0)
		}
	}
	return -1, -1
}

// NodeEdges returns the edges feeding node, inputs in order.
func NodeEdges(node int) []int {
	var es []int
	for in := 0; in < node+2; in++ {
		es = append(es, genotype.EdgeIndex(node, in))
	}
	return es
}

// BuildRequest asks a Builder for a fresh search network.
type BuildRequest struct {
	// Edges is the candidate set of every edge. Every op starts with mask 1.
	Edges EdgeConfig
	// Seed determines the initial weights and nothing else.
	Seed uint64
	// Worker numbers the caller among the members trained side by side in
	// one process (0..parallel-1), so that a builder can place each on its
	// own device. It must not influence any number.
	Worker int
}

// Builder makes search networks (docs/spec/darts.md: L cells of C channels, one
// cell type, BN affine=False) for one run: its configuration (layers,
// channels, batch size, optimiser settings, data split) and its dataset are
// fixed when the Builder is made. Build may be called from several
// goroutines at once; each Supernet is used by one goroutine at a time.
type Builder interface {
	Build(req BuildRequest) (Supernet, error)
}

// Supernet is one built search network together with its SGD optimiser
// (momentum Config.Momentum, weight decay Config.WeightDecay, batch
// Config.BatchSize, cross-entropy, the spec's augmentation) and the run's
// training and validation splits.
//
// Determinism contract: everything a method computes depends only on the
// network's state (weights, BN running statistics, optimiser momentum, masks)
// and its arguments. The data order and augmentation draws of TrainEpoch and
// FineTune derive from dataSeed alone, never from hidden RNG state, so that
// a network rebuilt with Build and Load continues exactly as the original.
type Supernet interface {
	// TrainEpoch runs one epoch over the training split at learning rate lr
	// (the caller steps the schedule). tick, if not nil, is called after
	// every step. It returns the epoch's mean loss and top-1 training
	// accuracy. A cancelled ctx may abort it between steps (with ctx.Err());
	// the network is then discarded by the caller.
	TrainEpoch(ctx context.Context, dataSeed uint64, lr float64, tick func(step, steps int)) (EpochStats, error)
	// FineTune runs steps SGD steps at learning rate lr, continuing from the
	// optimiser's current state, on training batches drawn in an order
	// derived from dataSeed. It returns the mean loss of those steps.
	FineTune(ctx context.Context, dataSeed uint64, steps int, lr float64, tick func(step, steps int)) (loss float64, err error)
	// Accuracy returns the top-1 accuracy (0..1) on the validation split,
	// in evaluation mode (BN running statistics); it changes nothing.
	Accuracy(ctx context.Context) (float64, error)
	// SetMask sets the 0/1 mask of op (0..6) on edge (0..13) in every cell.
	// Setting the mask of an op that is not a candidate of the edge is an
	// error.
	SetMask(edge, op int, on bool) error
	// ResetOptimizer starts a fresh SGD: momentum buffers are cleared.
	ResetOptimizer() error
	// ResetScaler starts a fresh loss scaler (fp16 mixed precision); a
	// network without loss scaling does nothing.
	ResetScaler() error
	// Snapshot returns a deep copy of the network's state: weights, BN
	// running statistics, optimiser state and masks. Restore puts a
	// snapshot of the same network back exactly.
	Snapshot() (Snapshot, error)
	Restore(Snapshot) error
	// Save writes the state (weights, BN statistics, optimiser state; all
	// masks are 1 when the search saves) to path; Load reads it back into a
	// network built with the same BuildRequest.Edges. Save writes path
	// atomically: a kill leaves the whole file or none.
	Save(path string) error
	Load(path string) error
	// Close releases the network's memory; the Supernet is not used after.
	Close() error
}

// EpochStats summarises one training epoch.
type EpochStats struct {
	Loss  float64 // mean cross-entropy over the epoch's steps
	Acc   float64 // top-1 accuracy on the augmented training batches
	Steps int     // SGD steps run
}

// Snapshot is a Supernet's opaque in-memory state copy.
type Snapshot any

// Env is what a Builder needs beyond the Config.
type Env struct {
	Data    string // dataset folder (the output of convert-cifar)
	Threads int    // CPU threads for the backend (<= 0: all); never changes a number
}

// OpenBuilder makes the Builder for a run: the integration of the darts
// networks, the nn engine and the data loader implements it.
type OpenBuilder func(cfg Config, env Env) (Builder, error)
