package checkpoint

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"pertnas/formats/artifact"
)

// StateFormat identifies the version of the training-state document.
const StateFormat = "pertnas-train-state/1"

// State is the JSON training state saved after every completed epoch
// (dir/state.json). The weights and optimizer buffers it refers to live in
// dir/checkpoint/ under names that carry the epoch, so a state file always
// points at files that exist and match it (their SHA-256 is recorded).
type State struct {
	Format string `json:"format"`
	// Epoch is the number of completed epochs; training resumes at this
	// 0-based epoch.
	Epoch int `json:"epoch"`
	// Step is the number of optimizer steps taken so far.
	Step int64 `json:"step"`
	// Config is the run's settings as the trainer recorded them; a resume
	// with other settings is refused.
	Config json.RawMessage `json:"config"`
	// RNG describes the random state. Every random stream of epoch e is
	// derived from (Seed, e) alone, so (Seed, Epoch) is the whole state.
	RNG RNGState `json:"rng"`
	// Model and Optimizer are the weights (network state_dict) and the
	// optimizer buffers (momentum), relative to dir.
	Model     FileRef `json:"model"`
	Optimizer FileRef `json:"optimizer"`
	// Metrics holds the trainer's per-epoch rows so far.
	Metrics json.RawMessage `json:"metrics"`
	// LossScale is the dynamic loss scaler's state (fp16 training only).
	LossScale json.RawMessage `json:"loss_scale,omitempty"`
	// Kernels is the CPU kernel path (kern.Path) of the process that saved
	// the state, filled in by the caller: a resume on another path would not
	// give the numbers of an uninterrupted run.
	Kernels string `json:"kernels,omitempty"`
}

// RNGState records the seed every stream derives from and how.
type RNGState struct {
	Seed   uint64 `json:"seed"`
	Scheme string `json:"scheme"`
}

// FileRef names a file relative to the checkpoint folder and its contents'
// SHA-256 (hex).
type FileRef struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// Save writes one completed epoch's checkpoint into dir: the model and
// optimizer tensors as dir/checkpoint/{model,optimizer}-eNNNNN.safetensors,
// then dir/state.json LAST (each write atomic), then removes older epoch
// files. A kill at any moment leaves dir/state.json pointing at a complete,
// matching pair of files: the previous checkpoint until the new state is in
// place, the new one after. st's Format, Model and Optimizer are filled in;
// the rest (Kernels included) is written as given.
func Save(dir string, st *State, model, optimizer []Tensor) error {
	st.Format = StateFormat
	sub := filepath.Join(dir, "checkpoint")
	var err error
	if st.Model, err = writeHashed(dir, filepath.Join("checkpoint", fmt.Sprintf("model-e%05d.safetensors", st.Epoch)), model); err != nil {
		return err
	}
	if st.Optimizer, err = writeHashed(dir, filepath.Join("checkpoint", fmt.Sprintf("optimizer-e%05d.safetensors", st.Epoch)), optimizer); err != nil {
		return err
	}
	if err := artifact.WriteJSON(filepath.Join(dir, "state.json"), st); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	// Old epochs are no longer referenced, and temporary files are left
	// only by a killed write; failing to remove them is harmless.
	entries, _ := os.ReadDir(sub)
	for _, e := range entries {
		rel := filepath.Join("checkpoint", e.Name())
		stale := strings.HasSuffix(e.Name(), ".safetensors") && rel != st.Model.Path && rel != st.Optimizer.Path
		temp := strings.HasPrefix(e.Name(), ".") && strings.Contains(e.Name(), ".safetensors.tmp-")
		if stale || temp {
			os.Remove(filepath.Join(sub, e.Name()))
		}
	}
	return nil
}

func writeHashed(dir, rel string, tensors []Tensor) (FileRef, error) {
	h := sha256.New()
	err := artifact.WriteFile(filepath.Join(dir, rel), func(w io.Writer) error {
		return Encode(io.MultiWriter(w, h), tensors, nil)
	})
	if err != nil {
		return FileRef{}, fmt.Errorf("checkpoint: %w", err)
	}
	return FileRef{Path: rel, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// ErrNoCheckpoint is returned by Load and ReadState when dir holds no
// state.json.
var ErrNoCheckpoint = errors.New("no checkpoint")

// ReadState reads and checks dir/state.json alone (not the files it names).
// It returns ErrNoCheckpoint (wrapped) when there is no state file.
func ReadState(dir string) (*State, error) {
	path := filepath.Join(dir, "state.json")
	var st State
	if err := artifact.ReadJSON(path, &st); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("checkpoint %s: %w", dir, ErrNoCheckpoint)
		}
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	if st.Format != StateFormat {
		return nil, fmt.Errorf("checkpoint %s: format %q, want %q", path, st.Format, StateFormat)
	}
	if st.Epoch < 0 || st.Step < 0 {
		return nil, fmt.Errorf("checkpoint %s: negative epoch %d or step %d", path, st.Epoch, st.Step)
	}
	return &st, nil
}

// Load reads dir/state.json (ReadState) and the files it names, checking
// their SHA-256. It returns ErrNoCheckpoint (wrapped) when there is no
// state file.
func Load(dir string) (*State, []Tensor, []Tensor, error) {
	st, err := ReadState(dir)
	if err != nil {
		return nil, nil, nil, err
	}
	model, err := readHashed(dir, st.Model)
	if err != nil {
		return nil, nil, nil, err
	}
	opt, err := readHashed(dir, st.Optimizer)
	if err != nil {
		return nil, nil, nil, err
	}
	return st, model, opt, nil
}

func readHashed(dir string, ref FileRef) ([]Tensor, error) {
	if ref.Path == "" || filepath.IsAbs(ref.Path) || strings.Contains(ref.Path, "..") {
		return nil, fmt.Errorf("checkpoint %s: state names a bad file path %q", dir, ref.Path)
	}
	path := filepath.Join(dir, ref.Path)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	sum := sha256.Sum256(b)
	if hex.EncodeToString(sum[:]) != ref.SHA256 {
		return nil, fmt.Errorf("checkpoint %s: SHA-256 does not match state.json (file changed after the state was written)", path)
	}
	ts, _, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("safetensors %s: %w", path, err)
	}
	return ts, nil
}
