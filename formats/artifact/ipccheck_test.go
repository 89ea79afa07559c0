package artifact

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// sampleTable returns the bytes of sampleRows written as a table.
func sampleTable(t testing.TB, opts ...TableOption) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.arrow")
	if err := WriteTable(path, sampleRows(), opts...); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readBytes reads data as a table named "x.arrow" and checks that an error is
// a *FormatError naming the file.
func readBytes(t *testing.T, data []byte) error {
	t.Helper()
	var rows []testRow
	err := ReadTableFrom(bytes.NewReader(data), "x.arrow", &rows)
	var fe *FormatError
	if err != nil && (!errors.As(err, &fe) || fe.File != "x.arrow" || !strings.Contains(err.Error(), "x.arrow")) {
		t.Fatalf("error is not a FormatError naming the file: %#v", err)
	}
	return err
}

func TestCheckIPCFileAcceptsTables(t *testing.T) {
	for name, b := range map[string][]byte{"plain": sampleTable(t), "zstd": sampleTable(t, WithZstd())} {
		if err := checkIPCFile(bytes.NewReader(b)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestReadTableHugeLengths writes 0x7fffffff (a huge flatbuffer vector or
// string length, offset or size) at every position of a table: each read
// must end in a FormatError or in the rows, never in a panic or an
// allocation that kills the process.
func TestReadTableHugeLengths(t *testing.T) {
	for name, orig := range map[string][]byte{"plain": sampleTable(t), "zstd": sampleTable(t, WithZstd())} {
		bad := 0
		for i := 0; i+4 <= len(orig); i++ {
			b := bytes.Clone(orig)
			binary.LittleEndian.PutUint32(b[i:], 0x7fffffff)
			if readBytes(t, b) != nil {
				bad++
			}
		}
		if bad == 0 {
			t.Errorf("%s: no mutation refused", name)
		}
	}
}

func TestReadTableTruncated(t *testing.T) {
	orig := sampleTable(t)
	for n := range len(orig) {
		if err := readBytes(t, orig[:n]); err == nil {
			t.Fatalf("table cut to %d of %d bytes accepted", n, len(orig))
		}
	}
}

// firstRecordBatch returns the RecordBatch table of b's only record batch
// message, which b's footer locates.
func firstRecordBatch(t *testing.T, b []byte) table {
	t.Helper()
	footerLen := int(binary.LittleEndian.Uint32(b[len(b)-10:]))
	footerStart := len(b) - 10 - footerLen
	c := &checker{r: bytes.NewReader(b)}
	ft, err := c.root(b[footerStart:len(b)-10], int64(footerStart), &footerSpec)
	if err != nil {
		t.Fatal(err)
	}
	start, n := ft.vector(3)
	if n != 1 {
		t.Fatalf("%d record batches", n)
	}
	off := int(binary.LittleEndian.Uint64(ft.b[start:]))
	m, err := c.root(b[off+8:], int64(off+8), &messageSpec)
	if err != nil {
		t.Fatal(err)
	}
	return m.table(2)
}

func TestReadTableErrorsNameTheOffset(t *testing.T) {
	orig := sampleTable(t, WithZstd())
	rb := firstRecordBatch(t, orig)
	bodyStart := func() int { // the body follows the message's metadata
		footerLen := int(binary.LittleEndian.Uint32(orig[len(orig)-10:]))
		ft, _ := (&checker{}).root(orig[len(orig)-10-footerLen:len(orig)-10], 0, &footerSpec)
		start, _ := ft.vector(3)
		off := binary.LittleEndian.Uint64(ft.b[start:])
		meta := binary.LittleEndian.Uint32(ft.b[start+8:])
		return int(off) + int(meta)
	}()
	start, n := rb.vector(2)
	cases := []struct {
		name  string
		patch func(b []byte) int // returns the offset the error must name
		want  string
	}{
		{"buffer beyond the body", func(b []byte) int {
			p := int(rb.base) + start + 16*(n-1)
			binary.LittleEndian.PutUint64(b[p:], 1<<40)
			return p
		}, "lies outside"},
		{"decompressed size too large", func(b []byte) int {
			// the second buffer of the first column (its values)
			p := int(rb.base) + start + 16
			off := int(binary.LittleEndian.Uint64(b[p:]))
			binary.LittleEndian.PutUint64(b[bodyStart+off:], 377<<30)
			return bodyStart + off
		}, "declares"},
		{"decompressed size wrong", func(b []byte) int {
			p := int(rb.base) + start + 16
			off := int(binary.LittleEndian.Uint64(b[p:]))
			binary.LittleEndian.PutUint64(b[bodyStart+off:], 4096)
			return bodyStart + off
		}, "decompresses to"},
		{"negative row count", func(b []byte) int {
			p := rb.field(0)
			binary.LittleEndian.PutUint64(b[int(rb.base)+p:], 1<<63)
			return int(rb.base) + p
		}, "rows"},
	}
	for _, c := range cases {
		b := bytes.Clone(orig)
		at := c.patch(b)
		err := readBytes(t, b)
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "offset "+strconv.Itoa(at)+":") {
			t.Errorf("%s: %v, want %q at offset %d", c.name, err, c.want, at)
		}
	}
}

// TestReadTableFuzzCrashers reads every committed FuzzReadTable input that
// crashed an earlier reader: each is refused with a FormatError naming the
// file, offset included.
func TestReadTableFuzzCrashers(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzReadTable", "*"))
	if len(files) == 0 {
		t.Fatal("no FuzzReadTable regression inputs in testdata/fuzz")
	}
	for _, f := range files {
		data := fuzzInput(t, f)
		path := filepath.Join(t.TempDir(), "crasher.arrow")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var rows []testRow
		err := ReadTable(path, &rows)
		var fe *FormatError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), path) || fe.Offset < 0 {
			t.Errorf("%s: %v, want a FormatError naming %s and an offset", f, err, path)
		}
		t.Logf("%s: %v", filepath.Base(f), err)
		// The same bytes with the leading magic made right (arrow-go never
		// looks at it) are still refused, by the metadata checks.
		if len(data) > 6 {
			fixed := append([]byte("ARROW1"), data[6:]...)
			err := readBytes(t, fixed)
			if err == nil {
				t.Errorf("%s with ARROW1 at the start: accepted", f)
			}
			t.Logf("%s with ARROW1 at the start: %v", filepath.Base(f), err)
		}
	}
}

// fuzzInput decodes a go test fuzz v1 file holding one []byte.
func fuzzInput(t *testing.T, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 || lines[0] != "go test fuzz v1" || !strings.HasPrefix(lines[1], "[]byte(") {
		t.Fatalf("%s: not a go test fuzz v1 file with one []byte", file)
	}
	s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return []byte(s)
}

// TestCheckIPCFileAcceptsArrowGoFeatures: files using what the checker
// interprets beyond this package's own tables — nested, dictionary,
// timestamp (time zone string), union (type ids vector) and view columns,
// schema metadata, several batches, LZ4 and zstd buffers — pass the check
// and read.
func TestCheckIPCFileAcceptsArrowGoFeatures(t *testing.T) {
	mem := memory.DefaultAllocator
	dictType := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}
	unionType := arrow.SparseUnionOf([]arrow.Field{{Name: "i", Type: arrow.PrimitiveTypes.Int32}}, []arrow.UnionTypeCode{5})
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "member", Type: arrow.PrimitiveTypes.Int64},
		{Name: "s", Type: arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Float64, Nullable: true})},
		{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32)},
		{Name: "d", Type: dictType},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "Europe/Paris"}},
		{Name: "u", Type: unionType},
		{Name: "v", Type: arrow.BinaryTypes.StringView},
	}, func() *arrow.Metadata { m := arrow.NewMetadata([]string{"k"}, []string{"v"}); return &m }())
	for name, opts := range map[string][]ipc.Option{"plain": nil, "lz4": {ipc.WithLZ4()}, "zstd": {ipc.WithZstd()}} {
		var buf bytes.Buffer
		fw, err := ipc.NewFileWriter(&buf, append(opts, ipc.WithSchema(schema), ipc.WithAllocator(mem))...)
		if err != nil {
			t.Fatal(err)
		}
		for b := range 2 {
			rb := array.NewRecordBuilder(mem, schema)
			rb.Field(0).(*array.Int64Builder).AppendValues([]int64{int64(b), int64(b + 1)}, nil)
			sb := rb.Field(1).(*array.StructBuilder)
			for range 2 {
				sb.Append(true)
				sb.FieldBuilder(0).(*array.Float64Builder).AppendNull()
			}
			lb := rb.Field(2).(*array.ListBuilder)
			for range 2 {
				lb.Append(true)
				lb.ValueBuilder().(*array.Int32Builder).AppendValues([]int32{1, 2, 3}, nil)
			}
			db := rb.Field(3).(*array.BinaryDictionaryBuilder)
			db.AppendString("a")
			db.AppendString("b")
			rb.Field(4).(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{1, 2}, nil)
			ub := rb.Field(5).(*array.SparseUnionBuilder)
			for range 2 {
				ub.Append(5)
				ub.Child(0).(*array.Int32Builder).Append(7)
			}
			rb.Field(6).(*array.StringViewBuilder).AppendValues([]string{"short", "a string longer than twelve bytes"}, nil)
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
		if err := checkIPCFile(bytes.NewReader(buf.Bytes())); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		type row struct {
			Member int `arrow:"member"`
		}
		var got []row
		if err := ReadTableFrom(bytes.NewReader(buf.Bytes()), "features", &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != 4 || got[3].Member != 2 {
			t.Fatalf("got %+v", got)
		}
	}
}

// TestReadTableOverlappingBlocks: a footer naming the same record batch
// twice is refused (many such entries would make every reader read the same
// bytes again and again).
func TestReadTableOverlappingBlocks(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "member", Type: arrow.PrimitiveTypes.Int64}}, nil)
	var buf bytes.Buffer
	fw, err := ipc.NewFileWriter(&buf, ipc.WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	for b := range 2 {
		rb := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		rb.Field(0).(*array.Int64Builder).Append(int64(b))
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
	b := buf.Bytes()
	footerLen := int(binary.LittleEndian.Uint32(b[len(b)-10:]))
	footerStart := len(b) - 10 - footerLen
	ft, err := (&checker{}).root(b[footerStart:len(b)-10], int64(footerStart), &footerSpec)
	if err != nil {
		t.Fatal(err)
	}
	start, n := ft.vector(3)
	if n != 2 {
		t.Fatalf("%d blocks", n)
	}
	copy(b[footerStart+start+24:], b[footerStart+start:footerStart+start+24])
	if err := readBytes(t, b); err == nil || !strings.Contains(err.Error(), "overlap") {
		t.Fatalf("block named twice: %v", err)
	}
}
