package nb301

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"pertnas/nb301/lgb"
	"pertnas/nb301/pickle"
	"pertnas/nb301/xgb"
)

// Member kinds.
const (
	KindXGBoost  = "xgboost"  // accuracy surrogate (validation accuracy, percent)
	KindLightGBM = "lightgbm" // runtime surrogate (seconds)
)

// Member is one model of a surrogate ensemble.
type Member struct {
	Path string // file it was read from
	Kind string // KindXGBoost or KindLightGBM
	xgb  *xgb.Model
	lgb  *lgb.Model
}

// Predict returns the member's prediction for a feature vector.
func (m *Member) Predict(features []float64) float64 {
	if m.xgb != nil {
		return float64(m.xgb.Predict(features))
	}
	return m.lgb.Predict(features)
}

// ModelError is a model file that cannot be read: the path and the problem.
type ModelError struct {
	Path string
	Err  error
}

func (e *ModelError) Error() string { return fmt.Sprintf("nb301 model %s: %v", e.Path, e.Err) }
func (e *ModelError) Unwrap() error { return e.Err }

// LoadMember reads one model file: a pickled xgboost.Booster or
// lightgbm.Booster (NB301's *surrogate_model.model), an XGBoost JSON or
// UBJSON model (*.json, *.ubj) or a LightGBM text model (*.txt). Errors are
// *ModelError.
func LoadMember(path string) (*Member, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &ModelError{path, err}
	}
	return memberFrom(path, data)
}

// memberFrom decodes the model file path holding data.
func memberFrom(path string, data []byte) (*Member, error) {
	m, err := decodeMember(path, data)
	if err != nil {
		return nil, &ModelError{path, err}
	}
	if err := m.checkFeatures(); err != nil {
		return nil, &ModelError{path, err}
	}
	return m, nil
}

func decodeMember(path string, data []byte) (*Member, error) {
	m := &Member{Path: path}
	var err error
	switch {
	case strings.HasSuffix(path, ".json"):
		m.Kind = KindXGBoost
		m.xgb, err = xgb.ReadJSON(data)
	case strings.HasSuffix(path, ".ubj"):
		m.Kind = KindXGBoost
		m.xgb, err = xgb.ReadUBJSON(data)
	case strings.HasSuffix(path, ".txt"):
		m.Kind = KindLightGBM
		m.lgb, err = lgb.Read(data)
	default:
		return decodePickle(m, data)
	}
	return m, err
}

// decodePickle reads a pickled Booster: an object of class
// xgboost.core.Booster whose state's "handle" is the serialized model bytes,
// or of class lightgbm.basic.Booster whose "handle" is the model text.
func decodePickle(m *Member, data []byte) (*Member, error) {
	v, err := pickle.Decode(data)
	if err != nil {
		return nil, err
	}
	obj, ok := v.(*pickle.Object)
	if !ok {
		return nil, fmt.Errorf("pickle holds a %s, want a Booster object", pickle.TypeName(v))
	}
	cls, named := obj.Class()
	if !named {
		return nil, fmt.Errorf("pickle holds an object of unnamed class, want xgboost.core.Booster or lightgbm.basic.Booster")
	}
	isXGB := cls.Module == "xgboost.core" && cls.Name == "Booster"
	isLGB := cls.Module == "lightgbm.basic" && cls.Name == "Booster"
	if !isXGB && !isLGB {
		return nil, fmt.Errorf("pickle holds a %s object, want xgboost.core.Booster or lightgbm.basic.Booster", cls)
	}
	handle, err := pickle.StateField(obj, "handle")
	if err != nil {
		return nil, fmt.Errorf("pickled %s: %w", cls, err)
	}
	if isXGB {
		buf, ok := handle.(pickle.Bytes)
		if !ok {
			return nil, fmt.Errorf("pickled xgboost Booster: handle is a %s, want bytes", pickle.TypeName(handle))
		}
		m.Kind = KindXGBoost
		if m.xgb, err = xgb.ReadSerialized(buf); err != nil {
			return nil, fmt.Errorf("pickled xgboost Booster: %w", err)
		}
		return m, nil
	}
	text, ok := handle.(string)
	if !ok {
		return nil, fmt.Errorf("pickled lightgbm Booster: handle is a %s, want the model string", pickle.TypeName(handle))
	}
	m.Kind = KindLightGBM
	if m.lgb, err = lgb.Read([]byte(text)); err != nil {
		return nil, fmt.Errorf("pickled lightgbm Booster: %w", err)
	}
	return m, nil
}

// checkFeatures refuses a model trained on more features than NB301's 56.
func (m *Member) checkFeatures() error {
	n := NumFeatures
	if m.xgb != nil && m.xgb.NumFeature > n {
		return fmt.Errorf("model uses %d features, NB301 vectors have %d", m.xgb.NumFeature, n)
	}
	if m.lgb != nil && m.lgb.MaxFeatureIdx >= n {
		return fmt.Errorf("model uses %d features, NB301 vectors have %d", m.lgb.MaxFeatureIdx+1, n)
	}
	return nil
}

// NumFeatures is the length of NB301's feature vector.
const NumFeatures = 56

// Ensemble is the set of surrogate members found below a folder.
type Ensemble struct {
	Accuracy []*Member // XGBoost members
	Runtime  []*Member // LightGBM members
	// Version is the NB301 release the members come from ("0.9", "1.0"),
	// read from their folder names (xgb_v0.9, lgb_runtime_v1.0, ...); ""
	// when no folder names one.
	Version string
}

// modelVersion returns the NB301 release named by a model folder in path:
// a component xgb_vX or lgb_runtime_vX gives X; "" if none does.
func modelVersion(path string) string {
	for _, c := range strings.Split(filepath.ToSlash(path), "/") {
		for _, p := range []string{"xgb_v", "lgb_runtime_v"} {
			if v, ok := strings.CutPrefix(c, p); ok && v != "" {
				return v
			}
		}
	}
	return ""
}

// LoadEnsemble reads every model below dir, in lexical path order: files
// named *surrogate_model.model (pickles), XGBoost *.ubj models, *.json files
// that are XGBoost models (a top-level "learner" object; other JSON, such as
// NB301's data_config.json, is skipped) and *.txt files that are LightGBM
// models (first line "tree"; other text is skipped). Folders named gnn_*
// (NB301's graph-network surrogates, PyTorch models) are skipped, so dir
// may be a whole NB301 download (nb_models or nb_models_1.0) or one
// ensemble's folder (xgb_v0.9). A model file that cannot be read is a
// *ModelError; so are finding no XGBoost member and finding members of two
// NB301 releases (a folder holding both v0.9 and v1.0 models).
func LoadEnsemble(dir string) (*Ensemble, error) {
	e := &Ensemble{}
	versionFrom := ""
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return &ModelError{path, err}
		}
		name := d.Name()
		if d.IsDir() && strings.HasPrefix(name, "gnn_") {
			return fs.SkipDir
		}
		if !d.Type().IsRegular() || !(strings.HasSuffix(name, "surrogate_model.model") ||
			strings.HasSuffix(name, ".ubj") || strings.HasSuffix(name, ".json") || strings.HasSuffix(name, ".txt")) {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return &ModelError{path, err}
		}
		switch {
		case strings.HasSuffix(name, ".json"):
			var top map[string]json.RawMessage
			if err := json.Unmarshal(data, &top); err != nil {
				return &ModelError{path, fmt.Errorf("not JSON: %w", err)}
			}
			if _, ok := top["learner"]; !ok {
				return nil
			}
		case strings.HasSuffix(name, ".txt"):
			if !bytes.HasPrefix(data, []byte("tree\n")) && !bytes.HasPrefix(data, []byte("tree\r\n")) {
				return nil
			}
		}
		m, err := memberFrom(path, data)
		if err != nil {
			return err
		}
		if v := modelVersion(path); v != "" {
			if e.Version != "" && v != e.Version {
				return &ModelError{dir, fmt.Errorf("holds models of NB301 v%s (%s) and v%s (%s); give one release's folder", e.Version, versionFrom, v, path)}
			}
			e.Version, versionFrom = v, path
		}
		if m.Kind == KindXGBoost {
			e.Accuracy = append(e.Accuracy, m)
		} else {
			e.Runtime = append(e.Runtime, m)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(e.Accuracy) == 0 {
		return nil, &ModelError{dir, fmt.Errorf("no XGBoost surrogate model found (want *surrogate_model.model pickles or XGBoost *.json / *.ubj models)")}
	}
	return e, nil
}

// MemberScore is one member's prediction.
type MemberScore struct {
	File       string  `json:"file"`
	Prediction float64 `json:"prediction"`
}

// Estimate is an ensemble's prediction: the mean of its members, their
// standard deviation (population, ddof 0, as numpy's std), and one normal
// draw with that mean and standard deviation: what NB301's predict returns
// with with_noise=True, the default nasbench301's example.py uses.
type Estimate struct {
	Mean    float64       `json:"mean"`
	Std     float64       `json:"std"`
	Noisy   float64       `json:"noisy"`
	Members []MemberScore `json:"members"`
}

// Score is what export-nb301 writes to score.json.
type Score struct {
	// Models is the model folder scored with; Version the NB301 release
	// of its members ("0.9", "1.0"; "" when the folder names none).
	Models  string `json:"models"`
	Version string `json:"version,omitempty"`
	// Accuracy is the CIFAR-10 validation accuracy estimate, percent.
	Accuracy Estimate `json:"accuracy"`
	// Runtime is the training-time estimate, seconds (nil without a
	// LightGBM runtime ensemble).
	Runtime *Estimate `json:"runtime,omitempty"`
	// Seed is the seed of the noisy draws.
	Seed uint64 `json:"seed"`
}

// Predict scores a feature vector with every member: the ensembles' means
// and standard deviations, and their noisy draws (the accuracy draw, then
// the runtime draw, from a PCG seeded with seed).
func (e *Ensemble) Predict(features []float64, seed uint64) Score {
	rng := rand.New(rand.NewPCG(seed, 0x6e623330315f6e73)) // "nb301_ns"
	s := Score{Version: e.Version, Seed: seed}
	s.Accuracy = estimate(e.Accuracy, features, rng)
	if len(e.Runtime) > 0 {
		r := estimate(e.Runtime, features, rng)
		s.Runtime = &r
	}
	return s
}

func estimate(members []*Member, features []float64, rng *rand.Rand) Estimate {
	est := Estimate{Members: make([]MemberScore, len(members))}
	for i, m := range members {
		p := m.Predict(features)
		est.Members[i] = MemberScore{File: m.Path, Prediction: p}
		est.Mean += p
	}
	est.Mean /= float64(len(members))
	for _, m := range est.Members {
		d := m.Prediction - est.Mean
		est.Std += d * d
	}
	est.Std = math.Sqrt(est.Std / float64(len(members)))
	est.Noisy = est.Mean + est.Std*rng.NormFloat64()
	return est
}
