// Command export-nb301 exports a DARTS genotype to NAS-Bench-301: the
// configuration dictionary (config.json), the surrogates' feature vector
// (features.json) and the genotype line for nasbench301's example.py
// (genotype.py); with --models it scores the genotype with NB301's surrogate
// ensembles in Go and writes score.json. See docs/spec/nb301.md.
//
// Exit status: 0 done, 2 bad input (named file, node or key; nothing is
// written), 1 failure.
package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/alecthomas/kong"

	"pertnas/formats/genotype"
	"pertnas/internal/stage"
	"pertnas/nb301"
)

type cli struct {
	Genotype  string `required:"" placeholder:"FILE|NAME" help:"Genotype to export: a genotype.json, a file holding the DARTS repr (Genotype(normal=[...], ...)), or a built-in name (${names})."`
	SameCell  bool   `name:"same-cell" help:"Use the normal cell as the reduction cell too (the PertNAS convention; has no effect when the two cells are already equal)."`
	Out       string `required:"" type:"path" placeholder:"DIR" help:"Folder to write genotype.py, config.json, features.json (and score.json) into; created if missing."`
	Models    string `type:"path" placeholder:"DIR" help:"NB301 model folder to score with: every *surrogate_model.model pickle (xgboost or lightgbm Booster), XGBoost *.json / *.ubj model and LightGBM *.txt model below it. XGBoost members form the accuracy ensemble (percent), LightGBM members the runtime ensemble (seconds)."`
	WithNoise bool   `name:"with-noise" hidden:"" help:"Accepted for compatibility: score.json always holds the noisy draw beside the mean."`
	Seed      uint64 `default:"0" help:"Seed of the noisy draws (NB301's with_noise=True, as nasbench301's example.py scores: normal with the ensemble's mean and standard deviation)."`

	stdout io.Writer // where the score is printed
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the stage (stage.Stage's contract) and returns its exit
// status.
func run(args []string, stdout, stderr io.Writer) int {
	slog.SetDefault(slog.New(stage.NewLogHandler(stderr)))
	c := &cli{stdout: stdout}
	return stage.Stage{Name: "export-nb301", Grammar: c,
		Description: "Export a DARTS genotype to NAS-Bench-301 (configuration, feature vector, example.py line) and optionally score it with NB301's surrogate models.",
		Options:     []kong.Option{kong.Vars{"names": strings.Join(genotype.Names(), ", ")}},
		BadInput:    func(err error) bool { var ie *nb301.InputError; return errors.As(err, &ie) },
	}.Run(context.Background(), args, stdout, stderr)
}

func (c *cli) Run() error {
	opts := nb301.Options{Genotype: c.Genotype, SameCell: c.SameCell, Out: c.Out, Models: c.Models,
		Seed: c.Seed}
	_, score, err := nb301.Run(opts, c.stdout)
	if err != nil {
		return err
	}
	slog.Info("wrote NB301 export", "dir", c.Out)
	if score != nil {
		slog.Info("NB301 score", "version", score.Version, "accuracy", score.Accuracy.Mean, "std", score.Accuracy.Std,
			"noisy", score.Accuracy.Noisy, "members", len(score.Accuracy.Members))
	}
	return nil
}
