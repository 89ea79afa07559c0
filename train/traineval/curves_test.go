package traineval

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"pertnas/formats/artifact"
	"pertnas/formats/checkpoint"
	"pertnas/train"
)

// TestCurvesMatchMetrics checks that curves.png plots every epoch at the
// number metrics.arrow gives it: the trainer's rows kept in the checkpoint
// (what writeCurves draws from) give x values equal to metrics.arrow's epoch
// column, 1 to Epochs.
func TestCurvesMatchMetrics(t *testing.T) {
	data, out := t.TempDir(), t.TempDir()
	writeSynthBeton(t, data, 64, 32)
	o := smokeOptions(data, out)
	o.Recipe.Epochs = 3
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	var metrics []train.Row
	if err := artifact.ReadTable(filepath.Join(out, "metrics.arrow"), &metrics); err != nil {
		t.Fatal(err)
	}
	st, err := checkpoint.ReadState(out)
	if err != nil {
		t.Fatal(err)
	}
	var rows []train.Row
	if err := json.Unmarshal(st.Metrics, &rows); err != nil {
		t.Fatal(err)
	}
	if len(metrics) != 3 || len(rows) != 3 {
		t.Fatalf("%d metrics rows and %d trainer rows, want 3", len(metrics), len(rows))
	}
	loss := curveSeries(rows, func(r train.Row) float64 { return r.TestLoss })
	acc := curveSeries(rows, func(r train.Row) float64 { return r.TrainAcc })
	for i, m := range metrics {
		if m.Epoch != i+1 {
			t.Errorf("metrics.arrow row %d: epoch %d, want %d (counted from 1)", i, m.Epoch, i+1)
		}
		if loss[i].X != float64(m.Epoch) || acc[i].X != float64(m.Epoch) {
			t.Errorf("row %d: curves plot epoch %g and %g, metrics.arrow says %d", i, loss[i].X, acc[i].X, m.Epoch)
		}
		if loss[i].Y != m.TestLoss || acc[i].Y != m.TrainAcc {
			t.Errorf("row %d: curves plot %g, %g; metrics.arrow has %g, %g", i, loss[i].Y, acc[i].Y, m.TestLoss, m.TrainAcc)
		}
	}
}
