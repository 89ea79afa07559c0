package supernet

import (
	"os"
	"path/filepath"
	"testing"

	"pertnas/formats/beton"
	"pertnas/formats/cifar"
	"pertnas/formats/dataset"
)

// writeDataset writes a dataset folder like convert-cifar's from
// cifar.Synth's images, scaled down to side x side pixels (side divides 32)
// to keep the networks of the tests small: cifar_train.beton,
// cifar_test.beton (raw RGB images, int labels) and manifest.json.
func writeDataset(t testing.TB, dir string, train, test, side int, seed uint64) {
	t.Helper()
	tr, te := cifar.Synth(train, test, seed)
	writeBeton(t, filepath.Join(dir, dataset.CIFAR.Train), tr, side)
	writeBeton(t, filepath.Join(dir, dataset.CIFAR.Test), te, side)
	m := dataset.Manifest{Format: dataset.CIFAR.Format, Dataset: "cifar10", Label: "fine", NumClasses: 10, Classes: cifar.SynthClasses,
		Fields: dataset.FieldNames(), PageSize: beton.MinPageSize, WriteMode: "raw"}
	if err := dataset.WriteManifest(dir, &m); err != nil {
		t.Fatal(err)
	}
}

func writeBeton(t testing.TB, path string, recs cifar.Records, side int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := recs.Len()
	w, err := beton.NewWriter(f, dataset.Fields, n, beton.MinPageSize)
	if err != nil {
		t.Fatal(err)
	}
	const rs = 1 + cifar.PixelBytes
	k := cifar.Side / side
	hwc := make([]byte, side*side*3)
	for i := range n {
		rec := recs[i*rs : (i+1)*rs]
		planes := rec[1:]
		for c := range 3 {
			for y := range side {
				for x := range side {
					sum := 0
					for dy := range k {
						for dx := range k {
							sum += int(planes[c*cifar.PlaneSize+(y*k+dy)*cifar.Side+x*k+dx])
						}
					}
					hwc[(y*side+x)*3+c] = byte((sum + k*k/2) / (k * k))
				}
			}
		}
		vals := []beton.Value{beton.ImageValue(beton.ImageRaw, side, side, hwc), beton.IntValue(int64(rec[0]))}
		if err := w.Append(vals); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
