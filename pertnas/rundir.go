package pertnas

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"pertnas/nn/cpu/kern"
)

// Options are what every job of a run needs.
type Options struct {
	Dir     string  // the run folder
	Config  Config  // must match the folder's run.json, if any
	Builder Builder // the model/training side
	// Worker numbers this job among the jobs run side by side in one
	// process (BuildRequest.Worker).
	Worker int
	// Progress, if not nil, is called after every unit of work and every
	// SGD step; it must be safe for concurrent use when jobs run side by side.
	Progress func(Progress)
}

func memberDir(run string, m int) string {
	return filepath.Join(run, "members", strconv.Itoa(m))
}

// ValuationPath is the file a completed member m writes (a Make target).
func ValuationPath(run string, m int) string {
	return filepath.Join(memberDir(run, m), "valuation.arrow")
}

// GenotypePath is the file a completed selection writes last (a Make target).
func GenotypePath(run string) string { return filepath.Join(run, "genotype.json") }

// ErrBadConfig marks errors caused by the configuration asked for: an
// invalid knob, or a run folder started with another configuration.
var ErrBadConfig = errors.New("bad configuration")

// ClaimRun checks the run folder's configuration: the first job to start
// records cfg in DIR/run.json (created exclusively, so that jobs starting
// together agree on one); later jobs must bring the same configuration
// (apart from the device), else the error lists the differing keys. The
// process must run cfg's kernel path (kern.Current).
func ClaimRun(dir string, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	if cur := kern.Current(); cfg.Kernels != string(cur) {
		return fmt.Errorf("%w: the configuration's kernel path is %s but this process runs %s", ErrBadConfig, cfg.Kernels, cur)
	}
	path := filepath.Join(dir, "run.json")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("run folder %s: %w", dir, err)
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".run.json.tmp-*")
	if err != nil {
		return fmt.Errorf("run folder %s: %w", dir, err)
	}
	_, werr := tmp.Write(append(b, '\n'))
	serr := tmp.Sync()
	cerr := tmp.Close()
	defer os.Remove(tmp.Name())
	if err := errors.Join(werr, serr, cerr); err != nil {
		return fmt.Errorf("run folder %s: %w", dir, err)
	}
	os.Chmod(tmp.Name(), 0o644)
	// A hard link creates run.json whole, and fails if it exists.
	if err := os.Link(tmp.Name(), path); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("run folder %s: %w", dir, err)
	}
	old, err := ReadRunConfig(dir)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	return diffError(dir, old, cfg)
}

// CheckRun is ClaimRun without writing: it reports the error ClaimRun
// would give for cfg (an invalid configuration, an unreadable run.json, or
// one recorded with another configuration) and touches nothing, so that a
// job refused for any reason leaves the run folder as it was.
func CheckRun(dir string, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "run.json")); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	old, err := ReadRunConfig(dir)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	return diffError(dir, old, cfg)
}

// diffError is the refusal of a job whose configuration differs from the
// run's, or nil.
func diffError(dir string, old, cfg Config) error {
	if d := old.Diff(cfg); len(d) > 0 {
		return fmt.Errorf("%w: run folder %s was started with another configuration (%s -> this job's): %s; use a new --run folder or the run's settings",
			ErrBadConfig, dir, filepath.Join(dir, "run.json"), strings.Join(d, ", "))
	}
	return nil
}

// ReadRunConfig reads DIR/run.json; unknown keys are an error.
func ReadRunConfig(dir string) (Config, error) {
	path := filepath.Join(dir, "run.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("run folder: %w", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	var c Config
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}
