package nn

// Snapshot is an exact copy of a model's training state: every parameter
// value, every BN layer's running statistics and counter, and (if taken with
// an optimiser) its momentum buffers and step count. Copies stay on the
// backend (device-to-device), so taking and restoring are cheap.
type Snapshot struct {
	params  []Buffer
	runMean []Buffer
	runVar  []Buffer
	counts  []int64
	optBufs []Buffer
	steps   int64
	hasOpt  bool
}

// TakeSnapshot deep-copies the state of s (and opt, which may be nil).
func TakeSnapshot(s *Scope, opt *SGD) *Snapshot {
	sn := &Snapshot{}
	sn.Update(s, opt)
	return sn
}

func copyInto(list []Buffer, i int, t *Tensor) []Buffer {
	if i == len(list) {
		list = append(list, t.b.Alloc(t.n))
	} else if list[i].Len() != t.buf.Len() {
		list[i] = t.b.Alloc(t.n)
	}
	t.b.Copy(list[i], t.buf)
	return list
}

// Update overwrites the snapshot with the current state, reusing its memory.
func (sn *Snapshot) Update(s *Scope, opt *SGD) {
	ps, bns := s.Params(), s.BatchNorms()
	sn.params = sn.params[:min(len(sn.params), len(ps))]
	for i, p := range ps {
		sn.params = copyInto(sn.params, i, p.Value)
	}
	sn.runMean = sn.runMean[:min(len(sn.runMean), len(bns))]
	sn.runVar = sn.runVar[:min(len(sn.runVar), len(bns))]
	sn.counts = sn.counts[:0]
	for i, bn := range bns {
		sn.runMean = copyInto(sn.runMean, i, bn.RunningMean)
		sn.runVar = copyInto(sn.runVar, i, bn.RunningVar)
		sn.counts = append(sn.counts, bn.NumBatchesTracked)
	}
	sn.hasOpt = opt != nil
	if opt != nil {
		sn.optBufs = sn.optBufs[:min(len(sn.optBufs), len(opt.bufs))]
		for i, t := range opt.bufs {
			sn.optBufs = copyInto(sn.optBufs, i, t)
		}
		sn.steps = opt.steps
	}
}

// Restore writes the snapshot back, bit for bit, into s (and opt, if the
// snapshot was taken with one). s and opt must be the ones the snapshot was
// taken from (or built identically).
func (sn *Snapshot) Restore(s *Scope, opt *SGD) {
	ps, bns := s.Params(), s.BatchNorms()
	if len(ps) != len(sn.params) || len(bns) != len(sn.runMean) {
		panic("nn: Snapshot.Restore into a different model")
	}
	for i, p := range ps {
		p.Value.b.Copy(p.Value.buf, sn.params[i])
	}
	for i, bn := range bns {
		bn.RunningMean.b.Copy(bn.RunningMean.buf, sn.runMean[i])
		bn.RunningVar.b.Copy(bn.RunningVar.buf, sn.runVar[i])
		bn.NumBatchesTracked = sn.counts[i]
	}
	if opt != nil && sn.hasOpt {
		if len(opt.bufs) != len(sn.optBufs) {
			panic("nn: Snapshot.Restore into a different optimizer")
		}
		for i, t := range opt.bufs {
			t.b.Copy(t.buf, sn.optBufs[i])
		}
		opt.steps = sn.steps
	}
}
