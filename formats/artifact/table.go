package artifact

import (
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Tables
//
// A table is an Arrow IPC *file* (the "Feather v2" format: magic "ARROW1",
// schema, record batches, footer) holding the rows of a Go slice of structs.
// Each exported struct field is one column, named by its `arrow:"name"` tag
// (the field name when untagged; `arrow:"-"` skips the field). Column types:
//
//	Go               Arrow
//	int, int64       int64
//	int32            int32
//	float32          float32 (float)
//	float64          float64 (double)
//	string           utf8
//	bool             bool
//
// Columns are never null. Tables are written uncompressed unless WithZstd is
// given, so that every Arrow implementation (pyarrow, polars, Arrow JS) reads
// them.

// TableOption changes how WriteTable encodes a table.
type TableOption func(*tableConfig)

type tableConfig struct{ zstd bool }

// WithZstd compresses the table's buffers with zstd (smaller files for large
// tables; Arrow JS cannot read them).
func WithZstd() TableOption { return func(c *tableConfig) { c.zstd = true } }

// column maps one struct field to one Arrow column.
type column struct {
	name  string
	field int // index into the struct's fields
	kind  reflect.Kind
	typ   arrow.DataType
}

// structColumns derives the columns of struct type t.
func structColumns(t reflect.Type) ([]column, error) {
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("rows must be structs, got %s", t)
	}
	var cols []column
	seen := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name := f.Name
		if tag, ok := f.Tag.Lookup("arrow"); ok {
			if tag == "-" {
				continue
			}
			if tag != "" {
				name = tag
			}
		}
		if seen[name] {
			return nil, fmt.Errorf("struct %s: column %q appears twice", t, name)
		}
		seen[name] = true
		var dt arrow.DataType
		switch f.Type.Kind() {
		case reflect.Int, reflect.Int64:
			dt = arrow.PrimitiveTypes.Int64
		case reflect.Int32:
			dt = arrow.PrimitiveTypes.Int32
		case reflect.Float32:
			dt = arrow.PrimitiveTypes.Float32
		case reflect.Float64:
			dt = arrow.PrimitiveTypes.Float64
		case reflect.String:
			dt = arrow.BinaryTypes.String
		case reflect.Bool:
			dt = arrow.FixedWidthTypes.Boolean
		default:
			return nil, fmt.Errorf("struct %s field %s: type %s has no Arrow column type", t, f.Name, f.Type)
		}
		cols = append(cols, column{name: name, field: i, kind: f.Type.Kind(), typ: dt})
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("struct %s has no columns", t)
	}
	return cols, nil
}

// TableSchema returns the Arrow schema WriteTable uses for rows of type T.
func TableSchema[T any]() (*arrow.Schema, error) {
	cols, err := structColumns(reflect.TypeFor[T]())
	if err != nil {
		return nil, err
	}
	return schemaOf(cols), nil
}

func schemaOf(cols []column) *arrow.Schema {
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: c.name, Type: c.typ}
	}
	return arrow.NewSchema(fields, nil)
}

// WriteTable writes rows, a slice of structs (or a pointer to one), to path
// as an Arrow IPC file with one record batch, atomically (see WriteFile).
func WriteTable(path string, rows any, opts ...TableOption) error {
	v := reflect.ValueOf(rows)
	if v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	if v.Kind() != reflect.Slice {
		return fmt.Errorf("artifact table %s: rows must be a slice of structs, got %T", path, rows)
	}
	cols, err := structColumns(v.Type().Elem())
	if err != nil {
		return fmt.Errorf("artifact table %s: %w", path, err)
	}
	var cfg tableConfig
	for _, o := range opts {
		o(&cfg)
	}
	rec := buildRecord(cols, v)
	defer rec.Release()
	return WriteFile(path, func(w io.Writer) error {
		wopts := []ipc.Option{ipc.WithSchema(rec.Schema()), ipc.WithAllocator(memory.DefaultAllocator)}
		if cfg.zstd {
			wopts = append(wopts, ipc.WithZstd())
		}
		fw, err := ipc.NewFileWriter(w, wopts...)
		if err != nil {
			return err
		}
		if err := fw.Write(rec); err != nil {
			fw.Close()
			return err
		}
		return fw.Close()
	})
}

func buildRecord(cols []column, v reflect.Value) arrow.RecordBatch {
	mem := memory.DefaultAllocator
	n := v.Len()
	arrs := make([]arrow.Array, len(cols))
	for j, c := range cols {
		field := func(i int) reflect.Value { return v.Index(i).Field(c.field) }
		switch c.typ.ID() {
		case arrow.INT64:
			arrs[j] = buildColumn(array.NewInt64Builder(mem), n, func(i int) int64 { return field(i).Int() })
		case arrow.INT32:
			arrs[j] = buildColumn(array.NewInt32Builder(mem), n, func(i int) int32 { return int32(field(i).Int()) })
		case arrow.FLOAT32:
			arrs[j] = buildColumn(array.NewFloat32Builder(mem), n, func(i int) float32 { return float32(field(i).Float()) })
		case arrow.FLOAT64:
			arrs[j] = buildColumn(array.NewFloat64Builder(mem), n, func(i int) float64 { return field(i).Float() })
		case arrow.STRING:
			arrs[j] = buildColumn(array.NewStringBuilder(mem), n, func(i int) string { return field(i).String() })
		case arrow.BOOL:
			arrs[j] = buildColumn(array.NewBooleanBuilder(mem), n, func(i int) bool { return field(i).Bool() })
		}
	}
	rec := array.NewRecordBatch(schemaOf(cols), arrs, int64(n))
	for _, a := range arrs {
		a.Release()
	}
	return rec
}

// buildColumn builds an array of n values, value(i) the i-th.
func buildColumn[T any, B interface {
	Reserve(int)
	Append(T)
	NewArray() arrow.Array
	Release()
}](b B, n int, value func(i int) T) arrow.Array {
	defer b.Release()
	b.Reserve(n)
	for i := range n {
		b.Append(value(i))
	}
	return b.NewArray()
}

// ReadTable reads the Arrow IPC file at path into rowsPtr, a pointer to a
// slice of structs, replacing its contents. Every column of the struct must be
// present in the file with its type (int columns accept int32 or int64, since
// pyarrow and polars may narrow them); extra columns in the file are ignored.
// Null values are an error. A file that cannot be opened is an error wrapping
// the os error (errors.Is(err, os.ErrNotExist) for a missing one); a file that
// is not such a table is a *FormatError naming the file and, where one
// applies, the byte offset, column and row. Every length in the file's
// metadata is checked before anything is allocated from it (see
// checkIPCFile), so a corrupt file is an error, never a crash.
func ReadTable(path string, rowsPtr any) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("artifact table: %w", err)
	}
	defer f.Close()
	return ReadTableFrom(f, path, rowsPtr)
}

// ReadTableFrom is ReadTable over an open file (or any ReadAtSeeker); name is
// used in errors only.
func ReadTableFrom(r ipc.ReadAtSeeker, name string, rowsPtr any) error {
	err := readTable(r, rowsPtr)
	if fe, ok := err.(*FormatError); ok {
		fe.File = name
		return fe
	}
	if err != nil {
		return fmt.Errorf("artifact table %s: %w", name, err)
	}
	return nil
}

// readTable returns problems with the file as *FormatError without File.
func readTable(r ipc.ReadAtSeeker, rowsPtr any) (err error) {
	pv := reflect.ValueOf(rowsPtr)
	if pv.Kind() != reflect.Pointer || pv.IsNil() || pv.Elem().Kind() != reflect.Slice {
		return fmt.Errorf("destination must be a pointer to a slice of structs, got %T", rowsPtr)
	}
	sv := pv.Elem()
	cols, err := structColumns(sv.Type().Elem())
	if err != nil {
		return err
	}
	if err := checkIPCFile(r); err != nil {
		return err
	}
	defer func() {
		// A safety net: arrow-go may still panic on a corrupt buffer that
		// checkIPCFile does not interpret.
		if p := recover(); p != nil {
			err = formatErrorf(-1, "not a valid Arrow IPC file: %v", p)
		}
	}()
	fr, err := ipc.NewFileReader(r, ipc.WithAllocator(memory.DefaultAllocator))
	if err != nil {
		return formatErrorf(-1, "not a valid Arrow IPC file: %v", err)
	}
	defer fr.Close()
	schema := fr.Schema()
	pos := make([]int, len(cols))
	for j, c := range cols {
		idx := schema.FieldIndices(c.name)
		if len(idx) == 0 {
			return formatErrorf(-1, "column %q missing", c.name)
		}
		if len(idx) > 1 {
			return formatErrorf(-1, "column %q appears %d times", c.name, len(idx))
		}
		got := schema.Field(idx[0]).Type
		if !compatible(c, got) {
			return formatErrorf(-1, "column %q has type %s, want %s", c.name, got, c.typ)
		}
		pos[j] = idx[0]
	}
	out := reflect.MakeSlice(sv.Type(), 0, 0)
	for b := 0; b < fr.NumRecords(); b++ {
		rec, err := fr.RecordBatchAt(b)
		if err != nil {
			return formatErrorf(-1, "record batch %d: %v", b, err)
		}
		out, err = appendRecord(out, rec, b, cols, pos)
		rec.Release()
		if err != nil {
			return err
		}
	}
	sv.Set(out)
	return nil
}

// appendRecord appends the rows of record batch b to out: column cols[j] is
// the record's column pos[j].
func appendRecord(out reflect.Value, rec arrow.RecordBatch, b int, cols []column, pos []int) (reflect.Value, error) {
	if err := array.ValidateRecordFull(rec); err != nil {
		return out, formatErrorf(-1, "record batch %d: %v", b, err)
	}
	n := int(rec.NumRows())
	base := out.Len()
	for j, c := range cols {
		arr := rec.Column(pos[j])
		if arr.Len() != n {
			return out, formatErrorf(-1, "record batch %d column %q: %d values for %d rows", b, c.name, arr.Len(), n)
		}
		if arr.NullN() > 0 {
			for i := 0; i < n; i++ {
				if arr.IsNull(i) {
					return out, formatErrorf(-1, "column %q row %d is null", c.name, base+i)
				}
			}
		}
	}
	out = reflect.AppendSlice(out, reflect.MakeSlice(out.Type(), n, n))
	for j, c := range cols {
		arr := rec.Column(pos[j])
		for i := 0; i < n; i++ {
			fv := out.Index(base + i).Field(c.field)
			switch a := arr.(type) {
			case *array.Int64:
				fv.SetInt(a.Value(i))
			case *array.Int32:
				fv.SetInt(int64(a.Value(i)))
			case *array.Float32:
				fv.SetFloat(float64(a.Value(i)))
			case *array.Float64:
				fv.SetFloat(a.Value(i))
			case *array.String:
				fv.SetString(a.Value(i))
			case *array.Boolean:
				fv.SetBool(a.Value(i))
			default:
				return out, formatErrorf(-1, "column %q: unsupported array %T", c.name, arr)
			}
		}
	}
	return out, nil
}

// compatible reports whether a file column of type got can fill column c.
func compatible(c column, got arrow.DataType) bool {
	switch c.kind {
	case reflect.Int, reflect.Int64:
		return got.ID() == arrow.INT64 || got.ID() == arrow.INT32
	default:
		return arrow.TypeEqual(got, c.typ)
	}
}

// Appender accumulates the rows of a table that grows during a run (a log,
// a list of measurements) and rewrites the whole file atomically on every
// Append, so the file on disk is always a complete, valid table. It suits
// tables of up to some tens of thousands of rows.
type Appender[T any] struct {
	path string
	rows []T
	opts []TableOption
}

// OpenAppender starts an Appender for path. If path exists its rows are
// loaded first (so a resumed job keeps appending to its earlier rows); a
// missing file starts an empty table.
func OpenAppender[T any](path string, opts ...TableOption) (*Appender[T], error) {
	a := &Appender[T]{path: path, opts: opts}
	if _, err := structColumns(reflect.TypeFor[T]()); err != nil {
		return nil, fmt.Errorf("artifact table %s: %w", path, err)
	}
	err := ReadTable(path, &a.rows)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return a, nil
}

// Append adds rows and rewrites the file.
func (a *Appender[T]) Append(rows ...T) error {
	a.rows = append(a.rows, rows...)
	if err := WriteTable(a.path, a.rows, a.opts...); err != nil {
		a.rows = a.rows[:len(a.rows)-len(rows)]
		return err
	}
	return nil
}

// Truncate keeps the first n rows and rewrites the file (used when a resumed
// job drops rows written after its last saved state).
func (a *Appender[T]) Truncate(n int) error {
	if n < 0 || n > len(a.rows) {
		return fmt.Errorf("artifact table %s: truncate to %d of %d rows", a.path, n, len(a.rows))
	}
	a.rows = a.rows[:n]
	return WriteTable(a.path, a.rows, a.opts...)
}

// Rows returns the rows so far; callers must not modify them.
func (a *Appender[T]) Rows() []T { return a.rows }

// Len is the number of rows so far.
func (a *Appender[T]) Len() int { return len(a.rows) }

// Path is the table's file.
func (a *Appender[T]) Path() string { return a.path }
