package genotype

import (
	"fmt"
	"os"
	"path/filepath"
)

// RunFile is the name of the genotype file inside a search run folder.
const RunFile = "genotype.json"

// LoadSource is Load that also accepts a search run folder: a directory
// stands for its genotype.json (a folder without one is an error naming
// it, e.g. a search that has not finished).
func LoadSource(arg string) (Genotype, error) {
	if fi, err := os.Stat(arg); err == nil && fi.IsDir() {
		p := filepath.Join(arg, RunFile)
		if _, err := os.Stat(p); err != nil {
			return Genotype{}, fmt.Errorf("run folder %s has no %s (has its search finished?)", arg, RunFile)
		}
		return Load(p)
	}
	return Load(arg)
}

// CombineSources loads the genotypes named by normal and reduce (built-in
// names, genotype files or run folders, as LoadSource) and returns the
// genotype with normal's normal cell and reduce's reduction cell, as the
// published evaluation paired the normal cell of the best search run with
// the reduction cell of the second best. Errors name the argument (flag)
// that caused them: "normal" or "reduce".
func CombineSources(normal, reduce string) (Genotype, error) {
	gn, err := LoadSource(normal)
	if err != nil {
		return Genotype{}, &SourceError{Arg: "normal", Err: err}
	}
	gr, err := LoadSource(reduce)
	if err != nil {
		return Genotype{}, &SourceError{Arg: "reduce", Err: err}
	}
	return Combine(gn, gr), nil
}

// SourceError is a genotype argument that cannot be loaded; Arg names it.
type SourceError struct {
	Arg string
	Err error
}

func (e *SourceError) Error() string { return fmt.Sprintf("--%s: %v", e.Arg, e.Err) }
func (e *SourceError) Unwrap() error { return e.Err }
