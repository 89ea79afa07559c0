package checkpoint

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadState: any state.json is read or refused, never a panic; what is
// read keeps ReadState's checks.
func FuzzReadState(f *testing.F) {
	dir := f.TempDir()
	if err := Save(dir, &State{Epoch: 3, Step: 120}, sample(), sample()); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"format":"pertnas-train-state/1","epoch":-1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "state.json"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		st, err := ReadState(dir)
		if err != nil {
			return
		}
		if st.Format != StateFormat || st.Epoch < 0 || st.Step < 0 {
			t.Fatalf("accepted %+v", st)
		}
	})
}
