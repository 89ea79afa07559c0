// Command study-report gathers a random-baseline study folder (`make study`,
// pipelines/study.mk) into OUT.md (tables, Mann-Whitney U test of search vs
// random, valuation statistics of every search, a verdict) and OUT.svg
// (every training's accuracy per group). See package pertnas/study. Exit
// status: 0 done, 1 failure at run time, 2 bad input (a missing folder or an
// unfinished study).
package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/alecthomas/kong"

	"pertnas/formats/artifact"
	"pertnas/formats/dataset"
	"pertnas/internal/stage"
	"pertnas/pertnas/study"
)

type cli struct {
	Dir        string            `help:"Study folder (STUDY_DIR)." required:"" placeholder:"DIR"`
	Out        string            `help:"Report path without extension: writes OUT.md and OUT.svg." required:"" placeholder:"PATH"`
	Datasets   string            `help:"Datasets (folders of DIR), space separated, in report order." required:""`
	About      map[string]string `help:"A description of a dataset for the report: NAME=TEXT (repeatable)."`
	SearchArgs string            `help:"The search flags, as the report states them."`
	TrainArgs  string            `help:"The train-eval flags, as the report states them."`
	Command    string            `help:"The command that regenerates the report." default:"make study"`
	Machine    string            `help:"The machine, as the report states it (default: CPU model and count read here)."`
	Note       []string          `help:"A paragraph for the report, after the setup (repeatable)." sep:"none"`
}

func (c *cli) Run() error {
	names := strings.Fields(c.Datasets)
	data, err := study.Load(c.Dir, names)
	if err != nil {
		return &badInput{err}
	}
	s := study.Setup{Command: c.Command, SearchArgs: c.SearchArgs, TrainArgs: c.TrainArgs, Machine: c.Machine, Wall: wall(c.Dir, data), Notes: c.Note}
	for _, n := range names {
		s.Datasets = append(s.Datasets, fmt.Sprintf("%s: %s", n, c.About[n]))
	}
	if s.Machine == "" {
		s.Machine = machine()
	}
	var svg, md bytes.Buffer
	if err := study.WriteSVG(&svg, data); err != nil {
		return err
	}
	if err := study.WriteMarkdown(&md, s, data, filepath.Base(c.Out)+".svg"); err != nil {
		return err
	}
	for _, f := range []struct {
		path string
		b    []byte
	}{{c.Out + ".svg", svg.Bytes()}, {c.Out + ".md", md.Bytes()}} {
		if err := artifact.WriteFile(f.path, func(w io.Writer) error { _, err := w.Write(f.b); return err }); err != nil {
			return err
		}
	}
	return nil
}

type badInput struct{ error }

// wall is the time from the first conversion of the reported datasets
// (DIR/data/NAME/manifest.json) to the last training.
func wall(dir string, data []study.Dataset) string {
	var first time.Time
	for _, d := range data {
		p := filepath.Join(dir, "data", d.Name, dataset.ManifestFile)
		if st, err := os.Stat(p); err == nil && (first.IsZero() || st.ModTime().Before(first)) {
			first = st.ModTime()
		}
	}
	var last int64
	for _, d := range data {
		for _, c := range d.Cells {
			for _, r := range c.Runs {
				last = max(last, r.ResultModTime)
			}
		}
	}
	if first.IsZero() || last == 0 {
		return "unknown"
	}
	return fmt.Sprintf("%s (%s to %s UTC)", time.Unix(last, 0).Sub(first).Round(time.Minute),
		first.UTC().Format("2006-01-02 15:04"), time.Unix(last, 0).UTC().Format("15:04"))
}

// machine is the CPU model and count.
func machine() string {
	model := runtime.GOARCH
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d cores", model, runtime.NumCPU())
}

func main() {
	stage.Stage{Name: "study-report", Grammar: &cli{},
		BadInput: func(err error) bool { _, ok := err.(*badInput); return ok },
		Options: []kong.Option{
			kong.Description("Write the report of a random-baseline study (make study): OUT.md and OUT.svg."),
		}}.Main()
}
