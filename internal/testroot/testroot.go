// Package testroot locates the repository's module root for tests that read
// files kept elsewhere in the repository (testdata of another package, the
// docs, the Makefile and scripts). Everything a test reads lives inside the
// repository: nothing beside the clone is consulted.
package testroot

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// Root returns the module root: the nearest folder at or above the working
// directory (a test's package folder) that holds go.mod. It fails the test
// when there is none.
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, err := find(dir)
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// Path returns the path of a file given relative to the module root, e.g.
// Path(t, "formats", "beton", "testdata", "x.beton.gz").
func Path(t testing.TB, rel ...string) string {
	t.Helper()
	return filepath.Join(append([]string{Root(t)}, rel...)...)
}

// find walks up from dir to the first folder that holds go.mod.
func find(dir string) (string, error) {
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the test directory")
		}
		dir = parent
	}
}
