package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func sample() []Tensor {
	return []Tensor{
		{Name: "stem.0.weight", Shape: []int{2, 1, 1, 2}, F32: []float32{1, -2.5, float32(math.Inf(1)), 3e-8}},
		{Name: "stem.1.num_batches_tracked", Shape: []int{}, I64: []int64{-7}},
		{Name: "classifier.bias", Shape: []int{3}, F32: []float32{0.5, 0, -1}},
		{Name: "empty", Shape: []int{0, 4}},
	}
}

func TestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	md := map[string]string{"format": "pt", "epoch": "3"}
	if err := Encode(&buf, sample(), md); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	hlen := binary.LittleEndian.Uint64(b)
	if hlen%8 != 0 {
		t.Fatalf("header length %d not a multiple of 8", hlen)
	}
	// The exact header: names in order, packed offsets, metadata first.
	want := `{"__metadata__":{"epoch":"3","format":"pt"},` +
		`"stem.0.weight":{"dtype":"F32","shape":[2,1,1,2],"data_offsets":[0,16]},` +
		`"stem.1.num_batches_tracked":{"dtype":"I64","shape":[],"data_offsets":[16,24]},` +
		`"classifier.bias":{"dtype":"F32","shape":[3],"data_offsets":[24,36]},` +
		`"empty":{"dtype":"F32","shape":[0,4],"data_offsets":[36,36]}}`
	if got := strings.TrimRight(string(b[8:8+hlen]), " "); got != want {
		t.Fatalf("header\n got %s\nwant %s", got, want)
	}
	if len(b) != 8+int(hlen)+36 {
		t.Fatalf("file is %d bytes, want %d", len(b), 8+hlen+36)
	}
	// Data bytes: little-endian values in order.
	data := b[8+hlen:]
	if math.Float32frombits(binary.LittleEndian.Uint32(data[4:])) != -2.5 || int64(binary.LittleEndian.Uint64(data[16:])) != -7 {
		t.Fatal("data bytes not little-endian in tensor order")
	}
	got, gotMD, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	wantT := sample()
	wantT[3].F32 = []float32{}
	if !reflect.DeepEqual(got, wantT) || !reflect.DeepEqual(gotMD, md) {
		t.Fatalf("round trip:\n got %+v %v\nwant %+v %v", got, gotMD, wantT, md)
	}

	// Write/Read through a file.
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := Write(path, sample(), nil); err != nil {
		t.Fatal(err)
	}
	got, gotMD, err = Read(path)
	if err != nil || gotMD != nil || !reflect.DeepEqual(got, wantT) {
		t.Fatalf("file round trip: %v %v", err, gotMD)
	}
}

func TestEncodeRejects(t *testing.T) {
	for name, ts := range map[string][]Tensor{
		"duplicate":  {{Name: "a", Shape: []int{1}, F32: []float32{1}}, {Name: "a", Shape: []int{1}, F32: []float32{1}}},
		"empty name": {{Name: "", Shape: []int{1}, F32: []float32{1}}},
		"count":      {{Name: "a", Shape: []int{2}, F32: []float32{1}}},
		"both":       {{Name: "a", Shape: []int{1}, F32: []float32{1}, I64: []int64{1}}},
		"neg shape":  {{Name: "a", Shape: []int{-1}}},
	} {
		if err := Encode(&bytes.Buffer{}, ts, nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func file(header string, data int) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, make([]byte, data)...)
}

func TestDecodeCorrupt(t *testing.T) {
	var good bytes.Buffer
	Encode(&good, sample(), nil)
	for name, b := range map[string][]byte{
		"short":            {1, 2, 3},
		"header too long":  binary.LittleEndian.AppendUint64(nil, 1<<40),
		"header past end":  append(binary.LittleEndian.AppendUint64(nil, 50), "{}"...),
		"not json":         file("xx", 0),
		"not object":       file("[1]", 0),
		"truncated data":   good.Bytes()[:good.Len()-1],
		"extra data":       append(bytes.Clone(good.Bytes()), 0),
		"bad dtype":        file(`{"a":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}`, 2),
		"size mismatch":    file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, 4),
		"gap":              file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8),
		"overlap":          file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8),
		"reversed offsets": file(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}`, 4),
		"negative shape":   file(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}`, 0),
		"missing shape":    file(`{"a":{"dtype":"F32","data_offsets":[0,0]}}`, 0),
		"duplicate name":   file(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}`, 0),
		"unknown key":      file(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0],"x":1}}`, 0),
		"bad metadata":     file(`{"__metadata__":{"a":1}}`, 0),
		"trailing":         file(`{} x`, 0),
		"huge shape":       file(`{"a":{"dtype":"F32","shape":[100000,100000,100000],"data_offsets":[0,4]}}`, 4),
	} {
		if _, _, err := Decode(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzDecode(f *testing.F) {
	var good bytes.Buffer
	Encode(&good, sample(), map[string]string{"k": "v"})
	f.Add(good.Bytes())
	f.Add(file(`{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}`, 8))
	f.Fuzz(func(t *testing.T, b []byte) {
		ts, md, err := Decode(b)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes and decodes to the same tensors.
		var buf bytes.Buffer
		if err := Encode(&buf, ts, md); err != nil {
			t.Fatalf("decoded tensors do not re-encode: %v", err)
		}
		ts2, _, err := Decode(buf.Bytes())
		if err != nil || len(ts2) != len(ts) {
			t.Fatalf("re-encoded file does not decode: %v", err)
		}
	})
}

func TestSaveLoad(t *testing.T) {
	dir := t.TempDir()
	if _, _, _, err := Load(dir); !errors.Is(err, ErrNoCheckpoint) {
		t.Fatalf("empty dir: %v, want ErrNoCheckpoint", err)
	}
	m := sample()
	opt := []Tensor{{Name: "momentum.stem.0.weight", Shape: []int{4}, F32: []float32{1, 2, 3, 4}}}
	st := &State{Epoch: 1, Step: 10, Config: json.RawMessage(`{"lr":0.1}`), RNG: RNGState{Seed: 3, Scheme: "x"}, Metrics: json.RawMessage(`[{"epoch":0}]`)}
	if err := Save(dir, st, m, opt); err != nil {
		t.Fatal(err)
	}
	got, gm, gopt, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Epoch != 1 || got.Step != 10 || got.RNG.Seed != 3 || compact(got.Metrics) != `[{"epoch":0}]` || len(gm) != 4 || !reflect.DeepEqual(gopt, opt) {
		t.Fatalf("loaded %+v", got)
	}

	// Epoch 2 replaces epoch 1's files and removes a temporary file left by
	// a killed write.
	os.WriteFile(filepath.Join(dir, "checkpoint", ".model-e00002.safetensors.tmp-123"), []byte("half"), 0o644)
	st2 := *st
	st2.Epoch = 2
	m[0].F32[0] = 42
	if err := Save(dir, &st2, m, opt); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(filepath.Join(dir, "checkpoint"))
	if len(ents) != 2 {
		t.Fatalf("%d files in checkpoint/, want 2 (old epoch removed)", len(ents))
	}
	got, gm, _, err = Load(dir)
	if err != nil || got.Epoch != 2 || gm[0].F32[0] != 42 {
		t.Fatalf("after epoch 2: %v epoch %d", err, got.Epoch)
	}

	// A kill after the weights of epoch 3 but before its state: simulate by
	// writing only the weight file; the state still names epoch 2, intact.
	if _, err := writeHashed(dir, filepath.Join("checkpoint", "model-e00003.safetensors"), sample()); err != nil {
		t.Fatal(err)
	}
	got, gm, _, err = Load(dir)
	if err != nil || got.Epoch != 2 || gm[0].F32[0] != 42 {
		t.Fatalf("after a partial epoch 3: %v", err)
	}

	// A weight file changed behind the state's back is refused.
	os.WriteFile(filepath.Join(dir, got.Model.Path), []byte("garbage"), 0o644)
	if _, _, _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Fatalf("tampered weights: %v", err)
	}
	// A state naming a path outside dir is refused.
	bad := *got
	bad.Model.Path = "../x"
	os.WriteFile(filepath.Join(dir, "state.json"), must(json.Marshal(bad)), 0o644)
	if _, _, _, err := Load(dir); err == nil {
		t.Fatal("path outside the folder accepted")
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func compact(b []byte) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return err.Error()
	}
	return buf.String()
}
