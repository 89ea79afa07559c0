package train

import (
	"context"
	"fmt"
	"math"

	"pertnas/loader"
	"pertnas/nn"
)

// Forward is a network's forward pass over a batch x [N, 3, H, W] in the
// graph's mode: the class logits [N, classes] and, when the network has an
// auxiliary head and g.Training, the auxiliary logits (else nil).
type Forward func(g *nn.Graph, x *nn.Tensor) (logits, aux *nn.Tensor)

// Step is the one training step and evaluation of the project: train-eval's
// Trainer and the search supernet (package train/supernet) both run their
// batches through it. It holds what a step needs besides the network and
// the batch; the caller owns the optimiser's learning rate and the loop.
type Step struct {
	Graph  *nn.Graph      // the tape, reset at every batch
	Opt    *nn.SGD        // updates the parameters at Opt.LR
	Scaler *nn.LossScaler // dynamic loss scaling; nil: none
	// GradClip is the largest global gradient norm (nn.ClipGradNorm); 0:
	// no clipping.
	GradClip float32
	// AuxWeight weights the auxiliary logits' cross-entropy in the
	// training loss (when Forward returns them).
	AuxWeight float32
	// LabelSmoothing is the training loss's label smoothing; evaluation
	// always uses none.
	LabelSmoothing float32
}

// Outcome is what one batch measured: its mean loss and the number of its
// images whose label ranks first (Top1) and among the first five (Top5) of
// the logits, by the rule of Correct.
type Outcome struct {
	Loss       float64
	Top1, Top5 int
}

// begin resets the graph for a training (recording) or inference pass and
// feeds it b's images; it returns the graph, the input and b's labels.
func (s *Step) begin(b *loader.Batch, training bool) (*nn.Graph, *nn.Tensor, []int32) {
	g := s.Graph
	g.Reset()
	g.Training, g.NoGrad = training, !training
	return g, g.FromHost(b.Images[:b.N*3*b.H*b.W], b.N, 3, b.H, b.W), b.Labels[:b.N]
}

// Train runs one training step on b: the forward pass in training mode, the
// cross-entropy with LabelSmoothing plus AuxWeight times that of the
// auxiliary logits, the backward pass (scaled by Scaler), gradient clipping
// and Opt.Step. With loss scaling, a step whose gradients overflowed is
// skipped (the scaler halves its scale). A non-finite loss, or with
// clipping a non-finite gradient norm, is a *DivergenceError placed at
// (epoch, step) and no parameter changes. Outcome.Loss is the training loss,
// the counts are of the training-mode logits.
func (s *Step) Train(b *loader.Batch, f Forward, epoch, step int) (Outcome, error) {
	g, x, labels := s.begin(b, true)
	logits, aux := f(g, x)
	loss := g.CrossEntropy(logits, labels, s.LabelSmoothing)
	if aux != nil && s.AuxWeight > 0 {
		loss = g.Add(loss, g.Scale(g.CrossEntropy(aux, labels, s.LabelSmoothing), s.AuxWeight))
	}
	out := Outcome{Loss: float64(loss.Item())}
	if math.IsNaN(out.Loss) || math.IsInf(out.Loss, 0) {
		return out, &DivergenceError{Epoch: epoch, Step: step, What: fmt.Sprintf("loss is %v", out.Loss)}
	}
	out.Top1, out.Top5 = Correct(logits.Host(), labels)
	params := s.Opt.Params()
	s.Opt.ZeroGrad()
	s.Scaler.Backward(g, loss)
	if !s.Scaler.Unscale(params) { // fp16 overflow: step skipped
		return out, nil
	}
	if s.GradClip > 0 {
		norm := float64(nn.ClipGradNorm(params, s.GradClip))
		if math.IsNaN(norm) || math.IsInf(norm, 0) {
			return out, &DivergenceError{Epoch: epoch, Step: step, What: fmt.Sprintf("gradient norm is %v", norm)}
		}
	}
	s.Opt.Step()
	return out, nil
}

// Eval runs f on b in inference mode (no tape, BatchNorm running
// statistics): the plain cross-entropy and the counts. It changes no state
// but the graph's.
func (s *Step) Eval(b *loader.Batch, f Forward) Outcome {
	g, x, labels := s.begin(b, false)
	logits, _ := f(g, x)
	out := Outcome{Loss: float64(g.CrossEntropy(logits, labels, 0).Item())}
	out.Top1, out.Top5 = Correct(logits.Host(), labels)
	return out
}

// Eval is the outcome of an evaluation over a data set: mean cross-entropy,
// top-1 and top-5 accuracy (fractions of the images, 0 without images).
type Eval struct{ Loss, Acc, Acc5 float64 }

// Evaluate runs Eval over every batch of epoch 0 of l (for a loader in
// file order: the whole split, as it is stored). A cancelled ctx stops it
// between batches with ctx's error; a loader error is returned as is.
func (s *Step) Evaluate(ctx context.Context, l *loader.Loader, f Forward) (Eval, error) {
	it := l.Epoch(0)
	defer it.Close()
	var sum tally
	for it.Next() {
		if err := ctx.Err(); err != nil {
			return Eval{}, err
		}
		b := it.Batch()
		sum.add(s.Eval(b, f), b.N)
	}
	if err := it.Err(); err != nil {
		return Eval{}, err
	}
	return sum.mean(), nil
}

// tally sums batches' outcomes, each loss weighted by its batch's images.
type tally struct {
	loss             float64
	top1, top5, seen int
}

func (t *tally) add(o Outcome, images int) {
	t.loss += o.Loss * float64(images)
	t.top1, t.top5 = t.top1+o.Top1, t.top5+o.Top5
	t.seen += images
}

// mean is the mean loss per image and the accuracies (zero without images).
func (t *tally) mean() Eval {
	if t.seen == 0 {
		return Eval{}
	}
	n := float64(t.seen)
	return Eval{t.loss / n, float64(t.top1) / n, float64(t.top5) / n}
}

// Correct counts the rows of logits [N, classes] whose label ranks first
// (top1) and among the first five (top5). The rule, the one of every
// accuracy the project reports: a label's rank is the number of logits
// above it plus the number of equal ones at lower indices, so top-1 means
// "the first maximum is at the label"; a row holding a
// NaN logit anywhere counts for neither (its ranking is undefined).
func Correct(logits []float32, labels []int32) (top1, top5 int) {
	n := len(labels)
	if n == 0 {
		return 0, 0
	}
	k := len(logits) / n
rows:
	for i, lab := range labels {
		row := logits[i*k : (i+1)*k]
		v := row[lab]
		rank := 0
		for j, u := range row {
			if u != u {
				continue rows
			}
			if u > v || (u == v && j < int(lab)) {
				rank++
			}
		}
		if rank == 0 {
			top1++
		}
		if rank < 5 {
			top5++
		}
	}
	return top1, top5
}
