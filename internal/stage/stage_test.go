package stage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var errBad = errors.New("bad file")

type failCmd struct {
	With string `help:"bad, fail or cancel." enum:"bad,fail,cancel,none" default:"none"`
}

func (c *failCmd) Run(ctx context.Context) error {
	switch c.With {
	case "bad":
		return errBad
	case "fail":
		return errors.New("disk full")
	case "cancel":
		return ctx.Err()
	}
	return nil
}

type grammar struct {
	Do failCmd `cmd:"" default:"withargs"`
}

func TestRunStatuses(t *testing.T) {
	s := Stage{Name: "demo", Grammar: &grammar{}, BadInput: func(err error) bool { return errors.Is(err, errBad) },
		Interrupted: "rerun to resume"}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct {
		ctx    context.Context
		args   []string
		status int
		stderr []string
		not    string
	}{
		{context.Background(), nil, StatusOK, nil, "demo"},
		{context.Background(), []string{"--with", "bad"}, StatusBadInput, []string{"demo: error: bad file\n"}, "rerun"},
		{context.Background(), []string{"--with", "fail"}, StatusFailure, []string{"demo: error: disk full\n"}, "rerun"},
		{context.Background(), []string{"--bogus"}, StatusBadInput, []string{"demo: error: ", "--bogus"}, "rerun"},
		{context.Background(), []string{"--with", "png"}, StatusBadInput, []string{"demo: error: ", "png"}, "rerun"},
		{cancelled, []string{"--with", "cancel"}, StatusFailure, []string{"demo: error: context canceled\n", "demo: rerun to resume\n"}, "bad"},
	} {
		var stderr strings.Builder
		status := s.Run(c.ctx, c.args, io.Discard, &stderr)
		got := stderr.String()
		ok := status == c.status && (c.not == "" || !strings.Contains(got, c.not))
		for _, w := range c.stderr {
			ok = ok && strings.Contains(got, w)
		}
		if !ok {
			t.Errorf("demo %v: status %d, stderr %q; want %d, %q and no %q", c.args, status, got, c.status, c.stderr, c.not)
		}
	}
}

func TestNilBadInputIsFailure(t *testing.T) {
	var stderr strings.Builder
	s := Stage{Name: "demo", Grammar: &grammar{}}
	if status := s.Run(context.Background(), []string{"--with", "bad"}, io.Discard, &stderr); status != StatusFailure {
		t.Fatalf("status %d, want %d without a BadInput classifier", status, StatusFailure)
	}
}

func TestSetIfGiven(t *testing.T) {
	n, s := 4, "train"
	seven, test := 7, "test"
	SetIfGiven(&n, nil)
	SetIfGiven(&s, &test)
	if n != 4 || s != "test" {
		t.Fatalf("after nil and given flags: %d %q, want 4 \"test\"", n, s)
	}
	SetIfGiven(&n, &seven)
	if n != 7 {
		t.Fatalf("given 7: %d", n)
	}
}

type validated struct {
	Rate float64 `default:"0.1"`
}

func (v *validated) Validate() error {
	if v.Rate < 0 {
		return FlagErrorf("--rate", "must be >= 0, got %g", v.Rate)
	}
	return nil
}

type validatedCmd struct {
	validated
	Ran *bool `kong:"-"`
}

func (c *validatedCmd) Run() error { *c.Ran = true; return nil }

// TestValidateBeforeRun: a Validate method of an embedded flag struct
// refuses a value with status 2 and a message naming the flag, and the
// command does not run.
func TestValidateBeforeRun(t *testing.T) {
	ran := false
	g := &struct {
		Do validatedCmd `cmd:"" default:"withargs"`
	}{Do: validatedCmd{Ran: &ran}}
	var stderr strings.Builder
	status := Stage{Name: "demo", Grammar: g}.Run(context.Background(), []string{"--rate=-1"}, io.Discard, &stderr)
	if status != StatusBadInput || ran || !strings.Contains(stderr.String(), "--rate: must be >= 0, got -1") {
		t.Fatalf("status %d, ran %v, stderr %q", status, ran, stderr.String())
	}
	if status := (Stage{Name: "demo", Grammar: g}).Run(context.Background(), nil, io.Discard, io.Discard); status != StatusOK || !ran {
		t.Fatalf("valid flags: status %d, ran %v", status, ran)
	}
}

// TestBadInputMarks: FlagError and BadInput give status 2 through wrapping.
func TestBadInputMarks(t *testing.T) {
	for _, err := range []error{FlagErrorf("--x", "bad"), BadInput(errors.New("f: bad")), fmt.Errorf("ctx: %w", BadInput(errors.New("f")))} {
		if !IsBadInput(err) {
			t.Errorf("%v: not bad input", err)
		}
	}
	if IsBadInput(errors.New("disk full")) || BadInput(nil) != nil {
		t.Error("a plain error is bad input, or BadInput(nil) is not nil")
	}
}

// TestHelpStatus: --help exits 0 through Run, with the exit statuses.
func TestHelpStatus(t *testing.T) {
	var stdout strings.Builder
	status := Stage{Name: "demo", Description: "Demo.", Grammar: &grammar{}}.Run(context.Background(), []string{"--help"}, &stdout, io.Discard)
	if status != StatusOK || !strings.Contains(stdout.String(), "Exit status: 0 done; 1 failure") {
		t.Fatalf("status %d, help %q", status, stdout.String())
	}
}

// TestLogFormat: one line per record, UTC time to the second, rounded floats.
func TestLogFormat(t *testing.T) {
	var b strings.Builder
	log := slog.New(NewLogHandler(&b))
	log.Info("epoch", "acc", 0.98799999999, "loss", float32(2.3056712), "seconds", 12345.678, "n", 3)
	got := b.String()
	for _, w := range []string{"level=INFO msg=epoch acc=0.988 loss=2.306 seconds=12346 n=3\n", "Z "} {
		if !strings.Contains(got, w) {
			t.Errorf("log line %q lacks %q", got, w)
		}
	}
}

// TestRemoveTemps removes only the temporaries of killed writes, recursing
// when asked, and keeps what skip accepts.
func TestRemoveTemps(t *testing.T) {
	dir := t.TempDir()
	files := map[string]bool{ // path -> removed
		".state.json.tmp-123":              true,
		".model.safetensors.tmp-99":        true,
		".run.json.tmp-5":                  false, // skipped
		"state.json":                       false,
		".hidden":                          false,
		"x.tmp-notdigits":                  false,
		"sub/.net-00081.bin.tmp.tmp-4242":  true,
		"sub/net-00081.bin.tmp":            true,
		"sub/net-00081.bin":                false,
		"sub/deeper/.metrics.arrow.tmp-77": true,
		"sub/deeper/metrics.arrow":         false,
	}
	for f := range files {
		p := filepath.Join(dir, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	top, err := RemoveTemps(dir, false, IsRunJSONTemp)
	if err != nil || len(top) != 2 {
		t.Fatalf("non-recursive: %v %v", top, err)
	}
	if _, err := RemoveTemps(dir, true, IsRunJSONTemp); err != nil {
		t.Fatal(err)
	}
	for f, gone := range files {
		_, err := os.Stat(filepath.Join(dir, f))
		if gone != os.IsNotExist(err) {
			t.Errorf("%s: removed %v, want %v", f, os.IsNotExist(err), gone)
		}
	}
	if got, err := RemoveTemps(filepath.Join(dir, "missing"), true, nil); err != nil || len(got) != 0 {
		t.Errorf("missing folder: %v %v", got, err)
	}
}

// TestProgressLines: one line per completed unit at most every Every per
// job (the first and the last always), with the rate and the ETA.
func TestProgressLines(t *testing.T) {
	var b strings.Builder
	clock := time.Unix(0, 0)
	p := &ProgressLines{Log: slog.New(NewLogHandler(&b)), Every: 10 * time.Second, Unit: "units",
		now: func() time.Time { return clock }}
	p.Report("member 0", 2, 10) // baseline: a resumed job with 2 done
	for done := 3; done <= 10; done++ {
		clock = clock.Add(6 * time.Second)
		p.Report("member 0", done, 10, "phase", "expand")
		p.Report("member 0", done, 10) // a step, no new unit: nothing
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	// units 3 (first), 5 (12 s after 3), 7, 9, 10 (last)
	if len(lines) != 5 {
		t.Fatalf("%d lines:\n%s", len(lines), b.String())
	}
	want := `msg=progress job="member 0" done=3 total=10 unit=units rate_per_min=10 eta=42s phase=expand`
	if !strings.Contains(lines[0], want) || !strings.Contains(lines[4], "done=10 total=10") || !strings.Contains(lines[4], "eta=0s") {
		t.Fatalf("lines:\n%s\nwant first to hold %s", b.String(), want)
	}

	// A unit done within a second of the baseline gives no rate yet.
	b.Reset()
	p.Report("member 1", 5, 10)
	clock = clock.Add(100 * time.Millisecond)
	p.Report("member 1", 6, 10)
	if want := `done=6 total=10 unit=units rate_per_min=? eta=?`; !strings.Contains(b.String(), want) {
		t.Fatalf("a unit after 0.1 s:\n%s\nwant %s", b.String(), want)
	}
}
