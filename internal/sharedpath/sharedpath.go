// Package sharedpath locates the repository's module root and the read-only
// reference folder ../shared beside it, for tests that read spec files,
// golden files and reference data.
package sharedpath

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

// Shared returns the path of the reference folder ../shared relative to the
// module root (see Root).
func Shared(t testing.TB) string {
	t.Helper()
	return filepath.Join(Root(t), "..", "shared")
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
