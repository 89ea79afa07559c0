// Package report renders a finished search run folder as one static HTML
// page, RUN/report.html: what a person looks at after a search. The page
// holds the found cell (normal and reduction, drawn by pertnas.CellSVG), a
// heatmap of every member's perturb-val valuations (edge x op, diff) and of
// the population mean that selection ranked, every decision of phases 4-6
// with its margin against the fine-tune noise, the phase timings, the
// training curves of the evaluation (when RUN/eval exists), the NB301 score
// (when RUN/nb301/score.json exists) and run.json.
//
// The page needs nothing but a browser: no server, no network, no
// JavaScript; charts are inline SVG, the cell drawings data: URIs, the
// style one inline <style> element.
//
// The fine-tune noise σ is estimated from the population: every member
// values every (edge, op) once, so the pooled standard deviation of the
// members' diffs around their mean (npop-1 degrees of freedom per cell)
// measures how much one perturb-val measurement varies. It includes real
// differences between members (their initial cells and weights differ), so
// it is an upper estimate of the pure fine-tuning noise. A decision on one
// measurement (fine, topology) is compared with σ, one on the population
// mean (coarse) with σ/√npop. Runs with one member have no estimate.
package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"pertnas/formats/artifact"
	"pertnas/formats/genotype"
	"pertnas/pertnas"
	"pertnas/train"
	"pertnas/train/traineval"
)

// File is the report's name inside the run folder.
const File = "report.html"

// InputError is a run folder the report cannot be made from (missing,
// unfinished, or holding an unreadable file); the message names the file.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// Run is everything the report shows, read from one run folder.
type Run struct {
	Dir       string
	RunJSON   string // run.json, indented
	Config    pertnas.Config
	Summary   pertnas.Summary          // search.json
	Members   [][]pertnas.ValuationRow // members/I/valuation.arrow
	Mean      [pertnas.NumEdges][pertnas.NumOps]float64
	Selection []pertnas.SelectionRow      // selection.arrow
	Logs      map[string][]pertnas.LogRow // job ("member 0", "select") -> log.arrow
	LogJobs   []string                    // the keys of Logs, in order
	// Noise is the pooled standard deviation of one perturb-val
	// measurement (see the package doc); NaN with one member.
	Noise float64

	Metrics []train.Row       // eval/metrics.arrow, nil without an evaluation
	Result  *traineval.Result // eval/result.json, nil without one
	NB301   *NB301Score       // nb301/score.json, nil without one
}

// NB301Score is the part of nb301/score.json the report shows.
type NB301Score struct {
	Accuracy struct {
		Mean    float64         `json:"mean"`
		Std     float64         `json:"std"`
		Noisy   *float64        `json:"noisy"`
		Members json.RawMessage `json:"members"`
	} `json:"accuracy"`
	Models  string `json:"models"`
	Version string `json:"version"`
}

// Load reads the run folder dir. The search must be finished (search.json,
// selection.arrow and every member's valuation.arrow present); the
// evaluation and the NB301 score are optional. Problems are *InputError.
func Load(dir string) (*Run, error) {
	bad := func(err error) (*Run, error) { return nil, &InputError{err} }
	fi, err := os.Stat(dir)
	if err != nil {
		return bad(fmt.Errorf("run folder %s: %w", dir, err))
	}
	if !fi.IsDir() {
		return bad(fmt.Errorf("run folder %s is not a folder", dir))
	}
	r := &Run{Dir: dir, Logs: map[string][]pertnas.LogRow{}}
	runJSON := filepath.Join(dir, "run.json")
	raw, err := os.ReadFile(runJSON)
	if err != nil {
		return bad(fmt.Errorf("run folder %s: %w (not a search run folder?)", dir, err))
	}
	if err := json.Unmarshal(raw, &r.Config); err != nil {
		return bad(fmt.Errorf("%s: %w", runJSON, err))
	}
	var ind bytes.Buffer
	if err := json.Indent(&ind, raw, "", "  "); err != nil {
		return bad(fmt.Errorf("%s: %w", runJSON, err))
	}
	r.RunJSON = ind.String()
	searchJSON := filepath.Join(dir, "search.json")
	if err := artifact.ReadJSON(searchJSON, &r.Summary); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return bad(fmt.Errorf("run %s has no search.json: the search has not finished (run search-evolve select)", dir))
		}
		return bad(fmt.Errorf("%s: %w", searchJSON, err))
	}
	if err := r.Summary.Genotype.Validate(); err != nil {
		return bad(fmt.Errorf("%s: %w", searchJSON, err))
	}
	for m := 0; m < r.Config.Npop; m++ {
		rows, err := pertnas.ReadValuation(dir, m)
		if err != nil {
			return bad(err)
		}
		r.Members = append(r.Members, rows)
	}
	if len(r.Members) == 0 {
		return bad(fmt.Errorf("%s: npop is %d", runJSON, r.Config.Npop))
	}
	r.Mean, _, _ = pertnas.MeanValuation(r.Members)
	r.Noise = pooledStd(r.Members, r.Mean)
	if err := artifact.ReadTable(filepath.Join(dir, "selection.arrow"), &r.Selection); err != nil {
		return bad(err)
	}
	for m := 0; m < r.Config.Npop; m++ {
		if err := r.readLog(fmt.Sprintf("member %d", m), filepath.Join(dir, "members", strconv.Itoa(m), "log.arrow")); err != nil {
			return bad(err)
		}
	}
	if err := r.readLog("select", filepath.Join(dir, "select", "log.arrow")); err != nil {
		return bad(err)
	}
	if err := r.readEval(); err != nil {
		return bad(err)
	}
	score := filepath.Join(dir, "nb301", "score.json")
	if _, err := os.Stat(score); err == nil {
		r.NB301 = &NB301Score{}
		if err := artifact.ReadJSON(score, r.NB301); err != nil {
			return bad(fmt.Errorf("%s: %w", score, err))
		}
	}
	return r, nil
}

// readLog reads one job's log.arrow; a missing one is left out.
func (r *Run) readLog(job, path string) error {
	var rows []pertnas.LogRow
	if err := artifact.ReadTable(path, &rows); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	r.Logs[job] = rows
	r.LogJobs = append(r.LogJobs, job)
	return nil
}

// readEval reads eval/metrics.arrow and eval/result.json when they exist.
func (r *Run) readEval() error {
	metrics := filepath.Join(r.Dir, "eval", "metrics.arrow")
	if err := artifact.ReadTable(metrics, &r.Metrics); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	result := filepath.Join(r.Dir, "eval", "result.json")
	if _, err := os.Stat(result); err == nil {
		r.Result = &traineval.Result{}
		if err := artifact.ReadJSON(result, r.Result); err != nil {
			return fmt.Errorf("%s: %w", result, err)
		}
	}
	return nil
}

// pooledStd is the pooled standard deviation of the members' diffs around
// their mean, over every (edge, op); NaN with fewer than two members.
func pooledStd(members [][]pertnas.ValuationRow, mean [pertnas.NumEdges][pertnas.NumOps]float64) float64 {
	if len(members) < 2 {
		return math.NaN()
	}
	var ss float64
	var n int
	for _, rows := range members {
		for _, v := range rows {
			d := v.Diff - mean[v.Edge][v.Op]
			ss += d * d
			n++
		}
	}
	dof := n - pertnas.NumEdges*pertnas.NumOps
	return math.Sqrt(ss / float64(dof))
}

// Decision is one decision of phases 4-6: the measurements it compared
// and how far the choice was from going the other way.
type Decision struct {
	Phase string
	Round int
	Node  int
	Edge  int // coarse, fine: the edge decided; topology: -1
	// Kept and Dropped are the candidates (ops, or edges for topology)
	// with their diffs.
	Kept, Dropped []Candidate
	// Margin is the smallest diff dropped minus the largest diff kept:
	// how much the measurements would have to move to change the choice
	// (kept candidates have the lower, more harmful-to-remove, diffs).
	Margin float64
	// Noise is the σ the margin is compared with: Run.Noise for one
	// measurement, Run.Noise/√npop for the population mean (coarse).
	Noise float64
}

// Candidate is one op or edge a decision ranked.
type Candidate struct {
	Label string
	Diff  float64
}

// Z is the margin in units of the noise (NaN without a noise estimate).
func (d Decision) Z() float64 { return d.Margin / d.Noise }

// Decisions groups selection.arrow into its decisions, in the order they
// were taken.
func (r *Run) Decisions() []Decision {
	type key struct {
		phase       string
		round, node int
		edge        int
	}
	var order []key
	byKey := map[key]*Decision{}
	for _, s := range r.Selection {
		k := key{s.Phase, s.Round, s.Node, s.Edge}
		label := s.OpName
		noise := r.Noise
		switch s.Phase {
		case "coarse":
			noise /= math.Sqrt(float64(len(r.Members)))
		case "topology":
			if s.Decision == pertnas.Other {
				continue
			}
			k.edge = -1
			label = edgeLabel(s.Edge) + " " + s.OpName
		}
		d, ok := byKey[k]
		if !ok {
			d = &Decision{Phase: s.Phase, Round: s.Round, Node: s.Node, Edge: k.edge, Noise: noise}
			byKey[k] = d
			order = append(order, k)
		}
		c := Candidate{Label: label, Diff: s.Diff}
		if s.Decision == pertnas.Keep {
			d.Kept = append(d.Kept, c)
		} else {
			d.Dropped = append(d.Dropped, c)
		}
	}
	out := make([]Decision, 0, len(order))
	for _, k := range order {
		d := byKey[k]
		byDiff := func(a, b Candidate) int {
			switch {
			case a.Diff < b.Diff:
				return -1
			case a.Diff > b.Diff:
				return 1
			}
			return 0
		}
		slices.SortStableFunc(d.Kept, byDiff)
		slices.SortStableFunc(d.Dropped, byDiff)
		d.Margin = math.NaN()
		if len(d.Kept) > 0 && len(d.Dropped) > 0 {
			d.Margin = d.Dropped[0].Diff - d.Kept[len(d.Kept)-1].Diff
		}
		out = append(out, *d)
	}
	return out
}

// stateName names a cell state: the inputs c_{k-2}, c_{k-1}, then nodes.
func stateName(s int) string {
	switch s {
	case 0:
		return "c_{k-2}"
	case 1:
		return "c_{k-1}"
	}
	return "node " + strconv.Itoa(s-2)
}

// edgeLabel is "e3: c_{k-1}→1", the edge, its input and its node.
func edgeLabel(e int) string {
	node, in := pertnas.EdgeNode(e)
	return fmt.Sprintf("e%d: %s→%d", e, stateName(in), node)
}

// sameCells reports whether the genotype uses one cell for both.
func sameCells(g genotype.Genotype) bool { return slices.Equal(g.Normal, g.Reduce) }
