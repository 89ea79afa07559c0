package report

import (
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"math"
	"path/filepath"
	"slices"

	"pertnas/formats/artifact"
	"pertnas/formats/genotype"
	"pertnas/pertnas"
)

//go:embed report.html.tmpl
var pageTemplate string

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct":  func(f float64) string { return fmt.Sprintf("%.2f%%", 100*f) },
	"pp":   func(f float64) string { return signed(100*f, "%+.2f pp") },
	"ppu":  func(f float64) string { return signed(100*f, "%.2f pp") },
	"secs": seconds,
	"num":  func(f float64) string { return signed(f, "%.3f") },
	"z":    zText,
	"zcls": zClass,
}).Parse(pageTemplate))

func signed(f float64, format string) string {
	if math.IsNaN(f) {
		return "n/a"
	}
	return fmt.Sprintf(format, f)
}

// seconds formats a duration as "42 s", "3.5 min" or "2.1 h".
func seconds(s float64) string {
	switch {
	case s < 120:
		return fmt.Sprintf("%.1f s", s)
	case s < 7200:
		return fmt.Sprintf("%.1f min", s/60)
	}
	return fmt.Sprintf("%.1f h", s/3600)
}

// zText and zClass describe a margin in units of the noise.
func zText(z float64) string {
	if math.IsNaN(z) {
		return "n/a"
	}
	return fmt.Sprintf("%.1f σ", z)
}

func zClass(z float64) string {
	switch {
	case math.IsNaN(z):
		return "na"
	case z < 1:
		return "weak"
	case z < 2:
		return "fair"
	}
	return "clear"
}

// view is the template's data.
type view struct {
	*Run
	Title          string
	DeviceSeconds  float64 // all units of all jobs
	Repr           string
	SameCells      bool
	CellNormal     template.URL // data:image/svg+xml;base64,...
	CellReduce     template.URL
	MeanHeatmap    template.HTML
	MemberHeatmaps []template.HTML
	Scale          float64 // |diff| of full colour saturation
	Decisions      []Decision
	Weak           int // decisions with margin < 1 σ
	PhaseBars      template.HTML
	KindTable      []kindRow
	Kinds          []string
	AccChart       template.HTML
	LossChart      template.HTML
}

// kindRow is one line of the phase x kind timing table from log.arrow.
type kindRow struct {
	Job, Phase string
	Seconds    []float64 // per kind, Kinds order
	Total      float64
}

// Render writes the report page of r to w.
func Render(w io.Writer, r *Run) error {
	v := &view{Run: r, Title: "PertNAS run " + filepath.Base(filepath.Clean(r.Dir)),
		Repr: r.Summary.GenotypeRepr, SameCells: sameCells(r.Summary.Genotype)}
	if v.DeviceSeconds = r.Summary.Seconds; v.DeviceSeconds == 0 { // search.json written before device_seconds
		for _, p := range r.Summary.Phases {
			v.DeviceSeconds += p.Seconds
		}
	}
	if v.Repr == "" {
		v.Repr = r.Summary.Genotype.Repr()
	}
	v.CellNormal = svgURL(pertnas.CellSVG(r.Summary.Genotype.Normal, "normal cell"))
	v.CellReduce = svgURL(pertnas.CellSVG(r.Summary.Genotype.Reduce, "reduction cell"))

	for _, rows := range r.Members {
		for _, x := range rows {
			v.Scale = math.Max(v.Scale, math.Abs(x.Diff))
		}
	}
	var kept [pertnas.NumEdges][pertnas.NumOps]bool
	for _, s := range r.Selection {
		if s.Phase == "coarse" && s.Decision == pertnas.Keep {
			kept[s.Edge][s.Op] = true
		}
	}
	var chosen [pertnas.NumEdges][pertnas.NumOps]bool
	for j, p := range r.Summary.Genotype.Normal {
		chosen[genotype.EdgeIndex(j/2, p.Input)][genotype.OpIndex(p.Op)] = true
	}
	v.MeanHeatmap = template.HTML(heatmapSVG(fmt.Sprintf("population mean over %d members (phase 3)", len(r.Members)), &r.Mean, v.Scale, &kept, &chosen))
	for m, rows := range r.Members {
		var mat [pertnas.NumEdges][pertnas.NumOps]float64
		for _, x := range rows {
			mat[x.Edge][x.Op] = x.Diff
		}
		v.MemberHeatmaps = append(v.MemberHeatmaps, template.HTML(heatmapSVG(fmt.Sprintf("member %d", m), &mat, v.Scale, nil, nil)))
	}

	v.Decisions = r.Decisions()
	for _, d := range v.Decisions {
		if d.Z() < 1 {
			v.Weak++
		}
	}

	var bars []Bar
	for _, p := range r.Summary.Phases {
		bars = append(bars, Bar{Label: p.Phase, Value: p.Seconds})
	}
	v.PhaseBars = template.HTML(barsSVG("seconds per phase (expand summed over members)", bars, seconds))
	v.Kinds, v.KindTable = kindTable(r)

	if len(r.Metrics) > 0 {
		var ep, trA, teA, trL, teL []float64
		for _, m := range r.Metrics {
			ep = append(ep, float64(m.Epoch))
			trA, teA = append(trA, 100*m.TrainAcc), append(teA, 100*m.TestAcc)
			trL, teL = append(trL, m.TrainLoss), append(teL, m.TestLoss)
		}
		pctFmt := func(f float64) string { return fmt.Sprintf("%.4g%%", f) }
		v.AccChart = template.HTML(lineSVG("top-1 accuracy", "epoch", []Series{
			{Name: "train", Color: "#4575b4", X: ep, Y: trA}, {Name: "test", Color: "#d73027", X: ep, Y: teA}}, pctFmt))
		v.LossChart = template.HTML(lineSVG("loss", "epoch", []Series{
			{Name: "train", Color: "#4575b4", X: ep, Y: trL}, {Name: "test", Color: "#d73027", X: ep, Y: teL}},
			func(f float64) string { return fmt.Sprintf("%.4g", f) }))
	}
	return page.Execute(w, v)
}

// kindTable sums each job's log.arrow seconds per phase and kind of unit.
func kindTable(r *Run) ([]string, []kindRow) {
	var kinds []string
	for _, job := range r.LogJobs {
		for _, l := range r.Logs[job] {
			if !slices.Contains(kinds, l.Kind) {
				kinds = append(kinds, l.Kind)
			}
		}
	}
	slices.Sort(kinds)
	var rows []kindRow
	for _, job := range r.LogJobs {
		idx := map[string]int{}
		var jr []kindRow
		for _, l := range r.Logs[job] {
			i, ok := idx[l.Phase]
			if !ok {
				i = len(jr)
				idx[l.Phase] = i
				jr = append(jr, kindRow{Job: job, Phase: l.Phase, Seconds: make([]float64, len(kinds))})
			}
			jr[i].Seconds[slices.Index(kinds, l.Kind)] += l.Seconds
			jr[i].Total += l.Seconds
		}
		rows = append(rows, jr...)
	}
	return kinds, rows
}

func svgURL(svg []byte) template.URL {
	return template.URL("data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString(svg))
}

// Write loads the run folder dir and writes dir/report.html atomically,
// returning its path. A run folder the report cannot be made from is an
// *InputError and writes nothing.
func Write(dir string) (string, error) {
	r, err := Load(dir)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, File)
	return path, artifact.WriteFile(path, func(w io.Writer) error { return Render(w, r) })
}
