package dataset

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pertnas/formats/beton"
)

// The golden manifests are what convert-cifar (--write-mode jpg) and
// convert-imagenet (flat val folder) wrote before this package: reading
// and writing them back must give the same bytes, so existing folders keep
// working and a rerun of the converters writes what they wrote.
func TestManifestRoundTrip(t *testing.T) {
	for _, c := range []struct {
		golden string
		layout Layout
		check  func(*Manifest) bool
	}{
		{"cifar.json", CIFAR, func(m *Manifest) bool {
			return m.Label == "fine" && m.WriteMode == "jpg" && m.Test.Samples == 200 && m.Val.Name == "" &&
				m.Train.ImageStats == nil && len(m.Sources) == 1 && m.Source == (ImageFolder{}) && m.Held() == m.Test
		}},
		{"imagenet.json", ImageNet, func(m *Manifest) bool {
			return m.Label == "" && m.MaxSide == 500 && m.Test.Name == "" && m.Val.Samples == 9 && m.Val.Kept == 9 &&
				!m.Train.ModTime.IsZero() && m.Sources == nil && m.Source.Files == 24 && m.Held() == m.Val
		}},
	} {
		want, err := os.ReadFile(filepath.Join("testdata", c.golden))
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, ManifestFile), want, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := Open(dir, c.layout)
		if err != nil {
			t.Fatalf("%s: %v", c.golden, err)
		}
		if !c.check(f.Manifest) {
			t.Errorf("%s: decoded %+v", c.golden, f.Manifest)
		}
		if f.TrainPath() != filepath.Join(dir, c.layout.Train) || f.TestPath() != filepath.Join(dir, c.layout.Test) {
			t.Errorf("%s: paths %s, %s", c.golden, f.TrainPath(), f.TestPath())
		}
		out := t.TempDir()
		if err := WriteManifest(out, f.Manifest); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(out, ManifestFile))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: written back as\n%s", c.golden, got)
		}
	}
}

func TestOpenWithoutManifest(t *testing.T) {
	dir := t.TempDir()
	f, err := Open(dir, CIFAR)
	if err != nil || f.Manifest != nil || f.Dir != dir {
		t.Fatalf("Open of a folder without a manifest: %+v, %v", f, err)
	}
}

func TestOpenErrors(t *testing.T) {
	for _, c := range []struct{ json, want string }{
		{`{"format": `, "unexpected end of JSON input"},
		{`{"format": "pertnas.imagenet-beton.v1", "num_classes": 10}`, `is a "pertnas.imagenet-beton.v1" manifest, not convert-cifar's`},
		{`{"num_classes": 10}`, `is a "" manifest`},
		{`{"format": "pertnas.cifar-beton.v1", "num_classes": 1}`, "num_classes 1, want >= 2"},
		{`{"format": "pertnas.cifar-beton.v1", "num_classes": 10, "train": {"file": "x.beton"}}`, `records the file "x.beton", want "cifar_train.beton"`},
		{`{"format": "pertnas.cifar-beton.v1", "num_classes": 10, "test": {"file": "cifar_train.beton"}}`, `records the file "cifar_train.beton", want "cifar_test.beton"`},
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, ManifestFile)
		if err := os.WriteFile(path, []byte(c.json), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Open(dir, CIFAR)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one naming %s with %q", c.json, err, path, c.want)
		}
	}
	// A manifest that cannot be read (a folder in its place).
	dir := t.TempDir()
	path := filepath.Join(dir, ManifestFile)
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, CIFAR); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("unreadable manifest: %v", err)
	}
}

func TestSplitWriter(t *testing.T) {
	dir := t.TempDir()
	w, err := CreateSplit(dir, CIFAR.Train, 3, beton.MinPageSize)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Discard()
	px := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	for i := range 3 {
		if err := w.Append([]beton.Value{beton.ImageValue(beton.ImageRaw, 2, 2, px), beton.IntValue(int64(i))}); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, CIFAR.Train)
	f, err := w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("%s exists before Commit: %v", path, err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	w.Discard() // after Commit: keeps the file
	size, sum, err := HashFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if f != (File{Name: CIFAR.Train, Samples: 3, Bytes: size, SHA256: sum}) {
		t.Errorf("Finish gave %+v; the file has %d bytes, SHA-256 %s", f, size, sum)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("%s: %v, %v", path, st.Mode(), err)
	}
	r, err := beton.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.NumSamples() != 3 {
		t.Errorf("%d samples, want 3", r.NumSamples())
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("folder holds %d entries, want only %s", len(ents), CIFAR.Train)
	}

	// A discarded writer leaves nothing behind.
	w, err = CreateSplit(dir, CIFAR.Test, 1, beton.MinPageSize)
	if err != nil {
		t.Fatal(err)
	}
	w.Discard()
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("after Discard the folder holds %d entries, want 1", len(ents))
	}
}
