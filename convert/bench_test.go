package convert

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"pertnas/formats/cifar"
	"pertnas/formats/dataset"
)

// BenchmarkConvert60k converts a generated archive of the full CIFAR-10 size
// (50,000 + 10,000 images, default gzip level) in raw mode with the default
// page size: read and hash the archive, write and hash both .beton files,
// write the manifest. Generating the archive is not timed. cpu-s/op is the
// CPU time (user + system) per conversion. The conversion reads on one core,
// then writes train and test on two, so on a machine shared with other work
// the uncontended wall time lies between about cpu-s/op / 2 and cpu-s/op
// (plus waits for the disk).
//
//	go test -run XXX -bench Convert60k -benchtime 3x ./convert/
func BenchmarkConvert60k(b *testing.B) {
	src := filepath.Join(b.TempDir(), "cifar-10-binary.tar.gz")
	if err := WriteSynth(src, 50000, 10000, 1); err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(src)
	b.SetBytes(st.Size())
	out := b.TempDir()
	b.Run("all", func(b *testing.B) {
		cpu := cpuSeconds()
		defer func() { b.ReportMetric((cpuSeconds()-cpu)/float64(b.N), "cpu-s/op") }()
		for b.Loop() {
			os.Remove(filepath.Join(out, dataset.ManifestFile))
			if _, err := Run(context.Background(), Options{Src: src, Out: out}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("load", func(b *testing.B) {
		cpu := cpuSeconds()
		defer func() { b.ReportMetric((cpuSeconds()-cpu)/float64(b.N), "cpu-s/op") }()
		for b.Loop() {
			if _, err := cifar.Load(src, cifar.Options{}, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
