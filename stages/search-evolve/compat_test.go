package main

import (
	"testing"

	"pertnas/pertnas"
)

// TestCompatFlags: --compat upstream sets every switch, a switch given as
// well overrides it, and single switches work without --compat.
func TestCompatFlags(t *testing.T) {
	c, _ := parse(t, "member", "--index", "0", "--run", "r", "--data", "d", "--compat", "upstream", "--restore", "exact", "--val-source", "train")
	cfg, err := c.Member.config()
	if err != nil {
		t.Fatal(err)
	}
	want := pertnas.Paper()
	want.Device = cfg.Device
	if err := want.SetCompat(pertnas.CompatUpstream); err != nil {
		t.Fatal(err)
	}
	want.Restore, want.ValSource = "", "train"
	if cfg != want {
		t.Fatalf("config %+v\nwant %+v", cfg, want)
	}
	c, _ = parse(t, "member", "--index", "0", "--run", "r", "--data", "d", "--init-cell", "sep3", "--finetune-plus-one",
		"--cutout", "ffcv", "--translate-fill", "black", "--normalise", "darts", "--grad-scaler", "fresh", "--finetune-batches", "fresh")
	if cfg, err = c.Member.config(); err != nil {
		t.Fatal(err)
	}
	if cfg.Compat != "" || cfg.InitCell != "sep3" || !cfg.FinetunePlusOne || cfg.Cutout != "ffcv" || cfg.TranslateFill != "black" ||
		cfg.Normalise != "" || cfg.GradScaler != "fresh" || cfg.FinetuneBatches != "fresh" || cfg.Restore != "" {
		t.Fatalf("single switches gave %+v", cfg)
	}
}
