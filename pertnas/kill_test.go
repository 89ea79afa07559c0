package pertnas

import (
	"context"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestKillChild is the process TestSIGKILLResume kills: it runs the whole
// search in the folder named by PERTNAS_KILL_CHILD (and is a no-op otherwise).
func TestKillChild(t *testing.T) {
	dir := os.Getenv("PERTNAS_KILL_CHILD")
	if dir == "" {
		return
	}
	cfg := testConfig()
	w := newFakeWorld()
	w.delay = 100 * time.Microsecond
	for m := 0; m < cfg.Npop; m++ {
		if _, err := Member(context.Background(), opts(dir, cfg, w), m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Select(context.Background(), opts(dir, cfg, w)); err != nil {
		t.Fatal(err)
	}
}

// TestSIGKILLResume kills a search process with SIGKILL at seeded random
// moments, reruns it until it completes, and compares its artifacts with an
// uninterrupted run's.
func TestSIGKILLResume(t *testing.T) {
	if os.Getenv("PERTNAS_KILL_CHILD") != "" {
		return
	}
	cfg := testConfig()
	refDir := testDir(t)
	runSearch(t, refDir, cfg, newFakeWorld())
	dir := testDir(t)
	rng := rngFor(3, "sigkill")
	kills := 0
	for attempt := 0; ; attempt++ {
		if attempt > 200 {
			t.Fatal("the search does not finish")
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "PERTNAS_KILL_CHILD="+dir)
		out := new(limitedBuffer)
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		wait := time.Duration(20+rng.IntN(300)) * time.Millisecond
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("child failed: %v\n%s", err, out)
			}
			if kills < 3 {
				t.Fatalf("only %d kills before the search finished", kills)
			}
			compareArtifacts(t, artifactsOf(t, refDir, cfg), artifactsOf(t, dir, cfg))
			t.Logf("%d SIGKILLs", kills)
			return
		case <-time.After(wait):
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
			kills++
		}
	}
}

// limitedBuffer keeps the first 64 KiB written to it.
type limitedBuffer struct{ b []byte }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if n := 64<<10 - len(l.b); n > 0 {
		l.b = append(l.b, p[:min(n, len(p))]...)
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string { return string(l.b) }
