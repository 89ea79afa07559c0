package xgb

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
)

// serialisationHeader starts XGBoosterSerializeToBuffer output in xgboost
// 1.0-1.5 (learner.cc serialisation_header_).
const serialisationHeader = "CONFIG-offset:"

// ReadSerialized decodes the model buffer a pickled xgboost.Booster holds
// (its state's "handle"):
//   - "CONFIG-offset:", an int64 n, n bytes of legacy binary model, then the
//     JSON configuration (xgboost 1.0-1.5);
//   - a JSON memory snapshot {"Model": <JSON model>, "Config": ...}, or the
//     same in UBJSON (xgboost >= 1.6);
//   - a bare legacy binary model, optionally prefixed "binf" (before 1.0).
func ReadSerialized(buf []byte) (*Model, error) {
	switch {
	case bytes.HasPrefix(buf, []byte(serialisationHeader)):
		r := &reader{b: buf, pos: len(serialisationHeader)}
		b, err := r.take(8, "model size")
		if err != nil {
			return nil, err
		}
		n := int64(binary.LittleEndian.Uint64(b))
		if n <= 0 || n > int64(len(buf)-r.pos) {
			return nil, fmt.Errorf("offset %d: binary model size %d outside 1..%d", len(serialisationHeader), n, len(buf)-r.pos)
		}
		m, err := ReadBinary(buf[r.pos : r.pos+int(n)])
		if err != nil {
			return nil, fmt.Errorf("binary model at offset %d: %w", r.pos, err)
		}
		return m, nil
	case len(buf) > 1 && buf[0] == '{' && isUBJSONMarker(buf[1]):
		return readUBJSONSnapshot(buf)
	case len(buf) > 0 && buf[0] == '{':
		var snap struct {
			Model *jsonModel `json:"Model"`
		}
		if err := json.Unmarshal(buf, &snap); err != nil {
			return nil, fmt.Errorf("json snapshot: %w", err)
		}
		if snap.Model == nil {
			return nil, fmt.Errorf("json snapshot: no \"Model\" object")
		}
		return fromJSON(snap.Model)
	}
	return ReadBinary(buf)
}

// isUBJSONMarker reports whether c can follow '{' in UBJSON but not in JSON
// (a key length type, or an optimized-container marker).
func isUBJSONMarker(c byte) bool {
	switch c {
	case 'i', 'U', 'I', 'l', 'L', '$', '#':
		return true
	}
	return false
}
