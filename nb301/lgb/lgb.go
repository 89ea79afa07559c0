// Package lgb reads LightGBM text models (Booster.save_model("model.txt"),
// also the string a pickled lightgbm.Booster holds) and evaluates them as
// LightGBM's Tree::Predict does for numerical splits: in float64, a row
// descending each tree by "feature <= threshold goes left", with the node's
// missing type deciding NaN and zero handling, the leaf outputs of all trees
// summed (divided by the iteration count for average_output models).
//
// Only single-output models whose objective leaves the raw score unchanged
// (regression, regression_l1, huber, fair, quantile, mape) and trees without
// categorical splits or linear leaves are accepted; anything else is an error
// naming what is unsupported. The format is read from its documented layout;
// no LightGBM was available to generate fixtures.
package lgb

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Decision-type bits (LightGBM include/LightGBM/tree.h).
const (
	categoricalMask = 1
	defaultLeftMask = 2
	missingZero     = 1 // (decision_type >> 2) & 3
	missingNaN      = 2
)

// kZeroThreshold is LightGBM's zero tolerance (a float32 constant 1e-35f).
var kZeroThreshold = float64(float32(1e-35))

// Tree is one LightGBM tree: internal nodes 0..NumLeaves-2, children >= 0
// are internal nodes and a child c < 0 is leaf ^c (= -c-1).
type Tree struct {
	SplitFeature []int
	Threshold    []float64
	DecisionType []uint8
	LeftChild    []int
	RightChild   []int
	LeafValue    []float64
}

// Model is a LightGBM regression model.
type Model struct {
	Objective     string
	MaxFeatureIdx int
	AverageOutput bool
	Trees         []Tree
}

var identityObjectives = map[string]bool{
	"regression": true, "regression_l2": true, "l2": true, "mean_squared_error": true, "mse": true,
	"regression_l1": true, "l1": true, "mean_absolute_error": true, "mae": true,
	"huber": true, "fair": true, "quantile": true, "mape": true,
}

// Read decodes a LightGBM text model. Errors name the line.
func Read(data []byte) (*Model, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), len(data)+1)
	lineNo := 0
	next := func() (string, bool) {
		if !sc.Scan() {
			return "", false
		}
		lineNo++
		return strings.TrimRight(sc.Text(), "\r"), true
	}
	first, ok := next()
	if !ok || first != "tree" {
		return nil, fmt.Errorf("line 1: %q, want \"tree\" (a LightGBM text model)", first)
	}
	m := &Model{MaxFeatureIdx: -1}
	header := map[string]string{}
	var trees []map[string]string
	var treeLines []int
	cur := header
	for {
		line, ok := next()
		if !ok {
			return nil, fmt.Errorf("line %d: end of file before \"end of trees\"", lineNo)
		}
		if line == "end of trees" {
			break
		}
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "Tree=") {
			cur = map[string]string{}
			trees = append(trees, cur)
			treeLines = append(treeLines, lineNo)
			if want := "Tree=" + strconv.Itoa(len(trees)-1); line != want {
				return nil, fmt.Errorf("line %d: %q, want %q", lineNo, line, want)
			}
			continue
		}
		k, v, found := strings.Cut(line, "=")
		if !found {
			if len(trees) == 0 {
				header[line] = "" // flag lines such as average_output
				continue
			}
			return nil, fmt.Errorf("line %d: %q is not key=value", lineNo, line)
		}
		cur[k] = v
	}
	if err := m.readHeader(header); err != nil {
		return nil, err
	}
	m.Trees = make([]Tree, len(trees))
	for i, kv := range trees {
		if err := readTree(kv, &m.Trees[i], m.MaxFeatureIdx); err != nil {
			return nil, fmt.Errorf("tree %d (line %d): %w", i, treeLines[i], err)
		}
	}
	return m, nil
}

func (m *Model) readHeader(h map[string]string) error {
	for _, k := range []string{"num_class", "num_tree_per_iteration"} {
		if v, ok := h[k]; ok && v != "1" {
			return fmt.Errorf("header %s=%s, want a single-output model", k, v)
		}
	}
	obj := strings.Fields(h["objective"])
	if len(obj) == 0 {
		return fmt.Errorf("header: no objective")
	}
	if !identityObjectives[obj[0]] {
		return fmt.Errorf("header: objective %q not supported (want a regression objective with identity output)", h["objective"])
	}
	for _, o := range obj[1:] {
		if o == "sqrt" {
			return fmt.Errorf("header: objective %q (sqrt-transformed label) not supported", h["objective"])
		}
	}
	m.Objective = obj[0]
	mf, err := strconv.Atoi(h["max_feature_idx"])
	if err != nil || mf < 0 {
		return fmt.Errorf("header: max_feature_idx %q is not a feature index", h["max_feature_idx"])
	}
	m.MaxFeatureIdx = mf
	_, m.AverageOutput = h["average_output"]
	return nil
}

func ints(kv map[string]string, key string, n int) ([]int, error) {
	f := strings.Fields(kv[key])
	if len(f) != n {
		return nil, fmt.Errorf("%s has %d values, want %d", key, len(f), n)
	}
	out := make([]int, n)
	for i, s := range f {
		v, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("%s value %d: %q is not an integer", key, i, s)
		}
		out[i] = v
	}
	return out, nil
}

func floats(kv map[string]string, key string, n int) ([]float64, error) {
	f := strings.Fields(kv[key])
	if len(f) != n {
		return nil, fmt.Errorf("%s has %d values, want %d", key, len(f), n)
	}
	out := make([]float64, n)
	for i, s := range f {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("%s value %d: %q is not a number", key, i, s)
		}
		out[i] = v
	}
	return out, nil
}

func readTree(kv map[string]string, t *Tree, maxFeature int) error {
	nl, err := strconv.Atoi(kv["num_leaves"])
	if err != nil || nl < 1 || nl > 1<<24 {
		return fmt.Errorf("num_leaves %q is not a leaf count", kv["num_leaves"])
	}
	if v, ok := kv["num_cat"]; ok && v != "0" {
		return fmt.Errorf("categorical splits (num_cat=%s) not supported", v)
	}
	if v, ok := kv["is_linear"]; ok && v != "0" {
		return fmt.Errorf("linear trees not supported")
	}
	if t.LeafValue, err = floats(kv, "leaf_value", nl); err != nil {
		return err
	}
	if nl == 1 {
		return nil
	}
	ni := nl - 1
	if t.SplitFeature, err = ints(kv, "split_feature", ni); err != nil {
		return err
	}
	if t.Threshold, err = floats(kv, "threshold", ni); err != nil {
		return err
	}
	dt, err := ints(kv, "decision_type", ni)
	if err != nil {
		return err
	}
	if t.LeftChild, err = ints(kv, "left_child", ni); err != nil {
		return err
	}
	if t.RightChild, err = ints(kv, "right_child", ni); err != nil {
		return err
	}
	t.DecisionType = make([]uint8, ni)
	for i, d := range dt {
		if d < 0 || d > 127 || d&categoricalMask != 0 || (d>>2)&3 == 3 {
			return fmt.Errorf("node %d: decision_type %d not supported (categorical or unknown missing type)", i, d)
		}
		t.DecisionType[i] = uint8(d)
		if f := t.SplitFeature[i]; f < 0 || f > maxFeature {
			return fmt.Errorf("node %d: split_feature %d outside 0..%d", i, f, maxFeature)
		}
	}
	// Every internal node but the root must be the child of exactly one
	// earlier-visited node and every leaf reached once: a tree, so that
	// prediction terminates.
	seenNode := make([]bool, ni)
	seenLeaf := make([]bool, nl)
	stack := []int{0}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seenNode[n] {
			return fmt.Errorf("node %d reached twice", n)
		}
		seenNode[n] = true
		for _, c := range []int{t.LeftChild[n], t.RightChild[n]} {
			switch {
			case c >= 0 && c < ni:
				stack = append(stack, c)
			case c < 0 && ^c < nl:
				if seenLeaf[^c] {
					return fmt.Errorf("leaf %d reached twice", ^c)
				}
				seenLeaf[^c] = true
			default:
				return fmt.Errorf("node %d: child %d outside the tree", n, c)
			}
		}
	}
	return nil
}

// Predict returns the raw score for one row; a feature beyond the end of x
// is NaN (missing).
func (m *Model) Predict(x []float64) float64 {
	sum := 0.0
	for ti := range m.Trees {
		sum += m.Trees[ti].predict(x)
	}
	if m.AverageOutput && len(m.Trees) > 0 {
		sum /= float64(len(m.Trees))
	}
	return sum
}

func (t *Tree) predict(x []float64) float64 {
	if len(t.LeafValue) == 1 {
		return t.LeafValue[0]
	}
	n := 0
	for n >= 0 {
		f := math.NaN()
		if j := t.SplitFeature[n]; j < len(x) {
			f = x[j]
		}
		n = t.decide(f, n)
	}
	return t.LeafValue[^n]
}

// decide is LightGBM's Tree::NumericalDecision.
func (t *Tree) decide(f float64, n int) int {
	dt := t.DecisionType[n]
	missing := (dt >> 2) & 3
	if math.IsNaN(f) && missing != missingNaN {
		f = 0
	}
	isZero := f > -kZeroThreshold && f <= kZeroThreshold
	if (missing == missingZero && isZero) || (missing == missingNaN && math.IsNaN(f)) {
		if dt&defaultLeftMask != 0 {
			return t.LeftChild[n]
		}
		return t.RightChild[n]
	}
	if f <= t.Threshold[n] {
		return t.LeftChild[n]
	}
	return t.RightChild[n]
}
