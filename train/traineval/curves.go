package traineval

import (
	"fmt"
	"image/color"
	"io"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"pertnas/formats/artifact"
	"pertnas/train"
)

// curveSeries returns one curve of curves.png for the trainer's rows: f of
// each row against its epoch as metrics.arrow and the logs number it
// (Published: the first epoch is 1).
func curveSeries(rows []train.Row, f func(train.Row) float64) plotter.XYs {
	xy := make(plotter.XYs, len(rows))
	for i, r := range Published(rows) {
		xy[i].X, xy[i].Y = float64(r.Epoch), f(r)
	}
	return xy
}

// writeCurves draws curves.png from the trainer's rows: training and test
// loss (top) and accuracy in percent (bottom) against epoch, numbered as in
// metrics.arrow (curveSeries).
func writeCurves(path string, rows []train.Row) error {
	series := func(f func(train.Row) float64) plotter.XYs { return curveSeries(rows, f) }
	panel := func(title, ylabel string, legendTop bool, trainXY, testXY plotter.XYs) (*plot.Plot, error) {
		p := plot.New()
		p.Title.Text = title
		p.X.Label.Text = "epoch"
		p.Y.Label.Text = ylabel
		p.Add(plotter.NewGrid())
		for i, s := range []struct {
			name string
			xy   plotter.XYs
		}{{"train", trainXY}, {"test", testXY}} {
			l, pts, err := plotter.NewLinePoints(s.xy)
			if err != nil {
				return nil, err
			}
			l.Color = plotColours[i]
			pts.Color = plotColours[i]
			pts.Radius = vg.Points(1.5)
			p.Add(l, pts)
			p.Legend.Add(s.name, l)
		}
		p.Legend.Top = legendTop // away from the curves: loss falls, accuracy rises
		return p, nil
	}
	loss, err := panel("loss", "cross-entropy", true, series(func(r train.Row) float64 { return r.TrainLoss }),
		series(func(r train.Row) float64 { return r.TestLoss }))
	if err != nil {
		return fmt.Errorf("curves: %w", err)
	}
	acc, err := panel("accuracy", "top-1 %", false, series(func(r train.Row) float64 { return 100 * r.TrainAcc }),
		series(func(r train.Row) float64 { return 100 * r.TestAcc }))
	if err != nil {
		return fmt.Errorf("curves: %w", err)
	}
	img := vgimg.New(vg.Points(480), vg.Points(640))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadX: vg.Millimeter, PadY: 4 * vg.Millimeter,
		PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(8)}
	plots := [][]*plot.Plot{{loss}, {acc}}
	canvases := plot.Align(plots, tiles, dc)
	for j := range plots {
		plots[j][0].Draw(canvases[j][0])
	}
	return artifact.WriteFile(path, func(w io.Writer) error {
		_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
		return err
	})
}

var plotColours = [2]color.RGBA{{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, {R: 0xd6, G: 0x27, B: 0x28, A: 0xff}}
