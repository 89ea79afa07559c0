package pertnas

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"pertnas/formats/artifact"
	"pertnas/train/schedule"
)

// Unit kinds of a job's journal.
const (
	kindBuild   = "build"   // a fresh network for a configuration
	kindEpoch   = "epoch"   // one training epoch
	kindAcc     = "acc"     // a validation accuracy
	kindPerturb = "perturb" // mask one op, fine-tune, measure, restore
	kindReset   = "reset"   // a fresh SGD optimiser
)

// stateVersion is the version of state.json's layout.
const stateVersion = 1

// entry is one completed unit of work: what was asked (kind .. lr, edges)
// and what came out (loss, acc, weights, seconds).
type entry struct {
	Kind      string      `json:"kind"`
	Phase     string      `json:"phase"`
	Edge      int         `json:"edge"`
	Op        int         `json:"op"`
	Epoch     int         `json:"epoch"`
	Steps     int         `json:"steps"`
	Seed      uint64      `json:"seed"` // build: weight seed; epoch, perturb: data seed
	LR        jfloat      `json:"lr"`
	AccBefore jfloat      `json:"acc_before"`
	Edges     *EdgeConfig `json:"edges,omitempty"` // build only

	Loss    jfloat  `json:"loss"`
	Acc     jfloat  `json:"acc"` // epoch: training accuracy; acc, perturb: validation accuracy
	Seconds float64 `json:"seconds"`
	Weights string  `json:"weights,omitempty"` // weights file saved after this unit
}

// sameUnit reports whether a journal entry records the unit now asked for:
// the same kind, place and inputs.
func sameUnit(got, want entry) bool {
	g, w := got, want
	g.Loss, g.Acc, g.Seconds, g.Weights = 0, 0, 0, ""
	w.Loss, w.Acc, w.Seconds, w.Weights = 0, 0, 0, ""
	if g.Kind == kindEpoch {
		g.Steps = 0 // an epoch's steps are an output
	}
	// JSON compares NaN fields (unused inputs) as equal; floats round-trip exactly.
	gb, err1 := json.Marshal(g)
	wb, err2 := json.Marshal(w)
	return err1 == nil && err2 == nil && bytes.Equal(gb, wb)
}

func (e entry) String() string {
	s := fmt.Sprintf("%s %s edge %d", e.Phase, e.Kind, e.Edge)
	switch e.Kind {
	case kindEpoch:
		s += fmt.Sprintf(" epoch %d lr %g", e.Epoch, float64(e.LR))
	case kindPerturb:
		s += fmt.Sprintf(" op %d steps %d lr %g", e.Op, e.Steps, float64(e.LR))
	case kindBuild:
		s += fmt.Sprintf(" seed %d", e.Seed)
	}
	return s
}

// jfloat is a float64 whose JSON form also holds NaN and ±Inf (as strings).
type jfloat float64

func (f jfloat) MarshalJSON() ([]byte, error) {
	x := float64(f)
	switch {
	case math.IsNaN(x):
		return []byte(`"NaN"`), nil
	case math.IsInf(x, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(x, -1):
		return []byte(`"-Inf"`), nil
	}
	return json.Marshal(x)
}

func (f *jfloat) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"NaN"`:
		*f = jfloat(math.NaN())
		return nil
	case `"+Inf"`:
		*f = jfloat(math.Inf(1))
		return nil
	case `"-Inf"`:
		*f = jfloat(math.Inf(-1))
		return nil
	}
	var x float64
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	*f = jfloat(x)
	return nil
}

// stateFile is the layout of state/state.json.
type stateFile struct {
	Version int     `json:"version"`
	Job     string  `json:"job"`
	Journal []entry `json:"journal"`
}

// LogRow is one row of a job's log.arrow: one unit of work.
type LogRow struct {
	Phase   string  `arrow:"phase"`   // expand, coarse, fine, topology
	Kind    string  `arrow:"kind"`    // build, epoch, acc, perturb, reset
	Edge    int     `arrow:"edge"`    // the edge concerned, -1 if none
	Op      int     `arrow:"op"`      // perturb: the masked op, else -1
	Epoch   int     `arrow:"epoch"`   // epoch: its number within the training, from 1 (as train-eval's), else -1
	Step    int     `arrow:"step"`    // SGD steps the unit ran
	Loss    float64 `arrow:"loss"`    // mean training/fine-tune loss (NaN if none)
	Acc     float64 `arrow:"acc"`     // epoch: training accuracy; acc, perturb: validation accuracy
	LR      float64 `arrow:"lr"`      // learning rate used (NaN if none)
	Seconds float64 `arrow:"seconds"` // wall time of the unit
}

// Progress reports a job's advance to a stage's display.
type Progress struct {
	Job         string // "member 2" or "select"
	Member      int    // member index, -1 for the selection
	Phase       string // expand, coarse, fine, topology
	Edge        int    // edge in work, -1 if none
	Done, Total int    // units of work completed (replayed ones included) and planned
	Step, Steps int    // SGD steps within the unit in work (0, 0 between units)
}

// session runs one job's units of work in order, each either replayed from
// the journal or executed on the live network and journalled.
type session struct {
	ctx      context.Context
	builder  Builder
	worker   int
	job      string
	dir      string // state folder
	logPath  string
	journal  []entry
	pos      int           // next journal entry to replay
	req      *BuildRequest // the current network's build request
	weights  string        // its latest weights file, "" if freshly built
	net      Supernet      // the live network, nil until needed
	total    int
	member   int
	progress func(Progress)
	cur      entry
	// restoreNone: a perturbation keeps its fine-tuned state (Config
	// Restore "none"), so its weights are saved like an epoch's.
	restoreNone bool
	// freshScaler: a new loss scaler at the start of every training run
	// and every perturb-val (Config GradScaler "fresh").
	freshScaler bool
}

func openSession(ctx context.Context, b Builder, worker int, job, dir, logPath string) (*session, error) {
	s := &session{ctx: ctx, builder: b, worker: worker, job: job, dir: dir, logPath: logPath, member: -1}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "state.json")
	var st stateFile
	switch err := artifact.ReadJSON(path, &st); {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("%s: resume state: %w", job, err)
	case st.Version != stateVersion:
		return nil, fmt.Errorf("%s: %s: state version %d, want %d", job, path, st.Version, stateVersion)
	case st.Job != job:
		return nil, fmt.Errorf("%s: %s holds the state of %q", job, path, st.Job)
	default:
		s.journal = st.Journal
	}
	// Weights files other than the journal's last are left over from a kill.
	keep := ""
	for _, e := range s.journal {
		if e.Weights != "" {
			keep = e.Weights
		}
	}
	if err := s.removeWeights(keep); err != nil {
		return nil, err
	}
	return s, nil
}

// removeWeights deletes every weights file in the state folder but keep.
func (s *session) removeWeights(keep string) error {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return err
	}
	for _, d := range ents {
		n := d.Name()
		if n != keep && strings.HasPrefix(n, "net-") {
			if err := os.Remove(filepath.Join(s.dir, n)); err != nil {
				return err
			}
		}
	}
	return nil
}

// unit replays the next journal entry if there is one (it must record the
// unit want) or runs live and journals the result.
func (s *session) unit(want entry, live func(e *entry) error) (entry, error) {
	s.cur = want
	if s.pos < len(s.journal) {
		got := s.journal[s.pos]
		if !sameUnit(got, want) {
			return entry{}, fmt.Errorf("%s: resume state %s unit %d is %q but the search now asks for %q (state from another version or configuration?)",
				s.job, filepath.Join(s.dir, "state.json"), s.pos, got.String(), want.String())
		}
		s.pos++
		s.apply(got)
		s.report(0, 0)
		return got, nil
	}
	if err := s.ctx.Err(); err != nil {
		return entry{}, err
	}
	e := want
	start := time.Now()
	if err := live(&e); err != nil {
		s.dropNet()
		return entry{}, fmt.Errorf("%s: %s: %w", s.job, want.String(), err)
	}
	e.Seconds = time.Since(start).Seconds()
	if e.Kind == kindEpoch || e.Kind == kindReset || (e.Kind == kindPerturb && s.restoreNone) {
		name := fmt.Sprintf("net-%05d.bin", len(s.journal))
		path := filepath.Join(s.dir, name)
		if err := s.net.Save(path); err != nil { // atomic: whole or absent
			s.dropNet()
			return entry{}, fmt.Errorf("%s: save weights %s: %w", s.job, path, err)
		}
		e.Weights = name
	}
	s.journal = append(s.journal, e)
	s.pos++
	if err := s.persist(); err != nil {
		s.journal = s.journal[:len(s.journal)-1]
		s.pos--
		return entry{}, err
	}
	s.apply(e)
	if e.Weights != "" {
		if err := s.removeWeights(e.Weights); err != nil {
			return entry{}, fmt.Errorf("%s: %w", s.job, err)
		}
	}
	s.report(0, 0)
	return e, nil
}

// apply updates what the session knows of the current network.
func (s *session) apply(e entry) {
	switch e.Kind {
	case kindBuild:
		s.req = &BuildRequest{Edges: *e.Edges, Seed: e.Seed, Worker: s.worker}
		s.weights = ""
	case kindEpoch, kindReset, kindPerturb:
		if e.Weights != "" {
			s.weights = e.Weights
		}
	}
}

// persist writes state.json, then log.arrow.
func (s *session) persist() error {
	st := stateFile{Version: stateVersion, Job: s.job, Journal: s.journal}
	if err := artifact.WriteJSON(filepath.Join(s.dir, "state.json"), st); err != nil {
		return fmt.Errorf("%s: %w", s.job, err)
	}
	rows := make([]LogRow, len(s.journal))
	for i, e := range s.journal {
		epoch := e.Epoch // the journal counts from 0; people and the other stages from 1
		if e.Kind == kindEpoch {
			epoch++
		}
		rows[i] = LogRow{Phase: e.Phase, Kind: e.Kind, Edge: e.Edge, Op: e.Op, Epoch: epoch, Step: e.Steps,
			Loss: float64(e.Loss), Acc: float64(e.Acc), LR: float64(e.LR), Seconds: e.Seconds}
	}
	if err := artifact.WriteTable(s.logPath, rows); err != nil {
		return fmt.Errorf("%s: %w", s.job, err)
	}
	return nil
}

func (s *session) report(step, steps int) {
	if s.progress == nil {
		return
	}
	s.progress(Progress{Job: s.job, Member: s.member, Phase: s.cur.Phase, Edge: s.cur.Edge,
		Done: s.pos, Total: max(s.total, s.pos), Step: step, Steps: steps})
}

func (s *session) tick(step, steps int) { s.report(step, steps) }

// liveNet returns the current network, building it and loading its latest
// weights if this is the first live unit since the network was built.
func (s *session) liveNet() (Supernet, error) {
	if s.net != nil {
		return s.net, nil
	}
	if s.req == nil {
		return nil, errors.New("no network built")
	}
	net, err := s.builder.Build(*s.req)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	if s.weights != "" {
		if err := net.Load(filepath.Join(s.dir, s.weights)); err != nil {
			net.Close()
			return nil, fmt.Errorf("load weights: %w", err)
		}
	}
	s.net = net
	return net, nil
}

// dropNet discards the live network (its state is unknown after a failure);
// the next live unit rebuilds it from the journal's weights.
func (s *session) dropNet() {
	if s.net != nil {
		s.net.Close()
		s.net = nil
	}
}

// build starts a fresh network for edges with weight seed seed.
func (s *session) build(phase string, edge int, edges EdgeConfig, seed uint64) error {
	want := entry{Kind: kindBuild, Phase: phase, Edge: edge, Op: -1, Epoch: -1, Seed: seed,
		LR: nan(), AccBefore: nan(), Edges: &edges, Loss: nan(), Acc: nan()}
	_, err := s.unit(want, func(e *entry) error {
		s.dropNet()
		net, err := s.builder.Build(BuildRequest{Edges: edges, Seed: seed, Worker: s.worker})
		if err != nil {
			return err
		}
		s.net = net
		return nil
	})
	return err
}

// train runs epochs epochs of cosine-annealed SGD from lr0 to lrMin (the lr
// of epoch k is lrMin + (lr0-lrMin)(1+cos(pi k/epochs))/2, PyTorch's
// CosineAnnealingLR stepped after every epoch) and returns the lr the
// optimiser holds afterwards: the schedule at k = epochs, i.e. lrMin.
func (s *session) train(phase string, edge, epochs int, lr0, lrMin float64, seed func(epoch int) uint64) (float64, error) {
	for k := 0; k < epochs; k++ {
		lr := schedule.Cosine(lr0, lrMin, k, epochs)
		want := entry{Kind: kindEpoch, Phase: phase, Edge: edge, Op: -1, Epoch: k, Seed: seed(k), LR: jfloat(lr), AccBefore: nan()}
		_, err := s.unit(want, func(e *entry) error {
			net, err := s.liveNet()
			if err != nil {
				return err
			}
			if k == 0 && s.freshScaler {
				if err := net.ResetScaler(); err != nil {
					return err
				}
			}
			st, err := net.TrainEpoch(s.ctx, e.Seed, lr, s.tick)
			if err != nil {
				return err
			}
			e.Loss, e.Acc, e.Steps = jfloat(st.Loss), jfloat(st.Acc), st.Steps
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	return schedule.Cosine(lr0, lrMin, epochs, epochs), nil
}

// accuracy measures the current network's validation accuracy.
func (s *session) accuracy(phase string, edge int) (float64, error) {
	want := entry{Kind: kindAcc, Phase: phase, Edge: edge, Op: -1, Epoch: -1, LR: nan(), AccBefore: nan(), Loss: nan()}
	e, err := s.unit(want, func(e *entry) error {
		net, err := s.liveNet()
		if err != nil {
			return err
		}
		a, err := net.Accuracy(s.ctx)
		e.Acc = jfloat(a)
		return err
	})
	return float64(e.Acc), err
}

// resetOptimizer gives the current network a fresh SGD.
func (s *session) resetOptimizer(phase string, edge int) error {
	want := entry{Kind: kindReset, Phase: phase, Edge: edge, Op: -1, Epoch: -1, LR: nan(), AccBefore: nan(), Loss: nan(), Acc: nan()}
	_, err := s.unit(want, func(e *entry) error {
		net, err := s.liveNet()
		if err != nil {
			return err
		}
		return net.ResetOptimizer()
	})
	return err
}

// perturb is one target of perturb-val: from the current state, set the
// mask of (edge, op) to 0, fine-tune steps steps at lr, measure the
// accuracy, then restore the mask and the state exactly (with restoreNone
// only the mask: the fine-tuning stays). It returns the accuracy after
// fine-tuning; the diff is that minus a0. first marks the first target of
// a perturb-val: with freshScaler the loss scaler starts fresh there (and,
// with an exact restore, at every target, which then all start from the
// same state).
func (s *session) perturb(phase string, edge, op, steps int, lr, a0 float64, dataSeed uint64, first bool) (entry, error) {
	want := entry{Kind: kindPerturb, Phase: phase, Edge: edge, Op: op, Epoch: -1, Steps: steps, Seed: dataSeed,
		LR: jfloat(lr), AccBefore: jfloat(a0)}
	return s.unit(want, func(e *entry) error {
		net, err := s.liveNet()
		if err != nil {
			return err
		}
		var snap Snapshot
		if !s.restoreNone {
			if snap, err = net.Snapshot(); err != nil {
				return err
			}
		}
		if err := net.SetMask(edge, op, false); err != nil {
			return err
		}
		if s.freshScaler && (first || !s.restoreNone) {
			if err := net.ResetScaler(); err != nil {
				return err
			}
		}
		loss, err := net.FineTune(s.ctx, dataSeed, steps, lr, s.tick)
		if err != nil {
			return err
		}
		a1, err := net.Accuracy(s.ctx)
		if err != nil {
			return err
		}
		if err := net.SetMask(edge, op, true); err != nil {
			return err
		}
		if !s.restoreNone {
			if err := net.Restore(snap); err != nil {
				return err
			}
		}
		e.Loss, e.Acc = jfloat(loss), jfloat(a1)
		return nil
	})
}

// finish checks that the whole journal was used, then releases the network
// and the weights files (the job's results are written by then).
func (s *session) finish() error {
	if s.pos != len(s.journal) {
		return fmt.Errorf("%s: resume state %s holds %d units, the search used %d (state from another configuration?)",
			s.job, filepath.Join(s.dir, "state.json"), len(s.journal), s.pos)
	}
	s.dropNet()
	return s.removeWeights("")
}

// close releases the live network.
func (s *session) close() { s.dropNet() }

func nan() jfloat { return jfloat(math.NaN()) }
