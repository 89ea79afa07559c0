package convert

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"pertnas/formats/beton"
	"pertnas/formats/cifar"
	"pertnas/formats/dataset"
)

func synthArchive(t testing.TB, train, test int, seed uint64) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := cifar.WriteSynthArchive(&buf, train, test, seed, gzip.BestSpeed); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeTemp(t testing.TB, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func fileSHA(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return sha(b)
}

// openSplit opens an output and checks its fields.
func openSplit(t *testing.T, p string, n int) (*beton.Reader, int, int) {
	t.Helper()
	r, err := beton.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	img, err1 := r.FieldIndex("image")
	lab, err2 := r.FieldIndex("label")
	if err1 != nil || err2 != nil || img != 0 || lab != 1 || r.NumSamples() != n {
		t.Fatalf("%s: fields %v, %d samples", p, r.Fields(), r.NumSamples())
	}
	return r, img, lab
}

func TestRawRoundTrip(t *testing.T) {
	arc := synthArchive(t, 60, 25, 3)
	src := writeTemp(t, "cifar-10-binary.tar.gz", arc)
	out := t.TempDir()
	res, err := Run(context.Background(), Options{Src: src, Out: out, PageSize: beton.MinPageSize})
	if err != nil {
		t.Fatal(err)
	}
	if res.UpToDate {
		t.Fatal("first run reported up to date")
	}
	train, test := cifar.Synth(60, 25, 3)
	for _, c := range []struct {
		file string
		recs cifar.Records
	}{{dataset.CIFAR.Train, train}, {dataset.CIFAR.Test, test}} {
		n := c.recs.Len()
		r, img, lab := openSplit(t, filepath.Join(out, c.file), n)
		for i := range n {
			rec := c.recs[i*(1+cifar.PixelBytes):]
			im, err := r.Image(i, img)
			if err != nil || im.Mode != beton.ImageRaw || im.Width != 32 || im.Height != 32 {
				t.Fatalf("%s %d: %+v %v", c.file, i, im, err)
			}
			for y := range 32 {
				for x := range 32 {
					for ch := range 3 {
						if got, want := im.Data[(y*32+x)*3+ch], rec[1+ch*1024+y*32+x]; got != want {
							t.Fatalf("%s image %d (%d,%d,%d): %d, want %d", c.file, i, y, x, ch, got, want)
						}
					}
				}
			}
			if l, err := r.Int(i, lab); err != nil || l != int64(rec[0]) {
				t.Fatalf("%s label %d: %d %v", c.file, i, l, err)
			}
		}
	}
	m := res.Manifest
	if m.Train.Samples != 60 || m.Test.Samples != 25 || m.Dataset != string(cifar.CIFAR10) || m.WriteMode != string(Raw) ||
		m.PageSize != beton.MinPageSize || m.NumClasses != 10 || strings.Join(m.Classes, " ") != strings.Join(cifar.SynthClasses, " ") {
		t.Errorf("manifest %+v", m)
	}
	if m.Train.SHA256 != fileSHA(t, filepath.Join(out, dataset.CIFAR.Train)) || m.Test.SHA256 != fileSHA(t, filepath.Join(out, dataset.CIFAR.Test)) {
		t.Error("manifest hashes differ from the files")
	}
	if len(m.Sources) != 1 || m.Sources[0].SHA256 != sha(arc) {
		t.Errorf("sources %+v", m.Sources)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 3 {
		t.Errorf("output folder holds %d entries, want 3 (no temporary files left)", len(entries))
	}

	// Rerun: nothing to do.
	before, _ := os.Stat(filepath.Join(out, dataset.CIFAR.Train))
	res, err = Run(context.Background(), Options{Src: src, Out: out, PageSize: beton.MinPageSize})
	if err != nil || !res.UpToDate {
		t.Fatalf("rerun: up to date %v, %v", res != nil && res.UpToDate, err)
	}
	after, _ := os.Stat(filepath.Join(out, dataset.CIFAR.Train))
	if !after.ModTime().Equal(before.ModTime()) {
		t.Error("up-to-date rerun rewrote the train file")
	}
	// A damaged output, or other options, convert again.
	os.WriteFile(filepath.Join(out, dataset.CIFAR.Test), []byte("x"), 0o644)
	res, err = Run(context.Background(), Options{Src: src, Out: out, PageSize: beton.MinPageSize})
	if err != nil || res.UpToDate || fileSHA(t, filepath.Join(out, dataset.CIFAR.Test)) != m.Test.SHA256 {
		t.Errorf("after damage: up to date %v, err %v", res != nil && res.UpToDate, err)
	}
	res, err = Run(context.Background(), Options{Src: src, Out: out})
	if err != nil || res.UpToDate || res.Manifest.PageSize != beton.DefaultPageSize {
		t.Errorf("other page size: %+v %v", res, err)
	}
}

func TestJPEGMode(t *testing.T) {
	arc := synthArchive(t, 40, 10, 5)
	src := writeTemp(t, "a.tar.gz", arc)
	out := t.TempDir()
	res, err := Run(context.Background(), Options{Src: src, Out: out, PageSize: beton.MinPageSize, Mode: JPEG, JPEGQuality: 95})
	if err != nil {
		t.Fatal(err)
	}
	if res.Manifest.WriteMode != string(JPEG) || res.Manifest.JPEGQuality != 95 {
		t.Errorf("manifest %+v", res.Manifest)
	}
	train, _ := cifar.Synth(40, 10, 5)
	r, img, lab := openSplit(t, filepath.Join(out, dataset.CIFAR.Train), 40)
	// JPEG keeps low frequencies: compare 4x4 block means, channel by channel
	// (pixel by pixel, the ±32 noise of the synthetic images and their sharp
	// colour edges under 4:2:0 chroma subsampling dominate).
	var blockErr, pixelErr, blocks, pixels float64
	for i := range 40 {
		rec := train[i*(1+cifar.PixelBytes):]
		im, err := r.Image(i, img)
		if err != nil || im.Mode != beton.ImageJPEG || im.Width != 32 || im.Height != 32 {
			t.Fatalf("image %d: %+v %v", i, im, err)
		}
		dec, err := jpeg.Decode(bytes.NewReader(im.Data))
		if err != nil {
			t.Fatal(err)
		}
		if b := dec.Bounds(); b.Dx() != 32 || b.Dy() != 32 {
			t.Fatalf("decoded size %v", b)
		}
		var got, want [3][8][8]float64
		for y := range 32 {
			for x := range 32 {
				cr, cg, cb, _ := dec.At(x, y).RGBA()
				for ch, v := range []uint32{cr >> 8, cg >> 8, cb >> 8} {
					w := float64(rec[1+ch*1024+y*32+x])
					got[ch][y/4][x/4] += float64(v) / 16
					want[ch][y/4][x/4] += w / 16
					pixelErr += abs(float64(v) - w)
					pixels++
				}
			}
		}
		for ch := range 3 {
			for by := range 8 {
				for bx := range 8 {
					blockErr += abs(got[ch][by][bx] - want[ch][by][bx])
					blocks++
				}
			}
		}
		if l, _ := r.Int(i, lab); l != int64(rec[0]) {
			t.Fatalf("label %d", l)
		}
	}
	t.Logf("JPEG q95: mean absolute error %.2f per pixel, %.2f per 4x4 block mean", pixelErr/pixels, blockErr/blocks)
	if blockErr/blocks > 4 || pixelErr/pixels > 20 {
		t.Errorf("JPEG q95: mean absolute error %.2f per pixel (want <= 20), %.2f per 4x4 block mean (want <= 4)", pixelErr/pixels, blockErr/blocks)
	}

	// The JPEG output does not depend on the number of CPUs.
	out1 := t.TempDir()
	prev := runtime.GOMAXPROCS(1)
	_, err = Run(context.Background(), Options{Src: src, Out: out1, PageSize: beton.MinPageSize, Mode: JPEG, JPEGQuality: 95})
	runtime.GOMAXPROCS(prev)
	if err != nil {
		t.Fatal(err)
	}
	if fileSHA(t, filepath.Join(out1, dataset.CIFAR.Train)) != res.Manifest.Train.SHA256 {
		t.Error("JPEG output differs between 1 and several CPUs")
	}
}

func TestFolderSource(t *testing.T) {
	train, test := cifar.Synth(10, 5, 9)
	dir := filepath.Join(t.TempDir(), "cifar-10-batches-bin")
	os.MkdirAll(dir, 0o755)
	const rs = 1 + cifar.PixelBytes
	for k := range 5 {
		os.WriteFile(filepath.Join(dir, "data_batch_"+string(rune('1'+k))+".bin"), train[k*2*rs:(k+1)*2*rs], 0o644)
	}
	os.WriteFile(filepath.Join(dir, "test_batch.bin"), test, 0o644)
	out := t.TempDir()
	// A killed conversion's leftover goes; the user's own files stay.
	leftover, mine := filepath.Join(out, ".cifar_train.beton.tmp-4242"), filepath.Join(out, "notes.txt")
	os.WriteFile(leftover, []byte("half a file"), 0o644)
	os.WriteFile(mine, []byte("mine"), 0o644)
	res, err := Run(context.Background(), Options{Src: dir, Out: out, PageSize: beton.MinPageSize})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(leftover); !os.IsNotExist(err) {
		t.Errorf("the leftover temporary file is still there: %v", err)
	}
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("a file of the user's was removed: %v", err)
	}
	if len(res.Manifest.Sources) != 6 || res.Manifest.Sources[5].SHA256 != sha(test) || res.Manifest.Train.Samples != 10 {
		t.Errorf("manifest %+v", res.Manifest)
	}
	if res, err := Run(context.Background(), Options{Src: dir, Out: out, PageSize: beton.MinPageSize}); err != nil || !res.UpToDate {
		t.Errorf("rerun from a folder: %v", err)
	}
	// A changed source file is noticed.
	os.WriteFile(filepath.Join(dir, "test_batch.bin"), test[:rs], 0o644)
	if res, err := Run(context.Background(), Options{Src: dir, Out: out, PageSize: beton.MinPageSize}); err != nil || res.UpToDate || res.Manifest.Test.Samples != 1 {
		t.Errorf("changed source: %v", err)
	}
}

func TestBadInput(t *testing.T) {
	out := t.TempDir()
	arc := synthArchive(t, 10, 5, 1)
	for name, opt := range map[string]Options{
		"no out":       {Src: "x"},
		"dataset":      {Out: out, Dataset: "mnist"},
		"coarse c10":   {Out: out, Label: cifar.Coarse},
		"page size":    {Out: out, PageSize: 3 << 20},
		"mode":         {Out: out, Mode: "png"},
		"quality":      {Out: out, Mode: JPEG, JPEGQuality: 101},
		"missing src":  {Out: out, Src: filepath.Join(out, "nope.tar.gz")},
		"no src":       {Out: out},
		"cut archive":  {Out: out, Src: writeTemp(t, "cut.tar.gz", arc[:len(arc)/2])},
		"not an archv": {Out: out, Src: writeTemp(t, "x.tar.gz", []byte("hello"))},
	} {
		_, err := Run(context.Background(), opt)
		if err == nil || !IsBadInput(err) {
			t.Errorf("%s: got %v, want bad input", name, err)
		}
	}
	_, err := Run(context.Background(), Options{Out: out})
	if err == nil || !strings.Contains(err.Error(), "--src") || !strings.Contains(err.Error(), filepath.Join(out, "cifar-10-binary.tar.gz")) {
		t.Errorf("no source: %v does not say how to supply one", err)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("failed runs left %d files", len(entries))
	}
}

// archiveServer serves b over TLS on loopback, honouring range requests,
// and counts the range requests it gets.
func archiveServer(t *testing.T, b []byte) (*httptest.Server, *atomic.Int32) {
	var ranges atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Range") != "" {
			ranges.Add(1)
		}
		http.ServeContent(w, r, "cifar-10-binary.tar.gz", time.Unix(0, 0), bytes.NewReader(b))
	}))
	t.Cleanup(srv.Close)
	return srv, &ranges
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func TestFetch(t *testing.T) {
	arc := synthArchive(t, 10, 5, 2)
	srv, ranges := archiveServer(t, arc)
	out := t.TempDir()
	opt := Options{Out: out, PageSize: beton.MinPageSize, Fetch: true, URL: srv.URL + "/cifar-10-binary.tar.gz", MD5: md5hex(arc), Client: srv.Client()}
	res, err := Run(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(out, "cifar-10-binary.tar.gz")
	if res.Src != dest || fileSHA(t, dest) != sha(arc) || res.Manifest.Train.Samples != 10 {
		t.Fatalf("fetched to %s, %+v", res.Src, res.Manifest)
	}
	if res, err := Run(context.Background(), opt); err != nil || !res.UpToDate {
		t.Errorf("rerun after fetch: %v", err)
	}

	// Resume: half the archive is already there.
	dest2 := filepath.Join(t.TempDir(), "c10.tar.gz")
	os.WriteFile(dest2+".part", arc[:len(arc)/2], 0o644)
	if err := Fetch(context.Background(), opt, dest2); err != nil {
		t.Fatal(err)
	}
	if fileSHA(t, dest2) != sha(arc) || ranges.Load() != 1 {
		t.Errorf("resumed download: %d range requests, hash ok %v", ranges.Load(), fileSHA(t, dest2) == sha(arc))
	}
	if _, err := os.Stat(dest2 + ".part"); !os.IsNotExist(err) {
		t.Error(".part left behind")
	}

	// Wrong MD5 (the default, the published one, for this synthetic archive).
	bad := opt
	bad.MD5 = ""
	bad.Out = t.TempDir()
	_, err = Run(context.Background(), bad)
	if err == nil || !strings.Contains(err.Error(), "MD5") || !strings.Contains(err.Error(), DefaultMD5[cifar.CIFAR10]) {
		t.Errorf("wrong md5: %v", err)
	}
	if entries, _ := os.ReadDir(bad.Out); len(entries) != 0 {
		t.Errorf("wrong md5 left %d files", len(entries))
	}

	// Server down.
	srv.Close()
	down := opt
	down.Out = t.TempDir()
	_, err = Run(context.Background(), down)
	if err == nil || !strings.Contains(err.Error(), "--src") || IsBadInput(err) {
		t.Errorf("server down: %v", err)
	}
}

func abs(x float64) float64 { return max(x, -x) }

func TestCancelled(t *testing.T) {
	src := writeTemp(t, "a.tar.gz", synthArchive(t, 10, 5, 1))
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, mode := range []WriteMode{Raw, JPEG} {
		if _, err := Run(ctx, Options{Src: src, Out: out, PageSize: beton.MinPageSize, Mode: mode}); err == nil || IsBadInput(err) {
			t.Errorf("%s: cancelled run: %v", mode, err)
		}
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("cancelled runs left %d files", len(entries))
	}
}

func TestCIFAR100Coarse(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cifar-100-binary")
	os.MkdirAll(dir, 0o755)
	const rs = 2 + cifar.PixelBytes
	recs := func(n int) []byte {
		b := make([]byte, n*rs)
		for i := range n {
			b[i*rs], b[i*rs+1], b[i*rs+2+i] = byte(i%20), byte(99-i), byte(i+1)
		}
		return b
	}
	os.WriteFile(filepath.Join(dir, "train.bin"), recs(30), 0o644)
	os.WriteFile(filepath.Join(dir, "test.bin"), recs(4), 0o644)
	out := t.TempDir()
	for _, label := range []cifar.LabelKind{cifar.Coarse, cifar.Fine} {
		res, err := Run(context.Background(), Options{Src: dir, Out: out, Dataset: cifar.CIFAR100, Label: label, PageSize: beton.MinPageSize})
		if err != nil {
			t.Fatal(err)
		}
		if res.Manifest.Label != string(label) || res.Manifest.NumClasses != map[cifar.LabelKind]int{cifar.Coarse: 20, cifar.Fine: 100}[label] {
			t.Errorf("manifest %+v", res.Manifest)
		}
		r, img, lab := openSplit(t, filepath.Join(out, dataset.CIFAR.Train), 30)
		for i := range 30 {
			want := int64(i % 20)
			if label == cifar.Fine {
				want = int64(99 - i)
			}
			im, _ := r.Image(i, img)
			if l, _ := r.Int(i, lab); l != want || im.Data[3*i] != byte(i+1) {
				t.Fatalf("%s label of %d: %d, want %d", label, i, l, want)
			}
		}
	}
}
