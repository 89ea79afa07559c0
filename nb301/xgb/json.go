package xgb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// jsonModel mirrors the parts of XGBoost's JSON model schema
// (doc/model.schema) that prediction needs.
type jsonModel struct {
	Version []int `json:"version"`
	Learner *struct {
		LearnerModelParam struct {
			BaseScore  string `json:"base_score"`
			NumClass   string `json:"num_class"`
			NumFeature string `json:"num_feature"`
			NumTarget  string `json:"num_target"`
		} `json:"learner_model_param"`
		Objective struct {
			Name string `json:"name"`
		} `json:"objective"`
		GradientBooster jsonBooster `json:"gradient_booster"`
	} `json:"learner"`
}

type jsonBooster struct {
	Name       string       `json:"name"`
	Model      *jsonGBTree  `json:"model"`  // gbtree
	GBTree     *jsonBooster `json:"gbtree"` // dart wraps a gbtree booster
	WeightDrop []float32    `json:"weight_drop"`
}

type jsonGBTree struct {
	Trees    []jsonTree `json:"trees"`
	TreeInfo []int      `json:"tree_info"`
}

type jsonTree struct {
	LeftChildren    []int32       `json:"left_children"`
	RightChildren   []int32       `json:"right_children"`
	SplitIndices    []uint32      `json:"split_indices"`
	SplitConditions []float32     `json:"split_conditions"`
	DefaultLeft     []flexBool    `json:"default_left"`
	SplitType       []int         `json:"split_type"`
	TreeParam       jsonTreeParam `json:"tree_param"`
}

type jsonTreeParam struct {
	NumNodes       string `json:"num_nodes"`
	SizeLeafVector string `json:"size_leaf_vector"`
}

// flexBool accepts the booleans of xgboost 1.0-1.5 and the 0/1 integers of
// later versions.
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	switch string(data) {
	case "true", "1":
		*b = true
	case "false", "0":
		*b = false
	default:
		return fmt.Errorf("default_left value %s is not a boolean or 0/1", data)
	}
	return nil
}

// ReadJSON decodes an XGBoost JSON model (Booster.save_model("m.json")).
// Errors name the tree and field at fault.
func ReadJSON(data []byte) (*Model, error) {
	var jm jsonModel
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&jm); err != nil {
		return nil, fmt.Errorf("json model: %w", err)
	}
	return fromJSON(&jm)
}

func fromJSON(jm *jsonModel) (*Model, error) {
	if jm.Learner == nil {
		return nil, fmt.Errorf("json model: no \"learner\" object")
	}
	l := jm.Learner
	if err := checkObjective(l.Objective.Name); err != nil {
		return nil, fmt.Errorf("json model: %w", err)
	}
	p := l.LearnerModelParam
	base, err := strconv.ParseFloat(p.BaseScore, 32)
	if err != nil {
		return nil, fmt.Errorf("json model: learner_model_param.base_score %q: not a number", p.BaseScore)
	}
	for _, f := range []struct{ name, v string }{{"num_class", p.NumClass}, {"num_target", p.NumTarget}} {
		if f.v != "" && f.v != "0" && f.v != "1" {
			return nil, fmt.Errorf("json model: learner_model_param.%s is %s, want a single-output model", f.name, f.v)
		}
	}
	numFeature, err := strconv.Atoi(p.NumFeature)
	if err != nil || numFeature < 0 {
		return nil, fmt.Errorf("json model: learner_model_param.num_feature %q: not a count", p.NumFeature)
	}
	m := &Model{Objective: l.Objective.Name, NumFeature: numFeature, BaseMargin: float32(base)}
	gb := &l.GradientBooster
	switch gb.Name {
	case "gbtree":
	case "dart":
		if gb.GBTree == nil {
			return nil, fmt.Errorf("json model: dart booster without \"gbtree\"")
		}
		m.Weights = gb.WeightDrop
		if m.Weights == nil {
			m.Weights = []float32{}
		}
		gb = gb.GBTree
	default:
		return nil, fmt.Errorf("json model: booster %q not supported (want gbtree or dart)", gb.Name)
	}
	if gb.Model == nil {
		return nil, fmt.Errorf("json model: gradient_booster has no \"model\"")
	}
	for i, g := range gb.Model.TreeInfo {
		if g != 0 {
			return nil, fmt.Errorf("json model: tree %d belongs to output group %d, want 0", i, g)
		}
	}
	m.Trees = make([]Tree, len(gb.Model.Trees))
	for ti, jt := range gb.Model.Trees {
		n := len(jt.LeftChildren)
		if s := jt.TreeParam.NumNodes; s != "" && s != strconv.Itoa(n) {
			return nil, fmt.Errorf("json model: tree %d: tree_param.num_nodes %s but %d left_children", ti, s, n)
		}
		if s := jt.TreeParam.SizeLeafVector; s != "" && s != "0" && s != "1" {
			return nil, fmt.Errorf("json model: tree %d: leaf vectors (size %s) not supported", ti, s)
		}
		for _, st := range jt.SplitType {
			if st != 0 {
				return nil, fmt.Errorf("json model: tree %d: categorical splits not supported", ti)
			}
		}
		for _, f := range []struct {
			name string
			n    int
		}{{"right_children", len(jt.RightChildren)}, {"split_indices", len(jt.SplitIndices)},
			{"split_conditions", len(jt.SplitConditions)}, {"default_left", len(jt.DefaultLeft)}} {
			if f.n != n {
				return nil, fmt.Errorf("json model: tree %d: %s has %d entries, left_children %d", ti, f.name, f.n, n)
			}
		}
		dl := make([]bool, n)
		for i, b := range jt.DefaultLeft {
			dl[i] = bool(b)
		}
		m.Trees[ti] = Tree{Left: jt.LeftChildren, Right: jt.RightChildren, Feature: jt.SplitIndices,
			DefaultLeft: dl, Value: jt.SplitConditions}
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("json model: %w", err)
	}
	return m, nil
}
