package genotype

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// namedRepr holds the built-in cells of docs/spec/darts.md, in the order Names
// lists them. PERTNAS_SUPERNET's reduction cell is its normal cell.
var namedRepr = []struct{ name, repr string }{
	{"DARTS_V1", "Genotype(normal=[('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('skip_connect', 0), ('sep_conv_3x3', 1), ('skip_connect', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('skip_connect', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 0), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('avg_pool_3x3', 0)], reduce_concat=[2, 3, 4, 5])"},
	{"DARTS_V2", "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])"},
	{"PERTNAS_EVOLUTIONARY", "Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 1), ('sep_conv_3x3', 0), ('sep_conv_5x5', 2), ('skip_connect', 0), ('sep_conv_5x5', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1)], normal_concat=range(2, 6), reduce=[('sep_conv_3x3', 0), ('max_pool_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_5x5', 2), ('max_pool_3x3', 0), ('sep_conv_5x5', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1)], reduce_concat=range(2, 6))"},
	{"PERTNAS_SUPERNET", "Genotype(normal=[('skip_connect', 0), ('sep_conv_3x3', 1), ('sep_conv_5x5', 0), ('sep_conv_3x3', 1), ('sep_conv_5x5', 0), ('sep_conv_3x3', 1), ('sep_conv_5x5', 0), ('max_pool_3x3', 1)], normal_concat=range(2, 6), reduce=[('skip_connect', 0), ('sep_conv_3x3', 1), ('sep_conv_5x5', 0), ('sep_conv_3x3', 1), ('sep_conv_5x5', 0), ('sep_conv_3x3', 1), ('sep_conv_5x5', 0), ('max_pool_3x3', 1)], reduce_concat=range(2, 6))"},
}

// Names lists the built-in genotype names in a fixed order.
func Names() []string {
	names := make([]string, len(namedRepr))
	for i, n := range namedRepr {
		names[i] = n.name
	}
	return names
}

// Named returns the built-in genotype called name (one of Names; letter case
// is ignored) and whether it exists. Each call returns a fresh copy.
func Named(name string) (Genotype, bool) {
	for _, n := range namedRepr {
		if strings.EqualFold(n.name, name) {
			g, err := ParseRepr(n.repr)
			if err != nil {
				panic("genotype: built-in " + n.name + " invalid: " + err.Error()) // unreachable: tested
			}
			return g, true
		}
	}
	return Genotype{}, false
}

// Load returns the genotype arg names: a built-in name (see Names) or a file
// holding either the JSON form (*.json, or any file whose first non-blank
// byte is '{') or the DARTS repr (*.py, *.txt, anything else). Errors name
// the file.
func Load(arg string) (Genotype, error) {
	if g, ok := Named(arg); ok {
		return g, nil
	}
	b, err := os.ReadFile(arg)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && !strings.ContainsAny(arg, `/\.`) {
			return Genotype{}, fmt.Errorf("genotype %q: neither a built-in name (%s) nor a file", arg, strings.Join(Names(), ", "))
		}
		return Genotype{}, fmt.Errorf("genotype file %s: %w", arg, err)
	}
	var g Genotype
	ext := strings.ToLower(filepath.Ext(arg))
	if ext == ".json" || (ext != ".py" && ext != ".txt" && bytes.HasPrefix(bytes.TrimSpace(b), []byte("{"))) {
		g, err = ParseJSON(b)
	} else {
		g, err = ParseRepr(string(b))
	}
	if err != nil {
		return Genotype{}, fmt.Errorf("genotype file %s: %w", arg, err)
	}
	return g, nil
}

// Equal reports whether g and o describe the same cells.
func (g Genotype) Equal(o Genotype) bool {
	return slices.Equal(g.Normal, o.Normal) && slices.Equal(g.Reduce, o.Reduce) &&
		slices.Equal(g.NormalConcat, o.NormalConcat) && slices.Equal(g.ReduceConcat, o.ReduceConcat)
}
