package artifact

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

type testRow struct {
	Member int     `arrow:"member"`
	Edge   int32   `arrow:"edge"`
	Big    int64   `arrow:"big"`
	Acc    float64 `arrow:"acc"`
	LR     float32 `arrow:"lr"`
	Phase  string  `arrow:"phase"`
	Kept   bool    `arrow:"kept"`
	Note   string  `arrow:"-"`
	hidden int
}

func sampleRows() []testRow {
	return []testRow{
		{Member: 0, Edge: 13, Big: math.MaxInt64, Acc: 0.5, LR: 0.2176, Phase: "expand", Kept: true},
		{Member: -3, Edge: -1, Big: math.MinInt64, Acc: -1e-300, LR: float32(math.Inf(1)), Phase: "", Kept: false},
		{Member: 7, Edge: 0, Big: 0, Acc: math.MaxFloat64, LR: 0.001, Phase: "fine ü", Kept: true},
	}
}

func TestTableRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.arrow")
	rows := sampleRows()
	rows[0].Note, rows[0].hidden = "dropped", 9
	if err := WriteTable(path, rows); err != nil {
		t.Fatal(err)
	}
	var got []testRow
	if err := ReadTable(path, &got); err != nil {
		t.Fatal(err)
	}
	want := sampleRows()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
	}
	// pointer to slice and zstd work the same
	if err := WriteTable(path, &rows, WithZstd()); err != nil {
		t.Fatal(err)
	}
	got = nil
	if err := ReadTable(path, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("zstd round trip: got %+v", got)
	}
}

func TestTableEmpty(t *testing.T) {
	path := filepath.Join(t.TempDir(), "e.arrow")
	if err := WriteTable(path, []testRow{}); err != nil {
		t.Fatal(err)
	}
	got := []testRow{{Member: 1}}
	if err := ReadTable(path, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("got %d rows from an empty table", len(got))
	}
}

// TestTableIsArrowIPC reads the file with arrow-go's own ipc.FileReader and
// checks the magic bytes, the schema and every value.
func TestTableIsArrowIPC(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.arrow")
	rows := sampleRows()
	if err := WriteTable(path, rows); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(raw, []byte("ARROW1")) || !bytes.HasSuffix(raw, []byte("ARROW1")) {
		t.Fatalf("file lacks the Arrow IPC file magic")
	}
	fr, err := ipc.NewFileReader(bytes.NewReader(raw), ipc.WithAllocator(memory.DefaultAllocator))
	if err != nil {
		t.Fatal(err)
	}
	defer fr.Close()
	wantSchema := arrow.NewSchema([]arrow.Field{
		{Name: "member", Type: arrow.PrimitiveTypes.Int64},
		{Name: "edge", Type: arrow.PrimitiveTypes.Int32},
		{Name: "big", Type: arrow.PrimitiveTypes.Int64},
		{Name: "acc", Type: arrow.PrimitiveTypes.Float64},
		{Name: "lr", Type: arrow.PrimitiveTypes.Float32},
		{Name: "phase", Type: arrow.BinaryTypes.String},
		{Name: "kept", Type: arrow.FixedWidthTypes.Boolean},
	}, nil)
	if !fr.Schema().Equal(wantSchema) {
		t.Fatalf("schema\n got %s\nwant %s", fr.Schema(), wantSchema)
	}
	if s, err := TableSchema[testRow](); err != nil || !s.Equal(wantSchema) {
		t.Fatalf("TableSchema = %v, %v", s, err)
	}
	if fr.NumRecords() != 1 {
		t.Fatalf("%d record batches, want 1", fr.NumRecords())
	}
	rec, err := fr.RecordBatch(0)
	if err != nil {
		t.Fatal(err)
	}
	if rec.NumRows() != int64(len(rows)) {
		t.Fatalf("%d rows", rec.NumRows())
	}
	for i, r := range rows {
		if v := rec.Column(0).(*array.Int64).Value(i); v != int64(r.Member) {
			t.Errorf("row %d member %d", i, v)
		}
		if v := rec.Column(1).(*array.Int32).Value(i); v != r.Edge {
			t.Errorf("row %d edge %d", i, v)
		}
		if v := rec.Column(2).(*array.Int64).Value(i); v != r.Big {
			t.Errorf("row %d big %d", i, v)
		}
		if v := rec.Column(3).(*array.Float64).Value(i); v != r.Acc {
			t.Errorf("row %d acc %v", i, v)
		}
		if v := rec.Column(4).(*array.Float32).Value(i); v != r.LR {
			t.Errorf("row %d lr %v", i, v)
		}
		if v := rec.Column(5).(*array.String).Value(i); v != r.Phase {
			t.Errorf("row %d phase %q", i, v)
		}
		if v := rec.Column(6).(*array.Boolean).Value(i); v != r.Kept {
			t.Errorf("row %d kept %v", i, v)
		}
		for c := 0; c < 7; c++ {
			if rec.Column(c).IsNull(i) {
				t.Errorf("row %d column %d null", i, c)
			}
		}
	}
}

// TestReadTableForeign reads a table written directly with arrow-go: extra
// columns are ignored, int32 fills an int field, several batches concatenate.
func TestReadTableForeign(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "extra", Type: arrow.BinaryTypes.String},
		{Name: "member", Type: arrow.PrimitiveTypes.Int32},
		{Name: "acc", Type: arrow.PrimitiveTypes.Float64},
	}, nil)
	var buf bytes.Buffer
	fw, err := ipc.NewFileWriter(&buf, ipc.WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	for b := 0; b < 2; b++ {
		rb := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		rb.Field(0).(*array.StringBuilder).AppendValues([]string{"x", "y"}, nil)
		rb.Field(1).(*array.Int32Builder).AppendValues([]int32{int32(10 * b), int32(10*b + 1)}, nil)
		rb.Field(2).(*array.Float64Builder).AppendValues([]float64{0.25, 0.5}, nil)
		rec := rb.NewRecordBatch()
		if err := fw.Write(rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
		rb.Release()
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	type row struct {
		Member int     `arrow:"member"`
		Acc    float64 `arrow:"acc"`
	}
	var got []row
	if err := ReadTableFrom(bytes.NewReader(buf.Bytes()), "mem", &got); err != nil {
		t.Fatal(err)
	}
	want := []row{{0, 0.25}, {1, 0.5}, {10, 0.25}, {11, 0.5}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v want %+v", got, want)
	}
}

func TestReadTableErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.arrow")
	if err := WriteTable(path, sampleRows()); err != nil {
		t.Fatal(err)
	}
	type missing struct {
		Member int `arrow:"member"`
		Nope   int `arrow:"nope"`
	}
	var m []missing
	if err := ReadTable(path, &m); err == nil || !strings.Contains(err.Error(), `"nope" missing`) || !strings.Contains(err.Error(), path) {
		t.Errorf("missing column: %v", err)
	}
	type wrongType struct {
		Phase int `arrow:"phase"`
	}
	var w []wrongType
	if err := ReadTable(path, &w); err == nil || !strings.Contains(err.Error(), `"phase" has type utf8`) {
		t.Errorf("wrong type: %v", err)
	}
	var notPtr []testRow
	if err := ReadTable(path, notPtr); err == nil {
		t.Errorf("non-pointer destination accepted")
	}
	if err := WriteTable(path, 3); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("non-slice rows: %v", err)
	}
	type bad struct {
		M map[string]int `arrow:"m"`
	}
	if err := WriteTable(path, []bad{{}}); err == nil || !strings.Contains(err.Error(), "no Arrow column type") {
		t.Errorf("unsupported field: %v", err)
	}
	garbage := filepath.Join(dir, "g.arrow")
	os.WriteFile(garbage, []byte("ARROW1\x00\x00not really"), 0o644)
	var r []testRow
	if err := ReadTable(garbage, &r); err == nil || !strings.Contains(err.Error(), garbage) {
		t.Errorf("garbage: %v", err)
	}
	if err := ReadTable(filepath.Join(dir, "absent.arrow"), &r); err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("absent: %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok || u.Unwrap() == nil {
			return err
		}
		err = u.Unwrap()
	}
}

func TestAppender(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.arrow")
	a, err := OpenAppender[testRow](path)
	if err != nil {
		t.Fatal(err)
	}
	rows := sampleRows()
	if err := a.Append(rows[0]); err != nil {
		t.Fatal(err)
	}
	if err := a.Append(rows[1], rows[2]); err != nil {
		t.Fatal(err)
	}
	var got []testRow
	if err := ReadTable(path, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rows) {
		t.Fatalf("appended table %+v", got)
	}
	// reopening continues from the rows on disk
	b, err := OpenAppender[testRow](path)
	if err != nil {
		t.Fatal(err)
	}
	if b.Len() != 3 || !reflect.DeepEqual(b.Rows(), rows) {
		t.Fatalf("reopened appender holds %+v", b.Rows())
	}
	if err := b.Truncate(1); err != nil {
		t.Fatal(err)
	}
	if err := b.Append(rows[2]); err != nil {
		t.Fatal(err)
	}
	got = nil
	if err := ReadTable(path, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []testRow{rows[0], rows[2]}) {
		t.Fatalf("after truncate+append %+v", got)
	}
	if err := b.Truncate(5); err == nil {
		t.Errorf("truncate past the end accepted")
	}
	// no temporary files left behind
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Errorf("folder holds %d entries, want 1", len(ents))
	}
}

func FuzzReadTable(f *testing.F) {
	path := filepath.Join(f.TempDir(), "seed.arrow")
	if err := WriteTable(path, sampleRows()); err != nil {
		f.Fatal(err)
	}
	seed, _ := os.ReadFile(path)
	f.Add(seed)
	if err := WriteTable(path, sampleRows(), WithZstd()); err != nil {
		f.Fatal(err)
	}
	seed, _ = os.ReadFile(path)
	f.Add(seed)
	f.Add([]byte("ARROW1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Must not panic nor crash; a file refused is a *FormatError.
		var rows []testRow
		err := ReadTableFrom(bytes.NewReader(data), "fuzz", &rows)
		if _, ok := err.(*FormatError); err != nil && !ok {
			t.Fatalf("%T is not a *FormatError: %v", err, err)
		}
	})
}
