package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"pertnas/formats/artifact"
	"pertnas/formats/genotype"
	"pertnas/internal/stage"
)

// combineCmd pairs the normal cell of one genotype with the reduction cell
// of another: the published protocol evaluated the normal cell of the best
// search run with the reduction cell of the second best.
type combineCmd struct {
	Normal string `help:"Where the normal cell comes from: a run folder (its genotype.json), a genotype file or a built-in name (DARTS_V1, DARTS_V2, PERTNAS_EVOLUTIONARY, PERTNAS_SUPERNET)." required:"" placeholder:"RUN|FILE|NAME"`
	Reduce string `help:"Where the reduction cell comes from (same forms as --normal)." required:"" placeholder:"RUN|FILE|NAME"`
	Out    string `help:"Folder to write genotype.json and genotype.py into (created if missing; each file written atomically)." required:"" placeholder:"DIR"`
}

func (c *combineCmd) Run() error {
	g, err := genotype.CombineSources(c.Normal, c.Reduce)
	if err != nil {
		return stage.BadInput(err)
	}
	if fi, err := os.Stat(c.Out); err == nil && !fi.IsDir() {
		return stage.BadInput(fmt.Errorf("--out %s is a file, want a folder", c.Out))
	}
	repr := g.Repr()
	if err := artifact.WriteFile(filepath.Join(c.Out, "genotype.py"), func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "# Normal cell from %s, reduction cell from %s (search-evolve combine).\n# Paste into DARTS' genotypes.py; pertnas tools read this file as it is.\nPERTNAS = %s\n",
			c.Normal, c.Reduce, repr)
		return err
	}); err != nil {
		return err
	}
	if err := artifact.WriteJSON(filepath.Join(c.Out, genotype.RunFile), g); err != nil {
		return err
	}
	fmt.Println(repr)
	return nil
}
