package beton

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
)

// Value is one field's value in a sample passed to Writer.Append. Set the
// member that matches the field's type: Int, Float, Image (RGB image fields)
// or Bytes (bytes fields, and JSON text for json fields). Build them with
// IntValue, FloatValue, ImageValue, BytesValue and JSONValue.
type Value struct {
	Int   int64
	Float float64
	Image Image
	Bytes []byte
}

// IntValue is the value of an int field.
func IntValue(v int64) Value { return Value{Int: v} }

// FloatValue is the value of a float field.
func FloatValue(v float64) Value { return Value{Float: v} }

// ImageValue is the value of an RGB image field: raw RGB HWC pixels
// (len(data) == width*height*3) or the bytes of a baseline JPEG file.
func ImageValue(mode ImageMode, width, height int, data []byte) Value {
	return Value{Image: Image{Mode: mode, Width: width, Height: height, Data: data}}
}

// BytesValue is the value of a bytes field; it must not be empty.
func BytesValue(b []byte) Value { return Value{Bytes: b} }

// JSONValue is the value of a json field: one JSON text, stored with the NUL
// terminator FFCV's JSONField appends.
func JSONValue(text []byte) Value { return Value{Bytes: text} }

// Writer writes a .beton file with a number of samples fixed in advance,
// samples in order, streaming: each data page is written with one WriteAt as
// soon as it is full; the header, descriptors and metadata are written by
// Close. The output is a pure function of the fields, the page size and the
// samples: the same bytes as FFCV's writer with one worker.
type Writer struct {
	w          io.WriterAt
	fields     []Field
	offsets    []int
	itemsize   int
	numSamples int
	pageSize   int
	dataStart  int64

	meta     []byte // numSamples records
	table    []byte // allocation table entries, in sample order
	page     []byte // the page being filled
	pageUsed int
	pages    int // pages begun so far (the current one included)
	n        int // samples appended
	sizes    []int
	err      error
}

// NewWriter returns a Writer of numSamples samples with the given fields and
// page size (a power of two, at least MinPageSize) to w, which should be
// empty (an *os.File just created, for example). Field names are ASCII of at
// most 16 bytes and unique; types are FieldFloat, FieldInt, FieldImage,
// FieldBytes or FieldJSON.
func NewWriter(w io.WriterAt, fields []Field, numSamples, pageSize int) (*Writer, error) {
	if len(fields) == 0 || len(fields) > math.MaxUint16 {
		return nil, fmt.Errorf("beton writer: %d fields, want 1 to %d", len(fields), math.MaxUint16)
	}
	seen := map[string]bool{}
	for i, f := range fields {
		if len(f.Name) == 0 || len(f.Name) > nameSize {
			return nil, fmt.Errorf("beton writer: field %d name %q: want 1 to %d bytes", i, f.Name, nameSize)
		}
		for _, c := range []byte(f.Name) {
			if c < 0x20 || c > 0x7e {
				return nil, fmt.Errorf("beton writer: field %d name %q is not printable ASCII", i, f.Name)
			}
		}
		if seen[f.Name] {
			return nil, fmt.Errorf("beton writer: field name %q used twice", f.Name)
		}
		seen[f.Name] = true
		switch f.Type {
		case FieldFloat, FieldInt, FieldImage, FieldBytes, FieldJSON:
		default:
			return nil, fmt.Errorf("beton writer: field %q: cannot write type %v", f.Name, f.Type)
		}
	}
	if !validPageSize(uint64(pageSize)) {
		return nil, fmt.Errorf("beton writer: page size %d is not a power of two of at least %d", pageSize, MinPageSize)
	}
	offsets, itemsize, err := recordLayout(fields)
	if err != nil {
		return nil, fmt.Errorf("beton writer: %w", err)
	}
	if numSamples < 0 || numSamples > math.MaxInt32 {
		return nil, fmt.Errorf("beton writer: %d samples, want 0 to %d", numSamples, math.MaxInt32)
	}
	metaEnd := headerSize + len(fields)*descriptorSize + numSamples*itemsize
	return &Writer{
		w:          w,
		fields:     append([]Field(nil), fields...),
		offsets:    offsets,
		itemsize:   itemsize,
		numSamples: numSamples,
		pageSize:   pageSize,
		dataStart:  int64(roundUp(metaEnd, pageSize)),
		meta:       make([]byte, numSamples*itemsize),
		sizes:      make([]int, len(fields)),
	}, nil
}

// Append adds the next sample; values holds one Value per field, in field
// order. All of a sample's payloads go into one page: the current one if they
// fit in what is left of it, otherwise a new one. An invalid value is an
// error that leaves the Writer usable; a failed write is returned by this and
// every later call.
func (w *Writer) Append(values []Value) error {
	if w.err != nil {
		return w.err
	}
	if w.n == w.numSamples {
		return fmt.Errorf("beton writer: sample %d: all %d samples already written", w.n, w.numSamples)
	}
	if len(values) != len(w.fields) {
		return fmt.Errorf("beton writer: sample %d: %d values for %d fields", w.n, len(values), len(w.fields))
	}
	total := 0
	for i, f := range w.fields {
		size, err := payloadSize(f, values[i])
		if err != nil {
			return fmt.Errorf("beton writer: sample %d field %q: %w", w.n, f.Name, err)
		}
		w.sizes[i] = size
		total += size
	}
	if total > w.pageSize {
		return fmt.Errorf("beton writer: sample %d: %d payload bytes exceed the page size %d", w.n, total, w.pageSize)
	}
	if total > 0 && (w.pages == 0 || w.pageUsed+total > w.pageSize) {
		if err := w.newPage(); err != nil {
			return err
		}
	}
	rec := w.meta[w.n*w.itemsize : (w.n+1)*w.itemsize]
	for i, f := range w.fields {
		m := rec[w.offsets[i]:]
		v := values[i]
		switch f.Type {
		case FieldInt:
			le.PutUint64(m, uint64(v.Int))
		case FieldFloat:
			le.PutUint64(m, math.Float64bits(v.Float))
		case FieldImage:
			m[0] = byte(v.Image.Mode)
			le.PutUint16(m[1:], uint16(v.Image.Width))
			le.PutUint16(m[3:], uint16(v.Image.Height))
			le.PutUint64(m[5:], w.alloc(v.Image.Data, w.sizes[i]))
		case FieldBytes, FieldJSON:
			le.PutUint64(m, w.alloc(v.Bytes, w.sizes[i]))
			le.PutUint64(m[8:], uint64(w.sizes[i]))
		}
	}
	w.n++
	return nil
}

// payloadSize checks v against field f and returns the size of its
// allocation (0 for inline values).
func payloadSize(f Field, v Value) (int, error) {
	switch f.Type {
	case FieldImage:
		img := v.Image
		if img.Width <= 0 || img.Height <= 0 || img.Width > math.MaxUint16 || img.Height > math.MaxUint16 {
			return 0, fmt.Errorf("image size %dx%d outside 1..%d", img.Width, img.Height, math.MaxUint16)
		}
		switch img.Mode {
		case ImageRaw:
			if len(img.Data) != img.Width*img.Height*3 {
				return 0, fmt.Errorf("raw %dx%d image has %d bytes, want %d", img.Width, img.Height, len(img.Data), img.Width*img.Height*3)
			}
		case ImageJPEG:
			if !bytes.HasPrefix(img.Data, []byte{0xFF, 0xD8}) {
				return 0, errors.New("JPEG image data does not start with an SOI marker")
			}
		default:
			return 0, fmt.Errorf("unknown image mode %d", img.Mode)
		}
		return len(img.Data), nil
	case FieldBytes:
		if len(v.Bytes) == 0 {
			return 0, errors.New("empty bytes value (FFCV cannot store a zero-length allocation)")
		}
		return len(v.Bytes), nil
	case FieldJSON:
		if !json.Valid(v.Bytes) {
			return 0, errors.New("value is not valid JSON text")
		}
		return len(v.Bytes) + 1, nil // NUL terminator
	}
	return 0, nil
}

// alloc copies b (then zero padding up to size) into the current page, records
// the allocation for the current sample and returns its file offset.
func (w *Writer) alloc(b []byte, size int) uint64 {
	ptr := uint64(w.dataStart) + uint64(w.pages-1)*uint64(w.pageSize) + uint64(w.pageUsed)
	copy(w.page[w.pageUsed:], b) // a JSON value's terminator is the page's zero
	w.pageUsed += size
	w.table = le.AppendUint64(w.table, uint64(w.n))
	w.table = le.AppendUint64(w.table, ptr)
	w.table = le.AppendUint64(w.table, uint64(size))
	return ptr
}

// newPage writes the current page, if any, and starts the next one.
func (w *Writer) newPage() error {
	if w.pages > 0 {
		if err := w.flushPage(); err != nil {
			return err
		}
		clear(w.page[:w.pageUsed])
	} else {
		w.page = make([]byte, w.pageSize)
	}
	w.pages++
	w.pageUsed = 0
	return nil
}

func (w *Writer) flushPage() error {
	off := w.dataStart + int64(w.pages-1)*int64(w.pageSize)
	if _, err := w.w.WriteAt(w.page, off); err != nil {
		w.err = fmt.Errorf("beton writer: write page %d: %w", w.pages-1, err)
		return w.err
	}
	return nil
}

// Close writes the last page, the allocation table, then the header, the
// field descriptors, the metadata and the zero gap before the first page. It
// fails if fewer samples than announced were appended. It does not close the
// underlying file.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	if w.n != w.numSamples {
		w.err = fmt.Errorf("beton writer: closed after %d of %d samples", w.n, w.numSamples)
		return w.err
	}
	tablePtr := int64(headerSize + len(w.fields)*descriptorSize + len(w.meta))
	if w.pages > 0 {
		if err := w.flushPage(); err != nil {
			return err
		}
		tablePtr = w.dataStart + int64(w.pages)*int64(w.pageSize)
	}
	if _, err := w.w.WriteAt(w.table, tablePtr); err != nil {
		w.err = fmt.Errorf("beton writer: write allocation table: %w", err)
		return w.err
	}
	head := make([]byte, headerSize, headerSize+len(w.fields)*descriptorSize)
	le.PutUint16(head[0:], Version)
	le.PutUint16(head[2:], uint16(len(w.fields)))
	le.PutUint32(head[4:], uint32(w.pageSize))
	le.PutUint64(head[8:], uint64(w.numSamples))
	le.PutUint64(head[16:], uint64(tablePtr))
	for _, f := range w.fields {
		d := make([]byte, descriptorSize)
		d[0] = byte(f.Type)
		copy(d[1:1+nameSize], f.Name)
		head = append(head, d...)
	}
	head = append(head, w.meta...)
	if w.pages > 0 {
		head = append(head, make([]byte, int(w.dataStart)-len(head))...)
	}
	if _, err := w.w.WriteAt(head, 0); err != nil {
		w.err = fmt.Errorf("beton writer: write header and metadata: %w", err)
		return w.err
	}
	w.err = errors.New("beton writer: closed")
	return nil
}
