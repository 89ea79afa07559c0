package xgb

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
)

// maxUBJSONDepth bounds container nesting (XGBoost models nest about 8 deep).
const maxUBJSONDepth = 64

// ReadUBJSON decodes an XGBoost UBJSON model (Booster.save_model("m.ubj"),
// the same document as the JSON model in Universal Binary JSON).
func ReadUBJSON(data []byte) (*Model, error) {
	v, err := decodeUBJSON(data)
	if err != nil {
		return nil, err
	}
	var jm jsonModel
	if err := remarshal(v, &jm); err != nil {
		return nil, fmt.Errorf("ubjson model: %w", err)
	}
	return fromJSON(&jm)
}

// readUBJSONSnapshot decodes the UBJSON memory snapshot that pickled
// Boosters of xgboost >= 1.6 hold: {"Config": ..., "Model": <model>}.
func readUBJSONSnapshot(data []byte) (*Model, error) {
	v, err := decodeUBJSON(data)
	if err != nil {
		return nil, err
	}
	var snap struct {
		Model *jsonModel `json:"Model"`
	}
	if err := remarshal(v, &snap); err != nil {
		return nil, fmt.Errorf("ubjson snapshot: %w", err)
	}
	if snap.Model == nil {
		return nil, fmt.Errorf("ubjson snapshot: no \"Model\" object")
	}
	return fromJSON(snap.Model)
}

// remarshal moves a decoded UBJSON value into the JSON model structs.
// Float32 values survive exactly: JSON prints their float64 value in full
// and parsing it back as float32 gives the same number.
func remarshal(v any, dst any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, dst)
}

type ubjDecoder struct {
	r reader
}

// decodeUBJSON decodes one UBJSON value (Draft 12, big-endian numbers, as
// XGBoost writes it) into map[string]any, []any, string, bool, nil,
// int64 and float64. Errors name the byte offset.
func decodeUBJSON(data []byte) (any, error) {
	d := &ubjDecoder{r: reader{b: data}}
	return d.value(0)
}

func (d *ubjDecoder) marker() (byte, error) {
	for {
		b, err := d.r.take(1, "ubjson marker")
		if err != nil {
			return 0, err
		}
		if b[0] != 'N' { // no-op
			return b[0], nil
		}
	}
}

func (d *ubjDecoder) value(depth int) (any, error) {
	m, err := d.marker()
	if err != nil {
		return nil, err
	}
	return d.typed(m, depth)
}

func (d *ubjDecoder) typed(m byte, depth int) (any, error) {
	at := d.r.pos - 1
	switch m {
	case 'Z':
		return nil, nil
	case 'T':
		return true, nil
	case 'F':
		return false, nil
	case 'i', 'U', 'I', 'l', 'L':
		return d.integer(m)
	case 'd':
		b, err := d.r.take(4, "ubjson float32")
		if err != nil {
			return nil, err
		}
		f := float64(math.Float32frombits(binary.BigEndian.Uint32(b)))
		return finite(f, at)
	case 'D':
		b, err := d.r.take(8, "ubjson float64")
		if err != nil {
			return nil, err
		}
		return finite(math.Float64frombits(binary.BigEndian.Uint64(b)), at)
	case 'C':
		b, err := d.r.take(1, "ubjson char")
		if err != nil {
			return nil, err
		}
		return string(b), nil
	case 'S', 'H':
		return d.str()
	case '[', '{':
		if depth >= maxUBJSONDepth {
			return nil, fmt.Errorf("offset %d: ubjson nesting deeper than %d", at, maxUBJSONDepth)
		}
		return d.container(m, depth+1)
	}
	return nil, fmt.Errorf("offset %d: unknown ubjson marker 0x%02x", at, m)
}

// finite refuses NaN and infinities, which JSON (and a sane model) lacks.
func finite(f float64, at int) (any, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("offset %d: non-finite number", at)
	}
	return f, nil
}

func (d *ubjDecoder) integer(m byte) (int64, error) {
	sizes := map[byte]int{'i': 1, 'U': 1, 'I': 2, 'l': 4, 'L': 8}
	n, ok := sizes[m]
	if !ok {
		return 0, fmt.Errorf("offset %d: marker %q is not an integer type", d.r.pos-1, m)
	}
	b, err := d.r.take(n, "ubjson integer")
	if err != nil {
		return 0, err
	}
	switch m {
	case 'i':
		return int64(int8(b[0])), nil
	case 'U':
		return int64(b[0]), nil
	case 'I':
		return int64(int16(binary.BigEndian.Uint16(b))), nil
	case 'l':
		return int64(int32(binary.BigEndian.Uint32(b))), nil
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

// length reads a count or string length: an integer marker and value.
func (d *ubjDecoder) length() (int, error) {
	at := d.r.pos
	m, err := d.marker()
	if err != nil {
		return 0, err
	}
	n, err := d.integer(m)
	if err != nil {
		return 0, err
	}
	if n < 0 || n > int64(len(d.r.b)-d.r.pos) {
		return 0, fmt.Errorf("offset %d: ubjson length %d outside 0..%d", at, n, len(d.r.b)-d.r.pos)
	}
	return int(n), nil
}

func (d *ubjDecoder) str() (string, error) {
	n, err := d.length()
	if err != nil {
		return "", err
	}
	b, err := d.r.take(n, "ubjson string")
	return string(b), err
}

// container decodes an array or object after its opening marker, in the
// plain form (values until the closing marker) or the optimized forms
// ($type #count, or #count alone).
func (d *ubjDecoder) container(open byte, depth int) (any, error) {
	var elemType byte
	count := -1
	if d.r.pos < len(d.r.b) && d.r.b[d.r.pos] == '$' {
		d.r.pos++
		t, err := d.r.take(1, "ubjson element type")
		if err != nil {
			return nil, err
		}
		elemType = t[0]
		if d.r.pos >= len(d.r.b) || d.r.b[d.r.pos] != '#' {
			return nil, fmt.Errorf("offset %d: ubjson typed container without a count", d.r.pos)
		}
	}
	if d.r.pos < len(d.r.b) && d.r.b[d.r.pos] == '#' {
		d.r.pos++
		n, err := d.length()
		if err != nil {
			return nil, err
		}
		count = n
	}
	next := func() (any, bool, error) {
		if count >= 0 {
			if elemType != 0 {
				v, err := d.typed(elemType, depth)
				return v, false, err
			}
			v, err := d.value(depth)
			return v, false, err
		}
		m, err := d.marker()
		if err != nil {
			return nil, false, err
		}
		if (open == '[' && m == ']') || (open == '{' && m == '}') {
			return nil, true, nil
		}
		v, err := d.typed(m, depth)
		return v, false, err
	}
	if open == '[' {
		var arr []any
		for i := 0; count < 0 || i < count; i++ {
			v, end, err := next()
			if err != nil {
				return nil, err
			}
			if end {
				break
			}
			arr = append(arr, v)
		}
		if arr == nil {
			arr = []any{}
		}
		return arr, nil
	}
	obj := map[string]any{}
	for i := 0; count < 0 || i < count; i++ {
		if count < 0 {
			if d.r.pos < len(d.r.b) && d.r.b[d.r.pos] == '}' {
				d.r.pos++
				break
			}
		}
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		var v any
		if elemType != 0 {
			v, err = d.typed(elemType, depth)
		} else {
			v, err = d.value(depth)
		}
		if err != nil {
			return nil, err
		}
		obj[k] = v
	}
	return obj, nil
}
