// Command export-nb301 exports a DARTS genotype to NAS-Bench-301: the
// configuration dictionary (config.json), the surrogates' feature vector
// (features.json) and the genotype line for nasbench301's example.py
// (genotype.py); with --models it scores the genotype with NB301's surrogate
// ensembles in Go and writes score.json. See spec/nb301.md.
//
// Exit status: 0 done, 2 bad input (named file, node or key), 1 failure.
package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/alecthomas/kong"

	"pertnas/formats/genotype"
	"pertnas/nb301"
)

type cli struct {
	Genotype  string `required:"" placeholder:"FILE|NAME" help:"Genotype to export: a genotype.json, a file holding the DARTS repr (Genotype(normal=[...], ...)), or a built-in name (${names})."`
	SameCell  bool   `name:"same-cell" help:"Use the normal cell as the reduction cell too (the PertNAS convention; has no effect when the two cells are already equal)."`
	Out       string `required:"" type:"path" placeholder:"DIR" help:"Folder to write genotype.py, config.json, features.json (and score.json) into; created if missing."`
	Models    string `type:"path" placeholder:"DIR" help:"NB301 model folder to score with: every *surrogate_model.model pickle (xgboost or lightgbm Booster), XGBoost *.json / *.ubj model and LightGBM *.txt model below it. XGBoost members form the accuracy ensemble (percent), LightGBM members the runtime ensemble (seconds)."`
	WithNoise bool   `name:"with-noise" hidden:"" help:"Accepted for compatibility: score.json always holds the noisy draw beside the mean."`
	Seed      uint64 `default:"0" help:"Seed of the noisy draws (NB301's with_noise=True, as nasbench301's example.py scores: normal with the ensemble's mean and standard deviation)."`
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the stage and returns its exit status.
func run(args []string, stdout, stderr io.Writer) int {
	log := slog.New(slog.NewTextHandler(stderr, nil))
	var c cli
	parser, err := kong.New(&c, kong.Name("export-nb301"),
		kong.Description("Export a DARTS genotype to NAS-Bench-301 (configuration, feature vector, example.py line) and optionally score it with NB301's surrogate models."),
		kong.Vars{"names": strings.Join(genotype.Names(), ", ")},
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { panic(exitCode(code)) }))
	if err != nil {
		fmt.Fprintln(stderr, "export-nb301:", err)
		return 1
	}
	if code, done := parse(parser, args); done {
		return code
	}
	opts := nb301.Options{Genotype: c.Genotype, SameCell: c.SameCell, Out: c.Out, Models: c.Models,
		Seed: c.Seed}
	_, score, err := nb301.Run(opts, stdout)
	if err != nil {
		log.Error("export-nb301 failed", "err", err)
		var ie *nb301.InputError
		if errors.As(err, &ie) {
			return 2
		}
		return 1
	}
	log.Info("wrote NB301 export", "dir", c.Out)
	if score != nil {
		log.Info("NB301 score", "version", score.Version, "accuracy", score.Accuracy.Mean, "std", score.Accuracy.Std,
			"noisy", score.Accuracy.Noisy, "members", len(score.Accuracy.Members))
	}
	return 0
}

// exitCode carries kong's requested exit (after --help) out of Parse.
type exitCode int

// parse parses args; done reports that the stage should stop with code
// (after --help, or on a usage error, which is bad input: 2).
func parse(parser *kong.Kong, args []string) (code int, done bool) {
	defer func() {
		if r := recover(); r != nil {
			c, ok := r.(exitCode)
			if !ok {
				panic(r)
			}
			code, done = int(c), true
		}
	}()
	if _, err := parser.Parse(args); err != nil {
		fmt.Fprintln(parser.Stderr, "export-nb301:", err)
		return 2, true
	}
	return 0, false
}
