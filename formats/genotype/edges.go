package genotype

import (
	"encoding/json"
	"fmt"
	"math/bits"
	"strings"
)

// The candidate sets of a search cell's edges: one type for the search
// algorithm (package pertnas) and the search network (package darts), here
// because both read it and neither may import the other.

// OpSet is a set of candidate ops of one edge: bit i set means op i (Ops[i])
// is a candidate. Its JSON form is the sorted list of the op indices.
type OpSet uint8

// AllOps holds all seven ops.
const AllOps OpSet = 1<<len(Ops) - 1

// OpSetOf returns the set holding ops (each 0..6).
func OpSetOf(ops ...int) OpSet {
	var s OpSet
	for _, o := range ops {
		s |= 1 << o
	}
	return s
}

// Has reports whether op is in s.
func (s OpSet) Has(op int) bool { return op >= 0 && op < len(Ops) && s&(1<<op) != 0 }

// Len is the number of ops in s.
func (s OpSet) Len() int { return bits.OnesCount8(uint8(s)) }

// List returns the ops of s in increasing order.
func (s OpSet) List() []int {
	var ops []int
	for o := range len(Ops) {
		if s.Has(o) {
			ops = append(ops, o)
		}
	}
	return ops
}

// String lists the op names, e.g. "{sep_conv_3x3,skip_connect}".
func (s OpSet) String() string {
	var names []string
	for _, o := range s.List() {
		names = append(names, Ops[o])
	}
	return "{" + strings.Join(names, ",") + "}"
}

// MarshalJSON writes the sorted list of op indices.
func (s OpSet) MarshalJSON() ([]byte, error) {
	ops := s.List()
	if ops == nil {
		ops = []int{}
	}
	return json.Marshal(ops)
}

// UnmarshalJSON reads a list of op indices 0..6.
func (s *OpSet) UnmarshalJSON(b []byte) error {
	var ops []int
	if err := json.Unmarshal(b, &ops); err != nil {
		return err
	}
	var r OpSet
	for _, o := range ops {
		if o < 0 || o >= len(Ops) {
			return fmt.Errorf("op index %d out of range 0..%d", o, len(Ops)-1)
		}
		r |= 1 << o
	}
	*s = r
	return nil
}

// EdgeOps is the candidate set of one edge: its enabled ops plus whether the
// zero op None is a candidate too. An edge with no ops and no none is
// absent from the cell (contributes nothing to its node). Its JSON form is
// {"ops": [3, 5], "none": true}.
type EdgeOps struct {
	Ops  OpSet `json:"ops"`
	None bool  `json:"none"`
}

// EdgeConfig gives the candidates of each of a cell's 14 edges, in the edge
// order of EdgeIndex (node 0 <- states 0,1; node 1 <- 0,1,2; ...). The
// search network uses it for normal and reduction cells alike.
type EdgeConfig [Edges]EdgeOps

// String is a compact one-line form for messages.
func (c EdgeConfig) String() string {
	var b strings.Builder
	for e, eo := range c {
		if e > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d:%s", e, eo.Ops)
		if eo.None {
			b.WriteString("+none")
		}
	}
	return b.String()
}
