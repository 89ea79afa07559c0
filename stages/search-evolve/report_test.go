package main

import (
	"path/filepath"
	"strings"
	"testing"

	"pertnas/internal/stage"
)

// TestReportBadInput: a folder that is not a finished run is bad input
// naming it (the page itself is tested in package report).
func TestReportBadInput(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	_, k := parse(t, "report", missing)
	err := k.Run()
	if err == nil || !stage.IsBadInput(err) || !strings.Contains(err.Error(), missing) {
		t.Fatalf("report of a missing folder: %v", err)
	}
}
