package pertnas

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"pertnas/formats/artifact"
	"pertnas/formats/genotype"
)

// ValuationRow is one row of members/I/valuation.arrow: the perturbation of
// op on edge after the edge was expanded (phase 2).
type ValuationRow struct {
	Member    int     `arrow:"member"`
	Edge      int     `arrow:"edge"`
	Op        int     `arrow:"op"`
	AccBefore float64 `arrow:"acc_before"` // validation accuracy of the trained network
	AccAfter  float64 `arrow:"acc_after"`  // after masking op and fine-tuning
	Diff      float64 `arrow:"diff"`       // AccAfter - AccBefore; more negative: op matters more
}

// MemberSummary is members/I/member.json.
type MemberSummary struct {
	Member  int         `json:"member"`
	Initial EdgeConfig  `json:"initial"` // phase 1: the member's initial cell
	Device  string      `json:"device"`
	Cost    []PhaseCost `json:"cost"`
}

// InitialCell is phase 1 for member m: every edge gets cfg.OpCap distinct
// ops drawn from the member's own generator (seeded by the run seed and m),
// edges in order, plus none. With InitCell sep3 every edge holds
// sep_conv_3x3 alone, without none, for every member.
func InitialCell(cfg Config, m int) EdgeConfig {
	var c EdgeConfig
	if cfg.InitCell == "sep3" {
		for e := range c {
			c[e] = EdgeOps{Ops: OpSetOf(genotype.OpIndex("sep_conv_3x3"))}
		}
		return c
	}
	rng := rngFor(cfg.Seed, "init", m)
	for e := range c {
		c[e] = EdgeOps{Ops: OpSetOf(rng.Perm(NumOps)[:cfg.OpCap]...), None: true}
	}
	return c
}

// MemberUnits is the number of units of work of a member (Progress.Total).
func MemberUnits(cfg Config) int {
	return NumEdges * (1 + cfg.ExpandEpochs + 1 + NumOps)
}

// Member runs phases 1-2 for population member m and writes
// members/m/{valuation.arrow, log.arrow, member.json}. It resumes from the
// member's saved state; a member already complete (its valuation.arrow
// exists) is read back without touching a file. It returns
// the member's 14x7 valuation rows, edges then ops in order.
func Member(ctx context.Context, opts Options, m int) ([]ValuationRow, error) {
	cfg := opts.Config
	if err := ClaimRun(opts.Dir, cfg); err != nil {
		return nil, err
	}
	if m < 0 || m >= cfg.Npop {
		return nil, fmt.Errorf("member index %d out of range 0..%d (npop %d)", m, cfg.Npop-1, cfg.Npop)
	}
	dir := memberDir(opts.Dir, m)
	stateDir := filepath.Join(dir, "state")
	// valuation.arrow is written last: if it is there, the member is done.
	if rows, err := ReadValuation(opts.Dir, m); err == nil {
		// weights left by a kill between the table and the clean-up
		(&session{dir: stateDir}).removeWeights("")
		if opts.Progress != nil {
			n := MemberUnits(cfg)
			opts.Progress(Progress{Job: fmt.Sprintf("member %d", m), Member: m, Phase: "expand", Edge: -1, Done: n, Total: n})
		}
		return rows, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	job := fmt.Sprintf("member %d", m)
	s, err := openSession(ctx, opts.Builder, opts.Worker, job, stateDir, filepath.Join(dir, "log.arrow"))
	if err != nil {
		return nil, err
	}
	defer s.close()
	s.member, s.progress, s.total = m, opts.Progress, MemberUnits(cfg)
	s.restoreNone, s.freshScaler = cfg.Restore == "none", cfg.GradScaler == "fresh"

	init := InitialCell(cfg, m)
	rows := make([]ValuationRow, 0, NumEdges*NumOps)
	for e := 0; e < NumEdges; e++ {
		c := init
		c[e] = EdgeOps{Ops: AllOps, None: true}
		if err := s.build("expand", e, c, derive(cfg.Seed, "expand/weights", m, e)); err != nil {
			return nil, err
		}
		lr, err := s.train("expand", e, cfg.ExpandEpochs, cfg.LR0/cfg.ExpandLRDiv, cfg.LRMin, func(k int) uint64 {
			return derive(cfg.Seed, "expand/epoch", m, e, k)
		})
		if err != nil {
			return nil, err
		}
		if cfg.FinetuneLR > 0 {
			lr = cfg.FinetuneLR
		}
		a0, err := s.accuracy("expand", e)
		if err != nil {
			return nil, err
		}
		// Every target of one perturb-val fine-tunes on the same batches
		// (unless FinetuneBatches is fresh).
		ftSeed := derive(cfg.Seed, "expand/finetune", m, e)
		for op := 0; op < NumOps; op++ {
			r, err := s.perturb("expand", e, op, cfg.expandSteps(), lr, a0, cfg.finetuneSeed(ftSeed, op), op == 0)
			if err != nil {
				return nil, err
			}
			rows = append(rows, ValuationRow{Member: m, Edge: e, Op: op, AccBefore: a0, AccAfter: float64(r.Acc), Diff: float64(r.Acc) - a0})
		}
	}
	sum := MemberSummary{Member: m, Initial: init, Device: cfg.Device, Cost: phaseCosts(s.journal)}
	if err := artifact.WriteJSON(filepath.Join(dir, "member.json"), sum); err != nil {
		return nil, err
	}
	if err := artifact.WriteTable(ValuationPath(opts.Dir, m), rows); err != nil {
		return nil, err
	}
	if err := s.finish(); err != nil {
		return nil, err
	}
	return rows, nil
}

// ReadValuation reads and checks member m's valuation.arrow: 98 rows, the
// member's index, every (edge, op) once in order.
func ReadValuation(run string, m int) ([]ValuationRow, error) {
	path := ValuationPath(run, m)
	var rows []ValuationRow
	if err := artifact.ReadTable(path, &rows); err != nil {
		return nil, err
	}
	if len(rows) != NumEdges*NumOps {
		return nil, fmt.Errorf("valuation %s: %d rows, want %d", path, len(rows), NumEdges*NumOps)
	}
	for i, r := range rows {
		if r.Member != m || r.Edge != i/NumOps || r.Op != i%NumOps {
			return nil, fmt.Errorf("valuation %s: row %d is (member %d, edge %d, op %d), want (%d, %d, %d)",
				path, i, r.Member, r.Edge, r.Op, m, i/NumOps, i%NumOps)
		}
	}
	return rows, nil
}

// PhaseCost is the work and wall time one phase took.
type PhaseCost struct {
	Phase         string  `json:"phase"`
	Seconds       float64 `json:"seconds"`
	Builds        int     `json:"builds"`
	Epochs        int     `json:"epochs"`
	TrainSteps    int     `json:"train_steps"`
	Evaluations   int     `json:"evaluations"` // validation passes, perturbations' included
	Perturbations int     `json:"perturbations"`
	FinetuneSteps int     `json:"finetune_steps"`
}

// phaseCosts sums a journal per phase, phases in order of first appearance.
func phaseCosts(j []entry) []PhaseCost {
	var out []PhaseCost
	idx := map[string]int{}
	for _, e := range j {
		i, ok := idx[e.Phase]
		if !ok {
			i = len(out)
			idx[e.Phase] = i
			out = append(out, PhaseCost{Phase: e.Phase})
		}
		c := &out[i]
		c.Seconds += e.Seconds
		switch e.Kind {
		case kindBuild:
			c.Builds++
		case kindEpoch:
			c.Epochs++
			c.TrainSteps += e.Steps
		case kindAcc:
			c.Evaluations++
		case kindPerturb:
			c.Perturbations++
			c.Evaluations++
			c.FinetuneSteps += e.Steps
		}
	}
	return out
}
