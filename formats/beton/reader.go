package beton

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"sort"
)

// FormatError reports a file that is not a valid .beton file: which file,
// where (a byte offset, or -1 when the problem has no single place) and what.
type FormatError struct {
	Path   string
	Offset int64
	Msg    string
}

func (e *FormatError) Error() string {
	if e.Offset < 0 {
		return fmt.Sprintf("beton %s: %s", e.Path, e.Msg)
	}
	return fmt.Sprintf("beton %s: offset %d: %s", e.Path, e.Offset, e.Msg)
}

// Reader gives random access to the samples of a .beton file. All of the file
// is validated by Open, so the accessors only check their arguments. A Reader
// is safe for concurrent use; slices it returns alias the read-only mapping
// and must not be used after Close.
type Reader struct {
	path    string
	data    []byte
	release func() error

	fields     []Field
	offsets    []int // metadata member offset per field
	itemsize   int
	numSamples int
	pageSize   int
	metaStart  int

	allocSlot []int    // per field: index among the allocating fields, or -1
	nAlloc    int      // number of allocating fields
	sizes     []uint32 // payload size per (sample, allocating field)
	pages     []int32  // page of each sample's first payload, or -1
}

// Open maps the file at path read-only and validates it whole: header, field
// descriptors, metadata, data region and allocation table. Problems are
// reported as *FormatError.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("beton %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("beton %s: %w", path, err)
	}
	size := st.Size()
	if size < headerSize {
		return nil, &FormatError{path, -1, fmt.Sprintf("file is %d bytes, shorter than the %d-byte header", size, headerSize)}
	}
	if size > math.MaxInt {
		return nil, &FormatError{path, -1, "file too large to map"}
	}
	data, release, err := mapFile(f, int(size))
	if err != nil {
		return nil, fmt.Errorf("beton %s: map: %w", path, err)
	}
	r, err := parse(path, data)
	if err != nil {
		release()
		return nil, err
	}
	r.release = release
	return r, nil
}

// Close releases the mapping. Data returned earlier must not be used after.
func (r *Reader) Close() error {
	if r.release == nil {
		return nil
	}
	err := r.release()
	r.release = nil
	r.data = nil
	if err != nil {
		return fmt.Errorf("beton %s: unmap: %w", r.path, err)
	}
	return nil
}

// Path is the file the Reader was opened from.
func (r *Reader) Path() string { return r.path }

// NumSamples is the number of samples in the file.
func (r *Reader) NumSamples() int { return r.numSamples }

// PageSize is the file's page size in bytes.
func (r *Reader) PageSize() int { return r.pageSize }

// Fields returns the columns in file order (a copy).
func (r *Reader) Fields() []Field { return slices.Clone(r.fields) }

// FieldIndex returns the index of the field called name.
func (r *Reader) FieldIndex(name string) (int, error) {
	for i, f := range r.fields {
		if f.Name == name {
			return i, nil
		}
	}
	return -1, fmt.Errorf("beton %s: no field %q", r.path, name)
}

// SamplePage returns the index (from 0, counted from the first data page) of
// the page holding the sample's payloads, or -1 when the file's fields
// allocate nothing or sample is out of range.
func (r *Reader) SamplePage(sample int) int {
	if sample < 0 || sample >= r.numSamples || r.nAlloc == 0 {
		return -1
	}
	return int(r.pages[sample])
}

// record returns the metadata member of field in sample, checking the
// arguments and that the field has type want (any of them).
func (r *Reader) member(sample, field int, want ...FieldType) ([]byte, error) {
	if sample < 0 || sample >= r.numSamples {
		return nil, fmt.Errorf("beton %s: sample %d out of range [0, %d)", r.path, sample, r.numSamples)
	}
	if field < 0 || field >= len(r.fields) {
		return nil, fmt.Errorf("beton %s: field %d out of range [0, %d)", r.path, field, len(r.fields))
	}
	if !slices.Contains(want, r.fields[field].Type) {
		return nil, fmt.Errorf("beton %s: field %q is %v, not %v", r.path, r.fields[field].Name, r.fields[field].Type, want[0])
	}
	off := r.metaStart + sample*r.itemsize + r.offsets[field]
	return r.data[off : off+r.itemsize-r.offsets[field]], nil
}

// Int returns an int field's value.
func (r *Reader) Int(sample, field int) (int64, error) {
	m, err := r.member(sample, field, FieldInt)
	if err != nil {
		return 0, err
	}
	return int64(le.Uint64(m)), nil
}

// Float returns a float field's value.
func (r *Reader) Float(sample, field int) (float64, error) {
	m, err := r.member(sample, field, FieldFloat)
	if err != nil {
		return 0, err
	}
	return math.Float64frombits(le.Uint64(m)), nil
}

// payload returns the allocation of field in sample given its pointer.
func (r *Reader) payload(sample, field int, ptr uint64) []byte {
	n := r.sizes[sample*r.nAlloc+r.allocSlot[field]]
	return r.data[ptr : ptr+uint64(n) : ptr+uint64(n)]
}

// Image returns an RGB image field's value.
func (r *Reader) Image(sample, field int) (Image, error) {
	m, err := r.member(sample, field, FieldImage)
	if err != nil {
		return Image{}, err
	}
	return Image{
		Mode:   ImageMode(m[0]),
		Width:  int(le.Uint16(m[1:])),
		Height: int(le.Uint16(m[3:])),
		Data:   r.payload(sample, field, le.Uint64(m[5:])),
	}, nil
}

// Bytes returns a bytes field's payload, or a json field's JSON text (without
// the NUL terminator FFCV appends).
func (r *Reader) Bytes(sample, field int) ([]byte, error) {
	m, err := r.member(sample, field, FieldBytes, FieldJSON)
	if err != nil {
		return nil, err
	}
	b := r.payload(sample, field, le.Uint64(m))
	if r.fields[field].Type == FieldJSON {
		if i := bytes.IndexByte(b, 0); i >= 0 {
			b = b[:i:i]
		}
	}
	return b, nil
}

type allocEntry struct {
	sample, ptr, size uint64
}

// parse validates data as a .beton file and indexes it.
func parse(path string, data []byte) (*Reader, error) {
	bad := func(off int64, format string, args ...any) error {
		return &FormatError{path, off, fmt.Sprintf(format, args...)}
	}
	n := uint64(len(data))
	if n < headerSize {
		return nil, bad(-1, "file is %d bytes, shorter than the %d-byte header", n, headerSize)
	}
	if v := le.Uint16(data[0:]); v != Version {
		return nil, bad(0, "format version %d, want %d", v, Version)
	}
	numFields := int(le.Uint16(data[2:]))
	pageSize := uint64(le.Uint32(data[4:]))
	numSamples := le.Uint64(data[8:])
	allocPtr := le.Uint64(data[16:])
	if numFields == 0 {
		return nil, bad(2, "no fields")
	}
	if !validPageSize(pageSize) {
		return nil, bad(4, "page size %d is not a power of two of at least %d", pageSize, MinPageSize)
	}
	metaStart := uint64(headerSize + numFields*descriptorSize)
	if metaStart > n {
		return nil, bad(2, "%d field descriptors end at %d, past the end of the file (%d bytes)", numFields, metaStart, n)
	}
	r := &Reader{path: path, data: data, pageSize: int(pageSize), metaStart: int(metaStart)}
	r.fields = make([]Field, numFields)
	for i := range r.fields {
		d := data[headerSize+i*descriptorSize:]
		name := d[1 : 1+nameSize]
		if j := bytes.IndexByte(name, 0); j >= 0 {
			name = name[:j]
		}
		r.fields[i] = Field{Name: string(name), Type: FieldType(d[0])}
		if _, _, _, ok := metaLayout(r.fields[i].Type); !ok {
			return nil, bad(int64(headerSize+i*descriptorSize), "field %d (%q) has unsupported type %d", i, name, d[0])
		}
	}
	var err error
	if r.offsets, r.itemsize, err = recordLayout(r.fields); err != nil {
		return nil, bad(headerSize, "%v", err)
	}
	if numSamples > (n-metaStart)/uint64(r.itemsize) {
		return nil, bad(8, "%d samples of %d metadata bytes do not fit in the file (%d bytes)", numSamples, r.itemsize, n)
	}
	r.numSamples = int(numSamples)
	metaEnd := metaStart + numSamples*uint64(r.itemsize)
	if allocPtr < metaEnd || allocPtr > n {
		return nil, bad(16, "allocation table pointer %d outside [%d, %d] (end of metadata, end of file)", allocPtr, metaEnd, n)
	}
	if (n-allocPtr)%allocEntrySize != 0 {
		return nil, bad(int64(allocPtr), "allocation table of %d bytes is not a whole number of %d-byte entries", n-allocPtr, allocEntrySize)
	}
	dataStart := (metaEnd + pageSize - 1) / pageSize * pageSize

	// Allocation table: every entry inside the data region, within one page,
	// non-empty, owned by an existing sample, no two overlapping.
	entries := make([]allocEntry, (n-allocPtr)/allocEntrySize)
	for i := range entries {
		off := allocPtr + uint64(i)*allocEntrySize
		e := allocEntry{le.Uint64(data[off:]), le.Uint64(data[off+8:]), le.Uint64(data[off+16:])}
		switch {
		case e.sample >= numSamples:
			return nil, bad(int64(off), "allocation entry %d: sample %d out of range [0, %d)", i, e.sample, numSamples)
		case e.size == 0:
			return nil, bad(int64(off), "allocation entry %d: zero size", i)
		case e.ptr < dataStart || e.ptr > allocPtr || e.size > allocPtr-e.ptr:
			return nil, bad(int64(off), "allocation entry %d: [%d, %d+%d) outside the data region [%d, %d)", i, e.ptr, e.ptr, e.size, dataStart, allocPtr)
		case (e.ptr-dataStart)/pageSize != (e.ptr+e.size-1-dataStart)/pageSize:
			return nil, bad(int64(off), "allocation entry %d: [%d, %d+%d) crosses a page boundary", i, e.ptr, e.ptr, e.size)
		}
		entries[i] = e
	}
	byPtr := func(a, b allocEntry) int { return cmp.Compare(a.ptr, b.ptr) }
	if !slices.IsSortedFunc(entries, byPtr) {
		slices.SortFunc(entries, byPtr)
	}
	for i := 1; i < len(entries); i++ {
		if p := entries[i-1]; p.ptr+p.size > entries[i].ptr {
			return nil, bad(int64(allocPtr), "allocations at %d (size %d) and %d overlap", p.ptr, p.size, entries[i].ptr)
		}
	}

	// Metadata: every payload pointer names an allocation of its own sample,
	// with a size that agrees with the metadata.
	r.allocSlot = make([]int, numFields)
	for i, f := range r.fields {
		r.allocSlot[i] = -1
		if _, _, allocates, _ := metaLayout(f.Type); allocates {
			r.allocSlot[i] = r.nAlloc
			r.nAlloc++
		}
	}
	if r.nAlloc == 0 {
		return r, nil
	}
	r.sizes = make([]uint32, r.numSamples*r.nAlloc)
	r.pages = make([]int32, r.numSamples)
	next := 0 // entries written in sample order are found without a search
	for s := 0; s < r.numSamples; s++ {
		rec := metaStart + uint64(s*r.itemsize)
		for i, f := range r.fields {
			slot := r.allocSlot[i]
			if slot < 0 {
				continue
			}
			moff := rec + uint64(r.offsets[i])
			m := data[moff:]
			var ptr uint64
			switch f.Type {
			case FieldImage:
				ptr = le.Uint64(m[5:])
			default:
				ptr = le.Uint64(m)
			}
			j := next
			if j >= len(entries) || entries[j].ptr != ptr {
				j = sort.Search(len(entries), func(k int) bool { return entries[k].ptr >= ptr })
				if j == len(entries) || entries[j].ptr != ptr {
					return nil, bad(int64(moff), "sample %d field %q: data pointer %d is not in the allocation table", s, f.Name, ptr)
				}
			}
			next = j + 1
			e := entries[j]
			if e.sample != uint64(s) {
				return nil, bad(int64(moff), "sample %d field %q: allocation at %d belongs to sample %d", s, f.Name, ptr, e.sample)
			}
			if err := checkPayload(f, m, data[e.ptr:e.ptr+e.size]); err != nil {
				return nil, bad(int64(moff), "sample %d field %q: %v", s, f.Name, err)
			}
			r.sizes[s*r.nAlloc+slot] = uint32(e.size)
			if slot == 0 {
				r.pages[s] = int32((e.ptr - dataStart) / pageSize)
			}
		}
	}
	return r, nil
}

// checkPayload checks a payload against its metadata member m.
func checkPayload(f Field, m, payload []byte) error {
	switch f.Type {
	case FieldImage:
		mode, w, h := m[0], int(le.Uint16(m[1:])), int(le.Uint16(m[3:]))
		switch ImageMode(mode) {
		case ImageRaw:
			if len(payload) != w*h*3 {
				return fmt.Errorf("raw %dx%d image has %d bytes, want %d", w, h, len(payload), w*h*3)
			}
		case ImageJPEG:
			if w == 0 || h == 0 {
				return fmt.Errorf("JPEG image of size %dx%d", w, h)
			}
			if !bytes.HasPrefix(payload, []byte{0xFF, 0xD8}) {
				return errors.New("JPEG payload does not start with an SOI marker")
			}
		default:
			return fmt.Errorf("unknown image mode %d", mode)
		}
	case FieldBytes, FieldJSON:
		if size := le.Uint64(m[8:]); size != uint64(len(payload)) {
			return fmt.Errorf("size %d in metadata, allocation of %d bytes", size, len(payload))
		}
	}
	return nil
}
