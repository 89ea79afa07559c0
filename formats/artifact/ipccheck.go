package artifact

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Checking an Arrow IPC file before arrow-go reads it
//
// arrow-go trusts the lengths in a file's flatbuffer metadata: a vector
// length of 2^32-1 in a corrupt schema becomes a make() of hundreds of
// gigabytes, which kills the process ("fatal error: runtime: out of memory")
// instead of returning an error. checkIPCFile therefore walks everything
// arrow-go will read — the magic bytes, the footer, the schema with every
// field, and the message of every record batch and dictionary block — and
// checks each table, vtable, string, vector and union against the bytes that
// hold it, each block against the file and the other blocks, each buffer
// against its message body, and the declared size of each compressed buffer
// against what it really decompresses to. What passes is safe to hand to
// arrow-go: every allocation it makes is then bounded by the file's size
// (or, for compressed buffers, by maxDecompressed).

const (
	// maxDecompressed bounds the sum of the decompressed sizes of a file's
	// compressed buffers (tables here are at most some megabytes).
	maxDecompressed = 1 << 30
	// maxTables bounds the flatbuffer tables visited in a file, counting a
	// table reached twice twice, so that shared subtrees cannot make arrow-go
	// build an exponential number of fields (per flatbuffer: the footer, or
	// one message).
	maxTables = 1 << 16
	// maxFieldDepth bounds how deeply fields may nest.
	maxFieldDepth = 64
	// maxRows bounds the rows of one record batch.
	maxRows = 1 << 24
)

var arrowMagic = []byte("ARROW1")

// FormatError reports a file that is not a valid table: the file, the byte
// offset in it where the problem was found (-1 when no single place applies)
// and the problem. Stages report it as bad input (exit status 2).
type FormatError struct {
	File   string
	Offset int64
	Msg    string
}

func (e *FormatError) Error() string {
	if e.Offset < 0 {
		return fmt.Sprintf("artifact table %s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("artifact table %s: offset %d: %s", e.File, e.Offset, e.Msg)
}

func formatErrorf(off int64, format string, args ...any) *FormatError {
	return &FormatError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// checkIPCFile checks the Arrow IPC file r as described above. Problems are
// *FormatError without File (the caller names it); errors reading r are
// returned as they are.
func checkIPCFile(r ipc.ReadAtSeeker) error {
	size, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	const trailer = 4 + 6 // footer length, magic
	if size < 8+trailer+8 {
		return formatErrorf(-1, "not an Arrow IPC file: %d bytes is too short", size)
	}
	head, err := readAt(r, 0, 6)
	if err != nil {
		return err
	}
	tail, err := readAt(r, size-trailer, trailer)
	if err != nil {
		return err
	}
	if !bytes.Equal(head, arrowMagic) {
		return formatErrorf(0, "not an Arrow IPC file: no ARROW1 magic at the start")
	}
	if !bytes.Equal(tail[4:], arrowMagic) {
		return formatErrorf(size-6, "not an Arrow IPC file: no ARROW1 magic at the end (truncated?)")
	}
	footerLen := int64(binary.LittleEndian.Uint32(tail))
	footerStart := size - trailer - footerLen
	if footerLen < 8 || footerStart < 8 {
		return formatErrorf(size-trailer, "footer length %d does not fit the %d-byte file", footerLen, size)
	}
	footer, err := readAt(r, footerStart, footerLen)
	if err != nil {
		return err
	}
	c := &checker{r: r}
	ft, err := c.root(footer, footerStart, &footerSpec)
	if err != nil {
		return err
	}
	if ft.field(1) == 0 {
		return formatErrorf(footerStart, "footer has no schema")
	}
	// The blocks: each inside the file before the footer, none overlapping
	// another (many entries naming the same bytes would make every reader
	// read them again and again), then each one's message.
	var blocks []block
	for _, v := range []struct {
		slot int
		kind byte
	}{{2, headerDictionaryBatch}, {3, headerRecordBatch}} {
		start, n := ft.vector(v.slot)
		for i := range n {
			p := start + 24*i
			b := block{
				at:   footerStart + int64(p),
				off:  int64(binary.LittleEndian.Uint64(footer[p:])),
				meta: int64(int32(binary.LittleEndian.Uint32(footer[p+8:]))),
				body: int64(binary.LittleEndian.Uint64(footer[p+16:])),
				kind: v.kind,
			}
			if b.off < 8 || b.meta < 8 || b.body < 0 || b.off > footerStart || b.meta > footerStart-b.off || b.body > footerStart-b.off-b.meta {
				return formatErrorf(b.at, "block (offset %d, metadata %d bytes, body %d bytes) lies outside the %d bytes before the footer", b.off, b.meta, b.body, footerStart)
			}
			blocks = append(blocks, b)
		}
	}
	byOffset := slices.Clone(blocks)
	slices.SortFunc(byOffset, func(a, b block) int { return cmp.Compare(a.off, b.off) })
	for i := 1; i < len(byOffset); i++ {
		if p, b := byOffset[i-1], byOffset[i]; p.off+p.meta+p.body > b.off {
			return formatErrorf(b.at, "block at offset %d overlaps the block at offset %d", b.off, p.off)
		}
	}
	for _, b := range blocks {
		if err := c.message(b); err != nil {
			return err
		}
	}
	return nil
}

// block is a Block struct of the footer (offset int64, metaDataLength
// int32, padding, bodyLength int64): a message in the file.
type block struct {
	at              int64 // where the struct is
	off, meta, body int64
	kind            byte // the message header type it must have
}

// readAt reads n bytes at off; n is at most the file's size.
func readAt(r io.ReaderAt, off, n int64) ([]byte, error) {
	b := make([]byte, n)
	if got, err := r.ReadAt(b, off); got < len(b) {
		return nil, fmt.Errorf("reading %d bytes at offset %d: %w", n, off, err)
	}
	return b, nil
}

// checker holds the state of one file's check.
type checker struct {
	r            io.ReaderAt
	tables       int   // tables visited so far in the current flatbuffer
	decompressed int64 // sum of declared decompressed sizes so far
}

// Message header union types (Message.fbs).
const (
	headerDictionaryBatch = 2
	headerRecordBatch     = 3
)

// message checks the message of block b, whose position is checked.
func (c *checker) message(b block) error {
	off, meta, body, want := b.off, b.meta, b.body, b.kind
	mb, err := readAt(c.r, off, meta)
	if err != nil {
		return err
	}
	prefix := 4
	if binary.LittleEndian.Uint32(mb) == 0xFFFFFFFF {
		prefix = 8
	}
	if n := int64(binary.LittleEndian.Uint32(mb[prefix-4:])); n != meta-int64(prefix) {
		return formatErrorf(off, "message length %d does not match the block's %d-byte metadata", n, meta)
	}
	mb = mb[prefix:]
	mbase := off + int64(prefix)
	m, err := c.root(mb, mbase, &messageSpec)
	if err != nil {
		return err
	}
	if got := m.uint8(1); got != want {
		return formatErrorf(off, "message header type %d, want %d", got, want)
	}
	if bl := m.int64(3); bl != body {
		return formatErrorf(off, "message body length %d, block says %d", bl, body)
	}
	rb := m.table(2)
	if want == headerDictionaryBatch {
		if rb = rb.table(1); rb.pos == 0 {
			return formatErrorf(off, "dictionary batch without data")
		}
	}
	return c.recordBatch(rb, off+meta, body)
}

// recordBatch checks the semantic content of the verified RecordBatch table
// t, whose body is the body bytes at bodyOff.
func (c *checker) recordBatch(t table, bodyOff, body int64) error {
	if t.pos == 0 {
		return formatErrorf(t.base, "message has no record batch header")
	}
	if n := t.int64(0); n < 0 || n > maxRows {
		return formatErrorf(t.at(0), "record batch of %d rows (at most %d)", n, maxRows)
	}
	start, n := t.vector(1) // FieldNode {length, null_count int64}
	for i := range n {
		p := start + 16*i
		length := int64(binary.LittleEndian.Uint64(t.b[p:]))
		nulls := int64(binary.LittleEndian.Uint64(t.b[p+8:]))
		if length < 0 || length > maxRows || nulls < 0 || nulls > length {
			return formatErrorf(t.base+int64(p), "field node %d: %d nulls in %d values", i, nulls, length)
		}
	}
	var codec byte
	compressed := false
	if comp := t.table(3); comp.pos != 0 {
		codec, compressed = comp.uint8(0), true
		if codec > 1 || comp.uint8(1) != 0 {
			return formatErrorf(comp.base+int64(comp.pos), "unknown compression (codec %d, method %d)", codec, comp.uint8(1))
		}
	}
	start, n = t.vector(2) // Buffer {offset, length int64}
	for i := range n {
		p := start + 16*i
		at := t.base + int64(p)
		off := int64(binary.LittleEndian.Uint64(t.b[p:]))
		length := int64(binary.LittleEndian.Uint64(t.b[p+8:]))
		if off < 0 || length < 0 || off > body || length > body-off {
			return formatErrorf(at, "buffer %d (offset %d, %d bytes) lies outside the %d-byte message body", i, off, length, body)
		}
		if compressed && length > 0 {
			if err := c.compressedBuffer(codec, bodyOff+off, length, at); err != nil {
				return err
			}
		}
	}
	return nil
}

// compressedBuffer checks a compressed buffer: an int64 decompressed size
// (-1: stored as is) and the compressed bytes, which must decompress to
// exactly that size.
func (c *checker) compressedBuffer(codec byte, off, length, at int64) error {
	if length < 8 {
		return formatErrorf(at, "compressed buffer of %d bytes has no size prefix", length)
	}
	b, err := readAt(c.r, off, length)
	if err != nil {
		return err
	}
	want := int64(binary.LittleEndian.Uint64(b))
	if want == -1 {
		return nil
	}
	if want < 0 || want > maxDecompressed-c.decompressed {
		return formatErrorf(off, "compressed buffer declares %d decompressed bytes (at most %d in all)", want, maxDecompressed)
	}
	c.decompressed += want
	var dec io.Reader
	if codec == 0 {
		dec = lz4.NewReader(bytes.NewReader(b[8:]))
	} else {
		zr, err := zstd.NewReader(bytes.NewReader(b[8:]), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(uint64(want)+1<<20))
		if err != nil {
			return formatErrorf(off, "compressed buffer: %v", err)
		}
		defer zr.Close()
		dec = zr
	}
	got, err := io.Copy(io.Discard, io.LimitReader(dec, want+1))
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return formatErrorf(off, "compressed buffer does not decompress: %v", err)
	}
	if got != want {
		return formatErrorf(off, "compressed buffer decompresses to %d bytes or more, declares %d", got, want)
	}
	return nil
}

// Flatbuffers
//
// A flatbuffer table starts with an int32 offset back to its vtable; the
// vtable holds its own length, the table's inline length and one uint16
// offset per field (0: absent). Offsets to strings, vectors and subtables
// are uint32, relative to where they are stored. A tableSpec lists, per field
// slot, what the slot holds, so that the checker verifies every byte the
// generated accessors read.

type fieldKind uint8

const (
	fScalar fieldKind = iota // size bytes inline
	fString                  // offset to a uint32 length and the bytes
	fVector                  // offset to a uint32 count and count*size bytes
	fTable                   // offset to a table of spec sub
	fTables                  // offset to a vector of offsets to tables of spec sub
	fUnion                   // offset to a table whose spec is union[value of the previous slot]
)

type fieldSpec struct {
	kind fieldKind
	size int
	sub  *tableSpec
}

type tableSpec struct {
	name   string
	fields []fieldSpec
	union  map[byte]*tableSpec // for the fUnion field; a type missing here is refused
	depth  bool                // counts towards maxFieldDepth (Field)
}

func scalar(size int) fieldSpec   { return fieldSpec{kind: fScalar, size: size} }
func vector(size int) fieldSpec   { return fieldSpec{kind: fVector, size: size} }
func sub(s *tableSpec) fieldSpec  { return fieldSpec{kind: fTable, sub: s} }
func subs(s *tableSpec) fieldSpec { return fieldSpec{kind: fTables, sub: s} }
func str() fieldSpec              { return fieldSpec{kind: fString} }
func union() fieldSpec            { return fieldSpec{kind: fUnion} }
func plain(name string, sizes ...int) *tableSpec {
	s := &tableSpec{name: name}
	for _, n := range sizes {
		s.fields = append(s.fields, scalar(n))
	}
	return s
}

// The tables of Arrow's Schema.fbs, Message.fbs and File.fbs that arrow-go's
// file reader reads.
var (
	keyValueSpec = tableSpec{name: "KeyValue", fields: []fieldSpec{str(), str()}}
	intSpec      = plain("Int", 4, 1)
	dictEncSpec  = tableSpec{name: "DictionaryEncoding", fields: []fieldSpec{scalar(8), sub(intSpec), scalar(1), scalar(2)}}
	fieldSpec_   = tableSpec{name: "Field", depth: true}
	schemaSpec   = tableSpec{name: "Schema", fields: []fieldSpec{scalar(2), subs(&fieldSpec_), subs(&keyValueSpec), vector(8)}}
	footerSpec   = tableSpec{name: "Footer", fields: []fieldSpec{scalar(2), sub(&schemaSpec), vector(24), vector(24), subs(&keyValueSpec)}}
	compSpec     = plain("BodyCompression", 1, 1)
	batchSpec    = tableSpec{name: "RecordBatch", fields: []fieldSpec{scalar(8), vector(16), vector(16), sub(compSpec), vector(8)}}
	dictSpec     = tableSpec{name: "DictionaryBatch", fields: []fieldSpec{scalar(8), sub(&batchSpec), scalar(1)}}
	messageSpec  = tableSpec{name: "Message", fields: []fieldSpec{scalar(2), scalar(1), union(), scalar(8), subs(&keyValueSpec)},
		union: map[byte]*tableSpec{1: &schemaSpec, headerDictionaryBatch: &dictSpec, headerRecordBatch: &batchSpec}}
)

func init() {
	// Field refers to itself (children), so it is completed here.
	unit := plain("unit", 2)
	fieldSpec_.fields = []fieldSpec{str(), scalar(1), scalar(1), union(), sub(&dictEncSpec), subs(&fieldSpec_), subs(&keyValueSpec)}
	fieldSpec_.union = map[byte]*tableSpec{ // Schema.fbs union Type
		1: plain("Null"), 2: intSpec, 3: plain("FloatingPoint", 2), 4: plain("Binary"),
		5: plain("Utf8"), 6: plain("Bool"), 7: plain("Decimal", 4, 4, 4), 8: unit,
		9: plain("Time", 2, 4), 10: {name: "Timestamp", fields: []fieldSpec{scalar(2), str()}},
		11: unit, 12: plain("List"), 13: plain("Struct_"),
		14: {name: "Union", fields: []fieldSpec{scalar(2), vector(4)}},
		15: plain("FixedSizeBinary", 4), 16: plain("FixedSizeList", 4), 17: plain("Map", 1),
		18: unit, 19: plain("LargeBinary"), 20: plain("LargeUtf8"), 21: plain("LargeList"),
		22: plain("RunEndEncoded"), 23: plain("BinaryView"), 24: plain("Utf8View"),
		25: plain("ListView"), 26: plain("LargeListView"),
	}
}

// table is a verified table: its bytes b (file offset base), position and
// vtable.
type table struct {
	b        []byte
	base     int64
	pos, vt  int // pos 0: absent
	vtLen    int
	tableLen int
}

// field returns the position of slot's value, 0 when absent.
func (t table) field(slot int) int {
	if t.pos == 0 {
		return 0
	}
	vo := 4 + 2*slot
	if vo+2 > t.vtLen {
		return 0
	}
	off := int(binary.LittleEndian.Uint16(t.b[t.vt+vo:]))
	if off == 0 {
		return 0
	}
	return t.pos + off
}

// at is the file offset of slot's value (of the table when absent).
func (t table) at(slot int) int64 {
	if p := t.field(slot); p != 0 {
		return t.base + int64(p)
	}
	return t.base + int64(t.pos)
}

func (t table) uint8(slot int) byte {
	if p := t.field(slot); p != 0 {
		return t.b[p]
	}
	return 0
}

func (t table) int64(slot int) int64 {
	if p := t.field(slot); p != 0 {
		return int64(binary.LittleEndian.Uint64(t.b[p:]))
	}
	return 0
}

// target follows the uint32 offset stored at p.
func (t table) target(p int) int { return p + int(binary.LittleEndian.Uint32(t.b[p:])) }

// vector returns where slot's vector's elements start and how many there are.
func (t table) vector(slot int) (start, n int) {
	p := t.field(slot)
	if p == 0 {
		return 0, 0
	}
	v := t.target(p)
	return v + 4, int(binary.LittleEndian.Uint32(t.b[v:]))
}

// table returns slot's subtable (pos 0 when absent).
func (t table) table(slot int) table {
	p := t.field(slot)
	if p == 0 {
		return table{b: t.b, base: t.base}
	}
	s, _ := tableAt(t.b, t.base, t.target(p)) // verified before
	return s
}

// tableAt reads the table header at pos, checking it and its vtable lie in b.
func tableAt(b []byte, base int64, pos int) (table, error) {
	n := len(b)
	if pos <= 0 || pos > n-4 {
		return table{}, formatErrorf(base+int64(pos), "flatbuffer table at %d outside the %d-byte metadata", pos, n)
	}
	vt := int64(pos) - int64(int32(binary.LittleEndian.Uint32(b[pos:])))
	if vt < 0 || vt > int64(n-4) {
		return table{}, formatErrorf(base+int64(pos), "flatbuffer vtable at %d outside the %d-byte metadata", vt, n)
	}
	t := table{b: b, base: base, pos: pos, vt: int(vt)}
	t.vtLen = int(binary.LittleEndian.Uint16(b[t.vt:]))
	t.tableLen = int(binary.LittleEndian.Uint16(b[t.vt+2:]))
	if t.vtLen < 4 || t.vtLen%2 != 0 || t.vt+t.vtLen > n || t.tableLen < 4 || pos+t.tableLen > n {
		return table{}, formatErrorf(base+vt, "flatbuffer vtable (%d bytes, table %d bytes) does not fit the metadata", t.vtLen, t.tableLen)
	}
	return t, nil
}

// root checks the flatbuffer b (file offset base) whose root table is of
// spec s.
func (c *checker) root(b []byte, base int64, s *tableSpec) (table, error) {
	if len(b) < 8 {
		return table{}, formatErrorf(base, "%s flatbuffer of %d bytes is too short", s.name, len(b))
	}
	pos := int(binary.LittleEndian.Uint32(b))
	c.tables = 0
	return c.walk(b, base, pos, s, 0)
}

// walk checks the table of spec s at pos and everything it refers to.
func (c *checker) walk(b []byte, base int64, pos int, s *tableSpec, depth int) (table, error) {
	if c.tables++; c.tables > maxTables {
		return table{}, formatErrorf(base+int64(pos), "more than %d flatbuffer tables", maxTables)
	}
	if s.depth {
		if depth++; depth > maxFieldDepth {
			return table{}, formatErrorf(base+int64(pos), "fields nested more than %d deep", maxFieldDepth)
		}
	}
	t, err := tableAt(b, base, pos)
	if err != nil {
		return table{}, err
	}
	// fail reports a problem with slot's value, found at position p.
	fail := func(slot, p int, format string, args ...any) error {
		return formatErrorf(base+int64(p), "%s table at %d, field slot %d: %s", s.name, base+int64(t.pos), slot, fmt.Sprintf(format, args...))
	}
	for slot, f := range s.fields {
		p := t.field(slot)
		if p == 0 {
			continue
		}
		size := 4 // an offset
		if f.kind == fScalar {
			size = f.size
		}
		if p-t.pos+size > t.tableLen {
			return t, fail(slot, p, "%d bytes at %d beyond the table's %d", size, p-t.pos, t.tableLen)
		}
		if f.kind == fScalar {
			continue
		}
		target := int64(p) + int64(binary.LittleEndian.Uint32(b[p:]))
		if target > int64(len(b)-4) {
			return t, fail(slot, p, "offset to %d outside the %d-byte metadata", target, len(b))
		}
		v := int(target)
		switch f.kind {
		case fString, fVector, fTables:
			elem := int64(f.size)
			if f.kind == fString {
				elem = 1
			} else if f.kind == fTables {
				elem = 4
			}
			n := int64(binary.LittleEndian.Uint32(b[v:]))
			if n*elem > int64(len(b)-v-4) {
				return t, fail(slot, v, "length %d (elements of %d bytes) exceeds the %d bytes that follow", n, elem, len(b)-v-4)
			}
			if f.kind == fTables {
				for i := range int(n) {
					e := v + 4 + 4*i
					et := int64(e) + int64(binary.LittleEndian.Uint32(b[e:]))
					if et > int64(len(b)) {
						return t, fail(slot, e, "element %d: offset outside the metadata", i)
					}
					if _, err := c.walk(b, base, int(et), f.sub, depth); err != nil {
						return t, err
					}
				}
			}
		case fTable:
			if _, err := c.walk(b, base, v, f.sub, depth); err != nil {
				return t, err
			}
		case fUnion:
			typ := t.uint8(slot - 1)
			us, ok := s.union[typ]
			if !ok {
				return t, fail(slot, p, "unknown union type %d", typ)
			}
			if _, err := c.walk(b, base, v, us, depth); err != nil {
				return t, err
			}
		}
	}
	return t, nil
}
