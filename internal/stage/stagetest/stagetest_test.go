package stagetest

import (
	"fmt"
	"os"
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
