// Package nb301 exports a DARTS genotype to NAS-Bench-301 (docs/spec/nb301.md):
// the configuration dictionary NB301 builds from it, the feature vector its
// tree surrogates read, the Genotype line for nasbench301's example.py, and
// the surrogate ensembles' predictions computed without Python (XGBoost
// members through package nb301/xgb, LightGBM runtime members through
// nb301/lgb, NB301's pickled model files through nb301/pickle).
package nb301

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"pertnas/formats/genotype"
)

// Prefix starts every architecture key of an NB301 configuration.
const Prefix = "NetworkSelectorDatasetInfo:darts:"

// nodeStart is the index of the first edge into node i (0..3) of a cell.
var nodeStart = [genotype.Nodes]int{0, 2, 5, 9}

// GenotypeError is a genotype NB301 cannot express (or an invalid one); the
// message names the cell and the node.
type GenotypeError struct{ Msg string }

func (e *GenotypeError) Error() string { return "nb301: " + e.Msg }

// TrainingHyperparameters are the fixed training settings NB301's predict
// merges under the architecture keys (docs/spec/nb301.md). Integers are int,
// reals float64, so that Space.Encode and JSON output keep their types.
func TrainingHyperparameters() map[string]any {
	return map[string]any{
		"CreateImageDataLoader:batch_size":                             96,
		"ImageAugmentation:augment":                                    true,
		"ImageAugmentation:cutout":                                     true,
		"ImageAugmentation:cutout_holes":                               1,
		"ImageAugmentation:cutout_length":                              16,
		"ImageAugmentation:autoaugment":                                false,
		"ImageAugmentation:fastautoaugment":                            false,
		"LossModuleSelectorIndices:loss_module":                        "cross_entropy",
		Prefix + "auxiliary":                                           true,
		Prefix + "drop_path_prob":                                      0.2,
		"NetworkSelectorDatasetInfo:network":                           "darts",
		"OptimizerSelector:optimizer":                                  "sgd",
		"OptimizerSelector:sgd:learning_rate":                          0.025,
		"OptimizerSelector:sgd:momentum":                               0.9,
		"OptimizerSelector:sgd:weight_decay":                           0.0003,
		"SimpleLearningrateSchedulerSelector:cosine_annealing:T_max":   100,
		"SimpleLearningrateSchedulerSelector:cosine_annealing:eta_min": 1e-8,
		"SimpleLearningrateSchedulerSelector:lr_scheduler":             "cosine_annealing",
		"SimpleTrainNode:batch_loss_computation_technique":             "mixup",
		"SimpleTrainNode:mixup:alpha":                                  0.2,
		Prefix + "init_channels":                                       32,
		Prefix + "layers":                                              8,
	}
}

// SameCell returns g with its reduction cell replaced by its normal cell
// (the PertNAS convention of one searched cell used for both).
func SameCell(g genotype.Genotype) genotype.Genotype {
	return genotype.Genotype{
		Normal:       slices.Clone(g.Normal),
		NormalConcat: slices.Clone(g.NormalConcat),
		Reduce:       slices.Clone(g.Normal),
		ReduceConcat: slices.Clone(g.NormalConcat),
	}
}

// Configuration is an NB301 configuration dictionary, its keys in the order
// of NB301's own configuration files (data_generation/configs/config_0.json):
// the architecture keys as convert_genotype_to_config emits them (per cell,
// per node: the edges of the node's two pairs, then the node's inputs), then
// the training keys sorted by name. Its JSON form writes booleans as the
// strings "True" and "False", as those files do (NB301 turns them back into
// booleans when it reads a configuration).
type Configuration struct {
	Keys   []string
	Values map[string]any
}

func (c *Configuration) set(key string, v any) {
	if _, ok := c.Values[key]; !ok {
		c.Keys = append(c.Keys, key)
	}
	c.Values[key] = v
}

// MarshalJSON writes the dictionary in key order.
func (c *Configuration) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range c.Keys {
		v := c.Values[k]
		if bv, ok := v.(bool); ok {
			v = "False"
			if bv {
				v = "True"
			}
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		vb, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("nb301: configuration key %s: %w", k, err)
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Architecture returns the architecture keys NB301's
// convert_genotype_to_config produces for g: for each cell and node i, each
// pair (op, input) sets edge_<cell>_<start(i)+input> = op, and for i >= 1
// inputs_node_<cell>_<i+2> = the two inputs sorted, joined by "_". A node that
// uses one input twice cannot be expressed in NB301 and is a *GenotypeError,
// as is any other invalid cell.
func Architecture(g genotype.Genotype) (*Configuration, error) {
	arch := &Configuration{Values: map[string]any{}}
	for _, c := range []struct {
		name  string
		pairs []genotype.Pair
	}{{"normal", g.Normal}, {"reduce", g.Reduce}} {
		if len(c.pairs) != 2*genotype.Nodes {
			return nil, &GenotypeError{fmt.Sprintf("%s cell has %d pairs, want %d", c.name, len(c.pairs), 2*genotype.Nodes)}
		}
		for i := 0; i < genotype.Nodes; i++ {
			a, b := c.pairs[2*i], c.pairs[2*i+1]
			for _, p := range []genotype.Pair{a, b} {
				if genotype.OpIndex(p.Op) < 0 {
					return nil, &GenotypeError{fmt.Sprintf("%s cell node %d (NB301 node %d): op %q is not an NB301 op", c.name, i, i+2, p.Op)}
				}
				if p.Input < 0 || p.Input > i+1 {
					return nil, &GenotypeError{fmt.Sprintf("%s cell node %d (NB301 node %d): input %d outside 0..%d", c.name, i, i+2, p.Input, i+1)}
				}
			}
			if a.Input == b.Input {
				return nil, &GenotypeError{fmt.Sprintf("%s cell node %d (NB301 node %d) uses input %d twice, which NB301 cannot express", c.name, i, i+2, a.Input)}
			}
			for _, p := range []genotype.Pair{a, b} {
				arch.set(Prefix+"edge_"+c.name+"_"+strconv.Itoa(nodeStart[i]+p.Input), p.Op)
			}
			if i >= 1 {
				in := []int{a.Input, b.Input}
				slices.Sort(in)
				arch.set(Prefix+"inputs_node_"+c.name+"_"+strconv.Itoa(i+2), strconv.Itoa(in[0])+"_"+strconv.Itoa(in[1]))
			}
		}
	}
	return arch, nil
}

// Config returns the full NB301 configuration dictionary of g: its
// architecture keys, then the fixed training hyperparameters.
func Config(g genotype.Genotype) (*Configuration, error) {
	cfg, err := Architecture(g)
	if err != nil {
		return nil, err
	}
	train := TrainingHyperparameters()
	keys := make([]string, 0, len(train))
	for k := range train {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		cfg.set(k, train[k])
	}
	return cfg, nil
}
