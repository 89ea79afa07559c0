package xgb

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
)

// Sizes of the fixed structs of the legacy binary model (xgboost
// src/learner.cc LearnerModelParamLegacy, src/gbm/gbtree_model.h
// GBTreeModelParam, include/xgboost/tree_model.h TreeParam, Node,
// RTreeNodeStat), all little-endian.
const (
	learnerParamSize = 136 // base_score f32, num_feature u32, num_class i32, contain_extra_attrs i32, contain_eval_metrics i32, major u32, minor u32, reserved
	gbtreeParamSize  = 160 // num_trees i32, num_roots i32, num_feature i32, pad i32, num_pbuffer i64, num_output_group i32, size_leaf_vector i32, reserved[32]
	treeParamSize    = 148 // num_roots i32, num_nodes i32, num_deleted i32, max_depth i32, num_feature i32, size_leaf_vector i32, reserved[31]
	nodeSize         = 20  // parent i32, cleft i32, cright i32, sindex u32 (bit 31: default left), info f32
	nodeStatSize     = 16  // loss_chg, sum_hess, base_weight f32, leaf_child_cnt i32
)

// reader walks a byte slice, reporting the offset of any short read.
type reader struct {
	b   []byte
	pos int
}

func (r *reader) take(n int, what string) ([]byte, error) {
	if n < 0 || n > len(r.b)-r.pos {
		return nil, fmt.Errorf("offset %d: truncated %s (need %d bytes, %d left)", r.pos, what, n, len(r.b)-r.pos)
	}
	b := r.b[r.pos : r.pos+n]
	r.pos += n
	return b, nil
}

// str reads a dmlc string: uint64 length, then the bytes.
func (r *reader) str(what string) (string, error) {
	at := r.pos
	b, err := r.take(8, what+" length")
	if err != nil {
		return "", err
	}
	n := binary.LittleEndian.Uint64(b)
	if n > uint64(len(r.b)-r.pos) {
		return "", fmt.Errorf("offset %d: %s length %d exceeds the %d bytes left", at, what, n, len(r.b)-r.pos)
	}
	s, _ := r.take(int(n), what)
	return string(s), nil
}

func i32(b []byte, off int) int32   { return int32(binary.LittleEndian.Uint32(b[off:])) }
func u32(b []byte, off int) uint32  { return binary.LittleEndian.Uint32(b[off:]) }
func f32(b []byte, off int) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b[off:])) }

// ReadBinary decodes XGBoost's legacy binary model (Booster.save_raw(),
// optionally prefixed by "binf"). Errors name the byte offset.
func ReadBinary(data []byte) (*Model, error) {
	r := &reader{b: data}
	if bytes.HasPrefix(data, []byte("binf")) {
		r.pos = 4
	}
	if bytes.HasPrefix(data[r.pos:], []byte("bs64")) {
		return nil, fmt.Errorf("offset %d: base64 model format not supported", r.pos)
	}
	p, err := r.take(learnerParamSize, "learner model parameters")
	if err != nil {
		return nil, err
	}
	baseScore := f32(p, 0)
	numFeature := u32(p, 4)
	numClass := i32(p, 8)
	if numClass > 1 {
		return nil, fmt.Errorf("offset %d: model has %d classes, want a single-output regression model", r.pos-learnerParamSize+8, numClass)
	}
	obj, err := r.str("objective name")
	if err != nil {
		return nil, err
	}
	if err := checkObjective(obj); err != nil {
		return nil, err
	}
	booster, err := r.str("booster name")
	if err != nil {
		return nil, err
	}
	if booster != "gbtree" && booster != "dart" {
		return nil, fmt.Errorf("booster %q not supported (want gbtree or dart)", booster)
	}
	m := &Model{Objective: obj, NumFeature: int(numFeature)}
	// From 1.0 the stored base_score is the user's value and the margin is
	// its image under the objective's link (the identity for the accepted
	// objectives); before 1.0 it was stored as the margin itself. Both give
	// the stored number here, so the version field (offset 20) is not needed.
	m.BaseMargin = baseScore
	if err := readGBTree(r, m); err != nil {
		return nil, err
	}
	if booster == "dart" {
		at := r.pos
		b, err := r.take(8, "dart weight count")
		if err != nil {
			return nil, err
		}
		n := binary.LittleEndian.Uint64(b)
		if n != uint64(len(m.Trees)) {
			return nil, fmt.Errorf("offset %d: %d dart weights for %d trees", at, n, len(m.Trees))
		}
		w, err := r.take(4*int(n), "dart weights")
		if err != nil {
			return nil, err
		}
		m.Weights = make([]float32, n)
		for i := range m.Weights {
			m.Weights[i] = f32(w, 4*i)
		}
	}
	// The extra attributes (and an eval-metric list) follow; prediction does
	// not need them.
	if err := m.validate(); err != nil {
		return nil, err
	}
	return m, nil
}

func readGBTree(r *reader, m *Model) error {
	at := r.pos
	p, err := r.take(gbtreeParamSize, "gbtree model parameters")
	if err != nil {
		return err
	}
	numTrees := i32(p, 0)
	numGroup := i32(p, 24)
	sizeLeafVector := i32(p, 28)
	if numTrees < 0 || int64(numTrees)*(treeParamSize+nodeSize+nodeStatSize) > int64(len(r.b)-r.pos) {
		return fmt.Errorf("offset %d: tree count %d does not fit the %d bytes left", at, numTrees, len(r.b)-r.pos)
	}
	if numGroup > 1 {
		return fmt.Errorf("offset %d: model has %d output groups, want 1", at+24, numGroup)
	}
	if sizeLeafVector != 0 {
		return fmt.Errorf("offset %d: leaf vectors (size %d) not supported", at+28, sizeLeafVector)
	}
	m.Trees = make([]Tree, numTrees)
	for ti := range m.Trees {
		if err := readTree(r, &m.Trees[ti], ti); err != nil {
			return err
		}
	}
	if numTrees > 0 {
		at := r.pos
		info, err := r.take(4*int(numTrees), "tree info")
		if err != nil {
			return err
		}
		for i := 0; i < int(numTrees); i++ {
			if g := i32(info, 4*i); g != 0 {
				return fmt.Errorf("offset %d: tree %d belongs to output group %d, want 0", at+4*i, i, g)
			}
		}
	}
	return nil
}

func readTree(r *reader, t *Tree, ti int) error {
	at := r.pos
	p, err := r.take(treeParamSize, fmt.Sprintf("tree %d parameters", ti))
	if err != nil {
		return err
	}
	numNodes := i32(p, 4)
	sizeLeafVector := i32(p, 20)
	if numNodes <= 0 || int64(numNodes)*(nodeSize+nodeStatSize) > int64(len(r.b)-r.pos) {
		return fmt.Errorf("offset %d: tree %d node count %d does not fit the %d bytes left", at+4, ti, numNodes, len(r.b)-r.pos)
	}
	if sizeLeafVector != 0 {
		return fmt.Errorf("offset %d: tree %d has leaf vectors (size %d), not supported", at+20, ti, sizeLeafVector)
	}
	n := int(numNodes)
	nodes, _ := r.take(n*nodeSize, "nodes")
	if _, err := r.take(n*nodeStatSize, "node statistics"); err != nil {
		return err
	}
	t.Left = make([]int32, n)
	t.Right = make([]int32, n)
	t.Feature = make([]uint32, n)
	t.DefaultLeft = make([]bool, n)
	t.Value = make([]float32, n)
	for i := 0; i < n; i++ {
		o := i * nodeSize
		t.Left[i] = i32(nodes, o+4)
		t.Right[i] = i32(nodes, o+8)
		s := u32(nodes, o+12)
		t.Feature[i] = s & (1<<31 - 1)
		t.DefaultLeft[i] = s>>31 != 0
		t.Value[i] = f32(nodes, o+16)
	}
	return nil
}
