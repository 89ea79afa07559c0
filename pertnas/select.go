package pertnas

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"pertnas/formats/artifact"
	"pertnas/formats/genotype"
)

// FineOrder is the order in which fine op selection visits the edges.
var FineOrder = [NumEdges]int{13, 12, 8, 11, 7, 4, 9, 10, 5, 6, 2, 3, 0, 1}

// Decisions recorded in selection.arrow.
const (
	Keep  = "keep"  // the op (coarse, fine) or edge (topology) stays
	Drop  = "drop"  // it is removed
	Other = "other" // topology: a perturbation of an edge of another node (measured, not deciding)
)

// SelectionRow is one row of selection.arrow: a valuation or perturbation
// of phases 4-6 and the decision it fed.
type SelectionRow struct {
	Phase     string  `arrow:"phase"`      // coarse, fine, topology
	Round     int     `arrow:"round"`      // fine: position in FineOrder; topology: position in the node order; coarse: 0
	Node      int     `arrow:"node"`       // the node whose inputs are decided (the edge's node for coarse, fine)
	Edge      int     `arrow:"edge"`       // the perturbed edge
	Op        int     `arrow:"op"`         // the perturbed op
	OpName    string  `arrow:"op_name"`    // genotype.Ops[op]
	AccBefore float64 `arrow:"acc_before"` // coarse: mean over members
	AccAfter  float64 `arrow:"acc_after"`  // coarse: mean over members
	Diff      float64 `arrow:"diff"`       // coarse: the mean valuation
	Decision  string  `arrow:"decision"`   // keep, drop, other
}

// Result is the outcome of the selection.
type Result struct {
	Genotype  genotype.Genotype
	Mean      [NumEdges][NumOps]float64 // phase 3: the mean valuation matrix
	NodeOrder []int                     // phase 6: the order nodes 1..3 were visited
	Rows      []SelectionRow
}

// Summary is search.json.
type Summary struct {
	Config       Config            `json:"config"`
	Seed         uint64            `json:"seed"`
	Genotype     genotype.Genotype `json:"genotype"`
	GenotypeRepr string            `json:"genotype_repr"`
	NodeOrder    []int             `json:"node_order"`
	// Phases: expand (summed over members), coarse, fine, topology.
	Phases       []PhaseCost     `json:"phases"`
	Members      []MemberSummary `json:"members"`
	SelectDevice string          `json:"select_device"`
	// Seconds is the summed time of all units of all jobs: the cost on
	// one device, not an elapsed time when members run side by side.
	Seconds float64 `json:"device_seconds"`
	// MemberSeconds is each member's time (phases 1-2), SelectSeconds the
	// selection's (phases 3-7), and WallSeconds the elapsed time of the
	// search with every member run side by side (make -j NPOP, run
	// --parallel NPOP, a SLURM array): the longest member plus the
	// selection.
	MemberSeconds []float64 `json:"member_seconds"`
	SelectSeconds float64   `json:"select_seconds"`
	WallSeconds   float64   `json:"wall_seconds"`
}

// NodeOrder returns the seeded order in which topology selection visits
// nodes 1, 2, 3.
func NodeOrder(cfg Config) []int {
	rng := rngFor(cfg.Seed, "topology/order")
	p := rng.Perm(genotype.Nodes - 1)
	for i := range p {
		p[i]++
	}
	return p
}

// SelectUnits is the number of units of work of the selection (Progress.Total).
func SelectUnits(cfg Config) int {
	n := 1 + cfg.CoarseEpochs
	n += NumEdges * (1 + cfg.CoarseKeep + 1 + cfg.FineEpochs)
	edges := NumEdges
	order := NodeOrder(cfg)
	for t, node := range order {
		n += 2 + edges // reset, accuracy, perturbations
		edges -= node  // node keeps 2 of its node+2 inputs
		if t < len(order)-1 {
			n += 1 + cfg.TopoEpochs
		}
	}
	return n
}

// MeanValuation is phase 3: the mean of the members' valuation matrices.
// It also returns the mean accuracies before and after each perturbation.
func MeanValuation(members [][]ValuationRow) (diff, before, after [NumEdges][NumOps]float64) {
	for _, rows := range members {
		for _, r := range rows {
			diff[r.Edge][r.Op] += r.Diff
			before[r.Edge][r.Op] += r.AccBefore
			after[r.Edge][r.Op] += r.AccAfter
		}
	}
	n := float64(len(members))
	for e := range diff {
		for o := range diff[e] {
			diff[e][o] /= n
			before[e][o] /= n
			after[e][o] /= n
		}
	}
	return
}

// Select runs phases 3-7 over the completed members of the run and writes
// selection.arrow, genotype.json, genotype.py, cell.svg and search.json. It
// resumes from its saved state.
func Select(ctx context.Context, opts Options) (*Result, error) {
	cfg := opts.Config
	if err := ClaimRun(opts.Dir, cfg); err != nil {
		return nil, err
	}
	members := make([][]ValuationRow, cfg.Npop)
	var missing []int
	for m := range members {
		rows, err := ReadValuation(opts.Dir, m)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				missing = append(missing, m)
				continue
			}
			return nil, err
		}
		members[m] = rows
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("run %s: members %v have not finished (no members/I/valuation.arrow); run them first", opts.Dir, missing)
	}

	dir := filepath.Join(opts.Dir, "select")
	s, err := openSession(ctx, opts.Builder, opts.Worker, "select", filepath.Join(dir, "state"), filepath.Join(dir, "log.arrow"))
	if err != nil {
		return nil, err
	}
	defer s.close()
	s.progress, s.total = opts.Progress, SelectUnits(cfg)
	s.restoreNone, s.freshScaler = cfg.Restore == "none", cfg.GradScaler == "fresh"

	res := &Result{}
	// Phase 3.
	var before, after [NumEdges][NumOps]float64
	res.Mean, before, after = MeanValuation(members)

	// Phase 4: coarse op selection.
	var cell EdgeConfig
	for e := 0; e < NumEdges; e++ {
		ops := make([]int, NumOps)
		for o := range ops {
			ops[o] = o
		}
		slices.SortStableFunc(ops, func(a, b int) int { return cmp.Compare(res.Mean[e][a], res.Mean[e][b]) })
		cell[e] = EdgeOps{Ops: OpSetOf(ops[:cfg.CoarseKeep]...), None: true}
		node, _ := EdgeNode(e)
		for o := 0; o < NumOps; o++ {
			res.Rows = append(res.Rows, SelectionRow{Phase: "coarse", Node: node, Edge: e, Op: o, OpName: genotype.Ops[o],
				AccBefore: before[e][o], AccAfter: after[e][o], Diff: res.Mean[e][o], Decision: decision(cell[e].Ops.Has(o))})
		}
	}
	if err := s.build("coarse", -1, cell, derive(cfg.Seed, "coarse/weights")); err != nil {
		return nil, err
	}
	lr, err := s.train("coarse", -1, cfg.CoarseEpochs, cfg.LR0/cfg.CoarseLRDiv, cfg.LRMin, func(k int) uint64 {
		return derive(cfg.Seed, "coarse/epoch", k)
	})
	if err != nil {
		return nil, err
	}

	// Phase 5: fine op selection.
	for round, e := range FineOrder {
		if cfg.FinetuneLR > 0 {
			lr = cfg.FinetuneLR
		}
		a0, err := s.accuracy("fine", e)
		if err != nil {
			return nil, err
		}
		ftSeed := derive(cfg.Seed, "fine/finetune", e)
		ops := cell[e].Ops.List()
		diffs := make([]float64, len(ops))
		accs := make([]float64, len(ops))
		for i, op := range ops {
			r, err := s.perturb("fine", e, op, cfg.fineSteps(), lr, a0, cfg.finetuneSeed(ftSeed, i), i == 0)
			if err != nil {
				return nil, err
			}
			accs[i], diffs[i] = float64(r.Acc), float64(r.Acc)-a0
		}
		best := ops[argmin(diffs)]
		cell[e].Ops = OpSetOf(best)
		node, _ := EdgeNode(e)
		for i, op := range ops {
			res.Rows = append(res.Rows, SelectionRow{Phase: "fine", Round: round, Node: node, Edge: e, Op: op, OpName: genotype.Ops[op],
				AccBefore: a0, AccAfter: accs[i], Diff: diffs[i], Decision: decision(op == best)})
		}
		if err := s.build("fine", e, cell, derive(cfg.Seed, "fine/weights", e)); err != nil {
			return nil, err
		}
		lr, err = s.train("fine", e, cfg.FineEpochs, cfg.LR0/cfg.FineLRDiv, cfg.LRMin, func(k int) uint64 {
			return derive(cfg.Seed, "fine/epoch", e, k)
		})
		if err != nil {
			return nil, err
		}
	}
	// The network keeps its none ops: they output zeros, so dropping them
	// changes nothing it computes.
	for e := range cell {
		cell[e].None = false
	}

	// Phase 6: topology selection.
	res.NodeOrder = NodeOrder(cfg)
	topoLR := cfg.LR0 / cfg.TopoLRDiv
	for round, node := range res.NodeOrder {
		if err := s.resetOptimizer("topology", -1); err != nil {
			return nil, err
		}
		a0, err := s.accuracy("topology", -1)
		if err != nil {
			return nil, err
		}
		ftSeed := derive(cfg.Seed, "topology/finetune", node)
		diff := map[int]float64{}
		acc := map[int]float64{}
		var edges []int
		for e := 0; e < NumEdges; e++ {
			if cell[e].Ops.Len() == 0 {
				continue
			}
			op := cell[e].Ops.List()[0]
			r, err := s.perturb("topology", e, op, cfg.topoSteps(), topoLR, a0, cfg.finetuneSeed(ftSeed, e), len(edges) == 0)
			if err != nil {
				return nil, err
			}
			edges = append(edges, e)
			acc[e], diff[e] = float64(r.Acc), float64(r.Acc)-a0
		}
		in := NodeEdges(node)
		slices.SortStableFunc(in, func(a, b int) int { return cmp.Compare(diff[a], diff[b]) })
		kept := map[int]bool{in[0]: true, in[1]: true}
		for _, e := range edges {
			d := Other
			if n, _ := EdgeNode(e); n == node {
				d = decision(kept[e])
			}
			op := cell[e].Ops.List()[0]
			res.Rows = append(res.Rows, SelectionRow{Phase: "topology", Round: round, Node: node, Edge: e, Op: op, OpName: genotype.Ops[op],
				AccBefore: a0, AccAfter: acc[e], Diff: diff[e], Decision: d})
		}
		for _, e := range in[2:] {
			cell[e].Ops = 0
		}
		if round < len(res.NodeOrder)-1 {
			if err := s.build("topology", -1, cell, derive(cfg.Seed, "topology/weights", node)); err != nil {
				return nil, err
			}
			if _, err := s.train("topology", -1, cfg.TopoEpochs, topoLR, cfg.LRMin, func(k int) uint64 {
				return derive(cfg.Seed, "topology/epoch", node, k)
			}); err != nil {
				return nil, err
			}
		}
	}

	// Phase 7.
	g, err := cellGenotype(cell)
	if err != nil {
		return nil, err
	}
	res.Genotype = g
	if err := writeResult(opts.Dir, cfg, res, s.journal); err != nil {
		return nil, err
	}
	if err := s.finish(); err != nil {
		return nil, err
	}
	return res, nil
}

func decision(keep bool) string {
	if keep {
		return Keep
	}
	return Drop
}

// argmin returns the index of the smallest value, the first one on ties.
func argmin(xs []float64) int {
	best := 0
	for i, x := range xs {
		if x < xs[best] {
			best = i
		}
	}
	return best
}

// cellGenotype turns a cell whose nodes each keep 2 single-op edges into a
// genotype (pairs in input order; normal = reduce).
func cellGenotype(cell EdgeConfig) (genotype.Genotype, error) {
	var pairs []genotype.Pair
	for node := 0; node < genotype.Nodes; node++ {
		var ps []genotype.Pair
		for _, e := range NodeEdges(node) {
			switch ops := cell[e].Ops.List(); len(ops) {
			case 0:
			case 1:
				_, in := EdgeNode(e)
				ps = append(ps, genotype.Pair{Op: genotype.Ops[ops[0]], Input: in})
			default:
				return genotype.Genotype{}, fmt.Errorf("selection left edge %d with ops %s", e, cell[e].Ops)
			}
		}
		if len(ps) != 2 {
			return genotype.Genotype{}, fmt.Errorf("selection left node %d with %d inputs, want 2", node, len(ps))
		}
		pairs = append(pairs, ps...)
	}
	g := genotype.Genotype{
		Normal: pairs, NormalConcat: slices.Clone(genotype.Concat),
		Reduce: slices.Clone(pairs), ReduceConcat: slices.Clone(genotype.Concat),
	}
	if err := g.Validate(); err != nil {
		return genotype.Genotype{}, err
	}
	return g, nil
}

// writeResult writes the selection's artifacts; genotype.json last, since
// its presence marks the search complete.
func writeResult(run string, cfg Config, res *Result, journal []entry) error {
	if err := artifact.WriteTable(filepath.Join(run, "selection.arrow"), res.Rows); err != nil {
		return err
	}
	repr := res.Genotype.Repr()
	if err := artifact.WriteFile(filepath.Join(run, "genotype.py"), func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "# PertNAS search, seed %d. Paste into DARTS' genotypes.py (which defines Genotype);\n# pertnas tools (train-eval, export-nb301) read this file as it is.\nPERTNAS = %s\n",
			cfg.Seed, repr)
		return err
	}); err != nil {
		return err
	}
	if err := artifact.WriteFile(filepath.Join(run, "cell.svg"), func(w io.Writer) error {
		_, err := w.Write(CellSVG(res.Genotype.Normal, "PertNAS cell (normal = reduce), seed "+fmt.Sprint(cfg.Seed)))
		return err
	}); err != nil {
		return err
	}
	sum := Summary{Config: cfg, Seed: cfg.Seed, Genotype: res.Genotype, GenotypeRepr: repr, NodeOrder: res.NodeOrder, SelectDevice: cfg.Device}
	expand := PhaseCost{Phase: "expand"}
	for m := 0; m < cfg.Npop; m++ {
		var ms MemberSummary
		if err := artifact.ReadJSON(filepath.Join(memberDir(run, m), "member.json"), &ms); err != nil {
			return fmt.Errorf("member %d summary: %w", m, err)
		}
		sum.Members = append(sum.Members, ms)
		var seconds float64
		for _, c := range ms.Cost {
			expand = addCost(expand, c)
			seconds += c.Seconds
		}
		sum.MemberSeconds = append(sum.MemberSeconds, seconds)
	}
	selection := phaseCosts(journal)
	for _, c := range selection {
		sum.SelectSeconds += c.Seconds
	}
	sum.Phases = append([]PhaseCost{expand}, selection...)
	sum.Seconds = expand.Seconds + sum.SelectSeconds
	sum.WallSeconds = slices.Max(append([]float64{0}, sum.MemberSeconds...)) + sum.SelectSeconds
	if err := artifact.WriteJSON(filepath.Join(run, "search.json"), sum); err != nil {
		return err
	}
	return artifact.WriteJSON(GenotypePath(run), res.Genotype)
}

func addCost(a, b PhaseCost) PhaseCost {
	a.Seconds += b.Seconds
	a.Builds += b.Builds
	a.Epochs += b.Epochs
	a.TrainSteps += b.TrainSteps
	a.Evaluations += b.Evaluations
	a.Perturbations += b.Perturbations
	a.FinetuneSteps += b.FinetuneSteps
	return a
}
