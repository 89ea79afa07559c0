package nb301

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"pertnas/formats/genotype"
)

// Options are export-nb301's settings.
type Options struct {
	Genotype string // genotype.json, DARTS repr file, or built-in name
	SameCell bool   // use the normal cell for both cells
	Out      string // output folder
	Models   string // NB301 model folder to score with ("" = no scoring)
	Seed     uint64 // seed of the noisy draws
}

// InputError is bad input (an unreadable or invalid genotype, a genotype NB301
// cannot express, an unreadable model); stages exit 2 on it.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// Run exports the genotype named by o into o.Out and, if o.Models is set,
// scores it with the ensembles found there (mean, std and the noisy draw
// of each), writes score.json and prints it to stdout. Bad input is an
// *InputError; anything else failed at run time.
func Run(o Options, stdout io.Writer) (*Export, *Score, error) {
	g, err := genotype.Load(o.Genotype)
	if err != nil {
		return nil, nil, &InputError{err}
	}
	e, err := Build(g, o.SameCell)
	if err != nil {
		var ge *GenotypeError
		if errors.As(err, &ge) {
			return nil, nil, &InputError{fmt.Errorf("genotype %s: %w", o.Genotype, err)}
		}
		return nil, nil, err
	}
	// The models are read before anything is written: a bad --models
	// leaves the output folder as it was.
	var ens *Ensemble
	if o.Models != "" {
		if ens, err = LoadEnsemble(o.Models); err != nil {
			return nil, nil, &InputError{err}
		}
	}
	if err := e.Write(o.Out); err != nil {
		return nil, nil, err
	}
	if ens == nil {
		return e, nil, nil
	}
	s := ens.Predict(e.Vector(), o.Seed)
	s.Models = o.Models
	if err := WriteScore(o.Out, s); err != nil {
		return nil, nil, err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	if _, err := fmt.Fprintf(stdout, "%s\n", b); err != nil {
		return nil, nil, err
	}
	return e, &s, nil
}
