// Package xgb reads XGBoost tree-ensemble regression models and evaluates
// them exactly as XGBoost's CPU predictor does: in float32, a row descending
// each tree by "feature < threshold goes left", a missing (NaN) feature
// following the node's default direction, the leaf values of all trees added
// in order to the base margin.
//
// Four encodings are read: the legacy binary model (ReadBinary), the JSON
// and UBJSON models of Booster.save_model("m.json" / "m.ubj") (ReadJSON,
// ReadUBJSON), and the buffer that a pickled Booster holds (ReadSerialized:
// XGBoosterSerializeToBuffer output of xgboost 1.0-1.5, "CONFIG-offset:" +
// int64 + binary model + JSON config; the JSON or UBJSON memory snapshot of
// later versions; or, before 1.0, the bare binary model).
//
// Only single-output regression models whose objective leaves the margin
// unchanged are accepted (reg:squarederror and its aliases), which is what
// NAS-Bench-301's surrogates are; anything else is an error naming it.
package xgb

import (
	"fmt"
	"math"
)

// Tree is one regression tree in XGBoost's node-array layout. Node 0 is the
// root; a node whose Left is -1 is a leaf whose Value is the leaf output,
// otherwise Value is the split threshold on feature Feature.
type Tree struct {
	Left, Right []int32
	Feature     []uint32
	DefaultLeft []bool
	Value       []float32
}

// Model is a tree ensemble ready to predict.
type Model struct {
	Objective  string
	NumFeature int
	// BaseMargin is the initial margin every prediction starts from (the
	// base_score mapped through the objective's link, the identity here).
	BaseMargin float32
	Trees      []Tree
	// Weights holds the per-tree weights of a DART booster (nil for gbtree).
	Weights []float32
}

// identityObjectives are the objectives whose base-score link and output
// transform are the identity.
var identityObjectives = map[string]bool{
	"reg:squarederror":     true,
	"reg:linear":           true,
	"reg:pseudohubererror": true,
	"reg:absoluteerror":    true,
}

func checkObjective(obj string) error {
	if !identityObjectives[obj] {
		return fmt.Errorf("objective %q not supported (want a regression objective with identity output, e.g. reg:squarederror)", obj)
	}
	return nil
}

// validate checks that every tree is well formed: arrays of equal length,
// child indices in range, and the nodes reachable from the root forming a
// tree (no node reached twice), so that Predict always terminates.
func (m *Model) validate() error {
	if m.Weights != nil && len(m.Weights) != len(m.Trees) {
		return fmt.Errorf("%d tree weights for %d trees", len(m.Weights), len(m.Trees))
	}
	for ti := range m.Trees {
		t := &m.Trees[ti]
		n := len(t.Left)
		if n == 0 {
			return fmt.Errorf("tree %d has no nodes", ti)
		}
		if len(t.Right) != n || len(t.Feature) != n || len(t.DefaultLeft) != n || len(t.Value) != n {
			return fmt.Errorf("tree %d: node arrays differ in length", ti)
		}
		seen := make([]bool, n)
		stack := []int32{0}
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[i] {
				return fmt.Errorf("tree %d: node %d reached twice", ti, i)
			}
			seen[i] = true
			if t.Left[i] == -1 {
				continue
			}
			l, r := t.Left[i], t.Right[i]
			if l < 0 || int(l) >= n || r < 0 || int(r) >= n {
				return fmt.Errorf("tree %d: node %d has children %d, %d outside 0..%d", ti, i, l, r, n-1)
			}
			stack = append(stack, l, r)
		}
	}
	return nil
}

// Predict returns the model's prediction for one row of features. A NaN
// feature, or one beyond the end of x, is missing. Features are rounded to
// float32 first, as XGBoost's DMatrix stores them.
func (m *Model) Predict(x []float64) float32 {
	sum := m.BaseMargin
	for ti := range m.Trees {
		t := &m.Trees[ti]
		i := int32(0)
		for t.Left[i] != -1 {
			f := float32(math.NaN())
			if j := t.Feature[i]; int(j) < len(x) {
				f = float32(x[j])
			}
			switch {
			case f != f:
				if t.DefaultLeft[i] {
					i = t.Left[i]
				} else {
					i = t.Right[i]
				}
			case f < t.Value[i]:
				i = t.Left[i]
			default:
				i = t.Right[i]
			}
		}
		leaf := t.Value[i]
		if m.Weights != nil {
			leaf *= m.Weights[ti]
		}
		sum += leaf
	}
	return sum
}
