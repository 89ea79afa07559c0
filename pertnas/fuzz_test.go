package pertnas

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadRunConfig: any run.json is a valid Config or an error naming the
// file, never a panic.
func FuzzReadRunConfig(f *testing.F) {
	b, _ := json.Marshal(Paper())
	f.Add(b)
	f.Add([]byte(`{"npop": -1}`))
	f.Add([]byte(`{"lr0": 1e400}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "run.json"), data, 0o644)
		c, err := ReadRunConfig(dir)
		if err == nil && c.Validate() != nil {
			t.Fatalf("accepted an invalid configuration %+v", c)
		}
	})
}

// FuzzStateJSON: the journal's JSON decodes or fails, and what decodes
// encodes again.
func FuzzStateJSON(f *testing.F) {
	e := entry{Kind: kindBuild, Edges: &EdgeConfig{{Ops: 3, None: true}}, LR: nan(), Acc: 0.5}
	b, _ := json.Marshal(stateFile{Version: 1, Job: "select", Journal: []entry{e}})
	f.Add(b)
	f.Add([]byte(`{"journal":[{"lr":"+Inf","edges":[{"ops":[9]}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var st stateFile
		if json.Unmarshal(data, &st) != nil {
			return
		}
		if _, err := json.Marshal(st); err != nil {
			t.Fatalf("decoded state does not encode: %v", err)
		}
	})
}
