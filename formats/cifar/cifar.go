// Package cifar reads the binary versions of CIFAR-10 and CIFAR-100, either
// straight from the published .tar.gz archives or from their extracted
// folders, writes archives in the CIFAR-10 layout, and generates a small
// learnable synthetic dataset in that layout.
//
// A CIFAR-10 record is 1 label byte then 3072 pixel bytes; a CIFAR-100 record
// is a coarse and a fine label byte then 3072 pixel bytes. Pixels are three
// 32x32 row-major planes: red, green, blue.
package cifar

import (
	"fmt"
	"strings"
)

// Image geometry shared by every CIFAR record.
const (
	Side       = 32
	PlaneSize  = Side * Side
	PixelBytes = 3 * PlaneSize
)

// Dataset names a CIFAR variant.
type Dataset string

// The two CIFAR variants.
const (
	CIFAR10  Dataset = "cifar10"
	CIFAR100 Dataset = "cifar100"
)

// LabelKind selects which CIFAR-100 label is used (CIFAR-10 has one label).
type LabelKind string

// CIFAR-100 label kinds.
const (
	Fine   LabelKind = "fine"
	Coarse LabelKind = "coarse"
)

// layout describes a dataset's files and records.
type layout struct {
	dir        string   // folder name inside the archive
	train      []string // training batch files, in order
	test       []string
	recordSize int
	fineNames  string // class names file for the (fine) label
	coarseName string // class names file for the coarse label (CIFAR-100)
	archive    string // published archive name
	trainWant  int
	testWant   int
}

var layouts = map[Dataset]layout{
	CIFAR10: {
		dir:        "cifar-10-batches-bin",
		train:      []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"},
		test:       []string{"test_batch.bin"},
		recordSize: 1 + PixelBytes,
		fineNames:  "batches.meta.txt",
		archive:    "cifar-10-binary.tar.gz",
		trainWant:  50000, testWant: 10000,
	},
	CIFAR100: {
		dir:        "cifar-100-binary",
		train:      []string{"train.bin"},
		test:       []string{"test.bin"},
		recordSize: 2 + PixelBytes,
		fineNames:  "fine_label_names.txt",
		coarseName: "coarse_label_names.txt",
		archive:    "cifar-100-binary.tar.gz",
		trainWant:  50000, testWant: 10000,
	},
}

// ParseDataset checks a dataset name.
func ParseDataset(s string) (Dataset, error) {
	if _, ok := layouts[Dataset(s)]; !ok {
		return "", fmt.Errorf("unknown dataset %q (want cifar10 or cifar100)", s)
	}
	return Dataset(s), nil
}

// ArchiveName is the file name of the dataset's published binary archive.
func (d Dataset) ArchiveName() string { return layouts[d].archive }

// FolderName is the folder the dataset's archive extracts to.
func (d Dataset) FolderName() string { return layouts[d].dir }

// NumClasses is the number of classes of the chosen label.
func (d Dataset) NumClasses(label LabelKind) int {
	switch {
	case d == CIFAR10:
		return 10
	case label == Coarse:
		return 20
	}
	return 100
}

// Options select what Load reads.
type Options struct {
	Dataset Dataset   // CIFAR10 when empty
	Label   LabelKind // Fine when empty; Coarse is for CIFAR100 only
}

func (o Options) normalized() (Options, error) {
	if o.Dataset == "" {
		o.Dataset = CIFAR10
	}
	if _, err := ParseDataset(string(o.Dataset)); err != nil {
		return o, err
	}
	switch o.Label {
	case "":
		o.Label = Fine
	case Fine:
	case Coarse:
		if o.Dataset != CIFAR100 {
			return o, fmt.Errorf("label %q is for cifar100 only", o.Label)
		}
	default:
		return o, fmt.Errorf("unknown label %q (want fine or coarse)", o.Label)
	}
	return o, nil
}

// Split is the records of one split (train or test), concatenated in file
// order, as stored on disk.
type Split struct {
	records    []byte
	recordSize int
	labelAt    int // offset of the chosen label byte in a record
}

// Len is the number of images.
func (s *Split) Len() int {
	if s.recordSize == 0 {
		return 0
	}
	return len(s.records) / s.recordSize
}

// Label is image i's label (fine or coarse as chosen).
func (s *Split) Label(i int) int { return int(s.records[i*s.recordSize+s.labelAt]) }

// Planes returns image i's 3072 pixel bytes as stored: R, G and B planes.
func (s *Split) Planes(i int) []byte {
	end := (i + 1) * s.recordSize
	return s.records[end-PixelBytes : end : end]
}

// HWC writes image i to dst (at least 3072 bytes) as RGB, height x width x
// channel, row major: the layout of a raw .beton image.
func (s *Split) HWC(i int, dst []byte) {
	PlanesToHWC(dst, s.Planes(i))
}

// PlanesToHWC converts 3072 bytes of R, G, B planes to interleaved RGB.
func PlanesToHWC(dst, planes []byte) {
	r, g, b := planes[:PlaneSize], planes[PlaneSize:2*PlaneSize], planes[2*PlaneSize:PixelBytes]
	dst = dst[:PixelBytes]
	for p := range PlaneSize {
		d := dst[3*p : 3*p+3 : 3*p+3]
		d[0], d[1], d[2] = r[p], g[p], b[p]
	}
}

// Source is one file read: its path, size and sha256 (hex).
type Source struct {
	Path   string `json:"path"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Data is a loaded dataset.
type Data struct {
	Dataset     Dataset
	Label       LabelKind
	Train, Test Split
	// Classes are the class names from the names file, or nil when the
	// source has none.
	Classes []string
	// Sources are the files read: the archive, or each file of a folder.
	Sources []Source
	// Warnings report unusual but valid input (such as record counts that
	// differ from the published 50,000/10,000).
	Warnings []string
}

// NumClasses is the number of classes of the chosen label.
func (d *Data) NumClasses() int { return d.Dataset.NumClasses(d.Label) }

// FormatError reports a file that is not what the chosen CIFAR variant
// expects: the file (for an archive member, "archive:member"), the byte
// offset in it (-1 when none applies) and the problem.
type FormatError struct {
	File   string
	Offset int64
	Msg    string
}

func (e *FormatError) Error() string {
	if e.Offset < 0 {
		return fmt.Sprintf("cifar %s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("cifar %s: offset %d: %s", e.File, e.Offset, e.Msg)
}

// parseNames reads a class names file: one name a line, blank lines ignored.
func parseNames(file string, b []byte, want int) ([]string, error) {
	var names []string
	for line := range strings.SplitSeq(string(b), "\n") {
		if name := strings.TrimSpace(line); name != "" {
			names = append(names, name)
		}
	}
	if len(names) != want {
		return nil, &FormatError{file, -1, fmt.Sprintf("%d class names, want %d", len(names), want)}
	}
	return names, nil
}
