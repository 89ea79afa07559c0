package convert

import (
	"io"

	"github.com/klauspost/compress/gzip"

	"pertnas/formats/artifact"
	"pertnas/formats/cifar"
)

// WriteSynth writes cifar.Synth's learnable synthetic dataset (train and
// test images, seeded) as a CIFAR-10 binary archive at path, atomically. Its
// layout is that of the published cifar-10-binary.tar.gz, so converting it
// exercises the real-data code path.
func WriteSynth(path string, train, test int, seed uint64) error {
	if train < 0 || test < 0 {
		return badInput("convert: negative image count (train %d, test %d)", train, test)
	}
	return artifact.WriteFile(path, func(w io.Writer) error {
		return cifar.WriteSynthArchive(w, train, test, seed, gzip.DefaultCompression)
	})
}
