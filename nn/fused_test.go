package nn_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"pertnas/nn"
	"pertnas/nn/cpu"
)

// fusedNet exercises every way a deferred output is read: BN -> ReLU ->
// depthwise (stride 1 and 2) -> pointwise (twice on one depthwise output),
// a concatenation through ReLU into pointwise and depthwise convolutions
// and then computed into storage (SliceChannels), drop path on a BN and a depthwise
// output,
// BN outputs summed by Add and MaskedSum (masks 1 and not 1), a depthwise
// output and a ReLU output read by ops that compute them (Add, MaxPool),
// ReLU of a ReLU, and an unaffine BN into a dilated depthwise convolution.
type fusedNet struct {
	sc                   *nn.Scope
	stem                 *nn.Conv2D
	stemBN, bn1, bn2     *nn.BatchNorm
	bn3                  *nn.BatchNorm
	dw1, pw1a, pw1b, dw2 *nn.Conv2D
	pw2, dwS, pwS, dil   *nn.Conv2D
	pwC, dwC, pwC2       *nn.Conv2D
	fc                   *nn.Linear
	drop                 *rand.Rand
}

func newFusedNet(be nn.Backend) *fusedNet {
	sc := nn.NewScope(be, rand.New(rand.NewPCG(3, 4)))
	return &fusedNet{
		sc:     sc,
		stem:   sc.Conv2D("stem", 3, 6, 3, 1, 1, 1, 1),
		stemBN: sc.BatchNorm("stem_bn", 6, true),
		dw1:    sc.Conv2D("dw1", 6, 6, 3, 1, 1, 1, 6),
		pw1a:   sc.Conv2D("pw1a", 6, 6, 1, 1, 0, 1, 1),
		pw1b:   sc.Conv2D("pw1b", 6, 6, 1, 1, 0, 1, 1),
		bn1:    sc.BatchNorm("bn1", 6, false),
		bn2:    sc.BatchNorm("bn2", 6, true),
		dw2:    sc.Conv2D("dw2", 6, 6, 5, 1, 2, 1, 6),
		pw2:    sc.Conv2D("pw2", 6, 6, 1, 1, 0, 1, 1),
		dil:    sc.Conv2D("dil", 6, 6, 3, 1, 2, 2, 6),
		bn3:    sc.BatchNorm("bn3", 6, false),
		dwS:    sc.Conv2D("dwS", 6, 6, 3, 2, 1, 1, 6),
		pwS:    sc.Conv2D("pwS", 6, 6, 1, 1, 0, 1, 1),
		pwC:    sc.Conv2D("pwC", 12, 6, 1, 1, 0, 1, 1),
		dwC:    sc.Conv2D("dwC", 12, 12, 3, 1, 1, 1, 12),
		pwC2:   sc.Conv2D("pwC2", 12, 6, 1, 1, 0, 1, 1),
		fc:     sc.Linear("fc", 6, 10),
		drop:   rand.New(rand.NewPCG(5, 6)),
	}
}

func (n *fusedNet) loss(g *nn.Graph, x *nn.Tensor, labels []int32) (*nn.Tensor, *nn.Tensor) {
	s := n.stemBN.Forward(g, n.stem.Forward(g, x))
	r := g.ReLU(s)
	d := n.dw1.Forward(g, r)
	a := n.bn1.Forward(g, n.pw1a.Forward(g, d))
	b := n.bn2.Forward(g, n.pw1b.Forward(g, d))
	c := n.bn3.Forward(g, n.pw2.Forward(g, n.dw2.Forward(g, g.ReLU(g.ReLU(a)))))
	e := n.dil.Forward(g, n.bn1.Forward(g, s))
	h := g.Add(a, b, s, c, e)
	c = g.DropPath(c, 0.3, n.drop)
	m := g.MaskedSum([]*nn.Tensor{c, h, g.DropPath(n.dw2.Forward(g, a), 0.5, n.drop)}, []float32{0.5, 1, -2})
	m = g.Add(m, g.MaxPool(r, 3, 1, 1))
	cat := g.Concat(h, m)
	rc := g.ReLU(cat)
	m = g.Add(n.pwC.Forward(g, rc), n.pwC2.Forward(g, n.dwC.Forward(g, rc)), g.SliceChannels(cat, 3, 9))
	t := n.pwS.Forward(g, n.dwS.Forward(g, g.ReLU(m)))
	logits := n.fc.Forward(g, g.Flatten(g.GlobalAvgPool(t)))
	return g.CrossEntropy(logits, labels, 0.1), a
}

type fusedRun struct {
	bits []uint32 // losses, a deferred output's values, params, grads, BN stats
}

func runFused(t *testing.T, be nn.Backend) []uint32 {
	net := newFusedNet(be)
	opt := nn.NewSGD(net.sc.Params(), 0.05, 0.9, 3e-4)
	g := nn.NewGraph(be)
	var bits []uint32
	add := func(v []float32) {
		for _, f := range v {
			bits = append(bits, math.Float32bits(f))
		}
	}
	for step := 0; step < 3; step++ {
		x, labels := batch(step)
		g.Reset()
		opt.ZeroGrad()
		loss, a := net.loss(g, g.FromHost(x, 16, 3, 16, 16), labels)
		add(a.Host())
		g.Backward(loss)
		add([]float32{loss.Item()})
		for _, p := range net.sc.Params() {
			add(p.Grad.Host())
		}
		opt.Step()
	}
	for _, nt := range net.sc.StateDict() {
		add(nt.F32)
	}
	return bits
}

// TestFusedInputsBitIdentical: training on the CPU backend, which defers
// (recomputes) batch norm, ReLU, concatenation and depthwise outputs, gives
// the same bits as on the eager one, which stores them.
func TestFusedInputsBitIdentical(t *testing.T) {
	for _, threads := range []int{1, 2} {
		be, eager := cpu.New(threads), cpu.New(threads)
		eager.SetEager(true)
		want := runFused(t, eager)
		got := runFused(t, be)
		if len(got) != len(want) {
			t.Fatalf("%d values, want %d", len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("threads %d: value %d: %#x, want %#x", threads, i, got[i], want[i])
			}
		}
		be.Close()
		eager.Close()
	}
}

// TestBackwardRecyclesActivations: Backward reuses the memory of 4-D
// activations (a later gradient overwrites it) but keeps logits and the
// loss readable, and KeepValues keeps everything.
func TestBackwardRecyclesActivations(t *testing.T) {
	be := cpu.New(1)
	defer be.Close()
	for _, keep := range []bool{false, true} {
		net := newSmallNet(be, 1)
		g := nn.NewGraph(be)
		g.KeepValues = keep
		x, labels := batch(0)
		var h, logits *nn.Tensor
		var before, beforeLogits []float32
		for step := 0; step < 2; step++ { // the second step reuses pooled buffers
			g.Reset()
			s := net.stem.Forward(g, g.FromHost(x, 16, 3, 16, 16))
			h = net.pw.Forward(g, net.dw.Forward(g, g.ReLU(s)))
			logits = net.fc.Forward(g, g.Flatten(g.GlobalAvgPool(g.Concat(h, h))))
			loss := g.CrossEntropy(logits, labels, 0)
			before = append(before[:0], h.Host()...)
			beforeLogits = append(beforeLogits[:0], logits.Host()...)
			lv := loss.Item()
			g.Backward(loss)
			if loss.Item() != lv {
				t.Fatalf("keep=%v: loss changed by Backward", keep)
			}
		}
		for i, v := range logits.Host() {
			if v != beforeLogits[i] {
				t.Fatalf("keep=%v: logits[%d] changed by Backward", keep, i)
			}
		}
		changed := false
		for i, v := range h.Host() {
			changed = changed || v != before[i]
		}
		if changed == keep {
			t.Errorf("keep=%v: activation changed by Backward: %v", keep, changed)
		}
	}
}

// callLog is a Backend that logs the kernel calls of the ops a graph
// chooses between, with their shapes, before passing them on.
type callLog struct {
	nn.Backend
	nn.HostBuffer
	calls []string
}

func (l *callLog) log(format string, a ...any) { l.calls = append(l.calls, fmt.Sprintf(format, a...)) }

func (l *callLog) Conv2DForward(d nn.ConvDesc, x, w, y nn.Buffer) {
	l.log("Conv2DForward %+v", d)
	l.Backend.Conv2DForward(d, x, w, y)
}
func (l *callLog) Conv2DBackwardData(d nn.ConvDesc, dy, w, dx nn.Buffer, acc bool) {
	l.log("Conv2DBackwardData %+v %v", d, acc)
	l.Backend.Conv2DBackwardData(d, dy, w, dx, acc)
}
func (l *callLog) Conv2DBackwardFilter(d nn.ConvDesc, x, dy, dw nn.Buffer) {
	l.log("Conv2DBackwardFilter %+v", d)
	l.Backend.Conv2DBackwardFilter(d, x, dy, dw)
}
func (l *callLog) BatchNormTrain(d nn.BNDesc, x, gamma, beta, rm, rv, y, sm, si nn.Buffer) {
	l.log("BatchNormTrain %+v", d)
	l.Backend.BatchNormTrain(d, x, gamma, beta, rm, rv, y, sm, si)
}
func (l *callLog) BatchNormTrainBackward(d nn.BNDesc, x, dy, gamma, sm, si, dx, dg, db nn.Buffer, acc bool) {
	l.log("BatchNormTrainBackward %+v %v", d, acc)
	l.Backend.BatchNormTrainBackward(d, x, dy, gamma, sm, si, dx, dg, db, acc)
}
func (l *callLog) ReLU(x, y nn.Buffer) {
	l.log("ReLU %d", x.Len())
	l.Backend.ReLU(x, y)
}
func (l *callLog) ReLUBackward(y, dy, dx nn.Buffer, acc bool) {
	l.log("ReLUBackward %d %v %v", y.Len(), dx == dy, acc)
	l.Backend.ReLUBackward(y, dy, dx, acc)
}
func (l *callLog) Concat(n, hw int, xs []nn.Buffer, cs []int, y nn.Buffer) {
	l.log("Concat %d %d %v", n, hw, cs)
	l.Backend.Concat(n, hw, xs, cs, y)
}
func (l *callLog) CopyChannels(n, hw int, src nn.Buffer, srcC, srcOff int, dst nn.Buffer, dstC, dstOff, c int, acc bool) {
	l.log("CopyChannels %d %d %d %d %d %d %d %v", n, hw, srcC, srcOff, dstC, dstOff, c, acc)
	l.Backend.CopyChannels(n, hw, src, srcC, srcOff, dst, dstC, dstOff, c, acc)
}
func (l *callLog) Copy(dst, src nn.Buffer) {
	l.log("Copy %d", src.Len())
	l.Backend.Copy(dst, src)
}
func (l *callLog) Scale(y nn.Buffer, alpha float32, x nn.Buffer) {
	l.log("Scale %d %v", x.Len(), alpha)
	l.Backend.Scale(y, alpha, x)
}
func (l *callLog) Axpy(y nn.Buffer, alpha float32, x nn.Buffer) {
	l.log("Axpy %d %v", x.Len(), alpha)
	l.Backend.Axpy(y, alpha, x)
}
func (l *callLog) ScaleSamples(n, size int, s []float32, x, y nn.Buffer, acc bool) {
	l.log("ScaleSamples %d %d %v %v", n, size, s, acc)
	l.Backend.ScaleSamples(n, size, s, x, y, acc)
}
func (l *callLog) MaxPool(d nn.PoolDesc, x, y nn.Buffer) {
	l.log("MaxPool %+v", d)
	l.Backend.MaxPool(d, x, y)
}
func (l *callLog) Fill(dst nn.Buffer, v float32) {
	l.log("Fill %d %v", dst.Len(), v)
	l.Backend.Fill(dst, v)
}

// TestGraphSameOpsOnEveryBackend: the graph makes the same kernel calls
// whether the backend defers outputs (the CPU backend) or computes them at
// once (eager, as the CUDA backend does): deferring is the backend's
// business alone.
func TestGraphSameOpsOnEveryBackend(t *testing.T) {
	var logs [2][]string
	for i := range logs {
		be := cpu.New(2)
		be.SetEager(i == 1)
		l := &callLog{Backend: be, HostBuffer: be}
		runFused(t, l)
		logs[i] = l.calls
		be.Close()
	}
	if len(logs[0]) < 100 || len(logs[0]) != len(logs[1]) {
		t.Fatalf("%d calls deferring, %d eager", len(logs[0]), len(logs[1]))
	}
	for i := range logs[0] {
		if logs[0][i] != logs[1][i] {
			t.Fatalf("call %d: %s deferring, %s eager", i, logs[0][i], logs[1][i])
		}
	}
}
