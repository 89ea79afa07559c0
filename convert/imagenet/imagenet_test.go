package imagenet

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pertnas/convert"
	"pertnas/formats/beton"
	"pertnas/formats/dataset"
)

func synth(t *testing.T, o SynthOptions) string {
	t.Helper()
	dir := t.TempDir()
	if err := WriteSynth(dir, o); err != nil {
		t.Fatal(err)
	}
	return dir
}

var small = SynthOptions{Classes: 4, Train: 3, Val: 2, MinSide: 20, MaxSide: 40, Seed: 1}

func writePNG(t *testing.T, path string, w, h int) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{byte(x * 2), byte(y * 3), 77, 255})
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readBeton returns every sample's decoded size, label and payload.
type stored struct {
	w, h, label int
	data        []byte
}

func readBeton(t *testing.T, path string) []stored {
	t.Helper()
	r, err := beton.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []stored
	for i := range r.NumSamples() {
		img, err := r.Image(i, 0)
		if err != nil {
			t.Fatal(err)
		}
		lab, err := r.Int(i, 1)
		if err != nil {
			t.Fatal(err)
		}
		if img.Mode != beton.ImageJPEG {
			t.Fatalf("sample %d is not JPEG", i)
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(img.Data))
		if err != nil || cfg.Width != img.Width || cfg.Height != img.Height {
			t.Fatalf("sample %d: JPEG %dx%d (%v), metadata %dx%d", i, cfg.Width, cfg.Height, err, img.Width, img.Height)
		}
		out = append(out, stored{img.Width, img.Height, int(lab), bytes.Clone(img.Data)})
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	src := synth(t, small)
	// A large PNG posing as a JPEG (ImageNet has one): shrunk to the cap.
	writePNG(t, filepath.Join(src, "train", SynthClass(1), "zz_big.JPEG"), 120, 60)
	os.WriteFile(filepath.Join(src, "train", SynthClass(0), "README.txt"), []byte("not an image"), 0o644)
	out := filepath.Join(t.TempDir(), "out")
	leftover := filepath.Join(out, ".imagenet_val.beton.tmp-77") // a killed conversion's
	os.MkdirAll(out, 0o755)
	os.WriteFile(leftover, []byte("half a file"), 0o644)
	res, err := Run(context.Background(), Options{Src: src, Out: out, MaxSide: 48, PageSize: beton.MinPageSize, Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(leftover); !os.IsNotExist(err) {
		t.Errorf("the leftover temporary file is still there: %v", err)
	}
	m := res.Manifest
	if res.UpToDate || m.NumClasses != 4 || m.Classes[3] != SynthClass(3) || m.Train.Samples != 13 || m.Val.Samples != 8 ||
		m.Train.Resized != 1 || m.Train.Kept != 12 || m.Val.Kept != 8 || len(m.Warnings) != 1 {
		t.Fatalf("manifest %+v", m)
	}
	train := readBeton(t, filepath.Join(out, dataset.ImageNet.Train))
	// Samples are in class order, files sorted by name within a class.
	wantLabels := []int{0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 3, 3, 3}
	for i, s := range train {
		if s.label != wantLabels[i] {
			t.Fatalf("train sample %d label %d, want %d", i, s.label, wantLabels[i])
		}
	}
	// Kept images are the original bytes; the big PNG is 48x24 (ratio 0.4).
	orig, _ := os.ReadFile(filepath.Join(src, "train", SynthClass(0), SynthClass(0)+"_0.JPEG"))
	if !bytes.Equal(train[0].data, orig) {
		t.Error("a JPEG within the cap was not stored byte for byte")
	}
	if big := train[6]; big.w != 48 || big.h != 24 {
		t.Errorf("resized PNG is %dx%d, want 48x24", big.w, big.h)
	}
	val := readBeton(t, filepath.Join(out, dataset.ImageNet.Test))
	for i, s := range val {
		if s.label != i/2 {
			t.Fatalf("val sample %d label %d, want %d", i, s.label, i/2)
		}
		if s.w < 20 || s.w > 40 || s.h < 20 || s.h > 40 {
			t.Fatalf("val sample %d is %dx%d", i, s.w, s.h)
		}
	}

	// A rerun does nothing; touching a source file converts again, with the
	// same bytes whatever the worker count.
	res2, err := Run(context.Background(), Options{Src: src, Out: out, MaxSide: 48, PageSize: beton.MinPageSize})
	if err != nil || !res2.UpToDate {
		t.Fatalf("rerun: %v, up to date %v", err, res2 != nil && res2.UpToDate)
	}
	later := time.Now().Add(time.Minute)
	os.Chtimes(filepath.Join(src, "val", SynthClass(2), SynthClass(2)+"_val_1.JPEG"), later, later)
	res3, err := Run(context.Background(), Options{Src: src, Out: out, MaxSide: 48, PageSize: beton.MinPageSize, Workers: 1})
	if err != nil || res3.UpToDate {
		t.Fatalf("after touching a file: %v, up to date %v", err, res3 != nil && res3.UpToDate)
	}
	if res3.Manifest.Train.SHA256 != m.Train.SHA256 || res3.Manifest.Val.SHA256 != m.Val.SHA256 {
		t.Error("1 and 3 workers wrote different files")
	}
	left, _ := filepath.Glob(filepath.Join(out, ".*tmp*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestFlatValLabels(t *testing.T) {
	o := small
	o.FlatVal = true
	src := synth(t, o)
	out := t.TempDir()
	labels := filepath.Join(src, "val", "labels.txt")
	res, err := Run(context.Background(), Options{Src: src, Out: out, ValLabels: labels, PageSize: beton.MinPageSize})
	if err != nil {
		t.Fatal(err)
	}
	val := readBeton(t, filepath.Join(out, dataset.ImageNet.Test))
	// Files sorted by name: n00001000_val_0, n00001000_val_1, n00001001_val_0, ...
	for i, s := range val {
		if s.label != i/2 {
			t.Fatalf("val sample %d label %d, want %d", i, s.label, i/2)
		}
	}
	if res.Manifest.Val.Samples != 8 {
		t.Fatalf("%d val samples", res.Manifest.Val.Samples)
	}
	// The Kaggle CSV form, names without extension.
	csv := "ImageId,PredictionString\n"
	for i := range 8 {
		c := SynthClass(i / 2)
		csv += c + "_val_" + string(rune('0'+i%2)) + "," + c + " 1 2 3 4\n"
	}
	csvPath := filepath.Join(t.TempDir(), "LOC_val_solution.csv")
	os.WriteFile(csvPath, []byte(csv), 0o644)
	res2, err := Run(context.Background(), Options{Src: src, Out: t.TempDir(), ValLabels: csvPath, PageSize: beton.MinPageSize})
	if err != nil || res2.Manifest.Val.SHA256 != res.Manifest.Val.SHA256 {
		t.Fatalf("CSV labels: %v", err)
	}
	// Without the labels file a flat val folder is bad input.
	_, err = Run(context.Background(), Options{Src: src, Out: t.TempDir()})
	if !IsBadInput(err) || !strings.Contains(err.Error(), "--val-labels") {
		t.Errorf("flat val without labels: %v", err)
	}
	// A label line naming an unknown class names the file and line.
	bad := filepath.Join(t.TempDir(), "bad.txt")
	os.WriteFile(bad, []byte("x.JPEG n00001000\ny.JPEG n99999999\n"), 0o644)
	_, err = Run(context.Background(), Options{Src: src, Out: t.TempDir(), ValLabels: bad})
	if !IsBadInput(err) || !strings.Contains(err.Error(), "bad.txt line 2") {
		t.Errorf("unknown class in labels: %v", err)
	}
}

func TestBadSources(t *testing.T) {
	src := synth(t, small)
	badJPEG := filepath.Join(src, "val", SynthClass(1), SynthClass(1)+"_val_0.JPEG")
	data, _ := os.ReadFile(badJPEG)
	os.WriteFile(badJPEG, data[:len(data)/3], 0o644)
	_, err := Run(context.Background(), Options{Src: src, Out: t.TempDir(), PageSize: beton.MinPageSize})
	if !IsBadInput(err) || !strings.Contains(err.Error(), badJPEG) {
		t.Errorf("truncated JPEG: %v", err)
	}
	os.WriteFile(badJPEG, []byte("garbage"), 0o644)
	_, err = Run(context.Background(), Options{Src: src, Out: t.TempDir(), PageSize: beton.MinPageSize})
	if !IsBadInput(err) || !strings.Contains(err.Error(), badJPEG) {
		t.Errorf("garbage JPEG: %v", err)
	}
	os.WriteFile(badJPEG, data, 0o644)

	os.MkdirAll(filepath.Join(src, "val", "n77777777"), 0o755)
	_, err = Run(context.Background(), Options{Src: src, Out: t.TempDir()})
	if !IsBadInput(err) || !strings.Contains(err.Error(), "n77777777") {
		t.Errorf("unknown val class: %v", err)
	}
	os.Remove(filepath.Join(src, "val", "n77777777"))
	os.MkdirAll(filepath.Join(src, "train", "n00000001"), 0o755)
	_, err = Run(context.Background(), Options{Src: src, Out: t.TempDir()})
	if !IsBadInput(err) || !strings.Contains(err.Error(), "n00000001") {
		t.Errorf("empty class: %v", err)
	}
	for _, o := range []Options{
		{Src: filepath.Join(src, "missing"), Out: t.TempDir()},
		{Src: src},
		{Src: src, Out: t.TempDir(), MaxSide: 4},
		{Src: src, Out: t.TempDir(), JPEGQuality: 101},
		{Src: src, Out: t.TempDir(), PageSize: 1000},
	} {
		if _, err := Run(context.Background(), o); !IsBadInput(err) {
			t.Errorf("%+v: %v", o, err)
		}
	}
	if err := WriteSynth(t.TempDir(), SynthOptions{Classes: 11, Train: 1, Val: 1, MinSide: 8, MaxSide: 8}); !convert.IsBadInput(err) {
		t.Errorf("11 synthetic classes: %v", err)
	}
}

func TestIsBaseline(t *testing.T) {
	var buf bytes.Buffer
	jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 9, 9)), nil)
	if !isBaseline(buf.Bytes()) {
		t.Error("Go's JPEG is not baseline")
	}
	prog := bytes.Clone(buf.Bytes())
	i := bytes.Index(prog, []byte{0xFF, 0xC0})
	prog[i+1] = 0xC2
	if isBaseline(prog) {
		t.Error("SOF2 taken as baseline")
	}
	for _, b := range [][]byte{nil, {0xFF, 0xD8}, {0xFF, 0xD8, 0xFF, 0xE0, 0xFF, 0xFF}, {0x89, 'P', 'N', 'G'}} {
		if isBaseline(b) {
			t.Errorf("%x taken as baseline", b)
		}
	}
}

func TestAreaResize(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 4, 3))
	for y := range 3 {
		for x := range 4 {
			src.Set(x, y, color.RGBA{byte(10 * x), byte(20 * y), 200, 255})
		}
	}
	out := areaResize(src, 2, 1)
	// Output (0,0) averages columns 0-1 and rows 0-2: R (0+10)/2, G (0+20+40)/3.
	if c := out.RGBAAt(0, 0); c != (color.RGBA{5, 20, 200, 255}) {
		t.Errorf("pixel (0,0) = %v", c)
	}
	if c := out.RGBAAt(1, 0); c != (color.RGBA{25, 20, 200, 255}) {
		t.Errorf("pixel (1,0) = %v", c)
	}
	// 3 -> 2 columns: output 0 covers column 0 and half of column 1.
	row := image.NewRGBA(image.Rect(0, 0, 3, 1))
	row.Set(0, 0, color.RGBA{30, 0, 0, 255})
	row.Set(1, 0, color.RGBA{60, 0, 0, 255})
	row.Set(2, 0, color.RGBA{90, 0, 0, 255})
	if c := areaResize(row, 2, 1).RGBAAt(0, 0); c.R != 40 { // (30 + 60/2) / 1.5
		t.Errorf("3->2 pixel 0 R = %d, want 40", c.R)
	}
}

func FuzzEncodeImage(f *testing.F) {
	var buf bytes.Buffer
	jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 9, 5)), nil)
	f.Add(buf.Bytes())
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xC0, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		if cfg, _, err := image.DecodeConfig(bytes.NewReader(data)); err == nil && cfg.Width*cfg.Height > 1<<20 {
			return
		}
		e, err := encodeImage(data, 16, 90)
		if err != nil {
			return
		}
		if max(e.w, e.h) > 16 || len(e.data) == 0 {
			t.Fatalf("encoded %dx%d over the cap", e.w, e.h)
		}
	})
}

func FuzzParseLabels(f *testing.F) {
	f.Add("a.JPEG n1\nb n2\n")
	f.Add("ImageId,PredictionString\nILSVRC2012_val_1,n1 1 2 3 4\n")
	f.Add("a n1\na n2\n")
	index := map[string]int{"n1": 0, "n2": 1}
	f.Fuzz(func(t *testing.T, text string) {
		labels, err := parseLabels(strings.NewReader(text), "labels.txt", index)
		if err != nil {
			if !IsBadInput(err) || !strings.Contains(err.Error(), "labels.txt") {
				t.Fatalf("error %v does not name the file", err)
			}
			return
		}
		for _, l := range labels {
			if l != 0 && l != 1 {
				t.Fatalf("label %d", l)
			}
		}
	})
}
