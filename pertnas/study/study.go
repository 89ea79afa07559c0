// Package study gathers the results of the random-baseline study (`make
// study`, pipelines/study.mk) and writes its report: for every dataset, the
// test accuracy of every trained cell grouped as "search" (PertNAS runs),
// "random" (cells drawn by search-evolve random) and each published cell by
// name; a Mann-Whitney U test of search against random; and, for every
// search, the statistics of its perturb-val valuations that tell whether its
// op rankings rose above the fine-tuning noise.
//
// # Study folder
//
//	DIR/DATASET/search-K/            a search run (run.json, members/I/valuation.arrow, genotype.json)
//	DIR/DATASET/random-K/genotype.json
//	DIR/DATASET/CELL/train-S/result.json   train-eval of CELL with seed S
package study

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"pertnas/formats/artifact"
	"pertnas/pertnas"
)

// Groups of cells: searches and random draws; any other cell is its own
// group (a published cell by name).
const (
	GroupSearch = "search"
	GroupRandom = "random"
)

// Run is one training of one cell.
type Run struct {
	Seed          int
	FinalAcc      float64 // test accuracy after the last epoch
	BestAcc       float64 // best test accuracy over the epochs
	Parameters    int
	WallSeconds   float64
	Epochs        int
	TrainImages   int // images trained on per epoch (0: all)
	ResultModTime int64
}

// Cell is one cell of a dataset with its trainings.
type Cell struct {
	Name  string // search-1, random-2, DARTS_V2, ...
	Group string
	Runs  []Run
}

// Dataset is everything gathered for one dataset.
type Dataset struct {
	Name     string
	Cells    []Cell
	Searches []Valuation
}

// GroupOf names the group of a cell folder.
func GroupOf(cell string) string {
	for _, g := range []string{GroupSearch, GroupRandom} {
		if strings.HasPrefix(cell, g+"-") {
			return g
		}
	}
	return cell
}

// Load reads DIR/DATASET for every dataset: each cell folder holding
// train-*/result.json, and the valuations of each search-* folder. A
// missing dataset folder is an error; cells are sorted search, random, then
// the others by name.
func Load(dir string, datasets []string) ([]Dataset, error) {
	var out []Dataset
	for _, name := range datasets {
		ds := Dataset{Name: name}
		entries, err := os.ReadDir(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("study: %w", err)
		}
		for _, e := range entries {
			if !e.IsDir() {
				continue
			}
			cellDir := filepath.Join(dir, name, e.Name())
			runs, err := loadRuns(cellDir)
			if err != nil {
				return nil, err
			}
			if len(runs) > 0 {
				ds.Cells = append(ds.Cells, Cell{Name: e.Name(), Group: GroupOf(e.Name()), Runs: runs})
			}
			if GroupOf(e.Name()) == GroupSearch {
				v, err := LoadValuation(cellDir)
				if err != nil {
					return nil, err
				}
				v.Name = e.Name()
				ds.Searches = append(ds.Searches, v)
			}
		}
		slices.SortFunc(ds.Cells, func(a, b Cell) int {
			if r := groupRank(a.Group) - groupRank(b.Group); r != 0 {
				return r
			}
			return naturalCmp(a.Name, b.Name)
		})
		slices.SortFunc(ds.Searches, func(a, b Valuation) int { return naturalCmp(a.Name, b.Name) })
		out = append(out, ds)
	}
	return out, nil
}

func groupRank(g string) int {
	switch g {
	case GroupSearch:
		return 0
	case GroupRandom:
		return 1
	}
	return 2
}

// naturalCmp orders "search-2" before "search-10".
func naturalCmp(a, b string) int {
	pa, na := splitNum(a)
	pb, nb := splitNum(b)
	if pa != pb || na == nb {
		return strings.Compare(a, b)
	}
	return na - nb
}

func splitNum(s string) (string, int) {
	i := strings.LastIndexByte(s, '-')
	var n int
	if i < 0 {
		return s, -1
	}
	if _, err := fmt.Sscanf(s[i+1:], "%d", &n); err != nil {
		return s, -1
	}
	return s[:i], n
}

// result is the part of train-eval's result.json the study reads.
type result struct {
	Seed        int     `json:"seed"`
	FinalAcc    float64 `json:"final_test_acc"`
	BestAcc     float64 `json:"best_test_acc"`
	Parameters  int     `json:"parameters"`
	WallSeconds float64 `json:"wall_seconds"`
	Epochs      int     `json:"epochs"`
	Recipe      struct {
		LimitTrain int `json:"limit_train"`
	} `json:"recipe"`
}

func loadRuns(cellDir string) ([]Run, error) {
	paths, _ := filepath.Glob(filepath.Join(cellDir, "train-*", "result.json"))
	var runs []Run
	for _, p := range paths {
		var r result
		if err := artifact.ReadJSON(p, &r); err != nil {
			return nil, fmt.Errorf("study: %w", err)
		}
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		runs = append(runs, Run{Seed: r.Seed, FinalAcc: r.FinalAcc, BestAcc: r.BestAcc, Parameters: r.Parameters,
			WallSeconds: r.WallSeconds, Epochs: r.Epochs, TrainImages: r.Recipe.LimitTrain, ResultModTime: st.ModTime().Unix()})
	}
	slices.SortFunc(runs, func(a, b Run) int { return a.Seed - b.Seed })
	return runs, nil
}

// Accs returns the final (best = false) or best test accuracies of every
// training of the cells of group g, and the per-cell means.
func (d Dataset) Accs(g string, best bool) (all, cellMeans []float64) {
	for _, c := range d.Cells {
		if c.Group != g {
			continue
		}
		var xs []float64
		for _, r := range c.Runs {
			xs = append(xs, pick(r, best))
		}
		all = append(all, xs...)
		cellMeans = append(cellMeans, Mean(xs))
	}
	return all, cellMeans
}

func pick(r Run, best bool) float64 {
	if best {
		return r.BestAcc
	}
	return r.FinalAcc
}

// Groups lists the dataset's groups in table order.
func (d Dataset) Groups() []string {
	var gs []string
	for _, c := range d.Cells {
		if !slices.Contains(gs, c.Group) {
			gs = append(gs, c.Group)
		}
	}
	return gs
}

// Valuation summarises the perturb-val valuations (phase 2) of one search:
// how far the diffs of the ops spread, and how much of that spread the
// members agree on. Every member values every (edge, op), so the spread of
// one (edge, op)'s diffs across members is the noise of a valuation (fine-
// tuning, data order, the member's cell), and the spread of the member means
// across (edge, op) is signal plus that noise over the square root of npop.
type Valuation struct {
	Name      string
	Members   int
	Diffs     int     // valuations (members x edges x ops)
	ValImages int     // validation images: one image is an accuracy step of 1/ValImages
	MeanDiff  float64 // mean of all diffs
	SDDiff    float64 // standard deviation of all diffs
	ZeroShare float64 // share of diffs exactly 0
	// NoiseSD is the standard deviation of one valuation around its (edge,
	// op)'s mean over the members (pooled, n-1 per (edge, op)).
	NoiseSD float64
	// MeanSD is the standard deviation across (edge, op) of the member
	// means; with no signal it is about NoiseSD / sqrt(Members).
	MeanSD float64
	// Agreement is the mean Spearman correlation of two members' diffs over
	// the (edge, op)s (NaN with one member): about 0 when the valuation is
	// noise.
	Agreement float64
}

// LoadValuation reads run.json and members/*/valuation.arrow of a search run.
func LoadValuation(run string) (Valuation, error) {
	var cfg pertnas.Config
	if err := artifact.ReadJSON(filepath.Join(run, "run.json"), &cfg); err != nil {
		return Valuation{}, fmt.Errorf("study: %w", err)
	}
	var members [][]pertnas.ValuationRow
	for m := 0; m < cfg.Npop; m++ {
		var rows []pertnas.ValuationRow
		if err := artifact.ReadTable(pertnas.ValuationPath(run, m), &rows); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return Valuation{}, fmt.Errorf("study: search %s is not finished: %w", run, err)
			}
			return Valuation{}, fmt.Errorf("study: %w", err)
		}
		members = append(members, rows)
	}
	v := Summarise(members)
	v.ValImages = cfg.ValImages
	return v, nil
}

// Summarise computes the Valuation statistics of the members' valuation
// rows; rows are matched across members by (edge, op).
func Summarise(members [][]pertnas.ValuationRow) Valuation {
	v := Valuation{Members: len(members), Agreement: math.NaN(), NoiseSD: math.NaN()}
	type key struct{ edge, op int }
	byKey := map[key][]float64{}
	var keys []key
	var all []float64
	for _, rows := range members {
		for _, r := range rows {
			k := key{r.Edge, r.Op}
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], r.Diff)
			all = append(all, r.Diff)
		}
	}
	v.Diffs = len(all)
	v.MeanDiff, v.SDDiff = Mean(all), Std(all)
	zeros := 0
	for _, d := range all {
		if d == 0 {
			zeros++
		}
	}
	if len(all) > 0 {
		v.ZeroShare = float64(zeros) / float64(len(all))
	}
	var means []float64
	var ss float64
	var dof int
	for _, k := range keys {
		xs := byKey[k]
		m := Mean(xs)
		means = append(means, m)
		for _, x := range xs {
			ss += (x - m) * (x - m)
		}
		dof += len(xs) - 1
	}
	if dof > 0 {
		v.NoiseSD = math.Sqrt(ss / float64(dof))
	}
	v.MeanSD = Std(means)
	var rhos []float64
	for a := 0; a < len(members); a++ {
		for b := a + 1; b < len(members); b++ {
			var xa, xb []float64
			for _, k := range keys {
				if xs := byKey[k]; len(xs) == len(members) {
					xa, xb = append(xa, xs[a]), append(xb, xs[b])
				}
			}
			if r := Spearman(xa, xb); !math.IsNaN(r) {
				rhos = append(rhos, r)
			}
		}
	}
	if len(rhos) > 0 {
		v.Agreement = Mean(rhos)
	}
	return v
}
