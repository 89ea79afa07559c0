package nb301

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"pertnas/formats/genotype"
)

// configSpaceSHA256 is the digest of configspace.json as NAS-Bench-301 ships
// it (nb_models/configspace.json, written by ConfigSpace's JSON writer); the
// file is data, never edited by hand.
const configSpaceSHA256 = "40d3e5ee995bcb621790d930bf2b168695edf2bd11bf5bef105b64f82f0c76fc"

func TestEmbeddedSpaceIsUnedited(t *testing.T) {
	if got := fmt.Sprintf("%x", sha256.Sum256(configSpaceJSON)); got != configSpaceSHA256 {
		t.Fatalf("nb301/configspace.json has sha256 %s, want NB301's file (%s)", got, configSpaceSHA256)
	}
}

func TestSpaceOrder(t *testing.T) {
	s, err := NB301Space()
	if err != nil {
		t.Fatal(err)
	}
	names := s.Names()
	if len(names) != 56 {
		t.Fatalf("%d hyperparameters, want 56", len(names))
	}
	// ConfigSpace writes its JSON in its own hyperparameter order.
	var doc struct {
		Hyperparameters []struct{ Name string } `json:"hyperparameters"`
	}
	if err := json.Unmarshal(configSpaceJSON, &doc); err != nil {
		t.Fatal(err)
	}
	for i, h := range doc.Hyperparameters {
		if names[i] != h.Name {
			t.Fatalf("position %d: %s, configspace.json has %s", i, names[i], h.Name)
		}
	}
	// Spot checks from the spec's rule.
	if names[0] != "CreateImageDataLoader:batch_size" || names[32] != Prefix+"edge_normal_10" ||
		names[36] != Prefix+"edge_normal_2" || names[55] != Prefix+"edge_reduce_9" {
		t.Errorf("order: %s, %s, %s, %s", names[0], names[32], names[36], names[55])
	}
	conditional := 0
	for _, hp := range s.Hyperparameters {
		if hp.Parent != "" {
			conditional++
		}
	}
	if conditional != 24 {
		t.Errorf("%d conditional hyperparameters, want 24", conditional)
	}
	for _, n := range []string{Prefix + "layers", Prefix + "init_channels", "SimpleLearningrateSchedulerSelector:cosine_annealing:T_max"} {
		hp := s.Hyperparameters[s.index[n]]
		if hp.Type != "uniform_int" || hp.Lower != 1 || hp.Upper != 10000 || hp.Log {
			t.Errorf("%s not overridden: %+v", n, hp)
		}
	}
}

func dartsV2(t testing.TB) genotype.Genotype {
	g, ok := genotype.Named("DARTS_V2")
	if !ok {
		t.Fatal("DARTS_V2 not built in")
	}
	return g
}

// dartsV2Arch is the architecture dictionary nasbench301's
// convert_genotype_to_config gives for DARTS_V2, written out by hand from the
// rules of docs/spec/nb301.md (edges of node i start at 0, 2, 5, 9):
//
//	normal node 0: (sep_conv_3x3, 0) (sep_conv_3x3, 1) -> edges 0, 1
//	normal node 1: (sep_conv_3x3, 0) (sep_conv_3x3, 1) -> edges 2, 3; inputs 0_1
//	normal node 2: (sep_conv_3x3, 1) (skip_connect, 0) -> edges 6, 5; inputs 0_1
//	normal node 3: (skip_connect, 0) (dil_conv_3x3, 2) -> edges 9, 11; inputs 0_2
//	reduce node 0: (max_pool_3x3, 0) (max_pool_3x3, 1) -> edges 0, 1
//	reduce node 1: (skip_connect, 2) (max_pool_3x3, 1) -> edges 4, 3; inputs 1_2
//	reduce node 2: (max_pool_3x3, 0) (skip_connect, 2) -> edges 5, 7; inputs 0_2
//	reduce node 3: (skip_connect, 2) (max_pool_3x3, 1) -> edges 11, 10; inputs 1_2
var dartsV2Arch = map[string]string{
	Prefix + "edge_normal_0":        "sep_conv_3x3",
	Prefix + "edge_normal_1":        "sep_conv_3x3",
	Prefix + "edge_normal_2":        "sep_conv_3x3",
	Prefix + "edge_normal_3":        "sep_conv_3x3",
	Prefix + "edge_normal_5":        "skip_connect",
	Prefix + "edge_normal_6":        "sep_conv_3x3",
	Prefix + "edge_normal_9":        "skip_connect",
	Prefix + "edge_normal_11":       "dil_conv_3x3",
	Prefix + "inputs_node_normal_3": "0_1",
	Prefix + "inputs_node_normal_4": "0_1",
	Prefix + "inputs_node_normal_5": "0_2",
	Prefix + "edge_reduce_0":        "max_pool_3x3",
	Prefix + "edge_reduce_1":        "max_pool_3x3",
	Prefix + "edge_reduce_3":        "max_pool_3x3",
	Prefix + "edge_reduce_4":        "skip_connect",
	Prefix + "edge_reduce_5":        "max_pool_3x3",
	Prefix + "edge_reduce_7":        "skip_connect",
	Prefix + "edge_reduce_10":       "max_pool_3x3",
	Prefix + "edge_reduce_11":       "skip_connect",
	Prefix + "inputs_node_reduce_3": "1_2",
	Prefix + "inputs_node_reduce_4": "0_2",
	Prefix + "inputs_node_reduce_5": "1_2",
}

func TestDARTSV2Architecture(t *testing.T) {
	arch, err := Architecture(dartsV2(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(arch.Keys) != len(dartsV2Arch) || len(arch.Values) != len(dartsV2Arch) {
		t.Errorf("%d keys, want %d", len(arch.Keys), len(dartsV2Arch))
	}
	for k, want := range dartsV2Arch {
		if arch.Values[k] != want {
			t.Errorf("%s = %q, want %q", k, arch.Values[k], want)
		}
	}
	// Key order of NB301's conversion: per node, the pairs' edges, then the inputs.
	wantOrder := []string{"edge_normal_0", "edge_normal_1", "edge_normal_2", "edge_normal_3", "inputs_node_normal_3",
		"edge_normal_6", "edge_normal_5", "inputs_node_normal_4", "edge_normal_9", "edge_normal_11", "inputs_node_normal_5",
		"edge_reduce_0", "edge_reduce_1", "edge_reduce_4", "edge_reduce_3", "inputs_node_reduce_3",
		"edge_reduce_5", "edge_reduce_7", "inputs_node_reduce_4", "edge_reduce_11", "edge_reduce_10", "inputs_node_reduce_5"}
	for i, k := range wantOrder {
		if i >= len(arch.Keys) || arch.Keys[i] != Prefix+k {
			t.Fatalf("key %d: got %v, want %s", i, arch.Keys, k)
		}
	}
}

// TestDARTSV2Features checks every one of the 56 values against the
// encoding rules applied by hand.
func TestDARTSV2Features(t *testing.T) {
	e, err := Build(dartsV2(t), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Features) != 56 {
		t.Fatalf("%d features, want 56", len(e.Features))
	}
	ln := math.Log
	unitInt := func(v, lo, hi float64) float64 { return (v - (lo - 0.49999)) / ((hi + 0.49999) - (lo - 0.49999)) }
	want := map[string]float64{
		"CreateImageDataLoader:batch_size":                             (ln(96) - ln(63.50001)) / (ln(128.49999) - ln(63.50001)),
		"ImageAugmentation:augment":                                    0,
		"ImageAugmentation:autoaugment":                                0, // False is choice 0 of [false, true]
		"ImageAugmentation:cutout":                                     0,
		"ImageAugmentation:cutout_holes":                               unitInt(1, 1, 3),
		"ImageAugmentation:cutout_length":                              unitInt(16, 1, 50),
		"ImageAugmentation:fastautoaugment":                            0,
		"LossModuleSelectorIndices:loss_module":                        0,
		Prefix + "auxiliary":                                           0,
		Prefix + "drop_path_prob":                                      0, // constant
		Prefix + "init_channels":                                       unitInt(32, 1, 10000),
		Prefix + "layers":                                              unitInt(8, 1, 10000),
		"NetworkSelectorDatasetInfo:network":                           0,
		"OptimizerSelector:optimizer":                                  0,
		"OptimizerSelector:sgd:learning_rate":                          ln(0.025), // normal_float, log
		"OptimizerSelector:sgd:momentum":                               (0.9 - 0.1) / (0.99 - 0.1),
		"OptimizerSelector:sgd:weight_decay":                           ln(0.0003),
		"SimpleLearningrateSchedulerSelector:cosine_annealing:T_max":   unitInt(100, 1, 10000),
		"SimpleLearningrateSchedulerSelector:cosine_annealing:eta_min": 1e-8 / 10000,
		"SimpleLearningrateSchedulerSelector:lr_scheduler":             0,
		"SimpleTrainNode:batch_loss_computation_technique":             0,
		"SimpleTrainNode:mixup:alpha":                                  (ln(0.2) - ln(0.01)) / (ln(0.7) - ln(0.01)),
		// ops: max_pool 0, skip 2, sep3 3, dil3 5; node inputs by choice index
		Prefix + "edge_normal_0": 3, Prefix + "edge_normal_1": 3, Prefix + "edge_normal_2": 3,
		Prefix + "edge_normal_3": 3, Prefix + "edge_normal_5": 2, Prefix + "edge_normal_6": 3,
		Prefix + "edge_normal_9": 2, Prefix + "edge_normal_11": 5,
		Prefix + "edge_reduce_0": 0, Prefix + "edge_reduce_1": 0, Prefix + "edge_reduce_3": 0,
		Prefix + "edge_reduce_4": 2, Prefix + "edge_reduce_5": 0, Prefix + "edge_reduce_7": 2,
		Prefix + "edge_reduce_10": 0, Prefix + "edge_reduce_11": 2,
		Prefix + "inputs_node_normal_3": 0, // 0_1 of [0_1 0_2 1_2]
		Prefix + "inputs_node_normal_4": 0, // 0_1 of [0_1 0_2 0_3 1_2 1_3 2_3]
		Prefix + "inputs_node_normal_5": 1, // 0_2 of [0_1 0_2 ...]
		Prefix + "inputs_node_reduce_3": 2, // 1_2
		Prefix + "inputs_node_reduce_4": 1, // 0_2
		Prefix + "inputs_node_reduce_5": 4, // 1_2 of [0_1 0_2 0_3 0_4 1_2 ...]
	}
	inactive := []int{4, 7, 8, 10, 12, 13}
	inactiveReduce := []int{2, 6, 8, 9, 12, 13}
	for _, k := range inactive {
		want[Prefix+"edge_normal_"+strconv.Itoa(k)] = -1
	}
	for _, k := range inactiveReduce {
		want[Prefix+"edge_reduce_"+strconv.Itoa(k)] = -1
	}
	if len(want) != 56 {
		t.Fatalf("test table has %d entries", len(want))
	}
	for _, f := range e.Features {
		w, ok := want[f.Name]
		if !ok {
			t.Errorf("unexpected feature %s", f.Name)
			continue
		}
		if math.Abs(f.Value-w) > 1e-12 {
			t.Errorf("%s = %.15g, want %.15g", f.Name, f.Value, w)
		}
	}
}

func TestConfigHasTrainingKeys(t *testing.T) {
	cfg, err := Config(dartsV2(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Keys) != 22+len(dartsV2Arch) || len(cfg.Values) != len(cfg.Keys) {
		t.Errorf("%d keys, want 22 training + %d architecture", len(cfg.Keys), len(dartsV2Arch))
	}
	if !slices.IsSorted(cfg.Keys[len(dartsV2Arch):]) || cfg.Keys[len(dartsV2Arch)] != "CreateImageDataLoader:batch_size" {
		t.Errorf("training keys not sorted after the architecture keys: %v", cfg.Keys)
	}
	for k, v := range map[string]any{
		"CreateImageDataLoader:batch_size": 96, "ImageAugmentation:autoaugment": false,
		Prefix + "layers": 8, Prefix + "init_channels": 32, "SimpleTrainNode:mixup:alpha": 0.2,
		"SimpleLearningrateSchedulerSelector:cosine_annealing:eta_min": 1e-8,
	} {
		if cfg.Values[k] != v {
			t.Errorf("%s = %v, want %v", k, cfg.Values[k], v)
		}
	}
}

func TestSameCell(t *testing.T) {
	e, err := Build(dartsV2(t), true)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(e.Genotype.Reduce, e.Genotype.Normal) {
		t.Fatal("same-cell genotype has a different reduce cell")
	}
	for k, v := range e.Config.Values {
		if rest, ok := strings.CutPrefix(k, Prefix+"edge_reduce_"); ok {
			if e.Config.Values[Prefix+"edge_normal_"+rest] != v {
				t.Errorf("%s = %v differs from the normal edge", k, v)
			}
		}
	}
	if e.Config.Values[Prefix+"inputs_node_reduce_5"] != "0_2" {
		t.Errorf("reduce node 5 inputs %v, want 0_2", e.Config.Values[Prefix+"inputs_node_reduce_5"])
	}
}

func TestGenotypeErrors(t *testing.T) {
	g := dartsV2(t)
	g.Normal[5].Input = 1 // node 2 now reads input 1 twice
	_, err := Build(g, false)
	var ge *GenotypeError
	if !errors.As(err, &ge) || !strings.Contains(err.Error(), "normal cell node 2 (NB301 node 4) uses input 1 twice") {
		t.Errorf("repeated input: %v", err)
	}
	g = dartsV2(t)
	g.Reduce[7].Op = "none"
	if _, err := Build(g, false); !errors.As(err, &ge) || !strings.Contains(err.Error(), `reduce cell node 3 (NB301 node 5): op "none"`) {
		t.Errorf("none op: %v", err)
	}
	g = dartsV2(t)
	g.Reduce = nil
	if _, err := Build(g, false); !errors.As(err, &ge) || !strings.Contains(err.Error(), "reduce cell has 0 pairs") {
		t.Errorf("no reduce cell: %v", err)
	}
	// With same-cell the missing reduction cell is not needed.
	if _, err := Build(g, true); err != nil {
		t.Errorf("same-cell without reduce: %v", err)
	}
}

func TestEncodeErrors(t *testing.T) {
	s, err := NB301Space()
	if err != nil {
		t.Fatal(err)
	}
	good, err := Config(dartsV2(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		key  string
		val  any
		want string
	}{
		{"bogus", 1, `"bogus" is not in the NB301 space`},
		{Prefix + "edge_normal_0", "conv_7x7", "not one of"},
		{"CreateImageDataLoader:batch_size", 200, "outside [64, 128]"},
		{"CreateImageDataLoader:batch_size", 96.5, "not an integer"},
		{Prefix + "drop_path_prob", 0.3, "differs from the constant"},
		{Prefix + "edge_normal_0", nil, "active but has no value"},
	} {
		cfg := map[string]any{}
		for k, v := range good.Values {
			cfg[k] = v
		}
		if c.val == nil {
			delete(cfg, c.key)
		} else {
			cfg[c.key] = c.val
		}
		if _, err := s.Encode(cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s=%v: %v, want %q", c.key, c.val, err, c.want)
		}
	}
}

func TestWrite(t *testing.T) {
	e, err := Build(dartsV2(t), false)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := e.Write(dir); err != nil {
		t.Fatal(err)
	}
	py, err := os.ReadFile(filepath.Join(dir, GenotypePyFile))
	if err != nil {
		t.Fatal(err)
	}
	wantLine := "genotype_config = Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])\n"
	if !strings.HasPrefix(string(py), "from collections import namedtuple\nGenotype = namedtuple('Genotype', 'normal normal_concat reduce reduce_concat')\n") ||
		!strings.HasSuffix(string(py), wantLine) {
		t.Errorf("genotype.py:\n%s", py)
	}
	b, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	for k, v := range dartsV2Arch {
		if cfg[k] != v {
			t.Errorf("config.json %s = %v, want %s", k, cfg[k], v)
		}
	}
	// Laid out as NB301's config_0.json: booleans as "True"/"False",
	// architecture keys first, in conversion order.
	if cfg["ImageAugmentation:augment"] != "True" || cfg["ImageAugmentation:autoaugment"] != "False" ||
		cfg["CreateImageDataLoader:batch_size"] != 96.0 || cfg["SimpleLearningrateSchedulerSelector:cosine_annealing:eta_min"] != 1e-8 {
		t.Errorf("config.json training keys: %v %v %v", cfg["ImageAugmentation:augment"], cfg["ImageAugmentation:autoaugment"], cfg["CreateImageDataLoader:batch_size"])
	}
	if len(cfg) != 44 {
		t.Errorf("config.json has %d keys, want 44", len(cfg))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.Token() // {
	var order []string
	for dec.More() {
		k, _ := dec.Token()
		order = append(order, k.(string))
		var skip any
		dec.Decode(&skip)
	}
	if !slices.Equal(order, e.Config.Keys) || order[0] != Prefix+"edge_normal_0" || order[43] != "SimpleTrainNode:mixup:alpha" {
		t.Errorf("config.json key order %v", order)
	}
	var feats []Feature
	b, _ = os.ReadFile(filepath.Join(dir, FeaturesFile))
	if err := json.Unmarshal(b, &feats); err != nil {
		t.Fatal(err)
	}
	inactive := 0
	for _, f := range feats {
		if f.Value == -1 {
			inactive++
		}
	}
	if len(feats) != 56 || inactive != 12 {
		t.Errorf("features.json: %d entries, %d at -1, want 56 and 12", len(feats), inactive)
	}
}
