package nb301

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"slices"
)

// configSpaceJSON is NB301's own search-space file (ConfigSpace 0.4.x JSON),
// a byte-for-byte copy of NB301's own nb_models/configspace.json (a test pins its sha256).
//
//go:embed configspace.json
var configSpaceJSON []byte

// Hyperparameter is one entry of the configuration space.
type Hyperparameter struct {
	Name string `json:"name"`
	// Type is categorical, constant, uniform_int, uniform_float or
	// normal_float.
	Type    string  `json:"type"`
	Choices []any   `json:"choices"` // categorical: JSON strings or booleans
	Value   any     `json:"value"`   // constant
	Lower   float64 `json:"-"`       // uniform: bounds
	Upper   float64 `json:"-"`
	Log     bool    `json:"log"`
	// Parent and ParentValues give the condition under which the
	// hyperparameter is active (Parent is empty when it always is).
	Parent       string   `json:"-"`
	ParentValues []string `json:"-"`
}

// Space is the configuration space in ConfigSpace's vector order.
type Space struct {
	Hyperparameters []Hyperparameter
	index           map[string]int
}

// boundOverrides are the bounds NB301 sets before encoding (its
// ConfigLoader replaces these hyperparameters).
var boundOverrides = map[string]Hyperparameter{
	Prefix + "layers":        {Type: "uniform_int", Lower: 1, Upper: 10000},
	Prefix + "init_channels": {Type: "uniform_int", Lower: 1, Upper: 10000},
	"SimpleLearningrateSchedulerSelector:cosine_annealing:T_max":   {Type: "uniform_int", Lower: 1, Upper: 10000},
	"SimpleLearningrateSchedulerSelector:cosine_annealing:eta_min": {Type: "uniform_float", Lower: 0, Upper: 10000},
}

// NB301Space returns the NB301 configuration space with NB301's bound
// overrides applied, hyperparameters ordered as ConfigSpace 0.4.x orders
// them: those no condition applies to, sorted by name, then the conditional
// ones, sorted by name (all parents here are unconditional).
func NB301Space() (*Space, error) {
	return parseSpace(configSpaceJSON)
}

func parseSpace(data []byte) (*Space, error) {
	var doc struct {
		Hyperparameters []struct {
			Hyperparameter
			Lower *float64 `json:"lower"`
			Upper *float64 `json:"upper"`
		} `json:"hyperparameters"`
		Conditions []struct {
			Child  string   `json:"child"`
			Parent string   `json:"parent"`
			Type   string   `json:"type"`
			Values []string `json:"values"`
			Value  *string  `json:"value"`
		} `json:"conditions"`
		Forbiddens []json.RawMessage `json:"forbiddens"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("configspace: %w", err)
	}
	if len(doc.Forbiddens) != 0 {
		return nil, fmt.Errorf("configspace: forbidden clauses not supported")
	}
	s := &Space{index: map[string]int{}}
	for _, h := range doc.Hyperparameters {
		hp := h.Hyperparameter
		switch hp.Type {
		case "categorical", "constant", "normal_float":
		case "uniform_int", "uniform_float":
			if h.Lower == nil || h.Upper == nil {
				return nil, fmt.Errorf("configspace: %s: missing bounds", hp.Name)
			}
			hp.Lower, hp.Upper = *h.Lower, *h.Upper
		default:
			return nil, fmt.Errorf("configspace: %s: type %q not supported", hp.Name, hp.Type)
		}
		if o, ok := boundOverrides[hp.Name]; ok {
			hp.Type, hp.Lower, hp.Upper, hp.Log = o.Type, o.Lower, o.Upper, false
		}
		if _, dup := s.index[hp.Name]; dup {
			return nil, fmt.Errorf("configspace: %s defined twice", hp.Name)
		}
		s.index[hp.Name] = len(s.Hyperparameters)
		s.Hyperparameters = append(s.Hyperparameters, hp)
	}
	for _, c := range doc.Conditions {
		i, ok := s.index[c.Child]
		if !ok {
			return nil, fmt.Errorf("configspace: condition on unknown hyperparameter %s", c.Child)
		}
		if _, ok := s.index[c.Parent]; !ok {
			return nil, fmt.Errorf("configspace: condition on %s names unknown parent %s", c.Child, c.Parent)
		}
		hp := &s.Hyperparameters[i]
		if hp.Parent != "" {
			return nil, fmt.Errorf("configspace: %s has more than one condition", c.Child)
		}
		hp.Parent = c.Parent
		switch {
		case c.Type == "IN":
			hp.ParentValues = c.Values
		case c.Type == "EQ" && c.Value != nil:
			hp.ParentValues = []string{*c.Value}
		default:
			return nil, fmt.Errorf("configspace: condition %s on %s not supported", c.Type, c.Child)
		}
	}
	for _, hp := range s.Hyperparameters {
		if hp.Parent != "" && s.Hyperparameters[s.index[hp.Parent]].Parent != "" {
			return nil, fmt.Errorf("configspace: %s: nested conditions not supported", hp.Name)
		}
	}
	slices.SortStableFunc(s.Hyperparameters, func(a, b Hyperparameter) int {
		ca, cb := a.Parent != "", b.Parent != ""
		switch {
		case ca != cb && !ca:
			return -1
		case ca != cb:
			return 1
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	for i, hp := range s.Hyperparameters {
		s.index[hp.Name] = i
	}
	return s, nil
}

// Names returns the hyperparameter names in vector order.
func (s *Space) Names() []string {
	names := make([]string, len(s.Hyperparameters))
	for i, hp := range s.Hyperparameters {
		names[i] = hp.Name
	}
	return names
}

// Inactive is the vector value of an inactive hyperparameter: ConfigSpace
// gives NaN and NB301 replaces it by -1 before predicting.
const Inactive = -1.0

// Encode returns ConfigSpace 0.4.x's vector encoding of config, as NB301
// feeds it to its tree surrogates (Configuration.get_array(), NaN -> -1):
//   - categorical: the index of the value among the choices;
//   - constant: 0;
//   - uniform float: (v - lo) / (hi - lo), on logarithms when Log, clipped to
//     [0, 1]; uniform int: the same with bounds lo - 0.49999, hi + 0.49999;
//   - normal float: v, or ln v when Log;
//   - every logarithm correctly rounded (see ln), as the C library's log
//     that ConfigSpace's numpy calls, so the vector equals ConfigSpace's
//     bit for bit;
//   - absent from config: -1, which is only legal for a hyperparameter whose
//     condition is not met.
//
// A value outside the hyperparameter's legal values, an absent active
// hyperparameter or a key the space does not have is an error naming the key.
func (s *Space) Encode(config map[string]any) ([]float64, error) {
	for k := range config {
		if _, ok := s.index[k]; !ok {
			return nil, fmt.Errorf("nb301: configuration key %q is not in the NB301 space", k)
		}
	}
	vec := make([]float64, len(s.Hyperparameters))
	for i, hp := range s.Hyperparameters {
		v, present := config[hp.Name]
		if !present {
			if s.active(hp, config) {
				return nil, fmt.Errorf("nb301: %s is active but has no value", hp.Name)
			}
			vec[i] = Inactive
			continue
		}
		x, err := hp.encode(v)
		if err != nil {
			return nil, fmt.Errorf("nb301: %s: %w", hp.Name, err)
		}
		vec[i] = x
	}
	return vec, nil
}

func (s *Space) active(hp Hyperparameter, config map[string]any) bool {
	if hp.Parent == "" {
		return true
	}
	pv, ok := config[hp.Parent].(string)
	return ok && slices.Contains(hp.ParentValues, pv)
}

func (hp Hyperparameter) encode(v any) (float64, error) {
	switch hp.Type {
	case "categorical":
		for i, c := range hp.Choices {
			if c == v {
				return float64(i), nil
			}
		}
		return 0, fmt.Errorf("value %v is not one of %v", v, hp.Choices)
	case "constant":
		if !sameNumberOrValue(v, hp.Value) {
			return 0, fmt.Errorf("value %v differs from the constant %v", v, hp.Value)
		}
		return 0, nil
	case "uniform_int":
		x, ok := number(v)
		if !ok || x != math.Trunc(x) {
			return 0, fmt.Errorf("value %v is not an integer", v)
		}
		if x < hp.Lower || x > hp.Upper {
			return 0, fmt.Errorf("value %v outside [%v, %v]", v, hp.Lower, hp.Upper)
		}
		return unitInterval(x, hp.Lower-0.49999, hp.Upper+0.49999, hp.Log), nil
	case "uniform_float":
		x, ok := number(v)
		if !ok {
			return 0, fmt.Errorf("value %v is not a number", v)
		}
		if x < hp.Lower || x > hp.Upper {
			return 0, fmt.Errorf("value %v outside [%v, %v]", v, hp.Lower, hp.Upper)
		}
		return unitInterval(x, hp.Lower, hp.Upper, hp.Log), nil
	case "normal_float":
		x, ok := number(v)
		if !ok || (hp.Log && x <= 0) {
			return 0, fmt.Errorf("value %v is not a legal number", v)
		}
		if hp.Log {
			return ln(x), nil
		}
		return x, nil
	}
	return 0, fmt.Errorf("type %q not supported", hp.Type)
}

func unitInterval(x, lo, hi float64, log bool) float64 {
	if log {
		x, lo, hi = ln(x), ln(lo), ln(hi)
	}
	return min(1, max(0, (x-lo)/(hi-lo)))
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	}
	return 0, false
}

func sameNumberOrValue(a, b any) bool {
	x, ok1 := number(a)
	y, ok2 := number(b)
	if ok1 && ok2 {
		return x == y
	}
	return a == b
}
