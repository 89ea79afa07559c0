package beton

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// memFile is an in-memory io.WriterAt.
type memFile struct{ b []byte }

func (m *memFile) WriteAt(p []byte, off int64) (int, error) {
	if end := int(off) + len(p); end > len(m.b) {
		m.b = append(m.b, make([]byte, end-len(m.b))...)
	}
	return copy(m.b[off:], p), nil
}

// goldenSamples are the samples spec/beton.md describes for the golden file.
func writeGoldenSamples(t testing.TB, w *Writer) {
	for i := range 5 {
		img := bytes.Repeat([]byte{byte(i)}, 32*32*3)
		img[0], img[1], img[2] = 1, 2, 3
		if err := w.Append([]Value{ImageValue(ImageRaw, 32, 32, img), IntValue(int64(i % 10))}); err != nil {
			t.Fatal(err)
		}
	}
}

var cifarFields = []Field{{"image", FieldImage}, {"label", FieldInt}}

func TestGolden(t *testing.T) {
	gz, err := os.Open(filepath.Join("testdata", "ffcv-5x32-page2m.beton.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer gz.Close()
	zr, err := gzip.NewReader(gz)
	if err != nil {
		t.Fatal(err)
	}
	want, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}

	path := filepath.Join(t.TempDir(), "golden.beton")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(f, cifarFields, 5, MinPageSize)
	if err != nil {
		t.Fatal(err)
	}
	writeGoldenSamples(t, w)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(got)
	if h := hex.EncodeToString(sum[:]); h != "5184430d1f1f0270c47bacbad670e91e4e62bb8200330282b50f90f974b41919" {
		t.Errorf("sha256 %s, want the golden file's", h)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("output differs from the golden file (%d vs %d bytes)", len(got), len(want))
	}

	// And the reader reads FFCV's file back.
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.NumSamples() != 5 || r.PageSize() != MinPageSize || len(r.Fields()) != 2 {
		t.Fatalf("samples %d page %d fields %v", r.NumSamples(), r.PageSize(), r.Fields())
	}
	for i := range 5 {
		img, err := r.Image(i, 0)
		if err != nil {
			t.Fatal(err)
		}
		if img.Mode != ImageRaw || img.Width != 32 || img.Height != 32 || len(img.Data) != 3072 {
			t.Fatalf("sample %d: %+v", i, img)
		}
		if img.Data[0] != 1 || img.Data[1] != 2 || img.Data[2] != 3 || img.Data[3] != byte(i) || img.Data[3071] != byte(i) {
			t.Errorf("sample %d pixels %v...%v", i, img.Data[:4], img.Data[3071])
		}
		if l, err := r.Int(i, 1); err != nil || l != int64(i%10) {
			t.Errorf("sample %d label %d %v", i, l, err)
		}
		if p := r.SamplePage(i); p != 0 {
			t.Errorf("sample %d page %d", i, p)
		}
	}
}

func TestRecordLayout(t *testing.T) {
	I, F, M, B := FieldInt, FieldFloat, FieldImage, FieldBytes
	for _, c := range []struct {
		types    []FieldType
		offsets  []int
		itemsize int
	}{
		{[]FieldType{M, I}, []int{0, 16}, 24},
		{[]FieldType{I, M}, []int{0, 8}, 24},
		{[]FieldType{M}, []int{0}, 13},
		{[]FieldType{M, M, I}, []int{0, 13, 32}, 40},
		{[]FieldType{I, F}, []int{0, 8}, 16},
		{[]FieldType{B, M}, []int{0, 16}, 29},
		{[]FieldType{M, FieldNDArray}, []int{0, 16}, 24},
	} {
		fields := make([]Field, len(c.types))
		for i, ty := range c.types {
			fields[i] = Field{"f", ty}
		}
		off, size, err := recordLayout(fields)
		if err != nil || size != c.itemsize || !equalInts(off, c.offsets) {
			t.Errorf("%v: offsets %v itemsize %d err %v; want %v %d", c.types, off, size, err, c.offsets, c.itemsize)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// allTypesFile writes n samples of every writable field type; payloads of
// 300 KiB each make several samples share a page and some start a new one.
func allTypesFile(t testing.TB, n int) []byte {
	fields := []Field{{"id", FieldInt}, {"img", FieldImage}, {"x", FieldFloat}, {"blob", FieldBytes}, {"meta", FieldJSON}, {"exactly16chars__", FieldInt}}
	m := &memFile{}
	w, err := NewWriter(m, fields, n, MinPageSize)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		img := make([]byte, 8*4*3)
		for j := range img {
			img[j] = byte(i*7 + j)
		}
		blob := bytes.Repeat([]byte{byte(i + 1)}, 300<<10+i)
		vals := []Value{IntValue(-int64(i)), ImageValue(ImageRaw, 8, 4, img), FloatValue(float64(i) / 3), BytesValue(blob), JSONValue([]byte(`{"i":` + string(rune('0'+i)) + `}`)), IntValue(math.MaxInt64 - int64(i))}
		if err := w.Append(vals); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return m.b
}

func TestRoundTripAllTypes(t *testing.T) {
	const n = 9
	data := allTypesFile(t, n)
	r, err := parse("mem", data)
	if err != nil {
		t.Fatal(err)
	}
	if r.NumSamples() != n {
		t.Fatalf("%d samples", r.NumSamples())
	}
	if i, err := r.FieldIndex("exactly16chars__"); err != nil || i != 5 {
		t.Fatalf("FieldIndex %d %v", i, err)
	}
	if _, err := r.FieldIndex("nope"); err == nil {
		t.Error("FieldIndex of a missing field: no error")
	}
	perPage := MinPageSize / (300<<10 + 8 + 96 + 8) // ~6 samples per 2 MiB page
	for i := range n {
		if v, _ := r.Int(i, 0); v != -int64(i) {
			t.Errorf("id %d", v)
		}
		if v, _ := r.Int(i, 5); v != math.MaxInt64-int64(i) {
			t.Errorf("int %d", v)
		}
		if v, _ := r.Float(i, 2); v != float64(i)/3 {
			t.Errorf("float %v", v)
		}
		img, err := r.Image(i, 1)
		if err != nil || img.Width != 8 || img.Height != 4 || img.Data[5] != byte(i*7+5) {
			t.Errorf("image %+v %v", img, err)
		}
		b, err := r.Bytes(i, 3)
		if err != nil || len(b) != 300<<10+i || b[0] != byte(i+1) || b[len(b)-1] != byte(i+1) {
			t.Errorf("bytes len %d %v", len(b), err)
		}
		j, err := r.Bytes(i, 4)
		if err != nil || string(j) != `{"i":`+string(rune('0'+i))+`}` {
			t.Errorf("json %q %v", j, err)
		}
		if p := r.SamplePage(i); p != i/perPage {
			t.Errorf("sample %d on page %d, want %d", i, p, i/perPage)
		}
	}
	// Wrong type, out of range.
	if _, err := r.Int(0, 2); err == nil {
		t.Error("Int of a float field: no error")
	}
	if _, err := r.Image(n, 1); err == nil {
		t.Error("Image of sample n: no error")
	}
	if _, err := r.Float(0, 6); err == nil {
		t.Error("field 6: no error")
	}
	if r.SamplePage(-1) != -1 || r.SamplePage(n) != -1 {
		t.Error("SamplePage out of range")
	}
	// Deterministic.
	if !bytes.Equal(data, allTypesFile(t, n)) {
		t.Error("two writes of the same samples differ")
	}
}

func TestNoAllocations(t *testing.T) {
	m := &memFile{}
	w, err := NewWriter(m, []Field{{"a", FieldInt}, {"b", FieldFloat}}, 3, MinPageSize)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := w.Append([]Value{IntValue(int64(i)), FloatValue(0.5)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if len(m.b) != 24+2*1041+3*16 || le.Uint64(m.b[16:]) != uint64(len(m.b)) {
		t.Fatalf("size %d table ptr %d", len(m.b), le.Uint64(m.b[16:]))
	}
	r, err := parse("mem", m.b)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := r.Int(2, 0); v != 2 || r.SamplePage(0) != -1 {
		t.Error("read back")
	}
}

func TestWriterRejects(t *testing.T) {
	bad := func(name string, fields []Field, pageSize int, vals []Value) {
		t.Helper()
		w, err := NewWriter(&memFile{}, fields, 1, pageSize)
		if err == nil {
			err = w.Append(vals)
		}
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	img := make([]byte, 12)
	bad("page size", cifarFields, 3<<20, nil)
	bad("small page", cifarFields, 1<<20, nil)
	bad("long name", []Field{{"seventeen_chars__", FieldInt}}, MinPageSize, nil)
	bad("dup name", []Field{{"a", FieldInt}, {"a", FieldInt}}, MinPageSize, nil)
	bad("ndarray", []Field{{"a", FieldNDArray}}, MinPageSize, nil)
	bad("raw size", cifarFields, MinPageSize, []Value{ImageValue(ImageRaw, 2, 3, img), IntValue(0)})
	bad("jpeg magic", cifarFields, MinPageSize, []Value{ImageValue(ImageJPEG, 2, 2, img), IntValue(0)})
	bad("zero width", cifarFields, MinPageSize, []Value{ImageValue(ImageRaw, 0, 4, nil), IntValue(0)})
	bad("too big", cifarFields, MinPageSize, []Value{ImageValue(ImageRaw, 1024, 1024, make([]byte, 3<<20)), IntValue(0)})
	bad("empty bytes", []Field{{"b", FieldBytes}}, MinPageSize, []Value{BytesValue(nil)})
	bad("bad json", []Field{{"j", FieldJSON}}, MinPageSize, []Value{JSONValue([]byte("{"))})
	bad("value count", cifarFields, MinPageSize, []Value{IntValue(0)})

	w, _ := NewWriter(&memFile{}, []Field{{"a", FieldInt}}, 2, MinPageSize)
	w.Append([]Value{IntValue(1)})
	if err := w.Close(); err == nil {
		t.Error("Close after 1 of 2 samples: no error")
	}
}

// corruptions of a valid file, each of which the reader must refuse.
func corruptions(good []byte) map[string][]byte {
	mod := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	tablePtr := le.Uint64(good[16:])
	metaStart := 24 + 2*1041
	return map[string][]byte{
		"empty":             {},
		"short header":      good[:20],
		"version":           mod(func(b []byte) []byte { b[0] = 3; return b }),
		"zero fields":       mod(func(b []byte) []byte { b[2], b[3] = 0, 0; return b }),
		"many fields":       mod(func(b []byte) []byte { b[2], b[3] = 0xff, 0xff; return b }),
		"page size":         mod(func(b []byte) []byte { le.PutUint32(b[4:], 3<<20); return b }),
		"samples":           mod(func(b []byte) []byte { le.PutUint64(b[8:], 1<<40); return b }),
		"huge samples":      mod(func(b []byte) []byte { le.PutUint64(b[8:], math.MaxUint64); return b }),
		"table ptr":         mod(func(b []byte) []byte { le.PutUint64(b[16:], uint64(len(b))+24); return b }),
		"table misaligned":  mod(func(b []byte) []byte { le.PutUint64(b[16:], tablePtr+1); return b }),
		"field type":        mod(func(b []byte) []byte { b[24] = 255; return b }),
		"truncated table":   good[:len(good)-5],
		"truncated pages":   append(bytes.Clone(good[:len(good)-MinPageSize-120]), good[len(good)-120:]...),
		"data ptr":          mod(func(b []byte) []byte { b[metaStart+5]++; return b }),
		"image mode":        mod(func(b []byte) []byte { b[metaStart] = 7; return b }),
		"raw size":          mod(func(b []byte) []byte { b[metaStart+1] = 31; return b }),
		"entry sample":      mod(func(b []byte) []byte { le.PutUint64(b[tablePtr:], 3); return b }),
		"entry sample big":  mod(func(b []byte) []byte { le.PutUint64(b[tablePtr:], 99); return b }),
		"entry zero size":   mod(func(b []byte) []byte { le.PutUint64(b[tablePtr+16:], 0); return b }),
		"entry past end":    mod(func(b []byte) []byte { le.PutUint64(b[tablePtr+8:], tablePtr-10); return b }),
		"entry before data": mod(func(b []byte) []byte { le.PutUint64(b[tablePtr+8:], 100); return b }),
		"entry overlap":     mod(func(b []byte) []byte { le.PutUint64(b[tablePtr+16:], 4000); return b }),
	}
}

func TestCorruptFiles(t *testing.T) {
	m := &memFile{}
	w, _ := NewWriter(m, cifarFields, 5, MinPageSize)
	writeGoldenSamples(t, w)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := parse("good", m.b); err != nil {
		t.Fatal(err)
	}
	for name, b := range corruptions(m.b) {
		_, err := parse("bad.beton", b)
		var fe *FormatError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), "bad.beton") {
			t.Errorf("%s: got %v, want a FormatError naming the file", name, err)
		}
	}
}

func TestPageCrossing(t *testing.T) {
	b := allTypesFile(t, 9) // two pages
	if _, err := parse("two-pages.beton", b); err != nil {
		t.Fatal(err)
	}
	table := le.Uint64(b[16:])
	le.PutUint64(b[table+24+8:], 2*MinPageSize-100) // sample 0's 300 KiB blob
	_, err := parse("two-pages.beton", b)
	if err == nil || !strings.Contains(err.Error(), "crosses a page boundary") {
		t.Errorf("got %v, want a page crossing error", err)
	}
}

func TestOpenFile(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(filepath.Join(dir, "missing.beton")); err == nil {
		t.Error("missing file: no error")
	}
	empty := filepath.Join(dir, "empty.beton")
	os.WriteFile(empty, nil, 0o644)
	if _, err := Open(empty); err == nil || !strings.Contains(err.Error(), empty) {
		t.Errorf("empty file: %v", err)
	}
	good := filepath.Join(dir, "all.beton")
	os.WriteFile(good, allTypesFile(t, 3), 0o644)
	r, err := Open(good)
	if err != nil {
		t.Fatal(err)
	}
	if r.Path() != good {
		t.Error("Path")
	}
	if b, err := r.Bytes(2, 3); err != nil || len(b) != 300<<10+2 {
		t.Errorf("Bytes %d %v", len(b), err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Error("second Close:", err)
	}
}

// fuzzFile assembles a file from its three parts: prefix (header,
// descriptors, metadata: or a whole file when page is empty), one page of
// data padded to 2 MiB at the next 2 MiB boundary, then table. This lets
// small fuzz inputs describe files with pages, which are at least 2 MiB.
func fuzzFile(prefix, page, table []byte) []byte {
	if len(page) == 0 {
		return append(bytes.Clone(prefix), table...)
	}
	start := roundUp(len(prefix), MinPageSize)
	b := make([]byte, start+roundUp(len(page), MinPageSize), start+roundUp(len(page), MinPageSize)+len(table))
	copy(b, prefix)
	copy(b[start:], page)
	return append(b, table...)
}

// FuzzReader opens arbitrary files (see fuzzFile) and reads every sample of
// whatever opens. Seeds: valid files with and without pages, and their
// corruptions.
func FuzzReader(f *testing.F) {
	m := &memFile{}
	w, _ := NewWriter(m, cifarFields, 5, MinPageSize)
	writeGoldenSamples(f, w)
	if err := w.Close(); err != nil {
		f.Fatal(err)
	}
	metaEnd, table := 24+2*1041+5*24, len(m.b)-5*24
	if !bytes.Equal(fuzzFile(m.b[:metaEnd], m.b[MinPageSize:MinPageSize+5*3072], m.b[table:]), m.b) {
		f.Fatal("fuzzFile does not rebuild the seed")
	}
	f.Add(m.b[:metaEnd], m.b[MinPageSize:MinPageSize+5*3072], m.b[table:])
	for _, b := range corruptions(m.b) {
		if len(b) < metaEnd || len(b) < 120 {
			f.Add(b, []byte{}, []byte{})
			continue
		}
		f.Add(b[:metaEnd], m.b[MinPageSize:MinPageSize+5*3072], b[len(b)-120:])
	}
	// Every field type, one small page.
	fields := []Field{{"id", FieldInt}, {"img", FieldImage}, {"x", FieldFloat}, {"blob", FieldBytes}, {"meta", FieldJSON}}
	mixed := &memFile{}
	w, _ = NewWriter(mixed, fields, 3, MinPageSize)
	for i := range 3 {
		w.Append([]Value{IntValue(int64(i)), ImageValue(ImageJPEG, 2, 2, []byte{0xFF, 0xD8, byte(i)}), FloatValue(1.5), BytesValue([]byte("abc")[:i+1]), JSONValue([]byte(`[1]`))})
	}
	if err := w.Close(); err != nil {
		f.Fatal(err)
	}
	_, itemsize, _ := recordLayout(fields)
	mixedMeta := 24 + 5*1041 + 3*itemsize
	mixedTable := len(mixed.b) - 3*3*24
	used := 3*3 + (1 + 2 + 3) + 3*4 // images, blobs, JSON texts with their NULs
	if !bytes.Equal(fuzzFile(mixed.b[:mixedMeta], mixed.b[MinPageSize:MinPageSize+used], mixed.b[mixedTable:]), mixed.b) {
		f.Fatal("fuzzFile does not rebuild the mixed seed")
	}
	f.Add(mixed.b[:mixedMeta], mixed.b[MinPageSize:MinPageSize+used], mixed.b[mixedTable:])
	small := &memFile{}
	w, _ = NewWriter(small, []Field{{"a", FieldInt}, {"b", FieldFloat}, {"c", FieldInt}}, 2, MinPageSize)
	w.Append([]Value{IntValue(1), FloatValue(2), IntValue(3)})
	w.Append([]Value{IntValue(4), FloatValue(5), IntValue(6)})
	w.Close()
	f.Add(small.b, []byte{}, []byte{})
	f.Fuzz(func(t *testing.T, prefix, page, table []byte) {
		r, err := parse("fuzz", fuzzFile(prefix, page, table))
		if err != nil {
			return
		}
		for s := range r.NumSamples() {
			r.SamplePage(s)
			for i, fd := range r.Fields() {
				switch fd.Type {
				case FieldInt:
					_, err = r.Int(s, i)
				case FieldFloat:
					_, err = r.Float(s, i)
				case FieldImage:
					_, err = r.Image(s, i)
				case FieldBytes, FieldJSON:
					_, err = r.Bytes(s, i)
				}
				if err != nil {
					t.Fatalf("sample %d field %d of a file that opened: %v", s, i, err)
				}
			}
		}
	})
}
