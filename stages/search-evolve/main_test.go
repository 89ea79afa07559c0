package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/alecthomas/kong"

	"pertnas/pertnas"
)

func parse(t *testing.T, args ...string) (*cli, *kong.Context) {
	t.Helper()
	var c cli
	p, err := kong.New(&c, kong.Name("search-evolve"), kong.Exit(func(int) { t.Fatal("exit") }),
		kong.BindTo(context.Background(), (*context.Context)(nil)))
	if err != nil {
		t.Fatal(err)
	}
	k, err := p.Parse(args)
	if err != nil {
		t.Fatal(err)
	}
	return &c, k
}

func TestFlagsOverridePreset(t *testing.T) {
	c, _ := parse(t, "member", "--index", "2", "--run", "r", "--data", "d", "--preset", "smoke",
		"--npop", "3", "--lr0", "0.1", "--val-source", "test", "--seed", "9", "--device", "cuda:1", "--fine-extra", "7")
	cfg, err := c.Member.config()
	if err != nil {
		t.Fatal(err)
	}
	want := pertnas.Smoke()
	want.Npop, want.LR0, want.ValSource, want.Seed, want.Device, want.FineExtra = 3, 0.1, "test", 9, "cuda:1", 7
	if cfg != want {
		t.Fatalf("config %+v\nwant %+v", cfg, want)
	}
	c, _ = parse(t, "select", "--run", "r", "--data", "d")
	paper := pertnas.Paper()
	paper.Device = "auto"
	if cfg, _ := c.Select.config(); cfg != paper {
		t.Fatalf("defaults %+v are not the paper preset on --device auto", cfg)
	}
}

func TestBadConfigIsBadInput(t *testing.T) {
	c, _ := parse(t, "run", "--run", "r", "--data", "d", "--channels", "15")
	_, err := c.Run.config()
	if !errors.Is(err, pertnas.ErrBadConfig) || !strings.Contains(err.Error(), "channels") {
		t.Fatalf("odd channels: %v", err)
	}
}

// TestNoBackendRefuses: without a wired backend the stage fails, never
// fakes a result.
func TestNoBackendRefuses(t *testing.T) {
	saved := openBuilder
	openBuilder = nil
	defer func() { openBuilder = saved }()
	_, k := parse(t, "run", "--run", t.TempDir(), "--data", "d", "--preset", "smoke")
	err := k.Run()
	if !errors.Is(err, errNoBackend) || !strings.Contains(err.Error(), "search backend not available") {
		t.Fatalf("without a backend: %v", err)
	}
}

// --precision is pinned in the configuration (fp32 as ""), and the CPU
// refuses the GPU-only precisions.
func TestPrecision(t *testing.T) {
	c, _ := parse(t, "member", "--index", "0", "--run", "r", "--data", "d", "--precision", "fp16", "--device", "cuda")
	cfg, err := c.Member.config()
	if err != nil || cfg.Precision != "fp16" {
		t.Fatalf("--precision fp16: %+v, %v", cfg, err)
	}
	c, _ = parse(t, "member", "--index", "0", "--run", "r", "--data", "d")
	if cfg, _ = c.Member.config(); cfg.Precision != "" || cfg.Device != "auto" {
		t.Fatalf("default precision %q on %s, want \"\" (fp32) on auto", cfg.Precision, cfg.Device)
	}
}
