// Package dataset is the dataset folder that the converters write and the
// search and train-eval read: DIR/<train file>, DIR/<test file> (FFCV
// .beton files with fields "image" then "label") and DIR/manifest.json
// describing them.
//
// A Layout names the files of one kind of folder: CIFAR (convert-cifar:
// cifar_train.beton, cifar_test.beton) or ImageNet (convert-imagenet:
// imagenet_train.beton, imagenet_val.beton). Manifest is manifest.json of
// either kind; the same Manifest always encodes to the same bytes, and
// manifests written before this package read back unchanged. Open reads and
// checks a folder's manifest, WriteManifest writes one, and SplitWriter is
// how a converter writes one .beton file: to a temporary file in the folder,
// hashed, then renamed into place.
package dataset

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"pertnas/formats/artifact"
	"pertnas/formats/beton"
	"pertnas/formats/cifar"
)

// ManifestFile is the manifest's name inside a dataset folder.
const ManifestFile = "manifest.json"

// Layout is one kind of dataset folder.
type Layout struct {
	Converter string // the stage that writes it, for messages
	Format    string // Manifest.Format of its manifest
	Train     string // training .beton file name
	Test      string // held-out .beton file name (CIFAR's test, ImageNet's val split)
}

// The dataset folders.
var (
	CIFAR    = Layout{Converter: "convert-cifar", Format: "pertnas.cifar-beton.v1", Train: "cifar_train.beton", Test: "cifar_test.beton"}
	ImageNet = Layout{Converter: "convert-imagenet", Format: "pertnas.imagenet-beton.v1", Train: "imagenet_train.beton", Test: "imagenet_val.beton"}
)

// Fields are the fields of every .beton file of a dataset folder, in order:
// the RGB image and the integer label.
var Fields = []beton.Field{{Name: "image", Type: beton.FieldImage}, {Name: "label", Type: beton.FieldInt}}

// FieldNames are the names of Fields, as Manifest.Fields records them.
func FieldNames() []string {
	names := make([]string, len(Fields))
	for i, f := range Fields {
		names[i] = f.Name
	}
	return names
}

// Manifest is DIR/manifest.json. Fields marked CIFAR or ImageNet are set
// by that converter only and left out of the other's JSON; the order of the
// fields is the order on disk.
type Manifest struct {
	Format      string   `json:"format"`          // Layout.Format
	Dataset     string   `json:"dataset"`         // cifar10, cifar100 or imagenet
	Label       string   `json:"label,omitempty"` // CIFAR: fine or coarse
	NumClasses  int      `json:"num_classes"`
	Classes     []string `json:"classes,omitempty"` // class names, when known
	Fields      []string `json:"fields"`            // FieldNames
	PageSize    int      `json:"page_size"`
	WriteMode   string   `json:"write_mode,omitempty"`   // CIFAR: raw or jpg
	MaxSide     int      `json:"max_side,omitempty"`     // ImageNet: cap on an image's longer side
	JPEGQuality int      `json:"jpeg_quality,omitempty"` // of re-encoded images; 0: none are JPEG
	Train       File     `json:"train"`
	// The held-out split (Layout.Test): CIFAR calls it test, ImageNet val;
	// the other is zero and left out.
	Test     File           `json:"test,omitzero"`
	Val      File           `json:"val,omitzero"`
	Sources  []cifar.Source `json:"sources,omitempty"` // CIFAR: the files read
	Source   ImageFolder    `json:"source,omitzero"`   // ImageNet: the folder read
	Warnings []string       `json:"warnings,omitempty"`
}

// File describes one written .beton file.
type File struct {
	Name    string `json:"file"` // name inside the dataset folder
	Samples int    `json:"samples"`
	Bytes   int64  `json:"bytes"`
	SHA256  string `json:"sha256"`
	// ImageStats is set by convert-imagenet only; its fields are inlined.
	*ImageStats
}

// ImageStats is what convert-imagenet records of a written file besides
// its hash.
type ImageStats struct {
	ModTime time.Time `json:"mod_time"` // the file's, after the rename
	// Kept images were stored byte for byte; Resized were shrunk to the
	// cap; Reencoded were re-encoded without resizing.
	Kept      int `json:"kept"`
	Resized   int `json:"resized"`
	Reencoded int `json:"reencoded"`
}

// ImageFolder describes the image folder convert-imagenet read.
type ImageFolder struct {
	Path      string `json:"path"`
	ValLabels string `json:"val_labels,omitempty"`
	Files     int    `json:"files"`
	Bytes     int64  `json:"bytes"`
	// Listing is the SHA-256 of every image's relative path, size and
	// modification time (and the labels file's bytes), in sample order.
	Listing string `json:"listing_sha256"`
}

// Held returns the entry of the held-out split: Test, or Val when Test is
// not set.
func (m *Manifest) Held() File {
	if m.Test.Name == "" {
		return m.Val
	}
	return m.Test
}

// Folder is an opened dataset folder.
type Folder struct {
	Dir    string
	Layout Layout
	// Manifest is nil when the folder has no manifest.json (.beton files
	// written by another tool).
	Manifest *Manifest
}

// TrainPath is the path of the training .beton file.
func (f *Folder) TrainPath() string { return filepath.Join(f.Dir, f.Layout.Train) }

// TestPath is the path of the held-out .beton file.
func (f *Folder) TestPath() string { return filepath.Join(f.Dir, f.Layout.Test) }

// ManifestPath is the path of the manifest.
func (f *Folder) ManifestPath() string { return filepath.Join(f.Dir, ManifestFile) }

// Open reads dir's manifest.json, if it has one, and checks it against l:
// the format is l.Format, num_classes is at least 2 and the files it
// records are l's. A missing manifest is not an error (Folder.Manifest is
// nil); a missing folder is not either, as Open does not open the .beton
// files: their readers report them. Errors name the manifest.
func Open(dir string, l Layout) (*Folder, error) {
	f := &Folder{Dir: dir, Layout: l}
	path := f.ManifestPath()
	var m Manifest
	if err := artifact.ReadJSON(path, &m); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return f, nil
		}
		return nil, fmt.Errorf("dataset: %w", err)
	}
	if m.Format != l.Format {
		return nil, fmt.Errorf("dataset: %s is a %q manifest, not %s's; is this the right folder?", path, m.Format, l.Converter)
	}
	if m.NumClasses < 2 {
		return nil, fmt.Errorf("dataset: %s: num_classes %d, want >= 2", path, m.NumClasses)
	}
	for _, e := range []struct{ got, want string }{{m.Train.Name, l.Train}, {m.Held().Name, l.Test}} {
		if e.got != "" && e.got != e.want {
			return nil, fmt.Errorf("dataset: %s records the file %q, want %q", path, e.got, e.want)
		}
	}
	f.Manifest = &m
	return f, nil
}

// WriteManifest writes m as dir/manifest.json, atomically.
func WriteManifest(dir string, m *Manifest) error {
	return artifact.WriteJSON(filepath.Join(dir, ManifestFile), m)
}

// HashFile returns the size and hex SHA-256 of the file at path.
func HashFile(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	return hashReader(f)
}

func hashReader(r io.Reader) (int64, string, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	return n, hex.EncodeToString(h.Sum(nil)), err
}

// SplitWriter writes one .beton file of a dataset folder: samples are
// appended to the embedded beton.Writer, which writes a temporary file
// DIR/.NAME.tmp-N (a name stage.RemoveTemps removes after a crash); Finish
// completes and hashes it and Commit renames it to DIR/NAME. Discard removes
// the temporary file of a SplitWriter that was not committed.
type SplitWriter struct {
	*beton.Writer
	f         *os.File
	tmp, path string
	samples   int
}

// CreateSplit starts dir/name with samples samples of Fields in pages of
// pageSize bytes.
func CreateSplit(dir, name string, samples, pageSize int) (*SplitWriter, error) {
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return nil, err
	}
	w, err := beton.NewWriter(f, Fields, samples, pageSize)
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return &SplitWriter{Writer: w, f: f, tmp: f.Name(), path: filepath.Join(dir, name), samples: samples}, nil
}

// Finish closes the beton writer, syncs the temporary file, makes it
// readable by all (0644) and returns its description. The file keeps its
// temporary name until Commit.
func (w *SplitWriter) Finish() (File, error) {
	if err := w.Writer.Close(); err != nil {
		return File{}, err
	}
	if err := w.f.Sync(); err != nil {
		return File{}, err
	}
	if _, err := w.f.Seek(0, io.SeekStart); err != nil {
		return File{}, err
	}
	size, sum, err := hashReader(w.f)
	if err != nil {
		return File{}, err
	}
	if err := w.f.Chmod(0o644); err != nil {
		return File{}, err
	}
	err = w.f.Close()
	w.f = nil
	if err != nil {
		return File{}, err
	}
	return File{Name: filepath.Base(w.path), Samples: w.samples, Bytes: size, SHA256: sum}, nil
}

// Commit renames the finished file into place.
func (w *SplitWriter) Commit() error {
	if err := os.Rename(w.tmp, w.path); err != nil {
		return err
	}
	w.tmp = ""
	return nil
}

// Discard closes and removes the temporary file unless it was committed; it
// may be called more than once (deferred after Commit, say).
func (w *SplitWriter) Discard() {
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
	if w.tmp != "" {
		os.Remove(w.tmp)
		w.tmp = ""
	}
}
