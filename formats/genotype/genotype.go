// Package genotype holds the discrete DARTS cell description (a Genotype):
// its JSON form, the DARTS Python repr, validation and the built-in named cells.
//
// # JSON form
//
// A genotype is stored as one JSON object with exactly these keys (the struct
// tags of Genotype and Pair):
//
//	{
//	  "normal": [{"op": "sep_conv_3x3", "input": 0}, {"op": "sep_conv_3x3", "input": 1}, ...],
//	  "normal_concat": [2, 3, 4, 5],
//	  "reduce": [{"op": "max_pool_3x3", "input": 0}, ...],
//	  "reduce_concat": [2, 3, 4, 5]
//	}
//
// "normal" and "reduce" hold 8 pairs each, two per intermediate node, nodes in
// order; "op" is one of Ops and "input" the index of the state the edge reads
// (0 and 1 are the cell inputs, 2..5 the intermediate nodes; node i, counted
// from 0, may read states 0..i+1). The concat keys may be omitted and then
// mean [2, 3, 4, 5], the only value the DARTS space allows. Unknown keys are
// an error. json.Marshal of a Genotype writes this form.
//
// # DARTS Python repr
//
// ParseRepr reads, and Genotype.Repr writes, the form the DARTS reference code
// prints and stores in genotypes.py:
//
//	Genotype(normal=[('sep_conv_3x3', 0), ...], normal_concat=range(2, 6), reduce=[...], reduce_concat=[2, 3, 4, 5])
//
// optionally preceded by an assignment "NAME = ".
package genotype

// Ops lists the seven DARTS candidate operations in PRIMITIVES order
// (docs/spec/darts.md). An op's index in this list is its code everywhere in the
// project (valuation tables, NB301 categorical values).
var Ops = [...]string{
	"max_pool_3x3",
	"avg_pool_3x3",
	"skip_connect",
	"sep_conv_3x3",
	"sep_conv_5x5",
	"dil_conv_3x3",
	"dil_conv_5x5",
}

// None is the name of the zero operation that exists only inside the search.
const None = "none"

// Nodes is the number of intermediate nodes of a cell; a cell has 2*Nodes pairs
// and 14 edges.
const (
	Nodes = 4
	Edges = 14
)

// Pair is one kept incoming edge of a node: the op applied and the index of
// the input state (0 and 1 are the cell inputs, 2.. the earlier nodes).
type Pair struct {
	Op    string `json:"op"`
	Input int    `json:"input"`
}

// Genotype is a discrete cell pair: Normal and Reduce hold 2 pairs per node,
// nodes in order (8 pairs each); the concat lists name the states whose
// concatenation is the cell output (always [2 3 4 5] in the DARTS space).
type Genotype struct {
	Normal       []Pair `json:"normal"`
	NormalConcat []int  `json:"normal_concat"`
	Reduce       []Pair `json:"reduce"`
	ReduceConcat []int  `json:"reduce_concat"`
}

// OpIndex returns the PRIMITIVES index of op, or -1 if op is not one of Ops.
func OpIndex(op string) int {
	for i, o := range Ops {
		if o == op {
			return i
		}
	}
	return -1
}

// EdgeIndex returns the position (0..13) among a cell's 14 edges of the edge
// that feeds node (0..3) from state input (0..node+1).
func EdgeIndex(node, input int) int {
	return node*(node+3)/2 + input
}
