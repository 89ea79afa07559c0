package nb301

import (
	"fmt"
	"io"
	"path/filepath"

	"pertnas/formats/artifact"
	"pertnas/formats/genotype"
)

// Feature is one entry of the feature vector, named by its hyperparameter.
type Feature struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
}

// Export is everything export-nb301 writes for one genotype.
type Export struct {
	// Genotype is the genotype as NB301 sees it (the reduction cell replaced
	// by the normal cell under same-cell).
	Genotype genotype.Genotype
	// Config is the full NB301 configuration dictionary.
	Config *Configuration
	// Features is the surrogates' input vector in ConfigSpace order.
	Features []Feature
}

// Build converts g to NB301's configuration and feature vector; with
// sameCell the normal cell is used for both cells. Genotypes NB301 cannot
// express are *GenotypeError.
func Build(g genotype.Genotype, sameCell bool) (*Export, error) {
	if sameCell {
		g = SameCell(g)
	}
	cfg, err := Config(g)
	if err != nil {
		return nil, err
	}
	space, err := NB301Space()
	if err != nil {
		return nil, err
	}
	vec, err := space.Encode(cfg.Values)
	if err != nil {
		return nil, err
	}
	names := space.Names()
	feats := make([]Feature, len(vec))
	for i := range vec {
		feats[i] = Feature{Name: names[i], Value: vec[i]}
	}
	return &Export{Genotype: g, Config: cfg, Features: feats}, nil
}

// Vector returns the feature values alone.
func (e *Export) Vector() []float64 {
	v := make([]float64, len(e.Features))
	for i, f := range e.Features {
		v[i] = f.Value
	}
	return v
}

// GenotypePy returns the lines to paste into nasbench301's example.py: the
// namedtuple definition and genotype_config = Genotype(...).
func GenotypePy(g genotype.Genotype) string {
	return "from collections import namedtuple\n" +
		"Genotype = namedtuple('Genotype', 'normal normal_concat reduce reduce_concat')\n" +
		"genotype_config = " + g.Repr() + "\n"
}

// Files written by Write and WriteScore.
const (
	GenotypePyFile = "genotype.py"
	ConfigFile     = "config.json"
	FeaturesFile   = "features.json"
	ScoreFile      = "score.json"
)

// Write writes genotype.py, config.json and features.json into dir, each
// atomically.
func (e *Export) Write(dir string) error {
	err := artifact.WriteFile(filepath.Join(dir, GenotypePyFile), func(w io.Writer) error {
		_, err := io.WriteString(w, GenotypePy(e.Genotype))
		return err
	})
	if err != nil {
		return fmt.Errorf("nb301: %w", err)
	}
	if err := artifact.WriteJSON(filepath.Join(dir, ConfigFile), e.Config); err != nil {
		return fmt.Errorf("nb301: %w", err)
	}
	if err := artifact.WriteJSON(filepath.Join(dir, FeaturesFile), e.Features); err != nil {
		return fmt.Errorf("nb301: %w", err)
	}
	return nil
}

// WriteScore writes s to dir/score.json atomically.
func WriteScore(dir string, s Score) error {
	if err := artifact.WriteJSON(filepath.Join(dir, ScoreFile), s); err != nil {
		return fmt.Errorf("nb301: %w", err)
	}
	return nil
}
