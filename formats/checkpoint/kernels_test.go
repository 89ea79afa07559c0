package checkpoint

import (
	"errors"
	"testing"
)

// TestStateKeepsKernels checks that the kernel path a caller records in a
// state comes back from ReadState (without the tensors) and from Load.
func TestStateKeepsKernels(t *testing.T) {
	if _, err := ReadState(t.TempDir()); !errors.Is(err, ErrNoCheckpoint) {
		t.Fatalf("ReadState of an empty folder = %v, want ErrNoCheckpoint", err)
	}
	model := []Tensor{{Name: "w", Shape: []int{2}, F32: []float32{1, 2}}}
	for _, p := range []string{"purego", "avx2", "avx512"} {
		dir := t.TempDir()
		if err := Save(dir, &State{Epoch: 1, Config: []byte(`{}`), Metrics: []byte(`[]`), Kernels: p}, model, nil); err != nil {
			t.Fatal(err)
		}
		st, err := ReadState(dir)
		if err != nil {
			t.Fatal(err)
		}
		if st.Kernels != p {
			t.Fatalf("state saved with kernels %s reads back %q", p, st.Kernels)
		}
		if st, _, _, err := Load(dir); err != nil || st.Kernels != p {
			t.Fatalf("Load: kernels %q, %v; want %s", st.Kernels, err, p)
		}
	}
}
