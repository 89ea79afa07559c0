package genotype

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
)

// jsonGenotype mirrors Genotype with pointers, so that missing keys can be
// told from empty ones.
type jsonGenotype struct {
	Normal       *[]jsonPair `json:"normal"`
	NormalConcat *[]int      `json:"normal_concat"`
	Reduce       *[]jsonPair `json:"reduce"`
	ReduceConcat *[]int      `json:"reduce_concat"`
}

type jsonPair struct {
	Op    *string `json:"op"`
	Input *int    `json:"input"`
}

// pairs converts the decoded pairs of one cell, naming a missing key.
func pairs(key string, js *[]jsonPair) ([]Pair, error) {
	if js == nil {
		return nil, fmt.Errorf("genotype json: missing key %q (or null)", key)
	}
	ps := make([]Pair, len(*js))
	for i, jp := range *js {
		if jp.Op == nil {
			return nil, fmt.Errorf("genotype json: %s pair %d: missing key \"op\"", key, i)
		}
		if jp.Input == nil {
			return nil, fmt.Errorf("genotype json: %s pair %d: missing key \"input\"", key, i)
		}
		ps[i] = Pair{Op: *jp.Op, Input: *jp.Input}
	}
	return ps, nil
}

// ParseJSON parses the JSON form of a genotype (see the package comment) and
// validates it. Errors give the byte offset of syntax and type problems and
// name the missing or unknown key.
func ParseJSON(b []byte) (Genotype, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var j jsonGenotype
	if err := dec.Decode(&j); err != nil {
		return Genotype{}, jsonError(err, dec, len(b))
	}
	if _, err := dec.Token(); err != io.EOF {
		return Genotype{}, fmt.Errorf("genotype json: byte offset %d: data after the genotype object", dec.InputOffset())
	}
	normal, err := pairs("normal", j.Normal)
	if err != nil {
		return Genotype{}, err
	}
	reduce, err := pairs("reduce", j.Reduce)
	if err != nil {
		return Genotype{}, err
	}
	g := Genotype{Normal: normal, Reduce: reduce, NormalConcat: slices.Clone(Concat), ReduceConcat: slices.Clone(Concat)}
	if j.NormalConcat != nil {
		g.NormalConcat = *j.NormalConcat
	}
	if j.ReduceConcat != nil {
		g.ReduceConcat = *j.ReduceConcat
	}
	if err := g.Validate(); err != nil {
		return Genotype{}, err
	}
	return g, nil
}

// jsonError places err in the input of n bytes.
func jsonError(err error, dec *json.Decoder, n int) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("genotype json: byte offset %d: %w", syn.Offset, err)
	case errors.As(err, &typ):
		return fmt.Errorf("genotype json: byte offset %d: key %q: %s where %s is expected", typ.Offset, typ.Field, typ.Value, typ.Type)
	case err == io.EOF:
		return errors.New("genotype json: empty input")
	case err == io.ErrUnexpectedEOF:
		// The decoder stops at the value it could not finish; the input
		// ends at n.
		return fmt.Errorf("genotype json: byte offset %d: unexpected end of input (cut short?)", n)
	}
	// Unknown keys and other decoder errors carry the key in their text.
	return fmt.Errorf("genotype json: byte offset %d: %w", dec.InputOffset(), err)
}
