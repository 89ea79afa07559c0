package checkpoint

import (
	"errors"
	"testing"

	"pertnas/nn/cpu/kern"
)

// TestStateRecordsKernels checks that every saved state names the kernel
// path in use and that ReadState gives it back without the tensors.
func TestStateRecordsKernels(t *testing.T) {
	saved := kern.Current()
	t.Cleanup(func() { kern.Use(saved) })
	if _, err := ReadState(t.TempDir()); !errors.Is(err, ErrNoCheckpoint) {
		t.Fatalf("ReadState of an empty folder = %v, want ErrNoCheckpoint", err)
	}
	model := []Tensor{{Name: "w", Shape: []int{2}, F32: []float32{1, 2}}}
	for _, p := range kern.Supported() {
		if err := kern.Use(p); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if err := Save(dir, &State{Epoch: 1, Config: []byte(`{}`), Metrics: []byte(`[]`)}, model, nil); err != nil {
			t.Fatal(err)
		}
		st, err := ReadState(dir)
		if err != nil {
			t.Fatal(err)
		}
		if st.Kernels != string(p) {
			t.Fatalf("state saved on kernel path %s records %q", p, st.Kernels)
		}
		if st, _, _, err := Load(dir); err != nil || st.Kernels != string(p) {
			t.Fatalf("Load: kernels %q, %v; want %s", st.Kernels, err, p)
		}
	}
}
