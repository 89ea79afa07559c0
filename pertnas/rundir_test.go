package pertnas

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestCheckRunWritesNothing: CheckRun gives ClaimRun's verdicts without
// creating the folder or run.json.
func TestCheckRunWritesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	cfg := Smoke()
	if err := CheckRun(dir, cfg); err != nil {
		t.Fatal(err)
	}
	bad := cfg
	bad.Channels = 15
	if err := CheckRun(dir, bad); !errors.Is(err, ErrBadConfig) {
		t.Fatalf("odd channels: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("CheckRun created %s: %v", dir, err)
	}
	if err := ClaimRun(dir, cfg); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "run.json"))
	other := cfg
	other.Npop = 3
	if err := CheckRun(dir, other); !errors.Is(err, ErrBadConfig) {
		t.Fatalf("another npop: %v", err)
	}
	dev := cfg
	dev.Device = "cuda:1"
	if err := CheckRun(dir, dev); err != nil {
		t.Fatalf("another device: %v", err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "run.json"))
	if string(before) != string(after) {
		t.Fatal("CheckRun changed run.json")
	}
}
