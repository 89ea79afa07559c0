package stagetest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeMain stands for a stage: it writes its arguments to stderr and exits
// with the status given as its first argument ("0" returns normally).
func fakeMain() {
	fmt.Fprintf(os.Stderr, "args %q\n", os.Args[1:])
	if len(os.Args) > 1 && os.Args[1] != "0" {
		var status int
		fmt.Sscan(os.Args[1], &status)
		os.Exit(status)
	}
}

func TestMain(m *testing.M) { Main(m, fakeMain) }

func TestRunReportsStatusAndStderr(t *testing.T) {
	for _, c := range []struct {
		args   []string
		status int
	}{{[]string{"0", "--x"}, 0}, {[]string{"2", "bad"}, 2}, {[]string{"1"}, 1}} {
		status, stderr := Run(t, c.args...)
		if want := fmt.Sprintf("args %q\n", c.args); status != c.status || stderr != want {
			t.Errorf("Run(%q) = %d, %q; want %d, %q", c.args, status, stderr, c.status, want)
		}
	}
	if strings.Contains(os.Getenv(runMainEnv), "1") {
		t.Fatal("the parent test process has the child's environment")
	}
}

func TestSnapshot(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a"), []byte("1"), 0o644)
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	before := Snapshot(t, dir)
	if len(before) != 3 || before["a"] != "1" {
		t.Fatalf("snapshot %v", before)
	}
	Unchanged(t, dir, before)
	var ft fakeT
	os.WriteFile(filepath.Join(dir, "sub", "b"), nil, 0o644)
	Unchanged(&ft, dir, before)
	if ft.errors != 1 {
		t.Fatalf("a new file gave %d errors, want 1", ft.errors)
	}
	if Snapshot(t, filepath.Join(dir, "missing")) != nil {
		t.Fatal("a missing folder has a snapshot")
	}
}

type fakeT struct {
	testing.TB
	errors int
}

func (f *fakeT) Helper()               {}
func (f *fakeT) Errorf(string, ...any) { f.errors++ }

func TestCopyWith(t *testing.T) {
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "copy")
	os.WriteFile(filepath.Join(src, "a"), []byte("aaa"), 0o644)
	os.WriteFile(filepath.Join(src, "b"), []byte("bbb"), 0o644)
	os.Mkdir(filepath.Join(src, "sub"), 0o755)
	CopyWith(t, src, dst, "b", []byte("x"))
	got := Snapshot(t, dst)
	if len(got) != 3 || got["a"] != "aaa" || got["b"] != "x" {
		t.Fatalf("copy holds %q, want a=aaa, b=x and the folder itself", got)
	}
}
