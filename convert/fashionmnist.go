package convert

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/gzip"

	"pertnas/formats/artifact"
	"pertnas/formats/cifar"
)

// FashionMNISTClasses are Fashion-MNIST's ten class names, label order.
var FashionMNISTClasses = []string{
	"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
	"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
}

// FashionMNISTDir is where Debian's dataset-fashion-mnist package puts the
// four idx files.
const FashionMNISTDir = "/usr/share/datasets/fashion-mnist"

// fashionFiles are the idx files of each split (images, labels), looked up
// in the source folder as NAME.gz or, extracted, NAME.
var fashionFiles = [2][2]string{
	{"train-images-idx3-ubyte", "train-labels-idx1-ubyte"},
	{"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"},
}

// WriteFashionMNIST reads Fashion-MNIST from the folder src (the four idx
// files, gzipped or not) and writes it as a CIFAR-10 binary archive at path,
// atomically, so that the ordinary conversion reads it. Each 28x28 grey image
// is padded with 2 black (0) pixels on every side to 32x32 and its grey
// value copied to the R, G and B planes; labels and their order are kept.
// train and test > 0 keep only the first train / test images of each split
// (0: all 60000 / 10000). A bad or missing source is an InputError naming
// the file; nothing is written then (not even path's folder).
func WriteFashionMNIST(src, path string, train, test int) error {
	if train < 0 || test < 0 {
		return badInput("fashion-mnist: negative image count (train %d, test %d)", train, test)
	}
	var recs [2]cifar.Records
	for s, limit := range []int{train, test} {
		imgs, err := readIDX(src, fashionFiles[s][0], 3)
		if err != nil {
			return err
		}
		labels, err := readIDX(src, fashionFiles[s][1], 1)
		if err != nil {
			return err
		}
		if imgs.dims[1] != 28 || imgs.dims[2] != 28 {
			return badInput("fashion-mnist: %s holds %dx%d images, want 28x28", imgs.file, imgs.dims[1], imgs.dims[2])
		}
		if imgs.dims[0] != labels.dims[0] {
			return badInput("fashion-mnist: %s holds %d images but %s %d labels", imgs.file, imgs.dims[0], labels.file, labels.dims[0])
		}
		n := imgs.dims[0]
		if limit > 0 && limit < n {
			n = limit
		}
		if recs[s], err = fashionRecords(imgs.data, labels.data, n, labels.file); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return artifact.WriteFile(path, func(w io.Writer) error {
		return cifar.WriteArchive10(w, recs[0], recs[1], FashionMNISTClasses, gzip.DefaultCompression)
	})
}

// fashionRecords turns the first n 28x28 grey images into CIFAR-10 records.
func fashionRecords(imgs, labels []byte, n int, labelFile string) (cifar.Records, error) {
	const side, pad = 28, (cifar.Side - 28) / 2
	rec := make(cifar.Records, n*(1+cifar.PixelBytes))
	plane := cifar.Side * cifar.Side
	for i := range n {
		r := rec[i*(1+cifar.PixelBytes):]
		if labels[i] >= 10 {
			return nil, badInput("fashion-mnist: %s: label %d of item %d out of range [0, 10)", labelFile, labels[i], i)
		}
		r[0] = labels[i]
		img := imgs[i*side*side : (i+1)*side*side]
		for y := range side {
			for c := range 3 {
				row := 1 + c*plane + (y+pad)*cifar.Side + pad
				copy(r[row:row+side], img[y*side:(y+1)*side])
			}
		}
	}
	return rec, nil
}

// idx is one decoded idx file: unsigned bytes with their dimensions.
type idx struct {
	file string
	dims []int
	data []byte
}

// readIDX reads dir/name.gz, or dir/name when that is missing, as an idx
// file of unsigned bytes with rank dimensions (magic 0x0000 08 rank, then
// rank big-endian uint32 sizes, then the data).
func readIDX(dir, name string, rank int) (*idx, error) {
	file := filepath.Join(dir, name+".gz")
	f, err := os.Open(file)
	if errors.Is(err, os.ErrNotExist) {
		file = filepath.Join(dir, name)
		f, err = os.Open(file)
	}
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, badInput("fashion-mnist: no %s(.gz) in %s (Debian: apt-get install dataset-fashion-mnist puts it in %s)", name, dir, FashionMNISTDir)
		}
		return nil, err
	}
	defer f.Close()
	var r io.Reader = bufio.NewReader(f)
	if filepath.Ext(file) == ".gz" {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, badInput("fashion-mnist: %s: %v", file, err)
		}
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, badInput("fashion-mnist: %s: %v", file, err)
	}
	head := 4 + 4*rank
	if len(b) < head || !bytes.Equal(b[:4], []byte{0, 0, 8, byte(rank)}) {
		return nil, badInput("fashion-mnist: %s: not an idx file of unsigned bytes with %d dimensions (want magic 00 00 08 %02x)", file, rank, rank)
	}
	x := &idx{file: file, data: b[head:]}
	size := 1
	for k := range rank {
		d := int(binary.BigEndian.Uint32(b[4+4*k:]))
		x.dims = append(x.dims, d)
		size *= d
	}
	if len(x.data) != size {
		return nil, badInput("fashion-mnist: %s: %d data bytes, dimensions %v want %d", file, len(x.data), x.dims, size)
	}
	return x, nil
}
