// Package beton reads and writes FFCV .beton files, format version 2
// (spec/beton.md): a 24-byte header, one 1041-byte descriptor per field, a
// table of fixed-size metadata records (one per sample), page-aligned data
// pages holding the variable-size payloads, and an allocation table.
//
// The Writer is deterministic: the same samples, fields and page size give the
// same bytes, identical to FFCV's own writer run with one worker. The Reader
// maps the file read-only and validates every offset and size before use, so a
// damaged or hostile file yields an error, never a panic.
package beton

import (
	"encoding/binary"
	"fmt"
)

// Version is the only .beton format version this package reads and writes.
const Version = 2

const (
	headerSize     = 24
	descriptorSize = 1041 // type u8, name [16]u8, arguments [1024]u8
	nameSize       = 16
	allocEntrySize = 24 // sample_id u64, ptr u64, size u64

	// MinPageSize is the smallest page size accepted (2 MiB).
	MinPageSize = 1 << 21
	// DefaultPageSize is FFCV's default page size (8 MiB).
	DefaultPageSize = 1 << 23
)

// FieldType is the type_id of a field descriptor.
type FieldType uint8

// Field types as numbered by FFCV. The Writer writes FieldFloat, FieldInt,
// FieldImage, FieldBytes and FieldJSON; the Reader also accepts files holding
// FieldNDArray and FieldTorchTensor columns (their payloads are not decoded).
const (
	FieldFloat       FieldType = 0
	FieldInt         FieldType = 1
	FieldImage       FieldType = 2
	FieldBytes       FieldType = 3
	FieldNDArray     FieldType = 4
	FieldJSON        FieldType = 5
	FieldTorchTensor FieldType = 6
)

func (t FieldType) String() string {
	switch t {
	case FieldFloat:
		return "float"
	case FieldInt:
		return "int"
	case FieldImage:
		return "rgb-image"
	case FieldBytes:
		return "bytes"
	case FieldNDArray:
		return "ndarray"
	case FieldJSON:
		return "json"
	case FieldTorchTensor:
		return "torch-tensor"
	}
	return fmt.Sprintf("type-%d", uint8(t))
}

// Field is one column of a .beton file. Name is at most 16 bytes of ASCII.
type Field struct {
	Name string
	Type FieldType
}

// ImageMode is how an RGB image payload is stored.
type ImageMode uint8

const (
	// ImageJPEG: the payload is a baseline JPEG file.
	ImageJPEG ImageMode = 0
	// ImageRaw: the payload is Height*Width*3 bytes, RGB, HWC, row major.
	ImageRaw ImageMode = 1
)

// Image is one stored RGB image. Data aliases the Reader's mapping (valid
// until Close, read only): raw RGB HWC pixels or the JPEG file bytes.
type Image struct {
	Mode          ImageMode
	Width, Height int
	Data          []byte
}

// Sizes of the RGB image and bytes metadata members (packed structs).
const (
	imageMetaSize = 13 // mode u8, width u16, height u16, data_ptr u64
	bytesMetaSize = 16 // ptr u64, size u64
)

// metaLayout returns the size and alignment of a field type's metadata member,
// and whether its payload is an allocation.
func metaLayout(t FieldType) (size, align int, allocates bool, ok bool) {
	switch t {
	case FieldFloat, FieldInt:
		return 8, 8, false, true
	case FieldImage:
		return imageMetaSize, 1, true, true
	case FieldBytes, FieldJSON:
		return bytesMetaSize, 1, true, true
	case FieldNDArray, FieldTorchTensor:
		return 8, 8, true, true
	}
	return 0, 0, false, false
}

// recordLayout lays the fields' metadata members out as a C struct: each
// member at a multiple of its alignment, the record size rounded up to the
// largest alignment. It returns the member offsets and the record size.
func recordLayout(fields []Field) (offsets []int, itemsize int, err error) {
	offsets = make([]int, len(fields))
	off, maxAlign := 0, 1
	for i, f := range fields {
		size, align, _, ok := metaLayout(f.Type)
		if !ok {
			return nil, 0, fmt.Errorf("field %d (%q): unsupported type %d", i, f.Name, uint8(f.Type))
		}
		off = roundUp(off, align)
		offsets[i] = off
		off += size
		maxAlign = max(maxAlign, align)
	}
	return offsets, roundUp(off, maxAlign), nil
}

func roundUp(n, m int) int { return (n + m - 1) / m * m }

func validPageSize(p uint64) bool {
	return p >= MinPageSize && p < 1<<32 && p&(p-1) == 0
}

var le = binary.LittleEndian
