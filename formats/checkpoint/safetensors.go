// Package checkpoint reads and writes training checkpoints: network weights
// (and optimizer buffers) as safetensors files with the DARTS reference
// PyTorch tensor names and layouts, and the JSON training state.
//
// # Safetensors
//
// A safetensors file is: an unsigned 64-bit little-endian header length N;
// N bytes of a JSON object mapping each tensor name to {"dtype", "shape",
// "data_offsets": [begin, end]} plus an optional "__metadata__" object of
// string values; then the data, each tensor's bytes little-endian row major
// at [begin, end) relative to the end of the header. Write pads the header
// with spaces to a multiple of 8 bytes (as the reference library does) and
// packs tensors back to back in the given order.
//
// The format is written here rather than through a library on purpose: it is
// about a hundred lines, the Go options are thin wrappers we would still have
// to audit, and we need exact control of tensor order and names (so a file is
// byte-for-byte reproducible), of dtypes (F32 weights, I64 BatchNorm counters)
// and of atomicity (every file is written to a temporary name and renamed
// into place through formats/artifact).
//
// Read validates everything before trusting it: header length within the
// file and at most 100 MB, a well-formed JSON object without duplicate names,
// known dtypes, non-negative shapes whose byte size equals end-begin, and
// offsets that tile the data region exactly (no gap, no overlap, nothing
// past the end). Errors name the file and the tensor or byte offset.
package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"

	"pertnas/formats/artifact"
)

// Tensor is one named tensor, the unit of a state dict: nn's StateDict and
// the optimiser's State return these, and Write stores them as they are.
// Exactly one of F32 and I64 holds the data (I64 for BatchNorm's
// num_batches_tracked and the optimiser's step), which is Shape's product
// elements long (1 for a scalar, Shape empty).
type Tensor struct {
	Name  string
	Shape []int
	F32   []float32
	I64   []int64
}

// DType returns "F32" or "I64", the safetensors dtype of t.
func (t *Tensor) DType() string {
	if t.I64 != nil {
		return "I64"
	}
	return "F32"
}

func numel(shape []int) (int, bool) {
	n := 1
	for _, d := range shape {
		if d < 0 || (d > 0 && n > math.MaxInt32/d) {
			return 0, false
		}
		n *= d
	}
	return n, true
}

const maxHeader = 100 << 20

// Encode writes tensors and metadata (may be nil) in safetensors form to w.
// Names must be unique and non-empty; each tensor must hold exactly one of
// F32 or I64 with the number of elements its shape says.
func Encode(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	var hdr bytes.Buffer
	hdr.WriteByte('{')
	if len(metadata) > 0 {
		m, err := json.Marshal(metadata) // keys sorted: deterministic
		if err != nil {
			return err
		}
		hdr.WriteString(`"__metadata__":`)
		hdr.Write(m)
	}
	seen := map[string]bool{}
	off := 0
	for i, t := range tensors {
		if t.Name == "" || t.Name == "__metadata__" || seen[t.Name] {
			return fmt.Errorf("tensor %d: bad or duplicate name %q", i, t.Name)
		}
		seen[t.Name] = true
		n, ok := numel(t.Shape)
		if !ok {
			return fmt.Errorf("tensor %s: bad shape %v", t.Name, t.Shape)
		}
		if (t.F32 == nil) == (t.I64 == nil) && n > 0 {
			return fmt.Errorf("tensor %s: needs exactly one of F32 and I64 data", t.Name)
		}
		if got := len(t.F32) + len(t.I64); got != n {
			return fmt.Errorf("tensor %s: shape %v wants %d elements, has %d", t.Name, t.Shape, n, got)
		}
		if hdr.Len() > 1 {
			hdr.WriteByte(',')
		}
		name, _ := json.Marshal(t.Name)
		hdr.Write(name)
		shape := "["
		for j, d := range t.Shape {
			if j > 0 {
				shape += ","
			}
			shape += strconv.Itoa(d)
		}
		shape += "]"
		fmt.Fprintf(&hdr, `:{"dtype":"%s","shape":%s,"data_offsets":[%d,%d]}`, t.DType(), shape, off, off+n*elemSize(t.DType()))
		off += n * elemSize(t.DType())
	}
	hdr.WriteByte('}')
	for hdr.Len()%8 != 0 {
		hdr.WriteByte(' ')
	}
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(hdr.Len()))
	if _, err := w.Write(lenBuf[:]); err != nil {
		return err
	}
	if _, err := w.Write(hdr.Bytes()); err != nil {
		return err
	}
	buf := make([]byte, 0, 1<<16)
	for _, t := range tensors {
		for _, v := range t.F32 {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			if len(buf) >= cap(buf)-8 {
				if _, err := w.Write(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
		}
		for _, v := range t.I64 {
			buf = binary.LittleEndian.AppendUint64(buf, uint64(v))
			if len(buf) >= cap(buf)-8 {
				if _, err := w.Write(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
		}
	}
	_, err := w.Write(buf)
	return err
}

func elemSize(dtype string) int {
	switch dtype {
	case "F32":
		return 4
	case "I64":
		return 8
	}
	return 0
}

// Write writes a safetensors file atomically (temporary file, then rename).
func Write(path string, tensors []Tensor, metadata map[string]string) error {
	if err := artifact.WriteFile(path, func(w io.Writer) error { return Encode(w, tensors, metadata) }); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	return nil
}

// Read reads and validates the safetensors file at path. Tensors come back
// in the order of their data offsets (the order Write stored them).
func Read(path string) ([]Tensor, map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: %w", err)
	}
	ts, md, err := Decode(b)
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors %s: %w", path, err)
	}
	return ts, md, nil
}

type entry struct {
	DType   string `json:"dtype"`
	Shape   []int  `json:"shape"`
	Offsets []int  `json:"data_offsets"`
	name    string
}

// Decode parses and validates a whole safetensors file held in b.
func Decode(b []byte) ([]Tensor, map[string]string, error) {
	if len(b) < 8 {
		return nil, nil, fmt.Errorf("file is %d bytes, shorter than the 8-byte header length", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > maxHeader || n > uint64(len(b)-8) {
		return nil, nil, fmt.Errorf("header length %d exceeds the file (%d bytes) or 100 MB", n, len(b))
	}
	header, data := b[8:8+n], b[8+n:]
	dec := json.NewDecoder(bytes.NewReader(header))
	dec.DisallowUnknownFields()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, fmt.Errorf("header (byte 8): not a JSON object")
	}
	var entries []entry
	var metadata map[string]string
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("header byte %d: %v", 8+dec.InputOffset(), err)
		}
		name := tok.(string) // object keys are strings
		if seen[name] {
			return nil, nil, fmt.Errorf("header: duplicate name %q", name)
		}
		seen[name] = true
		if name == "__metadata__" {
			if err := dec.Decode(&metadata); err != nil {
				return nil, nil, fmt.Errorf("header: __metadata__: %v", err)
			}
			continue
		}
		e := entry{name: name}
		if err := dec.Decode(&e); err != nil {
			return nil, nil, fmt.Errorf("header: tensor %q: %v", name, err)
		}
		entries = append(entries, e)
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, fmt.Errorf("header: %v", err)
	}
	rest, _ := io.ReadAll(dec.Buffered())
	if len(bytes.TrimRight(rest, " ")) != 0 {
		return nil, nil, fmt.Errorf("header: trailing bytes after the JSON object")
	}
	for _, e := range entries {
		size := elemSize(e.DType)
		if size == 0 {
			return nil, nil, fmt.Errorf("tensor %q: unsupported dtype %q (want F32 or I64)", e.name, e.DType)
		}
		if e.Shape == nil {
			return nil, nil, fmt.Errorf("tensor %q: missing shape", e.name)
		}
		cnt, ok := numel(e.Shape)
		if !ok {
			return nil, nil, fmt.Errorf("tensor %q: bad shape %v", e.name, e.Shape)
		}
		if len(e.Offsets) != 2 || e.Offsets[0] < 0 || e.Offsets[1] < e.Offsets[0] {
			return nil, nil, fmt.Errorf("tensor %q: bad data_offsets %v", e.name, e.Offsets)
		}
		if e.Offsets[1]-e.Offsets[0] != cnt*size {
			return nil, nil, fmt.Errorf("tensor %q: data_offsets %v hold %d bytes, shape %v %s needs %d", e.name, e.Offsets, e.Offsets[1]-e.Offsets[0], e.Shape, e.DType, cnt*size)
		}
	}
	slices.SortStableFunc(entries, func(a, b entry) int { return a.Offsets[0] - b.Offsets[0] })
	at := 0
	for _, e := range entries {
		if e.Offsets[0] != at {
			return nil, nil, fmt.Errorf("tensor %q: data starts at %d, expected %d (gap or overlap)", e.name, e.Offsets[0], at)
		}
		at = e.Offsets[1]
	}
	if at != len(data) {
		return nil, nil, fmt.Errorf("data region is %d bytes, tensors cover %d", len(data), at)
	}
	out := make([]Tensor, len(entries))
	for i, e := range entries {
		raw := data[e.Offsets[0]:e.Offsets[1]]
		t := Tensor{Name: e.name, Shape: e.Shape}
		if e.DType == "F32" {
			t.F32 = make([]float32, len(raw)/4)
			for j := range t.F32 {
				t.F32[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
			}
		} else {
			t.I64 = make([]int64, len(raw)/8)
			for j := range t.I64 {
				t.I64[j] = int64(binary.LittleEndian.Uint64(raw[8*j:]))
			}
		}
		out[i] = t
	}
	return out, metadata, nil
}
