package supernet

import (
	"context"
	"errors"
	"fmt"

	"pertnas/darts"
	"pertnas/loader"
	"pertnas/nn"
	"pertnas/pertnas"
	"pertnas/train"
)

// Net is a built search network with its backend, tape and SGD optimiser
// (pertnas.Supernet), trained and evaluated by train.Step. It is used by one
// goroutine at a time.
type Net struct {
	b       *Builder
	release func() // gives the backend back
	net     *darts.SearchNetwork
	opt     *nn.SGD
	scaler  *nn.LossScaler // nil without Options.LossScaling
	g       *nn.Graph
	edges   pertnas.EdgeConfig
	val     *loader.Loader // created on the first Accuracy
}

var _ pertnas.Supernet = (*Net)(nil)

func (n *Net) newSGD() *nn.SGD {
	return nn.NewSGD(n.net.Params(), 0, float32(n.b.opt.Momentum), float32(n.b.opt.WeightDecay))
}

var errClosed = errors.New("supernet: network used after Close")

// Network returns the darts network (for inspection and tests).
func (n *Net) Network() *darts.SearchNetwork { return n.net }

// step returns the network's train.Step over its tape, optimiser and loss
// scaler: the search clips no gradients, its network has no auxiliary head
// and its loss no label smoothing.
func (n *Net) step() *train.Step { return &train.Step{Graph: n.g, Opt: n.opt, Scaler: n.scaler} }

// forward is the network's train.Forward.
func (n *Net) forward(g *nn.Graph, x *nn.Tensor) (*nn.Tensor, *nn.Tensor) {
	return n.net.Forward(g, x), nil
}

// TrainEpoch runs one epoch over the training split (the loader's epoch 0
// for seed dataSeed) at learning rate lr.
func (n *Net) TrainEpoch(ctx context.Context, dataSeed uint64, lr float64, tick func(step, steps int)) (_ pertnas.EpochStats, err error) {
	defer nn.RecoverDeviceFailure(&err)
	if n.net == nil {
		return pertnas.EpochStats{}, errClosed
	}
	l, err := n.b.trainLoader(dataSeed)
	if err != nil {
		return pertnas.EpochStats{}, err
	}
	steps := l.NumBatches()
	it := l.Epoch(0)
	defer it.Close()
	var st pertnas.EpochStats
	var lossSum float64
	images, correct := 0, 0
	s := n.step()
	s.Opt.LR = float32(lr)
	for it.Next() {
		if err := ctx.Err(); err != nil {
			return pertnas.EpochStats{}, err
		}
		bt := it.Batch()
		o, err := s.Train(bt, n.forward, -1, st.Steps)
		if err != nil {
			return pertnas.EpochStats{}, fmt.Errorf("supernet: train epoch: %w", err)
		}
		lossSum += o.Loss
		correct += o.Top1
		images += bt.N
		st.Steps++
		if tick != nil {
			tick(st.Steps, steps)
		}
	}
	if err := it.Err(); err != nil {
		return pertnas.EpochStats{}, fmt.Errorf("supernet: train epoch: %w", err)
	}
	if st.Steps == 0 {
		return pertnas.EpochStats{}, errors.New("supernet: train epoch: no batches")
	}
	st.Loss = lossSum / float64(st.Steps)
	st.Acc = float64(correct) / float64(images)
	return st, nil
}

// FineTune runs steps SGD steps at lr from the optimiser's current state,
// on the batches of the loader's epochs 0, 1, ... for seed dataSeed, taken
// in order across epoch boundaries; it returns their mean loss.
func (n *Net) FineTune(ctx context.Context, dataSeed uint64, steps int, lr float64, tick func(step, steps int)) (_ float64, err error) {
	defer nn.RecoverDeviceFailure(&err)
	if n.net == nil {
		return 0, errClosed
	}
	if steps < 1 {
		return 0, fmt.Errorf("supernet: fine-tune of %d steps", steps)
	}
	l, err := n.b.trainLoader(dataSeed)
	if err != nil {
		return 0, err
	}
	var lossSum float64
	done := 0
	s := n.step()
	s.Opt.LR = float32(lr)
	for epoch := 0; done < steps; epoch++ {
		if err := n.fineTuneEpoch(ctx, s, l, epoch, steps, &done, &lossSum, tick); err != nil {
			return 0, err
		}
	}
	return lossSum / float64(steps), nil
}

func (n *Net) fineTuneEpoch(ctx context.Context, s *train.Step, l *loader.Loader, epoch, steps int, done *int, lossSum *float64, tick func(step, steps int)) error {
	it := l.Epoch(epoch)
	defer it.Close()
	for *done < steps && it.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		o, err := s.Train(it.Batch(), n.forward, -1, *done)
		if err != nil {
			return fmt.Errorf("supernet: fine-tune: %w", err)
		}
		*lossSum += o.Loss
		*done++
		if tick != nil {
			tick(*done, steps)
		}
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("supernet: fine-tune: %w", err)
	}
	return nil
}

// Accuracy returns the top-1 accuracy on the validation split in
// evaluation mode; it changes no state.
func (n *Net) Accuracy(ctx context.Context) (_ float64, err error) {
	defer nn.RecoverDeviceFailure(&err)
	if n.net == nil {
		return 0, errClosed
	}
	if n.val == nil {
		l, err := n.b.valLoader()
		if err != nil {
			return 0, err
		}
		n.val = l
	}
	ev, err := n.step().Evaluate(ctx, n.val, n.forward)
	if err != nil && !errors.Is(err, ctx.Err()) {
		return 0, fmt.Errorf("supernet: accuracy: %w", err)
	}
	return ev.Acc, err
}

// SetMask sets the mask of op on edge in every cell; op must be a
// candidate of the edge.
func (n *Net) SetMask(edge, op int, on bool) (err error) {
	defer nn.RecoverDeviceFailure(&err)
	if n.net == nil {
		return errClosed
	}
	if err := n.net.SetMask(edge, op, on); err != nil {
		return fmt.Errorf("supernet: %w", err)
	}
	return nil
}

// ResetOptimizer replaces the SGD with a fresh one (no momentum, step 0).
func (n *Net) ResetOptimizer() (err error) {
	defer nn.RecoverDeviceFailure(&err)
	if n.net == nil {
		return errClosed
	}
	n.opt = n.newSGD()
	return nil
}

// ResetScaler starts a fresh loss scaler (nn.NewLossScaler) when the
// network scales losses; otherwise it does nothing.
func (n *Net) ResetScaler() (err error) {
	defer nn.RecoverDeviceFailure(&err)
	if n.net == nil {
		return errClosed
	}
	if n.scaler != nil {
		n.scaler = nn.NewLossScaler()
	}
	return nil
}

// snapshot is a Net's state copy: nn's snapshot (on the network's backend)
// plus the masks.
type snapshot struct {
	owner *Net
	state *nn.Snapshot
	mask  masks
}

// masks lists the mask of every (edge, op) pair.
type masks [pertnas.NumEdges][pertnas.NumOps]bool

func (n *Net) masks() masks {
	var m masks
	for e := range m {
		for o := range m[e] {
			m[e][o] = n.net.Mask(e, o)
		}
	}
	return m
}

// setMasks applies m to the candidates of every edge.
func (n *Net) setMasks(m masks) error {
	for e, eo := range n.edges {
		for _, o := range eo.Ops.List() {
			if err := n.net.SetMask(e, o, m[e][o]); err != nil {
				return fmt.Errorf("supernet: %w", err)
			}
		}
	}
	return nil
}

// Snapshot returns a deep copy of the weights, BN statistics, optimiser
// state and masks.
func (n *Net) Snapshot() (_ pertnas.Snapshot, err error) {
	defer nn.RecoverDeviceFailure(&err)
	if n.net == nil {
		return nil, errClosed
	}
	return &snapshot{owner: n, state: nn.TakeSnapshot(n.net.Scope(), n.opt), mask: n.masks()}, nil
}

// Restore puts back a snapshot of this network exactly.
func (n *Net) Restore(s pertnas.Snapshot) (err error) {
	defer nn.RecoverDeviceFailure(&err)
	if n.net == nil {
		return errClosed
	}
	sn, ok := s.(*snapshot)
	if !ok || sn.owner != n {
		return errors.New("supernet: restore of a snapshot taken from another network")
	}
	sn.state.Restore(n.net.Scope(), n.opt)
	return n.setMasks(sn.mask)
}

// Close drops the network's memory and gives its backend back; the Net is
// not used afterwards.
func (n *Net) Close() (err error) {
	defer nn.RecoverDeviceFailure(&err)
	if n.net == nil {
		return nil
	}
	n.net, n.opt, n.g, n.val = nil, nil, nil, nil
	n.release()
	n.release = nil
	return nil
}
