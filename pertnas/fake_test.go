package pertnas

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"sync"
	"time"
)

// The fake model: a deterministic stand-in for a search network whose
// accuracy is a function of which ops are on (masks, edges) and how far
// each op has been trained (its "weight", a counter-like value that grows
// with every SGD step), plus noise from the seeds. Op (e, o) contributes
// importance[e][o]*w[e][o]; removing an important, trained op costs the
// most accuracy, so the search should keep the most important ops.

// fakeImportance[e][o]: distinct within an edge (the ranking differs
// between edges), and the best ops of a node's edges are distinct too.
func fakeImportance() (imp [NumEdges][NumOps]float64) {
	for e := range imp {
		for o := range imp[e] {
			imp[e][o] = (0.2 + float64((e*3+o*5)%NumOps)/float64(NumOps)) * (1 + 0.07*float64(e*5%NumOps))
		}
	}
	return imp
}

// call is one recorded call into the fake.
type call struct {
	Kind  string // build, epoch, finetune, acc, mask, reset, snapshot, restore, save, load, close
	Edges EdgeConfig
	Seed  uint64
	Edge  int
	Op    int
	On    bool
	Steps int
	LR    float64
	Acc   float64
}

// errInjected is the failure an injected "kill" returns.
var errInjected = errors.New("injected failure")

// fakeWorld is shared by a fake builder and its networks: it records the
// calls and fails the failAt-th call (1-based; 0: never).
type fakeWorld struct {
	mu     sync.Mutex
	calls  []call
	n      int
	failAt int
	delay  time.Duration // per call, for the SIGKILL test
	imp    [NumEdges][NumOps]float64
}

func newFakeWorld() *fakeWorld { return &fakeWorld{imp: fakeImportance()} }

// enter records c and reports whether this call must fail.
func (w *fakeWorld) enter(c call) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = append(w.calls, c)
	if c.Kind == "close" {
		return nil // Close cannot fail; a kill there changes nothing
	}
	w.n++
	if w.delay > 0 {
		time.Sleep(w.delay)
	}
	if w.failAt > 0 && w.n == w.failAt {
		return fmt.Errorf("%s: %w (call %d)", c.Kind, errInjected, w.n)
	}
	return nil
}

func (w *fakeWorld) Build(req BuildRequest) (Supernet, error) {
	if err := w.enter(call{Kind: "build", Edges: req.Edges, Seed: req.Seed}); err != nil {
		return nil, err
	}
	n := &fakeNet{world: w, edges: req.Edges}
	for e := range n.state.W {
		for o := range n.state.W[e] {
			n.state.W[e][o] = 0.05 * unit(req.Seed, uint64(e*NumOps+o))
			n.state.Mask[e][o] = req.Edges[e].Ops.Has(o)
		}
	}
	return n, nil
}

type fakeState struct {
	W, Mom [NumEdges][NumOps]float64
	Mask   [NumEdges][NumOps]bool
	Steps  uint64
	// Scalers counts ResetScaler calls (the fake has no loss scaler).
	Scalers int
}

type fakeNet struct {
	world  *fakeWorld
	edges  EdgeConfig
	state  fakeState
	closed bool
}

// unit hashes (seed, i) to [0, 1).
func unit(seed, i uint64) float64 { return float64(mix(seed^mix(i))>>11) / (1 << 53) }

func (n *fakeNet) live() error {
	if n.closed {
		return errors.New("fake: network used after Close")
	}
	return nil
}

// sgd runs steps steps: each active op's weight moves towards 1 with
// momentum, with a little noise from the data seed.
func (n *fakeNet) sgd(dataSeed uint64, steps int, lr float64) float64 {
	s := &n.state
	loss := 0.0
	for k := 0; k < steps; k++ {
		for e := range s.W {
			for o := range s.W[e] {
				if !s.Mask[e][o] {
					continue
				}
				g := (1 - s.W[e][o]) + 0.02*(unit(dataSeed, uint64(k*1000+e*NumOps+o))-0.5)
				s.Mom[e][o] = 0.9*s.Mom[e][o] + g
				s.W[e][o] += 0.3 * lr * s.Mom[e][o]
			}
		}
		s.Steps++
		loss += 2 - n.score()
	}
	return loss / float64(steps)
}

func (n *fakeNet) score() float64 {
	sum := 0.0
	for e := range n.state.W {
		for o := range n.state.W[e] {
			if n.state.Mask[e][o] {
				sum += n.world.imp[e][o] * n.state.W[e][o]
			}
		}
	}
	return sum
}

func (n *fakeNet) TrainEpoch(ctx context.Context, dataSeed uint64, lr float64, tick func(step, steps int)) (EpochStats, error) {
	if err := n.world.enter(call{Kind: "epoch", Seed: dataSeed, LR: lr}); err != nil {
		return EpochStats{}, err
	}
	if err := n.live(); err != nil {
		return EpochStats{}, err
	}
	const steps = 4
	loss := n.sgd(dataSeed, steps, lr)
	if tick != nil {
		tick(steps, steps)
	}
	return EpochStats{Loss: loss, Acc: 0.5, Steps: steps}, nil
}

func (n *fakeNet) FineTune(ctx context.Context, dataSeed uint64, steps int, lr float64, tick func(step, steps int)) (float64, error) {
	if err := n.world.enter(call{Kind: "finetune", Seed: dataSeed, Steps: steps, LR: lr}); err != nil {
		return 0, err
	}
	if err := n.live(); err != nil {
		return 0, err
	}
	return n.sgd(dataSeed, steps, lr), nil
}

func (n *fakeNet) Accuracy(ctx context.Context) (float64, error) {
	if err := n.live(); err != nil {
		return 0, err
	}
	// noise from the state: a hash of the weights
	var h uint64
	for e := range n.state.W {
		for o := range n.state.W[e] {
			h = mix(h ^ math.Float64bits(n.state.W[e][o]))
		}
	}
	a := 1/(1+math.Exp(-(n.score()-1))) + 1e-5*unit(h, 0)
	if err := n.world.enter(call{Kind: "acc", Acc: a}); err != nil {
		return 0, err
	}
	return a, nil
}

func (n *fakeNet) SetMask(edge, op int, on bool) error {
	if err := n.world.enter(call{Kind: "mask", Edge: edge, Op: op, On: on}); err != nil {
		return err
	}
	if !n.edges[edge].Ops.Has(op) {
		return fmt.Errorf("fake: op %d is not a candidate of edge %d", op, edge)
	}
	n.state.Mask[edge][op] = on
	return nil
}

func (n *fakeNet) ResetOptimizer() error {
	if err := n.world.enter(call{Kind: "reset"}); err != nil {
		return err
	}
	n.state.Mom = [NumEdges][NumOps]float64{}
	return nil
}

func (n *fakeNet) ResetScaler() error {
	if err := n.world.enter(call{Kind: "scaler"}); err != nil {
		return err
	}
	n.state.Scalers++
	return nil
}

func (n *fakeNet) Snapshot() (Snapshot, error) {
	if err := n.world.enter(call{Kind: "snapshot"}); err != nil {
		return nil, err
	}
	return n.state, nil
}

func (n *fakeNet) Restore(s Snapshot) error {
	if err := n.world.enter(call{Kind: "restore"}); err != nil {
		return err
	}
	n.state = s.(fakeState)
	return nil
}

func (n *fakeNet) Save(path string) error {
	b, err := json.Marshal(n.state)
	if err != nil {
		return err
	}
	if err := n.world.enter(call{Kind: "save"}); err != nil {
		os.WriteFile(path, b[:len(b)/2], 0o644) // a kill in mid-write
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func (n *fakeNet) Load(path string) error {
	if err := n.world.enter(call{Kind: "load"}); err != nil {
		return err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var s fakeState
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("fake load %s: %w", path, err)
	}
	for e := range s.Mask {
		for o := range s.Mask[e] {
			if s.Mask[e][o] != n.edges[e].Ops.Has(o) {
				return fmt.Errorf("fake load %s: saved with other edges or masks off", path)
			}
		}
	}
	n.state = s
	return nil
}

func (n *fakeNet) Close() error {
	n.closed = true
	return n.world.enter(call{Kind: "close"})
}
