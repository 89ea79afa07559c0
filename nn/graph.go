package nn

import "fmt"

// opKind names a recorded operation.
type opKind uint8

const (
	opConv opKind = iota
	opBNTrain
	opBNInfer
	opLinear
	opReLU
	opMaxPool
	opAvgPool
	opGAP
	opConcat
	opSlice
	opShift
	opAdd
	opScale
	opMaskedSum
	opScaleSamples // drop path
	opFlatten
	opCE
)

// node is one recorded operation. Nodes are reused across steps (their
// slices keep their capacity), so recording allocates nothing in steady state.
type node struct {
	kind  opKind
	out   *Tensor
	in    []*Tensor
	f     []float32 // per-input scales (Add/MaskedSum) or per-sample scales (drop path)
	lab   []int32   // CE labels
	aux   [2]*Tensor
	conv  *Conv2D
	bn    *BatchNorm
	lin   *Linear
	pool  PoolDesc
	i     [4]int
	alpha float32
	flag  bool
}

// Graph records one forward pass for reverse-mode differentiation and owns
// the memory of every tensor it makes. Reset rewinds it for the next step:
// tensors and buffers of the previous step are reused (buffers by size), so a
// steady-state training step allocates almost nothing.
//
// A Graph is not safe for concurrent use.
type Graph struct {
	// Training selects batch statistics in BatchNorm (and updates the running
	// statistics) and enables DropPath.
	Training bool
	// NoGrad skips recording: forward only (evaluation). Backward then panics.
	NoGrad bool
	// KeepValues keeps every forward value readable until Reset. By
	// default Backward recycles the memory of 4-D intermediate values
	// (activations) as soon as no later backward step reads them; values
	// of inputs, of 2-D and smaller tensors (logits, losses) and of tensors
	// that received no gradient always stay valid until Reset.
	KeepValues bool

	b  Backend
	rc Recycler // b's, or nil

	nodes  []node
	nnodes int

	tensors  []*Tensor
	ntensors int

	free      map[poolKey][]Buffer // buffers not in use this step
	used      []Buffer             // buffers handed out this step (nil: released early)
	usedStats []bool               // used[i] is a float32 statistics buffer

	scratch []float32 // per-call host scratch (drop-path scales)
	parts   []Buffer  // Concat's arguments
	partC   []int
	done    bool // Backward has run since the last Reset
}

// NewGraph returns an empty graph on b, in training mode.
func NewGraph(b Backend) *Graph {
	rc, _ := b.(Recycler)
	return &Graph{Training: true, b: b, rc: rc, free: map[poolKey][]Buffer{}}
}

// Backend returns the graph's backend.
func (g *Graph) Backend() Backend { return g.b }

// Reset starts a new step: every tensor made by the graph since the last
// Reset becomes invalid and its memory is reused.
func (g *Graph) Reset() {
	for i, buf := range g.used {
		if buf != nil {
			g.putBack(buf, g.usedStats[i])
		}
	}
	g.used, g.usedStats = g.used[:0], g.usedStats[:0]
	for i := 0; i < g.nnodes; i++ {
		nd := &g.nodes[i]
		nd.out, nd.conv, nd.bn, nd.lin = nil, nil, nil, nil
		nd.aux = [2]*Tensor{}
		clear(nd.in)
		nd.in = nd.in[:0]
	}
	g.nnodes = 0
	g.done = false
	for i := 0; i < g.ntensors; i++ {
		*g.tensors[i] = Tensor{}
	}
	g.ntensors = 0
}

// poolKey identifies interchangeable buffers: length, and whether the
// buffer holds float32 statistics (BatchNorm's saved mean and inverse
// deviation, its scale and shift; losses) rather than activations, which a
// mixed-precision backend stores in a narrower type.
type poolKey struct {
	n     int
	stats bool
}

// buffer returns an n-element activation buffer with unspecified contents
// and its index in g.used (stats: a float32 statistics buffer instead).
func (g *Graph) buffer(n int, stats bool) (Buffer, int) {
	if n == 0 {
		n = 1 // keep every tensor backed by storage
	}
	k := poolKey{n, stats}
	var buf Buffer
	if l := g.free[k]; len(l) > 0 {
		buf = l[len(l)-1]
		g.free[k] = l[:len(l)-1]
	} else if a, ok := g.b.(ActivationAllocator); ok && !stats {
		buf = a.AllocActivation(n)
	} else {
		buf = g.b.Alloc(n)
	}
	g.used = append(g.used, buf)
	g.usedStats = append(g.usedStats, stats)
	return buf, len(g.used) - 1
}

// release returns t's buffer to the pool before the end of the step
// (t must not be used again).
func (g *Graph) release(t *Tensor) {
	if t.slot < 0 || g.used[t.slot] != t.buf {
		return
	}
	g.used[t.slot] = nil
	g.putBack(t.buf, g.usedStats[t.slot])
	t.slot = -1
}

// putBack returns buf to the pool (and its storage to a Recycler backend).
func (g *Graph) putBack(buf Buffer, stats bool) {
	if g.rc != nil {
		g.rc.Recycle(buf)
	}
	k := poolKey{buf.Len(), stats}
	g.free[k] = append(g.free[k], buf)
}

// tensor returns a graph tensor of the given shape with uninitialised data.
func (g *Graph) tensor(shape ...int) *Tensor { return g.newTensor(false, shape) }

// statTensor is tensor for float32 per-channel statistics (see poolKey).
func (g *Graph) statTensor(c int) *Tensor { return g.newTensor(true, []int{c}) }

// newTensor makes a graph tensor; one-element tensors (losses) are float32
// like statistics, so that a loss-scaling seed (2^16 and more) is
// representable whatever the activations' type.
func (g *Graph) newTensor(stats bool, shape []int) *Tensor {
	if g.ntensors == len(g.tensors) {
		g.tensors = append(g.tensors, &Tensor{})
	}
	t := g.tensors[g.ntensors]
	g.ntensors++
	t.b = g.b
	t.setShape(shape)
	t.buf, t.slot = g.buffer(t.n, stats || t.n == 1)
	t.graph = g
	return t
}

// tensorLike returns an uninitialised tensor shaped like x.
func (g *Graph) tensorLike(x *Tensor) *Tensor { return g.tensor(x.Shape()...) }

// view returns a tensor sharing x's buffer with a new shape (same size).
func (g *Graph) view(x *Tensor, shape ...int) *Tensor {
	if g.ntensors == len(g.tensors) {
		g.tensors = append(g.tensors, &Tensor{})
	}
	t := g.tensors[g.ntensors]
	g.ntensors++
	t.b = g.b
	t.setShape(shape)
	if t.n != x.n {
		panic(fmt.Sprintf("nn: view of %v as %v", x.Shape(), shape))
	}
	t.buf = x.buf
	t.slot = -1 // x owns the buffer
	t.graph = g
	return t
}

// record appends a node for out if any input needs a gradient; it returns
// the node (or nil when nothing is recorded).
func (g *Graph) record(kind opKind, out *Tensor, in ...*Tensor) *node {
	return g.recordIf(false, kind, out, in...)
}

// recordIf is record that also records when hasParams (the op owns
// parameters that need gradients whatever its inputs).
func (g *Graph) recordIf(hasParams bool, kind opKind, out *Tensor, in ...*Tensor) *node {
	if g.NoGrad {
		return nil
	}
	need := hasParams
	for _, x := range in {
		if x.needGrad {
			need = true
		}
	}
	if !need {
		return nil
	}
	out.needGrad = true
	if g.nnodes == len(g.nodes) {
		g.nodes = append(g.nodes, node{})
	}
	nd := &g.nodes[g.nnodes]
	g.nnodes++
	nd.kind = kind
	nd.out = out
	nd.in = append(nd.in[:0], in...)
	nd.f = nd.f[:0]
	nd.lab = nd.lab[:0]
	return nd
}

// Input returns x for use as a graph input (no gradient is computed for it).
func (g *Graph) Input(x *Tensor) *Tensor { return x }

// FromHost copies data into a graph-owned tensor (no gradient); the memory
// is reused after Reset, so feeding each batch this way allocates nothing.
func (g *Graph) FromHost(data []float32, shape ...int) *Tensor {
	t := g.tensor(shape...)
	if len(data) != t.n {
		panic(fmt.Sprintf("nn: Graph.FromHost: %d values for shape %v", len(data), shape))
	}
	g.b.Upload(t.buf, data)
	return t
}

// Zeros returns a constant zero tensor (the `none` op); it carries no gradient.
func (g *Graph) Zeros(shape ...int) *Tensor {
	t := g.tensor(shape...)
	g.b.Fill(t.buf, 0)
	return t
}

// gradOf returns x's gradient tensor, allocating a zeroed one on first use.
// Parameters' gradients are their Param.Grad.
func (g *Graph) gradOf(x *Tensor) *Tensor {
	if x.param != nil {
		return x.param.Grad
	}
	if x.grad == nil {
		gt := g.tensorLike(x)
		g.b.Fill(gt.buf, 0)
		x.grad = gt
	}
	return x.grad
}

// gradDst returns the buffer that x's gradient goes to and whether the
// caller must overwrite it (x has no gradient yet: the buffer is fresh and
// uninitialised) rather than add to it.
func (g *Graph) gradDst(x *Tensor) (Buffer, bool) {
	if x.param != nil {
		return x.param.Grad.buf, false
	}
	if x.grad != nil {
		return x.grad.buf, false
	}
	x.grad = g.tensorLike(x)
	return x.grad.buf, true
}

// Backward propagates d loss = 1 back through the recorded graph,
// accumulating into Param.Grad (the optimiser's ZeroGrad clears them) and
// into graph tensors' Grad(). loss must be a one-element tensor made by g;
// Backward runs at most once per Reset (it recycles gradient memory as it
// goes). To combine losses, add them first (g.Add(loss, g.Scale(aux, 0.4))).
func (g *Graph) Backward(loss *Tensor) { g.BackwardSeed(loss, 1) }

// BackwardSeed is Backward propagating d loss = seed (loss scaling).
func (g *Graph) BackwardSeed(loss *Tensor, seed float32) {
	if g.NoGrad {
		panic("nn: Backward on a NoGrad graph")
	}
	if loss.n != 1 {
		panic(fmt.Sprintf("nn: Backward of non-scalar shape %v", loss.Shape()))
	}
	if !loss.needGrad {
		return
	}
	dl := g.gradOf(loss)
	g.b.Fill(dl.buf, seed)
	g.propagate()
}

// propagate runs the tape backwards from whatever output gradients are set.
func (g *Graph) propagate() {
	if g.done {
		panic("nn: Backward called twice without Reset")
	}
	g.done = true
	for i := g.nnodes - 1; i >= 0; i-- {
		nd := &g.nodes[i]
		if nd.out.grad == nil {
			continue // nothing flowed into this node's output
		}
		g.backward(nd)
		// nd.out's gradient is dead now (its producer was its last
		// reader): recycle its memory for the gradients still to come.
		if gt := nd.out.grad; gt != nil && nd.out.param == nil {
			nd.out.grad = nil
			g.release(gt)
		}
		// So is nd.out's value: every backward step that reads it belongs
		// to a later op, already differentiated. 4-D activations only:
		// logits and losses stay readable until Reset.
		if nd.out.nd == 4 && nd.out.param == nil && !g.KeepValues {
			g.release(nd.out)
		}
	}
}
